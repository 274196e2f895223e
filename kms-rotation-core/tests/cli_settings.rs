//! Where a flag's value comes from: the command line, then its KMS_ROTATION_* variable, then
//! the config file, then its default; and a config file that is wrong anywhere stops the
//! command before it reads anything.
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

/// A working directory of its own for each test, holding `kms-rotation.yaml` when given.
fn workdir(name: &str, config: Option<&str>) -> PathBuf {
    let dir = common::scratch(name);
    std::fs::create_dir_all(&dir).unwrap();
    if let Some(text) = config {
        std::fs::write(dir.join("kms-rotation.yaml"), text).unwrap();
    }
    dir
}

/// The command in `dir`, with nothing from the developer's shell but `env`.
fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    common::cli()
        .args(args)
        .current_dir(dir)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exited, not killed")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn example(file: &str) -> String {
    let path = common::examples_dir().join(file).canonicalize().unwrap();
    path.to_str().unwrap().to_owned()
}

/// Whether stdout is NDJSON (one finding a line) rather than one JSON report.
fn is_ndjson(out: &Output) -> bool {
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.is_empty(), "{}", stderr(out));
    text.lines().count() > 1 && text.lines().all(|l| l.starts_with('{') && l.ends_with('}'))
}

#[test]
fn a_flag_beats_its_variable_which_beats_the_file_which_beats_the_default() {
    let inventory = example("fleet.json");
    let scan = ["scan", "--inventory", &inventory, "-q"];
    // Defaults: the JSON report in a pipe, and exit 1 on the sample fleet's fails.
    let plain = workdir("defaults", None);
    let out = run(&plain, &scan, &[]);
    assert_eq!(
        (code(&out), is_ndjson(&out)),
        (1, false),
        "{}",
        stderr(&out)
    );

    let dir = workdir(
        "precedence",
        Some("scan:\n  format: ndjson\n  fail-on: none\n"),
    );
    let out = run(&dir, &scan, &[]);
    assert_eq!(
        (code(&out), is_ndjson(&out)),
        (0, true),
        "file: {}",
        stderr(&out)
    );

    let env = [
        ("KMS_ROTATION_FAIL_ON", "fail"),
        ("KMS_ROTATION_FORMAT", "json"),
    ];
    let out = run(&dir, &scan, &env);
    assert_eq!(
        (code(&out), is_ndjson(&out)),
        (1, false),
        "env: {}",
        stderr(&out)
    );

    let typed = [&scan[..], &["--fail-on", "none", "--format", "ndjson"]].concat();
    let out = run(&dir, &typed, &env);
    assert_eq!(
        (code(&out), is_ndjson(&out)),
        (0, true),
        "flags: {}",
        stderr(&out)
    );
}

#[test]
fn a_variable_takes_a_list_with_commas_and_a_flag_true_or_false() {
    let dir = workdir("variables", None);
    let inventory = example("fleet.json");
    let scan = [
        "scan",
        "--inventory",
        &inventory,
        "--format",
        "ndjson",
        "-q",
    ];
    let out = run(
        &dir,
        &scan,
        &[("KMS_ROTATION_REGION", "us-west-2,eu-west-1")],
    );
    let regions: std::collections::BTreeSet<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<kms_rotation::Finding>(l)
                .unwrap()
                .region
        })
        .collect();
    assert_eq!(regions, ["eu-west-1", "us-west-2"].map(String::from).into());

    let typo = [&scan[..], &["--region", "us-esat-1"]].concat();
    assert_eq!(code(&run(&dir, &typo, &[])), 2);
    let allowed = [("KMS_ROTATION_ALLOW_UNKNOWN_REGION", "true")];
    assert_eq!(code(&run(&dir, &typo, &allowed)), 0);
    let refused = [("KMS_ROTATION_ALLOW_UNKNOWN_REGION", "false")];
    assert_eq!(code(&run(&dir, &typo, &refused)), 2);
    let out = run(
        &dir,
        &typo,
        &[("KMS_ROTATION_ALLOW_UNKNOWN_REGION", "yes please")],
    );
    assert_eq!(code(&out), 2, "not a boolean: {}", stderr(&out));
}

