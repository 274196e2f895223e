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

/// The `kms-rotation` binary, cut off from the developer's shell and from AWS: nothing of the
/// caller's environment (no `KMS_ROTATION_*` setting, no `NO_COLOR`, no profile, no real
/// credentials) but dummy credentials, `us-east-1`, no AWS config files, no instance metadata,
/// and every AWS call sent to a closed loopback port unless the test names its own endpoint
/// (`--endpoint-url`, or `AWS_ENDPOINT_URL` set again). It runs in `examples/`, by the samples.
#[cfg(feature = "cli")]
pub fn cli() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_kms-rotation"));
    command
        .current_dir(examples_dir())
        .env_clear()
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    command
}

/// The report of the sample fleet under the sample policy and exceptions, as of `now`: every
/// status and reason of the rule.
pub fn fleet_report(now: chrono::DateTime<chrono::Utc>) -> kms_rotation::Report {
    let dir = examples_dir();
    let mut policy = kms_rotation::Policy::from_file(dir.join("policy.yaml")).unwrap();
    policy
        .add_exceptions_file(dir.join("exceptions.yaml"))
        .unwrap();
    kms_rotation::Report::evaluate(
        &fleet(),
        policy,
        kms_rotation::ReportScope::default(),
        Vec::new(),
        now,
    )
}

/// A customer-managed symmetric key with rotation off, aliases read (none): a `fail`.
pub fn failing(arn: &str) -> KeyRecord {
    use kms_rotation::model::{KeyManager, KeySpec, KeyState, Origin, Rotation};
    KeyRecord {
        key_manager: Some(KeyManager::Customer),
        key_spec: Some(KeySpec::SymmetricDefault),
        origin: Some(Origin::AwsKms),
        key_state: Some(KeyState::Enabled),
        aliases: Some(vec![]),
        rotation: Some(Rotation {
            enabled: false,
            period_days: None,
            next_rotation_date: None,
            on_demand_rotation_start_date: None,
            last_rotation: None,
        }),
        ..KeyRecord::from_arn(arn).unwrap()
    }
}
