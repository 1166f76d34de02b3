//! Engines of other zksync_multivm releases (engines/): each is built (a no-op once built), runs
//! every vector and both of the package's VM dumps, and the matrix of who agrees with whom, with
//! every outcome's digest, is golden: `cargo insta review` shows any behaviour change of any
//! release. A release refuses a world it cannot read, and says why.

use std::{path::Path, sync::Arc};

use eravm_diff::{
    batch_file::{batch_files_in, load_batch_file, PreparedBatch},
    drive::matrix::{Matrix, Row},
    engine::{Engine, Release, VmFast, VmLatest, RELEASE_VMS},
    world::{default_world, embedded_dump_path, load_dump},
};
use zksync_types::ProtocolVersionId;

const DUMPS: [&str; 2] = [
    "estimate_fee_for_transfer_to_self.json",
    "validation_adjacent_storage_slots.json",
];

/// vm_latest and vm_fast of 29.13, then both VMs of every release, oldest first.
fn engines() -> Vec<Box<dyn Engine>> {
    let mut engines: Vec<Box<dyn Engine>> = vec![Box::new(VmLatest), Box::new(VmFast)];
    for release in Release::all() {
        for vm in RELEASE_VMS {
            engines.push(Box::new(release.engine(vm).unwrap()));
        }
    }
    engines
}

#[test]
fn the_release_matrix_is_golden() {
    let engines = engines();
    assert!(
        engines.len() >= 8,
        "engines/ holds the workspaces of 27.0.0, 27.5.1 and 28.10.0"
    );
    let world = default_world();
    let vectors = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors");
    let mut rows = vec![];
    for path in batch_files_in(&vectors).unwrap() {
        let prepared = load_batch_file(&path).unwrap().prepare(&world).unwrap();
        let name = format!("vectors/{}", path.file_name().unwrap().to_str().unwrap());
        rows.push(Row::run(name, &prepared, &engines));
    }
    for dump in DUMPS {
        let dump_path = embedded_dump_path(dump);
        let loaded = load_dump(&dump_path).unwrap();
        for engine in &engines {
            engine.check(&loaded.world).unwrap();
        }
        let name = format!("dump:{dump}");
        let prepared = PreparedBatch::single(loaded.world, loaded.batch);
        rows.push(Row::run(name, &prepared, &engines));
    }
    let matrix = Matrix {
        engines: engines
            .iter()
            .map(|engine| engine.name().to_owned())
            .collect(),
        rows,
    };
    insta::assert_snapshot!("release_matrix", matrix.markdown());
}

#[test]
fn a_release_refuses_a_world_of_a_protocol_version_it_does_not_know() {
    let release = Release::named("27.5.1").unwrap();
    let engine = release.engine("vm_latest").unwrap();
    let mut world = default_world();
    engine.check(&world).unwrap();
    Arc::make_mut(&mut world.system_env).version = ProtocolVersionId::Version29;
    let problem = engine.check(&world).unwrap_err();
    assert!(
        problem.contains("cannot read the world") && problem.contains("Version29"),
        "{problem}"
    );
}
