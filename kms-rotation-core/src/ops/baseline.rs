//! `baseline`: the organisation baseline generated from the policy (see [`crate::baseline`]).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::{Error, Policy, Result, baseline};

/// Which baseline document to generate.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum BaselineFormat {
    /// A CloudFormation template (JSON): the AWS Config rule, its remediation and role, the
    /// EventBridge rule for the event handler.
    #[default]
    Cloudformation,
    /// A conformance pack template (JSON): the Config rule and its remediation.
    ConformancePack,
    /// A Terraform snippet: a compliant `aws_kms_key` at the policy's period.
    Terraform,
}

/// Options of [`baseline`].
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct BaselineOptions {
    /// The document to generate (default `cloudformation`).
    pub format: BaselineFormat,
    /// A policy document; the default policy when neither it nor `policy_file` is given.
    pub policy: Option<Policy>,
    /// A policy file (JSON or YAML), instead of `policy`.
    #[serde(alias = "policyFile")]
    pub policy_file: Option<PathBuf>,
}

/// The baseline document, as text: a template's JSON (pretty, with a final line break) or the
/// Terraform snippet. Its rotation period is the policy's `target_rotation_period_days`.
pub fn baseline(options: BaselineOptions) -> Result<String> {
    let policy = match (options.policy, options.policy_file) {
        (Some(_), Some(_)) => {
            return Err(
                Error::invalid_input("give a policy document or a policy file, not both")
                    .with_field("policy_file"),
            );
        }
        (Some(policy), None) => {
            policy
                .validate()
                .map_err(|e| super::scan::under("policy", e))?;
            policy
        }
        (None, Some(path)) => Policy::from_file(path)?,
        (None, None) => Policy::default(),
    };
    let days = policy.target_rotation_period_days.days();
    let template = match options.format {
        BaselineFormat::Cloudformation => baseline::cloudformation(days),
        BaselineFormat::ConformancePack => baseline::conformance_pack(days),
        BaselineFormat::Terraform => return Ok(baseline::terraform(days)),
    };
    let mut text = serde_json::to_string_pretty(&template).map_err(|e| {
        Error::new(
            crate::ErrorKind::Unexpected,
            format!("cannot write the template: {e}"),
        )
    })?;
    text.push('\n');
    Ok(text)
}
