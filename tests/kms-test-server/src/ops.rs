//! The KMS operations, with AWS's behaviour per key state and type (kms-api.md §1–3).

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use kms_rotation::exposure::{EvidenceSource, ExposureLevel};
use kms_rotation::model::{KeyArn, KeyManager, KeySpec, KeyState, Origin};
use serde_json::{Value, json};

use crate::lock;
use crate::state::{Catalog, DEFAULT_PERIOD_DAYS, Key, RotationState};
use crate::wire::{Input, KmsError, Page, epoch};

/// Predefined AWS aliases that exist in every region even before their AWS managed key does;
/// ListAliases returns them without `TargetKeyId` (kms-api.md §1.8).
const PREDEFINED_ALIASES: &[&str] = &["alias/aws/ebs", "alias/aws/rds", "alias/aws/s3"];

/// Who is calling what.
#[derive(Debug)]
pub(crate) struct Ctx<'a> {
    pub op: &'a str,
    pub account: &'a str,
    pub region: &'a str,
    pub now: DateTime<Utc>,
    /// False when writes are accepted but not applied (a fault).
    pub apply_writes: bool,
    /// The most items a list page may hold (a fault: shorter pages than `Limit` asks).
    pub page_cap: Option<usize>,
}

/// Which forms of `KeyId` an operation takes.
#[derive(Debug, Clone, Copy)]
struct Accepts {
    alias: bool,
    cross_account: bool,
}

/// Key id or ARN, own account only (Enable/Disable, tags, rotations).
const KEY: Accepts = Accepts {
    alias: false,
    cross_account: false,
};

#[derive(Debug)]
pub(crate) struct Store {
    pub catalog: Catalog,
    /// Rotation state by rotation home (see [`Key::rotation_home`]).
    pub rotations: Mutex<HashMap<String, RotationState>>,
}

impl Store {
    /// Runs one operation. `Value::Null` means an empty 200 body.
    pub fn dispatch(&self, ctx: &Ctx, input: &Input) -> Result<Value, KmsError> {
        match ctx.op {
            "ListKeys" => self.list_keys(ctx, input),
            "DescribeKey" => self.describe_key(ctx, input),
            "GetKeyRotationStatus" => self.get_key_rotation_status(ctx, input),
            "EnableKeyRotation" => self.set_rotation(ctx, input, true),
            "DisableKeyRotation" => self.set_rotation(ctx, input, false),
            "ListAliases" => self.list_aliases(ctx, input),
            "ListResourceTags" => self.list_resource_tags(ctx, input),
            "ListKeyRotations" => self.list_key_rotations(ctx, input),
            "GetKeyPolicy" => self.get_key_policy(ctx, input),
            "ListGrants" => self.list_grants(ctx, input),
            other => Err(KmsError::new(
                "UnknownOperationException",
                format!("Operation {other} is not supported by kms-test-server"),
            )),
        }
    }

    /// The key a request names, for the call log: every form of KeyId, no checks.
    pub fn key_for_log(&self, ctx: &Ctx, key_id: &str) -> Option<&Key> {
        let any = Accepts {
            alias: true,
            cross_account: true,
        };
        self.resolve(ctx, key_id, any).ok()
    }

    /// The shared rotation state of the key `arn` (a replica's is its primary's).
    pub fn rotation_of(&self, arn: &str) -> Option<RotationState> {
        let key = self.catalog.by_arn(arn)?;
        lock(&self.rotations).get(&key.rotation_home).cloned()
    }

    fn list_keys(&self, ctx: &Ctx, input: &Input) -> Result<Value, KmsError> {
        let indexes = self
            .catalog
            .region(ctx.account, ctx.region)
            .map_or(&[][..], |r| &r.keys);
        let page = Page::of(input, ctx.op, indexes.len(), 100, 1000, ctx.page_cap)?;
        let keys = indexes[page.range.clone()]
            .iter()
            .map(|&i| {
                let key = &self.catalog.keys[i];
                json!({"KeyId": key.id(), "KeyArn": key.arn()})
            })
            .collect();
        Ok(page.reply("Keys", keys))
    }

