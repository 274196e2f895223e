//! A finding: the rule's verdict on one key, with the evidence it used.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::controls::{Control, Severity};
use crate::exposure::Exposure;
use crate::model::{
    KeyError, KeyManager, KeyRecord, KeySpec, KeyState, KeyUsage, MultiRegion, Origin, Rotation,
};
use crate::policy::{Exception, ExceptionMatch};
use crate::source::Location;

/// The five outcomes of `rule.md`.
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
pub enum Status {
    /// In scope, and it rotates automatically with a period the policy accepts.
    Pass,
    /// In scope, and it does not: rotation is off, or its period is longer than the policy allows.
    Fail,
    /// Automatic rotation does not exist for this kind of key, or the key is being deleted or is
    /// not usable yet; the reason says which.
    NotApplicable,
    /// It would fail, but an active exception covers it.
    Exempt,
    /// The facts could not be read: never counted as pass or fail.
    Error,
}
crate::wire::wire_names!(Status, "status");

/// Why a finding has its status. The snake_case names are public API: stable across releases.
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
pub enum Reason {
    /// DescribeKey failed (or the record lacks a fact it gives): `error`.
    DescribeFailed,
    /// An AWS managed key: AWS rotates it every year, and it cannot be configured.
    AwsManaged,
    /// Not `SYMMETRIC_DEFAULT` (RSA, ECC, SM2, HMAC, ML-DSA, ML-KEM): no automatic rotation.
    UnsupportedKeySpec,
    /// In a custom key store (CloudHSM or external): no automatic rotation.
    CustomKeyStore,
    /// Imported key material, which rotates only on demand, and the policy sets no maximum age.
    ImportedKeyMaterial,
    /// Imported key material rotated on demand (or created) within the policy's maximum age:
    /// `pass`.
    ImportedKeyRotatedOnDemand,
    /// Imported key material older than the policy's maximum age: `fail`.
    ImportedKeyRotationOverdue,
    /// Scheduled for deletion (`PendingDeletion`, `PendingReplicaDeletion`).
    PendingDeletion,
    /// Waiting for its imported key material.
    KeyStatePendingImport,
    /// Its custom key store is disconnected.
    KeyStateUnavailable,
    /// Still being created (a multi-Region replica, say).
    KeyStateCreating,
    /// Disabled, and the policy says `disabled_keys: skip`.
    KeyDisabled,
    /// GetKeyRotationStatus failed, or the rotation status was not read: `error`.
    RotationStatusFailed,
    /// Automatic rotation is off: `fail`.
    RotationDisabled,
    /// The rotation period is longer than the policy's `max_rotation_period_days`: `fail`.
    RotationPeriodExceedsPolicy,
    /// Rotation is on with a period the policy accepts: `pass`.
    RotationEnabled,
    /// A would-be failing key that an active exception may cover, but the exception matches
    /// on a fact (tags, aliases) that was not read or could not be read.
    ExceptionUndecidable,
    /// A key declared in code (a Terraform plan, a CloudFormation template) with a fact the rule
    /// needs that is known only after apply or deploy (a reference, an intrinsic function):
    /// `error`, never guessed.
    UnknownUntilApply,
    /// A key declared in code that asks for automatic rotation although its kind cannot rotate
    /// (not symmetric, imported material, a custom key store): the deploy would fail. `fail`.
    RotationNotSupported,
}
crate::wire::wire_names!(Reason, "reason");

/// Where the rotation period the rule used came from.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum PeriodSource {
    /// `RotationPeriodInDays` as the source reported it.
    Reported,
    /// Not reported (older emulators and inventories): taken as AWS's default, 365 days.
    AssumedDefault,
}
crate::wire::wire_names!(PeriodSource, "period source");

/// The exception that matched a would-be failing key; `expired` when it no longer excuses it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AppliedException {
    /// Which key the exception names (`match` on the wire).
    #[serde(rename = "match")]
    pub matcher: ExceptionMatch,
    /// Who accepted the risk.
    pub owner: String,
    /// Why the key does not rotate.
    pub reason: String,
    /// The exception's ticket, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    /// The last day (UTC) it excuses the key.
    pub expires: NaiveDate,
    /// True when it has lapsed, so the key fails anyway; false on an `exempt` finding.
    pub expired: bool,
}

