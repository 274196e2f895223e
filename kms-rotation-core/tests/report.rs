//! The report: stable order, the summary, and its renderings.
#![allow(clippy::unwrap_used)]

mod common;

use kms_rotation::{
    Finding, Format, KeySourceExt, MemorySource, Policy, Reason, Report, ReportScope, ScanRequest,
    ScopeError, Status,
};

fn now() -> chrono::DateTime<chrono::Utc> {
    "2026-11-22T12:00:00Z".parse().unwrap()
}

fn sample_policy() -> Policy {
    let dir = common::examples_dir();
    let mut policy = Policy::from_file(dir.join("policy.yaml")).unwrap();
    policy
        .add_exceptions_file(dir.join("exceptions.yaml"))
        .unwrap();
    policy
}

fn fleet_report() -> Report {
    Report::evaluate(
        &common::fleet(),
        sample_policy(),
        ReportScope::default(),
        Vec::new(),
        now(),
    )
}

#[test]
fn the_sample_fleet_gets_the_verdicts_of_the_rule() {
    let report = fleet_report();
    let verdict = |alias: &str, region: &str| -> (Status, Reason) {
        let f = report
            .findings
            .iter()
            .find(|f| f.region == region && f.aliases.iter().flatten().any(|a| a == alias))
            .unwrap_or_else(|| panic!("no finding for {alias} in {region}"));
        (f.status, f.reason)
    };
    use Reason::*;
    use Status::*;
    let east = "us-east-1";
    assert_eq!(verdict("alias/payments", east), (Pass, RotationEnabled));
    assert_eq!(verdict("alias/orders", east), (Fail, RotationDisabled));
    assert_eq!(
        verdict("alias/reports", east),
        (Fail, RotationPeriodExceedsPolicy)
    );
    assert_eq!(
        verdict("alias/old-emulator-export", east),
        (Pass, RotationEnabled)
    );
    assert_eq!(
        verdict("alias/signing", east),
        (NotApplicable, UnsupportedKeySpec)
    );
    assert_eq!(
        verdict("alias/webhooks-hmac", east),
        (NotApplicable, UnsupportedKeySpec)
    );
    assert_eq!(
        verdict("alias/byok", east),
        (NotApplicable, ImportedKeyMaterial)
    );
    assert_eq!(verdict("alias/hsm", east), (NotApplicable, CustomKeyStore));
    assert_eq!(verdict("alias/xks", east), (NotApplicable, CustomKeyStore));
    assert_eq!(verdict("alias/aws/s3", east), (NotApplicable, AwsManaged));
    assert_eq!(verdict("alias/aws/acm", east), (NotApplicable, AwsManaged));
    assert_eq!(verdict("alias/paused-app", east), (Fail, RotationDisabled));
    assert_eq!(
        verdict("alias/retired", east),
        (NotApplicable, PendingDeletion)
    );
    // An imported key pending import: row 5 (origin) comes before row 7 (state).
    assert_eq!(
        verdict("alias/byok-pending", east),
        (NotApplicable, ImportedKeyMaterial)
    );
    assert_eq!(
        verdict("alias/global-orders", east),
        (Fail, RotationDisabled)
    );
    assert_eq!(
        verdict("alias/global-orders", "eu-west-1"),
        (Fail, RotationDisabled)
    );
    assert_eq!(
        verdict("alias/locked-down", "eu-west-1"),
        (Error, RotationStatusFailed)
    );
    assert_eq!(
        verdict("alias/legacy-batch", "eu-west-1"),
        (Exempt, RotationDisabled)
    );
    assert_eq!(
        verdict("alias/analytics", "eu-west-1"),
        (Fail, RotationDisabled)
    );
    assert_eq!(
        verdict("alias/data-lake", "us-west-2"),
        (Pass, RotationEnabled)
    );
    assert_eq!(
        verdict("alias/queue", "us-west-2"),
        (Fail, RotationDisabled)
    );

    let describe_failed: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.reason == DescribeFailed)
        .collect();
    assert_eq!(describe_failed.len(), 1);
    assert_eq!(describe_failed[0].status, Error);

    let expired = report
        .findings
        .iter()
        .find(|f| f.aliases.as_deref() == Some(&["alias/analytics".to_owned()][..]))
        .and_then(|f| f.exception.as_ref())
        .unwrap();
    assert!(expired.expired);

    // Both halves of the multi-Region key point the fix at the primary.
    let targets: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.aliases.as_deref() == Some(&["alias/global-orders".to_owned()][..]))
        .map(|f| f.remediation_target.clone().unwrap())
        .collect();
    assert_eq!(targets.len(), 2);
    assert!(
        targets
            .iter()
            .all(|t| t.starts_with("arn:aws:kms:us-east-1:"))
    );
}

