//! SDK replies to model values. AWS enums are mapped by their wire spelling (`as_str`) through
//! the model's `FromStr`, so the SDK's Rust names never leak into the model; a value the model
//! does not know (a key spec newer than this crate) becomes a per-key error instead of a guess.

use std::str::FromStr;

use aws_sdk_kms::operation::get_key_rotation_status::GetKeyRotationStatusOutput;
use aws_sdk_kms::types::{KeyMetadata, RotationsListEntry};
use chrono::{DateTime, Utc};

use super::errors::UNKNOWN_ENUM_VALUE;
use crate::model::{
    KeyError, KeyManager, KeyRecord, KeySpec, KeyState, KeyUsage, LastRotation, MultiRegion,
    MultiRegionRole, Origin, Rotation, RotationType, operation,
};

/// An SDK timestamp as a chrono one; `None` only for values chrono cannot hold.
pub(crate) fn timestamp(value: &aws_smithy_types::DateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(value.secs(), value.subsec_nanos())
}

/// A record that knows only where the key is: for keys whose DescribeKey failed.
///
/// The ARN that ListKeys returned is the normal source; when it is missing or malformed
/// (emulators), the key id and the account and region being read stand in, so the key still gets
/// its one finding.
pub(crate) fn bare_record(
    arn: Option<&str>,
    key_id: &str,
    account_id: Option<&str>,
    region: &str,
) -> KeyRecord {
    if let Some(record) = arn.and_then(|arn| KeyRecord::from_arn(arn).ok()) {
        return record;
    }
    KeyRecord::identified(
        account_id.unwrap_or_default().to_owned(),
        region.to_owned(),
        key_id.to_owned(),
        arn.map_or_else(String::new, str::to_owned),
    )
}

/// Parses an AWS enum by its wire spelling; an unknown value is recorded on `errors`.
fn parse_enum<T: FromStr>(
    field: &str,
    wire: Option<&str>,
    errors: &mut Vec<KeyError>,
) -> Option<T> {
    let wire = wire?;
    match wire.parse::<T>() {
        Ok(value) => Some(value),
        Err(_) => {
            errors.push(KeyError {
                operation: operation::DESCRIBE_KEY.to_owned(),
                code: UNKNOWN_ENUM_VALUE.to_owned(),
                message: format!(
                    "{field} `{wire}` is not known to this version of kms-rotation; \
                     the key cannot be judged until it is"
                ),
            });
            None
        }
    }
}

/// The record of a key from its DescribeKey metadata.
///
/// `listed_arn` is the ARN ListKeys gave, used when the metadata has none; `account_id` is the
/// account being read, used when neither ARN parses.
pub(crate) fn record_from_metadata(
    meta: &KeyMetadata,
    listed_arn: Option<&str>,
    account_id: Option<&str>,
    region: &str,
) -> KeyRecord {
    let arn = meta.arn().or(listed_arn);
    let mut record = bare_record(
        arn,
        meta.key_id(),
        meta.aws_account_id().or(account_id),
        region,
    );
    let mut errors = Vec::new();
    record.key_manager = parse_enum::<KeyManager>(
        "KeyManager",
        meta.key_manager().map(|v| v.as_str()),
        &mut errors,
    );
    record.key_spec =
        parse_enum::<KeySpec>("KeySpec", meta.key_spec().map(|v| v.as_str()), &mut errors);
    record.key_usage = parse_enum::<KeyUsage>(
        "KeyUsage",
        meta.key_usage().map(|v| v.as_str()),
        &mut errors,
    );
    record.origin = parse_enum::<Origin>("Origin", meta.origin().map(|v| v.as_str()), &mut errors);
    record.key_state = parse_enum::<KeyState>(
        "KeyState",
        meta.key_state().map(|v| v.as_str()),
        &mut errors,
    );
    record.custom_key_store_id = meta
        .custom_key_store_id()
        .filter(|id| !id.is_empty())
        .map(str::to_owned);
    record.creation_date = meta.creation_date().and_then(timestamp);
    if meta.multi_region() == Some(true)
        && let Some(config) = meta.multi_region_configuration()
    {
        let role = parse_enum::<MultiRegionRole>(
            "MultiRegionKeyType",
            config.multi_region_key_type().map(|v| v.as_str()),
            &mut errors,
        );
        if let Some(role) = role {
            record.multi_region = Some(MultiRegion {
                role,
                primary_arn: config
                    .primary_key()
                    .and_then(|p| p.arn())
                    .map(str::to_owned),
            });
        }
    }
    record.errors = errors;
    record
}

/// What GetKeyRotationStatus said. `last_rotation` is filled later, when asked for.
pub(crate) fn rotation_from_status(out: &GetKeyRotationStatusOutput) -> Rotation {
    Rotation {
        enabled: out.key_rotation_enabled(),
        // Out-of-range values (negative) are not a period: left unreported, the rule assumes 365.
        period_days: out
            .rotation_period_in_days()
            .and_then(|d| u32::try_from(d).ok()),
        next_rotation_date: out.next_rotation_date().and_then(timestamp),
        on_demand_rotation_start_date: out.on_demand_rotation_start_date().and_then(timestamp),
        last_rotation: None,
    }
}

