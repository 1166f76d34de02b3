#!/usr/bin/env bash
# Renders a campaign report in headless Chromium and checks that its plots are drawn:
#
#   ci/screenshot.sh nightly/findings-*/report.html [OUT.png]
#
# Installs Debian's chromium if missing. The check counts the plots' blue pixels (lines and bars
# are drawn in blue, nothing else on the page is) in the screenshot.
set -euo pipefail
html=$(realpath "${1:?usage: ci/screenshot.sh REPORT.html [OUT.png]}")
png=$(realpath -m "${2:-${html%.html}.png}")
if ! command -v chromium >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --hide-scrollbars --window-size=1240,1400 \
  --screenshot="$png" "file://$html" 2>/dev/null
python3 - "$png" <<'PY'
import struct, sys, zlib

def pixels(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and color in (2, 6), f"unsupported PNG: depth {depth}, color {color}"
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    channels = 4 if color == 6 else 3
    raw, stride = zlib.decompress(idat), width * channels
    previous, rows = bytearray(stride), []
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            left = line[x - channels] if x >= channels else 0
            up, corner = previous[x], previous[x - channels] if x >= channels else 0
            if kind == 1: line[x] = (line[x] + left) & 255
            elif kind == 2: line[x] = (line[x] + up) & 255
            elif kind == 3: line[x] = (line[x] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[x] = (line[x] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        rows.append(line)
        previous = line
    return width, height, channels, rows

width, height, channels, rows = pixels(sys.argv[1])
blue = sum(1 for row in rows for x in range(0, len(row), channels)
           if row[x + 2] > 200 and row[x] < 140 and row[x + 1] < 140)
print(f"{sys.argv[1]}: {width}x{height}, {blue} plot pixels")
sys.exit(0 if blue > 2000 else 1)
PY
