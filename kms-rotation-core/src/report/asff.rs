//! The ASFF rendering (AWS Security Finding Format, `SchemaVersion` 2018-10-08): what Security
//! Hub's BatchImportFindings takes, one finding per key, as a JSON array written finding by
//! finding.
//!
//! Decisions (docs/formats.md says them for users):
//! - `Id` is `ARN/kms-rotation/KMS.4`: one per key and control, so that importing the next scan
//!   updates each key's finding instead of adding another.
//! - The product is the account's own default product (`product/ACCOUNT/default`), in the
//!   Security Hub region the findings go to: Security Hub takes such findings only from the
//!   account they are about.
//! - `Compliance.Status`: `pass` PASSED; `fail` and `exempt` FAILED (an exception accepts the
//!   risk, it does not meet the control; the exception is in `StatusReasons` and
//!   `ProductFields`); `error` and `not_applicable` NOT_AVAILABLE.
//! - `RecordState`: ARCHIVED for keys that pass or to which the control does not apply, so that
//!   a key fixed since the last import leaves the active findings; ACTIVE otherwise.
//! - Severity and Types are also given as `FindingProviderFields`: after a finding exists,
//!   Security Hub takes a provider's changes to them only there.

use std::collections::BTreeMap;
use std::io::Write;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::controls::Severity;
use crate::explain::fix_commands;
use crate::finding::{Finding, Status};
use crate::model::KeyArn;
use crate::policy::Policy;
use crate::report::Report;

/// The ASFF version every finding declares.
pub const SCHEMA_VERSION: &str = "2018-10-08";

/// The control this tool checks, as the last part of every finding's `Id` and `GeneratorId`.
const CONTROL: &str = "KMS.4";

/// `Types`: the ASFF taxonomy's namespaces for a benchmark check.
const TYPES: [&str; 2] = [
    "Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark",
    "Software and Configuration Checks/AWS Security Best Practices",
];

/// Security Hub's limits on text fields, in characters.
const TITLE_MAX: usize = 256;
const DESCRIPTION_MAX: usize = 1024;
const RECOMMENDATION_MAX: usize = 512;
const PRODUCT_FIELD_MAX: usize = 2048;

/// AWS's page on key rotation: where a remediation's `Url` points.
const ROTATION_DOCS: &str =
    "https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html";

