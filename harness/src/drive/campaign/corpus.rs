//! The campaign corpus: generator inputs worth mutating. Inputs a campaign adds are named
//! `c<seed>-e<epoch>-s<sample>-<hash>`, so a resumed campaign loads exactly the inputs of its
//! committed epochs (an interrupted epoch's files are ignored, then rewritten identically). Any
//! other file in the directory (seeds copied from `corpora/diff_batch/`, inputs of campaigns with
//! other seeds) is loaded as it is. The generator profile's seed inputs are in every corpus
//! without being written to it (a file of the same name takes their place).
//!
//! Inputs that explore more also tend to run longer, and a corpus that keeps them drifts towards
//! ever slower samples. So each input the campaign adds keeps its cost (the reference's
//! computational gas, deterministic where time is not, tripled for a divergent sample, whose
//! cause a traced run names; the campaign's state saves it), and the input to mutate is the
//! cheaper of two drawn at random: cheap inputs are mutated more often, and none is starved.
//!
//! An epoch mutates the corpus as it stood two epochs before (a [`Snapshot`]): the inputs added
//! by the epoch just before are not yet visible to it. So an epoch's samples can start while the
//! epoch before finishes and is committed, and no worker waits at the end of an epoch for its
//! longest sample.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::Arc,
};

use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

use crate::{
    generate::{
        seeded::{seeded_bytes, INPUT_LEN},
        Seed,
    },
    support::{error::InputError, files::write_atomic},
};

/// Inputs of the corpus, in name order.
#[derive(Debug, Default)]
pub struct Corpus {
    dir: PathBuf,
    seed: u64,
    inputs: Vec<Arc<Input>>,
}

/// The inputs one epoch mutates.
#[derive(Debug)]
pub struct Snapshot {
    seed: u64,
    inputs: Vec<Arc<Input>>,
}

/// A corpus input.
#[derive(Debug)]
struct Input {
    name: String,
    bytes: Vec<u8>,
    /// What running it cost, if known (not for seeds and inputs from elsewhere).
    cost: Option<u64>,
}

impl Corpus {
    /// Loads `dir` (created if missing) for the campaign seeded with `seed`, skipping the inputs
    /// it added in epochs from `epoch` on, and adds the `seeds` it does not hold; `costs` are
    /// the costs of the inputs the campaign added, by name.
    pub fn load(
        dir: &Path,
        seed: u64,
        epoch: u64,
        seeds: Vec<Seed>,
        costs: &BTreeMap<String, u64>,
    ) -> Result<Self, InputError> {
        std::fs::create_dir_all(dir)
            .map_err(|err| InputError::at(dir, format!("cannot create: {err}")))?;
        let entries = std::fs::read_dir(dir)
            .map_err(|err| InputError::at(dir, format!("cannot list: {err}")))?;
        let mut inputs = vec![];
        for entry in entries {
            let path = entry
                .map_err(|err| InputError::at(dir, format!("cannot list: {err}")))?
                .path();
            let name = path
                .file_name()
                .and_then(|name| name.to_str())
                .unwrap_or_default();
            if !path.is_file() || name.starts_with('.') {
                continue;
            }
            if added_by(name).is_some_and(|(by, added)| by == seed && added >= epoch) {
                continue;
            }
            let bytes = std::fs::read(&path)
                .map_err(|err| InputError::at(&path, format!("cannot read: {err}")))?;
            inputs.push(Arc::new(Input {
                name: name.to_owned(),
                bytes,
                cost: costs.get(name).copied(),
            }));
        }
        for seed in seeds {
            if !inputs.iter().any(|input| input.name == seed.name) {
                inputs.push(Arc::new(Input {
                    name: seed.name,
                    bytes: seed.input,
                    cost: None,
                }));
            }
        }
        inputs.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Self {
            dir: dir.to_owned(),
            seed,
            inputs,
        })
    }

    pub fn len(&self) -> usize {
        self.inputs.len()
    }

    /// Adds an input found by `sample` of `epoch`, which cost `cost` to run, writing it
    /// atomically; returns its name.
    pub fn add(
        &mut self,
        epoch: u64,
        sample: u64,
        bytes: Vec<u8>,
        cost: u64,
    ) -> std::io::Result<String> {
        let hash = hex::encode(&Sha256::digest(&bytes)[..4]);
        let name = format!("c{}-e{epoch:06}-s{sample:09}-{hash}", self.seed);
        write_atomic(&self.dir.join(&name), &bytes)?;
        let at = self.inputs.partition_point(|input| input.name < name);
        let input = Input {
            name: name.clone(),
            bytes,
            cost: Some(cost),
        };
        self.inputs.insert(at, Arc::new(input));
        Ok(name)
    }

    /// The inputs `epoch` mutates: all but those this campaign added in the epoch before it or
    /// later.
    pub fn snapshot(&self, epoch: u64) -> Snapshot {
        let visible = |input: &Input| match added_by(&input.name) {
            Some((seed, added)) if seed == self.seed => added + 1 < epoch,
            _ => true,
        };
        Snapshot {
            seed: self.seed,
            inputs: (self.inputs.iter())
                .filter(|input| visible(input))
                .cloned()
                .collect(),
        }
    }
}