    fn describe_key(&self, ctx: &Ctx, input: &Input) -> Result<Value, KmsError> {
        let any = Accepts {
            alias: true,
            cross_account: true,
        };
        let key = self.key(ctx, input, any)?;
        Ok(json!({"KeyMetadata": self.metadata(key)}))
    }

    fn metadata(&self, key: &Key) -> Value {
        let r = &key.record;
        let mut m = json!({
            "KeyId": key.id(),
            "Arn": key.arn(),
            "AWSAccountId": r.account_id,
            "CreationDate": epoch(key.created),
            "Description": "",
            "Enabled": key.state == KeyState::Enabled,
            "KeyState": key.state.as_str(),
            "KeyManager": key.manager.as_str(),
            "KeySpec": key.spec.as_str(),
            "CustomerMasterKeySpec": key.spec.as_str(),
            "KeyUsage": key.usage.as_str(),
            "Origin": key.origin.as_str(),
            "MultiRegion": r.multi_region.is_some(),
        });
        if let Some(store) = &r.custom_key_store_id {
            m["CustomKeyStoreId"] = json!(store);
        }
        if key.spec == KeySpec::SymmetricDefault {
            m["EncryptionAlgorithms"] = json!(["SYMMETRIC_DEFAULT"]);
        }
        match key.state {
            KeyState::PendingDeletion => {
                m["DeletionDate"] = epoch(self.catalog.started + Duration::days(7));
            }
            KeyState::PendingReplicaDeletion => m["PendingDeletionWindowInDays"] = json!(7),
            _ => {}
        }
        if let Some(mr) = &r.multi_region {
            // The configuration is the same on every key of the set: the primary plus all replicas.
            let primary = &key.rotation_home;
            let replicas: Vec<Value> = self
                .catalog
                .replicas
                .get(primary)
                .into_iter()
                .flatten()
                .map(|&i| {
                    let replica = &self.catalog.keys[i];
                    json!({"Arn": replica.arn(), "Region": replica.record.region})
                })
                .collect();
            let primary_region = KeyArn::parse(primary).map_or(r.region.as_str(), |arn| arn.region);
            m["MultiRegionConfiguration"] = json!({
                "MultiRegionKeyType": mr.role.as_str(),
                "PrimaryKey": {"Arn": primary, "Region": primary_region},
                "ReplicaKeys": replicas,
            });
        }
        m
    }

    fn get_key_rotation_status(&self, ctx: &Ctx, input: &Input) -> Result<Value, KmsError> {
        let own_or_cross = Accepts {
            alias: false,
            cross_account: true,
        };
        let key = self.key(ctx, input, own_or_cross)?;
        if key.origin == Origin::External
            || key.in_custom_key_store()
            || matches!(key.state, KeyState::PendingImport | KeyState::Unavailable)
        {
            return Err(unsupported_origin(key));
        }
        let state = if key.spec != KeySpec::SymmetricDefault
            || matches!(
                key.state,
                KeyState::PendingDeletion | KeyState::PendingReplicaDeletion
            ) {
            RotationState::off()
        } else {
            let stored = lock(&self.rotations).get(&key.rotation_home).cloned();
            match stored {
                Some(s) if s.enabled || key.manager == KeyManager::Customer => s,
                // AWS managed keys always rotate, whatever a seed says.
                _ if key.manager == KeyManager::Aws => {
                    RotationState::on(DEFAULT_PERIOD_DAYS, self.catalog.started)
                }
                _ => RotationState::off(),
            }
        };
        // With rotation off, AWS sends only KeyId and KeyRotationEnabled.
        let mut out = json!({"KeyId": key.arn(), "KeyRotationEnabled": state.enabled});
        if state.enabled {
            if let Some(days) = state.period_days {
                out["RotationPeriodInDays"] = json!(days);
            }
            if let Some(next) = state.next_rotation_date {
                out["NextRotationDate"] = epoch(next);
            }
        }
        if let Some(started) = key
            .record
            .rotation
            .as_ref()
            .and_then(|r| r.on_demand_rotation_start_date)
        {
            out["OnDemandRotationStartDate"] = epoch(started);
        }
        Ok(out)
    }

