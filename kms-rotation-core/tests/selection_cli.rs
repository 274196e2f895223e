//! Fail closed when selecting keys to fix: a plan never treats a fact that was not read (tags,
//! aliases) as absent, and a key whose exception cannot be decided is never written. End to end:
//! `kms-rotation scan`, `plan` and `apply --yes` against the KMS test server on 127.0.0.1.
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Output;

use kms_rotation::model::KeyError;
use kms_rotation::remediate::{Plan, SkipReason};
use kms_rotation::{KeyRecord, Report, Status};
use kms_test_server::{Faults, KmsTestServer};

const ORDERS: &str = "arn:aws:kms:us-east-1:111122223333:key/00000002-0000-4000-8000-000000000002";
const LEGACY: &str = "arn:aws:kms:eu-west-1:111122223333:key/00000011-0000-4000-8000-000000000011";
const ANALYTICS: &str =
    "arn:aws:kms:eu-west-1:111122223333:key/00000012-0000-4000-8000-000000000012";

fn kms_rotation(server: &KmsTestServer, command: &str, args: &[&str]) -> Output {
    let mut cmd = common::cli();
    cmd.arg(command).args(args);
    if command != "plan" {
        cmd.args([
            "--endpoint-url",
            &server.endpoint_url(),
            "--max-attempts",
            "2",
        ]);
    }
    cmd.output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The sample fleet's keys of the account the test server answers for.
fn first_account() -> Vec<KeyRecord> {
    common::fleet()
        .into_iter()
        .filter(|r| r.account_id == "111122223333")
        .collect()
}

const REGIONS: &[&str] = &["--region", "us-east-1", "--region", "eu-west-1", "-q"];

fn scan_to(server: &KmsTestServer, report: &Path, extra: &[&str]) -> Report {
    let mut args = REGIONS.to_vec();
    args.extend(["-o", s(report)]);
    args.extend(extra);
    let out = kms_rotation(server, "scan", &args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    Report::from_file(report).unwrap()
}

fn written(server: &KmsTestServer) -> Vec<String> {
    server
        .write_calls()
        .iter()
        .filter_map(|c| c.key_arn.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_report_without_tags_is_not_planned_by_tag_and_with_tags_prod_is_never_written() {
    let server = KmsTestServer::start(first_account(), Faults::default())
        .await
        .unwrap();
    // A report whose tags were not read (an older scan, or an inventory without them).
    let report = common::scratch("tags-report.json");
    scan_to(&server, &report, &[]);
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    for finding in json["findings"].as_array_mut().unwrap() {
        finding["tags"] = serde_json::Value::Null;
    }
    std::fs::write(&report, json.to_string()).unwrap();

    let plan_file = common::scratch("tags-plan.json");
    for flag in ["--exclude-tag", "--include-tag"] {
        let out = kms_rotation(
            &server,
            "plan",
            &[
                "--report",
                s(&report),
                flag,
                "environment=prod",
                "-o",
                s(&plan_file),
            ],
        );
        assert_eq!(out.status.code(), Some(2), "{flag}: {}", stderr(&out));
        let message = stderr(&out);
        assert!(message.contains(flag), "names the flag: {message}");
        assert!(message.contains(ORDERS), "names the keys: {message}");
        assert!(!plan_file.exists(), "no plan is written");
    }
    // A priority is an order, not a filter: the keys rank as if they matched, and say why.
    let out = kms_rotation(
        &server,
        "plan",
        &[
            "--report",
            s(&report),
            "--priority",
            "tag:environment=prod",
            "-o",
            s(&plan_file),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan_file).unwrap()).unwrap();
    for action in plan["actions"].as_array().unwrap() {
        assert_eq!(action["priority"], 1);
        assert_eq!(
            action["priority_reason"],
            "tags not read: ranked as if tag:environment=prod"
        );
    }
    std::fs::remove_file(&plan_file).unwrap();

    // With every tag read, the plan excludes the prod keys and apply never writes them.
    let scanned = scan_to(&server, &report, &["--all-tags"]);
    assert!(scanned.findings.iter().all(|f| f.tags.is_some()));
    let out = kms_rotation(
        &server,
        "plan",
        &[
            "--report",
            s(&report),
            "--exclude-tag",
            "environment=prod",
            "-q",
            "-o",
            s(&plan_file),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let plan = Plan::from_file(&plan_file).unwrap();
    assert!(!plan.actions.is_empty());
    let journal = common::scratch("tags-journal.ndjson");
    let out = kms_rotation(
        &server,
        "apply",
        &[
            "--plan",
            s(&plan_file),
            "--journal",
            s(&journal),
            "--yes",
            "-q",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let writes = written(&server);
    assert!(!writes.is_empty());
    for prod in [ORDERS, LEGACY] {
        assert!(!writes.iter().any(|w| w == prod), "{prod} was written");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_whose_tag_exception_cannot_be_read_is_an_error_and_never_written() {
    let seeded: Vec<KeyRecord> = first_account()
        .into_iter()
        .map(|mut r| {
            if r.arn == ANALYTICS {
                // The key policy denies ListResourceTags.
                r.errors.push(KeyError {
                    operation: "ListResourceTags".into(),
                    code: "AccessDeniedException".into(),
                    message: String::new(),
                });
            }
            r
        })
        .collect();
    let server = KmsTestServer::start(seeded, Faults::default())
        .await
        .unwrap();
    let exceptions = common::scratch("undecidable-exceptions.yaml");
    std::fs::write(
        &exceptions,
        "exceptions:\n  - match: {tag: {key: rotation-exception, value: TKT-42}}\n    \
         owner: analytics-team\n    reason: migration window\n    expires: 2099-12-31\n",
    )
    .unwrap();
    let report = common::scratch("undecidable-report.json");
    let scanned = scan_to(&server, &report, &["--exceptions", s(&exceptions)]);
    let finding = scanned
        .findings
        .iter()
        .find(|f| f.arn == ANALYTICS)
        .unwrap();
    assert_eq!(finding.status, Status::Error);
    assert_eq!(finding.reason.as_str(), "exception_undecidable");
    assert_eq!(
        finding.error.as_ref().map(|e| e.code.as_str()),
        Some("AccessDeniedException")
    );
    assert!(!finding.remediable);

    let plan_file = common::scratch("undecidable-plan.json");
    let out = kms_rotation(
        &server,
        "plan",
        &["--report", s(&report), "-q", "-o", s(&plan_file)],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let plan = Plan::from_file(&plan_file).unwrap();
    assert!(plan.actions.iter().all(|a| a.target_arn != ANALYTICS));
    let skip = plan.skips.iter().find(|s| s.arn == ANALYTICS).unwrap();
    assert_eq!(skip.reason, SkipReason::ErrorRescanFirst);

    let journal = common::scratch("undecidable-journal.ndjson");
    let out = kms_rotation(
        &server,
        "apply",
        &[
            "--plan",
            s(&plan_file),
            "--journal",
            s(&journal),
            "--yes",
            "-q",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        !written(&server).is_empty(),
        "the other failing keys are fixed"
    );
    assert!(!written(&server).iter().any(|w| w == ANALYTICS));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_report_edited_to_make_a_key_fixable_is_refused() {
    let server = KmsTestServer::start(first_account(), Faults::default())
        .await
        .unwrap();
    let report = common::scratch("edited-report.json");
    let scanned = scan_to(&server, &report, &[]);
    let i = scanned
        .findings
        .iter()
        .position(|f| f.status == Status::NotApplicable)
        .unwrap();
    let mut edited: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    edited["findings"][i]["status"] = "fail".into();
    edited["findings"][i]["reason"] = "rotation_disabled".into();
    edited["findings"][i]["remediable"] = true.into();
    edited["findings"][i]["remediation_target"] = scanned.findings[i].arn.clone().into();
    std::fs::write(&report, serde_json::to_vec_pretty(&edited).unwrap()).unwrap();
    let out = kms_rotation(&server, "plan", &["--report", s(&report), "-q"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("findings[{i}].status")),
        "{}",
        stderr(&out)
    );
}
