//! A key as code declares it (a Terraform plan, a CloudFormation template), and the one place
//! that turns it into a key record: the defaults both tools apply to an unset property, and every
//! value left to apply or deploy time reported as unknown, never guessed.

use crate::Error;
use crate::model::{
    KeyError, KeyManager, KeyRecord, KeySpec, KeyState, KeyUsage, MultiRegion, MultiRegionRole,
    Origin, Rotation, operation,
};
use crate::rule::UNKNOWN_UNTIL_APPLY;
use crate::source::Location;

/// One property of a declared key.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum Fact<T> {
    /// Not set: the tool's default applies.
    #[default]
    Unset,
    /// Set to this value.
    Known(T),
    /// Set, but known only after apply or deploy; says by what (`enable_key_rotation`).
    Unknown(String),
}

impl<T> Fact<T> {
    /// The value, or `default` when unset; `Err` naming the property when unknown.
    fn or(self, default: T) -> Result<T, String> {
        match self {
            Fact::Unset => Ok(default),
            Fact::Known(value) => Ok(value),
            Fact::Unknown(what) => Err(what),
        }
    }
}

impl<T> Fact<T> {
    /// The known value converted, or the same unset or unknown fact.
    pub(crate) fn try_map<U>(
        self,
        f: impl FnOnce(T) -> crate::Result<U>,
    ) -> crate::Result<Fact<U>> {
        Ok(match self {
            Fact::Unset => Fact::Unset,
            Fact::Known(value) => Fact::Known(f(value)?),
            Fact::Unknown(what) => Fact::Unknown(what),
        })
    }
}

/// A key declared in code, before the defaults.
#[derive(Debug, Clone)]
pub(crate) struct Declared {
    /// Where it is declared.
    pub location: Location,
    /// The region the code names for it, if it names one.
    pub region: Option<String>,
    /// A multi-Region replica: its spec and rotation are its primary's.
    pub replica: bool,
    /// Imported key material (`aws_kms_external_key`): origin EXTERNAL, whatever else is set.
    pub external: bool,
    pub key_spec: Fact<KeySpec>,
    pub key_usage: Fact<KeyUsage>,
    pub origin: Fact<Origin>,
    pub custom_key_store_id: Fact<String>,
    pub enabled: Fact<bool>,
    pub multi_region: Fact<bool>,
    pub rotation: Fact<bool>,
    pub period_days: Fact<u32>,
    /// A replica's primary key ARN, when the code gives it literally.
    pub primary_arn: Option<String>,
}

impl Declared {
    /// A key declared at `location`, every property unset.
    pub fn new(location: Location) -> Self {
        Declared {
            location,
            region: None,
            replica: false,
            external: false,
            key_spec: Fact::Unset,
            key_usage: Fact::Unset,
            origin: Fact::Unset,
            custom_key_store_id: Fact::Unset,
            enabled: Fact::Unset,
            multi_region: Fact::Unset,
            rotation: Fact::Unset,
            period_days: Fact::Unset,
            primary_arn: None,
        }
    }

    /// A replica takes its key spec, usage, key store and rotation from its primary, declared in
    /// the same code.
    pub fn inherit(&mut self, primary: &Declared) {
        self.key_spec = primary.key_spec.clone();
        self.key_usage = primary.key_usage.clone();
        self.custom_key_store_id = primary.custom_key_store_id.clone();
        self.rotation = primary.rotation.clone();
        self.period_days = primary.period_days.clone();
    }

    /// A replica whose primary is not declared in the code read: what it shares with its primary
    /// is known only from AWS, after deploy.
    pub fn primary_elsewhere(&mut self, property: &str) {
        let why = format!(
            "the key spec and rotation of a replica are its primary's (`{property}`), which is \
             not declared here"
        );
        self.key_spec = Fact::Unknown(why.clone());
        self.rotation = Fact::Unknown(why);
    }