    /// EnableKeyRotation (`enable`) and DisableKeyRotation: the same checks, in the order of the
    /// key-state table (kms-api.md §3.1–3.2).
    fn set_rotation(&self, ctx: &Ctx, input: &Input, enable: bool) -> Result<Value, KmsError> {
        // Input validation comes before any key lookup, as on AWS.
        let period = if enable {
            input.int_in("RotationPeriodInDays", 90, 2560)?
        } else {
            None
        };
        let key = self.key(ctx, input, KEY)?;
        let arn = key.arn();
        if key.manager == KeyManager::Aws {
            return Err(access_denied(ctx, arn, "resource-based"));
        }
        if key.origin == Origin::External
            || key.in_custom_key_store()
            || matches!(key.state, KeyState::PendingImport | KeyState::Unavailable)
        {
            return Err(unsupported_origin(key));
        }
        let invalid_state =
            |what: &str| KmsError::new("KMSInvalidStateException", format!("{arn} is {what}."));
        match key.state {
            KeyState::Disabled => {
                return Err(KmsError::new(
                    "DisabledException",
                    format!("{arn} is disabled."),
                ));
            }
            KeyState::PendingDeletion => return Err(invalid_state("pending deletion")),
            KeyState::PendingReplicaDeletion => {
                return Err(invalid_state("pending replica deletion"));
            }
            KeyState::Creating => return Err(invalid_state("creating")),
            _ => {}
        }
        if key.spec != KeySpec::SymmetricDefault {
            return Err(KmsError::new(
                "UnsupportedOperationException",
                format!(
                    "{arn} key spec {} does not support automatic rotation.",
                    key.spec
                ),
            ));
        }
        if key.is_replica() {
            return Err(KmsError::new(
                "UnsupportedOperationException",
                format!(
                    "{arn} is a multi-Region replica key; set rotation on its primary key {}.",
                    key.rotation_home
                ),
            ));
        }
        if ctx.apply_writes {
            // An omitted period means 365 (the model's default), even on a key that rotates.
            let state = if enable {
                let days = period.and_then(|p| u32::try_from(p).ok());
                RotationState::on(days.unwrap_or(DEFAULT_PERIOD_DAYS), ctx.now)
            } else {
                RotationState::off()
            };
            lock(&self.rotations).insert(key.rotation_home.clone(), state);
        }
        Ok(Value::Null)
    }

    fn list_aliases(&self, ctx: &Ctx, input: &Input) -> Result<Value, KmsError> {
        let target = match input.str("KeyId")? {
            Some(id) => Some(self.resolve(ctx, id, KEY)?),
            None => None,
        };
        let region = self.catalog.region(ctx.account, ctx.region);
        let mut entries: Vec<(&str, Option<&Key>)> = region
            .into_iter()
            .flat_map(|r| &r.aliases)
            .map(|(name, &i)| (name.as_str(), Some(&self.catalog.keys[i])))
            .collect();
        match target {
            Some(target) => {
                entries.retain(|(_, key)| key.is_some_and(|k| std::ptr::eq(k, target)));
            }
            None => {
                let seeded = |name: &&str| region.is_some_and(|r| r.aliases.contains_key(*name));
                let unused = PREDEFINED_ALIASES.iter().filter(|n| !seeded(n));
                entries.extend(unused.map(|name| (*name, None)));
                entries.sort_by_key(|(name, _)| *name);
            }
        }
        let page = Page::of(input, ctx.op, entries.len(), 50, 100, ctx.page_cap)?;
        let aliases = entries[page.range.clone()]
            .iter()
            .map(|(name, key)| {
                let partition = key.map_or("aws", |k| k.partition.as_str());
                let arn = format!("arn:{partition}:kms:{}:{}:{name}", ctx.region, ctx.account);
                let mut entry = json!({"AliasName": name, "AliasArn": arn});
                if let Some(key) = key {
                    entry["TargetKeyId"] = json!(key.id());
                    entry["CreationDate"] = epoch(key.created);
                    entry["LastUpdatedDate"] = epoch(key.created);
                }
                entry
            })
            .collect();
        Ok(page.reply("Aliases", aliases))
    }

