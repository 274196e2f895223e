//! The SARIF and OCSF renderings: each valid against its published schema (vendored in
//! tests/fixtures, see their READMEs), with the mapping docs/formats.md promises: levels,
//! locations, fingerprints and rules in SARIF; statuses, severities, controls, resources and
//! evidence in OCSF.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;

use kms_rotation::explain::REASONS;
use kms_rotation::{
    Exception, ExceptionMatch, Format, KeyRecord, Policy, Report, ReportScope, RotationPeriod,
    ScopeError, Status,
};
use serde_json::{Value, json};

fn now() -> chrono::DateTime<chrono::Utc> {
    "2026-11-22T12:00:00Z".parse().unwrap()
}

fn fleet_report_at(now: chrono::DateTime<chrono::Utc>) -> Report {
    let dir = common::examples_dir();
    let mut policy = Policy::from_file(dir.join("policy.yaml")).unwrap();
    policy
        .add_exceptions_file(dir.join("exceptions.yaml"))
        .unwrap();
    let report = Report::evaluate(
        &common::fleet(),
        policy,
        ReportScope::default(),
        Vec::new(),
        now,
    );
    for status in Status::ALL {
        assert!(report.summary.by_status.get(status) > 0, "no {status} key");
    }
    report
}

fn fleet_report() -> Report {
    fleet_report_at(now())
}

/// A report whose one region could not be listed.
fn incomplete_report() -> Report {
    let scope_error = ScopeError {
        account_id: Some("111122223333".into()),
        region: Some("ap-south-2".into()),
        operation: "ListKeys".into(),
        code: "AccessDeniedException".into(),
        message: String::new(),
    };
    Report::evaluate(
        &[],
        Policy::default(),
        ReportScope::default(),
        vec![scope_error],
        now(),
    )
}

fn fixture(path: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A validator of `schema` that checks formats too, and resolves no remote reference: each
/// fixture is whole.
fn validator(schema: &str) -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(&fixture(schema))
        .unwrap()
}

