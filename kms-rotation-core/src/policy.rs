//! The policy a scan judges keys against, and the exceptions that excuse a failing key for a time.
//!
//! Policy and exceptions files are JSON or YAML of the same shape (`formats.md`). Unknown fields
//! are rejected: a misspelt `max_rotation_perod_days` silently ignored would weaken the check.

use std::fmt;
use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use strum::{IntoStaticStr, VariantArray};

use crate::input::{self, Syntax};
use crate::model::KeyRecord;
use crate::wire::wire_names;
use crate::{Error, Result};

/// A rotation period in days, within the 90-2560 range that AWS accepts.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(try_from = "i64", into = "u32")]
pub struct RotationPeriod(u32);

impl RotationPeriod {
    /// The shortest period AWS allows, in days.
    pub const MIN_DAYS: u32 = 90;
    /// The longest period AWS allows, in days.
    pub const MAX_DAYS: u32 = 2560;
    /// AWS's default when `RotationPeriodInDays` is omitted.
    pub const AWS_DEFAULT: RotationPeriod = RotationPeriod(365);

    /// A period of `days`; an error when it is outside 90-2560, the periods AWS allows.
    pub fn new(days: u32) -> Result<Self> {
        if (Self::MIN_DAYS..=Self::MAX_DAYS).contains(&days) {
            Ok(RotationPeriod(days))
        } else {
            Err(Error::invalid_input(format!(
                "{days} days is outside 90-2560, the rotation periods AWS allows"
            )))
        }
    }

    /// The period in days.
    pub fn days(self) -> u32 {
        self.0
    }
}

impl TryFrom<i64> for RotationPeriod {
    type Error = String;
    fn try_from(days: i64) -> Result<Self, String> {
        u32::try_from(days)
            .map_err(|_| format!("{days} days is outside 90-2560, the rotation periods AWS allows"))
            .and_then(|d| RotationPeriod::new(d).map_err(|e| e.message().to_owned()))
    }
}

impl From<RotationPeriod> for u32 {
    fn from(period: RotationPeriod) -> u32 {
        period.0
    }
}

impl fmt::Display for RotationPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} days", self.0)
    }
}

/// What to do with keys in state `Disabled`.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    IntoStaticStr,
    VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum DisabledKeys {
    /// Judge them like any key: a disabled key keeps its rotation setting and comes back with one
    /// EnableKey call, so hiding it would hide a non-rotating key.
    #[default]
    Evaluate,
    /// Report them `not_applicable` / `key_disabled`.
    Skip,
}
wire_names!(DisabledKeys, "disabled_keys setting");

