//! Samples of seeded runs: sample `i` of seed `s` is the batch (or frame) generated from fixed
//! bytes — the profile's seed inputs first ([`GeneratorConfig::seeds`], the same in every run), then ChaCha8
//! of `s`, stream `i` — so any finding can be regenerated from its seed and index.

use arbitrary::Unstructured;

use crate::{
    batch_file::{BatchFile, FrameFile},
    generate::{batch, frame, GeneratorConfig},
};

/// Bytes of generator input per sample.
pub const INPUT_LEN: usize = 8192;

/// Input bytes for sample `index` of a run seeded with `seed`: the same pair always gives the
/// same bytes.
pub fn seeded_bytes(seed: u64, index: u64, len: usize) -> Vec<u8> {
    use rand::{RngCore, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(index);
    let mut bytes = vec![0; len];
    rng.fill_bytes(&mut bytes);
    bytes
}

/// The generator input of sample `sample` of a run seeded with `seed`.
pub fn sample_input(generator: &GeneratorConfig, seed: u64, sample: u64) -> Vec<u8> {
    let seeds = generator.seeds();
    match usize::try_from(sample)
        .ok()
        .and_then(|index| seeds.get(index))
    {
        Some(seed_input) => seed_input.input.clone(),
        None => seeded_bytes(seed, sample, INPUT_LEN),
    }
}

/// The batch that sample `sample` of a run seeded with `seed` generates.
pub fn sample_batch(generator: &GeneratorConfig, seed: u64, sample: u64) -> BatchFile {
    generated(generator, &sample_input(generator, seed, sample))
}

/// The frame file that sample `sample` of a frame-level run seeded with `seed` generates.
pub fn sample_frame(seed: u64, sample: u64) -> FrameFile {
    generated_frame(&seeded_bytes(seed, sample, INPUT_LEN))
}

/// The frame file `input` generates (the frame generator accepts any bytes).
pub fn generated_frame(input: &[u8]) -> FrameFile {
    frame(&mut Unstructured::new(input)).expect("the frame generator never fails")
}

/// The batch `input` generates (the generator accepts any bytes).
pub fn generated(generator: &GeneratorConfig, input: &[u8]) -> BatchFile {
    batch(&mut Unstructured::new(input), generator).expect("the generator never fails")
}
