//! The OCSF rendering, for Security Lake and SIEMs: one Compliance Finding (class 2003, activity
//! Create) per finding, OCSF 1.8.0 with the `cloud` profile, as a JSON array with one finding per
//! line (`jq -c '.[]'` makes JSON lines of it). The mapping is documented in docs/formats.md.
//!
//! Two statuses per finding, as OCSF has them: the control's (`compliance.status_id`: `fail`
//! and `exempt` are Fail, `error` is Warning, "no result due to missing information", never
//! Pass) and the finding's own (`status_id`: `exempt` is Suppressed, a key that needs nothing
//! is Resolved). `finding_info.uid` names the key and the control, not the reason, so a key
//! that changes verdict updates one finding. The finding itself, field for field as in the
//! JSON report, is the evidence (`evidences[0].data`).
//!
//! Written finding by finding: memory does not grow with the report.

use std::io::Write;

use serde_json::{Value, json};

use crate::controls::{Control, Severity};
use crate::explain::{explain, fix_commands};
use crate::finding::{Finding, Status};
use crate::policy::Policy;
use crate::report::Report;

/// The OCSF version the findings follow (`metadata.version`).
const OCSF_VERSION: &str = "1.8.0";

/// The control every finding is about, by its Security Hub id, and its title.
const CONTROL: &str = "KMS.4";
const CONTROL_TITLE: &str = "AWS KMS key rotation should be enabled";

/// OCSF's class, category and activity of a compliance finding that a scan creates.
const CLASS_UID: u32 = 2003;
const CATEGORY_UID: u32 = 2;
const ACTIVITY_CREATE: u32 = 1;
/// OCSF's account type for an AWS account (`account.type_id`).
const AWS_ACCOUNT: u32 = 10;

/// Writes the report's findings as a JSON array of OCSF Compliance Findings.
pub(super) fn write(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    out.write_all(b"[")?;
    let mut separator: &[u8] = b"\n";
    for finding in &report.findings {
        out.write_all(separator)?;
        separator = b",\n";
        serde_json::to_writer(&mut *out, &compliance_finding(finding, report))?;
    }
    out.write_all(b"\n]\n")
}

/// One finding as an OCSF Compliance Finding.
fn compliance_finding(f: &Finding, report: &Report) -> Value {
    let time = report.generated_at.timestamp_millis();
    let (severity_id, severity) = severity(f.severity);
    let (status_id, status) = finding_status(f.status);
    let (compliance_status_id, compliance_status) = compliance_status(f.status);
    let account = json!({ "uid": f.account_id, "type_id": AWS_ACCOUNT, "type": "AWS Account" });
    let partition = arn_field(&f.arn, 1);
    json!({
        "class_uid": CLASS_UID,
        "class_name": "Compliance Finding",
        "category_uid": CATEGORY_UID,
        "category_name": "Findings",
        "activity_id": ACTIVITY_CREATE,
        "activity_name": "Create",
        "type_uid": CLASS_UID * 100 + ACTIVITY_CREATE,
        "type_name": "Compliance Finding: Create",
        "time": time,
        "severity_id": severity_id,
        "severity": severity,
        "status_id": status_id,
        "status": status,
        "status_code": f.status,
        "status_detail": f.reason,
        "message": f.message,
        "compliance": {
            "control": CONTROL,
            "desc": CONTROL_TITLE,
            "standards": standards(&f.controls),
            "requirements": f.controls,
            "status_id": compliance_status_id,
            "status": compliance_status,
            "status_code": f.reason,
        },
        "finding_info": {
            "uid": format!("kms-rotation:{CONTROL}:{}", f.arn),
            "title": CONTROL_TITLE,
            "desc": f.message,
            "created_time": time,
            "modified_time": time,
        },
        "resources": [resource(f, &account, partition)],
        "cloud": {
            "provider": "AWS",
            "region": f.region,
            "cloud_partition": partition,
            "account": account,
        },
        "remediation": { "desc": remediation(f, &report.policy) },
        "metadata": {
            "version": OCSF_VERSION,
            "profiles": ["cloud"],
            "product": {
                "name": "kms-rotation",
                "vendor_name": "kms-rotation",
                "version": env!("CARGO_PKG_VERSION"),
            },
        },
        "evidences": [{ "name": "finding", "data": f }],
    })
}