#[test]
fn the_config_file_is_named_by_flag_or_variable_or_found_in_the_working_directory() {
    let config = format!(
        "inventory: {}\nscan:\n  format: ndjson\n  quiet: true\n",
        example("fleet.json")
    );
    let found = workdir("found", Some(&config));
    assert!(is_ndjson(&run(&found, &["scan"], &[])));

    let named = workdir("named", None);
    std::fs::write(named.join("audit.yaml"), &config).unwrap();
    assert!(is_ndjson(&run(
        &named,
        &["scan", "--config", "audit.yaml"],
        &[]
    )));
    assert!(is_ndjson(&run(
        &named,
        &["--config=audit.yaml", "scan"],
        &[]
    )));
    let by_env = [("KMS_ROTATION_CONFIG", "audit.yaml")];
    assert!(is_ndjson(&run(&named, &["scan"], &by_env)));

    let out = run(&named, &["scan", "--config", "missing.yaml"], &[]);
    assert_eq!(code(&out), 2, "a named file must exist: {}", stderr(&out));
    assert!(stderr(&out).contains("missing.yaml"), "{}", stderr(&out));

    // -v says which file was read.
    let out = run(&found, &["scan", "-v"], &[]);
    assert!(
        stderr(&out).contains("kms-rotation.yaml"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_wrong_config_file_is_exit_2_naming_file_line_and_key_before_anything_is_read() {
    for (config, needles) in [
        (
            "inventory: fleet.json\nscan:\n  fial-on: none\n",
            &["kms-rotation.yaml:3:3:", "fial-on"][..],
        ),
        (
            "scan:\n  read-concurrency: lots\n",
            &["kms-rotation.yaml:2:21:", "scan.read-concurrency", "lots"][..],
        ),
        ("region: [us-east-1\n", &["kms-rotation.yaml:2:1:"][..]),
    ] {
        let dir = workdir("wrong", Some(config));
        let out = run(&dir, &["scan"], &[]);
        assert_eq!(code(&out), 2, "{config:?}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{config:?}");
        for needle in needles {
            assert!(
                stderr(&out).contains(needle),
                "{config:?}: {}",
                stderr(&out)
            );
        }
    }
}

/// A write is asked for by typing --yes: a variable or a file left behind never turns a dry run
/// into a real one.
#[test]
fn yes_is_never_read_from_the_environment_or_a_file() {
    let dir = workdir("yes", None);
    let plan = dir.join("plan.json");
    let out = run(
        &dir,
        &[
            "plan",
            "--inventory",
            &example("fleet.json"),
            "-o",
            plan.to_str().unwrap(),
            "-q",
        ],
        &[],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let apply = [
        "apply",
        "--plan",
        "plan.json",
        "--journal",
        "journal.ndjson",
    ];
    let out = run(&dir, &apply, &[("KMS_ROTATION_YES", "true")]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let outcome: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(outcome["dry_run"], true);
    assert!(!dir.join("journal.ndjson").exists());

    std::fs::write(dir.join("kms-rotation.yaml"), "apply:\n  yes: true\n").unwrap();
    let out = run(&dir, &apply, &[]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("--yes"), "{}", stderr(&out));
    assert!(!dir.join("journal.ndjson").exists());
}

/// A variable counts as given: with `plan --report`, a scan variable is refused as the flag is,
/// never silently ignored.
#[test]
fn a_variable_conflicts_as_its_flag_does() {
    let dir = workdir("conflict", None);
    let out = run(
        &dir,
        &["plan", "--report", "report.json"],
        &[("KMS_ROTATION_REGION", "us-east-1")],
    );
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("--region"), "{}", stderr(&out));
}
