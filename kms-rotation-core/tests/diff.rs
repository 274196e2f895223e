//! `diff`: the progress between two reports, each category, the fail-closed `not_compared`, the
//! counts and their order, the refusals; and `kms-rotation diff`, its outputs and exit codes.
#![allow(clippy::unwrap_used)]

mod common;

use kms_rotation::diff::{DiffFormat, KeyChange, ReportDiff, compare};
use kms_rotation::model::Tags;
use kms_rotation::model::{KeySpec, Rotation};
use kms_rotation::ops::{self, DiffOptions};
use kms_rotation::{ErrorKind, KeyRecord, Policy, Report, ReportScope, ScopeError, Status};

const A: &str = "111122223333";
const B: &str = "444455556666";

fn arn(account: &str, region: &str, n: u32) -> String {
    format!("arn:aws:kms:{region}:{account}:key/{n:08x}-0000-4000-8000-{n:012x}")
}

#[derive(Clone, Copy)]
enum Kind {
    Pass,
    Fail,
    /// Fails, but carries the tag `exempt=yes`, which an exception of [`policy`] matches.
    Tagged,
    NotApplicable,
    /// Its rotation status was not read.
    Error,
}

fn key(account: &str, region: &str, n: u32, kind: Kind) -> KeyRecord {
    let mut record = common::failing(&arn(account, region, n));
    // Tags read on every key, so that the tag exception decides rather than being undecidable.
    record.tags = Some(Tags::new());
    match kind {
        Kind::Fail => {}
        Kind::Pass => {
            record.rotation = Some(Rotation {
                enabled: true,
                period_days: Some(365),
                ..record.rotation.unwrap()
            })
        }
        Kind::Tagged => {
            record.tags = Some(Tags::from([("exempt", "yes")]));
        }
        Kind::NotApplicable => record.key_spec = Some(KeySpec::Rsa2048),
        Kind::Error => record.rotation = None,
    }
    record
}

/// Two exceptions: key 3's (by ARN) lapses between the two scans; the `exempt=yes` tag's does
/// not.
fn policy() -> Policy {
    serde_json::from_value(serde_json::json!({
        "exceptions": [
            {"match": {"arn": arn(A, "eu-west-1", 3)}, "owner": "team-l", "reason": "legacy",
             "ticket": "RISK-1", "expires": "2026-06-30"},
            {"match": {"tag": {"key": "exempt", "value": "yes"}}, "owner": "team-ne",
             "reason": "migrating", "expires": "2027-01-01"},
        ]
    }))
    .unwrap()
}

fn scope_error(account: Option<&str>, region: Option<&str>) -> ScopeError {
    ScopeError {
        account_id: account.map(str::to_owned),
        region: region.map(str::to_owned),
        operation: "ListKeys".into(),
        code: "AccessDeniedException".into(),
        message: String::new(),
    }
}

fn report(records: &[KeyRecord], scope_errors: Vec<ScopeError>, now: &str) -> Report {
    Report::evaluate(
        records,
        policy(),
        ReportScope::default(),
        scope_errors,
        now.parse().unwrap(),
    )
}

const OLD_AT: &str = "2026-06-01T00:00:00Z";
const NEW_AT: &str = "2026-07-15T00:00:00Z";

/// A key for every category. `incomplete`: the old report could not list ap-south-1 (in any
/// account) and the new one account B in us-east-1.
fn reports(incomplete: bool) -> (Report, Report) {
    use Kind::*;
    let eu = "eu-west-1";
    let old = vec![
        key(A, eu, 1, Fail),                    // fixed
        key(A, eu, 2, Pass),                    // regressed
        key(A, eu, 3, Fail),                    // exempt, then lapsed
        key(A, eu, 5, Fail),                    // newly exempt
        key(A, eu, 6, Pass),                    // now error
        key(A, eu, 7, Fail),                    // gone
        key(A, eu, 8, Fail),                    // still failing
        key(A, eu, 9, Error),                   // new failing: nobody knew it failed
        key(A, "us-east-1", 10, NotApplicable), // regressed
        key(A, eu, 11, Pass),                   // unchanged
        key(B, "us-east-1", 12, Fail),          // not listed by the new scan
    ];
    let new = vec![
        key(A, eu, 1, Pass),
        key(A, eu, 2, Fail),
        key(A, eu, 3, Fail),
        key(A, eu, 4, Fail), // new failing
        key(A, eu, 5, Tagged),
        key(A, eu, 6, Error),
        key(A, eu, 8, Fail),
        key(A, eu, 9, Fail),
        key(A, "us-east-1", 10, Fail),
        key(A, eu, 11, Pass),
        key(A, "ap-south-1", 13, Fail), // not listed by the old scan
    ];
    let (old_errors, new_errors) = match incomplete {
        true => (
            vec![scope_error(None, Some("ap-south-1"))],
            vec![scope_error(Some(B), Some("us-east-1"))],
        ),
        false => (vec![], vec![]),
    };
    (
        report(&old, old_errors, OLD_AT),
        report(&new, new_errors, NEW_AT),
    )
}

