//! The ASFF rendering: every field BatchImportFindings requires, on every finding of a fleet
//! with every status; a stable id per key; the status, state and severity mappings of
//! docs/formats.md; and Security Hub's limits on text.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashSet;

use kms_rotation::{Format, Status};
use serde_json::Value;

fn now() -> chrono::DateTime<chrono::Utc> {
    "2026-11-22T12:00:00Z".parse().unwrap()
}

fn asff(report: &kms_rotation::Report) -> Vec<Value> {
    serde_json::from_str(&report.render_to_string(Format::Asff).unwrap()).unwrap()
}

/// The top-level attributes Security Hub requires of an imported finding.
const REQUIRED: [&str; 12] = [
    "AwsAccountId",
    "CreatedAt",
    "Description",
    "GeneratorId",
    "Id",
    "ProductArn",
    "Resources",
    "SchemaVersion",
    "Severity",
    "Title",
    "Types",
    "UpdatedAt",
];

#[test]
fn every_finding_has_every_required_field_and_a_stable_unique_id() {
    let report = common::fleet_report(now());
    let findings = asff(&report);
    assert_eq!(findings.len(), report.findings.len());
    let mut ids = HashSet::new();
    for (finding, ours) in findings.iter().zip(&report.findings) {
        for field in REQUIRED {
            let value = &finding[field];
            assert!(
                !value.is_null() && value != "" && value != &Value::Array(vec![]),
                "{field} missing for {}",
                ours.arn
            );
        }
        assert_eq!(finding["SchemaVersion"], "2018-10-08");
        let id = finding["Id"].as_str().unwrap();
        assert_eq!(id, format!("{}/kms-rotation/KMS.4", ours.arn));
        assert!(id.len() <= 512);
        assert!(ids.insert(id.to_owned()), "{id} twice");
        let account = &ours.account_id;
        assert_eq!(
            finding["ProductArn"],
            format!(
                "arn:aws:securityhub:{}:{account}:product/{account}/default",
                ours.region
            )
        );
        assert_eq!(finding["AwsAccountId"], account.as_str());
        assert_eq!(finding["CreatedAt"], "2026-11-22T12:00:00.000Z");
        let resource = &finding["Resources"][0];
        assert_eq!(resource["Type"], "AwsKmsKey");
        assert_eq!(resource["Id"], ours.arn.as_str());
        assert_eq!(resource["Region"], ours.region.as_str());
        assert_eq!(
            resource["Details"]["AwsKmsKey"]["KeyId"],
            ours.key_id.as_str()
        );
        assert!(finding["Title"].as_str().unwrap().chars().count() <= 256);
        assert!(finding["Description"].as_str().unwrap().chars().count() <= 1024);
        // Severity, as Security Hub wants a provider to keep it updatable.
        assert_eq!(
            finding["FindingProviderFields"]["Severity"],
            finding["Severity"]
        );
        assert_eq!(
            finding["Severity"]["Original"],
            ours.severity.as_str(),
            "{}",
            ours.arn
        );
        assert_eq!(
            finding["Compliance"]["StatusReasons"][0]["ReasonCode"],
            ours.reason.as_str()
        );
    }
    // The fleet has every status, so every mapping below was exercised.
    let statuses: HashSet<Status> = report.findings.iter().map(|f| f.status).collect();
    assert_eq!(statuses.len(), Status::ALL.len());
}

#[test]
fn compliance_status_record_state_and_remediation_follow_the_status() {
    let report = common::fleet_report(now());
    for (finding, ours) in asff(&report).iter().zip(&report.findings) {
        let (compliance, state) = match ours.status {
            Status::Pass => ("PASSED", "ARCHIVED"),
            Status::NotApplicable => ("NOT_AVAILABLE", "ARCHIVED"),
            Status::Fail | Status::Exempt => ("FAILED", "ACTIVE"),
            Status::Error => ("NOT_AVAILABLE", "ACTIVE"),
        };
        assert_eq!(finding["Compliance"]["Status"], compliance, "{}", ours.arn);
        assert_eq!(finding["RecordState"], state, "{}", ours.arn);
        let fix = &finding["Remediation"]["Recommendation"]["Text"];
        match ours.status {
            Status::Fail | Status::Exempt => {
                let text = fix.as_str().unwrap();
                assert!(text.chars().count() <= 512, "{text}");
                assert!(text.contains("aws kms") || text.contains("kms-rotation explain"));
            }
            _ => assert!(fix.is_null(), "{}", ours.arn),
        }
        let exposure = &finding["ProductFields"]["kms-rotation/exposure"];
        match &ours.exposure {
            Some(e) => assert_eq!(exposure, e.level.as_str(), "{}", ours.arn),
            None => assert!(exposure.is_null(), "{}", ours.arn),
        }
        if ours.status == Status::Exempt {
            let owner = &ours.exception.as_ref().unwrap().owner;
            assert_eq!(
                finding["ProductFields"]["kms-rotation/exception_owner"],
                owner.as_str()
            );
        }
    }
}

#[test]
fn an_empty_report_is_an_empty_array() {
    let report = kms_rotation::Report::evaluate(
        &[],
        kms_rotation::Policy::default(),
        kms_rotation::ReportScope::default(),
        Vec::new(),
        now(),
    );
    assert_eq!(asff(&report), Vec::<Value>::new());
}

#[test]
fn file_names_choose_the_format_by_their_longest_ending() {
    use std::path::Path;
    for (name, format) in [
        ("r.json", Some(Format::Json)),
        ("r.asff.json", Some(Format::Asff)),
        ("R.ASFF.JSON", Some(Format::Asff)),
        ("r.jsonl", Some(Format::Ndjson)),
        ("r.csv", Some(Format::Csv)),
        ("r.md", Some(Format::Markdown)),
        ("r.txt", None),
        (".json", None),
    ] {
        assert_eq!(Format::for_path(Path::new(name)), format, "{name}");
    }
}

/// Security Hub refuses a ProductFields value longer than 2,048 characters or blank: an
/// exception's owner or ticket from a policy file must not get a key's finding refused on every
/// import.
#[test]
fn product_fields_are_cut_to_security_hubs_limit_and_blank_ones_left_out() {
    use kms_rotation::{Exception, ExceptionMatch, Policy, Report, ReportScope};
    let arn = "arn:aws:kms:eu-west-1:111122223333:key/00000001-0000-4000-8000-000000000001";
    let record = common::failing(arn);
    let policy = Policy {
        exceptions: vec![Exception {
            matcher: ExceptionMatch::Arn(arn.into()),
            owner: "o".repeat(3000),
            reason: "legacy".into(),
            ticket: Some("   ".into()),
            expires: "2099-01-01".parse().unwrap(),
        }],
        ..Policy::default()
    };
    let report = Report::evaluate(&[record], policy, ReportScope::default(), Vec::new(), now());
    assert_eq!(report.findings[0].status, Status::Exempt);
    let fields = &asff(&report)[0]["ProductFields"];
    let owner = fields["kms-rotation/exception_owner"].as_str().unwrap();
    assert_eq!(owner.chars().count(), 2048);
    assert!(
        fields.get("kms-rotation/exception_ticket").is_none(),
        "{fields}"
    );
    assert!(fields.as_object().unwrap().len() <= 50);
}
