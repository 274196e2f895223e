//! `iam_policy`: the least-privilege IAM policy for reading or for changing keys.

use serde::Deserialize;

use crate::Result;
use crate::aws::permissions::{self, IamPolicy, Mode};

/// Options of [`iam_policy`].
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct IamPolicyOptions {
    /// `read_only` (the default: scan, and plan when it scans) or `remediate` (apply, rollback).
    pub mode: Mode,
    /// The roles `role_arns` of the scan or apply will assume: `sts:AssumeRole` is granted on
    /// them, and left out when there are none.
    #[serde(alias = "roleArns")]
    pub role_arns: Vec<String>,
}

/// The policy document for `options.mode`, with what each action is for.
pub fn iam_policy(options: IamPolicyOptions) -> Result<IamPolicy> {
    permissions::iam_policy(options.mode, &options.role_arns)
}
