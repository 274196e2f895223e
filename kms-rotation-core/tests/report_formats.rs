//! The CSV, Markdown and HTML renderings: a stable header, rows that read back, no formula
//! injection, "not read" kept apart from "none", and Markdown that a table cannot break.
#![allow(clippy::unwrap_used)]

mod common;

use kms_rotation::model::KeyError;
use kms_rotation::{
    Exception, ExceptionMatch, Format, KeyRecord, Policy, Report, ReportScope, ScopeError, Status,
};

fn now() -> chrono::DateTime<chrono::Utc> {
    "2026-11-22T12:00:00Z".parse().unwrap()
}

fn fleet_report() -> Report {
    let dir = common::examples_dir();
    let mut policy = Policy::from_file(dir.join("policy.yaml")).unwrap();
    policy
        .add_exceptions_file(dir.join("exceptions.yaml"))
        .unwrap();
    Report::evaluate(
        &common::fleet(),
        policy,
        ReportScope::default(),
        Vec::new(),
        now(),
    )
}

/// A report with an exception owned by a would-be formula and by a would-be Markdown break.
fn hostile_report(owner: &str) -> Report {
    let arn = "arn:aws:kms:eu-west-1:111122223333:key/00000001-0000-4000-8000-000000000001";
    let policy = Policy {
        exceptions: vec![Exception {
            matcher: ExceptionMatch::Arn(arn.into()),
            owner: owner.into(),
            reason: "legacy".into(),
            ticket: None,
            // Expired: the key still fails, with the exception (and its owner) attached.
            expires: "2020-01-01".parse().unwrap(),
        }],
        ..Policy::default()
    };
    Report::evaluate(
        &[common::failing(arn)],
        policy,
        ReportScope::default(),
        Vec::new(),
        now(),
    )
}

fn csv_rows(report: &Report) -> (csv::StringRecord, Vec<csv::StringRecord>) {
    let text = report.render_to_string(Format::Csv).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    let rows = reader.records().map(Result::unwrap).collect();
    (header, rows)
}

#[test]
fn the_csv_header_is_stable() {
    // Golden: renaming, removing or moving a column breaks every spreadsheet and script that
    // reads it. New columns go at the end, and this line changes with docs/formats.md.
    let text = fleet_report().render_to_string(Format::Csv).unwrap();
    assert_eq!(
        text.lines().next().unwrap(),
        "account_id,region,key_id,arn,aliases,status,reason,severity,message,rotation_enabled,\
         rotation_period_days,next_rotation_date,remediable,remediation_target,exception_owner,\
         exception_expires,exception_expired,error_code,controls,exposure,file,line,address"
    );
}

#[test]
fn every_finding_reads_back_from_its_csv_row() {
    let report = fleet_report();
    let (header, rows) = csv_rows(&report);
    assert_eq!(rows.len(), report.findings.len());
    let column = |row: &csv::StringRecord, name: &str| -> String {
        let i = header.iter().position(|h| h == name).unwrap();
        row[i].to_owned()
    };
    for (finding, row) in report.findings.iter().zip(&rows) {
        assert_eq!(row.len(), header.len());
        assert_eq!(column(row, "arn"), finding.arn);
        assert_eq!(column(row, "account_id"), finding.account_id);
        assert_eq!(column(row, "region"), finding.region);
        assert_eq!(column(row, "key_id"), finding.key_id);
        assert_eq!(column(row, "status"), finding.status.as_str());
        assert_eq!(column(row, "reason"), finding.reason.as_str());
        assert_eq!(column(row, "severity"), finding.severity.as_str());
        assert_eq!(column(row, "message"), finding.message);
        assert_eq!(column(row, "remediable"), finding.remediable.to_string());
        assert_eq!(
            column(row, "remediation_target"),
            finding.remediation_target.clone().unwrap_or_default()
        );
        assert_eq!(
            column(row, "error_code"),
            finding
                .error
                .as_ref()
                .map(|e| e.code.clone())
                .unwrap_or_default()
        );
        let controls: Vec<&str> = finding.controls.iter().map(|c| c.as_str()).collect();
        assert_eq!(column(row, "controls"), controls.join(";"));
        let aliases = finding.aliases.as_ref().map(|a| a.join(";"));
        assert_eq!(
            column(row, "aliases"),
            aliases.unwrap_or_else(|| "not_read".into())
        );
        let exposure = finding.exposure.as_ref().map(|e| e.level.as_str());
        assert_eq!(column(row, "exposure"), exposure.unwrap_or("not_read"));
    }
    // The sample fleet has public, cross-account and account keys, and keys not assessed.
    for level in ["public", "cross_account", "account", "not_read"] {
        assert!(
            rows.iter().any(|r| column(r, "exposure") == level),
            "{level}"
        );
    }
    // The sample fleet has every status: the rows cover them all.
    for status in Status::ALL {
        assert!(rows.iter().any(|r| column(r, "status") == status.as_str()));
    }
}

