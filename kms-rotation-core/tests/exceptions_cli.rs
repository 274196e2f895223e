//! `kms-rotation exceptions` as a person or a CI job sees it: every state on a report of the
//! sample fleet, the formats, and the exit codes (0, 1 on an expired exception still matching a
//! failing key, 2 on bad input, 3 on an incomplete report).
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use kms_rotation::{Policy, Report, ReportScope, ScopeError};
use serde_json::Value;

const NOW: &str = "2026-11-22T12:00:00Z";
const ORDERS: &str = "arn:aws:kms:us-east-1:111122223333:key/00000002-0000-4000-8000-000000000002";
const PAYMENTS: &str =
    "arn:aws:kms:us-east-1:111122223333:key/00000001-0000-4000-8000-000000000001";

fn kms_rotation(args: &[&str]) -> Output {
    common::cli().args(args).output().unwrap()
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("exited, not killed")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Exceptions for the states the sample's own (one expired on a failing key, one active) lack:
/// expiring (a failing key, 9 days left), expired on a passing key only, unused (a key id no
/// key has), unknown (a tag: the fleet has a key whose tags could not be read).
/// Written once: tests run in parallel, and one must never read the file while another
/// rewrites it.
fn more_exceptions() -> PathBuf {
    static WRITTEN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    WRITTEN.get_or_init(write_more_exceptions).clone()
}

fn write_more_exceptions() -> PathBuf {
    let path = common::scratch("more-exceptions.yaml");
    std::fs::write(
        &path,
        format!(
            "exceptions:
  - match: {{arn: {ORDERS}}}
    owner: orders-team
    reason: rotation after the December freeze
    ticket: CHG-7
    expires: 2026-12-01
  - match: {{arn: {PAYMENTS}}}
    owner: payments-team
    reason: was waiting for rotation to be turned on
    expires: 2026-01-31
  - match: {{key_id: 00000099-0000-4000-8000-000000000099}}
    owner: gone-team
    reason: the key was deleted last year
    expires: 2027-06-30
  - match: {{tag: {{key: rotation-exception, value: TKT-99}}}}
    owner: data-team
    reason: the pipeline pins its key
    expires: 2027-06-30
"
        ),
    )
    .unwrap();
    path
}

fn review(args: &[&str]) -> (i32, Value, String) {
    let mut all = vec!["exceptions", "--format", "json", "--now", NOW];
    all.extend_from_slice(args);
    let output = kms_rotation(&all);
    let json = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&output), stderr(&output)));
    (code(&output), json, stderr(&output))
}

fn state_of<'a>(review: &'a Value, owner: &str) -> &'a str {
    (review["exceptions"].as_array().unwrap().iter())
        .find(|e| e["owner"] == owner)
        .unwrap_or_else(|| panic!("no exception of {owner}"))["state"]
        .as_str()
        .unwrap()
}

