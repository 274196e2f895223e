//! Fault injection: quotas, 5xx, malformed bodies, held replies, a failing region, writes that
//! fail or do not stick, latency, and changing faults while the server runs.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_sdk_kms::config::timeout::TimeoutConfig;
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use common::*;
use kms_test_server::{Faults, Injected, KmsTestServer, ListKeysFailure, Selection, Writes};

async fn start_with(faults: Faults) -> KmsTestServer {
    KmsTestServer::start(fleet(), faults).await.unwrap()
}

fn count(results: &[Result<(), String>], outcome: Result<(), &str>) -> usize {
    let outcome = outcome.map_err(str::to_owned);
    results.iter().filter(|r| **r == outcome).count()
}

#[tokio::test]
async fn calls_past_a_quota_are_throttled_per_operation_account_and_region() {
    let quotas = BTreeMap::from([("DescribeKey".to_owned(), 10)]);
    let server = start_with(Faults {
        quotas,
        ..Faults::default()
    })
    .await;
    let kms = client(&server, REGION);

    let results = describe_many(&kms, 30, "sym").await;
    let ok = count(&results, Ok(()));
    // The bucket holds one second of calls; a call or so may refill while the burst runs.
    assert!((10..=11).contains(&ok), "{ok} passed");
    assert_eq!(count(&results, Err("ThrottlingException")), 30 - ok);

    // The bucket may have refilled a call or two since the burst (a loaded machine): call until
    // it is empty again.
    let err = loop {
        if let Err(err) = kms.describe_key().key_id("sym").send().await {
            break err;
        }
    };
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 400);
    assert_eq!(
        err.message(),
        Some(
            "You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls."
        )
    );
    // Other operations, regions and accounts have their own quotas.
    kms.get_key_rotation_status()
        .key_id("sym")
        .send()
        .await
        .unwrap();
    client(&server, EU)
        .describe_key()
        .key_id("mrk-1")
        .send()
        .await
        .unwrap();
    let other = client_as(&server, REGION, &format!("TEST{OTHER_ACCOUNT}"));
    let err = other.describe_key().key_id("x").send().await.unwrap_err();
    assert_eq!(
        code(&err).as_deref(),
        Some("NotFoundException"),
        "not throttled"
    );
    // The bucket refills at the quota's rate.
    tokio::time::sleep(Duration::from_millis(300)).await;
    kms.describe_key().key_id("sym").send().await.unwrap();

    let throttled = server
        .calls()
        .iter()
        .filter(|c| c.injected == Some(Injected::Throttled))
        .count();
    assert_eq!(throttled, 30 - ok + 1);
}

#[tokio::test]
async fn aws_quota_preset_allows_15_enable_key_rotation_per_second() {
    let server = start_with(Faults::default().with_aws_quotas()).await;
    let kms = client(&server, REGION);
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..25 {
        let kms = kms.clone();
        calls.spawn(async move { kms.enable_key_rotation().key_id("sym").send().await.is_ok() });
    }
    let ok = calls.join_all().await.into_iter().filter(|ok| *ok).count();
    assert!((15..=16).contains(&ok), "{ok} passed");
    assert_eq!(server.faults().quotas["DescribeKey"], 2000);
}

#[tokio::test]
async fn a_seeded_fraction_of_calls_gets_500_and_the_same_seed_repeats_it() {
    let faults = Faults {
        seed: 7,
        server_errors: Selection::fraction(0.25),
        ..Faults::default()
    };
    let pattern = |server: KmsTestServer| async move {
        let kms = client(&server, REGION);
        let mut failed = Vec::new();
        for _ in 0..120 {
            match kms.describe_key().key_id("sym").send().await {
                Ok(_) => failed.push(false),
                Err(e) => {
                    assert_eq!(code(&e).as_deref(), Some("KMSInternalException"));
                    assert_eq!(e.raw_response().unwrap().status().as_u16(), 500);
                    failed.push(true);
                }
            }
        }
        failed
    };
    let first = pattern(start_with(faults.clone()).await).await;
    let hits = first.iter().filter(|f| **f).count();
    assert!((15..=45).contains(&hits), "{hits} of 120");
    assert_eq!(
        first,
        pattern(start_with(faults.clone()).await).await,
        "same seed, same calls"
    );
    let other_seed = Faults { seed: 8, ..faults };
    assert_ne!(first, pattern(start_with(other_seed).await).await);
}

#[tokio::test]
async fn server_errors_can_target_an_operation_with_503() {
    let faults = Faults {
        server_errors: Selection::operation("ListKeys"),
        server_error_status: 503,
        ..Faults::default()
    };
    let server = start_with(faults).await;
    let kms = client(&server, REGION);
    let err = kms.list_keys().send().await.unwrap_err();
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 503);
    assert_eq!(code(&err).as_deref(), Some("KMSInternalException"));
    kms.describe_key().key_id("sym").send().await.unwrap();
}

#[tokio::test]
async fn malformed_replies_are_200_with_invalid_json() {
    let server = start_with(Faults {
        malformed: Selection::operation("DescribeKey"),
        ..Faults::default()
    })
    .await;
    let kms = client(&server, REGION);
    let err = kms.describe_key().key_id("sym").send().await.unwrap_err();
    // The SDK cannot parse the 200 reply: no error code, a deserialization failure.
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 200);
    assert_eq!(code(&err), None);
    assert!(format!("{err:?}").contains("DeserializeError"), "{err:?}");
    kms.list_keys().send().await.unwrap();
    let calls = server.calls_for("DescribeKey");
    assert_eq!(
        (calls[0].status, calls[0].injected),
        (200, Some(Injected::Malformed))
    );
    assert!(!calls[0].succeeded());
}