/// One ASFF finding. Field names are ASFF's.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffFinding {
    pub schema_version: &'static str,
    pub id: String,
    pub product_arn: String,
    pub generator_id: String,
    pub aws_account_id: String,
    pub region: String,
    pub types: Vec<&'static str>,
    pub created_at: String,
    pub updated_at: String,
    pub severity: AsffSeverity,
    pub title: String,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remediation: Option<AsffRemediation>,
    pub product_fields: BTreeMap<String, String>,
    pub resources: Vec<AsffResource>,
    pub compliance: AsffCompliance,
    pub record_state: &'static str,
    pub finding_provider_fields: AsffFindingProviderFields,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffSeverity {
    /// INFORMATIONAL, LOW, MEDIUM, HIGH or CRITICAL.
    pub label: &'static str,
    /// The finding's own severity word.
    pub original: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffRemediation {
    pub recommendation: AsffRecommendation,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffRecommendation {
    pub text: String,
    pub url: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffResource {
    /// Always `AwsKmsKey`.
    #[serde(rename = "Type")]
    pub kind: &'static str,
    pub id: String,
    pub partition: String,
    pub region: String,
    pub details: AsffResourceDetails,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffResourceDetails {
    pub aws_kms_key: AsffKmsKey,
}

/// `AwsKmsKeyDetails`: only the facts that were read (ASFF has no "unknown").
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffKmsKey {
    #[serde(rename = "AWSAccountId")]
    pub aws_account_id: String,
    pub key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_manager: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_state: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<&'static str>,
    /// Seconds since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creation_date: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_rotation_status: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffCompliance {
    /// PASSED, FAILED or NOT_AVAILABLE.
    pub status: &'static str,
    pub related_requirements: Vec<&'static str>,
    pub status_reasons: Vec<AsffStatusReason>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffStatusReason {
    pub reason_code: &'static str,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffFindingProviderFields {
    pub severity: AsffSeverity,
    pub types: Vec<&'static str>,
}

/// Where the findings go: the Security Hub region of their product ARN. `None`: each key's own
/// region.
#[derive(Debug, Clone, Copy, Default)]
pub struct Destination<'a> {
    pub region: Option<&'a str>,
}

/// Writes the report's findings as a JSON array of ASFF findings.
pub(super) fn write(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    out.write_all(b"[")?;
    for (i, finding) in report.findings.iter().enumerate() {
        out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
        let asff = to_asff(
            finding,
            &report.policy,
            report.generated_at,
            Destination::default(),
        );
        serde_json::to_writer(&mut *out, &asff)?;
    }
    out.write_all(b"\n]\n")
}

/// `finding` in ASFF, for Security Hub in `destination`.
pub fn to_asff(
    finding: &Finding,
    policy: &Policy,
    generated_at: DateTime<Utc>,
    destination: Destination<'_>,
) -> AsffFinding {
    let partition = KeyArn::parse(&finding.arn).map_or("aws", |arn| arn.partition);
    let hub_region = destination.region.unwrap_or(&finding.region);
    let account = &finding.account_id;
    let time = generated_at.to_rfc3339_opts(SecondsFormat::Millis, true);
    let severity = AsffSeverity {
        label: label(finding.severity),
        original: finding.severity.as_str(),
    };
    AsffFinding {
        schema_version: SCHEMA_VERSION,
        id: finding_id(&finding.arn),
        product_arn: format!(
            "arn:{partition}:securityhub:{hub_region}:{account}:product/{account}/default"
        ),
        generator_id: format!("kms-rotation/{CONTROL}"),
        aws_account_id: account.clone(),
        // Where the finding lives in Security Hub, as its product ARN says (the key's own
        // region is in `Resources`).
        region: hub_region.to_owned(),
        types: TYPES.to_vec(),
        created_at: time.clone(),
        updated_at: time,
        severity: severity.clone(),
        title: truncated(
            format!("KMS key rotation ({CONTROL}): {}", finding.key_id),
            TITLE_MAX,
        ),
        description: truncated(finding.message.to_string(), DESCRIPTION_MAX),
        remediation: remediation(finding, policy),
        product_fields: product_fields(finding),
        resources: vec![resource(finding, partition)],
        compliance: AsffCompliance {
            status: compliance_status(finding.status),
            related_requirements: finding.controls.iter().map(|c| c.as_str()).collect(),
            status_reasons: vec![AsffStatusReason {
                reason_code: finding.reason.as_str(),
                description: truncated(finding.message.to_string(), 2048),
            }],
        },
        record_state: match finding.status {
            Status::Pass | Status::NotApplicable => "ARCHIVED",
            Status::Fail | Status::Exempt | Status::Error => "ACTIVE",
        },
        finding_provider_fields: AsffFindingProviderFields {
            severity,
            types: TYPES.to_vec(),
        },
    }
}

/// The finding's `Id`: one per key and control.
pub fn finding_id(arn: &str) -> String {
    format!("{arn}/kms-rotation/{CONTROL}")
}

fn compliance_status(status: Status) -> &'static str {
    match status {
        Status::Pass => "PASSED",
        Status::Fail | Status::Exempt => "FAILED",
        Status::Error | Status::NotApplicable => "NOT_AVAILABLE",
    }
}

fn label(severity: Severity) -> &'static str {
    match severity {
        Severity::Informational => "INFORMATIONAL",
        Severity::Low => "LOW",
        Severity::Medium => "MEDIUM",
    }
}

/// The fix commands when they fit Security Hub's limit, else where to find the steps.
fn remediation(finding: &Finding, policy: &Policy) -> Option<AsffRemediation> {
    let commands = fix_commands(finding, policy);
    if commands.is_empty() {
        return None;
    }
    let joined = commands.join("\n");
    let text = if joined.chars().count() <= RECOMMENDATION_MAX {
        joined
    } else {
        format!(
            "Run `kms-rotation explain {}` for the steps that fix this key.",
            finding.reason
        )
    };
    Some(AsffRemediation {
        recommendation: AsffRecommendation {
            text,
            url: ROTATION_DOCS,
        },
    })
}

/// What ASFF has no field for: the verdict in this tool's words, and the exception. Values are
/// cut to Security Hub's 2,048 characters, and an empty one left out (Security Hub refuses it),
/// so that a long or blank exception field cannot get a key's finding refused on every import.
fn product_fields(finding: &Finding) -> BTreeMap<String, String> {
    let mut fields = vec![
        ("ProviderName", "kms-rotation".to_owned()),
        ("ProviderVersion", env!("CARGO_PKG_VERSION").to_owned()),
        ("kms-rotation/status", finding.status.as_str().to_owned()),
        ("kms-rotation/reason", finding.reason.as_str().to_owned()),
    ];
    if let Some(target) = &finding.remediation_target {
        fields.push(("kms-rotation/remediation_target", target.clone()));
    }
    if let Some(exception) = &finding.exception {
        fields.push(("kms-rotation/exception_owner", exception.owner.clone()));
        fields.push((
            "kms-rotation/exception_expires",
            exception.expires.to_string(),
        ));
        if let Some(ticket) = &exception.ticket {
            fields.push(("kms-rotation/exception_ticket", ticket.clone()));
        }
    }
    if let Some(exposure) = &finding.exposure {
        fields.push(("kms-rotation/exposure", exposure.level.as_str().to_owned()));
        if let Some(evidence) = exposure.evidence.first() {
            fields.push((
                "kms-rotation/exposure_evidence",
                format!(
                    "{} {}: {}",
                    evidence.source, evidence.statement, evidence.detail
                ),
            ));
        }
    }
    if let Some(error) = &finding.error {
        fields.push((
            "kms-rotation/error",
            format!("{} {}", error.operation, error.code),
        ));
    }
    fields
        .into_iter()
        .filter(|(_, value)| !value.trim().is_empty())
        .map(|(name, value)| (name.to_owned(), truncated(value, PRODUCT_FIELD_MAX)))
        .collect()
}

fn resource(finding: &Finding, partition: &str) -> AsffResource {
    AsffResource {
        kind: "AwsKmsKey",
        id: finding.arn.clone(),
        partition: partition.to_owned(),
        region: finding.region.clone(),
        details: AsffResourceDetails {
            aws_kms_key: AsffKmsKey {
                aws_account_id: finding.account_id.clone(),
                key_id: finding.key_id.clone(),
                key_manager: finding.key_manager.map(|m| m.as_str()),
                key_state: finding.key_state.map(|s| s.as_str()),
                origin: finding.origin.map(|o| o.as_str()),
                creation_date: finding
                    .creation_date
                    .map(|d| d.timestamp_millis() as f64 / 1000.0),
                key_rotation_status: finding.rotation.as_ref().map(|r| r.enabled),
            },
        },
    }
}

/// `text` cut to `max` characters (with an ellipsis) when longer.
fn truncated(text: String, max: usize) -> String {
    if text.chars().count() <= max {
        return text;
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}
