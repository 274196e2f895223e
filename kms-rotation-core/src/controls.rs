//! What a finding means outside this tool: its severity, the controls it is about, and one line
//! for people. Each is derived from the verdict alone, here and nowhere else, so every format
//! and surface says the same thing, and a saved report's copy can be recomputed and checked.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::finding::{Finding, PeriodSource, Reason, Status};
use crate::policy::RotationPeriod;

/// How much a finding matters, on Security Hub's scale (the words OCSF and ASFF use too).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Severity {
    /// Nothing to do: the key passes, or the control does not apply to it.
    Informational,
    /// The key rotates, but less often than the policy asks.
    Low,
    /// The key's material does not rotate, or whether it does is unknown: Security Hub's
    /// severity for KMS.4.
    Medium,
}
crate::wire::wire_names!(Severity, "severity");

/// A control a finding is about, named `framework/version/item` (or `framework/id`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
pub enum Control {
    /// CIS Amazon Web Services Foundations Benchmark v1.4.0, item 3.8.
    #[serde(rename = "cis-aws-foundations/v1.4.0/3.8")]
    #[strum(serialize = "cis-aws-foundations/v1.4.0/3.8")]
    CisV140,
    /// CIS Amazon Web Services Foundations Benchmark v1.5.0, item 3.8.
    #[serde(rename = "cis-aws-foundations/v1.5.0/3.8")]
    #[strum(serialize = "cis-aws-foundations/v1.5.0/3.8")]
    CisV150,
    /// CIS Amazon Web Services Foundations Benchmark v2.0.0, item 3.8.
    #[serde(rename = "cis-aws-foundations/v2.0.0/3.8")]
    #[strum(serialize = "cis-aws-foundations/v2.0.0/3.8")]
    CisV200,
    /// CIS Amazon Web Services Foundations Benchmark v3.0.0, item 3.6 (renumbered).
    #[serde(rename = "cis-aws-foundations/v3.0.0/3.6")]
    #[strum(serialize = "cis-aws-foundations/v3.0.0/3.6")]
    CisV300,
    /// AWS Security Hub control KMS.4, "AWS KMS key rotation should be enabled".
    #[serde(rename = "aws-security-hub/KMS.4")]
    #[strum(serialize = "aws-security-hub/KMS.4")]
    SecurityHubKms4,
    /// The AWS Config managed rule behind KMS.4.
    #[serde(rename = "aws-config/cmk-backing-key-rotation-enabled")]
    #[strum(serialize = "aws-config/cmk-backing-key-rotation-enabled")]
    ConfigCmkBackingKeyRotationEnabled,
    /// The Common Configuration Enumeration id of the setting.
    #[serde(rename = "cce/CCE-78920-6")]
    #[strum(serialize = "cce/CCE-78920-6")]
    Cce78920,
}
crate::wire::wire_names!(Control, "control");

/// The severity of a verdict (the table in docs/rule.md).
///
/// Fail closed: an `error` is as severe as the worst `fail` it may hide (the key may well not
/// rotate), never shown as harmless. An `exempt` key keeps its failing reason's severity: the
/// exception accepts the risk, it does not remove it.
pub fn severity(status: Status, reason: Reason) -> Severity {
    match status {
        Status::Pass | Status::NotApplicable => Severity::Informational,
        Status::Error => Severity::Medium,
        Status::Fail | Status::Exempt => match reason {
            // It still rotates, only less often than the policy wants.
            Reason::RotationPeriodExceedsPolicy => Severity::Low,
            // Code that cannot deploy: no key goes without rotation because of it.
            Reason::RotationNotSupported => Severity::Low,
            // The material never changes: what KMS.4 (Medium) flags.
            Reason::RotationDisabled | Reason::ImportedKeyRotationOverdue => Severity::Medium,
            // No other reason fails; a new one is Medium until decided otherwise, never less.
            _ => Severity::Medium,
        },
    }
}

/// The controls every finding is about: this tool checks one control, known by these names.
pub fn controls() -> &'static [Control] {
    &Control::ALL
}

/// One line for people: what is wrong (or right) with the key, from its verdict.
pub fn message(finding: &Finding) -> Cow<'static, str> {
    let said = match finding.reason {
        Reason::DescribeFailed => {
            "its description (DescribeKey) could not be read, so its rotation is unknown"
        }
        Reason::AwsManaged => "an AWS managed key: AWS rotates it every year",
        Reason::UnsupportedKeySpec => "not a symmetric key: KMS cannot rotate it automatically",
        Reason::CustomKeyStore => "in a custom key store: KMS cannot rotate it automatically",
        Reason::ImportedKeyMaterial => {
            "imported key material: it rotates only on demand, and the policy sets no maximum age"
        }
        Reason::ImportedKeyRotatedOnDemand => {
            "imported key material rotated (or created) within the policy's maximum age"
        }
        Reason::ImportedKeyRotationOverdue => {
            "imported key material older than the policy's maximum age"
        }
        Reason::PendingDeletion => "scheduled for deletion",
        Reason::KeyStatePendingImport => "waiting for its imported key material",
        Reason::KeyStateUnavailable => "its custom key store is disconnected",
        Reason::KeyStateCreating => "still being created",
        Reason::KeyDisabled => "disabled, and the policy skips disabled keys",
        Reason::RotationStatusFailed => {
            "its rotation status could not be read, so whether it rotates is unknown"
        }
        Reason::RotationDisabled => "automatic rotation is off",
        Reason::RotationPeriodExceedsPolicy => {
            return with_exception(
                finding,
                format!(
                    "rotates every {} days, longer than the policy allows",
                    period(finding)
                )
                .into(),
            );
        }
        Reason::RotationEnabled => {
            return format!("rotates automatically every {} days", period(finding)).into();
        }
        Reason::ExceptionUndecidable => {
            "an exception may cover it, but the fact it matches on was not read"
        }
        Reason::UnknownUntilApply => {
            let property = finding
                .error
                .as_ref()
                .map_or("a setting", |e| e.message.as_str());
            return with_exception(
                finding,
                format!("declared in code, and {property}: whether it rotates is unknown").into(),
            );
        }
        Reason::RotationNotSupported => {
            "declared with automatic rotation on, but its kind cannot rotate: the deploy would fail"
        }
    };
    with_exception(finding, Cow::Borrowed(said))
}

/// The period the rule used, and whether it was assumed.
fn period(finding: &Finding) -> String {
    let days = finding
        .rotation
        .as_ref()
        .and_then(|r| r.period_days)
        .unwrap_or(RotationPeriod::AWS_DEFAULT.days());
    match finding.period_source {
        Some(PeriodSource::AssumedDefault) => format!("{days} (assumed: not reported)"),
        _ => days.to_string(),
    }
}

/// Adds what an exempt or lapsed exception says, and the deciding error's code.
fn with_exception(finding: &Finding, mut line: Cow<'static, str>) -> Cow<'static, str> {
    if let Some(exception) = &finding.exception {
        let state = if exception.expired {
            "expired"
        } else {
            "exempt"
        };
        *line.to_mut() += &format!(
            "; {state}: exception by {} until {}",
            exception.owner, exception.expires
        );
    }
    if let Some(error) = &finding.error {
        *line.to_mut() += &format!(" ({}: {})", error.operation, error.code);
    }
    line
}