#[test]
fn findings_are_ordered_by_account_region_arn_whatever_the_input_order() {
    let mut fleet = common::fleet();
    fleet.reverse();
    let report = Report::evaluate(
        &fleet,
        Policy::default(),
        ReportScope::default(),
        vec![],
        now(),
    );
    let keys: Vec<_> = report
        .findings
        .iter()
        .map(|f| (f.account_id.clone(), f.region.clone(), f.arn.clone()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert_eq!(keys.len(), fleet.len());
}

#[test]
fn the_summary_counts_by_status_reason_region_and_account() {
    let report = fleet_report();
    let s = &report.summary;
    assert_eq!(
        (s.by_status.total, s.by_status.pass, s.by_status.fail),
        (22, 3, 7)
    );
    assert_eq!(
        (
            s.by_status.not_applicable,
            s.by_status.exempt,
            s.by_status.error
        ),
        (9, 1, 2)
    );
    assert_eq!(s.by_reason[&Reason::RotationDisabled], 7);
    assert_eq!(s.by_reason[&Reason::CustomKeyStore], 2);
    assert_eq!(s.by_region["eu-west-1"].total, 4);
    assert_eq!(s.by_region["eu-west-1"].exempt, 1);
    assert_eq!(s.by_account["444455556666"].total, 3);
    let per_region: usize = s.by_region.values().map(|c| c.total).sum();
    assert_eq!(per_region, 22);
    assert!(!s.compliant);
    assert!(s.complete);
}

#[test]
fn compliant_exactly_when_nothing_fails() {
    let passing: Vec<_> = common::fleet()
        .into_iter()
        .filter(|r| {
            let f = kms_rotation::evaluate(r, &sample_policy(), now());
            f.status != Status::Fail
        })
        .collect();
    let report = Report::evaluate(
        &passing,
        sample_policy(),
        ReportScope::default(),
        vec![],
        now(),
    );
    // Errors and exemptions remain, but no fail: compliant.
    assert!(report.summary.by_status.error > 0);
    assert!(report.summary.by_status.exempt > 0);
    assert!(report.is_compliant());
}

#[test]
fn scope_errors_make_the_report_incomplete() {
    let scope_error = ScopeError {
        account_id: Some("111122223333".into()),
        region: Some("ap-south-1".into()),
        operation: "ListKeys".into(),
        code: "AccessDeniedException".into(),
        message: "denied".into(),
    };
    let report = Report::evaluate(
        &common::fleet(),
        Policy::default(),
        ReportScope::default(),
        vec![scope_error],
        now(),
    );
    assert!(!report.is_complete());
    let json: serde_json::Value =
        serde_json::from_str(&report.render_to_string(Format::Json).unwrap()).unwrap();
    assert_eq!(json["summary"]["complete"], false);
    assert_eq!(json["scope_errors"][0]["code"], "AccessDeniedException");
}

#[test]
fn ndjson_is_one_finding_per_line_and_nothing_else() {
    let report = fleet_report();
    let text = report.render_to_string(Format::Ndjson).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), report.findings.len());
    assert!(text.ends_with('\n'));
    for (line, finding) in lines.iter().zip(&report.findings) {
        let parsed: Finding = serde_json::from_str(line).unwrap();
        assert_eq!(&parsed, finding);
    }
}

