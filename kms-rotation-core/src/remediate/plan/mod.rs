//! The remediation plan: ordered, batched actions and the reasons other keys get none
//! (`formats.md`). A plan file is parsed and checked completely before anything is written: a
//! plan that names a bad ARN or period must fail at load, not halfway through a run.

mod planner;
mod priority;
mod render;

pub use planner::{CLOUDFORMATION_STACK_TAG, KeyFilter, PlanOptions, Selection, TagMatch, plan};
pub use priority::Priority;
pub use render::PlanFormat;

use std::collections::BTreeSet;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use strum::{IntoStaticStr, VariantArray};

use crate::input::{self, Syntax};
use crate::model::KeyArn;
use crate::policy::{Policy, RotationPeriod};
use crate::wire::wire_names;
use crate::{Error, Result};

/// What an action does. One kind today; the name is checked when a plan is loaded.
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
    IntoStaticStr,
    VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ActionKind {
    /// EnableKeyRotation with `rotation_period_days`.
    EnableRotation,
}
wire_names!(ActionKind, "action");

/// One change to make, on one key (a multi-Region primary stands for its replicas).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(try_from = "RawAction")]
pub struct Action {
    /// What to do: `enable_rotation`.
    pub action: ActionKind,
    /// The key the write goes to.
    pub target_arn: String,
    /// From `target_arn`, not from the findings: a replica's fix runs in its primary's region.
    pub region: String,
    /// The account of `target_arn`, whose role the write uses.
    pub account_id: String,
    /// The rotation period to set, in days (90-2560, not above the policy's maximum).
    pub rotation_period_days: RotationPeriod,
    /// 1-based; batches run one after the other, in order.
    pub batch: usize,
    /// 1-based rank of the first priority rule the key matches (lower runs first); keys
    /// matching none get one past the last rule (`exposure` counts as two rules).
    pub priority: usize,
    /// Why the key has that rank: the rule and the evidence (`public: key_policy `Open` allows
    /// any principal...`), or that a fact was missing and the key ranked as if it matched.
    #[serde(default)]
    pub priority_reason: String,
    /// The ARNs of the findings this action fixes (the primary's and its replicas').
    pub because: Vec<String>,
    /// The key carries `aws:cloudformation:stack-name`: the stack's template must get the same
    /// fix, or the next stack update may undo it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_by_cloudformation: Option<String>,
}

/// The wire shape of an action, checked into an [`Action`] while the file is parsed, so that
/// errors carry the line of the action they are about.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawAction {
    action: ActionKind,
    target_arn: String,
    region: String,
    account_id: String,
    rotation_period_days: RotationPeriod,
    batch: usize,
    priority: usize,
    #[serde(default)]
    priority_reason: String,
    because: Vec<String>,
    #[serde(default)]
    managed_by_cloudformation: Option<String>,
}

impl TryFrom<RawAction> for Action {
    type Error = String;

    fn try_from(raw: RawAction) -> Result<Self, String> {
        let arn =
            KeyArn::parse(&raw.target_arn).map_err(|e| format!("target_arn: {}", e.message()))?;
        // A hand-edited region or account that disagrees with the ARN would send the write to
        // the wrong endpoint or credentials.
        if arn.region != raw.region {
            return Err(format!(
                "region: `{}` does not match the target ARN's `{}`",
                raw.region, arn.region
            ));
        }
        if arn.account_id != raw.account_id {
            return Err(format!(
                "account_id: `{}` does not match the target ARN's `{}`",
                raw.account_id, arn.account_id
            ));
        }
        if raw.batch == 0 || raw.priority == 0 {
            return Err("batch and priority are 1-based".to_owned());
        }
        if raw.because.is_empty() {
            return Err("because: an action must name the findings it fixes".to_owned());
        }
        Ok(Action {
            action: raw.action,
            target_arn: raw.target_arn,
            region: raw.region,
            account_id: raw.account_id,
            rotation_period_days: raw.rotation_period_days,
            batch: raw.batch,
            priority: raw.priority,
            priority_reason: raw.priority_reason,
            because: raw.because,
            managed_by_cloudformation: raw.managed_by_cloudformation,
        })
    }
}

