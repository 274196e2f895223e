//! The commands that explain and set up rather than scan: `explain`, `iam-policy`,
//! `completions` and `man`. They make no AWS call; the environment points any stray one at a
//! closed loopback port.
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used)]

mod common;

use std::process::Output;

use kms_rotation::aws::permissions::Mode;
use kms_rotation::explain::{REASONS, explain};
use kms_rotation::ops::{self, IamPolicyOptions};
use serde_json::Value;

fn kms_rotation(args: &[&str]) -> Output {
    common::cli().args(args).output().unwrap()
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("exited, not killed")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

const SUBCOMMANDS: [&str; 14] = [
    "scan",
    "convert",
    "merge",
    "plan",
    "exceptions",
    "diff",
    "apply",
    "rollback",
    "explain",
    "iam-policy",
    "baseline",
    "event",
    "completions",
    "man",
];

#[test]
fn explain_without_a_code_lists_every_code_with_its_status() {
    let out = kms_rotation(&["explain"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    for reason in REASONS {
        let line = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(reason.as_str()))
            .unwrap_or_else(|| panic!("{reason} is not listed:\n{text}"));
        let explanation = explain(reason);
        assert!(line.contains(explanation.statuses[0].as_str()), "{line}");
    }
}

#[test]
fn explain_gives_meaning_why_and_both_fixes_for_every_code() {
    for reason in REASONS {
        let out = kms_rotation(&["explain", reason.as_str()]);
        assert_eq!(code(&out), 0, "{reason}: {}", stderr(&out));
        let text = stdout(&out);
        assert!(text.starts_with(reason.as_str()), "{text}");
        for heading in [
            "What it means",
            "Why it matters",
            "How to fix it in the AWS console",
            "How to fix it with the aws CLI",
        ] {
            assert!(text.contains(heading), "{reason}: no `{heading}`:\n{text}");
        }
        // Commands are printed whole, one a line, so they can be copied.
        for command in explain(reason).fix_cli {
            assert!(
                text.lines().any(|l| l.trim() == *command),
                "{reason}: {command}"
            );
        }
    }
}

#[test]
fn explain_as_json_is_the_cores_explanation() {
    let out = kms_rotation(&["explain", "rotation_disabled", "--format", "json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let printed: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let core = serde_json::to_value(explain(kms_rotation::Reason::RotationDisabled)).unwrap();
    assert_eq!(printed, core);
    let out = kms_rotation(&["explain", "--format", "json"]);
    let all: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(all.as_array().unwrap().len(), REASONS.len());
}

#[test]
fn explain_refuses_an_unknown_code_with_exit_2() {
    let out = kms_rotation(&["explain", "rotation_off"]);
    assert_eq!(code(&out), 2);
    assert!(stdout(&out).is_empty());
    assert!(
        stderr(&out).contains("`rotation_off` is not a reason code")
            && stderr(&out).contains("rotation_disabled"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn iam_policy_prints_the_cores_document_and_describes_each_action() {
    let role = "arn:aws:iam::111122223333:role/kms-rotation-scanner";
    for (flag, mode) in [
        ("--read-only", Mode::ReadOnly),
        ("--remediate", Mode::Remediate),
    ] {
        let out = kms_rotation(&["iam-policy", flag, "--role-arn", role]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let printed: Value = serde_json::from_str(&stdout(&out)).unwrap();
        let policy = ops::iam_policy(IamPolicyOptions {
            mode,
            role_arns: vec![role.to_owned()],
        })
        .unwrap();
        assert_eq!(printed, serde_json::to_value(&policy.document).unwrap());
        let description = stderr(&out);
        for permission in &policy.permissions {
            let need = if permission.optional {
                "optional"
            } else {
                "required"
            };
            assert!(
                description.contains(&format!("# {} ({need}", permission.action)),
                "{}: {description}",
                permission.action
            );
        }
    }
    let quiet = kms_rotation(&["iam-policy", "--read-only", "--quiet"]);
    assert_eq!(code(&quiet), 0);
    assert!(stderr(&quiet).is_empty(), "{}", stderr(&quiet));
}

#[test]
fn iam_policy_needs_exactly_one_mode_and_valid_roles() {
    for args in [
        &["iam-policy"][..],
        &["iam-policy", "--read-only", "--remediate"],
    ] {
        let out = kms_rotation(args);
        assert_eq!(code(&out), 2, "{args:?}");
        assert!(stdout(&out).is_empty());
    }
    let out = kms_rotation(&["iam-policy", "--read-only", "--role-arn", "kms-rotation"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("--role-arn"), "{}", stderr(&out));
}

#[test]
fn completions_generate_for_each_shell_and_name_every_subcommand() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = kms_rotation(&["completions", shell]);
        assert_eq!(code(&out), 0, "{shell}: {}", stderr(&out));
        let script = stdout(&out);
        for subcommand in SUBCOMMANDS {
            assert!(script.contains(subcommand), "{shell}: no {subcommand}");
        }
        assert!(
            script.contains("--role-arn"),
            "{shell}: flags are completed too"
        );
    }
    assert_eq!(code(&kms_rotation(&["completions", "tcsh"])), 2);
}

#[test]
fn man_prints_roff_pages_for_the_command_and_its_subcommands() {
    let out = kms_rotation(&["man"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let page = stdout(&out);
    assert!(page.contains(".TH kms-rotation 1"), "{page}");
    assert!(page.contains(".SH NAME") && page.contains(".SH SYNOPSIS"));
    for subcommand in SUBCOMMANDS {
        let escaped = format!("kms\\-rotation\\-{}(1)", subcommand.replace('-', "\\-"));
        assert!(page.contains(&escaped), "no {escaped}");
    }
    let out = kms_rotation(&["man", "scan"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let page = stdout(&out);
    assert!(page.contains(".TH kms-rotation-scan 1"), "{page}");
    assert!(page.contains("\\-\\-inventory"));
    assert_eq!(code(&kms_rotation(&["man", "scna"])), 2);
}

/// SECURITY.md shows, under each `kms-rotation iam-policy ...` command, the document it prints:
/// each is checked against the command's real output, so the page cannot drift from the code.
#[test]
fn the_policies_in_security_md_are_what_iam_policy_prints() {
    let page =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../SECURITY.md")).unwrap();
    let section = page.split("## IAM permissions").nth(1).unwrap();
    let section = section.split("\n## ").next().unwrap();
    let blocks: Vec<&str> = section.split("```").skip(1).step_by(2).collect();
    let mut checked = 0;
    for pair in blocks.windows(2) {
        let (Some(command), Some(json)) =
            (pair[0].strip_prefix("sh\n"), pair[1].strip_prefix("json\n"))
        else {
            continue;
        };
        let args: Vec<&str> = command
            .split_whitespace()
            .skip(1)
            .chain(["--quiet"])
            .collect();
        let out = kms_rotation(&args);
        assert_eq!(code(&out), 0, "{command}: {}", stderr(&out));
        let printed: Value = serde_json::from_str(&stdout(&out)).unwrap();
        let shown: Value = serde_json::from_str(json).unwrap();
        assert_eq!(
            shown,
            printed,
            "SECURITY.md disagrees with `{}`",
            command.trim()
        );
        checked += 1;
    }
    assert_eq!(checked, 2, "one policy per mode");
}