#[test]
fn json_has_the_public_shape_and_round_trips() {
    let report = fleet_report();
    let text = report.render_to_string(Format::Json).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    for field in [
        "schema_version",
        "generated_at",
        "policy",
        "scope",
        "summary",
        "findings",
        "scope_errors",
    ] {
        assert!(json.get(field).is_some(), "missing {field}");
    }
    assert_eq!(json["schema_version"], 1);
    assert_eq!(json["summary"]["by_status"]["not_applicable"], 9);
    assert_eq!(json["summary"]["by_reason"]["rotation_disabled"], 7);
    let finding = &json["findings"][0];
    for field in [
        "arn",
        "account_id",
        "region",
        "key_id",
        "status",
        "reason",
        "remediable",
        "remediation_target",
    ] {
        assert!(finding.get(field).is_some(), "finding lacks {field}");
    }
    let back: Report = serde_json::from_str(&text).unwrap();
    assert_eq!(back, report);
}

#[tokio::test]
async fn a_scan_reports_its_scope() {
    let source = MemorySource::new(common::fleet());
    let report = source.scan(&ScanRequest::default()).await.unwrap();
    assert_eq!(report.scope.source, "memory");
    assert_eq!(
        report.scope.regions,
        ["eu-west-1", "us-east-1", "us-west-2"]
    );
    assert_eq!(report.scope.accounts, ["111122223333", "444455556666"]);
}

// A saved report is a file a user may have edited: what can be recomputed is.

fn saved(report: &Report) -> serde_json::Value {
    serde_json::to_value(report).unwrap()
}

fn reloaded(value: serde_json::Value) -> kms_rotation::Result<Report> {
    serde_json::from_value::<Report>(value).unwrap().rechecked()
}

#[test]
fn an_unedited_report_rechecks_to_itself() {
    let report = fleet_report();
    assert_eq!(reloaded(saved(&report)).unwrap(), report);
}

#[test]
fn an_edited_verdict_is_refused_naming_the_finding_and_field() {
    let report = fleet_report();
    let i = report
        .findings
        .iter()
        .position(|f| f.status == Status::Exempt)
        .unwrap();
    for (field, value) in [
        ("status", serde_json::json!("fail")),
        ("remediable", serde_json::json!(true)),
        ("exception", serde_json::Value::Null),
        // Derived from the verdict, and as easy to edit: played down, they would hide the key.
        ("severity", serde_json::json!("informational")),
        ("controls", serde_json::json!([])),
        (
            "message",
            serde_json::json!("rotates automatically every 365 days"),
        ),
    ] {
        let mut edited = saved(&report);
        edited["findings"][i][field] = value;
        let err = reloaded(edited).unwrap_err();
        assert_eq!(err.kind(), kms_rotation::ErrorKind::InvalidInput);
        assert_eq!(
            err.context().field.as_deref(),
            Some(format!("findings[{i}].{field}").as_str()),
            "{err}"
        );
        assert!(err.message().contains("edited"), "{err}");
    }
    // A pass turned into a remediable fail would plan a write the evidence does not call for.
    let j = report
        .findings
        .iter()
        .position(|f| f.status == Status::Pass)
        .unwrap();
    let mut edited = saved(&report);
    edited["findings"][j]["status"] = serde_json::json!("fail");
    edited["findings"][j]["reason"] = serde_json::json!("rotation_disabled");
    edited["findings"][j]["remediable"] = serde_json::json!(true);
    assert!(reloaded(edited).is_err());
}

#[test]
fn another_schema_version_or_a_key_listed_twice_is_refused() {
    let report = fleet_report();
    let mut edited = saved(&report);
    edited["schema_version"] = serde_json::json!(2);
    let err = reloaded(edited).unwrap_err();
    assert_eq!(err.context().field.as_deref(), Some("schema_version"));

    let mut edited = saved(&report);
    let first = edited["findings"][0].clone();
    edited["findings"].as_array_mut().unwrap().push(first);
    let err = reloaded(edited).unwrap_err();
    assert!(err.message().contains("more than one finding"), "{err}");
}