/// How an exception picks its key. Exact matches only.
///
/// On the wire it is an object with exactly one of `arn`, `key_id`, `alias` or `tag`
/// (`{"tag": {"key": ..., "value": ...}}`), the same in JSON and YAML.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(try_from = "RawMatch", into = "RawMatch")]
pub enum ExceptionMatch {
    /// The key with this ARN.
    Arn(String),
    /// The key with this key id.
    KeyId(String),
    /// `alias/name`; the `alias/` prefix may be left out.
    Alias(String),
    /// A key carrying the tag `key` with the value `value`.
    Tag {
        /// The tag's key (not empty).
        key: String,
        /// The value the tag must have, exactly.
        value: String,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawMatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    alias: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tag: Option<RawTag>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawTag {
    key: String,
    value: String,
}

impl TryFrom<RawMatch> for ExceptionMatch {
    type Error = String;
    fn try_from(raw: RawMatch) -> Result<Self, String> {
        let matcher = match raw {
            RawMatch {
                arn: Some(arn),
                key_id: None,
                alias: None,
                tag: None,
            } => ExceptionMatch::Arn(arn),
            RawMatch {
                arn: None,
                key_id: Some(id),
                alias: None,
                tag: None,
            } => ExceptionMatch::KeyId(id),
            RawMatch {
                arn: None,
                key_id: None,
                alias: Some(alias),
                tag: None,
            } => ExceptionMatch::Alias(alias),
            RawMatch {
                arn: None,
                key_id: None,
                alias: None,
                tag: Some(RawTag { key, value }),
            } => ExceptionMatch::Tag { key, value },
            _ => return Err("needs exactly one of `arn`, `key_id`, `alias` or `tag`".to_owned()),
        };
        let blank = match &matcher {
            ExceptionMatch::Arn(s) | ExceptionMatch::KeyId(s) | ExceptionMatch::Alias(s) => {
                s.trim().is_empty()
            }
            ExceptionMatch::Tag { key, .. } => key.trim().is_empty(),
        };
        if blank {
            return Err("the value to match must not be empty".to_owned());
        }
        Ok(matcher)
    }
}

impl From<ExceptionMatch> for RawMatch {
    fn from(matcher: ExceptionMatch) -> RawMatch {
        match matcher {
            ExceptionMatch::Arn(arn) => RawMatch {
                arn: Some(arn),
                ..RawMatch::default()
            },
            ExceptionMatch::KeyId(id) => RawMatch {
                key_id: Some(id),
                ..RawMatch::default()
            },
            ExceptionMatch::Alias(alias) => RawMatch {
                alias: Some(alias),
                ..RawMatch::default()
            },
            ExceptionMatch::Tag { key, value } => RawMatch {
                tag: Some(RawTag { key, value }),
                ..RawMatch::default()
            },
        }
    }
}

impl ExceptionMatch {
    /// Whether this matcher picks `key`: `None` when it matches on a fact the record does not
    /// have (tags or aliases not read, or their read failed), so the answer is unknown. A
    /// caller must never read `None` as "no match".
    pub fn matches(&self, key: &KeyRecord) -> Option<bool> {
        match self {
            ExceptionMatch::Arn(arn) => Some(key.arn == *arn),
            ExceptionMatch::KeyId(id) => Some(key.key_id == *id),
            ExceptionMatch::Alias(alias) => {
                let wanted = alias.strip_prefix("alias/").unwrap_or(alias);
                let aliases = key.aliases.as_ref()?;
                Some(
                    aliases
                        .iter()
                        .any(|a| a.strip_prefix("alias/").unwrap_or(a.as_str()) == wanted),
                )
            }
            ExceptionMatch::Tag { key: k, value } => {
                Some(key.tags.as_ref()?.get(k) == Some(value.as_str()))
            }
        }
    }

    /// The read this matcher depends on beyond DescribeKey, if any: the operation whose failure
    /// (or absence) makes [`ExceptionMatch::matches`] unknown.
    pub fn needed_read(&self) -> Option<&'static str> {
        match self {
            ExceptionMatch::Arn(_) | ExceptionMatch::KeyId(_) => None,
            ExceptionMatch::Alias(_) => Some(crate::model::operation::LIST_ALIASES),
            ExceptionMatch::Tag { .. } => Some(crate::model::operation::LIST_RESOURCE_TAGS),
        }
    }

    /// Whether only tags can tell if this matcher applies (sources read tags only when needed).
    pub fn needs_tags(&self) -> bool {
        matches!(self, ExceptionMatch::Tag { .. })
    }
}

/// An accepted risk: the key fails, its owner knows, and it is excused until `expires`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Exception {
    /// Which key it excuses (`match` on the wire).
    #[serde(rename = "match")]
    pub matcher: ExceptionMatch,
    /// Who accepted the risk (a team or a person); not blank.
    #[serde(deserialize_with = "non_blank")]
    pub owner: String,
    /// Why the key does not rotate; not blank.
    #[serde(deserialize_with = "non_blank")]
    pub reason: String,
    /// A change or risk ticket, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    /// Active through this whole day, UTC.
    pub expires: NaiveDate,
}

impl Exception {
    /// Active through the whole of its expiry day, UTC.
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        now.date_naive() <= self.expires
    }
}

