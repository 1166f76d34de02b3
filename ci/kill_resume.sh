#!/usr/bin/env bash
# Kill -9 test for campaigns. Runs a campaign without interruption, then the same campaign (same
# seed and sample budget) killed with kill -9 three times at random moments and restarted each
# time, and checks that both end with the same findings, the same corpus and each finding
# reported once: nothing lost, nothing duplicated.
#
# Each kill waits until its run has committed an epoch, then falls at a random moment within
# half an epoch's time, so that every restart resumes committed work and every kill interrupts
# work in flight, however fast or slow the machine is. SAMPLES must cover at least 8 epochs of
# 64, so that work is left for every restart even when a run commits two epochs before its kill.
#
#   ci/kill_resume.sh [SAMPLES]     (default 512; PROFILE=release to use a release build)
#
# The vectors' known divergences are not loaded, so that every divergence is a finding.
set -euo pipefail
cd "$(dirname "$0")/.."

samples=${1:-512}
profile=${PROFILE:-debug}
if [ "$profile" = release ]; then cargo build -q --release -p eravm-diff; else cargo build -q -p eravm-diff; fi
bin=target/$profile/eravm-diff
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/no-vectors"

campaign() { # runs in the foreground; with & the PID is eravm-diff's own (exec)
  exec "$bin" campaign --seed 7 --samples "$samples" --duration 1h --jobs 2 \
    --vectors "$work/no-vectors" --corpus "$1/corpus" --findings "$1/findings" >>"$1.log" 2>&1
}
finished() { # exit status 0 (no findings) and 1 (findings) both mean the campaign completed
  [ "$1" -le 1 ] || { echo "campaign failed with status $1:"; tail -20 "$2.log"; exit 1; }
}
committed() {
  python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["epoch"], "epochs,", len(s["findings"]), "findings")' \
    "$1/findings/campaign.json" 2>/dev/null || echo "nothing committed yet"
}
epochs() { # committed epochs, 0 before the first commit
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["epoch"])' "$1/findings/campaign.json" 2>/dev/null || echo 0
}
now_ms() { date +%s%3N; }

start=$(now_ms)
status=0; (campaign "$work/whole") || status=$?
finished "$status" "$work/whole"
whole_ms=$(( $(now_ms) - start ))
whole_epochs=$(epochs "$work/whole")
[ "$whole_epochs" -ge 8 ] || { echo "need at least 8 epochs of 64 samples, got $whole_epochs"; exit 1; }
epoch_ms=$(( whole_ms / whole_epochs ))
echo "uninterrupted: $(committed "$work/whole") in $(( whole_ms / 1000 )) s (about $epoch_ms ms an epoch)"

for kill in 1 2 3; do
  before=$(epochs "$work/killed")
  (campaign "$work/killed") & pid=$!
  while [ "$(epochs "$work/killed")" = "$before" ] && kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  delay=$(( RANDOM * epoch_ms / 65536 ))
  sleep "$(( delay / 1000 )).$(printf %03d $(( delay % 1000 )))"
  kill -9 "$pid" 2>/dev/null || { echo "kill -9 $kill came after the campaign ended: raise SAMPLES"; exit 1; }
  wait "$pid" 2>/dev/null || true
  echo "kill -9 $kill at $delay ms after epoch $(( before + 1 )) committed: $(committed "$work/killed")"
done
status=0; (campaign "$work/killed") || status=$?
finished "$status" "$work/killed"
echo "resumed to the end: $(committed "$work/killed")"

fail=0
# Same file names and the same bytes in two directories, for files matching a pattern.
same_files() {
  diff <(cd "$1" && find . -type f -name "$3" | sort) <(cd "$2" && find . -type f -name "$3" | sort) || return 1
  (cd "$1" && find . -type f -name "$3") | while read -r file; do
    cmp -s "$1/$file" "$2/$file" || { echo "differs: $file"; return 1; }
  done
}
same_files "$work/whole/findings" "$work/killed/findings" '*.yaml' && echo "findings identical" || fail=1
same_files "$work/whole/corpus" "$work/killed/corpus" '[!.]*' && echo "corpus identical" || fail=1
python3 - "$work/whole/findings/campaign.json" "$work/killed/findings/campaign.json" <<'PY' || fail=1
import json, sys
whole, killed = (json.load(open(path)) for path in sys.argv[1:])
fingerprints = [f["fingerprint"] for f in killed["findings"]]
assert len(fingerprints) == len(set(fingerprints)), f"a finding was reported twice: {fingerprints}"
assert fingerprints == [f["fingerprint"] for f in whole["findings"]], f"findings differ: {fingerprints} vs {[f['fingerprint'] for f in whole['findings']]}"
# Runs that committed an epoch: each killed one, and the last one unless nothing was left for it.
assert killed["runs"] >= 3, f"a killed run did not commit (state says {killed['runs']} runs)"
for key in ("executions", "divergent_samples", "corpus_added", "features", "coverage"):
    assert whole[key] == killed[key], f"{key} differs"
report = json.load(open(sys.argv[2].replace("campaign.json", "report.json")))
assert report["summary"]["findings"] == len(fingerprints)
print(f"state: {len(fingerprints)} findings, each once; {killed['executions']} executions; "
      f"{killed['corpus_added']} corpus inputs added; {killed['runs']} runs committed epochs")
PY
if [ "$fail" = 0 ]; then echo "PASS: nothing lost, nothing duplicated"; else echo "FAIL"; exit 1; fi
