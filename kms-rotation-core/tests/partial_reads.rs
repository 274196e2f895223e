//! Partial reads are loud: a list that cannot be read to its end is never taken as complete, a
//! key is read and reported once, a key with no identity still gets its finding, and an account
//! asked for is either read or reported as not read. Against the in-process KMS test server, and
//! the memory source for what every source guarantees.
#![cfg(feature = "aws")]
#![allow(clippy::unwrap_used)]

mod aws_common;

use std::collections::BTreeSet;
use std::time::Duration;

use kms_rotation::aws::AwsOptions;
use kms_rotation::aws::AwsSource;
use kms_rotation::aws::errors::{REPEATED_MARKER, TRUNCATED_WITHOUT_MARKER, UNIDENTIFIED_KEY};
use kms_rotation::model::{
    KeyManager, KeyRecord, KeySpec, KeyState, KeyUsage, LastRotation, Origin, Rotation,
    RotationType, operation,
};
use kms_rotation::policy::Policy;
use kms_rotation::source::{ACCOUNT_NOT_READ, CONFLICTING_RECORDS};
use kms_rotation::{
    ErrorKind, KeySourceExt, MemorySource, Reason, Report, ScanRequest, Scope, Status,
};
use kms_test_server::{Faults, Injected, KmsTestServer, PagingFault, PagingFaultKind};

const ACCOUNT: &str = "111122223333";
const OTHER: &str = "444455556666";
const REGION: &str = "eu-west-1";

fn arn(n: usize) -> String {
    format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/{n:08x}-0000-4000-8000-{n:012x}")
}

/// A customer managed symmetric key with rotation on: `pass`.
fn key(n: usize) -> KeyRecord {
    let mut r = KeyRecord::from_arn(&arn(n)).unwrap();
    r.key_manager = Some(KeyManager::Customer);
    r.key_spec = Some(KeySpec::SymmetricDefault);
    r.key_usage = Some(KeyUsage::EncryptDecrypt);
    r.origin = Some(Origin::AwsKms);
    r.key_state = Some(KeyState::Enabled);
    r.creation_date = Some("2024-03-01T12:00:00Z".parse().unwrap());
    r.rotation = Some(Rotation {
        enabled: true,
        period_days: Some(365),
        next_rotation_date: None,
        on_demand_rotation_start_date: None,
        last_rotation: None,
    });
    r
}

fn keys(n: usize) -> Vec<KeyRecord> {
    (0..n).map(key).collect()
}

/// A server with 10-key pages, `records` and `paging_faults`, and a source reading it.
async fn setup(
    records: Vec<KeyRecord>,
    paging_faults: Vec<PagingFault>,
) -> (KmsTestServer, AwsSource) {
    let faults = Faults {
        page_cap: Some(10),
        paging_faults,
        ..Faults::default()
    };
    let server = KmsTestServer::start(records, faults).await.unwrap();
    let source = source(&server, aws_common::options(&[REGION])).await;
    (server, source)
}

async fn source(server: &KmsTestServer, options: AwsOptions) -> AwsSource {
    let sdk = aws_common::sdk_config(&server.endpoint_url(), "AKIDTEST").await;
    AwsSource::from_sdk_config(sdk, options).await.unwrap()
}

/// Scans under a liveness guard: a listing that loops must fail the test, not hang it.
async fn scan(source: &AwsSource, request: &ScanRequest) -> (Report, Vec<KeyRecord>) {
    tokio::time::timeout(Duration::from_secs(60), source.scan_with_records(request))
        .await
        .expect("the scan ends")
        .unwrap()
}

fn unique_arns(report: &Report) -> usize {
    report
        .findings
        .iter()
        .map(|f| &f.arn)
        .collect::<BTreeSet<_>>()
        .len()
}

#[tokio::test]
async fn list_keys_truncated_without_a_marker_is_a_scope_error_keeping_the_keys_read() {
    let fault = PagingFault::new(
        "ListKeys",
        REGION,
        2,
        PagingFaultKind::TruncatedWithoutMarker,
    );
    let (server, source) = setup(keys(35), vec![fault]).await;
    let (report, _) = scan(&source, &ScanRequest::default()).await;

    assert!(!report.is_complete(), "never `complete` on a cut listing");
    let [error] = report.scope_errors.as_slice() else {
        panic!("{:?}", report.scope_errors)
    };
    assert_eq!(
        (
            error.operation.as_str(),
            error.code.as_str(),
            error.region.as_deref()
        ),
        ("ListKeys", TRUNCATED_WITHOUT_MARKER, Some(REGION))
    );
    assert_eq!(error.account_id.as_deref(), Some(ACCOUNT));
    // The three pages read are kept and judged.
    assert_eq!(report.findings.len(), 30);
    assert!(report.findings.iter().all(|f| f.status == Status::Pass));
    assert_eq!(server.calls_for("ListKeys").len(), 3);
}

