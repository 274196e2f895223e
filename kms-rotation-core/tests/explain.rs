//! `explain`: every reason code a finding can carry has an explanation, and the statuses it
//! names are the ones the rule gives.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;

use kms_rotation::explain::{REASONS, explain};
use kms_rotation::ops::{self, ExplainOptions};
use kms_rotation::{Policy, Reason, Report, ReportScope};
use serde_json::Value;

/// Every string a JSON Schema allows through `enum` or `const`.
fn allowed_strings(schema: &Value, out: &mut BTreeSet<String>) {
    match schema {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("enum", Value::Array(values)) => {
                        out.extend(values.iter().filter_map(|v| v.as_str().map(str::to_owned)))
                    }
                    ("const", Value::String(s)) => {
                        out.insert(s.clone());
                    }
                    _ => allowed_strings(value, out),
                }
            }
        }
        Value::Array(values) => values.iter().for_each(|v| allowed_strings(v, out)),
        _ => {}
    }
}

/// The reason codes as the type itself declares them (its schema, derived from the enum), so
/// that a reason added to the enum and forgotten in `REASONS` fails here.
#[test]
fn every_reason_of_the_enum_is_listed_and_explained() {
    let schema = serde_json::to_value(schemars::schema_for!(Reason)).unwrap();
    let mut declared = BTreeSet::new();
    allowed_strings(&schema, &mut declared);
    let listed: BTreeSet<String> = REASONS.iter().map(|r| r.as_str().to_owned()).collect();
    assert_eq!(declared, listed);
    for code in &declared {
        let reason: Reason = serde_json::from_value(Value::String(code.clone())).unwrap();
        let explained = ops::explain(ExplainOptions {
            reason: Some(code.clone()),
        })
        .unwrap();
        assert_eq!(explained, [explain(reason)]);
    }
    assert_eq!(
        ops::explain(ExplainOptions::default()).unwrap().len(),
        REASONS.len()
    );
}

#[test]
fn an_unknown_code_is_refused_naming_the_known_ones() {
    let err = ops::explain(ExplainOptions {
        reason: Some("rotation_off".into()),
    })
    .unwrap_err();
    assert_eq!(err.context().field.as_deref(), Some("reason"));
    assert!(
        err.message().contains("rotation_disabled"),
        "{}",
        err.message()
    );
}

/// The sample fleet has a key for every row of the rule: each finding's status is one its
/// reason's explanation names.
#[test]
fn explained_statuses_are_the_rules() {
    let policy = Policy::from_file(common::examples_dir().join("policy.yaml")).unwrap();
    let report = Report::evaluate(
        &common::fleet(),
        policy,
        ReportScope::default(),
        Vec::new(),
        "2026-11-22T12:00:00Z".parse().unwrap(),
    );
    for finding in &report.findings {
        let explanation = explain(finding.reason);
        assert!(
            explanation.statuses.contains(&finding.status),
            "{}: {} is not among {:?}",
            finding.reason,
            finding.status,
            explanation.statuses
        );
    }
}

/// A finding's fix commands go to the key a fix acts on (a replica's primary, in the primary's
/// region), with the policy's period, and only for keys that fail or are exempt.
#[test]
fn fix_commands_fill_in_the_target_its_region_and_the_policys_period() {
    use kms_rotation::explain::fix_commands;
    use kms_rotation::{RotationPeriod, Status};
    let policy = Policy {
        target_rotation_period_days: RotationPeriod::try_from(180).unwrap(),
        ..Policy::default()
    };
    let now = chrono::Utc::now();
    let findings: Vec<_> = common::fleet()
        .iter()
        .map(|record| kms_rotation::evaluate(record, &policy, now))
        .collect();
    let primary = "arn:aws:kms:us-east-1:111122223333:key/mrk-0000000f-0000-4000-8000-00000000000f";
    let replica = findings
        .iter()
        .find(|f| f.region == "eu-west-1" && f.arn.contains("mrk-"))
        .unwrap();
    assert_eq!(replica.status, Status::Fail);
    assert_eq!(
        fix_commands(replica, &policy),
        [format!(
            "aws kms enable-key-rotation --key-id {primary} --region us-east-1 \
             --rotation-period-in-days 180"
        )]
    );
    for finding in &findings {
        let commands = fix_commands(finding, &policy);
        match finding.status {
            Status::Fail | Status::Exempt => assert!(!commands.is_empty(), "{}", finding.arn),
            _ => assert!(commands.is_empty(), "{}", finding.arn),
        }
        for command in commands {
            assert!(
                !command.contains("KEY_ARN") && !command.contains("DAYS"),
                "{command}"
            );
        }
    }
}

/// A value from an edited report reaches the command quoted, never as shell syntax.
#[test]
fn fix_commands_quote_what_a_report_may_carry() {
    use kms_rotation::explain::fix_commands;
    let policy = Policy::default();
    let record = common::fleet()
        .into_iter()
        .find(|r| r.aliases.as_deref() == Some(&["alias/orders".to_owned()][..]))
        .unwrap();
    let mut finding = kms_rotation::evaluate(&record, &policy, chrono::Utc::now());
    finding.remediation_target = Some("$(touch /tmp/pwned) REGION".to_owned());
    let commands = fix_commands(&finding, &policy);
    assert_eq!(
        commands,
        [format!(
            "aws kms enable-key-rotation --key-id '$(touch /tmp/pwned) REGION' --region {} \
             --rotation-period-in-days 365",
            finding.region
        )]
    );
}