fn arns(keys: &[KeyChange]) -> Vec<String> {
    keys.iter().map(|k| k.arn.clone()).collect()
}

#[test]
fn every_category_gets_its_keys_in_account_region_arn_order() {
    let (old, new) = reports(true);
    let diff = compare(&old, &new);
    let eu = |n| arn(A, "eu-west-1", n);
    assert_eq!(arns(&diff.fixed), [eu(1)]);
    assert_eq!(arns(&diff.regressed), [eu(2), arn(A, "us-east-1", 10)]);
    assert_eq!(arns(&diff.lapsed), [eu(3)]);
    assert_eq!(arns(&diff.new_failing), [eu(4), eu(9)]);
    assert_eq!(arns(&diff.newly_exempt), [eu(5)]);
    assert_eq!(arns(&diff.now_error), [eu(6)]);
    assert_eq!(arns(&diff.gone), [eu(7)]);
    // Fail closed: neither gone nor new failing, since the other scan could not look.
    assert_eq!(
        arns(&diff.not_compared),
        [arn(A, "ap-south-1", 13), arn(B, "us-east-1", 12)]
    );
    assert_eq!(diff.counts.still_failing, 1);
    assert!(diff.worse);
    assert!(!diff.policy_changed);
    assert!(!diff.old.complete && !diff.new.complete);
    assert_eq!(
        diff.old.generated_at,
        OLD_AT.parse::<chrono::DateTime<chrono::Utc>>().unwrap()
    );
}

#[test]
fn a_change_says_both_verdicts_and_the_exception() {
    let (old, new) = reports(true);
    let diff = compare(&old, &new);
    let lapsed = &diff.lapsed[0];
    assert_eq!(
        (lapsed.old_status, lapsed.new_status),
        (Some(Status::Exempt), Some(Status::Fail))
    );
    assert_eq!(lapsed.new_reason.unwrap().as_str(), "rotation_disabled");
    let exception = lapsed.exception.as_ref().unwrap();
    assert_eq!(exception.owner, "team-l");
    assert!(exception.expired);
    assert_eq!(
        diff.newly_exempt[0].exception.as_ref().unwrap().owner,
        "team-ne"
    );
    let gone = &diff.gone[0];
    assert_eq!(
        (gone.old_status, gone.new_status),
        (Some(Status::Fail), None)
    );
    assert_eq!(gone.account_id, A);
    let new_key = &diff.not_compared[0];
    assert_eq!(
        (new_key.old_status, new_key.new_status),
        (None, Some(Status::Fail))
    );
}

#[test]
fn with_every_account_and_region_listed_missing_keys_are_gone_or_new() {
    let (old, new) = reports(false);
    let diff = compare(&old, &new);
    assert!(diff.not_compared.is_empty());
    assert!(arns(&diff.gone).contains(&arn(B, "us-east-1", 12)));
    assert!(arns(&diff.new_failing).contains(&arn(A, "ap-south-1", 13)));
    assert!(diff.old.complete && diff.new.complete);
}

#[test]
fn a_scope_error_covers_only_its_account_and_region() {
    let old = report(&[key(A, "eu-west-1", 1, Kind::Fail)], vec![], OLD_AT);
    for (errors, covered) in [
        (vec![scope_error(Some(B), Some("eu-west-1"))], false),
        (vec![scope_error(Some(A), Some("us-east-1"))], false),
        (vec![scope_error(Some(A), None)], true),
        (vec![scope_error(None, Some("eu-west-1"))], true),
        (vec![scope_error(None, None)], true),
    ] {
        let new = report(&[], errors.clone(), NEW_AT);
        let diff = compare(&old, &new);
        assert_eq!(
            (diff.not_compared.len(), diff.gone.len()),
            if covered { (1, 0) } else { (0, 1) },
            "{errors:?}"
        );
    }
}

