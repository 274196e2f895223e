//! The faults added for the scan's fault suite: throttle storms, connection resets, replies cut
//! halfway, a server that stops answering, short pages, and paging faults (a region failing
//! mid-listing, `Truncated` without a marker, a marker sent twice).

#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use aws_sdk_kms::config::timeout::TimeoutConfig;
use aws_sdk_kms::error::SdkError;
use common::*;
use kms_rotation::KeyRecord;
use kms_test_server::{Faults, Injected, KmsTestServer, PagingFault, PagingFaultKind, Selection};

/// `n` plain keys in `REGION`, ids `k000`...
fn keys(n: usize) -> Vec<KeyRecord> {
    (0..n).map(|i| key(REGION, &format!("k{i:03}"))).collect()
}

async fn start_with(records: Vec<KeyRecord>, faults: Faults) -> KmsTestServer {
    KmsTestServer::start(records, faults).await.unwrap()
}

fn injected(server: &KmsTestServer, kind: Injected) -> usize {
    server
        .calls()
        .iter()
        .filter(|c| c.injected == Some(kind))
        .count()
}

#[tokio::test]
async fn a_throttle_storm_throttles_a_seeded_share_of_calls_whatever_the_rate() {
    let server = start_with(
        fleet(),
        Faults {
            seed: 3,
            throttles: Selection::fraction(1.0 / 3.0),
            ..Faults::default()
        },
    )
    .await;
    let kms = client(&server, REGION);
    let mut throttled = 0;
    for _ in 0..150 {
        if let Err(err) = kms.describe_key().key_id("sym").send().await {
            assert_eq!(code(&err).as_deref(), Some("ThrottlingException"));
            assert_eq!(err.raw_response().unwrap().status().as_u16(), 400);
            throttled += 1;
        }
    }
    assert!((30..=70).contains(&throttled), "{throttled} of 150");
    assert_eq!(injected(&server, Injected::Throttled), throttled);
}

#[tokio::test]
async fn a_reset_connection_gets_no_reply_and_the_next_connection_works() {
    let server = start_with(
        fleet(),
        Faults {
            resets: Selection::operation("DescribeKey"),
            ..Faults::default()
        },
    )
    .await;
    let kms = client(&server, REGION);
    let err = kms.describe_key().key_id("sym").send().await.unwrap_err();
    // No reply at all: a dispatch failure, not a service error.
    assert!(matches!(err, SdkError::DispatchFailure(_)), "{err:?}");
    assert!(err.raw_response().is_none());
    kms.list_keys().send().await.unwrap();
    assert_eq!(
        server.calls_for("DescribeKey")[0].injected,
        Some(Injected::Reset)
    );
}

#[tokio::test]
async fn a_truncated_reply_stops_halfway_and_cannot_be_read() {
    let server = start_with(
        fleet(),
        Faults {
            truncated: Selection::operation("GetKeyRotationStatus"),
            ..Faults::default()
        },
    )
    .await;
    let kms = client(&server, REGION);
    let err = kms
        .get_key_rotation_status()
        .key_id("on")
        .send()
        .await
        .unwrap_err();
    // Never a parsed reply (whose missing `KeyRotationEnabled` would read as false).
    assert!(
        matches!(
            err,
            SdkError::ResponseError(_) | SdkError::DispatchFailure(_)
        ),
        "{err:?}"
    );
    kms.describe_key().key_id("sym").send().await.unwrap();
    let call = &server.calls_for("GetKeyRotationStatus")[0];
    assert_eq!(
        (call.status, call.injected),
        (200, Some(Injected::Truncated))
    );
    assert!(!call.succeeded());
}

#[tokio::test]
async fn after_n_calls_the_server_stops_answering_until_shutdown() {
    let server = start_with(
        fleet(),
        Faults {
            stop_after: Some(2),
            ..Faults::default()
        },
    )
    .await;
    let timeouts = TimeoutConfig::builder()
        .operation_attempt_timeout(Duration::from_millis(300))
        .build();
    let kms = aws_sdk_kms::Client::from_conf(
        config(&server, REGION, "AKIDTEST")
            .timeout_config(timeouts)
            .build(),
    );
    kms.describe_key().key_id("sym").send().await.unwrap();
    kms.list_keys().send().await.unwrap();
    for _ in 0..2 {
        let err = kms.describe_key().key_id("sym").send().await.unwrap_err();
        assert!(matches!(err, SdkError::TimeoutError(_)), "{err:?}");
    }
    assert_eq!(injected(&server, Injected::Stopped), 2);
    let stopping = Instant::now();
    server.shutdown().await.unwrap();
    assert!(stopping.elapsed() < Duration::from_secs(5));
}

/// Follows ListKeys from the first page; each item is a page's (key count, truncated, marker),
/// or the error code that ended it. Stops after `max` pages so that a cycle cannot hang the test.
async fn walk(
    kms: &aws_sdk_kms::Client,
    max: usize,
) -> Vec<Result<(usize, bool, Option<String>), String>> {
    let mut pages = Vec::new();
    let mut marker: Option<String> = None;
    for _ in 0..max {
        match kms.list_keys().set_marker(marker.clone()).send().await {
            Ok(page) => {
                let next = page.next_marker().map(str::to_owned);
                pages.push(Ok((page.keys().len(), page.truncated(), next.clone())));
                match (page.truncated(), next) {
                    (true, Some(next)) => marker = Some(next),
                    _ => break,
                }
            }
            Err(err) => {
                pages.push(Err(code(&err).unwrap_or_default()));
                break;
            }
        }
    }
    pages
}