/// Why a finding gets no action. The snake_case names are public API.
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
    IntoStaticStr,
    VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum SkipReason {
    /// The key passes.
    Passing,
    /// An active exception covers it.
    Exempt,
    /// Automatic rotation does not exist for it, or it is on its way out.
    NotApplicable,
    /// Its facts could not be read: re-scan before fixing anything.
    ErrorRescanFirst,
    /// Disabled keys refuse EnableKeyRotation (DisabledException).
    KeyDisabled,
    /// Imported key material rotates only on demand.
    ImportedKey,
    /// Left out by the plan's selection (include / exclude).
    Excluded,
    /// A replica whose primary is not known: there is no key to fix.
    NoRemediationTarget,
    /// A failing replica whose primary passes in the same report: the two disagree (they share
    /// one setting), so the data is stale; a write could loosen the primary. Re-scan.
    PrimaryPassing,
    /// A failure the plan has no action for.
    NotRemediable,
}
wire_names!(SkipReason, "skip reason");

/// A finding the plan does not act on, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Skip {
    /// The finding's key.
    pub arn: String,
    /// Why it gets no action.
    pub reason: SkipReason,
}

/// A remediation plan. Build one with [`plan`](plan()); load one with
/// [`Plan::from_file`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Plan {
    /// The format's version: `1`. Another version is refused, not misread.
    pub schema_version: u32,
    /// When the plan was made (UTC).
    pub generated_at: DateTime<Utc>,
    /// The report's policy, with `target_rotation_period_days` the period the actions set.
    pub policy: Policy,
    /// In execution order.
    pub actions: Vec<Action>,
    /// Every finding with no action, and why.
    pub skips: Vec<Skip>,
}

impl Plan {
    /// Reads a plan file (JSON, or YAML by extension) and checks all of it. Errors name the
    /// file, the field (`actions[3].target_arn`) and, where the parser knows it, the line.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let plan: Plan = input::read_file(path)?;
        plan.validate().map_err(|e| e.with_file(path))?;
        Ok(plan)
    }

    /// Parses and checks a plan document.
    pub fn parse(text: &str, syntax: Syntax) -> Result<Self> {
        let plan: Plan = input::parse(text, syntax)?;
        plan.validate()?;
        Ok(plan)
    }

    /// What the types cannot check alone: the version, relations between fields, and that no
    /// key is acted on twice.
    pub fn validate(&self) -> Result<()> {
        crate::model::check_schema_version(self.schema_version)?;
        self.policy.validate_embedded()?;
        let max = self.policy.max_rotation_period_days;
        let mut seen = BTreeSet::new();
        let mut last_batch = 1;
        for (i, action) in self.actions.iter().enumerate() {
            if action.rotation_period_days > max {
                return Err(Error::invalid_input(format!(
                    "{} is above the policy's max_rotation_period_days ({max}): the fix would still fail",
                    action.rotation_period_days
                ))
                .with_field(format!("actions[{i}].rotation_period_days")));
            }
            if !seen.insert(action.target_arn.as_str()) {
                return Err(Error::invalid_input(format!(
                    "`{}` has more than one action",
                    action.target_arn
                ))
                .with_field(format!("actions[{i}].target_arn")));
            }
            if action.batch < last_batch {
                return Err(Error::invalid_input(
                    "actions are in execution order: batches must not go down",
                )
                .with_field(format!("actions[{i}].batch")));
            }
            last_batch = action.batch;
        }
        Ok(())
    }

    /// The number of batches.
    pub fn batches(&self) -> usize {
        self.actions.last().map_or(0, |a| a.batch)
    }
}