fn schema_errors(validator: &jsonschema::Validator, value: &Value) -> Vec<String> {
    validator
        .iter_errors(value)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

fn rendered(report: &Report, format: Format) -> Value {
    serde_json::from_str(&report.render_to_string(format).unwrap()).unwrap()
}

// SARIF

fn sarif_schema() -> jsonschema::Validator {
    validator("sarif/sarif-schema-2.1.0.json")
}

#[test]
fn sarif_validates_against_the_sarif_2_1_0_schema() {
    let validator = sarif_schema();
    for report in [fleet_report(), incomplete_report()] {
        let sarif = rendered(&report, Format::Sarif);
        let errors = schema_errors(&validator, &sarif);
        assert!(errors.is_empty(), "{errors:#?}");
    }
}

#[test]
fn sarif_that_breaks_the_schema_is_refused() {
    // The check has teeth: a result without its message, or at a level SARIF does not have,
    // fails it.
    let validator = sarif_schema();
    let sarif = rendered(&fleet_report(), Format::Sarif);
    let mut no_message = sarif.clone();
    no_message["runs"][0]["results"][0]
        .as_object_mut()
        .unwrap()
        .remove("message");
    assert!(!schema_errors(&validator, &no_message).is_empty());
    let mut bad_level = sarif.clone();
    bad_level["runs"][0]["results"][0]["level"] = json!("critical");
    assert!(!schema_errors(&validator, &bad_level).is_empty());
    let mut no_version = sarif;
    no_version.as_object_mut().unwrap().remove("version");
    assert!(!schema_errors(&validator, &no_version).is_empty());
}

#[test]
fn sarif_has_a_rule_per_reason_with_help() {
    let sarif = rendered(&fleet_report(), Format::Sarif);
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(sarif["runs"].as_array().unwrap().len(), 1);
    let driver = &sarif["runs"][0]["tool"]["driver"];
    assert_eq!(driver["name"], "kms-rotation");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    let rules = driver["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let reasons: Vec<&str> = REASONS.iter().map(|r| r.as_str()).collect();
    assert_eq!(ids, reasons);
    for rule in rules {
        let explanation =
            kms_rotation::explain::explain(serde_json::from_value(rule["id"].clone()).unwrap());
        let short = rule["shortDescription"]["text"].as_str().unwrap();
        assert!(explanation.meaning.starts_with(short), "{short}");
        assert_eq!(rule["fullDescription"]["text"], explanation.meaning);
        let help = rule["help"]["text"].as_str().unwrap();
        assert!(help.starts_with(explanation.why), "{help}");
        for step in explanation.fix_console.iter().chain(explanation.fix_cli) {
            assert!(help.contains(step), "{}: {step}", rule["id"]);
        }
        assert!(rule["help"]["markdown"].as_str().unwrap().contains("```sh"));
    }
    let rule = |id: &str| rules.iter().find(|r| r["id"] == id).unwrap();
    assert_eq!(
        rule("rotation_disabled")["defaultConfiguration"]["level"],
        "error"
    );
    assert_eq!(
        rule("rotation_disabled")["properties"]["security-severity"],
        "5.5"
    );
    assert_eq!(
        rule("rotation_period_exceeds_policy")["properties"]["security-severity"],
        "3.0"
    );
    assert_eq!(
        rule("describe_failed")["defaultConfiguration"]["level"],
        "warning"
    );
    // A rule that never needs anyone is no security alert.
    assert_eq!(
        rule("rotation_enabled")["defaultConfiguration"]["level"],
        "none"
    );
    assert!(rule("rotation_enabled")["properties"]["security-severity"].is_null());
}

#[test]
fn sarif_has_a_result_per_key_that_needs_attention_at_its_arn() {
    let report = fleet_report();
    let sarif = rendered(&report, Format::Sarif);
    let run = &sarif["runs"][0];
    let results = run["results"].as_array().unwrap();
    let attention: Vec<_> = report
        .findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Error | Status::Exempt))
        .collect();
    assert_eq!(results.len(), attention.len());
    for (finding, result) in attention.into_iter().zip(results) {
        let expected_level = match finding.status {
            Status::Fail => "error",
            Status::Error => "warning",
            _ => "note",
        };
        assert_eq!(result["level"], expected_level, "{}", finding.arn);
        assert_eq!(result["ruleId"], finding.reason.as_str());
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(
            run["tool"]["driver"]["rules"][index]["id"],
            result["ruleId"]
        );
        assert_eq!(result["message"]["text"], *finding.message);
        let location = &result["locations"][0];
        assert_eq!(
            location["physicalLocation"]["artifactLocation"]["uri"],
            finding.arn
        );
        assert_eq!(
            location["logicalLocations"][0],
            json!({"name": finding.key_id, "fullyQualifiedName": finding.arn, "kind": "resource"})
        );
        let properties = &result["properties"];
        assert_eq!(properties["severity"], json!(finding.severity));
        assert_eq!(properties["controls"], json!(finding.controls));
        assert_eq!(properties["account_id"], finding.account_id);
        assert_eq!(properties["region"], finding.region);
        assert_eq!(properties["status"], json!(finding.status));
        // The evidence that orders the fixes, where it was read.
        match &finding.exposure {
            Some(exposure) => assert_eq!(properties["exposure"], json!(exposure)),
            None => assert!(properties["exposure"].is_null()),
        }
        let suppressions = &result["suppressions"];
        if finding.status == Status::Exempt {
            let exception = finding.exception.as_ref().unwrap();
            assert_eq!(suppressions[0]["kind"], "external");
            assert_eq!(suppressions[0]["status"], "accepted");
            let justification = suppressions[0]["justification"].as_str().unwrap();
            assert!(justification.contains(&exception.owner), "{justification}");
            assert!(justification.contains(&exception.reason), "{justification}");
        } else {
            assert!(suppressions.is_null(), "{}", finding.arn);
        }
    }
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);
    assert_eq!(run["properties"]["compliant"], false);
    assert_eq!(
        run["properties"]["by_status"],
        json!(report.summary.by_status)
    );
}

