//! The key record: what a source knows about one KMS key, in the public inventory shape of
//! `formats.md`. AWS enum values keep AWS's spelling so that `aws kms describe-key` output maps
//! over without a table.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use strum::{IntoStaticStr, VariantArray};

use crate::exposure::Exposure;
use crate::source::Location;
use crate::wire::wire_names;

mod tags;
pub use tags::Tags;

/// The inventory and report schema version this crate writes and reads.
pub const SCHEMA_VERSION: u32 = 1;

/// Refuses a file of another schema version: its fields may not mean what this release thinks.
pub(crate) fn check_schema_version(version: u32) -> crate::Result<()> {
    if version == SCHEMA_VERSION {
        return Ok(());
    }
    Err(crate::Error::invalid_input(format!(
        "version {version} is not supported; this release reads version {SCHEMA_VERSION}"
    ))
    .with_field("schema_version"))
}

// The AWS values keep AWS's spelling: SCREAMING_SNAKE_CASE (a digit after letters gets its own
// word: `RSA_2048`), except `KeyState`'s PascalCase. Names work as for every wire enum
// (`crate::wire`).

/// Who manages the key: `AWS` (AWS managed, `alias/aws/...`) or `CUSTOMER`.
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
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum KeyManager {
    /// An AWS managed key (`alias/aws/...`): AWS rotates it every year.
    Aws,
    /// A customer managed key: its owner decides its rotation.
    Customer,
}
wire_names!(KeyManager, "KeyManager");

/// The key's type. Only `SYMMETRIC_DEFAULT` keys can rotate automatically.
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
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum KeySpec {
    /// A symmetric encryption key (AES-256-GCM): the one kind that rotates automatically.
    SymmetricDefault,
    /// An RSA key pair, 2048 bits.
    #[serde(rename = "RSA_2048")]
    #[strum(serialize = "RSA_2048")]
    Rsa2048,
    /// An RSA key pair, 3072 bits.
    #[serde(rename = "RSA_3072")]
    #[strum(serialize = "RSA_3072")]
    Rsa3072,
    /// An RSA key pair, 4096 bits.
    #[serde(rename = "RSA_4096")]
    #[strum(serialize = "RSA_4096")]
    Rsa4096,
    /// An elliptic-curve key pair on NIST P-256.
    EccNistP256,
    /// An elliptic-curve key pair on NIST P-384.
    EccNistP384,
    /// An elliptic-curve key pair on NIST P-521.
    EccNistP521,
    /// An elliptic-curve key pair on secp256k1.
    EccSecgP256k1,
    /// An Ed25519 key pair.
    EccNistEdwards25519,
    /// An HMAC key, SHA-224.
    #[serde(rename = "HMAC_224")]
    #[strum(serialize = "HMAC_224")]
    Hmac224,
    /// An HMAC key, SHA-256.
    #[serde(rename = "HMAC_256")]
    #[strum(serialize = "HMAC_256")]
    Hmac256,
    /// An HMAC key, SHA-384.
    #[serde(rename = "HMAC_384")]
    #[strum(serialize = "HMAC_384")]
    Hmac384,
    /// An HMAC key, SHA-512.
    #[serde(rename = "HMAC_512")]
    #[strum(serialize = "HMAC_512")]
    Hmac512,
    /// An SM2 key pair (China Regions only).
    Sm2,
    /// An ML-DSA-44 signing key pair.
    #[serde(rename = "ML_DSA_44")]
    #[strum(serialize = "ML_DSA_44")]
    MlDsa44,
    /// An ML-DSA-65 signing key pair.
    #[serde(rename = "ML_DSA_65")]
    #[strum(serialize = "ML_DSA_65")]
    MlDsa65,
    /// An ML-DSA-87 signing key pair.
    #[serde(rename = "ML_DSA_87")]
    #[strum(serialize = "ML_DSA_87")]
    MlDsa87,
    /// An ML-KEM-512 key pair.
    #[serde(rename = "ML_KEM_512")]
    #[strum(serialize = "ML_KEM_512")]
    MlKem512,
    /// An ML-KEM-768 key pair.
    #[serde(rename = "ML_KEM_768")]
    #[strum(serialize = "ML_KEM_768")]
    MlKem768,
    /// An ML-KEM-1024 key pair.
    #[serde(rename = "ML_KEM_1024")]
    #[strum(serialize = "ML_KEM_1024")]
    MlKem1024,
}
wire_names!(KeySpec, "KeySpec");

