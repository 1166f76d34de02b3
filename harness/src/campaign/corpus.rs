//! The campaign corpus: generator inputs worth mutating. Inputs a campaign adds are named
//! `c<seed>-e<epoch>-s<sample>-<hash>`, so a resumed campaign loads exactly the inputs of its
//! committed epochs (an interrupted epoch's files are ignored, then rewritten identically). Any
//! other file in the directory (seeds copied from `corpora/diff_batch/`, inputs of campaigns with
//! other seeds) is loaded as it is. The generator profile's seed inputs are in every corpus
//! without being written to it (a file of the same name takes their place).

use std::path::{Path, PathBuf};

use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

use crate::{
    error::InputError,
    files::write_atomic,
    generate::Seed,
    samples::{seeded_bytes, INPUT_LEN},
};

/// Inputs of the corpus, in name order.
#[derive(Debug, Default)]
pub struct Corpus {
    dir: PathBuf,
    seed: u64,
    inputs: Vec<(String, Vec<u8>)>,
}

impl Corpus {
    /// Loads `dir` (created if missing) for the campaign seeded with `seed`, skipping the inputs
    /// it added in epochs from `epoch` on, and adds the `seeds` it does not hold.
    pub fn load(dir: &Path, seed: u64, epoch: u64, seeds: Vec<Seed>) -> Result<Self, InputError> {
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
            inputs.push((name.to_owned(), bytes));
        }
        for seed in seeds {
            if !inputs.iter().any(|(name, _)| *name == seed.name) {
                inputs.push((seed.name, seed.input));
            }
        }
        inputs.sort();
        Ok(Self {
            dir: dir.to_owned(),
            seed,
            inputs,
        })
    }

    pub fn len(&self) -> usize {
        self.inputs.len()
    }

    /// Adds an input found by `sample` of `epoch`, writing it atomically.
    pub fn add(&mut self, epoch: u64, sample: u64, input: Vec<u8>) -> std::io::Result<()> {
        let hash = hex::encode(&Sha256::digest(&input)[..4]);
        let name = format!("c{}-e{epoch:06}-s{sample:09}-{hash}", self.seed);
        write_atomic(&self.dir.join(&name), &input)?;
        let at = self
            .inputs
            .partition_point(|(existing, _)| *existing < name);
        self.inputs.insert(at, (name, input));
        Ok(())
    }

    /// The generator input of global sample `sample`: fresh seeded bytes a third of the time
    /// (always, while the corpus is empty), otherwise a mutated corpus input. Depends only on
    /// the seed, the sample and the corpus.
    pub fn input(&self, sample: u64) -> Vec<u8> {
        let seed = self.seed;
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6d75_7461_7465);
        rng.set_stream(sample);
        if self.inputs.is_empty() || rng.gen_ratio(1, 3) {
            return seeded_bytes(seed, sample, INPUT_LEN);
        }
        let mut input = self.inputs[rng.gen_range(0..self.inputs.len())].1.clone();
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
                let other = &self.inputs[rng.gen_range(0..self.inputs.len())].1;
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

    #[test]
    fn inputs_depend_only_on_seed_sample_and_corpus() {
        let dir = tempfile::TempDir::new().unwrap();
        let mut corpus = Corpus::load(dir.path(), 1, 0, vec![]).unwrap();
        assert_eq!(corpus.input(5), corpus.input(5));
        corpus.add(0, 3, vec![7; 100]).unwrap();
        corpus.add(1, 40, vec![9; 50]).unwrap();
        let inputs: Vec<_> = (0..20).map(|sample| corpus.input(sample)).collect();
        let reloaded = Corpus::load(dir.path(), 1, 2, vec![]).unwrap();
        let again: Vec<_> = (0..20).map(|sample| reloaded.input(sample)).collect();
        assert_eq!(inputs, again);
        // Inputs of an epoch that was not committed are not loaded; other campaigns' are.
        assert_eq!(Corpus::load(dir.path(), 1, 1, vec![]).unwrap().len(), 1);
        assert_eq!(Corpus::load(dir.path(), 2, 0, vec![]).unwrap().len(), 2);
        // Seeds join the inputs, unless a file holds one of the same name.
        let seed = |name: &str, byte| Seed {
            name: name.to_owned(),
            input: vec![byte; 6],
        };
        std::fs::write(dir.path().join("zk_evm-a"), [5; 6]).unwrap();
        let seeded = Corpus::load(
            dir.path(),
            2,
            0,
            vec![seed("zk_evm-a", 1), seed("zk_evm-b", 2)],
        );
        let inputs = seeded.unwrap().inputs;
        assert_eq!(inputs.len(), 4);
        assert!(inputs.contains(&("zk_evm-a".to_owned(), vec![5; 6])));
        assert!(inputs.contains(&("zk_evm-b".to_owned(), vec![2; 6])));
        assert_eq!(added_by("c1-e000001-s000000040-abcd"), Some((1, 1)));
        assert_eq!(added_by("seed-0"), None);
    }
}