impl Snapshot {
    /// The generator input of global sample `sample`: fresh seeded bytes a third of the time
    /// (always, while the snapshot is empty), otherwise a mutated input, the cheaper of two.
    /// Depends only on the seed, the sample and the snapshot.
    pub fn input(&self, sample: u64) -> Vec<u8> {
        let seed = self.seed;
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6d75_7461_7465);
        rng.set_stream(sample);
        if self.inputs.is_empty() || rng.gen_ratio(1, 3) {
            return seeded_bytes(seed, sample, INPUT_LEN);
        }
        let [a, b] = [(); 2].map(|_| &self.inputs[rng.gen_range(0..self.inputs.len())]);
        let cheaper = match (a.cost, b.cost) {
            (Some(x), Some(y)) if y < x => b,
            _ => a,
        };
        let mut input = cheaper.bytes.clone();
        for _ in 0..rng.gen_range(1..=4) {
            self.mutate(&mut rng, &mut input);
        }
        input.truncate(2 * INPUT_LEN);
        input
    }

    fn mutate(&self, rng: &mut ChaCha8Rng, input: &mut Vec<u8>) {
        if input.is_empty() {
            input.extend_from_slice(&seeded_bytes(rng.next_u64(), 0, 64));
            return;
        }
        let at = rng.gen_range(0..input.len());
        match rng.gen_range(0..5) {
            // Flip one bit.
            0 => input[at] ^= 1 << rng.gen_range(0..8),
            // Overwrite a run of bytes.
            1 => {
                let end = (at + rng.gen_range(1..=16)).min(input.len());
                rng.fill_bytes(&mut input[at..end]);
            }
            // Insert random bytes.
            2 => {
                let mut bytes = vec![0; rng.gen_range(1..=16)];
                rng.fill_bytes(&mut bytes);
                input.splice(at..at, bytes);
            }
            // Delete a run of bytes.
            3 => {
                let end = (at + rng.gen_range(1..=16)).min(input.len());
                input.drain(at..end);
            }
            // Splice in the tail of another corpus input.
            _ => {
                let other = &self.inputs[rng.gen_range(0..self.inputs.len())].bytes;
                let from = rng.gen_range(0..=other.len());
                input.truncate(at);
                input.extend_from_slice(&other[from..]);
            }
        }
    }
}

/// The campaign seed and epoch that added an input named `c<seed>-e<epoch>-…`.
fn added_by(name: &str) -> Option<(u64, u64)> {
    let mut parts = name.split('-');
    let seed = parts.next()?.strip_prefix('c')?.parse().ok()?;
    let epoch = parts.next()?.strip_prefix('e')?.parse().ok()?;
    parts.next()?.starts_with('s').then_some((seed, epoch))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(dir: &Path, seed: u64, epoch: u64, seeds: Vec<Seed>) -> Corpus {
        Corpus::load(dir, seed, epoch, seeds, &BTreeMap::new()).unwrap()
    }

    #[test]
    fn inputs_depend_only_on_seed_sample_and_corpus() {
        let dir = tempfile::TempDir::new().unwrap();
        let mut corpus = load(dir.path(), 1, 0, vec![]);
        assert_eq!(corpus.snapshot(0).input(5), corpus.snapshot(0).input(5));
        let costs: BTreeMap<_, _> = [
            (corpus.add(0, 3, vec![7; 100], 10).unwrap(), 10),
            (corpus.add(1, 40, vec![9; 50], 20).unwrap(), 20),
        ]
        .into();
        let inputs: Vec<_> = (0..20)
            .map(|sample| corpus.snapshot(3).input(sample))
            .collect();
        let reloaded = Corpus::load(dir.path(), 1, 2, vec![], &costs).unwrap();
        let again: Vec<_> = (0..20)
            .map(|sample| reloaded.snapshot(3).input(sample))
            .collect();
        assert_eq!(inputs, again);
        // An epoch sees the inputs added up to two epochs before it.
        let visible = |epoch| corpus.snapshot(epoch).inputs.len();
        assert_eq!(
            [visible(0), visible(1), visible(2), visible(3)],
            [0, 0, 1, 2]
        );
        // Inputs of an epoch that was not committed are not loaded; other campaigns' are.
        assert_eq!(load(dir.path(), 1, 1, vec![]).len(), 1);
        assert_eq!(load(dir.path(), 2, 0, vec![]).len(), 2);
        // Seeds join the inputs, unless a file holds one of the same name.
        let seed = |name: &str, byte| Seed {
            name: name.to_owned(),
            input: vec![byte; 6],
        };
        std::fs::write(dir.path().join("zk_evm-a"), [5; 6]).unwrap();
        let seeded = load(
            dir.path(),
            2,
            0,
            vec![seed("zk_evm-a", 1), seed("zk_evm-b", 2)],
        );
        let bytes: Vec<_> = seeded.inputs.iter().map(|input| &input.bytes).collect();
        assert_eq!(bytes.len(), 4);
        assert!(bytes.contains(&&vec![5; 6]));
        assert!(bytes.contains(&&vec![2; 6]));
        assert_eq!(added_by("c1-e000001-s000000040-abcd"), Some((1, 1)));
        assert_eq!(added_by("seed-0"), None);
    }

    /// The cheaper of two random inputs is mutated: of two inputs, the cheap one three times in
    /// four (both draws must hit the dear one for it to be picked).
    #[test]
    fn cheaper_inputs_are_mutated_more_often() {
        let dir = tempfile::TempDir::new().unwrap();
        let mut corpus = load(dir.path(), 1, 0, vec![]);
        corpus.add(0, 0, vec![0xaa; 4096], 1_000).unwrap();
        corpus.add(0, 1, vec![0x55; 4096], 10).unwrap();
        let (mut cheap, mut dear) = (0, 0);
        let snapshot = corpus.snapshot(2);
        for sample in 0..3000 {
            let input = snapshot.input(sample);
            let count = |byte| input.iter().filter(|&&b| b == byte).count();
            match (count(0x55), count(0xaa)) {
                (c, d) if c > 2048 && d < 1024 => cheap += 1,
                (c, d) if d > 2048 && c < 1024 => dear += 1,
                _ => {}
            }
        }
        assert!(cheap > 2 * dear, "cheap {cheap}, dear {dear}");
        assert!(dear > 0);
    }
}