#[test]
fn a_fact_not_read_is_not_read_in_csv_never_empty_or_false() {
    let arn = "arn:aws:kms:eu-west-1:111122223333:key/00000001-0000-4000-8000-000000000001";
    let mut unread = common::failing(arn);
    unread.aliases = None;
    unread.rotation = None;
    unread.errors = vec![KeyError {
        operation: "GetKeyRotationStatus".into(),
        code: "AccessDeniedException".into(),
        message: String::new(),
    }];
    let read = KeyRecord {
        aliases: Some(vec![]),
        ..common::failing(&arn.replace(
            "0001-0000-4000-8000-000000000001",
            "0002-0000-4000-8000-000000000002",
        ))
    };
    let report = Report::evaluate(
        &[unread, read],
        Policy::default(),
        ReportScope::default(),
        Vec::new(),
        now(),
    );
    let (header, rows) = csv_rows(&report);
    let cells = |row: &csv::StringRecord, names: &[&str]| -> Vec<String> {
        names
            .iter()
            .map(|name| row[header.iter().position(|h| h == *name).unwrap()].to_owned())
            .collect()
    };
    let facts = [
        "aliases",
        "rotation_enabled",
        "rotation_period_days",
        "next_rotation_date",
        "error_code",
    ];
    assert_eq!(
        cells(&rows[0], &facts),
        [
            "not_read",
            "not_read",
            "not_read",
            "not_read",
            "AccessDeniedException"
        ]
    );
    // Read: no aliases, rotation off, so no period and no next date.
    assert_eq!(cells(&rows[1], &facts), ["", "false", "", "", ""]);
    // Rotation on, but the period and next date not reported: not known, not none.
    let mut unreported = common::failing(arn);
    unreported.rotation.as_mut().unwrap().enabled = true;
    let report = Report::evaluate(
        &[unreported],
        Policy::default(),
        ReportScope::default(),
        Vec::new(),
        now(),
    );
    let (_, rows) = csv_rows(&report);
    assert_eq!(
        cells(&rows[0], &facts[1..4]),
        ["true", "not_read", "not_read"]
    );
}

#[test]
fn no_csv_cell_can_start_a_formula() {
    for owner in [
        "=HYPERLINK(\"http://x\")",
        "+1+1",
        "-2+3",
        "@SUM(A1)",
        "\tx",
        "\rx",
        // Marked too, so that dropping one leading `'` always gives the value back.
        "'quoted",
    ] {
        let report = hostile_report(owner);
        let (header, rows) = csv_rows(&report);
        let owner_cell = &rows[0][header.iter().position(|h| h == "exception_owner").unwrap()];
        assert_eq!(owner_cell, format!("'{owner}"), "the value, marked as text");
        assert_eq!(owner_cell.strip_prefix('\'').unwrap(), owner);
        for row in &rows {
            for cell in row {
                assert!(
                    !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "{cell:?}"
                );
            }
        }
    }
}

