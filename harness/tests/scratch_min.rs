use eravm_diff::{
    divergence::compare,
    engine::{Engine, RareRefundVmFast, VmLatest},
    fuzz::sample_batch,
    generate::GeneratorConfig,
    minimize::{Minimizer, Size},
    world::default_world,
};

#[test]
fn scratch() {
    let world = default_world();
    let generator = GeneratorConfig::for_world(&world);
    for sample in 0..400 {
        let file = sample_batch(&generator, 11, sample);
        let size = Size::of(&file);
        if size.transactions < 20 {
            continue;
        }
        let p = file.prepare(&world).unwrap();
        let a = VmLatest.run(&p.world, &p.batch);
        let b = RareRefundVmFast.run(&p.world, &p.batch);
        if let Some(d) = compare(&a, &b) {
            if d.signature == ["transactions[*].execution.refunds.gas_refunded: value"] {
                println!("sample {sample}: {size}, fp {}", d.fingerprint);
                let start = std::time::Instant::now();
                let m = Minimizer {
                    world: &world,
                    reference: &VmLatest,
                    candidate: &RareRefundVmFast,
                    fingerprint: d.fingerprint.clone(),
                    progress: &|l| println!("  {l}"),
                };
                let r = m.minimize(&file);
                println!(
                    "took {:?}, {} candidates: {}",
                    start.elapsed(),
                    r.candidates,
                    r.after
                );
                println!("{}", serde_yaml::to_string(&r.file).unwrap());
                return;
            }
        }
    }
}
