//! Severity, controls and message: the documented table holds for every verdict the rule can
//! produce, and every finding carries the controls and a line for people.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use kms_rotation::controls::{controls, severity};
use kms_rotation::model::{
    KeyError, KeyManager, KeySpec, KeyState, LastRotation, Origin, Rotation, RotationType,
};
use kms_rotation::{
    Control, DisabledKeys, Exception, ExceptionMatch, Finding, KeyRecord, Policy, Reason, Severity,
    Status, evaluate,
};

const ARN: &str = "arn:aws:kms:eu-west-1:111122223333:key/00000001-0000-4000-8000-000000000001";

fn now() -> DateTime<Utc> {
    "2026-11-22T12:00:00Z".parse().unwrap()
}

fn rotation(enabled: bool, period_days: Option<u32>, last: Option<&str>) -> Rotation {
    Rotation {
        enabled,
        period_days,
        next_rotation_date: None,
        on_demand_rotation_start_date: None,
        last_rotation: last.map(|date| LastRotation {
            date: date.parse().unwrap(),
            rotation_type: RotationType::OnDemand,
        }),
    }
}

fn failed(operation: &str) -> KeyError {
    KeyError {
        operation: operation.into(),
        code: "AccessDeniedException".into(),
        message: String::new(),
    }
}

fn exception(matcher: ExceptionMatch, expires: &str) -> Exception {
    Exception {
        matcher,
        owner: "platform-team".into(),
        reason: "legacy".into(),
        ticket: None,
        expires: expires.parse::<NaiveDate>().unwrap(),
    }
}

/// Policies that reach every branch: defaults; disabled keys skipped with an age limit for
/// imported keys; active, expired and tag-matching exceptions.
fn policies() -> Vec<Policy> {
    let tag = ExceptionMatch::Tag {
        key: "rotation-exception".into(),
        value: "yes".into(),
    };
    vec![
        Policy::default(),
        Policy {
            disabled_keys: DisabledKeys::Skip,
            imported_key_max_age_days: Some(365),
            ..Policy::default()
        },
        Policy {
            exceptions: vec![exception(ExceptionMatch::Arn(ARN.into()), "2030-01-01")],
            ..Policy::default()
        },
        Policy {
            exceptions: vec![exception(ExceptionMatch::Arn(ARN.into()), "2020-01-01")],
            ..Policy::default()
        },
        Policy {
            imported_key_max_age_days: Some(365),
            exceptions: vec![exception(tag, "2030-01-01")],
            ..Policy::default()
        },
    ]
}

/// Records across the facts the rule reads: managers, specs, origins, states, rotation
/// settings and failed reads.
fn records() -> Vec<KeyRecord> {
    let mut records = Vec::new();
    let rotations = [
        None,
        Some(rotation(false, None, None)),
        Some(rotation(true, Some(365), None)),
        Some(rotation(true, None, None)),
        Some(rotation(true, Some(2560), None)),
        Some(rotation(false, None, Some("2026-06-01T00:00:00Z"))),
        Some(rotation(false, None, Some("2020-06-01T00:00:00Z"))),
    ];
    let failures = [
        vec![],
        vec![failed("DescribeKey")],
        vec![failed("GetKeyRotationStatus")],
    ];
    for manager in [KeyManager::Customer, KeyManager::Aws] {
        for spec in [KeySpec::SymmetricDefault, KeySpec::Rsa2048] {
            for origin in [Origin::AwsKms, Origin::External, Origin::AwsCloudhsm] {
                for state in KeyState::ALL {
                    for rotation in &rotations {
                        for errors in &failures {
                            records.push(KeyRecord {
                                key_manager: Some(manager),
                                key_spec: Some(spec),
                                origin: Some(origin),
                                key_state: Some(state),
                                creation_date: Some("2019-01-01T00:00:00Z".parse().unwrap()),
                                rotation: rotation.clone(),
                                tags: None,
                                errors: errors.clone(),
                                ..KeyRecord::from_arn(ARN).unwrap()
                            });
                        }
                    }
                }
            }
        }
    }
    // Keys declared in code: a value left to deploy time, and rotation asked of a key that
    // cannot rotate (its deploy would fail).
    let declared = || KeyRecord {
        key_manager: Some(KeyManager::Customer),
        key_state: Some(KeyState::Enabled),
        origin: Some(Origin::AwsKms),
        location: Some(Box::new(kms_rotation::source::Location {
            file: "main.tf".into(),
            line: Some(1),
            address: "aws_kms_key.main".into(),
        })),
        ..KeyRecord::from_arn(ARN).unwrap()
    };
    records.push(KeyRecord {
        key_spec: Some(KeySpec::SymmetricDefault),
        errors: vec![KeyError {
            code: kms_rotation::rule::UNKNOWN_UNTIL_APPLY.into(),
            ..failed("GetKeyRotationStatus")
        }],
        ..declared()
    });
    records.push(KeyRecord {
        key_spec: Some(KeySpec::Rsa2048),
        rotation: Some(rotation(true, Some(365), None)),
        ..declared()
    });
    records
}