#[tokio::test]
async fn a_list_keys_marker_seen_before_is_a_scope_error_not_a_loop() {
    // The third page points back to the second page's marker: not the one just sent.
    let fault = PagingFault::new("ListKeys", REGION, 2, PagingFaultKind::RepeatMarker);
    let (server, source) = setup(keys(50), vec![fault]).await;
    let (report, _) = scan(&source, &ScanRequest::default()).await;

    assert!(!report.is_complete());
    let [error] = report.scope_errors.as_slice() else {
        panic!("{:?}", report.scope_errors)
    };
    assert_eq!(
        (error.operation.as_str(), error.code.as_str()),
        ("ListKeys", REPEATED_MARKER)
    );
    assert_eq!(report.findings.len(), 30);
    assert_eq!(unique_arns(&report), 30);
    assert_eq!(server.calls_for("ListKeys").len(), 3);
}

#[tokio::test]
async fn a_cut_alias_listing_is_an_error_on_every_key_never_no_aliases() {
    let mut records = keys(3);
    records[0].aliases = Some(vec!["alias/payments".into()]);
    let fault = PagingFault::new(
        "ListAliases",
        REGION,
        0,
        PagingFaultKind::TruncatedWithoutMarker,
    );
    let (_server, source) = setup(records, vec![fault]).await;
    let (report, records) = scan(&source, &ScanRequest::default()).await;

    // Aliases are per key facts: the listing stays complete, every key says what it lacks.
    assert!(report.is_complete(), "{:?}", report.scope_errors);
    assert_eq!(records.len(), 3);
    for record in &records {
        let error = record.error_for(operation::LIST_ALIASES).unwrap();
        assert_eq!(error.code, TRUNCATED_WITHOUT_MARKER);
    }
}

#[tokio::test]
async fn a_cut_tag_listing_is_the_keys_read_error() {
    let fault = PagingFault::new(
        "ListResourceTags",
        REGION,
        1,
        PagingFaultKind::TruncatedWithoutMarker,
    );
    let (_server, source) = setup(keys(3), vec![fault]).await;
    let request = ScanRequest {
        all_tags: true,
        ..ScanRequest::default()
    };
    let (report, records) = scan(&source, &request).await;

    assert!(report.is_complete());
    let failed: Vec<_> = records
        .iter()
        .filter_map(|r| r.error_for(operation::LIST_RESOURCE_TAGS))
        .collect();
    assert_eq!(failed.len(), 1, "the second key's tag page: {records:?}");
    assert_eq!(failed[0].code, TRUNCATED_WITHOUT_MARKER);
}

/// An imported key judged by the age of its last rotation: a history that cannot be read to its
/// end could hide the latest rotation, so the verdict is `error`, not a `fail` from part of it.
#[tokio::test]
async fn a_cut_rotation_history_is_an_error_finding_not_a_verdict() {
    let mut imported = key(1);
    imported.origin = Some(Origin::External);
    imported.rotation = Some(Rotation {
        enabled: false,
        period_days: None,
        next_rotation_date: None,
        on_demand_rotation_start_date: None,
        last_rotation: Some(LastRotation {
            date: "2026-06-01T00:00:00Z".parse().unwrap(),
            rotation_type: RotationType::OnDemand,
        }),
    });
    let fault = PagingFault::new(
        "ListKeyRotations",
        REGION,
        0,
        PagingFaultKind::TruncatedWithoutMarker,
    );
    let (_server, source) = setup(vec![imported], vec![fault]).await;
    let request = ScanRequest {
        policy: Policy {
            imported_key_max_age_days: Some(365),
            ..Policy::default()
        },
        now: Some("2026-09-01T00:00:00Z".parse().unwrap()),
        ..ScanRequest::default()
    };
    let (report, _) = scan(&source, &request).await;
    let [finding] = report.findings.as_slice() else {
        panic!("{:?}", report.findings)
    };
    assert_eq!(finding.status, Status::Error);
    let error = finding.error.as_ref().unwrap();
    assert_eq!(
        (error.operation.as_str(), error.code.as_str()),
        ("ListKeyRotations", TRUNCATED_WITHOUT_MARKER)
    );
}

#[tokio::test]
async fn a_key_listed_twice_is_read_once_and_reported_once() {
    let fault = PagingFault::new("ListKeys", REGION, 0, PagingFaultKind::DuplicateItems);
    let (server, source) = setup(keys(15), vec![fault]).await;
    let (report, _) = scan(&source, &ScanRequest::default()).await;

    assert!(report.is_complete());
    assert_eq!(report.findings.len(), 15);
    assert_eq!(unique_arns(&report), 15);
    assert_eq!(server.calls_for("DescribeKey").len(), 15);
    assert_eq!(
        server
            .calls()
            .iter()
            .filter(|c| c.injected == Some(Injected::DuplicateItems))
            .count(),
        1
    );
}

