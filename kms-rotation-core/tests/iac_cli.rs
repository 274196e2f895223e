//! `scan --terraform-plan` and `scan --cloudformation`: a pull-request check from the command
//! line, with SARIF that points at the lines.
#![allow(clippy::unwrap_used)]

mod common;

use serde_json::Value;

fn scan(args: &[&str]) -> std::process::Output {
    common::cli()
        .arg("scan")
        .args(args)
        .args(["--now", "2026-12-01T00:00:00Z"])
        .output()
        .unwrap()
}

#[test]
fn a_plan_and_templates_are_scanned_and_failing_keys_exit_1() {
    for args in [
        &["--terraform-plan", "iac/plan.json"][..],
        &["--cloudformation", "iac/template.yaml", "iac/template.json"][..],
    ] {
        let out = scan(&[args, &["--format", "sarif"]].concat());
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
        let results = sarif["runs"][0]["results"].as_array().unwrap();
        assert!(!results.is_empty());
        for result in results {
            let physical = &result["locations"][0]["physicalLocation"];
            let uri = physical["artifactLocation"]["uri"].as_str().unwrap();
            assert!(uri.starts_with("iac/"), "{uri}");
            assert!(physical["region"]["startLine"].as_u64().unwrap() >= 1);
        }
    }
}

#[test]
fn code_sources_conflict_with_each_other_and_with_aws_and_bad_input_is_exit_2() {
    for args in [
        &[
            "--terraform-plan",
            "iac/plan.json",
            "--inventory",
            "fleet.json",
        ][..],
        &[
            "--cloudformation",
            "iac/template.yaml",
            "--terraform-plan",
            "iac/plan.json",
        ][..],
        &["--cloudformation", "iac/template.yaml", "--profile", "x"][..],
        &["--terraform-plan", "iac/template.json"][..],
        &["--cloudformation", "fleet.json"][..],
    ] {
        let out = scan(args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = scan(&["--terraform-plan", "iac/template.json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("iac/template.json") && stderr.contains("format_version"),
        "{stderr}"
    );
}