/// Every finding the records and policies above produce.
fn findings() -> Vec<Finding> {
    let records = records();
    policies()
        .iter()
        .flat_map(|policy| records.iter().map(|r| evaluate(r, policy, now())))
        .collect()
}

/// The severity table of docs/rule.md: (status, reason or `any`) -> severity.
fn documented_table() -> BTreeMap<(String, String), String> {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/rule.md"),
    )
    .unwrap();
    let start = doc.find("| status | reason | severity |").unwrap();
    doc[start..]
        .lines()
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .map(|line| {
            let cells: Vec<String> = line
                .split('|')
                .map(|c| c.trim().trim_matches('`').to_owned())
                .filter(|c| !c.is_empty())
                .collect();
            ((cells[0].clone(), cells[1].clone()), cells[2].clone())
        })
        .collect()
}

#[test]
fn the_records_reach_every_status_and_reason_of_the_rule() {
    // Otherwise the table test below would check less than the rule can produce.
    let findings = findings();
    let statuses: BTreeSet<Status> = findings.iter().map(|f| f.status).collect();
    let reasons: BTreeSet<Reason> = findings.iter().map(|f| f.reason).collect();
    assert_eq!(statuses, Status::ALL.into_iter().collect());
    assert_eq!(reasons, Reason::ALL.into_iter().collect());
}

#[test]
fn every_verdict_the_rule_produces_has_its_documented_severity() {
    let table = documented_table();
    let pairs: BTreeSet<(Status, Reason)> =
        findings().iter().map(|f| (f.status, f.reason)).collect();
    for (status, reason) in pairs {
        let row = table
            .get(&(status.to_string(), reason.to_string()))
            .or_else(|| table.get(&(status.to_string(), "any".to_owned())))
            .unwrap_or_else(|| panic!("docs/rule.md has no severity for {status} / {reason}"));
        assert_eq!(
            severity(status, reason).as_str(),
            row,
            "{status} / {reason}"
        );
    }
}

#[test]
fn an_unreadable_key_is_never_less_severe_than_a_failing_one() {
    let worst_fail = Reason::ALL
        .into_iter()
        .map(|reason| severity(Status::Fail, reason))
        .max()
        .unwrap();
    for reason in Reason::ALL {
        assert!(severity(Status::Error, reason) >= worst_fail, "{reason}");
        // An exception accepts the risk; it does not lower it.
        assert_eq!(
            severity(Status::Exempt, reason),
            severity(Status::Fail, reason)
        );
        assert_eq!(severity(Status::Pass, reason), Severity::Informational);
    }
    assert_eq!(
        severity(Status::Fail, Reason::RotationDisabled),
        Severity::Medium
    );
}

#[test]
fn every_finding_names_the_controls_and_has_a_one_line_message() {
    let names: Vec<&str> = controls().iter().copied().map(Control::as_str).collect();
    assert_eq!(
        names,
        [
            "cis-aws-foundations/v1.4.0/3.8",
            "cis-aws-foundations/v1.5.0/3.8",
            "cis-aws-foundations/v2.0.0/3.8",
            "cis-aws-foundations/v3.0.0/3.6",
            "aws-security-hub/KMS.4",
            "aws-config/cmk-backing-key-rotation-enabled",
            "cce/CCE-78920-6",
        ]
    );
    for finding in findings() {
        assert_eq!(finding.controls, controls());
        assert_eq!(finding.severity, severity(finding.status, finding.reason));
        assert!(!finding.message.is_empty() && !finding.message.contains('\n'));
    }
}

#[test]
fn the_message_says_what_is_wrong_with_the_key() {
    let key = KeyRecord {
        key_manager: Some(KeyManager::Customer),
        key_spec: Some(KeySpec::SymmetricDefault),
        origin: Some(Origin::AwsKms),
        key_state: Some(KeyState::Enabled),
        rotation: Some(rotation(true, Some(730), None)),
        ..KeyRecord::from_arn(ARN).unwrap()
    };
    let message = |record: &KeyRecord, policy: &Policy| evaluate(record, policy, now()).message;
    let policy = Policy::default();
    assert_eq!(
        message(&key, &policy),
        "rotates every 730 days, longer than the policy allows"
    );
    let off = KeyRecord {
        rotation: Some(rotation(false, None, None)),
        ..key.clone()
    };
    assert_eq!(message(&off, &policy), "automatic rotation is off");
    let exempted = &policies()[2];
    assert_eq!(
        message(&off, exempted),
        "automatic rotation is off; exempt: exception by platform-team until 2030-01-01"
    );
    let unread = KeyRecord {
        rotation: None,
        errors: vec![failed("GetKeyRotationStatus")],
        ..key.clone()
    };
    assert_eq!(
        message(&unread, &policy),
        "its rotation status could not be read, so whether it rotates is unknown \
         (GetKeyRotationStatus: AccessDeniedException)"
    );
    let assumed = KeyRecord {
        rotation: Some(rotation(true, None, None)),
        ..key
    };
    assert_eq!(
        message(&assumed, &policy),
        "rotates automatically every 365 (assumed: not reported) days"
    );
}
