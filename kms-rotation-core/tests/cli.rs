//! The `kms-rotation` command: output, exit codes and error messages, as a CI job sees them.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Output;

use kms_rotation::{Finding, Status};

fn kms_rotation(args: &[&str]) -> Output {
    common::cli().args(args).output().unwrap()
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("exited, not killed")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

const SAMPLE: &[&str] = &[
    "scan",
    "--inventory",
    "fleet.json",
    "--policy",
    "policy.yaml",
    "--exceptions",
    "exceptions.yaml",
];

fn with(extra: &[&'static str]) -> Vec<&'static str> {
    SAMPLE.iter().chain(extra).copied().collect()
}

#[test]
fn ndjson_scan_of_the_sample_fleet_prints_one_finding_per_key_and_exits_1() {
    let out = kms_rotation(&with(&[
        "--format",
        "ndjson",
        "--now",
        "2026-11-22T12:00:00Z",
    ]));
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    let findings: Vec<Finding> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(findings.len(), common::fleet().len());

    // The same verdicts as the library gives for the same inputs.
    let mut policy =
        kms_rotation::Policy::from_file(common::examples_dir().join("policy.yaml")).unwrap();
    policy
        .add_exceptions_file(common::examples_dir().join("exceptions.yaml"))
        .unwrap();
    let now = "2026-11-22T12:00:00Z".parse().unwrap();
    for finding in &findings {
        let record = common::fleet()
            .into_iter()
            .find(|r| r.arn == finding.arn)
            .unwrap();
        let expected = kms_rotation::evaluate(&record, &policy, now);
        assert_eq!(
            (finding.status, finding.reason),
            (expected.status, expected.reason)
        );
    }
    let statuses: std::collections::BTreeSet<_> = findings.iter().map(|f| f.status).collect();
    assert_eq!(statuses.len(), 5, "the fleet shows every status");
    // The summary goes to stderr, never into the machine output.
    assert!(stderr(&out).contains("22 keys"), "{}", stderr(&out));
}

#[test]
fn csv_and_markdown_scans_print_the_report_and_keep_the_exit_code() {
    let now = ["--now", "2026-11-22T12:00:00Z"];
    let csv_scan = kms_rotation(&with(&[&["--format", "csv"][..], &now].concat()));
    assert_eq!(code(&csv_scan), 1, "{}", stderr(&csv_scan));
    let mut reader = csv::Reader::from_reader(csv_scan.stdout.as_slice());
    let header = reader.headers().unwrap().clone();
    assert_eq!(&header[0], "account_id");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), common::fleet().len());
    let status = header.iter().position(|h| h == "status").unwrap();
    assert!(rows.iter().any(|r| &r[status] == "fail"));
    // The summary goes to stderr, never into the table.
    assert!(
        stderr(&csv_scan).contains("22 keys"),
        "{}",
        stderr(&csv_scan)
    );

    let markdown = kms_rotation(&with(
        &[&["--format", "markdown", "--quiet"][..], &now].concat(),
    ));
    assert_eq!(code(&markdown), 1, "{}", stderr(&markdown));
    let text = String::from_utf8(markdown.stdout).unwrap();
    assert!(
        text.starts_with("# KMS key rotation: NOT compliant"),
        "{text}"
    );
    assert!(text.contains("## Keys that need attention"), "{text}");
}

#[test]
fn an_html_scan_writes_one_page_and_keeps_the_exit_code() {
    let now = ["--now", "2026-11-22T12:00:00Z"];
    let html = kms_rotation(&with(
        &[&["--format", "html", "--quiet"][..], &now].concat(),
    ));
    assert_eq!(code(&html), 1, "{}", stderr(&html));
    let text = String::from_utf8(html.stdout).unwrap();
    assert!(text.starts_with("<!DOCTYPE html>"), "{text}");
    assert!(text.trim_end().ends_with("</html>"), "{text}");
    assert_eq!(
        text.matches("<tr data-status=").count(),
        common::fleet().len()
    );
}

#[test]
fn json_is_the_default_format() {
    let out = kms_rotation(&with(&["--quiet"]));
    assert_eq!(code(&out), 1);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["summary"]["compliant"], false);
    assert_eq!(report["findings"].as_array().unwrap().len(), 22);
    assert!(out.stderr.is_empty(), "--quiet: {}", stderr(&out));
}

