//! Which keys an EventBridge event for a KMS CloudTrail call touches (pure: no I/O).
//!
//! EventBridge delivers each CloudTrail management event as
//! `{"source": "aws.kms", "detail-type": "AWS API Call via CloudTrail", "account", "region",
//! "detail": <the CloudTrail record>}`. Only the calls that can change a rotation verdict are
//! re-checked ([`EVENT_NAMES`]); any other event is [`Touched::Ignored`] with the reason, and an
//! event that claims to be one of them but lacks what names its key is an error naming the field:
//! a key that cannot be named is never guessed.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Error, Result};

/// The EventBridge `source` of KMS events.
pub const SOURCE: &str = "aws.kms";
/// The EventBridge `detail-type` of CloudTrail API calls.
pub const DETAIL_TYPE: &str = "AWS API Call via CloudTrail";
/// The KMS calls that can change whether a key passes: it appears, its state or rotation
/// changes, its material is imported, or its multi-Region role moves.
pub const EVENT_NAMES: [&str; 9] = [
    "CreateKey",
    "ReplicateKey",
    "EnableKey",
    "DisableKey",
    "EnableKeyRotation",
    "DisableKeyRotation",
    "CancelKeyDeletion",
    "ImportKeyMaterial",
    "UpdatePrimaryRegion",
];

/// One key an event touches: where it is and how the event names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TouchedKey {
    /// The account (the event's `account`, or the ARN's).
    pub account_id: String,
    /// The key's region (the event's, or the one the call names: a replica's, a new primary's).
    pub region: String,
    /// The key's id (a multi-Region key's id is the same in every region).
    pub key_id: String,
}

impl TouchedKey {
    /// The key's ARN, in its region's partition.
    pub fn arn(&self) -> String {
        let partition = crate::regions::partition(&self.region);
        format!(
            "arn:{partition}:kms:{}:{}:key/{}",
            self.region, self.account_id, self.key_id
        )
    }
}

/// What an event asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Touched {
    /// Not a KMS call this tool re-checks for; why.
    Ignored(String),
    /// The call `event_name` touched these keys.
    Keys {
        /// The CloudTrail `eventName`.
        event_name: String,
        /// At least one key, each once.
        keys: Vec<TouchedKey>,
    },
}

/// The keys `event` touches, or why it is ignored. A malformed event is an `invalid_input` error
/// whose field is the event's own path (`detail.requestParameters.keyId`).
pub fn touched_keys(event: &Value) -> Result<Touched> {
    let object = event.as_object().ok_or_else(|| {
        Error::invalid_input("an EventBridge event is a JSON object").with_field("event")
    })?;
    let source = text(event, &["source"])?;
    let detail_type = text(event, &["detail-type"])?;
    if source != SOURCE {
        return Ok(Touched::Ignored(format!(
            "the event's source is `{source}`, not `{SOURCE}`"
        )));
    }
    if detail_type != DETAIL_TYPE {
        return Ok(Touched::Ignored(format!(
            "the event is a `{detail_type}`, not an `{DETAIL_TYPE}`"
        )));
    }
    if !object.get("detail").is_some_and(Value::is_object) {
        return Err(Error::invalid_input("the event has no `detail` object").with_field("detail"));
    }
    let event_name = text(event, &["detail", "eventName"])?;
    if !EVENT_NAMES.contains(&event_name) {
        return Ok(Touched::Ignored(format!(
            "`{event_name}` cannot change a key's rotation verdict (re-checked: {})",
            EVENT_NAMES.join(", ")
        )));
    }
    if let Some(code) = event.pointer("/detail/errorCode").and_then(Value::as_str) {
        return Ok(Touched::Ignored(format!(
            "the `{event_name}` call failed ({code}): it changed no key"
        )));
    }
    let account = text(event, &["account"])?;
    let region = text(event, &["region"])?;
    let here = |id: &str, field: &str| key_at(account, region, id, field);
    let mut keys = match event_name {
        "CreateKey" => vec![here(
            text(event, &["detail", "responseElements", "keyMetadata", "arn"])?,
            "detail.responseElements.keyMetadata.arn",
        )?],
        "ReplicateKey" => {
            let primary = here(
                text(event, &["detail", "requestParameters", "keyId"])?,
                "detail.requestParameters.keyId",
            )?;
            let replica_region = text(event, &["detail", "requestParameters", "replicaRegion"])?;
            let replica = key_at(
                account,
                replica_region,
                text(
                    event,
                    &["detail", "responseElements", "replicaKeyMetadata", "arn"],
                )?,
                "detail.responseElements.replicaKeyMetadata.arn",
            )?;
            vec![primary, replica]
        }
        "UpdatePrimaryRegion" => {
            let old = here(
                text(event, &["detail", "requestParameters", "keyId"])?,
                "detail.requestParameters.keyId",
            )?;
            let new_region = text(event, &["detail", "requestParameters", "primaryRegion"])?;
            let new = TouchedKey {
                region: new_region.to_owned(),
                ..old.clone()
            };
            vec![old, new]
        }
        _ => vec![here(
            text(event, &["detail", "requestParameters", "keyId"])?,
            "detail.requestParameters.keyId",
        )?],
    };
    keys.dedup();
    Ok(Touched::Keys {
        event_name: event_name.to_owned(),
        keys,
    })
}

/// The non-empty string at `path`, or an error naming it.
fn text<'a>(event: &'a Value, path: &[&str]) -> Result<&'a str> {
    let field = path.join(".");
    let mut value = event;
    for step in path {
        value = value.get(step).ok_or_else(|| {
            Error::invalid_input(format!("the event has no `{field}`")).with_field(field.clone())
        })?;
    }
    match value.as_str() {
        Some(text) if !text.trim().is_empty() => Ok(text),
        _ => Err(
            Error::invalid_input(format!("the event's `{field}` is not a non-empty string"))
                .with_field(field),
        ),
    }
}