#[test]
fn markdown_has_the_verdict_the_counts_and_only_the_keys_that_need_attention() {
    let report = fleet_report();
    let text = report.render_to_string(Format::Markdown).unwrap();
    assert!(
        text.starts_with("# KMS key rotation: NOT compliant\n"),
        "{text}"
    );
    let by_status = &report.summary.by_status;
    for status in Status::ALL {
        assert!(
            text.contains(&format!("| {status} | {} |", by_status.get(status))),
            "{status}: {text}"
        );
    }
    assert!(text.contains(&format!("| **total** | **{}** |", by_status.total)));
    for finding in &report.findings {
        let listed = text.contains(&format!("| {} |", finding.key_id));
        let needs_attention = matches!(finding.status, Status::Fail | Status::Error);
        assert_eq!(
            listed, needs_attention,
            "{} ({})",
            finding.key_id, finding.status
        );
        if needs_attention {
            let row = text
                .lines()
                .find(|l| l.contains(&format!("| {} |", finding.key_id)))
                .unwrap();
            assert!(row.starts_with(&format!("| {} | {} |", finding.severity, finding.status)));
            assert!(row.contains(&format!("`{}`", finding.reason)), "{row}");
        }
    }
    assert!(text.contains("keys could not be read"), "{text}");
}

#[test]
fn markdown_escapes_what_would_break_the_table() {
    let report = hostile_report("ops | <b>team</b>\nsecond line");
    let text = report.render_to_string(Format::Markdown).unwrap();
    let row = text
        .lines()
        .find(|l| l.contains("00000001-0000-4000-8000-000000000001"))
        .unwrap();
    assert!(row.contains(r"ops \| \<b\>team\</b\> second line"), "{row}");
    // Eight cells: the owner's pipe did not add one.
    assert_eq!(row.replace(r"\|", "").matches('|').count(), 9, "{row}");
    assert!(!text.contains("<b>"));
}

/// A report of no keys whose only region could not be listed.
fn incomplete_report() -> Report {
    let scope_error = ScopeError {
        account_id: Some("111122223333".into()),
        region: Some("ap-south-2".into()),
        operation: "ListKeys".into(),
        code: "AccessDeniedException".into(),
        message: String::new(),
    };
    Report::evaluate(
        &[],
        Policy::default(),
        ReportScope::default(),
        vec![scope_error],
        now(),
    )
}

#[test]
fn markdown_of_an_incomplete_report_says_so() {
    let report = incomplete_report();
    let text = report.render_to_string(Format::Markdown).unwrap();
    assert!(
        text.starts_with("# KMS key rotation: INCOMPLETE\n"),
        "{text}"
    );
    assert!(text.contains("| 111122223333 | ap-south-2 | ListKeys | AccessDeniedException |"));
    assert!(text.contains("None: no key fails and every key was read."));
    let complete = Report::evaluate(
        &[],
        Policy::default(),
        ReportScope::default(),
        Vec::new(),
        now(),
    );
    let text = complete.render_to_string(Format::Markdown).unwrap();
    assert!(
        text.starts_with("# KMS key rotation: compliant\n"),
        "{text}"
    );
}

#[test]
fn html_has_the_verdict_the_counts_charts_and_a_row_per_finding_in_order() {
    let report = fleet_report();
    let text = report.render_to_string(Format::Html).unwrap();
    assert!(text.starts_with("<!DOCTYPE html>\n"), "{text}");
    assert!(text.ends_with("</html>\n"));
    assert!(text.contains("<title>KMS key rotation: NOT compliant</title>"));
    let by_status = &report.summary.by_status;
    for status in Status::ALL {
        assert!(
            text.contains(&format!(
                "data-status=\"{status}\"><span class=\"n\">{}</span>",
                by_status.get(status)
            )),
            "{status}"
        );
    }
    // One row per finding, in the report's order.
    let rows: Vec<&str> = text
        .split("<tr data-status=")
        .skip(1)
        .map(|row| &row[..row.find("</tr>").unwrap()])
        .collect();
    assert_eq!(rows.len(), report.findings.len());
    for (row, finding) in rows.iter().zip(&report.findings) {
        assert!(
            row.starts_with(&format!("\"{}\">", finding.status)),
            "{row}"
        );
        assert!(row.contains(&format!(">{}</div>", finding.arn)), "{row}");
    }
    // A chart per region and per account, each group read out in its description.
    for (per, groups) in [
        ("region", &report.summary.by_region),
        ("account", &report.summary.by_account),
    ] {
        let chart = &text[text
            .find(&format!("<svg class=\"chart\" id=\"chart-{per}\""))
            .unwrap()..];
        let chart = &chart[..chart.find("</svg>").unwrap()];
        for (name, counts) in groups {
            assert!(chart.contains(&format!("<desc id=\"chart-{per}-desc\">")));
            assert!(chart.contains(&format!(">{name}</text>")), "{per} {name}");
            assert!(chart.contains(&format!(">{}</text></g>", counts.total)));
        }
    }
}

