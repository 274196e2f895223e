//! The emulated fleet both scan benches read: AWS's commercial regions (17 of them, as many as
//! a default account has enabled), a realistic per-call latency, and one kind of key.

use std::time::Duration;

use kms_rotation::model::{KeyManager, KeyRecord, KeySpec, KeyState, Origin, Rotation};

pub const REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "sa-east-1",
];

/// What one KMS call costs on the wire, as the test server is told to wait.
pub const LATENCY: Duration = Duration::from_millis(25);

/// Key `n` of `account` in `region`: customer managed, symmetric, enabled, with rotation on or
/// off (at AWS's default 365 days).
pub fn key(account: &str, region: &str, n: usize, rotating: bool) -> KeyRecord {
    let arn = format!("arn:aws:kms:{region}:{account}:key/{n:08x}-0000-4000-8000-{n:012x}");
    let Ok(mut record) = KeyRecord::from_arn(&arn) else {
        unreachable!("the ARN is well formed")
    };
    record.key_manager = Some(KeyManager::Customer);
    record.key_spec = Some(KeySpec::SymmetricDefault);
    record.origin = Some(Origin::AwsKms);
    record.key_state = Some(KeyState::Enabled);
    record.rotation = Some(Rotation {
        enabled: rotating,
        period_days: Some(365),
        next_rotation_date: None,
        on_demand_rotation_start_date: None,
        last_rotation: None,
    });
    record
}
