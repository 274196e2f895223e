//! Merging the reports of a scan split over several jobs: the same findings as one scan, and
//! every way parts can disagree refused, naming the part.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use kms_rotation::ops::{MergeOptions, merge};
use kms_rotation::{
    ErrorKind, KeySourceExt, MemorySource, Policy, Report, ScanRequest, Scope, ScopeError,
};

fn now() -> DateTime<Utc> {
    "2026-11-22T12:00:00Z".parse().unwrap()
}

/// The sample fleet scanned as one part per set of regions, at `now`.
async fn part(regions: &[&str], policy: &Policy, now: DateTime<Utc>) -> Report {
    let source = MemorySource::new(common::fleet());
    source
        .scan(&ScanRequest {
            scope: Scope {
                accounts: Vec::new(),
                regions: regions.iter().map(|r| (*r).to_owned()).collect(),
                shard: None,
            },
            policy: policy.clone(),
            now: Some(now),
            ..ScanRequest::default()
        })
        .await
        .unwrap()
}

fn merged(parts: Vec<Report>) -> kms_rotation::Result<Report> {
    merge(MergeOptions {
        reports: parts,
        ..MergeOptions::default()
    })
}

#[tokio::test]
async fn parts_by_region_merge_into_the_report_of_one_scan() {
    let policy = Policy::default();
    let whole = part(&[], &policy, now()).await;
    let parts = vec![
        part(&["us-west-2"], &policy, now()).await,
        part(&["us-east-1"], &policy, now()).await,
        part(&["eu-west-1"], &policy, now()).await,
    ];
    assert!(
        parts.iter().all(|p| !p.findings.is_empty()),
        "every part has keys"
    );
    let merged = merged(parts).unwrap();
    assert_eq!(merged.findings, whole.findings);
    assert_eq!(merged.summary, whole.summary);
    assert_eq!(merged.generated_at, whole.generated_at);
    assert_eq!(merged.scope.regions, whole.scope.regions);
    assert_eq!(merged.scope.accounts, whole.scope.accounts);
    // The merged report is a report like any other: rechecked, it stands.
    assert_eq!(merged.clone().rechecked().unwrap(), merged);
}