fn non_blank<'de, D: serde::Deserializer<'de>>(de: D) -> Result<String, D::Error> {
    let s = String::deserialize(de)?;
    if s.trim().is_empty() {
        Err(serde::de::Error::custom("must not be empty"))
    } else {
        Ok(s)
    }
}

/// The policy. Every field has the default of `rule.md`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// The longest automatic rotation period that passes.
    pub max_rotation_period_days: RotationPeriod,
    /// The period remediation sets; never above `max_rotation_period_days`.
    pub target_rotation_period_days: RotationPeriod,
    /// What to do with keys in state `Disabled`: judge them (`evaluate`, the default) or report
    /// them `not_applicable` (`skip`).
    pub disabled_keys: DisabledKeys,
    /// When set, imported (EXTERNAL) keys must have been rotated on demand (or created) within
    /// this many days; when unset they are `not_applicable`.
    pub imported_key_max_age_days: Option<u32>,
    /// Accepted risks: a failing key one of them matches, while it is active, is `exempt`.
    pub exceptions: Vec<Exception>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            max_rotation_period_days: RotationPeriod::AWS_DEFAULT,
            target_rotation_period_days: RotationPeriod::AWS_DEFAULT,
            disabled_keys: DisabledKeys::Evaluate,
            imported_key_max_age_days: None,
            exceptions: Vec::new(),
        }
    }
}

/// The shape of an `--exceptions` file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExceptionsFile {
    /// Exceptions added after the policy's own.
    pub exceptions: Vec<Exception>,
}

impl Policy {
    /// Reads a JSON or YAML policy file (by extension) and validates it.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let policy: Policy = input::read_file(path)?;
        policy.validate().map_err(|e| e.with_file(path))?;
        Ok(policy)
    }

    /// Parses and validates a policy document.
    pub fn parse(text: &str, syntax: Syntax) -> Result<Self> {
        let policy: Policy = input::parse(text, syntax)?;
        policy.validate()?;
        Ok(policy)
    }

    /// Adds the entries of an exceptions file (`{"exceptions": [...]}`) to this policy's.
    pub fn add_exceptions_file(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let file: ExceptionsFile = input::read_file(path.as_ref())?;
        self.exceptions.extend(file.exceptions);
        Ok(())
    }

    /// [`Policy::validate`] for a policy embedded in another document (a plan, a report), with
    /// the error's field under `policy.`.
    pub(crate) fn validate_embedded(&self) -> Result<()> {
        self.validate().map_err(|e| {
            let field = e.context().field.clone().unwrap_or_default();
            crate::Error::invalid_input(e.message()).with_field(format!("policy.{field}"))
        })
    }

    /// Checks what the types alone cannot: relations between fields.
    pub fn validate(&self) -> Result<()> {
        if self.target_rotation_period_days > self.max_rotation_period_days {
            return Err(Error::invalid_input(format!(
                "{} is above max_rotation_period_days ({}): remediation would set a period the policy fails",
                self.target_rotation_period_days, self.max_rotation_period_days
            ))
            .with_field("target_rotation_period_days"));
        }
        if self.imported_key_max_age_days == Some(0) {
            return Err(Error::invalid_input("must be at least 1 day")
                .with_field("imported_key_max_age_days"));
        }
        Ok(())
    }

    /// Whether any exception can only be matched through tags, so a source must read them for
    /// keys that would fail.
    pub fn needs_tags(&self) -> bool {
        self.exceptions.iter().any(|e| e.matcher.needs_tags())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_day_is_inclusive_in_utc() {
        let exception = Exception {
            matcher: ExceptionMatch::KeyId("k".into()),
            owner: "o".into(),
            reason: "r".into(),
            ticket: None,
            expires: NaiveDate::from_ymd_opt(2026, 6, 30).unwrap(),
        };
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert!(exception.is_active(at("2026-06-30T23:59:59Z")));
        assert!(!exception.is_active(at("2026-07-01T00:00:00Z")));
    }
}