#[tokio::test]
async fn held_replies_make_the_client_time_out_and_do_not_block_shutdown() {
    let faults = Faults {
        timeouts: Selection::operation("GetKeyRotationStatus"),
        timeout_hold: Duration::from_secs(120),
        ..Faults::default()
    };
    let server = start_with(faults).await;
    let timeouts = TimeoutConfig::builder()
        .operation_attempt_timeout(Duration::from_millis(300))
        .build();
    let kms = aws_sdk_kms::Client::from_conf(
        config(&server, REGION, "AKIDTEST")
            .timeout_config(timeouts)
            .build(),
    );
    let started = Instant::now();
    let err = kms
        .get_key_rotation_status()
        .key_id("sym")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, SdkError::TimeoutError(_)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    kms.describe_key().key_id("sym").send().await.unwrap();
    assert_eq!(
        server.calls_for("GetKeyRotationStatus")[0].injected,
        Some(Injected::Held)
    );

    // A second call is still held when the server stops; shutdown cuts it short.
    let pending = tokio::spawn({
        let kms = client(&server, REGION);
        async move { kms.get_key_rotation_status().key_id("sym").send().await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stopping = Instant::now();
    server.shutdown().await.unwrap();
    assert!(stopping.elapsed() < Duration::from_secs(5));
    pending.abort();
}

#[tokio::test]
async fn list_keys_fails_for_one_region_or_one_account() {
    let faults = Faults {
        list_keys_failures: vec![
            ListKeysFailure {
                account_id: None,
                region: EU.into(),
                code: "UnrecognizedClientException".into(),
            },
            ListKeysFailure {
                account_id: Some(OTHER_ACCOUNT.into()),
                region: REGION.into(),
                code: "AccessDeniedException".into(),
            },
        ],
        ..Faults::default()
    };
    let server = start_with(faults).await;
    let eu = client(&server, EU);
    let err = eu.list_keys().send().await.unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("UnrecognizedClientException"));
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 400);
    eu.describe_key().key_id("mrk-1").send().await.unwrap();
    client(&server, REGION).list_keys().send().await.unwrap();
    let other = client_as(&server, REGION, &format!("TEST{OTHER_ACCOUNT}"));
    let err = other.list_keys().send().await.unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("AccessDeniedException"));
}

#[tokio::test]
async fn ignored_writes_answer_200_but_change_nothing() {
    let server = start_with(Faults {
        writes: Writes::Ignore,
        ..Faults::default()
    })
    .await;
    let kms = client(&server, REGION);
    kms.enable_key_rotation()
        .key_id("sym")
        .send()
        .await
        .unwrap();
    assert!(!server.rotation_of(&arn(REGION, "sym")).unwrap().enabled);
    let status = kms
        .get_key_rotation_status()
        .key_id("sym")
        .send()
        .await
        .unwrap();
    assert!(!status.key_rotation_enabled());
    kms.disable_key_rotation()
        .key_id("on")
        .send()
        .await
        .unwrap();
    assert!(server.rotation_of(&arn(REGION, "on")).unwrap().enabled);
    // Validation still runs.
    let err = kms
        .enable_key_rotation()
        .key_id("disabled")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("DisabledException"));
    let injected: Vec<_> = server.write_calls().iter().map(|c| c.injected).collect();
    assert_eq!(
        injected,
        [
            Some(Injected::WriteIgnored),
            Some(Injected::WriteIgnored),
            None
        ]
    );
}

#[tokio::test]
async fn failing_writes_answer_the_code_and_change_nothing() {
    let server = start_with(Faults {
        writes: Writes::failing(),
        ..Faults::default()
    })
    .await;
    let kms = client(&server, REGION);
    let err = kms
        .enable_key_rotation()
        .key_id("sym")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("AccessDeniedException"));
    let err = kms
        .disable_key_rotation()
        .key_id("on")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("AccessDeniedException"));
    assert!(!server.rotation_of(&arn(REGION, "sym")).unwrap().enabled);
    assert!(server.rotation_of(&arn(REGION, "on")).unwrap().enabled);
    kms.get_key_rotation_status()
        .key_id("sym")
        .send()
        .await
        .unwrap();

    server.set_faults(Faults {
        writes: Writes::Fail("KMSInternalException".into()),
        ..Faults::default()
    });
    let err = kms
        .enable_key_rotation()
        .key_id("sym")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 500);
    assert!(
        server
            .write_calls()
            .iter()
            .all(|c| c.injected == Some(Injected::WriteFailed))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_applies_to_concurrent_calls_and_changes_while_running() {
    let latency = Duration::from_secs(1);
    let server = start_with(Faults {
        latency,
        ..Faults::default()
    })
    .await;
    let kms = client(&server, REGION);
    let started = Instant::now();
    let results = describe_many(&kms, 300, "sym").await;
    let elapsed = started.elapsed();
    assert_eq!(count(&results, Ok(())), 300);
    // 300 sequential calls would take 300 latencies; concurrent ones about one, plus what a
    // loaded machine adds. The bound is far from both, so the machine's speed cannot decide.
    assert!(elapsed >= latency && elapsed < 60 * latency, "{elapsed:?}");

    server.set_faults(Faults::default());
    let started = Instant::now();
    kms.describe_key().key_id("sym").send().await.unwrap();
    assert!(started.elapsed() < latency, "latency removed");
}