#[test]
fn every_state_on_the_sample_fleet_and_exit_1_on_an_expired_exception_of_a_failing_key() {
    let more = more_exceptions();
    let (code, review, stderr) = review(&[
        "--inventory",
        "fleet.json",
        "--exceptions",
        "exceptions.yaml",
        "--exceptions",
        s(&more),
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(state_of(&review, "analytics-team"), "expired");
    assert_eq!(state_of(&review, "payments-team"), "expired");
    assert_eq!(state_of(&review, "gone-team"), "unused");
    assert_eq!(state_of(&review, "data-team"), "unknown");
    assert_eq!(state_of(&review, "orders-team"), "expiring");
    assert_eq!(state_of(&review, "batch-team"), "active");
    let summary = &review["summary"];
    assert_eq!(summary["total"], 6);
    assert_eq!(summary["expired"], 2);
    assert_eq!(summary["expired_failing"], true);
    let owners: Vec<&str> = (review["exceptions"].as_array().unwrap().iter())
        .map(|e| e["owner"].as_str().unwrap())
        .collect();
    assert_eq!(
        owners,
        [
            "analytics-team",
            "payments-team",
            "gone-team",
            "data-team",
            "orders-team",
            "batch-team"
        ]
    );
    let orders = &review["exceptions"][4];
    assert_eq!(orders["days_left"], 9);
    assert_eq!(orders["failing_keys"], serde_json::json!([ORDERS]));
    assert!(
        stderr.contains("exceptions: 2 expired, 1 unused, 1 unknown, 1 expiring, 1 active"),
        "{stderr}"
    );
}

#[test]
fn no_expired_exception_on_a_failing_key_exits_0_and_within_days_moves_the_window() {
    let more = more_exceptions();
    let (code, review, stderr) = review(&["--inventory", "fleet.json", "--exceptions", s(&more)]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(review["summary"]["expired_failing"], false);
    assert_eq!(state_of(&review, "payments-team"), "expired");

    let (_, review, _) = review_within(&more, "8");
    assert_eq!(state_of(&review, "orders-team"), "active");
    let (_, review, _) = review_within(&more, "9");
    assert_eq!(state_of(&review, "orders-team"), "expiring");
}

fn review_within(more: &Path, days: &str) -> (i32, Value, String) {
    review(&[
        "--inventory",
        "fleet.json",
        "--exceptions",
        s(more),
        "--within-days",
        days,
    ])
}

#[test]
fn a_saved_report_gives_the_same_review_as_its_scan() {
    let more = more_exceptions();
    let report = common::scratch("report.json");
    let scan = kms_rotation(&[
        "scan",
        "--inventory",
        "fleet.json",
        "--exceptions",
        "exceptions.yaml",
        "--exceptions",
        s(&more),
        "--now",
        NOW,
        "-q",
        "-o",
        s(&report),
    ]);
    assert_eq!(code(&scan), 1, "{}", stderr(&scan));
    let (code, from_report, _) = review(&["--report", s(&report)]);
    assert_eq!(code, 1);
    let (_, from_scan, _) = review(&[
        "--inventory",
        "fleet.json",
        "--exceptions",
        "exceptions.yaml",
        "--exceptions",
        s(&more),
    ]);
    assert_eq!(from_report, from_scan);
}

#[test]
fn an_incomplete_report_exits_3_and_calls_no_exception_unused() {
    let mut policy = Policy::default();
    policy.add_exceptions_file(more_exceptions()).unwrap();
    let scope_error = ScopeError {
        account_id: Some("111122223333".into()),
        region: Some("ap-south-2".into()),
        operation: "ListKeys".into(),
        code: "AccessDeniedException".into(),
        message: String::new(),
    };
    let report = Report::evaluate(
        &common::fleet(),
        policy,
        ReportScope::default(),
        vec![scope_error],
        NOW.parse().unwrap(),
    );
    let file = common::scratch("incomplete.json");
    std::fs::write(&file, serde_json::to_vec(&report).unwrap()).unwrap();
    let (code, review, _) = review(&["--report", s(&file)]);
    assert_eq!(code, 3);
    assert_eq!(review["complete"], false);
    assert_eq!(state_of(&review, "gone-team"), "unknown");
    assert_eq!(review["summary"]["unused"], 0);
}

#[test]
fn bad_input_exits_2_naming_the_flag() {
    let missing = kms_rotation(&["exceptions", "--report", "no-such-report.json"]);
    assert_eq!(code(&missing), 2, "{}", stderr(&missing));
    assert!(
        stderr(&missing).contains("no-such-report.json"),
        "{}",
        stderr(&missing)
    );
    for (flag, value, named) in [
        // Not with --report: the scan's flags.
        ("--report", "r.json", "--report"),
        ("--within-days", "soon", "--within-days"),
        ("--region", "mars-north-1", "--region"),
    ] {
        let out = kms_rotation(&["exceptions", "--inventory", "fleet.json", flag, value]);
        assert_eq!(code(&out), 2, "{flag}: {}", stderr(&out));
        assert!(stderr(&out).contains(named), "{flag}: {}", stderr(&out));
    }
}

/// `exceptions` of the sample fleet and its exceptions as of [`NOW`], in `format`, quietly.
fn sample_review(format: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "exceptions",
        "--inventory",
        "fleet.json",
        "--exceptions",
        "exceptions.yaml",
        "--now",
        NOW,
        "--format",
        format,
        "-q",
    ];
    args.extend_from_slice(extra);
    kms_rotation(&args)
}

#[test]
fn table_and_markdown_are_for_people_and_output_writes_a_file() {
    let table = sample_review("table", &[]);
    assert_eq!(code(&table), 1);
    let text = stdout(&table);
    assert!(
        text.starts_with("2 exception(s): 1 expired, 0 unused"),
        "{text}"
    );
    assert!(text.contains("STATE    EXPIRES"), "{text}");
    assert!(stderr(&table).is_empty(), "{}", stderr(&table));

    let file = common::scratch("exceptions.md");
    let markdown = sample_review("markdown", &["-o", s(&file)]);
    assert_eq!(code(&markdown), 1);
    assert!(stdout(&markdown).is_empty());
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.starts_with("# KMS key rotation exceptions: EXPIRED"),
        "{text}"
    );
    assert!(text.contains("| expired | 2025-01-31 |"), "{text}");
}