/// What the key is for.
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
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum KeyUsage {
    /// Encryption and decryption.
    EncryptDecrypt,
    /// Signing and verifying signatures.
    SignVerify,
    /// Generating and verifying HMACs.
    GenerateVerifyMac,
    /// Deriving shared secrets.
    KeyAgreement,
    /// Encapsulating and decapsulating shared secrets (ML-KEM).
    EncapsulateDecapsulate,
}
wire_names!(KeyUsage, "KeyUsage");

/// Where the key material comes from.
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
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum Origin {
    /// KMS made the key material.
    AwsKms,
    /// Imported key material: it rotates only on demand.
    External,
    /// A CloudHSM custom key store made it: no automatic rotation.
    AwsCloudhsm,
    /// An external key store holds it: no automatic rotation.
    ExternalKeyStore,
}
wire_names!(Origin, "Origin");

/// The key's lifecycle state.
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
pub enum KeyState {
    /// Being created (a multi-Region replica, say): not yet usable.
    Creating,
    /// Usable.
    Enabled,
    /// Not usable until enabled again; it keeps its rotation setting.
    Disabled,
    /// Scheduled for deletion: AWS reports rotation as off for it, by design.
    PendingDeletion,
    /// Waiting for its imported key material.
    PendingImport,
    /// A multi-Region primary waiting for its replicas to be deleted.
    PendingReplicaDeletion,
    /// Its custom key store is disconnected.
    Unavailable,
    /// Its primary Region is being changed; judged like an enabled key.
    Updating,
}
wire_names!(KeyState, "KeyState");

/// A multi-Region key's role.
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
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum MultiRegionRole {
    /// The key its replicas share their rotation setting with: the one a fix goes to.
    Primary,
    /// A copy of a primary in another region.
    Replica,
}
wire_names!(MultiRegionRole, "MultiRegionRole");

/// How a rotation happened.
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
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum RotationType {
    /// Automatic rotation, on the key's period.
    Automatic,
    /// A rotation someone asked for (RotateKeyOnDemand).
    OnDemand,
}
wire_names!(RotationType, "RotationType");

/// Multi-Region facts. Replicas share their primary's rotation setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MultiRegion {
    /// Whether this key is the primary or a replica.
    pub role: MultiRegionRole,
    /// The primary key's ARN (for a primary, its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_arn: Option<String>,
}

/// The most recent completed rotation (from ListKeyRotations).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LastRotation {
    /// When the rotation completed (UTC).
    pub date: DateTime<Utc>,
    /// How it happened: `AUTOMATIC` (on the key's period) or `ON_DEMAND`. `type` on the wire.
    #[serde(rename = "type")]
    pub rotation_type: RotationType,
}

/// What GetKeyRotationStatus (and optionally ListKeyRotations) said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Rotation {
    /// Whether automatic rotation is on.
    pub enabled: bool,
    /// `RotationPeriodInDays`; absent from older emulators and inventories (taken as 365).
    #[serde(default)]
    pub period_days: Option<u32>,
    /// When the next automatic rotation is due, as AWS reported it; absent when rotation is off or
    /// it was not reported.
    #[serde(default)]
    pub next_rotation_date: Option<DateTime<Utc>>,
    /// Set only while an on-demand rotation is running.
    #[serde(default)]
    pub on_demand_rotation_start_date: Option<DateTime<Utc>>,
    /// Collected only when asked (rotation history), or for imported keys when the policy needs it.
    /// Absent when not collected or when the key never rotated.
    #[serde(default)]
    pub last_rotation: Option<LastRotation>,
}

/// A fact a source could not read for one key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct KeyError {
    /// The AWS operation, e.g. `GetKeyRotationStatus`.
    pub operation: String,
    /// The AWS error code, e.g. `AccessDeniedException`.
    pub code: String,
    /// The error message, as AWS gave it; may be empty.
    #[serde(default)]
    pub message: String,
}