/// The key as a resource. Aliases and tags are given only when they were read: the evidence
/// says `null` for facts not read, which an empty list would hide.
fn resource(f: &Finding, account: &Value, partition: &str) -> Value {
    let mut resource = json!({
        "uid": f.arn,
        "name": f.key_id,
        "type": "AWS::KMS::Key",
        "provider": "AWS",
        "region": f.region,
        "cloud_partition": partition,
        "owner": { "account": account },
    });
    if let Some(aliases) = &f.aliases {
        resource["labels"] = json!(aliases);
    }
    if let Some(tags) = &f.tags {
        let tags: Vec<Value> = tags
            .iter()
            .map(|(name, value)| json!({ "name": name, "value": value }))
            .collect();
        resource["tags"] = json!(tags);
    }
    if let Some(created) = f.creation_date {
        resource["created_time"] = json!(created.timestamp_millis());
    }
    resource
}

/// OCSF's `severity_id` and caption.
fn severity(severity: Severity) -> (u32, &'static str) {
    match severity {
        Severity::Informational => (1, "Informational"),
        Severity::Low => (2, "Low"),
        Severity::Medium => (3, "Medium"),
    }
}

/// The finding's `status_id` and caption: New for someone to look at, Suppressed when an
/// exception accepts the risk, Resolved when there is nothing to do.
fn finding_status(status: Status) -> (u32, &'static str) {
    match status {
        Status::Fail | Status::Error => (1, "New"),
        Status::Exempt => (3, "Suppressed"),
        Status::Pass | Status::NotApplicable => (4, "Resolved"),
    }
}

/// The control's `compliance.status_id` and caption. `exempt` fails the control (the exception
/// accepts the risk, it does not remove it); `error` is Warning: no result, missing facts.
fn compliance_status(status: Status) -> (u32, &'static str) {
    match status {
        Status::Pass => (1, "Pass"),
        Status::Error => (2, "Warning"),
        Status::Fail | Status::Exempt => (3, "Fail"),
        Status::NotApplicable => (99, "Not Applicable"),
    }
}

/// The standards the controls belong to, each once, in the controls' order. AWS Config rules
/// and CCE ids are not standards: they stay in `requirements`.
fn standards(controls: &[Control]) -> Vec<&'static str> {
    let mut standards = Vec::new();
    for control in controls {
        let standard = match control {
            Control::CisV140 | Control::CisV150 | Control::CisV200 | Control::CisV300 => {
                "CIS AWS Foundations Benchmark"
            }
            Control::SecurityHubKms4 => "AWS Foundational Security Best Practices",
            Control::ConfigCmkBackingKeyRotationEnabled | Control::Cce78920 => continue,
        };
        if !standards.contains(&standard) {
            standards.push(standard);
        }
    }
    standards
}

/// The fix of the finding's reason (`kms-rotation explain`): the console steps, then the
/// commands for this key (`explain::fix_commands`: to its remediation target, with the policy's
/// period) when it fails or is exempt.
fn remediation(f: &Finding, policy: &Policy) -> String {
    let steps = explain(f.reason).fix_console.join(" ");
    let commands = fix_commands(f, policy);
    if commands.is_empty() {
        steps
    } else {
        // One command a line: pasted, each runs on its own, never chained after a failure.
        format!("{steps} With the aws CLI:\n{}", commands.join("\n"))
    }
}

/// Field `index` of an ARN (`arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`), or empty.
fn arn_field(arn: &str, index: usize) -> &str {
    arn.split(':').nth(index).unwrap_or("")
}
