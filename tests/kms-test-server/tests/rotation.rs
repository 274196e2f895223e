//! GetKeyRotationStatus, EnableKeyRotation and DisableKeyRotation per key state and type
//! (kms-api.md §3), replicas sharing their primary's setting, and per-key denials.

#![allow(clippy::unwrap_used)]

mod common;

use chrono::{Duration, Utc};
use common::*;
use kms_test_server::RotationState;

/// `Ok(enabled)` or `Err(code)`.
type Expect = Result<bool, &'static str>;

#[tokio::test]
async fn get_key_rotation_status_per_state_and_type() {
    let server = start(fleet()).await;
    let kms = client(&server, REGION);
    let rows: &[(&str, Expect)] = &[
        ("sym", Ok(false)),
        ("on", Ok(true)),
        ("disabled", Ok(false)),
        // Seeded with rotation on, but KMS reads false while deletion is pending.
        ("pending-deletion", Ok(false)),
        ("pending-replica-deletion", Ok(false)),
        ("creating", Ok(false)),
        ("updating", Ok(false)),
        ("pending-import", Err("UnsupportedOperationException")),
        ("external", Err("UnsupportedOperationException")),
        ("cloudhsm", Err("UnsupportedOperationException")),
        ("unavailable", Err("UnsupportedOperationException")),
        ("rsa", Ok(false)),
        ("hmac", Ok(false)),
        ("aws-ebs", Ok(true)),
        ("aws-acm", Err("AccessDeniedException")),
        ("denied", Err("AccessDeniedException")),
        ("mrk-1", Ok(false)),
        ("no-such-key", Err("NotFoundException")),
    ];
    for (id, expected) in rows {
        let got = kms
            .get_key_rotation_status()
            .key_id(*id)
            .send()
            .await
            .map(|out| out.key_rotation_enabled())
            .map_err(|e| code(&e).unwrap_or_default());
        assert_eq!(got, expected.map_err(str::to_owned), "key {id}");
    }
}

#[tokio::test]
async fn status_fields_follow_aws_when_on_and_off() {
    let server = start(fleet()).await;
    let kms = client(&server, REGION);

    let on = kms
        .get_key_rotation_status()
        .key_id("on")
        .send()
        .await
        .unwrap();
    assert_eq!(
        on.key_id(),
        Some(arn(REGION, "on").as_str()),
        "KeyId is the ARN"
    );
    assert_eq!(on.rotation_period_in_days(), Some(180));
    assert_eq!(on.next_rotation_date().unwrap().secs(), 1_798_761_600); // 2027-01-01

    let off = kms
        .get_key_rotation_status()
        .key_id("sym")
        .send()
        .await
        .unwrap();
    assert!(!off.key_rotation_enabled());
    assert_eq!(off.rotation_period_in_days(), None);
    assert!(off.next_rotation_date().is_none());

    let aws = kms
        .get_key_rotation_status()
        .key_id(arn(REGION, "aws-ebs"))
        .send()
        .await
        .unwrap();
    assert!(aws.key_rotation_enabled());
    assert_eq!(aws.rotation_period_in_days(), Some(365));
}

#[tokio::test]
async fn enable_key_rotation_per_state_and_type() {
    let server = start(fleet()).await;
    let kms = client(&server, REGION);
    let rows: &[(&str, Result<(), &str>)] = &[
        ("sym", Ok(())),
        ("updating", Ok(())),
        ("disabled", Err("DisabledException")),
        ("pending-deletion", Err("KMSInvalidStateException")),
        ("pending-replica-deletion", Err("KMSInvalidStateException")),
        ("creating", Err("KMSInvalidStateException")),
        ("pending-import", Err("UnsupportedOperationException")),
        ("external", Err("UnsupportedOperationException")),
        ("cloudhsm", Err("UnsupportedOperationException")),
        ("unavailable", Err("UnsupportedOperationException")),
        ("rsa", Err("UnsupportedOperationException")),
        ("hmac", Err("UnsupportedOperationException")),
        ("aws-ebs", Err("AccessDeniedException")),
        ("no-such-key", Err("NotFoundException")),
        ("alias/payments", Err("NotFoundException")),
        ("arn:aws:kms:nonsense", Err("InvalidArnException")),
    ];
    for (id, expected) in rows {
        let before = server.rotation_of(&arn(REGION, id));
        let got = kms
            .enable_key_rotation()
            .key_id(*id)
            .send()
            .await
            .map(drop)
            .map_err(|e| code(&e).unwrap_or_default());
        assert_eq!(got, expected.map_err(str::to_owned), "enable {id}");
        let after = server.rotation_of(&arn(REGION, id));
        match expected {
            Ok(()) => assert!(after.unwrap().enabled, "{id} was enabled"),
            Err(_) => assert_eq!(after, before, "a refused write changes nothing ({id})"),
        }
        // DisableKeyRotation refuses exactly the same keys.
        let disabled = kms.disable_key_rotation().key_id(*id).send().await;
        assert_eq!(
            disabled.map(drop).map_err(|e| code(&e).unwrap_or_default()),
            expected.map_err(str::to_owned),
            "disable {id}"
        );
    }
}

