//! Which keys remediation may write to: the one place that decides it.
//!
//! A plan is a file a user may have edited, and a key may have changed since it was scanned, so
//! apply and rollback describe each target right before writing and refuse anything for which
//! automatic rotation does not exist or must not be changed from here: AWS managed keys,
//! non-`SYMMETRIC_DEFAULT` keys, imported material, custom key stores, keys that are not
//! `Enabled`, and multi-Region replicas (their rotation is their primary's). A fact that could
//! not be read counts as out of scope, never as benign.

use serde::{Deserialize, Serialize};

use crate::model::{
    KeyManager, KeyRecord, KeySpec, KeyState, MultiRegion, MultiRegionRole, Origin,
};

/// What DescribeKey says about a key, as far as the write scope needs it. A field is `None` when
/// the reply lacked it or held a value this version does not know: such a key is out of scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct KeyMetadata {
    /// Who manages the key.
    pub key_manager: Option<KeyManager>,
    /// The key's type.
    pub key_spec: Option<KeySpec>,
    /// Where its key material comes from.
    pub origin: Option<Origin>,
    /// The custom key store holding it; `None` for keys in KMS itself.
    #[serde(default)]
    pub custom_key_store_id: Option<String>,
    /// Its lifecycle state.
    pub key_state: Option<KeyState>,
    /// Its multi-Region role; `None` for a single-Region key.
    #[serde(default)]
    pub multi_region: Option<MultiRegion>,
}

impl KeyMetadata {
    /// A customer managed, `SYMMETRIC_DEFAULT`, `AWS_KMS`, `Enabled`, single-Region key: the kind
    /// remediation exists for.
    pub fn customer_symmetric() -> Self {
        KeyMetadata {
            key_manager: Some(KeyManager::Customer),
            key_spec: Some(KeySpec::SymmetricDefault),
            origin: Some(Origin::AwsKms),
            custom_key_store_id: None,
            key_state: Some(KeyState::Enabled),
            multi_region: None,
        }
    }

    /// The metadata a scan recorded for a key.
    pub fn from_record(record: &KeyRecord) -> Self {
        KeyMetadata {
            key_manager: record.key_manager,
            key_spec: record.key_spec,
            origin: record.origin,
            custom_key_store_id: record.custom_key_store_id.clone(),
            key_state: record.key_state,
            multi_region: record.multi_region.clone(),
        }
    }
}

/// Why a key is out of the write scope: the `reason` of a `skipped` result and journal line.
/// The snake_case values are public API; where the rule has the same reason, the same name.
pub mod scope_reason {
    /// `KeyManager` is `AWS`: AWS rotates the key; nobody else may.
    pub const AWS_MANAGED: &str = "aws_managed";
    /// `KeySpec` is not `SYMMETRIC_DEFAULT` (asymmetric, HMAC, ...): no automatic rotation.
    pub const UNSUPPORTED_KEY_SPEC: &str = "unsupported_key_spec";
    /// In a custom key store (`AWS_CLOUDHSM` or `EXTERNAL_KEY_STORE` origin, or a store id).
    pub const CUSTOM_KEY_STORE: &str = "custom_key_store";
    /// `Origin` is `EXTERNAL`: imported material rotates only on demand.
    pub const IMPORTED_KEY_MATERIAL: &str = "imported_key_material";
    /// `KeyState` is `Disabled`.
    pub const KEY_DISABLED: &str = "key_disabled";
    /// `KeyState` is `PendingDeletion` or `PendingReplicaDeletion`.
    pub const PENDING_DELETION: &str = "pending_deletion";
    /// Any other state that is not `Enabled` (`Creating`, `PendingImport`, `Unavailable`,
    /// `Updating`).
    pub const KEY_NOT_ENABLED: &str = "key_not_enabled";
    /// A multi-Region replica: its rotation is set on its primary, and only a plan action that
    /// names the primary writes there.
    pub const REPLICA_KEY: &str = "replica_key";
    /// DescribeKey's reply lacked a field the decision needs, or held a value this version does
    /// not know.
    pub const KEY_METADATA_INCOMPLETE: &str = "key_metadata_incomplete";
}