#[tokio::test]
async fn a_listed_key_with_neither_id_nor_arn_is_an_error_finding() {
    let fault = PagingFault::new("ListKeys", REGION, 0, PagingFaultKind::BlankItem);
    let (server, source) = setup(keys(3), vec![fault]).await;
    let (report, _) = scan(&source, &ScanRequest::default()).await;

    assert_eq!(report.findings.len(), 4, "the blank entry is a key too");
    let unidentified: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.status == Status::Error)
        .collect();
    let [finding] = unidentified.as_slice() else {
        panic!("{:?}", report.findings)
    };
    assert_eq!(finding.reason, Reason::DescribeFailed);
    assert_eq!(finding.error.as_ref().unwrap().code, UNIDENTIFIED_KEY);
    assert_eq!(finding.region, REGION);
    // Nothing was called for it: there is nothing to call with.
    assert_eq!(server.calls_for("DescribeKey").len(), 3);
}

#[tokio::test]
async fn account_ids_are_checked_before_any_call() {
    let (server, source) = setup(keys(1), vec![]).await;
    for bad in ["12345", "1111222233334", "11112222333a", ""] {
        let request = ScanRequest {
            scope: Scope {
                accounts: vec![ACCOUNT.into(), bad.into()],
                regions: vec![],
                shard: None,
                keys: Vec::new(),
            },
            ..ScanRequest::default()
        };
        let err = source.scan(&request).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert_eq!(err.context().field.as_deref(), Some("scope.accounts[1]"));
        assert!(err.to_string().contains(&format!("`{bad}`")), "{err}");
    }
    assert!(server.calls().is_empty(), "{:?}", server.calls());
}

#[tokio::test]
async fn an_account_asked_for_that_is_never_read_is_a_scope_error() {
    let (_server, source) = setup(keys(3), vec![]).await;
    let request = |accounts: &[&str]| ScanRequest {
        scope: Scope {
            accounts: accounts.iter().map(|a| (*a).to_owned()).collect(),
            regions: vec![],
            shard: None,
            keys: Vec::new(),
        },
        ..ScanRequest::default()
    };

    // The credentials read ACCOUNT: OTHER is asked for and never seen.
    let (report, _) = scan(&source, &request(&[ACCOUNT, OTHER])).await;
    assert!(!report.is_complete());
    let [error] = report.scope_errors.as_slice() else {
        panic!("{:?}", report.scope_errors)
    };
    assert_eq!(
        (error.account_id.as_deref(), error.code.as_str()),
        (Some(OTHER), ACCOUNT_NOT_READ)
    );
    assert_eq!(report.findings.len(), 3);

    let (report, _) = scan(&source, &request(&[ACCOUNT])).await;
    assert!(report.is_complete(), "{:?}", report.scope_errors);
}

/// With roles, an asked-for account that has no role is not read at all, and said so.
#[tokio::test]
async fn an_account_without_a_role_is_a_scope_error_without_any_call() {
    let server = KmsTestServer::start(keys(1), Faults::default())
        .await
        .unwrap();
    let options = AwsOptions {
        role_arns: vec![format!("arn:aws:iam::{ACCOUNT}:role/scanner")],
        ..aws_common::options(&[REGION])
    };
    let source = source(&server, options).await;
    let request = ScanRequest {
        scope: Scope {
            accounts: vec![OTHER.into()],
            regions: vec![],
            shard: None,
            keys: Vec::new(),
        },
        ..ScanRequest::default()
    };
    let (report, _) = scan(&source, &request).await;
    assert!(!report.is_complete());
    assert_eq!(report.scope_errors[0].code, ACCOUNT_NOT_READ);
    assert_eq!(report.scope_errors[0].account_id.as_deref(), Some(OTHER));
    assert!(server.calls().is_empty());
}

#[tokio::test]
async fn every_source_reports_a_key_once_and_disagreeing_copies_as_an_error() {
    let mut off = key(2);
    off.rotation.as_mut().unwrap().enabled = false;
    let source = MemorySource::new(vec![key(1), key(2), key(1), off]);
    let report = source.scan(&ScanRequest::default()).await.unwrap();

    assert_eq!(report.findings.len(), 2);
    let by_arn = |n| report.findings.iter().find(|f| f.arn == arn(n)).unwrap();
    assert_eq!(
        by_arn(1).status,
        Status::Pass,
        "identical copies: one finding"
    );
    let conflicted = by_arn(2);
    assert_eq!(conflicted.status, Status::Error, "neither copy is trusted");
    assert_eq!(conflicted.error.as_ref().unwrap().code, CONFLICTING_RECORDS);
}

#[tokio::test]
async fn an_inventory_without_an_asked_for_account_is_incomplete() {
    let source = MemorySource::new(keys(2));
    let request = ScanRequest {
        scope: Scope {
            accounts: vec![OTHER.into()],
            regions: vec![],
            shard: None,
            keys: Vec::new(),
        },
        ..ScanRequest::default()
    };
    let report = source.scan(&request).await.unwrap();
    assert!(report.findings.is_empty());
    assert!(!report.is_complete());
    assert_eq!(report.scope_errors[0].code, ACCOUNT_NOT_READ);
    assert!(report.scope.accounts.is_empty(), "{:?}", report.scope);
}