#[test]
fn html_shows_each_keys_exposure_and_its_evidence() {
    let text = fleet_report().render_to_string(Format::Html).unwrap();
    assert!(text.contains(
        "<td class=\"exposure\">public<div class=\"arn\">key_policy PublicDecrypt: allows any \
         principal"
    ));
    assert!(text.contains("<td class=\"exposure\">cross_account<div class=\"arn\">grant "));
    assert!(text.contains("<td class=\"exposure\"><em>not read</em></td>"));
}

#[test]
fn html_shows_the_plan_scripts_command_beside_each_failing_key() {
    use kms_rotation::remediate::{PlanFormat, PlanOptions, plan};
    let report = fleet_report();
    let text = report.render_to_string(Format::Html).unwrap();
    let script = plan(&report, &PlanOptions::default())
        .unwrap()
        .render_to_string(PlanFormat::Script)
        .unwrap();
    let commands: Vec<&str> = script
        .lines()
        .filter(|l| l.starts_with("aws kms enable-key-rotation"))
        .collect();
    assert!(!commands.is_empty());
    for command in commands {
        assert!(
            text.contains(&format!("<td class=\"fix\"><code>{command}</code>")),
            "{command}"
        );
    }
    // Only failing and exempt keys have a fix (the exception accepts the risk for a time).
    let fixes = text.matches("<td class=\"fix\"><code>aws kms").count();
    assert_eq!(
        fixes,
        report.summary.by_status.fail + report.summary.by_status.exempt
    );
}

#[test]
fn html_escapes_every_value_and_loads_nothing() {
    let arn = "arn:aws:kms:eu-west-1:111122223333:key/00000001-0000-4000-8000-000000000001";
    let mut record = common::failing(arn);
    record.aliases = Some(vec!["alias/<script>alert(1)</script>".into()]);
    let mut report = Report::evaluate(
        &[record],
        hostile_report("ops \"team\" <b>&</b>").policy,
        ReportScope {
            source: "<i>inventory</i>".into(),
            accounts: vec!["<a>".into()],
            regions: vec![],
            shard: None,
        },
        Vec::new(),
        now(),
    );
    report.findings[0].region = "eu-west-1<svg onload=alert(1)>".into();
    report.summary = kms_rotation::Summary::of(&report.findings, &[]);
    let text = report.render_to_string(Format::Html).unwrap();
    assert!(text.contains("alias/&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(text.contains("ops &quot;team&quot; &lt;b&gt;&amp;&lt;/b&gt;"));
    assert!(text.contains("&lt;i&gt;inventory&lt;/i&gt;"));
    assert!(text.contains("eu-west-1&lt;svg onload=alert(1)&gt;"));
    for markup in ["<script>alert", "<b>", "<i>", "<a>", "<svg onload"] {
        assert!(!text.contains(markup), "{markup}");
    }
    // The page's own script and nothing else; no address but the SVG namespace.
    assert_eq!(text.matches("<script").count(), 1);
    assert!(text.contains("content=\"default-src 'none'; "));
    assert_eq!(
        text.matches("http").count(),
        text.matches("xmlns=\"http://www.w3.org/2000/svg\"").count() + 1,
        "only the namespaces and the http-equiv"
    );
}

#[test]
fn html_of_an_incomplete_report_says_so_and_lists_what_was_not_read() {
    let report = incomplete_report();
    let text = report.render_to_string(Format::Html).unwrap();
    assert!(text.contains("id=\"verdict\">INCOMPLETE</span>"), "{text}");
    assert!(text.contains(
        "<tr><td>111122223333</td><td>ap-south-2</td><td>ListKeys</td>\
         <td>AccessDeniedException</td><td></td></tr>"
    ));
    assert!(text.contains("<p>No findings.</p>"));
}