/// Operation names used in [`KeyError::operation`].
pub mod operation {
    /// The key's metadata: manager, spec, origin, state, multi-Region role.
    pub const DESCRIBE_KEY: &str = "DescribeKey";
    /// Whether rotation is on, and its period.
    pub const GET_KEY_ROTATION_STATUS: &str = "GetKeyRotationStatus";
    /// The key's rotation history (its last rotation).
    pub const LIST_KEY_ROTATIONS: &str = "ListKeyRotations";
    /// The key's tags.
    pub const LIST_RESOURCE_TAGS: &str = "ListResourceTags";
    /// The key's aliases.
    pub const LIST_ALIASES: &str = "ListAliases";
    /// The key policy, for exposure.
    pub const GET_KEY_POLICY: &str = "GetKeyPolicy";
    /// The key's grants, for exposure.
    pub const LIST_GRANTS: &str = "ListGrants";
}

/// One KMS key as a source saw it.
///
/// `key_manager`, `key_spec`, `origin` and `key_state` are optional only because a key whose
/// DescribeKey failed has nothing but its ARN; the inventory loader requires them otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(try_from = "RawKeyRecord")]
pub struct KeyRecord {
    /// The AWS account that owns the key (12 digits), from the ARN.
    pub account_id: String,
    /// The region the key is in, from the ARN.
    pub region: String,
    /// The key id (the ARN's last part: a UUID, or `mrk-...` for a multi-Region key).
    pub key_id: String,
    /// The key's ARN, `arn:PARTITION:kms:REGION:ACCOUNT:key/KEY_ID`.
    pub arn: String,
    /// The key's aliases; `None` when they were not read (or their read failed: see `errors`),
    /// which is not the same as having none.
    pub aliases: Option<Vec<String>>,
    /// The key's tags; `None` when they were not read (or their read failed: see `errors`),
    /// which is not the same as having none.
    pub tags: Option<Tags>,
    /// Who manages the key; `None` only when DescribeKey failed.
    pub key_manager: Option<KeyManager>,
    /// The key's type; `None` only when DescribeKey failed.
    pub key_spec: Option<KeySpec>,
    /// What the key is for; `None` when not reported.
    pub key_usage: Option<KeyUsage>,
    /// Where the key material comes from; `None` only when DescribeKey failed.
    pub origin: Option<Origin>,
    /// The custom key store holding the key; `None` for keys in KMS itself.
    pub custom_key_store_id: Option<String>,
    /// The key's lifecycle state; `None` only when DescribeKey failed.
    pub key_state: Option<KeyState>,
    /// When the key was created (UTC), if reported; imported key material that never rotated
    /// is as old as the key.
    pub creation_date: Option<DateTime<Utc>>,
    /// Multi-Region role and primary; `None` for a single-Region key.
    pub multi_region: Option<MultiRegion>,
    /// What GetKeyRotationStatus said; `None` when it was not read (or failed: see `errors`).
    pub rotation: Option<Rotation>,
    /// Who beyond the key's account may use it (key policy and grants); `None` when not read,
    /// which says nothing about it.
    pub exposure: Option<Box<Exposure>>,
    /// Every read that failed for this key, deciding the verdict or not; empty when none did.
    pub errors: Vec<KeyError>,
    /// Where the key is declared, for a key read from code (a Terraform plan, a CloudFormation
    /// template); absent for a key read from AWS. Such a key has no ARN yet: its `arn` is the
    /// identity `FILE#ADDRESS`, and its account (and region, unless the code names it) are empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Box<Location>>,
}

impl KeyRecord {
    /// A record for `arn` with account, region and key id taken from it and nothing else known.
    pub fn from_arn(arn: &str) -> crate::Result<Self> {
        let parsed = KeyArn::parse(arn)?;
        Ok(KeyRecord::identified(
            parsed.account_id.to_owned(),
            parsed.region.to_owned(),
            parsed.key_id.to_owned(),
            arn.to_owned(),
        ))
    }

    /// A record for a key declared at `location` in code, which has no ARN yet: its identity is
    /// the location's, and nothing else is known.
    pub fn declared(location: Location, region: Option<String>) -> Self {
        KeyRecord {
            location: Some(Box::new(location.clone())),
            ..KeyRecord::identified(
                String::new(),
                region.unwrap_or_default(),
                location.address.clone(),
                location.identity(),
            )
        }
    }

