//! Shared fixtures: seed records for every row of the key-state tables, and SDK clients pointed at
//! a test server with dummy credentials and retries off (so each call is one request).
#![allow(dead_code)]

use aws_sdk_kms::Client;
use aws_sdk_kms::config::retry::RetryConfig;
use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use kms_rotation::KeyRecord;
use kms_rotation::model::Tags;
use kms_rotation::model::{
    KeyError, KeyManager, KeySpec, KeyState, KeyUsage, LastRotation, MultiRegion, MultiRegionRole,
    Origin, Rotation, RotationType,
};
use kms_test_server::{Faults, KmsTestServer};

pub const ACCOUNT: &str = "111122223333";
pub const OTHER_ACCOUNT: &str = "444455556666";
pub const REGION: &str = "us-east-1";
pub const EU: &str = "eu-west-1";

pub fn arn(region: &str, id: &str) -> String {
    arn_in(ACCOUNT, region, id)
}

pub fn arn_in(account: &str, region: &str, id: &str) -> String {
    format!("arn:aws:kms:{region}:{account}:key/{id}")
}

/// A customer managed symmetric key in state Enabled, rotation off.
pub fn key(region: &str, id: &str) -> KeyRecord {
    key_in(ACCOUNT, region, id)
}

pub fn key_in(account: &str, region: &str, id: &str) -> KeyRecord {
    let mut r = KeyRecord::from_arn(&arn_in(account, region, id)).unwrap();
    r.key_manager = Some(KeyManager::Customer);
    r.key_spec = Some(KeySpec::SymmetricDefault);
    r.key_usage = Some(KeyUsage::EncryptDecrypt);
    r.origin = Some(Origin::AwsKms);
    r.key_state = Some(KeyState::Enabled);
    r.creation_date = Some("2024-03-01T12:00:00Z".parse().unwrap());
    r
}

pub fn with(mut record: KeyRecord, change: impl FnOnce(&mut KeyRecord)) -> KeyRecord {
    change(&mut record);
    record
}

pub fn rotation(period_days: u32) -> Option<Rotation> {
    Some(Rotation {
        enabled: true,
        period_days: Some(period_days),
        next_rotation_date: Some("2027-01-01T00:00:00Z".parse().unwrap()),
        on_demand_rotation_start_date: None,
        last_rotation: Some(LastRotation {
            date: "2026-01-01T00:00:00Z".parse().unwrap(),
            rotation_type: RotationType::Automatic,
        }),
    })
}

pub fn denial(operation: &str, code: &str, message: &str) -> Vec<KeyError> {
    vec![KeyError {
        operation: operation.to_owned(),
        code: code.to_owned(),
        message: message.to_owned(),
    }]
}