#[test]
fn counts_in_total_and_per_account_and_region_in_order() {
    let (old, new) = reports(true);
    let diff = compare(&old, &new);
    let c = diff.counts;
    assert_eq!(
        [
            c.fixed,
            c.regressed,
            c.lapsed,
            c.new_failing,
            c.newly_exempt,
            c.now_error,
            c.gone,
            c.not_compared,
            c.still_failing
        ],
        [1, 2, 1, 2, 1, 1, 1, 2, 1]
    );
    let places: Vec<(&str, &str)> = (diff.by_account_region.iter())
        .map(|p| (p.account_id.as_str(), p.region.as_str()))
        .collect();
    assert_eq!(
        places,
        [
            (A, "ap-south-1"),
            (A, "eu-west-1"),
            (A, "us-east-1"),
            (B, "us-east-1")
        ]
    );
    let eu = &diff.by_account_region[1].counts;
    assert_eq!(
        (
            eu.regressed,
            eu.new_failing,
            eu.still_failing,
            eu.not_compared
        ),
        (1, 2, 1, 0)
    );
    assert_eq!(diff.by_account_region[2].counts.regressed, 1);
    assert_eq!(diff.by_account_region[3].counts.not_compared, 1);
}

#[test]
fn worse_only_for_a_regression_a_lapse_or_a_new_failure() {
    let at = |kind, now| report(&[key(A, "eu-west-1", 1, kind)], vec![], now);
    let worse = |old, new| compare(&at(old, OLD_AT), &at(new, NEW_AT)).worse;
    assert!(worse(Kind::Pass, Kind::Fail));
    assert!(worse(Kind::Error, Kind::Fail));
    assert!(!worse(Kind::Fail, Kind::Fail));
    assert!(!worse(Kind::Fail, Kind::Pass));
    assert!(!worse(Kind::Pass, Kind::Error));
    assert!(!worse(Kind::Fail, Kind::Tagged));
    // A key gone or not compared is not a regression.
    let gone = compare(&at(Kind::Fail, OLD_AT), &report(&[], vec![], NEW_AT));
    assert!(!gone.worse && gone.gone.len() == 1);
}

#[test]
fn a_different_policy_is_said() {
    let (old, new) = reports(false);
    assert!(!compare(&old, &new).policy_changed);
    let mut stricter = new.policy.clone();
    stricter.max_rotation_period_days = kms_rotation::RotationPeriod::new(180).unwrap();
    let new = Report::evaluate(
        &new.findings
            .iter()
            .map(|f| f.to_record())
            .collect::<Vec<_>>(),
        stricter,
        ReportScope::default(),
        vec![],
        new.generated_at,
    );
    assert!(compare(&old, &new).policy_changed);
}