    /// A record that knows only which key it is: every fact unknown (`None`), no read failed.
    pub fn identified(account_id: String, region: String, key_id: String, arn: String) -> Self {
        KeyRecord {
            account_id,
            region,
            key_id,
            arn,
            aliases: None,
            tags: None,
            key_manager: None,
            key_spec: None,
            key_usage: None,
            origin: None,
            custom_key_store_id: None,
            key_state: None,
            creation_date: None,
            multi_region: None,
            rotation: None,
            exposure: None,
            errors: Vec::new(),
            location: None,
        }
    }

    /// The first recorded failure of `operation`, if any.
    pub fn error_for(&self, operation: &str) -> Option<&KeyError> {
        self.errors.iter().find(|e| e.operation == operation)
    }

    /// The first required DescribeKey field that is missing, if any.
    pub fn missing_metadata(&self) -> Option<&'static str> {
        if self.key_manager.is_none() {
            Some("key_manager")
        } else if self.key_spec.is_none() {
            Some("key_spec")
        } else if self.origin.is_none() {
            Some("origin")
        } else if self.key_state.is_none() {
            Some("key_state")
        } else {
            None
        }
    }

    /// Whether the key is a multi-Region replica (its rotation is its primary's).
    pub fn is_replica(&self) -> bool {
        self.multi_region
            .as_ref()
            .is_some_and(|m| m.role == MultiRegionRole::Replica)
    }
}

/// The parts of a KMS key ARN: `arn:PARTITION:kms:REGION:ACCOUNT:key/KEY_ID`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyArn<'a> {
    /// `aws`, `aws-cn`, `aws-us-gov`...
    pub partition: &'a str,
    /// The key's region.
    pub region: &'a str,
    /// The owning account (12 digits).
    pub account_id: &'a str,
    /// The key id, after `key/`.
    pub key_id: &'a str,
}

impl<'a> KeyArn<'a> {
    /// The parts of `arn`; an error (naming the value) when it is not a KMS key ARN with a 12-digit
    /// account.
    pub fn parse(arn: &'a str) -> crate::Result<Self> {
        let bad = |why: &str| {
            crate::Error::invalid_input(format!(
                "`{arn}` is not a KMS key ARN ({why}); expected arn:aws:kms:REGION:ACCOUNT:key/KEY_ID"
            ))
        };
        let mut parts = arn.splitn(6, ':');
        let (Some("arn"), Some(partition), Some("kms"), Some(region), Some(account_id), Some(rest)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(bad("wrong shape"));
        };
        let key_id = rest.strip_prefix("key/").ok_or_else(|| bad("not a key"))?;
        if partition.is_empty() || region.is_empty() || key_id.is_empty() {
            return Err(bad("empty part"));
        }
        if account_id.len() != 12 || !account_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("the account id must be 12 digits"));
        }
        Ok(KeyArn {
            partition,
            region,
            account_id,
            key_id,
        })
    }
}

/// The wire shape of a key record, before the checks that make it a [`KeyRecord`].
#[derive(Deserialize, schemars::JsonSchema)]
struct RawKeyRecord {
    account_id: Option<String>,
    region: Option<String>,
    key_id: Option<String>,
    arn: String,
    // Absent or null: not collected. Never read as "no aliases" / "no tags".
    aliases: Option<Vec<String>>,
    tags: Option<Tags>,
    key_manager: Option<KeyManager>,
    key_spec: Option<KeySpec>,
    key_usage: Option<KeyUsage>,
    origin: Option<Origin>,
    custom_key_store_id: Option<String>,
    key_state: Option<KeyState>,
    creation_date: Option<DateTime<Utc>>,
    multi_region: Option<MultiRegion>,
    rotation: Option<Rotation>,
    exposure: Option<Exposure>,
    #[serde(default)]
    errors: Vec<KeyError>,
    #[serde(default)]
    location: Option<Location>,
}

impl TryFrom<RawKeyRecord> for KeyRecord {
    type Error = String;

