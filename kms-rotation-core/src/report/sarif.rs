//! The SARIF 2.1.0 rendering, for code scanning (GitHub, Azure DevOps) and SARIF viewers: one
//! run of the `kms-rotation` driver, one rule per reason code, and one result per finding that
//! needs someone. The choices, documented in docs/formats.md:
//!
//! - `fail` is level `error`; `error` (a fact not read) is `warning`: it is not a pass, but not
//!   a known failure either, as everywhere else in the tool; `exempt` is `note`, suppressed
//!   (`external`, `accepted`) with the exception's owner and reason as the justification.
//! - `pass` and `not_applicable` have no result. Code scanning closes an alert that the newest
//!   upload no longer has, so a key that passes again closes its alert; and GitHub does not
//!   document `kind`, so a passing result could open an alert of its own.
//! - The location is the key's ARN, as an artifact URI and as a logical location of kind
//!   `resource`; `partialFingerprints` holds the ARN and the rule, so a re-upload matches. A key
//!   declared in code (a Terraform plan, a CloudFormation template) points at its file and the
//!   resource's line instead, and its identity `FILE#ADDRESS` stands for the ARN.
//! - A region or account that could not be listed makes the invocation unsuccessful, with one
//!   notification each: a consumer sees that the run is incomplete.
//!
//! Written result by result: memory does not grow with the report. The envelope is written by
//! hand around objects serialized from `serde_sarif`'s types.

use std::collections::BTreeMap;
use std::io::Write;

use serde::Serialize;
use serde_json::json;
use serde_sarif::sarif::{
    ArtifactLocation, Invocation, Location, LogicalLocation, Message, MultiformatMessageString,
    Notification, PhysicalLocation, PropertyBag, Region, ReportingConfiguration,
    ReportingDescriptor, Result as SarifResult, ResultLevel, Suppression, Tool, ToolComponent,
};

use crate::controls::{Severity, severity};
use crate::explain::{REASONS, explain};
use crate::finding::{Finding, Reason, Status};
use crate::report::{Report, StatusCounts};

/// The schema of the format, as OASIS publishes it (errata 01).
const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The key of the fingerprint in `partialFingerprints`: versioned, so that a change of what
/// it holds starts new alerts instead of matching old ones wrongly.
const FINGERPRINT: &str = "kmsKeyArnAndRule/v1";

/// Writes the report as one SARIF log.
pub(super) fn write(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    write!(
        out,
        "{{\"$schema\":\"{SCHEMA_URI}\",\"version\":\"2.1.0\",\"runs\":[{{\"tool\":"
    )?;
    serde_json::to_writer(&mut *out, &tool())?;
    out.write_all(b",\"invocations\":[")?;
    serde_json::to_writer(&mut *out, &invocation(report))?;
    out.write_all(b"],\"properties\":")?;
    serde_json::to_writer(&mut *out, &run_properties(report))?;
    out.write_all(b",\"results\":[")?;
    let mut first = true;
    for finding in &report.findings {
        let Some(result) = result(finding) else {
            continue;
        };
        out.write_all(if first { b"\n" } else { b",\n" })?;
        first = false;
        serde_json::to_writer(&mut *out, &result)?;
    }
    out.write_all(b"\n]}]}\n")
}

/// The driver and its rules, one per reason code in the order of [`REASONS`].
fn tool() -> Tool {
    let version = env!("CARGO_PKG_VERSION");
    Tool::builder()
        .driver(
            ToolComponent::builder()
                .name("kms-rotation")
                .version(version)
                .semantic_version(version)
                .rules(
                    REASONS
                        .iter()
                        .map(|&reason| rule(reason))
                        .collect::<Vec<_>>(),
                )
                .build(),
        )
        .build()
}

