//! What every `KeySource` must do, whatever it reads from. Run it against each implementation
//! with the records the source was seeded with.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use kms_rotation::source::{ProgressUpdate, ReadRequest, Scope};
use kms_rotation::{KeyRecord, KeySource, KeySourceExt, Policy, ScanRequest};

fn arns<'a>(records: impl IntoIterator<Item = &'a KeyRecord>) -> BTreeSet<String> {
    records.into_iter().map(|r| r.arn.clone()).collect()
}

/// Runs every check against `source`, which holds exactly `seeded`.
pub async fn run(source: &dyn KeySource, seeded: &[KeyRecord]) {
    every_key_once(source, seeded).await;
    region_scope(source, seeded).await;
    account_scope(source, seeded).await;
    empty_scope(source).await;
    key_scope(source, seeded).await;
    progress_reaches_the_total(source, seeded).await;
    one_finding_per_key(source, seeded).await;
}

async fn every_key_once(source: &dyn KeySource, seeded: &[KeyRecord]) {
    let collected = source.read_all().await.unwrap();
    assert_eq!(
        collected.records.len(),
        seeded.len(),
        "no key lost or doubled"
    );
    assert_eq!(arns(&collected.records), arns(seeded));
    assert!(collected.scope_errors.is_empty());
    let regions: BTreeSet<_> = seeded.iter().map(|r| r.region.clone()).collect();
    assert!(regions.iter().all(|r| collected.regions.contains(r)));
}

async fn region_scope(source: &dyn KeySource, seeded: &[KeyRecord]) {
    let region = seeded[seeded.len() - 1].region.clone();
    let request = ReadRequest {
        scope: Scope {
            regions: vec![region.clone()],
            ..Scope::default()
        },
        ..ReadRequest::default()
    };
    let collected = source.read(&request).await.unwrap();
    let expected = arns(seeded.iter().filter(|r| r.region == region));
    assert_eq!(arns(&collected.records), expected);
    assert_eq!(collected.regions, vec![region]);
}

async fn account_scope(source: &dyn KeySource, seeded: &[KeyRecord]) {
    let account = seeded[0].account_id.clone();
    let request = ReadRequest {
        scope: Scope {
            accounts: vec![account.clone()],
            ..Scope::default()
        },
        ..ReadRequest::default()
    };
    let collected = source.read(&request).await.unwrap();
    let expected = arns(seeded.iter().filter(|r| r.account_id == account));
    assert_eq!(arns(&collected.records), expected);
}

async fn empty_scope(source: &dyn KeySource) {
    let request = ReadRequest {
        scope: Scope {
            regions: vec!["ap-southeast-7".into()],
            ..Scope::default()
        },
        ..ReadRequest::default()
    };
    let collected = source.read(&request).await.unwrap();
    assert!(collected.records.is_empty());
    assert!(collected.scope_errors.is_empty());
}

/// Named keys are the only ones read (how `event` re-checks a few keys of a large region).
async fn key_scope(source: &dyn KeySource, seeded: &[KeyRecord]) {
    let named = [&seeded[0], &seeded[seeded.len() - 1]];
    let request = ReadRequest {
        scope: Scope {
            accounts: named.iter().map(|r| r.account_id.clone()).collect(),
            regions: named.iter().map(|r| r.region.clone()).collect(),
            keys: named.iter().map(|r| r.arn.clone()).collect(),
            ..Scope::default()
        },
        ..ReadRequest::default()
    };
    let collected = source.read(&request).await.unwrap();
    assert_eq!(arns(&collected.records), arns(named));
    assert!(
        collected.scope_errors.is_empty(),
        "{:?}",
        collected.scope_errors
    );
}

async fn progress_reaches_the_total(source: &dyn KeySource, seeded: &[KeyRecord]) {
    let seen: Arc<Mutex<Vec<ProgressUpdate>>> = Arc::default();
    let sink = seen.clone();
    let request = ReadRequest {
        progress: Some(Arc::new(move |update| sink.lock().unwrap().push(update))),
        ..ReadRequest::default()
    };
    source.read(&request).await.unwrap();
    let seen = seen.lock().unwrap();
    let last = seen.last().expect("progress was reported");
    assert_eq!(last.keys_listed, seeded.len());
    assert_eq!(last.keys_read, seeded.len());
    assert!(
        seen.windows(2).all(|w| w[0].keys_read <= w[1].keys_read),
        "progress only grows"
    );
}

async fn one_finding_per_key(source: &dyn KeySource, seeded: &[KeyRecord]) {
    let report = source
        .scan(&ScanRequest {
            policy: Policy::default(),
            ..ScanRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(report.findings.len(), seeded.len());
    let found: BTreeSet<String> = report.findings.iter().map(|f| f.arn.clone()).collect();
    assert_eq!(found, arns(seeded));
    assert_eq!(report.scope.source, source.name());
}