impl AppliedException {
    /// `exception`, as attached to a finding.
    pub fn new(exception: &Exception, expired: bool) -> Self {
        AppliedException {
            matcher: exception.matcher.clone(),
            owner: exception.owner.clone(),
            reason: exception.reason.clone(),
            ticket: exception.ticket.clone(),
            expires: exception.expires,
            expired,
        }
    }
}

/// The rule's verdict on one key plus the record's evidence, field for field.
// Fields that few findings have (`exposure`, `exception`, `error`, `location`) are boxed: a
// report holds one finding per key, and inline they took 328 of its 744 bytes on every one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Finding {
    /// The key's ARN.
    pub arn: String,
    /// The account that owns the key.
    pub account_id: String,
    /// The key's region.
    pub region: String,
    /// The key id.
    pub key_id: String,
    /// The verdict.
    pub status: Status,
    /// Why: the first row of the rule that matched.
    pub reason: Reason,
    /// How much it matters, from `status` and `reason` (the table in docs/rule.md).
    pub severity: Severity,
    /// The controls the finding is about (CIS AWS Foundations items, Security Hub, AWS Config,
    /// CCE), as `framework/version/item`.
    pub controls: Cow<'static, [Control]>,
    /// One line for people: what is wrong (or right) with the key.
    pub message: Cow<'static, str>,
    /// True exactly when the finding is `fail` and a plan can act on it.
    pub remediable: bool,
    /// For `fail` and `exempt`: the ARN a fix goes to (a replica's primary); else null.
    pub remediation_target: Option<String>,
    /// `None`: not read (or the read failed; see `errors`). Not the same as none.
    #[serde(default)]
    pub aliases: Option<Vec<String>>,
    /// `None`: not read (or the read failed; see `errors`). Not the same as none.
    #[serde(default)]
    pub tags: Option<crate::model::Tags>,
    /// As in the key record; `None` when unknown.
    pub key_manager: Option<KeyManager>,
    /// As in the key record; `None` when unknown.
    pub key_spec: Option<KeySpec>,
    /// As in the key record; `None` when unknown.
    pub key_usage: Option<KeyUsage>,
    /// As in the key record; `None` when unknown.
    pub origin: Option<Origin>,
    /// As in the key record; `None` for keys in KMS itself.
    pub custom_key_store_id: Option<String>,
    /// As in the key record; `None` when unknown.
    pub key_state: Option<KeyState>,
    /// As in the key record; `None` when not reported.
    pub creation_date: Option<DateTime<Utc>>,
    /// As in the key record; `None` for a single-Region key.
    pub multi_region: Option<MultiRegion>,
    /// As in the key record; `None` when the rotation status was not read.
    pub rotation: Option<Rotation>,
    /// As in the key record: who beyond the key's account may use it; `None` when not read.
    #[serde(default)]
    pub exposure: Option<Box<Exposure>>,
    /// Set when the rule used a rotation period: reported, or assumed to be AWS's 365.
    pub period_source: Option<PeriodSource>,
    /// Set when an exception matched a would-be failing key.
    pub exception: Option<Box<AppliedException>>,
    /// Set for `error` findings: the failed or missing read that decided it.
    pub error: Option<Box<KeyError>>,
    /// Every read that failed for this key, deciding or not (a failed tag read on a passing
    /// key, say), so that a reader knows which facts are missing.
    #[serde(default)]
    pub errors: Vec<KeyError>,
    /// As in the key record: where the key is declared in code (file, line, address); absent
    /// for a key read from AWS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Box<Location>>,
}

impl Finding {
    /// The key the finding is about, as a record again: the evidence the verdict can be
    /// recomputed from. (A finding from a report without `errors` keeps only its deciding
    /// error.)
    pub fn to_record(&self) -> KeyRecord {
        KeyRecord {
            account_id: self.account_id.clone(),
            region: self.region.clone(),
            key_id: self.key_id.clone(),
            arn: self.arn.clone(),
            aliases: self.aliases.clone(),
            tags: self.tags.clone(),
            key_manager: self.key_manager,
            key_spec: self.key_spec,
            key_usage: self.key_usage,
            origin: self.origin,
            custom_key_store_id: self.custom_key_store_id.clone(),
            key_state: self.key_state,
            creation_date: self.creation_date,
            multi_region: self.multi_region.clone(),
            rotation: self.rotation.clone(),
            exposure: self.exposure.clone(),
            errors: if self.errors.is_empty() {
                self.error.as_deref().cloned().into_iter().collect()
            } else {
                self.errors.clone()
            },
            location: self.location.clone(),
        }
    }
}
