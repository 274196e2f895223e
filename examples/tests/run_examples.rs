//! Every example runs and prints what its doc says.
#![allow(clippy::unwrap_used)]

use std::process::Command;

#[test]
fn evaluate_fleet_prints_the_summary_of_the_sample_fleet() {
    let out = Command::new(env!("CARGO_BIN_EXE_evaluate_fleet"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    for line in [
        "keys: 22",
        "fail: 7",
        "exempt: 1",
        "error: 2",
        "compliant: false",
    ] {
        assert!(
            stdout.lines().any(|l| l == line),
            "{line:?} missing from:\n{stdout}"
        );
    }
    assert!(stdout.contains("rotation_period_exceeds_policy (alias/reports)"));
}

#[test]
fn evaluate_fleet_reports_bad_input_and_exits_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_evaluate_fleet"))
        .arg("/nonexistent/fleet.json")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/fleet.json"));
}