/// Why remediation must not write to a key with `meta`, or `None` when it may. The checks follow
/// the rule's decision table (manager, spec, key store, origin, state), then the replica role.
pub fn out_of_scope(meta: &KeyMetadata) -> Option<&'static str> {
    use scope_reason as r;
    let (Some(manager), Some(spec), Some(origin), Some(state)) =
        (meta.key_manager, meta.key_spec, meta.origin, meta.key_state)
    else {
        return Some(r::KEY_METADATA_INCOMPLETE);
    };
    let in_custom_store = meta
        .custom_key_store_id
        .as_deref()
        .is_some_and(|id| !id.is_empty());
    let why = if manager != KeyManager::Customer {
        r::AWS_MANAGED
    } else if spec != KeySpec::SymmetricDefault {
        r::UNSUPPORTED_KEY_SPEC
    } else if matches!(origin, Origin::AwsCloudhsm | Origin::ExternalKeyStore) || in_custom_store {
        r::CUSTOM_KEY_STORE
    } else if origin != Origin::AwsKms {
        r::IMPORTED_KEY_MATERIAL
    } else if state == KeyState::Disabled {
        r::KEY_DISABLED
    } else if matches!(
        state,
        KeyState::PendingDeletion | KeyState::PendingReplicaDeletion
    ) {
        r::PENDING_DELETION
    } else if state != KeyState::Enabled {
        r::KEY_NOT_ENABLED
    } else if meta
        .multi_region
        .as_ref()
        .is_some_and(|m| m.role == MultiRegionRole::Replica)
    {
        r::REPLICA_KEY
    } else {
        return None;
    };
    Some(why)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(change: impl FnOnce(&mut KeyMetadata)) -> Option<&'static str> {
        let mut meta = KeyMetadata::customer_symmetric();
        change(&mut meta);
        out_of_scope(&meta)
    }

    #[test]
    fn only_customer_symmetric_aws_kms_enabled_non_replicas_are_in_scope() {
        use scope_reason as r;
        assert_eq!(with(|_| {}), None);
        assert_eq!(
            with(|m| m.key_manager = Some(KeyManager::Aws)),
            Some(r::AWS_MANAGED)
        );
        assert_eq!(
            with(|m| m.key_spec = Some(KeySpec::Rsa2048)),
            Some(r::UNSUPPORTED_KEY_SPEC)
        );
        assert_eq!(
            with(|m| m.key_spec = Some(KeySpec::Hmac256)),
            Some(r::UNSUPPORTED_KEY_SPEC)
        );
        assert_eq!(
            with(|m| m.origin = Some(Origin::External)),
            Some(r::IMPORTED_KEY_MATERIAL)
        );
        assert_eq!(
            with(|m| m.origin = Some(Origin::AwsCloudhsm)),
            Some(r::CUSTOM_KEY_STORE)
        );
        assert_eq!(
            with(|m| m.origin = Some(Origin::ExternalKeyStore)),
            Some(r::CUSTOM_KEY_STORE)
        );
        // A store id alone is enough, whatever the origin says.
        assert_eq!(
            with(|m| m.custom_key_store_id = Some("cks-1".into())),
            Some(r::CUSTOM_KEY_STORE)
        );
        assert_eq!(with(|m| m.custom_key_store_id = Some(String::new())), None);
        assert_eq!(
            with(|m| m.key_state = Some(KeyState::Disabled)),
            Some(r::KEY_DISABLED)
        );
        for state in [KeyState::PendingDeletion, KeyState::PendingReplicaDeletion] {
            assert_eq!(
                with(|m| m.key_state = Some(state)),
                Some(r::PENDING_DELETION)
            );
        }
        for state in [
            KeyState::Creating,
            KeyState::PendingImport,
            KeyState::Unavailable,
            KeyState::Updating,
        ] {
            assert_eq!(
                with(|m| m.key_state = Some(state)),
                Some(r::KEY_NOT_ENABLED)
            );
        }
        let role = |role| MultiRegion {
            role,
            primary_arn: None,
        };
        assert_eq!(
            with(|m| m.multi_region = Some(role(MultiRegionRole::Replica))),
            Some(r::REPLICA_KEY)
        );
        assert_eq!(
            with(|m| m.multi_region = Some(role(MultiRegionRole::Primary))),
            None
        );
    }

    #[test]
    fn a_fact_that_was_not_read_is_out_of_scope() {
        use scope_reason::KEY_METADATA_INCOMPLETE as INCOMPLETE;
        assert_eq!(with(|m| m.key_manager = None), Some(INCOMPLETE));
        assert_eq!(with(|m| m.key_spec = None), Some(INCOMPLETE));
        assert_eq!(with(|m| m.origin = None), Some(INCOMPLETE));
        assert_eq!(with(|m| m.key_state = None), Some(INCOMPLETE));
    }
}
