//! Merging the reports of a scan split over several jobs: the same findings as one scan, and
//! every way parts can disagree refused, naming the part.
#![allow(clippy::unwrap_used)]

#[cfg(all(feature = "aws", feature = "cli"))]
mod aws_common;
mod common;

use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use kms_rotation::ops::{MergeOptions, merge};
use kms_rotation::{
    ErrorKind, KeySourceExt, MemorySource, Policy, Report, SHARD_MISSING, ScanRequest, Scope,
    ScopeError, Shard,
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
                keys: Vec::new(),
            },
            policy: policy.clone(),
            now: Some(now),
            ..ScanRequest::default()
        })
        .await
        .unwrap()
}

/// The sample fleet's shard `index` of `count`, at `now`.
async fn shard(index: u32, count: u32) -> Report {
    MemorySource::new(common::fleet())
        .scan(&ScanRequest {
            scope: Scope {
                shard: Some(Shard { index, count }),
                ..Scope::default()
            },
            now: Some(now()),
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
async fn the_shards_of_a_split_merge_into_the_report_of_one_scan() {
    let whole = part(&[], &Policy::default(), now()).await;
    for count in [1, 2, 3, 5] {
        let mut parts = Vec::new();
        for index in 0..count {
            let part = shard(index, count).await;
            assert_eq!(part.scope.shard, Some(Shard { index, count }));
            // Every account of the fleet is read in every shard, so none is reported unread.
            assert!(part.scope_errors.is_empty(), "{:?}", part.scope_errors);
            parts.push(part);
        }
        let sizes: Vec<usize> = parts.iter().map(|p| p.findings.len()).collect();
        let merged = merged(parts).unwrap();
        assert_eq!(merged.findings, whole.findings, "{count}: {sizes:?}");
        assert_eq!(merged.summary, whole.summary);
        assert_eq!(merged.scope.shard, None);
        assert!(merged.is_complete());
        assert_eq!(merged.clone().rechecked().unwrap(), merged);
    }
}

#[tokio::test]
async fn a_missing_shard_makes_the_merged_report_incomplete_naming_it() {
    let merged = merged(vec![shard(0, 3).await, shard(2, 3).await]).unwrap();
    assert!(!merged.is_complete());
    let [missing] = merged.scope_errors.as_slice() else {
        panic!("{:?}", merged.scope_errors)
    };
    assert_eq!(missing.code, SHARD_MISSING);
    assert!(missing.message.contains("shard 1/3"), "{}", missing.message);
    // A missing shard leaves every pair in doubt for diff and exceptions: no account, no region.
    assert_eq!((&missing.account_id, &missing.region), (&None, &None));
}

#[tokio::test]
async fn shards_of_different_splits_twice_or_with_other_parts_are_refused() {
    let refused = |parts: Vec<Report>, field: &str, words: &str| {
        let err = merged(parts).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert_eq!(err.context().field.as_deref(), Some(field), "{err}");
        assert!(err.message().contains(words), "{err}");
    };
    refused(
        vec![shard(0, 2).await, shard(1, 3).await],
        "reports[1].scope.shard",
        "merge the shards of one split",
    );
    refused(
        vec![shard(0, 2).await, shard(0, 2).await],
        "reports[1].scope.shard",
        "given twice",
    );
    refused(
        vec![
            shard(0, 2).await,
            part(&["ap-south-2"], &Policy::default(), now()).await,
        ],
        "reports[1].scope.shard",
        "not a shard",
    );
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

/// The CLI scans moto in shards (`--shard i/3`, the default credentials' account learnt from
/// STS), `merge` makes one report of them with the findings of one scan, and a merge missing a
/// shard is incomplete (exit 3), naming it.
#[cfg(all(feature = "aws", feature = "cli"))]
#[tokio::test]
async fn cli_shards_scanned_on_moto_merge_into_one_scan() {
    let Some(url) = aws_common::moto_url() else {
        return;
    };
    let _moto = aws_common::exclusive_moto(&url).await;
    let sdk = aws_common::sdk_config(&url, "AKIDMOTOTEST").await;
    let regions = ["eu-west-1", "us-east-1", "us-west-2", "ap-south-1"];
    for (i, region) in regions.iter().enumerate() {
        let kms = kms_rotation::aws::kms_client(&sdk, region, None);
        for _ in 0..=i {
            kms.create_key().send().await.unwrap();
        }
    }
    let at = (chrono::Utc::now() + Duration::minutes(1)).to_rfc3339();
    let at = at.as_str();
    let scan = |shard: Option<String>, name: &str| {
        let path = common::scratch(name);
        let mut command = common::cli();
        command.args([
            "scan",
            "--endpoint-url",
            &url,
            "--now",
            at,
            "-q",
            "--format",
            "json",
        ]);
        for region in regions {
            command.args(["--region", region]);
        }
        if let Some(shard) = shard {
            command.args(["--shard", &shard]);
        }
        let out = command.arg("-o").arg(&path).output().unwrap();
        assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
        path
    };
    let whole = Report::from_file(scan(None, "moto-whole.json")).unwrap();
    assert_eq!(whole.findings.len(), 10);
    let parts: Vec<_> = (0..3)
        .map(|i| scan(Some(format!("{i}/3")), &format!("moto-shard-{i}.json")))
        .collect();
    let out_file = common::scratch("moto-merged.json");
    let out = common::cli()
        .arg("merge")
        .args(&parts)
        .args(["--format", "json", "-q", "-o"])
        .arg(&out_file)
        .output()
        .unwrap();
    let code = if whole.is_compliant() { 0 } else { 1 };
    assert_eq!(out.status.code(), Some(code), "{out:?}");
    let merged = Report::from_file(&out_file).unwrap();
    assert_eq!(merged.findings, whole.findings);
    assert!(merged.is_complete());

    let out = common::cli()
        .arg("merge")
        .args(&parts[..2])
        .args(["--format", "json", "-q"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("shard 2/3"), "{stdout}");

    let out = common::cli()
        .args(["scan", "--shard", "3/3", "--region", "eu-west-1", "-q"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--shard"), "{stderr}");
}