#[test]
fn the_summary_is_recomputed_not_trusted() {
    let report = Report::evaluate(
        &common::fleet(),
        sample_policy(),
        ReportScope::default(),
        vec![ScopeError {
            account_id: Some("111122223333".into()),
            region: Some("ap-south-1".into()),
            operation: "ListKeys".into(),
            code: "AccessDeniedException".into(),
            message: String::new(),
        }],
        now(),
    );
    let mut edited = saved(&report);
    edited["summary"]["complete"] = serde_json::json!(true);
    edited["summary"]["compliant"] = serde_json::json!(true);
    let rechecked = reloaded(edited).unwrap();
    assert!(!rechecked.is_complete());
    assert!(!rechecked.is_compliant());
}

/// Records whose order is easy to get wrong: ARNs sharing prefixes of every length (one the
/// prefix of another, some differing only far past their shared prefix), two partitions,
/// several accounts and regions, two records without an ARN, all in a scrambled order.
fn awkward_records() -> Vec<kms_rotation::KeyRecord> {
    let template = common::fleet()[0].clone();
    let ids = [
        "a",
        "ab",
        "abc",
        "b",
        "B",
        "mrk-1",
        "mrk-10",
        "mrk-2",
        "00000000-0000-4000-8000-000000000001",
        "00000000-0000-4000-8000-000000000002",
        "00000000-0000-4000-8000-0000000000010",
        "00000000-0000-4000-8000-00000000000",
    ];
    let mut records = Vec::new();
    for account in ["444455556666", "111122223333"] {
        for (partition, region) in [
            ("aws", "us-east-1"),
            ("aws", "eu-west-1"),
            ("aws-cn", "cn-north-1"),
        ] {
            for id in ids {
                let mut record = template.clone();
                record.arn = format!("arn:{partition}:kms:{region}:{account}:key/{id}");
                record.account_id = account.to_owned();
                record.region = region.to_owned();
                record.key_id = id.to_owned();
                records.push(record);
            }
        }
    }
    for id in ["no-arn-2", "no-arn-1"] {
        let mut record = template.clone();
        record.arn = String::new();
        record.key_id = id.to_owned();
        records.push(record);
    }
    // A fixed scramble: 31 is prime to the count, so every record comes once.
    let n = records.len();
    (0..n).map(|i| records[i * 31 % n].clone()).collect()
}

#[test]
fn an_owned_evaluation_orders_and_judges_as_the_plain_sort_does() {
    let records = awkward_records();
    let policy = sample_policy();
    let mut expected: Vec<Finding> = records
        .iter()
        .map(|r| kms_rotation::evaluate(r, &policy, now()))
        .collect();
    // Stable: the two records without an ARN keep their order.
    expected.sort_by(|a, b| {
        (&a.account_id, &a.region, &a.arn).cmp(&(&b.account_id, &b.region, &b.arn))
    });
    let owned = Report::from_records(
        records.clone(),
        policy.clone(),
        ReportScope::default(),
        vec![],
        now(),
    );
    assert_eq!(owned.findings, expected);
    let borrowed = Report::evaluate(&records, policy, ReportScope::default(), vec![], now());
    assert_eq!(
        serde_json::to_string(&owned).unwrap(),
        serde_json::to_string(&borrowed).unwrap()
    );
}

#[test]
fn the_summary_counts_findings_in_any_order() {
    let report = Report::evaluate(
        &awkward_records(),
        sample_policy(),
        ReportScope::default(),
        vec![],
        now(),
    );
    // Scrambled, so that regions and accounts come back after others.
    let n = report.findings.len();
    let scrambled: Vec<Finding> = (0..n).map(|i| report.findings[i * 7 % n].clone()).collect();
    let summary = kms_rotation::Summary::of(&scrambled, &[]);
    assert_eq!(summary, report.summary);
    let mut by_region = std::collections::BTreeMap::<String, usize>::new();
    for f in &scrambled {
        *by_region.entry(f.region.clone()).or_default() += 1;
    }
    for (region, total) in by_region {
        assert_eq!(summary.by_region[&region].total, total, "{region}");
    }
    let fails = scrambled
        .iter()
        .filter(|f| f.status == Status::Fail)
        .count();
    let per_account: usize = summary.by_account.values().map(|c| c.fail).sum();
    assert_eq!(per_account, fails);
    assert_eq!(summary.by_status.total, n);
}
