//! What every read guarantees, whatever the source: one record per key, and an account that was
//! asked for but not read is reported as such, never passed over as compliant.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use super::{Collected, Scope, ScopeError};
use crate::model::{KeyError, KeyRecord, operation};

/// The code of a scope error for an account in `Scope::accounts` that no read covered.
pub const ACCOUNT_NOT_READ: &str = "AccountNotRead";
/// The code of the DescribeKey error on a key that was read twice with different facts.
pub const CONFLICTING_RECORDS: &str = "ConflictingRecords";

impl Collected {
    /// Applies the guarantees of every read to what a source collected for `scope`: duplicate
    /// records removed (see [`dedup_records`]) and every account asked for but not read reported
    /// as a scope error ([`ACCOUNT_NOT_READ`]). Running it twice changes nothing more.
    pub fn finish(mut self, scope: &Scope) -> Collected {
        self.records = dedup_records(std::mem::take(&mut self.records));
        for account in &scope.accounts {
            let read = self.accounts.contains(account);
            let reported = self
                .scope_errors
                .iter()
                .any(|e| e.account_id.as_deref() == Some(account.as_str()));
            if !read && !reported {
                self.scope_errors.push(ScopeError {
                    account_id: Some(account.clone()),
                    region: None,
                    operation: "ListKeys".to_owned(),
                    code: ACCOUNT_NOT_READ.to_owned(),
                    message: format!(
                        "account {account} was asked for but not read: the source has no \
                         credentials or records for it, or listed no key it could attribute to it"
                    ),
                });
            }
        }
        self
    }
}

/// One record per key, in first-seen order.
///
/// A key is its ARN, or (account, region, key id) when the ARN is unknown. Identical copies are
/// dropped. Copies that disagree cannot both be right and neither can be trusted over the other
/// (two reads at different moments, or a merged file), so the key keeps one record that carries
/// only its identity and a DescribeKey error ([`CONFLICTING_RECORDS`]): an `error` finding, never
/// a `pass` or `fail` picked from one of them.
pub fn dedup_records(mut records: Vec<KeyRecord>) -> Vec<KeyRecord> {
    // Each later copy and the first record of its key. The keys borrow from the records, so
    // nothing is copied, and records without copies (nearly all) are never moved.
    let copies: Vec<(usize, usize)> = {
        let mut first: HashMap<Identity<'_>, usize> = HashMap::with_capacity(records.len());
        records
            .iter()
            .enumerate()
            .filter_map(|(i, record)| match first.entry(Identity::of(record)) {
                Entry::Vacant(slot) => {
                    slot.insert(i);
                    None
                }
                Entry::Occupied(slot) => Some((i, *slot.get())),
            })
            .collect()
    };
    if copies.is_empty() {
        return records;
    }
    let mut copy = vec![false; records.len()];
    for &(later, first) in &copies {
        copy[later] = true;
        if !is_conflicting(&records[first]) && records[later] != records[first] {
            records[first] = conflicting(&records[first]);
        }
    }
    let mut is_copy = copy.into_iter();
    records.retain(|_| !is_copy.next().unwrap_or(false));
    records
}

