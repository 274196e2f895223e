//! The keys the server knows, indexed the ways KMS looks them up, and the mutable rotation state.
//!
//! Everything but rotation is fixed at start, so lookups need no lock. Rotation state is kept per
//! "rotation home": a multi-Region replica shares its primary's setting, so both read and write
//! the entry under the primary's ARN.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use kms_rotation::KeyRecord;
use kms_rotation::model::{
    KeyArn, KeyManager, KeySpec, KeyState, KeyUsage, MultiRegionRole, Origin,
};

/// Used when the seed is empty: the server still answers, with empty lists.
const FALLBACK_ACCOUNT: &str = "000000000000";
pub(crate) const DEFAULT_PERIOD_DAYS: u32 = 365;

/// A key's automatic-rotation setting, as GetKeyRotationStatus would report it for a customer
/// key in state Enabled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationState {
    pub enabled: bool,
    /// `None` while rotation is off.
    pub period_days: Option<u32>,
    /// `None` while rotation is off.
    pub next_rotation_date: Option<DateTime<Utc>>,
}

impl RotationState {
    pub(crate) fn off() -> Self {
        RotationState {
            enabled: false,
            period_days: None,
            next_rotation_date: None,
        }
    }

    pub(crate) fn on(period_days: u32, now: DateTime<Utc>) -> Self {
        RotationState {
            enabled: true,
            period_days: Some(period_days),
            next_rotation_date: Some(now + Duration::days(i64::from(period_days))),
        }
    }
}

/// One seeded key with DescribeKey's facts filled in (a record whose DescribeKey failed carries
/// only its ARN; it behaves as an ordinary customer key for the other operations).
#[derive(Debug)]
pub(crate) struct Key {
    pub record: KeyRecord,
    pub partition: String,
    pub manager: KeyManager,
    pub spec: KeySpec,
    pub usage: KeyUsage,
    pub origin: Origin,
    pub state: KeyState,
    pub created: DateTime<Utc>,
    /// The ARN its rotation state lives under: the primary's for a replica, else its own.
    pub rotation_home: String,
}

impl Key {
    pub fn arn(&self) -> &str {
        &self.record.arn
    }

    pub fn id(&self) -> &str {
        &self.record.key_id
    }

    pub fn in_custom_key_store(&self) -> bool {
        self.record.custom_key_store_id.is_some()
            || matches!(self.origin, Origin::AwsCloudhsm | Origin::ExternalKeyStore)
    }

    pub fn is_replica(&self) -> bool {
        self.record.is_replica()
    }
}

/// The keys and aliases of one account in one region.
#[derive(Debug, Default)]
pub(crate) struct Region {
    /// Indexes into [`Catalog::keys`], in seed order (the ListKeys order).
    pub keys: Vec<usize>,
    pub by_id: HashMap<String, usize>,
    /// Alias name (`alias/...`) to key index, sorted by name (the ListAliases order).
    pub aliases: BTreeMap<String, usize>,
}

#[derive(Debug)]
pub(crate) struct Catalog {
    pub keys: Vec<Key>,
    by_arn: HashMap<String, usize>,
    regions: HashMap<(String, String), Region>,
    /// Primary ARN to the ARNs of its replicas, for MultiRegionConfiguration.ReplicaKeys.
    pub replicas: HashMap<String, Vec<usize>>,
    pub default_account: String,
    pub started: DateTime<Utc>,
}

