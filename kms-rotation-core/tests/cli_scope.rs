//! `kms-rotation scan --account`: a value that is not an account id is bad input (exit 2) before
//! anything is read, and an account asked for that the scan did not read makes the report
//! incomplete (exit 3), never a compliant exit 0.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::Output;

use kms_rotation::Report;

fn scan(extra: &[&str]) -> Output {
    common::cli()
        .args(["scan", "--inventory", "fleet.json", "--quiet"])
        .args(extra)
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn an_account_id_that_is_not_12_digits_is_exit_2_naming_it() {
    for bad in ["12345", "11112222333x", "1111222233334"] {
        let out = scan(&["--account", "111122223333", "--account", bad]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(out.stdout.is_empty(), "no report for bad input");
        let message = stderr(&out);
        assert!(message.contains(&format!("`{bad}`")), "{message}");
        assert!(message.contains("12 digits"), "{message}");
    }
}

#[test]
fn an_account_the_inventory_does_not_have_is_exit_3_and_says_so() {
    let out = scan(&["--account", "999999999999", "--fail-on", "none"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let report: Report = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!report.is_complete());
    let error = &report.scope_errors[0];
    assert_eq!(error.account_id.as_deref(), Some("999999999999"));
    assert_eq!(error.code, "AccountNotRead");
    assert!(report.findings.is_empty());
}

#[test]
fn an_account_the_inventory_has_is_read_and_complete() {
    let out = scan(&["--account", "444455556666", "--fail-on", "none"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: Report = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report.is_complete(), "{:?}", report.scope_errors);
    assert_eq!(report.findings.len(), 3);
    assert_eq!(report.scope.accounts, ["444455556666"]);
}