    fn list_resource_tags(&self, ctx: &Ctx, input: &Input) -> Result<Value, KmsError> {
        let key = self.key(ctx, input, KEY)?;
        let tags: Vec<_> = key.record.tags.iter().flatten().collect();
        let page = Page::of(input, ctx.op, tags.len(), 50, 50, ctx.page_cap)?;
        let tags = tags[page.range.clone()]
            .iter()
            .map(|(k, v)| json!({"TagKey": k, "TagValue": v}))
            .collect();
        Ok(page.reply("Tags", tags))
    }

    /// The default key policy (the account's root may do everything), plus one statement per
    /// key-policy principal of the record's exposure evidence, so that a scan reads back the
    /// exposure the fleet file says. An `unknown` exposure is a denied read.
    fn get_key_policy(&self, ctx: &Ctx, input: &Input) -> Result<Value, KmsError> {
        let key = self.key(ctx, input, KEY)?;
        if input
            .str("PolicyName")?
            .is_some_and(|name| name != "default")
        {
            return Err(KmsError::new(
                "NotFoundException",
                "Only the `default` policy exists",
            ));
        }
        let exposure = key.record.exposure.as_ref();
        if exposure.is_some_and(|e| e.level == ExposureLevel::Unknown) {
            return Err(KmsError::new(
                "AccessDeniedException",
                "User is not authorized to perform: kms:GetKeyPolicy because no resource-based \
                 policy allows the kms:GetKeyPolicy action",
            ));
        }
        let mut statements = vec![json!({
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{}:root", key.record.account_id)},
            "Action": "kms:*",
            "Resource": "*",
        })];
        for evidence in exposure.into_iter().flat_map(|e| &e.evidence) {
            if evidence.source == EvidenceSource::KeyPolicy {
                statements.push(json!({
                    "Sid": evidence.statement,
                    "Effect": "Allow",
                    "Principal": {"AWS": evidence.principal},
                    "Action": ["kms:Decrypt", "kms:DescribeKey"],
                    "Resource": "*",
                }));
            }
        }
        let policy = json!({"Version": "2012-10-17", "Statement": statements});
        Ok(json!({"Policy": policy.to_string(), "PolicyName": "default"}))
    }

    /// One grant per grant in the record's exposure evidence.
    fn list_grants(&self, ctx: &Ctx, input: &Input) -> Result<Value, KmsError> {
        let key = self.key(ctx, input, KEY)?;
        let grants: Vec<Value> = key
            .record
            .exposure
            .iter()
            .flat_map(|e| &e.evidence)
            .filter(|e| e.source == EvidenceSource::Grant)
            .map(|e| {
                json!({
                    "KeyId": key.arn(),
                    "GrantId": e.statement,
                    "GranteePrincipal": e.principal,
                    "Operations": ["Decrypt"],
                    "IssuingAccount": format!("arn:aws:iam::{}:root", key.record.account_id),
                })
            })
            .collect();
        let page = Page::of(input, ctx.op, grants.len(), 50, 100, ctx.page_cap)?;
        let grants = grants[page.range.clone()].to_vec();
        Ok(page.reply("Grants", grants))
    }

    fn list_key_rotations(&self, ctx: &Ctx, input: &Input) -> Result<Value, KmsError> {
        let key = self.key(ctx, input, KEY)?;
        let last = key
            .record
            .rotation
            .as_ref()
            .and_then(|r| r.last_rotation.as_ref());
        let rotations: Vec<Value> = last
            .map(|last| {
                json!({
                    "KeyId": key.id(),
                    "RotationDate": epoch(last.date),
                    "RotationType": last.rotation_type.as_str(),
                })
            })
            .into_iter()
            .collect();
        let page = Page::of(input, ctx.op, rotations.len(), 100, 1000, ctx.page_cap)?;
        let rotations = rotations[page.range.clone()].to_vec();
        Ok(page.reply("Rotations", rotations))
    }