    fn try_from(raw: RawKeyRecord) -> Result<Self, String> {
        let mut record = match raw.location {
            // A key declared in code (a saved scan of a plan or template) has no ARN: its
            // identity is its location's.
            Some(location) => {
                if raw.arn != location.identity() {
                    return Err(format!(
                        "arn: `{}` is not the identity of a key declared at `{}`",
                        raw.arn,
                        location.identity()
                    ));
                }
                KeyRecord::declared(location, raw.region.clone())
            }
            None => KeyRecord::from_arn(&raw.arn).map_err(|e| format!("arn: {}", e.message()))?,
        };
        // Explicit values must agree with the ARN: a mismatch means a hand-edited or merged file.
        for (field, given, derived) in [
            ("account_id", &raw.account_id, &record.account_id),
            ("region", &raw.region, &record.region),
            ("key_id", &raw.key_id, &record.key_id),
        ] {
            if let Some(given) = given
                && given != derived
            {
                return Err(format!(
                    "{field}: `{given}` does not match the ARN's `{derived}`"
                ));
            }
        }
        record.aliases = raw.aliases;
        record.tags = raw.tags;
        record.key_manager = raw.key_manager;
        record.key_spec = raw.key_spec;
        record.key_usage = raw.key_usage;
        record.origin = raw.origin;
        record.custom_key_store_id = raw.custom_key_store_id;
        record.key_state = raw.key_state;
        record.creation_date = raw.creation_date;
        record.multi_region = raw.multi_region;
        record.rotation = raw.rotation;
        record.exposure = raw.exposure.map(Box::new);
        record.errors = raw.errors;
        if record.error_for(operation::DESCRIBE_KEY).is_none()
            && let Some(field) = record.missing_metadata()
        {
            return Err(format!(
                "missing field `{field}` (required unless `errors` has a DescribeKey entry)"
            ));
        }
        if let Some(period) = record.rotation.as_ref().and_then(|r| r.period_days)
            && !(90..=2560).contains(&period)
        {
            return Err(format!(
                "rotation.period_days: {period} is outside 90-2560, the range AWS allows"
            ));
        }
        Ok(record)
    }
}

/// A versioned list of key records: the `inventory` source's input, and what a scan can save.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Inventory {
    /// The format's version: `1` ([`SCHEMA_VERSION`]). Another version is refused, not misread.
    pub schema_version: u32,
    /// One record per key.
    pub keys: Vec<KeyRecord>,
}

impl Inventory {
    /// An inventory of `keys`, in this release's format version.
    pub fn new(keys: Vec<KeyRecord>) -> Self {
        Inventory {
            schema_version: SCHEMA_VERSION,
            keys,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_parts() {
        let arn = KeyArn::parse("arn:aws-cn:kms:cn-north-1:123456789012:key/mrk-1").unwrap();
        assert_eq!(arn.partition, "aws-cn");
        assert_eq!(arn.region, "cn-north-1");
        assert_eq!(arn.account_id, "123456789012");
        assert_eq!(arn.key_id, "mrk-1");
    }

    #[test]
    fn bad_arns_are_rejected() {
        for arn in [
            "",
            "1234abcd",
            "arn:aws:kms:eu-west-1:123456789012:alias/x",
            "arn:aws:s3:eu-west-1:123456789012:key/x",
            "arn:aws:kms:eu-west-1:1234:key/x",
            "arn:aws:kms::123456789012:key/x",
        ] {
            assert!(KeyArn::parse(arn).is_err(), "{arn}");
        }
    }

    #[test]
    fn enums_round_trip_with_aws_spelling() {
        for spec in KeySpec::ALL {
            assert_eq!(spec.as_str().parse::<KeySpec>().unwrap(), spec);
            assert_eq!(
                serde_json::to_string(&spec).unwrap(),
                format!("\"{}\"", spec.as_str())
            );
        }
        assert_eq!(KeyState::PendingDeletion.as_str(), "PendingDeletion");
        assert!("Bogus".parse::<Origin>().is_err());
    }
}

/// A region or account that could not be listed at all. The report is then incomplete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ScopeError {
    /// The account that could not be listed; `None` when the failure was not about one account.
    pub account_id: Option<String>,
    /// The region that could not be listed; `None` when the failure was about a whole account
    /// (one asked for and never read, say).
    pub region: Option<String>,
    /// The operation that failed: `ListKeys`, `ListRegions`...
    pub operation: String,
    /// The AWS error code (`AccessDeniedException`), or the tool's own: `AccountNotRead` (an
    /// account asked for and never read), `RegionNotEnabled`, `RegionUnresponsive`.
    pub code: String,
    /// What happened, in words.
    pub message: String,
}
