//! Several renderings from one run (`--output` repeated, FORMAT=FILE or by extension), and
//! `convert`, which renders a saved report again without scanning and refuses an edited one.
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used)]

mod common;

use kms_rotation::{Format, Report};

fn scan(args: &[&str]) -> std::process::Output {
    common::cli()
        .args(["scan", "--inventory", "fleet.json"])
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn one_scan_writes_every_output_in_its_own_format() {
    let json = common::scratch("outputs.json");
    let csv = common::scratch("outputs.txt");
    let asff = common::scratch("outputs.asff.json");
    let table = common::scratch("outputs-table.txt");
    let out = common::cli()
        .args(["scan", "--inventory", "fleet.json", "-q"])
        .arg("-o")
        .arg(&json)
        .arg("-o")
        .arg(format!("csv={}", csv.display()))
        .arg("--output")
        .arg(&asff)
        .arg("--output")
        .arg(format!("table={}", table.display()))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "every rendering went to its file");
    let report = Report::from_file(&json).unwrap();
    for (path, format) in [(&csv, Format::Csv), (&asff, Format::Asff)] {
        let written = std::fs::read_to_string(path).unwrap();
        // The same findings, rendered as the core renders them (only the time may differ).
        assert_eq!(written, report.render_to_string(format).unwrap());
    }
    let table = std::fs::read_to_string(&table).unwrap();
    assert!(table.contains("NOT compliant"), "{table}");
}

#[test]
fn a_bare_output_takes_format_and_format_names_stdout_with_dash() {
    let out = scan(&["--format", "csv", "-o", "-"]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("account_id,region,"));
    let md = common::scratch("bare.out");
    let out = scan(&["--format", "markdown", "-o", md.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        std::fs::read_to_string(&md)
            .unwrap()
            .starts_with("# KMS key rotation")
    );
}

#[test]
fn outputs_are_checked_before_the_scan() {
    for (args, message) in [
        (
            vec!["-o", "report.unknown"],
            "cannot tell the report format",
        ),
        (vec!["-o", "-", "-o", "json=-"], "stdout is given twice"),
        (vec!["-o", "csv="], "names no file"),
        (vec!["-o", "md=pr.md"], "`md` is not a report format"),
        (vec!["-o", "a.json", "-o", "./a.json"], "is given twice"),
        (
            vec!["-o", "rust/../a.json", "-o", "json=a.json"],
            "is given twice",
        ),
        (
            vec!["-o", "r.json", "--save-inventory", "./r.json"],
            "both a report output and --save-inventory",
        ),
        (
            vec!["--status", "fail", "-o", "json=-"],
            "a json report is always whole",
        ),
    ] {
        let out = scan(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn convert_renders_a_saved_report_again() {
    let saved = common::scratch("convert-saved.json");
    let out = scan(&["-q", "-o", saved.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let report = Report::from_file(&saved).unwrap();
    let md = common::scratch("convert.md");
    let out = common::cli()
        .args(["convert", "--report"])
        .arg(&saved)
        .args(["--format", "csv", "-o", "-", "-o"])
        .arg(&md)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        report.render_to_string(Format::Csv).unwrap()
    );
    // The bare `-o FILE` took --format too: csv.
    assert_eq!(
        std::fs::read_to_string(&md).unwrap(),
        report.render_to_string(Format::Csv).unwrap()
    );
}

#[test]
fn convert_refuses_an_edited_report() {
    let saved = common::scratch("convert-edited.json");
    scan(&["-q", "-o", saved.to_str().unwrap()]);
    let text = std::fs::read_to_string(&saved).unwrap();
    let edited = text.replacen("\"status\": \"fail\"", "\"status\": \"pass\"", 1);
    assert_ne!(edited, text);
    std::fs::write(&saved, edited).unwrap();
    let out = common::cli()
        .args(["convert", "--format", "asff", "--report"])
        .arg(&saved)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("status differs"), "{stderr}");
    assert!(out.stdout.is_empty());
}