#[test]
fn sarif_fingerprints_name_the_key_and_rule_and_survive_a_rescan() {
    let fingerprints = |report: &Report| -> Vec<Value> {
        rendered(report, Format::Sarif)["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["partialFingerprints"].clone())
            .collect()
    };
    let first = fingerprints(&fleet_report());
    // A scan an hour later: same keys, same verdicts, same fingerprints.
    let later = fingerprints(&fleet_report_at(now() + chrono::Duration::hours(1)));
    assert_eq!(first, later);
    let distinct: BTreeSet<String> = first.iter().map(Value::to_string).collect();
    assert_eq!(
        distinct.len(),
        first.len(),
        "one fingerprint per key and rule"
    );
    let report = fleet_report();
    let failing = report
        .findings
        .iter()
        .find(|f| f.status == Status::Fail)
        .unwrap();
    assert!(first.contains(&json!({
        "kmsKeyArnAndRule/v1": format!("{}|{}", failing.arn, failing.reason)
    })));
}

#[test]
fn sarif_of_an_incomplete_report_says_so() {
    let sarif = rendered(&incomplete_report(), Format::Sarif);
    let invocation = &sarif["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let notification = &invocation["toolExecutionNotifications"][0];
    assert_eq!(notification["level"], "error");
    let text = notification["message"]["text"].as_str().unwrap();
    for part in [
        "ListKeys",
        "111122223333",
        "ap-south-2",
        "AccessDeniedException",
    ] {
        assert!(text.contains(part), "{text}");
    }
    assert_eq!(sarif["runs"][0]["properties"]["complete"], false);
}

// OCSF

fn ocsf_schema() -> jsonschema::Validator {
    validator("ocsf/compliance_finding-1.8.0-cloud.schema.json")
}

fn ocsf_findings(report: &Report) -> Vec<Value> {
    let Value::Array(findings) = rendered(report, Format::Ocsf) else {
        panic!("not a JSON array");
    };
    findings
}

/// A failing key (`common::failing`) with an alias and a tag read.
fn failing(arn: &str) -> KeyRecord {
    KeyRecord {
        aliases: Some(vec!["alias/payments".into()]),
        tags: Some([("team".to_owned(), "payments".to_owned())].into()),
        ..common::failing(arn)
    }
}

/// A failing key in the China partition, with tags and aliases read, under a policy whose
/// remediation period is not AWS's default: the resource and the fix show what was read and
/// what the policy says.
fn tagged_report() -> Report {
    let arn = "arn:aws-cn:kms:cn-north-1:111122223333:key/00000001-0000-4000-8000-000000000001";
    let policy = Policy {
        target_rotation_period_days: RotationPeriod::new(180).unwrap(),
        ..Policy::default()
    };
    Report::evaluate(
        &[failing(arn)],
        policy,
        ReportScope::default(),
        Vec::new(),
        now(),
    )
}

#[test]
fn ocsf_validates_against_the_compliance_finding_schema() {
    let validator = ocsf_schema();
    let findings: Vec<Value> = [fleet_report(), tagged_report()]
        .iter()
        .flat_map(ocsf_findings)
        .collect();
    for finding in &findings {
        let errors = schema_errors(&validator, finding);
        assert!(errors.is_empty(), "{errors:#?} in {finding}");
    }
}

#[test]
fn ocsf_that_breaks_the_schema_is_refused() {
    // The check has teeth: a required attribute dropped, an enum id OCSF does not define, an
    // attribute the class does not have, or a wrong type each fail it.
    let validator = ocsf_schema();
    let finding = ocsf_findings(&fleet_report()).remove(0);
    let broken = |change: &dyn Fn(&mut Value)| {
        let mut finding = finding.clone();
        change(&mut finding);
        schema_errors(&validator, &finding)
    };
    assert!(broken(&|_| {}).is_empty());
    for required in ["finding_info", "compliance", "metadata", "cloud", "time"] {
        let errors = broken(&|f| {
            f.as_object_mut().unwrap().remove(required);
        });
        assert!(!errors.is_empty(), "{required} dropped");
    }
    assert!(!broken(&|f| f["severity_id"] = json!(7)).is_empty());
    assert!(!broken(&|f| f["compliance"]["status_id"] = json!(4)).is_empty());
    assert!(!broken(&|f| f["class_uid"] = json!(2001)).is_empty());
    assert!(!broken(&|f| f["metadata"]["product"]["colour"] = json!("red")).is_empty());
    assert!(!broken(&|f| f["time"] = json!("2026-11-22T12:00:00Z")).is_empty());
    assert!(
        !broken(&|f| {
            f["finding_info"].as_object_mut().unwrap().remove("uid");
        })
        .is_empty()
    );
}

#[test]
fn ocsf_is_a_json_array_with_one_finding_per_line() {
    let report = fleet_report();
    let text = report.render_to_string(Format::Ocsf).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.first(), Some(&"["));
    assert_eq!(lines.last(), Some(&"]"));
    assert_eq!(lines.len(), report.findings.len() + 2);
    for line in &lines[1..lines.len() - 1] {
        let line = line.strip_suffix(',').unwrap_or(line);
        let _: Value = serde_json::from_str(line).unwrap();
    }
    assert_eq!(
        incomplete_report().render_to_string(Format::Ocsf).unwrap(),
        "[\n]\n"
    );
}

#[test]
fn ocsf_maps_each_finding() {
    let report = fleet_report();
    let findings = ocsf_findings(&report);
    assert_eq!(findings.len(), report.findings.len());
    let time = report.generated_at.timestamp_millis();
    for (finding, ocsf) in report.findings.iter().zip(&findings) {
        assert_eq!(ocsf["class_uid"], 2003);
        assert_eq!(ocsf["category_uid"], 2);
        assert_eq!(ocsf["activity_id"], 1);
        assert_eq!(ocsf["type_uid"], 200301);
        assert_eq!(ocsf["time"], time);
        assert_eq!(ocsf["metadata"]["version"], "1.8.0");
        assert_eq!(ocsf["metadata"]["product"]["name"], "kms-rotation");
        assert_eq!(
            ocsf["metadata"]["product"]["version"],
            env!("CARGO_PKG_VERSION")
        );
        assert_eq!(ocsf["message"], *finding.message);
        let severity_id = match finding.severity.as_str() {
            "informational" => 1,
            "low" => 2,
            _ => 3,
        };
        assert_eq!(ocsf["severity_id"], severity_id, "{}", finding.arn);
        let (status_id, compliance_status_id) = match finding.status {
            Status::Pass => (4, 1),
            Status::Fail => (1, 3),
            Status::Exempt => (3, 3),
            Status::Error => (1, 2),
            Status::NotApplicable => (4, 99),
        };
        assert_eq!(ocsf["status_id"], status_id, "{}", finding.arn);
        let compliance = &ocsf["compliance"];
        assert_eq!(compliance["status_id"], compliance_status_id);
        assert_eq!(compliance["control"], "KMS.4");
        assert_eq!(compliance["requirements"], json!(finding.controls));
        assert_eq!(
            compliance["standards"],
            json!([
                "CIS AWS Foundations Benchmark",
                "AWS Foundational Security Best Practices"
            ])
        );
        let info = &ocsf["finding_info"];
        assert_eq!(info["uid"], format!("kms-rotation:KMS.4:{}", finding.arn));
        assert_eq!(info["desc"], *finding.message);
        assert_eq!(info["created_time"], time);
        let resource = &ocsf["resources"][0];
        assert_eq!(resource["uid"], finding.arn);
        assert_eq!(resource["type"], "AWS::KMS::Key");
        assert_eq!(resource["region"], finding.region);
        assert_eq!(resource["cloud_partition"], "aws");
        assert_eq!(resource["owner"]["account"]["uid"], finding.account_id);
        assert_eq!(ocsf["cloud"]["provider"], "AWS");
        assert_eq!(ocsf["cloud"]["account"]["uid"], finding.account_id);
        assert_eq!(ocsf["cloud"]["region"], finding.region);
        assert!(!ocsf["remediation"]["desc"].as_str().unwrap().is_empty());
        // The evidence is the finding, field for field: nothing read is lost or made up.
        assert_eq!(ocsf["evidences"][0]["data"], json!(finding));
    }
}

#[test]
fn ocsf_resource_and_fix_show_what_was_read_and_what_the_policy_sets() {
    let report = tagged_report();
    let finding = &report.findings[0];
    assert_eq!(finding.status, Status::Fail);
    let ocsf = ocsf_findings(&report).remove(0);
    let resource = &ocsf["resources"][0];
    assert_eq!(resource["labels"], json!(["alias/payments"]));
    assert_eq!(
        resource["tags"],
        json!([{"name": "team", "value": "payments"}])
    );
    assert_eq!(resource["cloud_partition"], "aws-cn");
    let fix = ocsf["remediation"]["desc"].as_str().unwrap();
    let target = finding.remediation_target.as_deref().unwrap();
    assert!(
        fix.contains(&format!(
            "aws kms enable-key-rotation --key-id {target} --region cn-north-1 \
             --rotation-period-in-days 180"
        )),
        "{fix}"
    );

    // Aliases and tags not read are not an empty list: they are left out of the resource,
    // and the evidence says null.
    let unread = Report::evaluate(
        &[KeyRecord {
            aliases: None,
            tags: None,
            ..report.findings[0].to_record()
        }],
        Policy::default(),
        ReportScope::default(),
        Vec::new(),
        now(),
    );
    let ocsf = ocsf_findings(&unread).remove(0);
    assert!(ocsf["resources"][0].get("labels").is_none());
    assert!(ocsf["resources"][0].get("tags").is_none());
    assert!(ocsf["evidences"][0]["data"]["aliases"].is_null());
}

#[test]
fn an_exempt_key_is_a_suppressed_failure_in_ocsf() {
    let arn = "arn:aws:kms:eu-west-1:111122223333:key/00000001-0000-4000-8000-000000000001";
    let record = failing(arn);
    let policy = Policy {
        exceptions: vec![Exception {
            matcher: ExceptionMatch::Arn(arn.into()),
            owner: "payments-team".into(),
            reason: "legacy HSM integration".into(),
            ticket: None,
            expires: "2030-01-01".parse().unwrap(),
        }],
        ..Policy::default()
    };
    let report = Report::evaluate(&[record], policy, ReportScope::default(), Vec::new(), now());
    assert_eq!(report.findings[0].status, Status::Exempt);
    let ocsf = ocsf_findings(&report).remove(0);
    assert_eq!(ocsf["status_id"], 3);
    assert_eq!(ocsf["status"], "Suppressed");
    assert_eq!(ocsf["compliance"]["status_id"], 3);
    assert_eq!(ocsf["compliance"]["status"], "Fail");
    assert_eq!(
        ocsf["evidences"][0]["data"]["exception"]["owner"],
        "payments-team"
    );
}

#[cfg(feature = "cli")]
#[test]
fn the_cli_scans_to_sarif_and_ocsf() {
    for (format, validator) in [("sarif", sarif_schema()), ("ocsf", ocsf_schema())] {
        let out = common::cli()
            .args([
                "scan",
                "--inventory",
                "fleet.json",
                "--now",
                "2026-11-22T12:00:00Z",
                "--quiet",
                "--format",
                format,
            ])
            .output()
            .unwrap();
        // The exit code still says the fleet fails.
        assert_eq!(out.status.code(), Some(1), "{format}");
        let value: Value = serde_json::from_slice(&out.stdout).unwrap();
        let values = match &value {
            Value::Array(findings) => findings.clone(),
            sarif => vec![sarif.clone()],
        };
        for value in &values {
            let errors = schema_errors(&validator, value);
            assert!(errors.is_empty(), "{format}: {errors:#?}");
        }
    }
}