/// The key `id` names (a key id or a key ARN) in `account` and `region`. An ARN decides both;
/// an alias cannot be resolved without reading, so it is refused rather than guessed (the calls
/// re-checked here take a key id or ARN).
fn key_at(account: &str, region: &str, id: &str, field: &str) -> Result<TouchedKey> {
    if let Some(rest) = id.strip_prefix("arn:") {
        // arn:PARTITION:kms:REGION:ACCOUNT:key/ID
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        return match parts.as_slice() {
            [_, "kms", arn_region, arn_account, resource]
                if !arn_region.is_empty() && !arn_account.is_empty() =>
            {
                match resource.strip_prefix("key/").filter(|k| is_key_id(k)) {
                    Some(key_id) => Ok(TouchedKey {
                        account_id: (*arn_account).to_owned(),
                        region: (*arn_region).to_owned(),
                        key_id: key_id.to_owned(),
                    }),
                    None => Err(not_a_key(id, field)),
                }
            }
            _ => Err(not_a_key(id, field)),
        };
    }
    if !is_key_id(id) {
        return Err(not_a_key(id, field));
    }
    Ok(TouchedKey {
        account_id: account.to_owned(),
        region: region.to_owned(),
        key_id: id.to_owned(),
    })
}

/// A key id: a UUID, or `mrk-` and 32 hex digits; no alias, no path.
fn is_key_id(id: &str) -> bool {
    let bare = id.strip_prefix("mrk-").unwrap_or(id);
    !bare.is_empty() && bare.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

fn not_a_key(id: &str, field: &str) -> Error {
    Error::invalid_input(format!(
        "`{id}` is neither a key id nor a key ARN (an alias cannot name the key of a re-check)"
    ))
    .with_field(field.to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    fn call(name: &str, detail: Value) -> Value {
        let mut detail = detail;
        detail["eventName"] = json!(name);
        json!({
            "source": "aws.kms",
            "detail-type": "AWS API Call via CloudTrail",
            "account": "111122223333",
            "region": "us-east-1",
            "detail": detail,
        })
    }

    const ID: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";

    #[test]
    fn a_key_id_is_in_the_events_account_and_region() {
        let touched = touched_keys(&call(
            "DisableKeyRotation",
            json!({"requestParameters": {"keyId": ID}}),
        ))
        .unwrap();
        assert_eq!(
            touched,
            Touched::Keys {
                event_name: "DisableKeyRotation".into(),
                keys: vec![TouchedKey {
                    account_id: "111122223333".into(),
                    region: "us-east-1".into(),
                    key_id: ID.into()
                }]
            }
        );
    }

    #[test]
    fn an_arn_decides_account_and_region() {
        let arn = format!("arn:aws:kms:eu-west-1:444455556666:key/{ID}");
        let Touched::Keys { keys, .. } = touched_keys(&call(
            "EnableKey",
            json!({"requestParameters": {"keyId": arn}}),
        ))
        .unwrap() else {
            panic!("ignored")
        };
        assert_eq!(
            (keys[0].account_id.as_str(), keys[0].region.as_str()),
            ("444455556666", "eu-west-1")
        );
    }

    #[test]
    fn update_primary_region_touches_both_regions() {
        let Touched::Keys { keys, .. } = touched_keys(&call(
            "UpdatePrimaryRegion",
            json!({"requestParameters": {"keyId": format!("mrk-{}", "a".repeat(32)), "primaryRegion": "eu-west-1"}}),
        ))
        .unwrap() else {
            panic!("ignored")
        };
        let regions: Vec<&str> = keys.iter().map(|k| k.region.as_str()).collect();
        assert_eq!(regions, ["us-east-1", "eu-west-1"]);
    }

    #[test]
    fn other_sources_calls_and_failed_calls_are_ignored() {
        let mut other = call("EnableKey", json!({"requestParameters": {"keyId": ID}}));
        other["source"] = json!("aws.s3");
        assert!(matches!(touched_keys(&other).unwrap(), Touched::Ignored(_)));
        let encrypt = call("Encrypt", json!({}));
        assert!(matches!(
            touched_keys(&encrypt).unwrap(),
            Touched::Ignored(_)
        ));
        let failed = call(
            "CreateKey",
            json!({"errorCode": "AccessDeniedException", "requestParameters": {}}),
        );
        assert!(matches!(
            touched_keys(&failed).unwrap(),
            Touched::Ignored(_)
        ));
    }

    #[test]
    fn a_missing_or_bad_key_is_an_error_naming_the_field() {
        let missing = call("CreateKey", json!({"responseElements": {}}));
        let err = touched_keys(&missing).unwrap_err();
        assert_eq!(
            err.context().field.as_deref(),
            Some("detail.responseElements.keyMetadata.arn")
        );
        let alias = call(
            "EnableKey",
            json!({"requestParameters": {"keyId": "alias/orders"}}),
        );
        let err = touched_keys(&alias).unwrap_err();
        assert_eq!(
            err.context().field.as_deref(),
            Some("detail.requestParameters.keyId")
        );
        let err = touched_keys(&json!([1])).unwrap_err();
        assert_eq!(err.context().field.as_deref(), Some("event"));
        let err = touched_keys(&json!({"detail-type": "x"})).unwrap_err();
        assert_eq!(err.context().field.as_deref(), Some("source"));
    }
}