    /// The key record: the defaults of Terraform's AWS provider and of CloudFormation (which
    /// agree), and an `UnknownUntilApply` error for each fact the rule needs that is not known.
    pub fn into_record(self) -> KeyRecord {
        let mut record = KeyRecord::declared(self.location, self.region);
        let mut errors = Vec::new();
        let mut unknown = |operation: &str, what: String| {
            errors.push(KeyError {
                operation: operation.to_owned(),
                code: UNKNOWN_UNTIL_APPLY.to_owned(),
                message: format!("{what} is known only after apply"),
            });
        };
        record.key_manager = Some(KeyManager::Customer);
        record.key_spec = self
            .key_spec
            .or(KeySpec::SymmetricDefault)
            .map_err(|what| unknown(operation::DESCRIBE_KEY, what))
            .ok();
        // Not used by the rule: an unknown usage decides nothing.
        record.key_usage = self.key_usage.or(KeyUsage::EncryptDecrypt).ok();
        record.origin = if self.external {
            Some(Origin::External)
        } else {
            self.origin
                .or(Origin::AwsKms)
                .map_err(|what| unknown(operation::DESCRIBE_KEY, what))
                .ok()
        };
        record.custom_key_store_id = match self.custom_key_store_id {
            Fact::Unset => None,
            Fact::Known(id) => Some(id),
            Fact::Unknown(what) => {
                unknown(operation::DESCRIBE_KEY, what);
                None
            }
        };
        record.key_state = self
            .enabled
            .or(true)
            .map(|enabled| {
                if enabled {
                    KeyState::Enabled
                } else {
                    KeyState::Disabled
                }
            })
            .map_err(|what| unknown(operation::DESCRIBE_KEY, what))
            .ok();
        record.multi_region = if self.replica {
            Some(MultiRegion {
                role: MultiRegionRole::Replica,
                primary_arn: self.primary_arn,
            })
        } else if self.multi_region == Fact::Known(true) {
            Some(MultiRegion {
                role: MultiRegionRole::Primary,
                primary_arn: None,
            })
        } else {
            None
        };
        record.rotation = match (self.rotation.or(false), self.period_days) {
            (Err(what), _) => {
                unknown(operation::GET_KEY_ROTATION_STATUS, what);
                None
            }
            (Ok(true), Fact::Unknown(what)) => {
                unknown(operation::GET_KEY_ROTATION_STATUS, what);
                None
            }
            (Ok(enabled), period) => Some(Rotation {
                enabled,
                // Unset: AWS's default (365), which the rule assumes and says so.
                period_days: match period {
                    Fact::Known(days) if enabled => Some(days),
                    _ => None,
                },
                next_rotation_date: None,
                on_demand_rotation_start_date: None,
                last_rotation: None,
            }),
        };
        if record.origin == Some(Origin::External) {
            // Judged by age under `imported_key_max_age_days`: the material's date comes later.
            unknown(
                operation::LIST_KEY_ROTATIONS,
                "the key material's date".to_owned(),
            );
        }
        record.errors = errors;
        record
    }
}

/// A rotation period outside what AWS accepts would fail the deploy: refused like bad input.
pub(crate) fn check_period(days: i64, field: &str) -> crate::Result<u32> {
    u32::try_from(days)
        .ok()
        .filter(|days| (90..=2560).contains(days))
        .ok_or_else(|| {
            Error::invalid_input(format!(
                "{days} is not a rotation period AWS accepts (90-2560 days)"
            ))
            .with_field(field)
        })
}

/// A deletion waiting period outside what AWS accepts would fail the deploy: refused like bad
/// input. Otherwise it decides nothing: a key being deployed is not pending deletion.
pub(crate) fn check_pending_window(days: i64, field: &str) -> crate::Result<()> {
    if (7..=30).contains(&days) {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "{days} is not a deletion waiting period AWS accepts (7-30 days)"
        ))
        .with_field(field))
    }
}

/// An AWS enum value (`HMAC_256`, `EXTERNAL`...), or an error naming the accepted ones.
pub(crate) fn aws_value<T>(value: &str, field: &str) -> crate::Result<T>
where
    T: std::str::FromStr<Err = Error>,
{
    value.parse().map_err(|e: Error| e.with_field(field))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared() -> Declared {
        Declared::new(Location {
            file: "main.yaml".to_owned(),
            line: Some(3),
            address: "Key".to_owned(),
        })
    }

    #[test]
    fn unset_properties_take_the_defaults() {
        let record = declared().into_record();
        assert_eq!(record.arn, "main.yaml#Key");
        assert_eq!(record.key_spec, Some(KeySpec::SymmetricDefault));
        assert_eq!(record.origin, Some(Origin::AwsKms));
        assert_eq!(record.key_state, Some(KeyState::Enabled));
        assert_eq!(record.rotation.map(|r| r.enabled), Some(false));
        assert!(record.errors.is_empty());
    }

    #[test]
    fn an_unknown_period_matters_only_when_rotation_is_on() {
        let mut key = declared();
        key.period_days = Fact::Unknown("`RotationPeriodInDays`".to_owned());
        assert!(key.clone().into_record().errors.is_empty());
        key.rotation = Fact::Known(true);
        let record = key.into_record();
        assert_eq!(record.rotation, None);
        assert_eq!(record.errors[0].code, UNKNOWN_UNTIL_APPLY);
    }
}