#[test]
fn fail_on_sets_which_findings_gate() {
    assert_eq!(code(&kms_rotation(&with(&["--fail-on", "none", "-q"]))), 0);
    assert_eq!(code(&kms_rotation(&with(&["--fail-on", "error", "-q"]))), 1);
    // The second account's region holds a pass, a fail and an error: a scope narrowed to it
    // still gates. (Error findings alone: see the exit module's unit tests.)
    let region = with(&["--region", "us-west-2", "-q", "--format", "ndjson"]);
    assert_eq!(code(&kms_rotation(&region)), 1);
}

#[test]
fn an_exception_lapses_when_now_passes_its_expiry() {
    let before = kms_rotation(&with(&[
        "--format",
        "ndjson",
        "--now",
        "2030-12-31T23:00:00Z",
        "-q",
    ]));
    let after = kms_rotation(&with(&[
        "--format",
        "ndjson",
        "--now",
        "2031-01-01T00:00:00Z",
        "-q",
    ]));
    let exempt = |out: &Output| {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str::<Finding>(l).unwrap())
            .filter(|f| f.status == Status::Exempt)
            .count()
    };
    assert_eq!((exempt(&before), exempt(&after)), (1, 0));
}

#[test]
fn output_goes_to_a_file_and_stdout_stays_empty() {
    let dir = std::env::temp_dir().join(format!("kms-rotation-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("report.json");
    let path_str = path.to_str().unwrap().to_owned();
    let mut args = with(&["-q"]);
    let leaked: &'static str = Box::leak(path_str.into_boxed_str());
    args.extend(["--output", leaked]);
    let out = kms_rotation(&args);
    assert_eq!(code(&out), 1);
    assert!(out.stdout.is_empty());
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(report["schema_version"], 1);
    assert!(!dir.join("report.json.partial").exists());
    std::fs::remove_dir_all(dir).unwrap();
}

fn assert_bad_input(out: &Output, needles: &[&str]) {
    assert_eq!(code(out), 2, "{}", stderr(out));
    assert!(out.stdout.is_empty(), "nothing on stdout for bad input");
    let message = stderr(out);
    for needle in needles {
        assert!(message.contains(needle), "{message:?} lacks {needle:?}");
    }
}

#[test]
fn a_malformed_inventory_is_exit_2_naming_file_line_and_field() {
    let dir = std::env::temp_dir().join(format!("kms-rotation-cli-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.json");
    let fleet = std::fs::read_to_string(common::examples_dir().join("fleet.json")).unwrap();
    // Break the third key's key_state.
    let mut seen = 0;
    let broken: String = fleet
        .lines()
        .map(|line| {
            if line.contains("\"key_state\": \"Enabled\"") {
                seen += 1;
                if seen == 3 {
                    return line.replace("Enabled", "Enabeld");
                }
            }
            line.to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&bad, broken).unwrap();
    let out = kms_rotation(&["scan", "--inventory", bad.to_str().unwrap()]);
    assert_bad_input(&out, &["bad.json:", "keys[2].key_state", "Enabeld"]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_policy_exceptions_and_files_are_exit_2() {
    let dir = std::env::temp_dir().join(format!("kms-rotation-cli-pol-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let policy = dir.join("policy.yaml");
    std::fs::write(&policy, "max_rotation_period_days: 3000\n").unwrap();
    let exceptions = dir.join("exceptions.yaml");
    std::fs::write(
        &exceptions,
        "exceptions:\n  - match: {alias: alias/x}\n    reason: r\n    expires: 2027-01-01\n",
    )
    .unwrap();

    let out = kms_rotation(&[
        "scan",
        "--inventory",
        "fleet.json",
        "--policy",
        policy.to_str().unwrap(),
    ]);
    assert_bad_input(
        &out,
        &["policy.yaml:1:", "max_rotation_period_days", "90-2560"],
    );
    let out = kms_rotation(&[
        "scan",
        "--inventory",
        "fleet.json",
        "--exceptions",
        exceptions.to_str().unwrap(),
    ]);
    assert_bad_input(&out, &["exceptions.yaml:", "exceptions[0]", "owner"]);
    let out = kms_rotation(&["scan", "--inventory", "missing.json"]);
    assert_bad_input(&out, &["missing.json"]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_unknown_region_is_exit_2_unless_allowed() {
    let out = kms_rotation(&with(&["--region", "us-esat-1"]));
    assert_bad_input(&out, &["us-esat-1"]);
    let out = kms_rotation(&with(&[
        "--region",
        "us-esat-1",
        "--allow-unknown-region",
        "-q",
    ]));
    assert_eq!(code(&out), 0, "nothing in that region: compliant");
}

#[test]
fn a_bad_aws_option_names_its_flag() {
    // The AWS options are fields of the core's options like any other, so the error names the
    // field and the CLI turns it into the flag; nothing is read.
    for command in ["scan", "plan"] {
        let out = kms_rotation(&[command, "--region", "us-east-1", "--rate", "describe_key=1"]);
        assert_bad_input(&out, &["--rate:", "describe_key=1"]);
        let out = kms_rotation(&[command, "--region", "us-east-1", "--max-attempts", "0"]);
        assert_bad_input(&out, &["--max-attempts:", "at least 1"]);
        // The core's `exclude_accounts` of the organisation is --org-exclude-account, not
        // plan's --exclude-account (the plan's selection).
        let out = kms_rotation(&[
            command,
            "--region",
            "us-east-1",
            "--organization",
            "--org-role-name",
            "Audit",
            "--org-exclude-account",
            "1234",
        ]);
        assert_bad_input(&out, &["--org-exclude-account:", "1234"]);
    }
}

#[test]
fn usage_errors_are_exit_2() {
    assert_bad_input(&kms_rotation(&["scan", "--inventory"]), &["--inventory"]);
    assert_bad_input(
        &kms_rotation(&["scan", "--format", "xml", "--inventory", "fleet.json"]),
        &["xml"],
    );
    assert_bad_input(&kms_rotation(&["launch"]), &["launch"]);
}

#[test]
fn the_readme_example_files_exist() {
    for file in ["fleet.json", "policy.yaml", "exceptions.yaml"] {
        assert!(Path::new(&common::examples_dir().join(file)).exists());
    }
}

#[test]
fn a_saved_inventory_reproduces_the_same_findings() {
    let dir = std::env::temp_dir().join(format!("kms-rotation-cli-save-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let saved = dir.join("saved.json");
    let saved_str: &'static str = Box::leak(saved.to_str().unwrap().to_owned().into_boxed_str());
    let now = "2026-11-22T12:00:00Z";
    let first = kms_rotation(&with(&[
        "--format",
        "ndjson",
        "--now",
        now,
        "-q",
        "--save-inventory",
        saved_str,
    ]));
    assert_eq!(code(&first), 1);
    let again = kms_rotation(&[
        "scan",
        "--inventory",
        saved_str,
        "--policy",
        "policy.yaml",
        "--exceptions",
        "exceptions.yaml",
        "--format",
        "ndjson",
        "--now",
        now,
        "-q",
    ]);
    assert_eq!(code(&again), 1);
    assert_eq!(
        String::from_utf8_lossy(&first.stdout),
        String::from_utf8_lossy(&again.stdout)
    );
    std::fs::remove_dir_all(dir).unwrap();
}