/// What makes two records the same key: the ARN, or (account, region, key id) without one.
#[derive(PartialEq, Eq, Hash)]
enum Identity<'a> {
    Arn(&'a str),
    Parts(&'a str, &'a str, &'a str),
}

impl<'a> Identity<'a> {
    fn of(record: &'a KeyRecord) -> Self {
        if record.arn.is_empty() {
            Identity::Parts(&record.account_id, &record.region, &record.key_id)
        } else {
            Identity::Arn(&record.arn)
        }
    }
}

fn is_conflicting(record: &KeyRecord) -> bool {
    record
        .error_for(operation::DESCRIBE_KEY)
        .is_some_and(|e| e.code == CONFLICTING_RECORDS)
}

/// The key's identity and nothing else, with the DescribeKey error that says why.
fn conflicting(record: &KeyRecord) -> KeyRecord {
    let mut bare = record.clone();
    bare.aliases = Default::default();
    bare.tags = Default::default();
    bare.key_manager = None;
    bare.key_spec = None;
    bare.key_usage = None;
    bare.origin = None;
    bare.custom_key_store_id = None;
    bare.key_state = None;
    bare.creation_date = None;
    bare.multi_region = None;
    bare.rotation = None;
    bare.exposure = None;
    bare.errors = vec![KeyError {
        operation: operation::DESCRIBE_KEY.to_owned(),
        code: CONFLICTING_RECORDS.to_owned(),
        message: "the key was read twice with different facts; neither can be trusted: \
                  read it again"
            .to_owned(),
    }];
    bare
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{KeyManager, KeySpec, KeyState, Origin, Rotation};

    const ARN: &str = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    fn record(enabled: bool) -> KeyRecord {
        let mut r = KeyRecord::from_arn(ARN).unwrap();
        r.key_manager = Some(KeyManager::Customer);
        r.key_spec = Some(KeySpec::SymmetricDefault);
        r.origin = Some(Origin::AwsKms);
        r.key_state = Some(KeyState::Enabled);
        r.rotation = Some(Rotation {
            enabled,
            period_days: Some(365),
            next_rotation_date: None,
            on_demand_rotation_start_date: None,
            last_rotation: None,
        });
        r
    }

    #[test]
    fn identical_copies_collapse_to_one() {
        let out = dedup_records(vec![record(true), record(true), record(true)]);
        assert_eq!(out, vec![record(true)]);
    }

    #[test]
    fn disagreeing_copies_become_one_describe_key_error() {
        let mut exposed = record(true);
        exposed.exposure = Some(Box::new(crate::exposure::Exposure::unknown(KeyError {
            operation: operation::GET_KEY_POLICY.to_owned(),
            code: "AccessDenied".to_owned(),
            message: String::new(),
        })));
        let out = dedup_records(vec![exposed, record(false), record(true)]);
        let [only] = out.as_slice() else {
            panic!("{out:?}")
        };
        assert_eq!(only.arn, ARN);
        assert!(only.rotation.is_none() && only.key_state.is_none());
        assert!(only.exposure.is_none(), "{:?}", only.exposure);
        let error = only.error_for(operation::DESCRIBE_KEY).unwrap();
        assert_eq!(error.code, CONFLICTING_RECORDS);
    }

    #[test]
    fn copies_of_several_keys_leave_one_record_each_in_first_seen_order() {
        let key = |id: &str, enabled: bool| {
            let mut r = record(enabled);
            r.arn = r.arn.replace("1234abcd-12ab-34cd-56ef-1234567890ab", id);
            r.key_id = id.to_owned();
            r
        };
        let out = dedup_records(vec![
            key("c", true),
            key("a", true),
            key("c", true),
            key("b", true),
            key("a", false),
            key("b", true),
            key("a", true),
        ]);
        let ids: Vec<&str> = out.iter().map(|r| r.key_id.as_str()).collect();
        assert_eq!(ids, ["c", "a", "b"]);
        assert_eq!(out[0], key("c", true));
        assert_eq!(out[2], key("b", true));
        let conflict = out[1].error_for(operation::DESCRIBE_KEY).unwrap();
        assert_eq!(conflict.code, CONFLICTING_RECORDS);
    }

    #[test]
    fn records_without_an_arn_are_told_apart_by_account_region_and_id() {
        let bare = |id: &str| {
            let mut r = KeyRecord::from_arn(ARN).unwrap();
            r.arn = String::new();
            r.key_id = id.to_owned();
            r
        };
        let out = dedup_records(vec![bare("a"), bare("b"), bare("a")]);
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn an_account_asked_for_and_not_read_is_a_scope_error_once() {
        let scope = Scope {
            accounts: vec!["111122223333".into(), "444455556666".into()],
            regions: vec![],
            shard: None,
            keys: Vec::new(),
        };
        let collected = Collected {
            accounts: vec!["111122223333".into()],
            ..Collected::default()
        }
        .finish(&scope)
        .finish(&scope);
        let [error] = collected.scope_errors.as_slice() else {
            panic!("{:?}", collected.scope_errors)
        };
        assert_eq!(error.account_id.as_deref(), Some("444455556666"));
        assert_eq!(error.code, ACCOUNT_NOT_READ);
        assert_eq!(error.region, None);
    }
}