/// One key per row of kms-api.md §3, in us-east-1, plus a multi-Region replica in eu-west-1.
/// Ids name the row.
pub fn fleet() -> Vec<KeyRecord> {
    let k = |id: &str| key(REGION, id);
    vec![
        with(k("sym"), |r| {
            r.aliases = Some(vec!["alias/payments".into(), "alias/payments-old".into()]);
            r.tags = Some(Tags::from([("env", "prod"), ("owner", "pay")]));
        }),
        with(k("on"), |r| r.rotation = rotation(180)),
        with(k("disabled"), |r| r.key_state = Some(KeyState::Disabled)),
        with(k("pending-deletion"), |r| {
            r.key_state = Some(KeyState::PendingDeletion);
            r.rotation = rotation(365);
        }),
        with(k("pending-replica-deletion"), |r| {
            r.key_state = Some(KeyState::PendingReplicaDeletion)
        }),
        with(k("creating"), |r| r.key_state = Some(KeyState::Creating)),
        with(k("updating"), |r| r.key_state = Some(KeyState::Updating)),
        with(k("pending-import"), |r| {
            r.origin = Some(Origin::External);
            r.key_state = Some(KeyState::PendingImport);
        }),
        with(k("external"), |r| r.origin = Some(Origin::External)),
        with(k("cloudhsm"), |r| {
            r.origin = Some(Origin::AwsCloudhsm);
            r.custom_key_store_id = Some("cks-1234567890abcdef0".into());
        }),
        with(k("unavailable"), |r| {
            r.origin = Some(Origin::ExternalKeyStore);
            r.custom_key_store_id = Some("cks-0fedcba0987654321".into());
            r.key_state = Some(KeyState::Unavailable);
        }),
        with(k("rsa"), |r| {
            r.key_spec = Some(KeySpec::Rsa2048);
            r.key_usage = Some(KeyUsage::SignVerify);
        }),
        with(k("hmac"), |r| {
            r.key_spec = Some(KeySpec::Hmac256);
            r.key_usage = Some(KeyUsage::GenerateVerifyMac);
        }),
        with(k("aws-ebs"), |r| {
            r.key_manager = Some(KeyManager::Aws);
            r.aliases = Some(vec!["alias/aws/ebs".into()]);
        }),
        with(k("aws-acm"), |r| {
            r.key_manager = Some(KeyManager::Aws);
            r.aliases = Some(vec!["alias/aws/acm".into()]);
            r.errors = denial("GetKeyRotationStatus", "AccessDeniedException", "");
        }),
        with(k("denied"), |r| {
            r.errors = denial(
                "GetKeyRotationStatus",
                "AccessDeniedException",
                "policy says no",
            );
        }),
        with(
            KeyRecord::from_arn(&arn(REGION, "describe-denied")).unwrap(),
            |r| {
                r.errors = denial(
                    "DescribeKey",
                    "AccessDeniedException",
                    "no DescribeKey for you",
                );
            },
        ),
        with(k("mrk-1"), |r| {
            r.multi_region = Some(MultiRegion {
                role: MultiRegionRole::Primary,
                primary_arn: Some(arn(REGION, "mrk-1")),
            });
        }),
        with(key(EU, "mrk-1"), |r| {
            r.multi_region = Some(MultiRegion {
                role: MultiRegionRole::Replica,
                primary_arn: Some(arn(REGION, "mrk-1")),
            });
        }),
    ]
}

pub async fn start(records: Vec<KeyRecord>) -> KmsTestServer {
    KmsTestServer::start(records, Faults::default())
        .await
        .unwrap()
}

/// A client in `region` with the default account's dummy credentials.
pub fn client(server: &KmsTestServer, region: &str) -> Client {
    client_as(server, region, "AKIDTEST")
}

/// A client whose access key id picks the account (`TEST<12 digits>`).
pub fn client_as(server: &KmsTestServer, region: &str, access_key: &str) -> Client {
    Client::from_conf(config(server, region, access_key).build())
}

/// The configuration of [`client_as`], for tests that change more (timeouts).
pub fn config(
    server: &KmsTestServer,
    region: &str,
    access_key: &str,
) -> aws_sdk_kms::config::Builder {
    aws_sdk_kms::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .credentials_provider(Credentials::new(access_key, "secret", None, None, "test"))
        .endpoint_url(server.endpoint_url())
        .retry_config(RetryConfig::disabled())
}

/// Sends `n` DescribeKey calls at once; each result is `Ok` or the error code.
pub async fn describe_many(kms: &Client, n: usize, key_id: &str) -> Vec<Result<(), String>> {
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..n {
        let (kms, key_id) = (kms.clone(), key_id.to_owned());
        calls.spawn(async move {
            let out = kms.describe_key().key_id(key_id).send().await;
            out.map(drop)
                .map_err(|e| code(&e).unwrap_or_else(|| format!("{e:?}")))
        });
    }
    calls.join_all().await
}

/// The wire error code of a failed call (None for timeouts and unparseable replies).
pub fn code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> Option<String> {
    err.code().map(str::to_owned)
}