/// The most recent completed rotation among `entries`. Entries without a date or type are the
/// first key material or imported material not rotated in yet: they are not rotations.
pub(crate) fn last_rotation(
    entries: &[RotationsListEntry],
) -> Result<Option<LastRotation>, KeyError> {
    let mut latest: Option<LastRotation> = None;
    for entry in entries {
        let (Some(date), Some(kind)) = (
            entry.rotation_date().and_then(timestamp),
            entry.rotation_type(),
        ) else {
            continue;
        };
        let rotation_type = kind
            .as_str()
            .parse::<RotationType>()
            .map_err(|_| KeyError {
                operation: operation::LIST_KEY_ROTATIONS.to_owned(),
                code: UNKNOWN_ENUM_VALUE.to_owned(),
                message: format!(
                    "RotationType `{}` is not known to this version of kms-rotation",
                    kind.as_str()
                ),
            })?;
        if latest.as_ref().is_none_or(|l| date > l.date) {
            latest = Some(LastRotation {
                date,
                rotation_type,
            });
        }
    }
    Ok(latest)
}

#[cfg(test)]
mod tests {
    use aws_sdk_kms::types::{
        KeyManagerType, KeySpec as SdkKeySpec, KeyState as SdkKeyState, MultiRegionConfiguration,
        MultiRegionKey, MultiRegionKeyType, OriginType, RotationType as SdkRotationType,
    };

    use super::*;

    const ARN: &str = "arn:aws:kms:eu-west-1:123456789012:key/mrk-1";

    fn metadata() -> aws_sdk_kms::types::builders::KeyMetadataBuilder {
        KeyMetadata::builder()
            .key_id("mrk-1")
            .arn(ARN)
            .key_manager(KeyManagerType::Customer)
            .key_spec(SdkKeySpec::SymmetricDefault)
            .origin(OriginType::AwsKms)
            .key_state(SdkKeyState::Enabled)
            .creation_date(aws_smithy_types::DateTime::from_secs(1_700_000_000))
    }

    #[test]
    fn metadata_maps_by_wire_spelling() {
        let meta = metadata()
            .multi_region(true)
            .multi_region_configuration(
                MultiRegionConfiguration::builder()
                    .multi_region_key_type(MultiRegionKeyType::Replica)
                    .primary_key(
                        MultiRegionKey::builder()
                            .arn("arn:aws:kms:us-east-1:123456789012:key/mrk-1")
                            .region("us-east-1")
                            .build(),
                    )
                    .build(),
            )
            .build()
            .unwrap();
        let record = record_from_metadata(&meta, None, None, "eu-west-1");
        assert_eq!(record.account_id, "123456789012");
        assert_eq!(record.key_manager, Some(KeyManager::Customer));
        assert_eq!(record.key_spec, Some(KeySpec::SymmetricDefault));
        assert_eq!(record.origin, Some(Origin::AwsKms));
        assert_eq!(record.key_state, Some(KeyState::Enabled));
        assert!(record.is_replica());
        assert_eq!(
            record.multi_region.unwrap().primary_arn.as_deref(),
            Some("arn:aws:kms:us-east-1:123456789012:key/mrk-1")
        );
        assert!(record.errors.is_empty());
        assert_eq!(record.creation_date.unwrap().timestamp(), 1_700_000_000);
    }

    #[test]
    fn unknown_enum_values_are_errors_not_guesses() {
        let meta = metadata()
            .key_spec(SdkKeySpec::from("QUANTUM_9000"))
            .build()
            .unwrap();
        let record = record_from_metadata(&meta, None, None, "eu-west-1");
        assert_eq!(record.key_spec, None);
        let err = record.error_for(operation::DESCRIBE_KEY).unwrap();
        assert_eq!(err.code, UNKNOWN_ENUM_VALUE);
        assert!(err.message.contains("QUANTUM_9000"));
    }

    #[test]
    fn bare_records_survive_missing_arns() {
        let record = bare_record(None, "k-1", Some("123456789012"), "eu-west-1");
        assert_eq!(record.key_id, "k-1");
        assert_eq!(record.account_id, "123456789012");
        assert_eq!(record.region, "eu-west-1");
        let record = bare_record(Some(ARN), "ignored", None, "ignored");
        assert_eq!(record.key_id, "mrk-1");
    }

    #[test]
    fn last_rotation_is_the_latest_completed_one() {
        let entry = |secs: Option<i64>, kind: Option<SdkRotationType>| {
            RotationsListEntry::builder()
                .set_rotation_date(secs.map(aws_smithy_types::DateTime::from_secs))
                .set_rotation_type(kind)
                .build()
        };
        let entries = [
            entry(Some(100), Some(SdkRotationType::Automatic)),
            entry(Some(300), Some(SdkRotationType::OnDemand)),
            entry(None, None),
            entry(Some(200), Some(SdkRotationType::Automatic)),
        ];
        let last = last_rotation(&entries).unwrap().unwrap();
        assert_eq!(last.date.timestamp(), 300);
        assert_eq!(last.rotation_type, RotationType::OnDemand);
        assert_eq!(last_rotation(&[]).unwrap(), None);
        let unknown = [entry(Some(1), Some(SdkRotationType::from("SIDEWAYS")))];
        assert_eq!(
            last_rotation(&unknown).unwrap_err().code,
            UNKNOWN_ENUM_VALUE
        );
    }
}