#[tokio::test]
async fn overlapping_parts_are_refused_naming_the_part() {
    let policy = Policy::default();
    let east = part(&["us-east-1"], &policy, now()).await;
    let both = part(&["us-east-1", "eu-west-1"], &policy, now()).await;
    let err = merged(vec![east, both]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(err.context().field.as_deref(), Some("reports[1]"));
    assert!(err.message().contains("us-east-1"), "{err}");
    assert!(err.message().contains("must not overlap"), "{err}");
}

#[tokio::test]
async fn parts_under_different_policies_are_refused() {
    let east = part(&["us-east-1"], &Policy::default(), now()).await;
    let stricter = Policy {
        max_rotation_period_days: kms_rotation::RotationPeriod::new(180).unwrap(),
        target_rotation_period_days: kms_rotation::RotationPeriod::new(180).unwrap(),
        ..Policy::default()
    };
    let west = part(&["eu-west-1"], &stricter, now()).await;
    let err = merged(vec![east, west]).unwrap_err();
    assert_eq!(err.context().field.as_deref(), Some("reports[1].policy"));
}

#[tokio::test]
async fn parts_scanned_at_different_times_merge_at_the_earliest_unless_a_verdict_differs() {
    let policy = Policy::default();
    // A day apart, no verdict of the fleet changes: merged at the earlier time.
    let east = part(&["us-east-1"], &policy, now()).await;
    let west = part(&["eu-west-1"], &policy, now() + Duration::days(1)).await;
    let report = merged(vec![west, east]).unwrap();
    assert_eq!(report.generated_at, now());

    // Across the expiry of the sample's active exception (2030-12-31), a verdict differs.
    let mut with_exceptions = policy.clone();
    with_exceptions
        .add_exceptions_file(common::examples_dir().join("exceptions.yaml"))
        .unwrap();
    let before: DateTime<Utc> = "2030-12-31T12:00:00Z".parse().unwrap();
    let after = before + Duration::days(2);
    let east = part(&["us-east-1"], &with_exceptions, before).await;
    let west = part(&["eu-west-1"], &with_exceptions, after).await;
    let err = merged(vec![east, west]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let field = err.context().field.clone().unwrap();
    assert!(field.starts_with("reports[1].findings["), "{field}");
    assert!(err.message().contains("same --now"), "{err}");
}

#[tokio::test]
async fn an_incomplete_part_makes_the_merged_report_incomplete() {
    let policy = Policy::default();
    let east = part(&["us-east-1"], &policy, now()).await;
    let mut west = part(&["eu-west-1"], &policy, now()).await;
    west.scope_errors.push(ScopeError {
        account_id: Some("111122223333".into()),
        region: Some("ap-south-2".into()),
        operation: "ListKeys".into(),
        code: "AccessDeniedException".into(),
        message: "denied".into(),
    });
    let west = Report::new(
        west.findings,
        west.policy,
        west.scope,
        west.scope_errors,
        now(),
    );
    let report = merged(vec![east, west]).unwrap();
    assert!(!report.is_complete());
    assert_eq!(report.scope_errors.len(), 1);
}

#[tokio::test]
async fn nothing_to_merge_and_edited_files_are_refused_naming_the_file() {
    let err = merged(Vec::new()).unwrap_err();
    assert_eq!(err.context().field.as_deref(), Some("reports"));

    let policy = Policy::default();
    let east = part(&["us-east-1"], &policy, now()).await;
    let path = common::scratch("merge-edited.json");
    let mut json = serde_json::to_value(&east).unwrap();
    json["findings"][1]["status"] = "pass".into(); // a failing key
    std::fs::write(&path, json.to_string()).unwrap();
    let err = merge(MergeOptions {
        report_files: vec![path.clone()],
        ..MergeOptions::default()
    })
    .unwrap_err();
    assert_eq!(err.context().file.as_deref(), Some(path.as_path()));

    // A refusal about a part given as a file names the file.
    let twice = common::scratch("merge-twice.json");
    std::fs::write(&twice, serde_json::to_string(&east).unwrap()).unwrap();
    let err = merge(MergeOptions {
        reports: vec![east],
        report_files: vec![twice.clone()],
    })
    .unwrap_err();
    assert_eq!(err.context().field.as_deref(), Some("reports[1]"));
    assert_eq!(err.context().file.as_deref(), Some(twice.as_path()));
}

fn write(report: &Report, name: &str) -> std::path::PathBuf {
    let path = common::scratch(name);
    std::fs::write(&path, serde_json::to_string(report).unwrap()).unwrap();
    path
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[tokio::test]
async fn the_cli_merges_parts_with_the_exit_code_of_a_scan() {
    let policy = Policy::default();
    let whole = part(&[], &policy, now()).await;
    let east = write(
        &part(&["us-east-1"], &policy, now()).await,
        "merge-east.json",
    );
    let rest = write(
        &part(&["eu-west-1", "us-west-2"], &policy, now()).await,
        "merge-rest.json",
    );
    let out_file = common::scratch("merged.json");
    let out = common::cli()
        .args([
            "merge",
            s(&east),
            s(&rest),
            "--format",
            "json",
            "-o",
            s(&out_file),
            "-q",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "the fleet fails: {out:?}");
    let merged = Report::from_file(&out_file).unwrap();
    assert_eq!(merged.findings, whole.findings);

    let out = common::cli()
        .args(["merge", s(&east), s(&east), "-q"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("must not overlap"), "{stderr}");
    assert!(
        stderr.contains("merge-east.json"),
        "names the file: {stderr}"
    );

    let out = common::cli().args(["merge"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "a report is required");
}

/// The scheduler examples (GitHub Actions matrix, Kubernetes Indexed Job) are valid YAML, scan
/// each part with one shared `--now`, and merge the parts. (The Step Functions example runs its
/// Lambda handlers in the Python tests.)
#[test]
fn the_scheduler_examples_parse_and_merge_parts_scanned_with_one_now() {
    use serde::Deserialize;
    let dir = common::examples_dir().join("schedulers");
    for name in ["github-actions.yml", "k8s-indexed-job.yaml"] {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        let documents: Vec<serde_json::Value> = serde_yaml_ng::Deserializer::from_str(&text)
            .map(|document| serde_json::Value::deserialize(document).unwrap())
            .collect();
        assert!(!documents.is_empty(), "{name}");
        let commands: Vec<&str> = text
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .filter_map(|l| l.find("kms-rotation ").map(|at| &l[at..]))
            .collect();
        let scan = commands
            .iter()
            .find(|c| c.starts_with("kms-rotation scan"))
            .unwrap();
        assert!(scan.contains("--now"), "{name}: {scan}");
        assert!(
            commands.iter().any(|c| c.starts_with("kms-rotation merge")),
            "{name}: {commands:?}"
        );
    }
    let machine: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("step-functions.asl.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(machine["States"]["ScanEachPart"]["Type"], "Map");
}