#[test]
fn the_op_rechecks_and_refuses_an_old_report_newer_than_the_new() {
    let (old, new) = reports(true);
    let diff = ops::diff(DiffOptions {
        old: Some(old.clone()),
        new: Some(new.clone()),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(diff, compare(&old, &new));

    let swapped = ops::diff(DiffOptions {
        old: Some(new.clone()),
        new: Some(old.clone()),
        ..Default::default()
    })
    .unwrap_err();
    assert_eq!(swapped.kind(), ErrorKind::InvalidInput);
    assert_eq!(swapped.context().field.as_deref(), Some("old.generated_at"));

    let mut edited = new.clone();
    edited.findings[0].status = Status::Pass;
    let err = ops::diff(DiffOptions {
        old: Some(old.clone()),
        new: Some(edited),
        ..Default::default()
    })
    .unwrap_err();
    assert_eq!(
        err.context().field.as_deref(),
        Some("new.findings[0].status")
    );
}

#[test]
fn the_op_wants_exactly_one_of_each_report() {
    let (old, _) = reports(false);
    let missing: DiffOptions =
        serde_json::from_value(serde_json::json!({"old": old.clone()})).unwrap();
    let err = ops::diff(missing).unwrap_err();
    assert_eq!(err.context().field.as_deref(), Some("new"));
    let both: DiffOptions = serde_json::from_value(serde_json::json!({
        "old": old.clone(), "oldFile": "old.json", "new": old.clone()
    }))
    .unwrap();
    assert_eq!(
        ops::diff(both).unwrap_err().context().field.as_deref(),
        Some("old")
    );
    let unknown = serde_json::from_value::<DiffOptions>(serde_json::json!({"older": 1}));
    assert!(unknown.is_err());
}

#[test]
fn renderings_say_the_verdict_warnings_and_keys() {
    let (old, new) = reports(true);
    let diff = compare(&old, &new);
    let json: serde_json::Value =
        serde_json::from_str(&diff.render_to_string(DiffFormat::Json).unwrap()).unwrap();
    assert_eq!(json["worse"], true);
    assert_eq!(json["counts"]["not_compared"], 2);
    assert_eq!(json["by_account_region"][1]["account_id"], A);
    assert_eq!(json["by_account_region"][1]["still_failing"], 1);
    assert_eq!(json["lapsed"][0]["old_status"], "exempt");
    assert_eq!(json["gone"][0]["new_status"], serde_json::Value::Null);
    // What the bindings' types (generated from the schema) promise.
    let schema = (kms_rotation::schema::all().into_iter())
        .find(|n| n.name == "report-diff")
        .unwrap()
        .schema;
    let validator = jsonschema::validator_for(schema.as_value()).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&json)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");

    let table = diff.render_to_string(DiffFormat::Table).unwrap();
    assert!(
        table.contains("WORSE: 2 regressed, 1 lapsed, 2 new failing"),
        "{table}"
    );
    assert!(
        table.contains("warning: the old report is INCOMPLETE: it could not list some accounts or regions, so 1 key(s) of the new report there are not compared"),
        "{table}"
    );
    let lapsed = table.lines().find(|l| l.starts_with("lapsed")).unwrap();
    assert!(
        lapsed.contains("exempt (rotation_disabled)")
            && lapsed.contains("fail (rotation_disabled)")
            && lapsed.contains("team-l RISK-1, until 2026-06-30 (expired)"),
        "{lapsed}"
    );
    // Worst first: the first row under the header is a regression.
    let rows: Vec<&str> = table
        .lines()
        .skip_while(|l| !l.starts_with("CHANGE"))
        .collect();
    assert!(rows[1].starts_with("regressed"), "{table}");
    assert!(table.lines().any(|l| l.starts_with("total")), "{table}");

    let markdown = diff.render_to_string(DiffFormat::Markdown).unwrap();
    assert!(
        markdown.starts_with("# KMS key rotation: progress\n"),
        "{markdown}"
    );
    assert!(markdown.contains("| lapsed | 1 |"), "{markdown}");
    assert!(markdown.contains("| gone | 00000007-0000-4000-8000-000000000007 | eu-west-1 |"));
}

#[test]
fn nothing_changed_is_not_worse() {
    let (old, _) = reports(false);
    let diff = compare(&old, &old);
    assert!(!diff.worse);
    assert_eq!(diff.counts.still_failing, old.summary.by_status.fail);
    let table = diff.render_to_string(DiffFormat::Table).unwrap();
    assert!(
        table.contains("not worse") && table.contains("no key changed"),
        "{table}"
    );
    let json = serde_json::to_value(&diff).unwrap();
    let _: &ReportDiff = &diff;
    assert_eq!(json["fixed"], serde_json::json!([]));
}

#[cfg(feature = "cli")]
mod cli {
    use super::*;

    /// The reports of every case as saved files, their names starting with `test` (tests run
    /// at once): (old, new) incomplete, and complete.
    fn files(test: &str) -> [std::path::PathBuf; 4] {
        let (old, new) = reports(true);
        let (old_complete, new_complete) = reports(false);
        let mut paths = Vec::new();
        for (name, report) in [
            ("old.json", old),
            ("new.json", new),
            ("old-complete.json", old_complete),
            ("new-complete.json", new_complete),
        ] {
            let path = common::scratch(&format!("{test}-{name}"));
            std::fs::write(
                &path,
                report.render_to_string(kms_rotation::Format::Json).unwrap(),
            )
            .unwrap();
            paths.push(path);
        }
        paths.try_into().unwrap()
    }

    fn diff(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
        let out = common::cli().arg("diff").args(args).output().unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    }

    fn os(s: &str) -> &std::ffi::OsStr {
        s.as_ref()
    }

    #[test]
    fn exit_1_when_worse_with_a_table_for_people_and_json_into_a_pipe() {
        let [_, _, old, new] = files("worse");
        let (code, table, _) = diff(&[old.as_ref(), new.as_ref(), os("--format"), os("table")]);
        assert_eq!(code, 1, "{table}");
        assert!(
            table.contains("WORSE: 2 regressed, 1 lapsed, 3 new failing"),
            "{table}"
        );
        assert!(table.lines().any(|l| l.starts_with("gone")), "{table}");
        // Not a terminal: JSON by default, as every other command prints for programs.
        let (code, json, _) = diff(&[old.as_ref(), new.as_ref()]);
        assert_eq!(code, 1);
        let json: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(json["worse"], true);
    }

    #[test]
    fn exit_3_when_a_report_is_incomplete_and_the_diff_is_still_written() {
        let [old, new, ..] = files("incomplete");
        let (code, json, _) = diff(&[old.as_ref(), new.as_ref(), os("--format"), os("json")]);
        assert_eq!(code, 3);
        let json: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(json["counts"]["not_compared"], 2);
        assert_eq!(json["old"]["complete"], false);
        assert_eq!(json["worse"], true);
    }

    #[test]
    fn exit_0_when_nothing_got_worse_and_markdown_to_a_file() {
        let [_, _, old, _] = files("same");
        let output = common::scratch("diff.md");
        let (code, stdout, _) = diff(&[
            old.as_ref(),
            old.as_ref(),
            os("--format"),
            os("markdown"),
            os("--output"),
            output.as_ref(),
        ]);
        assert_eq!((code, stdout.as_str()), (0, ""));
        let markdown = std::fs::read_to_string(&output).unwrap();
        assert!(markdown.contains("**not worse:"), "{markdown}");
    }

    #[test]
    fn exit_2_for_a_missing_an_edited_or_a_swapped_report() {
        let [old, new, ..] = files("refused");
        let (code, _, stderr) = diff(&[old.as_ref(), os("no-such-report.json")]);
        assert_eq!(code, 2);
        assert!(stderr.contains("no-such-report.json"), "{stderr}");

        let (code, _, stderr) = diff(&[new.as_ref(), old.as_ref()]);
        assert_eq!(code, 2);
        assert!(stderr.contains("old.generated_at"), "{stderr}");

        let edited = common::scratch("edited.json");
        let text = std::fs::read_to_string(&new).unwrap().replacen(
            "\"status\": \"fail\"",
            "\"status\": \"pass\"",
            1,
        );
        std::fs::write(&edited, text).unwrap();
        let (code, _, stderr) = diff(&[old.as_ref(), edited.as_ref()]);
        assert_eq!(code, 2);
        assert!(
            stderr.contains("edited.json") && stderr.contains("status"),
            "{stderr}"
        );

        let (code, _, _) = diff(&[old.as_ref(), new.as_ref(), os("--format"), os("csv")]);
        assert_eq!(code, 2);
    }
}

#[cfg(feature = "cli")]
#[test]
fn completions_and_the_man_page_know_diff() {
    let out = common::cli()
        .args(["completions", "bash"])
        .output()
        .unwrap();
    let script = String::from_utf8(out.stdout).unwrap();
    assert!(script.contains("diff") && script.contains("--format"));
    let out = common::cli().args(["man", "diff"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(page.contains("OLD") && page.contains("NEW"), "{page}");
}

#[test]
fn a_key_where_the_new_scan_did_not_look_is_not_compared_never_gone() {
    let old = report(&[key(A, "eu-west-1", 1, Kind::Fail)], vec![], OLD_AT);
    for (accounts, regions, gone) in [
        (vec![A], vec!["eu-west-1"], true),
        (vec![], vec![], true),
        (vec![A], vec!["us-east-1"], false),
        (vec![B], vec!["eu-west-1"], false),
    ] {
        let scope = ReportScope {
            source: "aws".into(),
            accounts: accounts.iter().map(|a| (*a).to_owned()).collect(),
            regions: regions.iter().map(|r| (*r).to_owned()).collect(),
            shard: None,
        };
        let mut new = report(&[], vec![], NEW_AT);
        new.scope = scope;
        let diff = compare(&old, &new);
        assert_eq!(
            (diff.gone.len(), diff.not_compared.len()),
            if gone { (1, 0) } else { (0, 1) },
            "{accounts:?} {regions:?}"
        );
    }
}