/// The rule of one reason code: what it means, why it matters and how to fix it (the text of
/// `kms-rotation explain`).
fn rule(reason: Reason) -> ReportingDescriptor {
    let explanation = explain(reason);
    // The status the reason gives when nothing exempts the key: the first listed.
    let status = explanation
        .statuses
        .first()
        .copied()
        .unwrap_or(Status::Error);
    let steps = |steps: &[&str]| {
        steps
            .iter()
            .enumerate()
            .map(|(i, step)| format!("{}. {step}", i + 1))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let commands = explanation.fix_cli.join("\n");
    let help_text = format!(
        "{}\n\nIn the AWS console:\n{}\n\nWith the aws CLI (KEY_ARN and REGION are the \
         result's key and region):\n{commands}",
        explanation.why,
        steps(explanation.fix_console),
    );
    let help_markdown = format!(
        "{}\n\n**In the AWS console:**\n\n{}\n\n**With the aws CLI** (`KEY_ARN` and `REGION` \
         are the result's key and region):\n\n```sh\n{commands}\n```",
        explanation.why,
        steps(explanation.fix_console),
    );
    let mut properties = BTreeMap::new();
    let severity = severity(status, reason);
    if let Some(score) = security_severity(severity) {
        properties.insert("security-severity".to_owned(), json!(score));
    }
    properties.insert("severity".to_owned(), json!(severity));
    ReportingDescriptor::builder()
        .id(reason.as_str())
        .name(pascal_case(reason.as_str()))
        .short_description(text(first_sentence(explanation.meaning)))
        .full_description(text(explanation.meaning))
        .help(
            MultiformatMessageString::builder()
                .text(help_text)
                .markdown(help_markdown)
                .build(),
        )
        .default_configuration(
            ReportingConfiguration::builder()
                .level(json!(level(status)))
                .build(),
        )
        .properties(
            PropertyBag::builder()
                .tags(vec!["security".to_owned(), "aws-kms".to_owned()])
                .additional_properties(properties)
                .build(),
        )
        .build()
}

/// Where a result points: the key's ARN, or for a key declared in code its file and line, so
/// that code scanning annotates the line of the resource in a pull request.
fn location(f: &Finding) -> Location {
    let physical = match &f.location {
        Some(declared) => PhysicalLocation::builder()
            .artifact_location(
                ArtifactLocation::builder()
                    .uri(declared.file.as_str())
                    .build(),
            )
            .region(
                Region::builder()
                    .start_line(i64::from(declared.line.unwrap_or(1)))
                    .build(),
            )
            .build(),
        None => PhysicalLocation::builder()
            .artifact_location(ArtifactLocation::builder().uri(f.arn.as_str()).build())
            .build(),
    };
    Location::builder()
        .physical_location(physical)
        .logical_locations(vec![
            LogicalLocation::builder()
                .name(f.key_id.as_str())
                .fully_qualified_name(f.arn.as_str())
                .kind("resource")
                .build(),
        ])
        .build()
}

/// The result of one finding; none for `pass` and `not_applicable`.
fn result(f: &Finding) -> Option<SarifResult> {
    let level = match f.status {
        Status::Pass | Status::NotApplicable => return None,
        status => level(status),
    };
    let location = location(f);
    let mut properties = BTreeMap::from([
        ("status".to_owned(), json!(f.status)),
        ("severity".to_owned(), json!(f.severity)),
        ("controls".to_owned(), json!(f.controls)),
        ("account_id".to_owned(), json!(f.account_id)),
        ("region".to_owned(), json!(f.region)),
        ("key_id".to_owned(), json!(f.key_id)),
    ]);
    if let Some(exposure) = &f.exposure {
        properties.insert("exposure".to_owned(), json!(exposure));
    }
    let mut result = SarifResult::builder()
        .rule_id(f.reason.as_str())
        .level(level)
        .message(Message::builder().text(f.message.as_ref()).build())
        .locations(vec![location])
        .partial_fingerprints(BTreeMap::from([(
            FINGERPRINT.to_owned(),
            format!("{}|{}", f.arn, f.reason),
        )]))
        .properties(
            PropertyBag::builder()
                .additional_properties(properties)
                .build(),
        )
        .build();
    // Every reason has a rule (a test checks REASONS): without one, the result still goes out.
    result.rule_index = REASONS
        .iter()
        .position(|&r| r == f.reason)
        .and_then(|i| i64::try_from(i).ok());
    result.suppressions = suppression(f).map(|s| vec![s]);
    Some(result)
}

/// The level of a status; `none` for those that have no result.
fn level(status: Status) -> ResultLevel {
    match status {
        Status::Fail => ResultLevel::Error,
        Status::Error => ResultLevel::Warning,
        Status::Exempt => ResultLevel::Note,
        Status::Pass | Status::NotApplicable => ResultLevel::None,
    }
}

/// An exempt key's exception, as an accepted suppression kept outside the scanned artifact.
fn suppression(f: &Finding) -> Option<Suppression> {
    let exception = f
        .exception
        .as_ref()
        .filter(|_| f.status == Status::Exempt)?;
    let ticket = exception
        .ticket
        .as_deref()
        .map_or(String::new(), |ticket| format!(" ({ticket})"));
    Some(
        Suppression::builder()
            .kind(json!("external"))
            .status(json!("accepted"))
            .justification(format!(
                "exception by {} until {}: {}{ticket}",
                exception.owner, exception.expires, exception.reason
            ))
            .build(),
    )
}

/// The scan as an invocation: unsuccessful, with a notification each, when a region or account
/// could not be listed.
fn invocation(report: &Report) -> Invocation {
    let notifications: Vec<Notification> = report
        .scope_errors
        .iter()
        .map(|e| {
            Notification::builder()
                .level(json!("error"))
                .message(
                    Message::builder()
                        .text(format!(
                            "{} failed in account {}, region {} ({}): its keys are not in this run",
                            e.operation,
                            e.account_id.as_deref().unwrap_or("any"),
                            e.region.as_deref().unwrap_or("any"),
                            e.code,
                        ))
                        .build(),
                )
                .build()
        })
        .collect();
    let mut invocation = Invocation::builder()
        .execution_successful(report.summary.complete)
        .end_time_utc(
            report
                .generated_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        )
        .build();
    invocation.tool_execution_notifications = (!notifications.is_empty()).then_some(notifications);
    invocation
}

/// What the results alone do not say: the whole report's verdict and counts.
#[derive(Serialize)]
struct RunProperties<'a> {
    generated_at: chrono::DateTime<chrono::Utc>,
    compliant: bool,
    complete: bool,
    by_status: &'a StatusCounts,
}

fn run_properties(report: &Report) -> RunProperties<'_> {
    RunProperties {
        generated_at: report.generated_at,
        compliant: report.summary.compliant,
        complete: report.summary.complete,
        by_status: &report.summary.by_status,
    }
}

/// GitHub's `security-severity` score of a severity, in the middle of its band; none for
/// informational rules, which are not security alerts.
fn security_severity(severity: Severity) -> Option<&'static str> {
    match severity {
        Severity::Informational => None,
        Severity::Low => Some("3.0"),
        Severity::Medium => Some("5.5"),
    }
}

fn text(text: impl Into<String>) -> MultiformatMessageString {
    MultiformatMessageString::builder().text(text).build()
}

/// Up to the first full stop followed by a space (an ellipsis or a name like `key_state.`
/// inside a sentence ends nothing), or the whole text.
fn first_sentence(text: &str) -> &str {
    text.find(". ").map_or(text, |end| &text[..=end])
}

/// `rotation_disabled` -> `RotationDisabled`, the form SARIF viewers show as a rule's name.
fn pascal_case(snake: &str) -> String {
    snake
        .split('_')
        .flat_map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase())
                .into_iter()
                .chain(chars)
        })
        .collect()
}
