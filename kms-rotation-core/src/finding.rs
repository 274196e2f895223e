//! A finding: the rule's verdict on one key, with the evidence it used.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{
    KeyError, KeyManager, KeyRecord, KeySpec, KeyState, KeyUsage, MultiRegion, Origin, Rotation,
};
use crate::policy::{Exception, ExceptionMatch};

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
    Pass,
    Fail,
    NotApplicable,
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
    DescribeFailed,
    AwsManaged,
    UnsupportedKeySpec,
    CustomKeyStore,
    ImportedKeyMaterial,
    ImportedKeyRotatedOnDemand,
    ImportedKeyRotationOverdue,
    PendingDeletion,
    KeyStatePendingImport,
    KeyStateUnavailable,
    KeyStateCreating,
    KeyDisabled,
    RotationStatusFailed,
    RotationDisabled,
    RotationPeriodExceedsPolicy,
    RotationEnabled,
    /// A would-be failing key that an active exception may cover, but the exception matches
    /// on a fact (tags, aliases) that was not read or could not be read.
    ExceptionUndecidable,
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
    #[serde(rename = "match")]
    pub matcher: ExceptionMatch,
    pub owner: String,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    pub expires: NaiveDate,
    pub expired: bool,
}

impl AppliedException {
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Finding {
    pub arn: String,
    pub account_id: String,
    pub region: String,
    pub key_id: String,
    pub status: Status,
    pub reason: Reason,
    /// True exactly when the finding is `fail` and a plan can act on it.
    pub remediable: bool,
    /// For `fail` and `exempt`: the ARN a fix goes to (a replica's primary); else null.
    pub remediation_target: Option<String>,
    /// `None`: not read (or the read failed; see `errors`). Not the same as none.
    #[serde(default)]
    pub aliases: Option<Vec<String>>,
    /// `None`: not read (or the read failed; see `errors`). Not the same as none.
    #[serde(default)]
    pub tags: Option<BTreeMap<String, String>>,
    pub key_manager: Option<KeyManager>,
    pub key_spec: Option<KeySpec>,
    pub key_usage: Option<KeyUsage>,
    pub origin: Option<Origin>,
    pub custom_key_store_id: Option<String>,
    pub key_state: Option<KeyState>,
    pub creation_date: Option<DateTime<Utc>>,
    pub multi_region: Option<MultiRegion>,
    pub rotation: Option<Rotation>,
    /// Set when the rule used a rotation period: reported, or assumed to be AWS's 365.
    pub period_source: Option<PeriodSource>,
    /// Set when an exception matched a would-be failing key.
    pub exception: Option<AppliedException>,
    /// Set for `error` findings: the failed or missing read that decided it.
    pub error: Option<KeyError>,
    /// Every read that failed for this key, deciding or not (a failed tag read on a passing
    /// key, say), so that a reader knows which facts are missing.
    #[serde(default)]
    pub errors: Vec<KeyError>,
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
            errors: if self.errors.is_empty() {
                self.error.iter().cloned().collect()
            } else {
                self.errors.clone()
            },
        }
    }
}