#[tokio::test]
async fn enable_sets_period_and_next_date_and_disable_clears_them() {
    let server = start(fleet()).await;
    let kms = client(&server, REGION);
    let sym = arn(REGION, "sym");

    kms.enable_key_rotation().key_id(&sym).send().await.unwrap();
    let state = server.rotation_of(&sym).unwrap();
    assert_eq!(state.period_days, Some(365), "default period");
    let next = state.next_rotation_date.unwrap();
    assert!(
        (next - (Utc::now() + Duration::days(365)))
            .num_seconds()
            .abs()
            < 60
    );

    kms.enable_key_rotation()
        .key_id("sym")
        .rotation_period_in_days(90)
        .send()
        .await
        .unwrap();
    let status = kms
        .get_key_rotation_status()
        .key_id("sym")
        .send()
        .await
        .unwrap();
    assert!(status.key_rotation_enabled());
    assert_eq!(status.rotation_period_in_days(), Some(90));
    let next = status.next_rotation_date().unwrap().secs();
    assert!((next - (Utc::now() + Duration::days(90)).timestamp()).abs() < 60);

    kms.disable_key_rotation()
        .key_id("sym")
        .send()
        .await
        .unwrap();
    assert_eq!(
        server.rotation_of(&sym),
        Some(RotationState {
            enabled: false,
            period_days: None,
            next_rotation_date: None
        })
    );
    let status = kms
        .get_key_rotation_status()
        .key_id("sym")
        .send()
        .await
        .unwrap();
    assert!(!status.key_rotation_enabled());
    assert_eq!(status.rotation_period_in_days(), None);
}

#[tokio::test]
async fn rotation_period_outside_90_to_2560_is_a_validation_error() {
    let server = start(fleet()).await;
    let kms = client(&server, REGION);
    for days in [0, 89, 2561] {
        let err = kms
            .enable_key_rotation()
            .key_id("sym")
            .rotation_period_in_days(days)
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&err).as_deref(), Some("ValidationException"), "{days}");
    }
    assert!(!server.rotation_of(&arn(REGION, "sym")).unwrap().enabled);
    for days in [90, 2560] {
        kms.enable_key_rotation()
            .key_id("sym")
            .rotation_period_in_days(days)
            .send()
            .await
            .unwrap();
        assert_eq!(
            server.rotation_of(&arn(REGION, "sym")).unwrap().period_days,
            Some(days as u32)
        );
    }
}

#[tokio::test]
async fn replica_shares_its_primarys_setting_and_refuses_writes() {
    let server = start(fleet()).await;
    let us = client(&server, REGION);
    let eu = client(&server, EU);
    let replica_status = || async {
        eu.get_key_rotation_status()
            .key_id("mrk-1")
            .send()
            .await
            .unwrap()
    };
    assert!(!replica_status().await.key_rotation_enabled());

    us.enable_key_rotation()
        .key_id("mrk-1")
        .rotation_period_in_days(200)
        .send()
        .await
        .unwrap();
    let status = replica_status().await;
    assert!(status.key_rotation_enabled());
    assert_eq!(status.rotation_period_in_days(), Some(200));
    assert_eq!(status.key_id(), Some(arn(EU, "mrk-1").as_str()));
    assert_eq!(
        server.rotation_of(&arn(EU, "mrk-1")),
        server.rotation_of(&arn(REGION, "mrk-1"))
    );

    let err = eu
        .disable_key_rotation()
        .key_id("mrk-1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("UnsupportedOperationException"));
    assert!(
        replica_status().await.key_rotation_enabled(),
        "refused on the replica"
    );

    us.disable_key_rotation()
        .key_id("mrk-1")
        .send()
        .await
        .unwrap();
    assert!(!replica_status().await.key_rotation_enabled());
}

#[tokio::test]
async fn per_key_denials_answer_the_seeded_error_for_that_operation_only() {
    let server = start(fleet()).await;
    let kms = client(&server, REGION);
    let err = kms
        .get_key_rotation_status()
        .key_id("denied")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("AccessDeniedException"));
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 400);
    assert_eq!(
        aws_sdk_kms::error::ProvideErrorMetadata::message(&err),
        Some("policy says no")
    );
    // Other operations on the same key work.
    kms.describe_key().key_id("denied").send().await.unwrap();
    kms.enable_key_rotation()
        .key_id("denied")
        .send()
        .await
        .unwrap();

    // The aws/acm case: an AWS managed key whose policy allows no GetKeyRotationStatus.
    let err = kms
        .get_key_rotation_status()
        .key_id("aws-acm")
        .send()
        .await
        .unwrap_err();
    let message = aws_sdk_kms::error::ProvideErrorMetadata::message(&err).unwrap();
    assert!(message.contains("kms:GetKeyRotationStatus"), "{message}");
}

#[tokio::test]
async fn cross_account_arns_read_but_do_not_write() {
    let server = start(vec![key(REGION, "a"), key_in(OTHER_ACCOUNT, REGION, "b")]).await;
    let mine = client(&server, REGION);
    let other = arn_in(OTHER_ACCOUNT, REGION, "b");
    let status = mine
        .get_key_rotation_status()
        .key_id(&other)
        .send()
        .await
        .unwrap();
    assert!(!status.key_rotation_enabled());
    let err = mine
        .enable_key_rotation()
        .key_id(&other)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("AccessDeniedException"));
    // A bare id is looked up in the caller's own account only.
    let err = mine
        .get_key_rotation_status()
        .key_id("b")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("NotFoundException"));
    // The other account's own credentials can write it.
    let theirs = client_as(&server, REGION, &format!("TEST{OTHER_ACCOUNT}"));
    theirs
        .enable_key_rotation()
        .key_id("b")
        .send()
        .await
        .unwrap();
    assert!(server.rotation_of(&other).unwrap().enabled);
}
