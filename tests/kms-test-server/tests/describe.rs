//! DescribeKey: every form of KeyId, the full KeyMetadata, multi-Region configuration, and a key
//! whose DescribeKey is denied.

#![allow(clippy::unwrap_used)]

mod common;

use aws_sdk_kms::types::{
    KeyManagerType, KeySpec, KeyState, KeyUsageType, MultiRegionKeyType, OriginType,
};
use common::*;

#[tokio::test]
async fn key_id_arn_alias_name_and_alias_arn_all_find_the_key() {
    let server = start(fleet()).await;
    let kms = client(&server, REGION);
    let sym = arn(REGION, "sym");
    let alias_arn = format!("arn:aws:kms:{REGION}:{ACCOUNT}:alias/payments");
    for key_id in [
        "sym",
        sym.as_str(),
        "alias/payments",
        "alias/payments-old",
        &alias_arn,
    ] {
        let out = kms.describe_key().key_id(key_id).send().await.unwrap();
        let meta = out.key_metadata().unwrap();
        assert_eq!(meta.arn(), Some(sym.as_str()), "{key_id}");
        assert_eq!(meta.key_id(), "sym");
    }
    for (key_id, expected) in [
        ("nope", "NotFoundException"),
        ("alias/nope", "NotFoundException"),
        // The same key id exists in eu-west-1, but an ARN names its region.
        (&arn(EU, "sym") as &str, "NotFoundException"),
        (
            "arn:aws:kms:us-east-1:111122223333:bogus/x",
            "InvalidArnException",
        ),
    ] {
        let err = kms.describe_key().key_id(key_id).send().await.unwrap_err();
        assert_eq!(code(&err).as_deref(), Some(expected), "{key_id}");
    }
}

#[tokio::test]
async fn key_metadata_has_every_field() {
    let server = start(fleet()).await;
    let kms = client(&server, REGION);
    let out = kms.describe_key().key_id("sym").send().await.unwrap();
    let m = out.key_metadata().unwrap();
    assert_eq!(m.aws_account_id(), Some(ACCOUNT));
    assert_eq!(m.creation_date().unwrap().secs(), 1_709_294_400); // 2024-03-01T12:00:00Z
    assert!(m.enabled());
    assert_eq!(m.key_state(), Some(&KeyState::Enabled));
    assert_eq!(m.key_manager(), Some(&KeyManagerType::Customer));
    assert_eq!(m.key_spec(), Some(&KeySpec::SymmetricDefault));
    assert_eq!(m.key_usage(), Some(&KeyUsageType::EncryptDecrypt));
    assert_eq!(m.origin(), Some(&OriginType::AwsKms));
    assert_eq!(m.multi_region(), Some(false));
    assert!(m.multi_region_configuration().is_none());
    assert!(m.custom_key_store_id().is_none());

    let hsm = kms.describe_key().key_id("cloudhsm").send().await.unwrap();
    let hsm = hsm.key_metadata().unwrap();
    assert_eq!(hsm.origin(), Some(&OriginType::AwsCloudhsm));
    assert_eq!(hsm.custom_key_store_id(), Some("cks-1234567890abcdef0"));

    let disabled = kms.describe_key().key_id("disabled").send().await.unwrap();
    let disabled = disabled.key_metadata().unwrap();
    assert!(!disabled.enabled(), "Enabled is true only in state Enabled");
    assert_eq!(disabled.key_state(), Some(&KeyState::Disabled));

    let pending = kms
        .describe_key()
        .key_id("pending-deletion")
        .send()
        .await
        .unwrap();
    assert!(pending.key_metadata().unwrap().deletion_date().is_some());

    let aws = kms
        .describe_key()
        .key_id("alias/aws/ebs")
        .send()
        .await
        .unwrap();
    assert_eq!(
        aws.key_metadata().unwrap().key_manager(),
        Some(&KeyManagerType::Aws)
    );

    let hmac = kms.describe_key().key_id("hmac").send().await.unwrap();
    assert_eq!(
        hmac.key_metadata().unwrap().key_spec(),
        Some(&KeySpec::Hmac256)
    );
}

#[tokio::test]
async fn multi_region_configuration_names_primary_and_replicas() {
    let server = start(fleet()).await;
    for (region, role) in [
        (REGION, MultiRegionKeyType::Primary),
        (EU, MultiRegionKeyType::Replica),
    ] {
        let out = client(&server, region)
            .describe_key()
            .key_id("mrk-1")
            .send()
            .await
            .unwrap();
        let meta = out.key_metadata().unwrap();
        assert_eq!(meta.multi_region(), Some(true));
        let config = meta.multi_region_configuration().unwrap();
        assert_eq!(config.multi_region_key_type(), Some(&role), "{region}");
        let primary = config.primary_key().unwrap();
        assert_eq!(primary.arn(), Some(arn(REGION, "mrk-1").as_str()));
        assert_eq!(primary.region(), Some(REGION));
        let replicas: Vec<_> = config
            .replica_keys()
            .iter()
            .map(|r| (r.arn(), r.region()))
            .collect();
        assert_eq!(replicas, [(Some(arn(EU, "mrk-1").as_str()), Some(EU))]);
    }
}

#[tokio::test]
async fn a_denied_describe_key_still_lists() {
    let server = start(fleet()).await;
    let kms = client(&server, REGION);
    let err = kms
        .describe_key()
        .key_id("describe-denied")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("AccessDeniedException"));
    assert_eq!(
        aws_sdk_kms::error::ProvideErrorMetadata::message(&err),
        Some("no DescribeKey for you")
    );
    let listed = kms.list_keys().send().await.unwrap();
    assert!(
        listed
            .keys()
            .iter()
            .any(|k| k.key_id() == Some("describe-denied"))
    );
}

#[tokio::test]
async fn the_access_key_picks_the_account() {
    let server = start(vec![key(REGION, "a"), key_in(OTHER_ACCOUNT, REGION, "b")]).await;
    let ids = |kms: aws_sdk_kms::Client| async move {
        let out = kms.list_keys().send().await.unwrap();
        out.keys()
            .iter()
            .map(|k| k.key_id().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    // Any access key that does not name an account means the first seeded account.
    assert_eq!(ids(client(&server, REGION)).await, ["a"]);
    assert_eq!(
        ids(client_as(&server, REGION, &format!("TEST{OTHER_ACCOUNT}"))).await,
        ["b"]
    );
    assert_eq!(
        ids(client_as(&server, REGION, "TEST999999999999")).await,
        Vec::<String>::new()
    );
    // DescribeKey works across accounts with the key ARN.
    let other = arn_in(OTHER_ACCOUNT, REGION, "b");
    let out = client(&server, REGION)
        .describe_key()
        .key_id(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.key_metadata().unwrap().aws_account_id(),
        Some(OTHER_ACCOUNT)
    );
}