impl Catalog {
    /// Indexes `records` and derives the initial rotation state from their `rotation` fields.
    pub fn build(
        records: Vec<KeyRecord>,
        now: DateTime<Utc>,
    ) -> Result<(Catalog, HashMap<String, RotationState>), String> {
        let default_account = records
            .first()
            .map_or(FALLBACK_ACCOUNT, |r| r.account_id.as_str())
            .to_owned();
        let mut catalog = Catalog {
            keys: Vec::with_capacity(records.len()),
            by_arn: HashMap::with_capacity(records.len()),
            regions: HashMap::new(),
            replicas: HashMap::new(),
            default_account,
            started: now,
        };
        let mut rotations = HashMap::new();
        for record in records {
            let index = catalog.keys.len();
            let key = Key::from_record(record, now)?;
            if catalog.by_arn.insert(key.arn().to_owned(), index).is_some() {
                return Err(format!("key {} is seeded twice", key.arn()));
            }
            let region = catalog
                .regions
                .entry((key.record.account_id.clone(), key.record.region.clone()))
                .or_default();
            region.keys.push(index);
            region.by_id.insert(key.id().to_owned(), index);
            for alias in key.record.aliases.iter().flatten() {
                if region.aliases.insert(alias.clone(), index).is_some() {
                    return Err(format!(
                        "alias {alias} is seeded twice in {}",
                        key.record.region
                    ));
                }
            }
            if key.is_replica() {
                catalog
                    .replicas
                    .entry(key.rotation_home.clone())
                    .or_default()
                    .push(index);
            }
            // A primary's own record decides the shared state; a replica's only fills in for a
            // primary that is not seeded.
            let state = initial_rotation(&key, now);
            if key.is_replica() {
                rotations.entry(key.rotation_home.clone()).or_insert(state);
            } else {
                rotations.insert(key.rotation_home.clone(), state);
            }
            catalog.keys.push(key);
        }
        Ok((catalog, rotations))
    }

    pub fn by_arn(&self, arn: &str) -> Option<&Key> {
        self.by_arn.get(arn).map(|&i| &self.keys[i])
    }

    pub fn region(&self, account: &str, region: &str) -> Option<&Region> {
        self.regions.get(&(account.to_owned(), region.to_owned()))
    }

    /// The account an access key id stands for: `TEST<12 digits>` names one, anything else is the
    /// default account (the first one seeded).
    pub fn account_for(&self, access_key: Option<&str>) -> String {
        access_key
            .and_then(|k| k.strip_prefix("TEST"))
            .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
            .unwrap_or(&self.default_account)
            .to_owned()
    }
}

impl Key {
    fn from_record(record: KeyRecord, now: DateTime<Utc>) -> Result<Key, String> {
        let partition = KeyArn::parse(&record.arn)
            .map_err(|e| e.to_string())?
            .partition
            .to_owned();
        let spec = record.key_spec.unwrap_or(KeySpec::SymmetricDefault);
        let rotation_home = match &record.multi_region {
            Some(m) if m.role == MultiRegionRole::Replica => {
                m.primary_arn.clone().unwrap_or_else(|| record.arn.clone())
            }
            _ => record.arn.clone(),
        };
        Ok(Key {
            partition,
            manager: record.key_manager.unwrap_or(KeyManager::Customer),
            usage: record.key_usage.unwrap_or_else(|| default_usage(spec)),
            spec,
            origin: record.origin.unwrap_or(Origin::AwsKms),
            state: record.key_state.unwrap_or(KeyState::Enabled),
            created: record.creation_date.unwrap_or(now),
            rotation_home,
            record,
        })
    }
}

fn default_usage(spec: KeySpec) -> KeyUsage {
    use KeySpec::*;
    match spec {
        SymmetricDefault | Rsa2048 | Rsa3072 | Rsa4096 => KeyUsage::EncryptDecrypt,
        Hmac224 | Hmac256 | Hmac384 | Hmac512 => KeyUsage::GenerateVerifyMac,
        MlKem512 | MlKem768 | MlKem1024 => KeyUsage::EncapsulateDecapsulate,
        _ => KeyUsage::SignVerify,
    }
}

/// Null rotation means off for customer keys; AWS managed keys always rotate yearly.
fn initial_rotation(key: &Key, now: DateTime<Utc>) -> RotationState {
    match &key.record.rotation {
        Some(r) if r.enabled => {
            let period = r.period_days.unwrap_or(DEFAULT_PERIOD_DAYS);
            RotationState {
                next_rotation_date: r
                    .next_rotation_date
                    .or_else(|| RotationState::on(period, now).next_rotation_date),
                ..RotationState::on(period, now)
            }
        }
        _ if key.manager == KeyManager::Aws => RotationState::on(DEFAULT_PERIOD_DAYS, now),
        _ => RotationState::off(),
    }
}