    /// The request's `KeyId`, resolved, and the key's seeded denial for this operation, if any.
    fn key(&self, ctx: &Ctx, input: &Input, accepts: Accepts) -> Result<&Key, KmsError> {
        let key = self.resolve(ctx, input.required_str("KeyId")?, accepts)?;
        match key.record.error_for(ctx.op) {
            None => Ok(key),
            Some(e) if e.message.is_empty() && e.code == "AccessDeniedException" => {
                Err(access_denied(ctx, key.arn(), "resource-based"))
            }
            Some(e) => Err(KmsError::new(&e.code, &e.message)),
        }
    }

    /// Finds a key by id, key ARN, alias name or alias ARN, in the caller's region.
    fn resolve(&self, ctx: &Ctx, key_id: &str, accepts: Accepts) -> Result<&Key, KmsError> {
        let not_found =
            |arn: &str| KmsError::new("NotFoundException", format!("Key '{arn}' does not exist"));
        let alias_not_found = |name: &str, account: &str| {
            KmsError::new(
                "NotFoundException",
                format!(
                    "Alias arn:aws:kms:{}:{account}:{name} is not found.",
                    ctx.region
                ),
            )
        };
        let alias = |name: &str, account: &str| {
            let key = self
                .catalog
                .region(account, ctx.region)
                .and_then(|r| r.aliases.get(name))
                .map(|&i| &self.catalog.keys[i]);
            key.ok_or_else(|| alias_not_found(name, account))
        };

        if key_id.starts_with("arn:") {
            if let Ok(arn) = KeyArn::parse(key_id) {
                let key = (arn.region == ctx.region)
                    .then(|| self.catalog.by_arn(key_id))
                    .flatten()
                    .ok_or_else(|| not_found(key_id))?;
                if arn.account_id != ctx.account && !accepts.cross_account {
                    return Err(access_denied(ctx, key_id, "identity-based"));
                }
                return Ok(key);
            }
            // arn:PARTITION:kms:REGION:ACCOUNT:alias/NAME
            let parts: Vec<&str> = key_id.splitn(6, ':').collect();
            return match parts[..] {
                [_, _, "kms", region, account, name] if name.starts_with("alias/") => {
                    if !accepts.alias || region != ctx.region {
                        Err(alias_not_found(name, account))
                    } else if account != ctx.account && !accepts.cross_account {
                        Err(access_denied(ctx, key_id, "identity-based"))
                    } else {
                        alias(name, account)
                    }
                }
                _ => Err(KmsError::new(
                    "InvalidArnException",
                    format!("Invalid arn {key_id}"),
                )),
            };
        }
        if key_id.starts_with("alias/") {
            return if accepts.alias {
                alias(key_id, ctx.account)
            } else {
                Err(alias_not_found(key_id, ctx.account))
            };
        }
        self.catalog
            .region(ctx.account, ctx.region)
            .and_then(|r| r.by_id.get(key_id))
            .map(|&i| &self.catalog.keys[i])
            .ok_or_else(|| {
                not_found(&format!(
                    "arn:aws:kms:{}:{}:key/{key_id}",
                    ctx.region, ctx.account
                ))
            })
    }
}

/// AWS's AccessDenied text names which kind of policy failed to allow the call.
fn access_denied(ctx: &Ctx, resource: &str, policy: &str) -> KmsError {
    let op = ctx.op;
    KmsError::new(
        "AccessDeniedException",
        format!(
            "User: arn:aws:iam::{}:user/test is not authorized to perform: kms:{op} on resource: \
             {resource} because no {policy} policy allows the kms:{op} action",
            ctx.account
        ),
    )
}

fn unsupported_origin(key: &Key) -> KmsError {
    let arn = key.arn();
    let message = if key.origin != Origin::AwsKms {
        format!(
            "{arn} origin is {} which is not valid for this operation.",
            key.origin
        )
    } else if let Some(store) = &key.record.custom_key_store_id {
        format!("{arn} is in custom key store {store}, which is not valid for this operation.")
    } else {
        format!(
            "{arn} is {}, which is not valid for this operation.",
            key.state
        )
    };
    KmsError::new("UnsupportedOperationException", message)
}
