//! Shared by the integration tests: the sample fleet and the source conformance suite.
#![allow(dead_code, clippy::unwrap_used)]

pub mod conformance;

use std::path::PathBuf;

use kms_rotation::{InventorySource, KeyRecord};

pub fn examples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

/// The bundled sample fleet: a key for every row of the rule.
pub fn fleet() -> Vec<KeyRecord> {
    InventorySource::from_path(examples_dir().join("fleet.json"))
        .unwrap()
        .records()
        .to_vec()
}

/// Apply options for tests: no write limit, and verification that does not wait seconds.
pub fn quick_apply_options() -> kms_rotation::remediate::ApplyOptions {
    kms_rotation::remediate::ApplyOptions {
        verify: quick_verify(),
        writes_per_second: 0,
        ..Default::default()
    }
}

/// Rollback options for tests, like [`quick_apply_options`].
pub fn quick_rollback_options() -> kms_rotation::remediate::RollbackOptions {
    kms_rotation::remediate::RollbackOptions {
        verify: quick_verify(),
        writes_per_second: 0,
        ..Default::default()
    }
}

fn quick_verify() -> kms_rotation::remediate::Verify {
    kms_rotation::remediate::Verify {
        attempts: 5,
        delay: std::time::Duration::from_millis(5),
    }
}

/// A path for `name` in a scratch directory of this test binary and process, with no file there
/// yet.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "kms-rotation-{}-{}",
        env!("CARGO_CRATE_NAME"),
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    path
}
