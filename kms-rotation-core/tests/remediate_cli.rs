//! `kms-rotation plan`, `apply` and `rollback` as a person or a CI job sees them: outputs, dry
//! runs that touch nothing, and exit code 2 naming the place of bad input.
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Output;

use kms_rotation::remediate::Plan;

fn kms_rotation(args: &[&str]) -> Output {
    common::cli().args(args).output().unwrap()
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("exited, not killed")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

const SCAN: &[&str] = &[
    "--inventory",
    "fleet.json",
    "--policy",
    "policy.yaml",
    "--exceptions",
    "exceptions.yaml",
    "--now",
    "2026-11-22T12:00:00Z",
];

fn plan_args(extra: &[&str]) -> Vec<String> {
    ["plan"]
        .iter()
        .chain(SCAN)
        .chain(extra)
        .map(|s| (*s).to_owned())
        .collect()
}

fn run(args: &[String]) -> Output {
    kms_rotation(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

#[test]
fn plan_from_an_inventory_prints_a_plan_that_apply_can_read() {
    let out = run(&plan_args(&["-q"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let path = common::scratch("plan.json");
    std::fs::write(&path, &out.stdout).unwrap();
    let plan = Plan::from_file(&path).unwrap();
    assert_eq!(plan.actions.len(), 5);
    assert!(out.stderr.is_empty(), "-q: {}", stderr(&out));
}

#[test]
fn plan_from_a_saved_report_matches_plan_from_the_scan() {
    let report = common::scratch("report.json");
    let mut scan = vec!["scan"];
    scan.extend(SCAN);
    scan.extend(["-q", "-o", s(&report)]);
    assert_eq!(code(&kms_rotation(&scan)), 1);

    let from_report = kms_rotation(&["plan", "--report", s(&report), "--format", "table", "-q"]);
    assert_eq!(code(&from_report), 0, "{}", stderr(&from_report));
    let from_scan = run(&plan_args(&["--format", "table", "-q"]));
    let strip = |o: &Output| String::from_utf8(o.stdout.clone()).unwrap();
    assert_eq!(strip(&from_report), strip(&from_scan));
    assert!(strip(&from_report).contains("5 action(s)"));
}

#[test]
fn plan_as_a_script_is_written_for_review() {
    let path = common::scratch("plan.sh");
    let out = run(&plan_args(&[
        "--format",
        "script",
        "-o",
        path.to_str().unwrap(),
        "--priority",
        "exposure,tag:environment=prod",
        "--exclude-account",
        "444455556666",
    ]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let script = std::fs::read_to_string(&path).unwrap();
    assert!(script.contains("set -euo pipefail"));
    assert_eq!(script.matches("aws kms enable-key-rotation").count(), 4);
    assert!(!script.contains("444455556666:key"), "excluded account");
    assert!(stderr(&out).contains("4 action(s)"), "{}", stderr(&out));
    // Each command says why it comes where it does: the public key first.
    let first = script
        .find("# priority 1: public: statement `PublicDecrypt`")
        .unwrap();
    assert!(first < script.find("# priority 2: cross_account: grant").unwrap());
}

#[test]
fn bad_plan_options_are_exit_2_naming_the_option() {
    let out = run(&plan_args(&["--target-period-days", "30"]));
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("--target-period-days"),
        "{}",
        stderr(&out)
    );
    assert!(out.stdout.is_empty());

    for bad in ["no-equals-sign", "tag:no-equals-sign", "exposure,prod"] {
        let out = run(&plan_args(&["--priority", bad]));
        assert_eq!(code(&out), 2, "{bad}");
        assert!(stderr(&out).contains("--priority"), "{}", stderr(&out));
    }

    // Without --report or --inventory, plan scans AWS like scan: with no region configured
    // that is refused before any call.
    let out = common::cli()
        .arg("plan")
        .env_remove("AWS_REGION")
        .output()
        .unwrap();
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("no region"), "{}", stderr(&out));
}

#[test]
fn apply_without_yes_is_a_dry_run_that_calls_and_writes_nothing() {
    let plan = common::scratch("dry-plan.json");
    let out = run(&plan_args(&["-q", "-o", s(&plan)]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let journal = common::scratch("dry-journal.ndjson");
    // An endpoint nobody listens on: any call would fail the run.
    let out = kms_rotation(&[
        "apply",
        "--plan",
        s(&plan),
        "--journal",
        s(&journal),
        "--endpoint-url",
        "http://127.0.0.1:9",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stderr(&out).contains("dry run"), "{}", stderr(&out));
    assert!(!journal.exists(), "a dry run writes no journal");
    let outcome: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(outcome["dry_run"], true);
    let results = outcome["results"].as_array().unwrap();
    assert_eq!(results.len(), 5, "{outcome}");
    assert!(
        results.iter().all(|r| r["status"] == "would_remediate"),
        "{outcome}"
    );
    assert!(
        stderr(&out).contains("dry run: 5 key(s)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn apply_runs_the_batches_it_is_given() {
    let plan = common::scratch("batch-plan.json");
    let out = run(&plan_args(&["-q", "--batch-size", "2", "-o", s(&plan)]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let results = |batches: &str| {
        let out = kms_rotation(&[
            "apply",
            "--plan",
            s(&plan),
            "--batch",
            batches,
            "--format",
            "json",
        ]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let outcome: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        outcome["results"].as_array().unwrap().len()
    };
    // Five actions in batches of two.
    assert_eq!(results("1"), 2);
    assert_eq!(results("2,3"), 3);
    let out = kms_rotation(&["apply", "--plan", s(&plan), "--batch", "4"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("--batch"), "{}", stderr(&out));
    assert!(stderr(&out).contains("1 to 3"), "{}", stderr(&out));
}

#[test]
fn apply_with_a_broken_plan_is_exit_2_naming_file_and_line() {
    let plan = common::scratch("broken-plan.json");
    let out = run(&plan_args(&["-q", "-o", s(&plan)]));
    assert_eq!(code(&out), 0);
    let text = std::fs::read_to_string(&plan).unwrap().replacen(
        "\"rotation_period_days\": 365",
        "\"rotation_period_days\": 9999",
        1,
    );
    std::fs::write(&plan, &text).unwrap();
    let line = text.lines().position(|l| l.contains("9999")).unwrap() + 1;
    let journal = common::scratch("broken-journal.ndjson");
    let out = kms_rotation(&[
        "apply",
        "--plan",
        s(&plan),
        "--journal",
        s(&journal),
        "--yes",
    ]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    let message = stderr(&out);
    assert!(
        message.contains(&format!("{}:{line}:", plan.display())),
        "{message}"
    );
    assert!(message.contains("rotation_period_days"), "{message}");
    assert!(!journal.exists(), "nothing written before the plan checks");
}

#[test]
fn rollback_without_yes_lists_what_it_would_undo() {
    let journal = common::scratch("rollback-journal.ndjson");
    let arn = "arn:aws:kms:us-east-1:111122223333:key/00000003-0000-4000-8000-000000000003";
    std::fs::write(
        &journal,
        format!(
            "{{\"at\":\"2026-11-22T12:00:00Z\",\"run_id\":\"r1\",\"target_arn\":\"{arn}\",\"event\":\"before\",\"state\":{{\"enabled\":true,\"period_days\":730}},\"error\":null}}\n\
             {{\"at\":\"2026-11-22T12:00:01Z\",\"run_id\":\"r1\",\"target_arn\":\"{arn}\",\"event\":\"after\",\"state\":{{\"enabled\":true,\"period_days\":365}},\"error\":null}}\n"
        ),
    )
    .unwrap();
    let before = std::fs::read(&journal).unwrap();
    let out = kms_rotation(&["rollback", "--journal", s(&journal)]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let outcome: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(outcome["results"][0]["target_arn"], arn, "{stdout}");
    assert_eq!(
        outcome["results"][0]["status"], "would_roll_back",
        "{stdout}"
    );
    assert_eq!(
        outcome["results"][0]["restore"]["period_days"], 730,
        "{stdout}"
    );
    assert_eq!(
        std::fs::read(&journal).unwrap(),
        before,
        "journal untouched"
    );

    std::fs::write(&journal, "{\"at\": 1}\n").unwrap();
    let out = kms_rotation(&["rollback", "--journal", s(&journal), "--yes"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains(&format!("{}:1:", journal.display())),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_second_apply_or_rollback_on_a_journal_in_use_is_refused_before_any_call() {
    let plan = common::scratch("locked-plan.json");
    let out = run(&plan_args(&["-q", "-o", s(&plan)]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let journal = common::scratch("locked-journal.ndjson");
    // This process holds the journal, as a running apply would.
    let held = kms_rotation::remediate::Journal::open(&journal).unwrap();
    // An endpoint nobody listens on: a call would fail differently.
    let endpoint = ["--endpoint-url", "http://127.0.0.1:9"];
    for args in [
        vec![
            "apply",
            "--plan",
            s(&plan),
            "--journal",
            s(&journal),
            "--yes",
        ],
        vec!["rollback", "--journal", s(&journal), "--yes"],
    ] {
        let out = kms_rotation(&[args.as_slice(), &endpoint].concat());
        assert_eq!(code(&out), 3, "{}", stderr(&out));
        let message = stderr(&out);
        assert!(
            message.contains("in use by another apply or rollback"),
            "{message}"
        );
        assert!(message.contains(s(&journal)), "{message}");
    }
    // A dry run only reads: it is not refused.
    let out = kms_rotation(&["rollback", "--journal", s(&journal)]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    drop(held);
    assert_eq!(std::fs::read(&journal).unwrap(), b"", "nothing written");
}

#[test]
fn rollback_warns_about_a_torn_last_line_and_lists_a_possibly_applied_change() {
    let journal = common::scratch("torn-journal.ndjson");
    let arn = "arn:aws:kms:us-east-1:111122223333:key/00000002-0000-4000-8000-000000000002";
    // An intent with no outcome, then half a line: a run killed while journaling.
    std::fs::write(
        &journal,
        format!(
            "{{\"at\":\"2026-11-22T12:00:00Z\",\"run_id\":\"r1\",\"target_arn\":\"{arn}\",\"event\":\"before\",\"state\":{{\"enabled\":false}},\"target\":{{\"enabled\":true,\"period_days\":365}},\"error\":null}}\n\
             {{\"at\":\"2026-11-22T12:00:01Z\",\"run_id\":\"r1\",\"tar"
        ),
    )
    .unwrap();
    let out = kms_rotation(&["rollback", "--journal", s(&journal)]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let message = stderr(&out);
    assert!(message.contains("warning:"), "{message}");
    assert!(message.contains("line 2 is incomplete"), "{message}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let outcome: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(outcome["results"][0]["target_arn"], arn, "{stdout}");
    assert_eq!(
        outcome["results"][0]["restore"]["enabled"], false,
        "{stdout}"
    );
    assert_eq!(outcome["results"][0]["possibly_applied"], true, "{stdout}");
}
