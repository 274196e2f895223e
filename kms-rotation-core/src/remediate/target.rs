//! Where remediation writes: a small trait (describe, read, enable, disable) with an in-memory
//! implementation in [`crate::memory`] and the AWS one in `crate::aws`.

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::scope::KeyMetadata;
use crate::Result;
use crate::policy::RotationPeriod;

/// A key's automatic rotation setting, as GetKeyRotationStatus shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RotationState {
    /// Whether automatic rotation is on.
    pub enabled: bool,
    /// Absent when rotation is off (AWS sends no period then) or the service does not report it.
    #[serde(default)]
    pub period_days: Option<u32>,
}

impl RotationState {
    /// Rotation off.
    pub const DISABLED: RotationState = RotationState {
        enabled: false,
        period_days: None,
    };

    /// Rotation on, every `period`.
    pub fn enabled(period: RotationPeriod) -> Self {
        RotationState {
            enabled: true,
            period_days: Some(period.days()),
        }
    }

    /// The period in force: an unreported period is AWS's default, 365 days (as in `rule.md`).
    pub fn effective_period(&self) -> Option<u32> {
        self.enabled.then(|| {
            self.period_days
                .unwrap_or(RotationPeriod::AWS_DEFAULT.days())
        })
    }

    /// Whether `self` shows what `wanted` describes. A disabled key's period does not matter.
    pub fn shows(&self, wanted: &RotationState) -> bool {
        self.enabled == wanted.enabled && self.effective_period() == wanted.effective_period()
    }
}

/// What remediation needs from a KMS: describe a key (to re-check its scope before writing),
/// read its rotation, turn it on with a period, turn it off (rollback). Errors carry the AWS code
/// in `Error::context().code`.
#[async_trait]
pub trait RemediationTarget: Send + Sync + Debug {
    /// DescribeKey: what the write scope needs ([`out_of_scope`](super::out_of_scope)).
    async fn describe_key(&self, arn: &str) -> Result<KeyMetadata>;
    /// GetKeyRotationStatus.
    async fn read_rotation(&self, arn: &str) -> Result<RotationState>;
    /// EnableKeyRotation with `RotationPeriodInDays`.
    async fn enable_rotation(&self, arn: &str, period: RotationPeriod) -> Result<()>;
    /// DisableKeyRotation.
    async fn disable_rotation(&self, arn: &str) -> Result<()>;
}

#[async_trait]
impl<T: RemediationTarget + ?Sized> RemediationTarget for Arc<T> {
    async fn describe_key(&self, arn: &str) -> Result<KeyMetadata> {
        (**self).describe_key(arn).await
    }
    async fn read_rotation(&self, arn: &str) -> Result<RotationState> {
        (**self).read_rotation(arn).await
    }
    async fn enable_rotation(&self, arn: &str, period: RotationPeriod) -> Result<()> {
        (**self).enable_rotation(arn, period).await
    }
    async fn disable_rotation(&self, arn: &str) -> Result<()> {
        (**self).disable_rotation(arn).await
    }
}

#[async_trait]
impl<T: RemediationTarget + ?Sized> RemediationTarget for Box<T> {
    async fn describe_key(&self, arn: &str) -> Result<KeyMetadata> {
        (**self).describe_key(arn).await
    }
    async fn read_rotation(&self, arn: &str) -> Result<RotationState> {
        (**self).read_rotation(arn).await
    }
    async fn enable_rotation(&self, arn: &str, period: RotationPeriod) -> Result<()> {
        (**self).enable_rotation(arn, period).await
    }
    async fn disable_rotation(&self, arn: &str) -> Result<()> {
        (**self).disable_rotation(arn).await
    }
}
