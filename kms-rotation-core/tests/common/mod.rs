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