#[tokio::test]
async fn the_page_cap_shortens_pages_whatever_limit_asks() {
    let server = start_with(
        keys(25),
        Faults {
            page_cap: Some(10),
            ..Faults::default()
        },
    )
    .await;
    let kms = client(&server, REGION);
    let page = kms.list_keys().limit(1000).send().await.unwrap();
    assert_eq!((page.keys().len(), page.truncated()), (10, true));
    let sizes: Vec<usize> = walk(&kms, 10)
        .await
        .into_iter()
        .map(|p| p.unwrap().0)
        .collect();
    assert_eq!(sizes, [10, 10, 5]);
}

#[tokio::test]
async fn a_region_can_fail_after_some_pages() {
    let fault = PagingFault::new(
        "ListKeys",
        REGION,
        2,
        PagingFaultKind::Fail("KMSInternalException".into()),
    );
    let server = start_with(
        keys(50),
        Faults {
            page_cap: Some(10),
            paging_faults: vec![fault],
            ..Faults::default()
        },
    )
    .await;
    let kms = client(&server, REGION);
    let pages = walk(&kms, 10).await;
    assert_eq!(pages.len(), 3, "{pages:?}");
    assert!(pages[..2].iter().all(Result::is_ok));
    assert_eq!(pages[2], Err("KMSInternalException".to_owned()));
    // It stays failed, from the first page on, for every caller of that region.
    let again = kms.list_keys().send().await.unwrap_err();
    assert_eq!(code(&again).as_deref(), Some("KMSInternalException"));
    client(&server, EU).list_keys().send().await.unwrap();
    assert_eq!(injected(&server, Injected::PagingFailure), 2);
}

#[tokio::test]
async fn a_page_can_say_truncated_without_a_marker() {
    let fault = PagingFault::new(
        "ListKeys",
        REGION,
        1,
        PagingFaultKind::TruncatedWithoutMarker,
    );
    let server = start_with(
        keys(50),
        Faults {
            page_cap: Some(10),
            paging_faults: vec![fault],
            ..Faults::default()
        },
    )
    .await;
    let pages = walk(&client(&server, REGION), 10).await;
    assert_eq!(
        pages,
        [
            Ok((10, true, Some("ListKeys~10".into()))),
            Ok((10, true, None))
        ]
    );
    assert_eq!(injected(&server, Injected::TruncatedWithoutMarker), 1);
}

#[tokio::test]
async fn a_page_can_send_back_an_earlier_marker() {
    let fault = PagingFault::new("ListKeys", REGION, 2, PagingFaultKind::RepeatMarker);
    let server = start_with(
        keys(50),
        Faults {
            page_cap: Some(10),
            paging_faults: vec![fault],
            ..Faults::default()
        },
    )
    .await;
    let pages = walk(&client(&server, REGION), 6).await;
    let markers: Vec<Option<String>> = pages.into_iter().map(|p| p.unwrap().2).collect();
    // The third page points back to the second: not the marker just sent, an earlier one.
    assert_eq!(
        markers,
        [
            Some("ListKeys~10".into()),
            Some("ListKeys~20".into()),
            Some("ListKeys~10".into()),
            Some("ListKeys~20".into()),
            Some("ListKeys~30".into()),
            Some("ListKeys~40".into()),
        ]
    );
    assert_eq!(injected(&server, Injected::RepeatedMarker), 1);
}

#[tokio::test]
async fn paging_faults_apply_to_per_key_lists_too() {
    let tagged = with(key(REGION, "tagged"), |r| {
        r.tags = Some((0..3).map(|i| (format!("t{i}"), "v".to_owned())).collect());
    });
    let fault = PagingFault::new(
        "ListResourceTags",
        REGION,
        0,
        PagingFaultKind::TruncatedWithoutMarker,
    );
    let server = start_with(
        vec![tagged],
        Faults {
            paging_faults: vec![fault],
            ..Faults::default()
        },
    )
    .await;
    let kms = client(&server, REGION);
    let page = kms
        .list_resource_tags()
        .key_id("tagged")
        .send()
        .await
        .unwrap();
    assert_eq!((page.tags().len(), page.truncated()), (3, true));
    assert_eq!(page.next_marker(), None);
    // Only the page it names: the next one is whole again.
    let page = kms
        .list_resource_tags()
        .key_id("tagged")
        .send()
        .await
        .unwrap();
    assert!(!page.truncated());
}

#[tokio::test]
async fn a_page_can_list_its_items_twice_or_an_empty_item() {
    let faults = Faults {
        page_cap: Some(3),
        paging_faults: vec![
            PagingFault::new("ListKeys", REGION, 0, PagingFaultKind::DuplicateItems),
            PagingFault::new("ListKeys", REGION, 1, PagingFaultKind::BlankItem),
        ],
        ..Faults::default()
    };
    let server = start_with(keys(6), faults).await;
    let kms = client(&server, REGION);
    let first = kms.list_keys().send().await.unwrap();
    let ids: Vec<&str> = first.keys().iter().filter_map(|k| k.key_id()).collect();
    assert_eq!(ids, ["k000", "k001", "k002", "k000", "k001", "k002"]);
    let second = kms
        .list_keys()
        .set_marker(first.next_marker().map(str::to_owned))
        .send()
        .await
        .unwrap();
    let last = second.keys().last().unwrap();
    assert_eq!(
        (second.keys().len(), last.key_id(), last.key_arn()),
        (4, None, None)
    );
    assert_eq!(injected(&server, Injected::DuplicateItems), 1);
    assert_eq!(injected(&server, Injected::BlankItem), 1);
}
