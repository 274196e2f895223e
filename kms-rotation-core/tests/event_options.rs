//! `ops::event`'s options: defaults, camelCase aliases, and the checks that name their field,
//! all made before anything is read; and the re-check of an inventory's keys, offline.
#![allow(clippy::unwrap_used)]

mod common;

use kms_rotation::ErrorKind;
use kms_rotation::ops::{self, EventOptions, ScanOptions};
use serde_json::json;

fn sample(name: &str) -> serde_json::Value {
    let path = common::examples_dir().join(format!("events/{name}.json"));
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn offline(event: serde_json::Value) -> EventOptions {
    EventOptions {
        event: Some(event),
        scan: ScanOptions {
            inventory: Some(common::examples_dir().join("fleet.json")),
            ..ScanOptions::default()
        },
        ..EventOptions::default()
    }
}

#[test]
fn a_remediation_is_a_dry_run_by_default_and_camel_case_is_accepted() {
    let options = EventOptions::default();
    assert!(options.dry_run);
    assert!(!options.remediate);
    let camel: EventOptions = serde_json::from_value(json!({
        "eventFile": "e.json", "dryRun": false, "targetPeriodDays": 180, "remediate": true
    }))
    .unwrap();
    assert_eq!(camel.event_file.unwrap().to_str(), Some("e.json"));
    assert!(!camel.dry_run);
    assert_eq!(camel.target_period_days, Some(180));
    assert!(serde_json::from_value::<EventOptions>(json!({"dry-run": false})).is_err());
}

#[tokio::test]
async fn the_checks_name_their_field_before_anything_is_read() {
    let field = |options: EventOptions| async move {
        let err = ops::event(options, None).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        err.context().field.clone().unwrap()
    };
    assert_eq!(field(EventOptions::default()).await, "event");
    let mut both = offline(sample("enable-key"));
    both.event_file = Some("x.json".into());
    assert_eq!(field(both).await, "event_file");
    let mut bad_region = offline(sample("enable-key"));
    bad_region.scan.regions = vec!["us-esat-1".into()];
    assert!(field(bad_region).await.starts_with("scan.regions"));
    let mut bad_account = offline(sample("enable-key"));
    bad_account.scan.accounts = vec!["1111".into()];
    assert!(field(bad_account).await.starts_with("scan.accounts"));
    let mut journal_alone = offline(sample("enable-key"));
    journal_alone.journal = Some("j.ndjson".into());
    assert_eq!(field(journal_alone).await, "remediate");
    let mut writes_offline = offline(sample("enable-key"));
    writes_offline.remediate = true;
    writes_offline.dry_run = false;
    assert_eq!(field(writes_offline).await, "remediate");
    assert_eq!(
        field(offline(sample("malformed"))).await,
        "event.detail.requestParameters.keyId"
    );
}

#[tokio::test]
async fn an_inventory_re_check_keeps_only_the_touched_keys_and_plans_their_fix() {
    let mut options = offline(sample("disable-key-rotation"));
    options.remediate = true;
    let outcome = ops::event(options, None).await.unwrap();
    let report = outcome.report.unwrap();
    assert_eq!(report.findings.len(), 1);
    assert_eq!(
        report.findings[0].key_id,
        "00000002-0000-4000-8000-000000000002"
    );
    let plan = outcome.plan.unwrap();
    assert_eq!(plan.actions.len(), 1);
    let remediation = outcome.remediation.unwrap();
    assert!(remediation.dry_run);
    assert!(outcome.not_found.is_empty());

    let ignored = ops::event(offline(sample("unrelated")), None)
        .await
        .unwrap();
    assert!(ignored.ignored.is_some());
    assert!(ignored.report.is_none() && ignored.keys.is_empty());
}

#[tokio::test]
async fn regions_and_accounts_keep_only_the_keys_within_them() {
    // ReplicateKey touches the primary (us-east-1) and the replica (eu-west-1).
    let mut options = offline(sample("replicate-key"));
    options.scan.regions = vec!["eu-west-1".into()];
    let outcome = ops::event(options, None).await.unwrap();
    let regions: Vec<&str> = outcome.keys.iter().map(|k| k.region.as_str()).collect();
    assert_eq!(regions, ["eu-west-1"]);
    assert_eq!(outcome.report.unwrap().findings.len(), 1);

    let mut elsewhere = offline(sample("disable-key-rotation"));
    elsewhere.scan.accounts = vec!["444455556666".into()];
    let outcome = ops::event(elsewhere, None).await.unwrap();
    assert!(
        outcome
            .ignored
            .unwrap()
            .contains("111122223333 / us-east-1"),
        "the reason names where the keys are"
    );
}
