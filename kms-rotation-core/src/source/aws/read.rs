//! Reading one account in one region.
//!
//! ListKeys feeds a stream of keys that are read as they are listed (bounded concurrency), while
//! one unfiltered ListAliases runs alongside and is joined on `TargetKeyId` at the end. Per key,
//! only the calls that can change the key's verdict are made: DescribeKey always (by the id that
//! ListKeys returned, never an alias: an unused predefined AWS alias would *create* its key),
//! then GetKeyRotationStatus, ListKeyRotations and ListResourceTags only where the rule or the
//! request needs them. Every call saved is time saved at organisation scale.
//!
//! Paging is done by hand: the SDK paginator ignores `Truncated` (`kms-api.md` §5).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use aws_sdk_kms::types::RotationsListEntry;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use futures::channel::mpsc::UnboundedSender;

use super::client::Target;
use super::convert;
use super::errors::key_error;
use super::limits::{Op, RegionLimiter};
use super::progress::Progress;
use crate::model::{KeyError, KeyManager, KeyRecord, KeySpec, Origin, Rotation, operation};
use crate::rule;
use crate::source::{ReadRequest, ScopeError, TagNeed};

/// The operation name of a failed listing in scope errors.
pub(crate) const LIST_KEYS: &str = "ListKeys";

/// Largest pages each list operation accepts (`kms-api.md` §1.11): fewer round trips.
const LIST_KEYS_LIMIT: i32 = 1000;
const LIST_ALIASES_LIMIT: i32 = 100;
const LIST_KEY_ROTATIONS_LIMIT: i32 = 1000;
const LIST_RESOURCE_TAGS_LIMIT: i32 = 50;

/// Everything one region read needs, owned: each region is read in a task of its own, so that
/// signing and parsing for many regions spread over every core.
pub(crate) struct RegionContext {
    pub(crate) client: aws_sdk_kms::Client,
    pub(crate) target: Target,
    pub(crate) region: String,
    pub(crate) limiter: Arc<RegionLimiter>,
    pub(crate) request: Arc<ReadRequest>,
    /// For [`rule::would_fail`], which decides whether tags are read.
    pub(crate) now: DateTime<Utc>,
    pub(crate) progress: Arc<Progress>,
    pub(crate) concurrency: usize,
}

/// What one region read produced.
#[derive(Debug)]
pub(crate) struct RegionResult {
    pub(crate) region: String,
    pub(crate) records: Vec<KeyRecord>,
    /// Set when ListKeys failed; `records` then holds the keys listed before the failure.
    pub(crate) scope_error: Option<ScopeError>,
    /// The accounts the listed key ARNs belong to.
    pub(crate) accounts: BTreeSet<String>,
}

/// A key as ListKeys returned it.
#[derive(Debug)]
struct Listed {
    key_id: String,
    arn: Option<String>,
}

/// The next marker to send, or `None` when the listing is complete.
///
/// Only `Truncated` says there is more; a repeated marker would loop forever, so it ends the
/// listing too.
fn next_marker(truncated: bool, next: Option<&str>, previous: Option<&str>) -> Option<String> {
    match next {
        Some(next) if truncated && !next.is_empty() && previous != Some(next) => {
            Some(next.to_owned())
        }
        _ => None,
    }
}

pub(crate) async fn read_region(ctx: &RegionContext) -> RegionResult {
    let (sender, receiver) = futures::channel::mpsc::unbounded();
    let listing = async move {
        // The sender is dropped when listing ends, which ends the stream of keys to read.
        let sender = sender;
        list_keys(ctx, &sender).await
    };
    let reading = receiver
        .map(|listed| read_key(ctx, listed))
        .buffer_unordered(ctx.concurrency)
        .collect::<Vec<_>>();
    let (listing, mut records, aliases) = futures::join!(listing, reading, list_aliases(ctx));

    match aliases {
        Ok(mut aliases) => {
            // Read for the whole region: a key missing from the listing has no aliases.
            for record in &mut records {
                record.aliases = Some(aliases.remove(&record.key_id).unwrap_or_default());
            }
        }
        Err(error) => {
            // Aliases are evidence and exception matchers: say they are missing on every key
            // (`aliases` stays `None`: unknown, not empty).
            for record in &mut records {
                record.errors.push(error.clone());
            }
        }
    }

    let accounts: BTreeSet<String> = records
        .iter()
        .filter(|r| !r.account_id.is_empty())
        .map(|r| r.account_id.clone())
        .collect();
    let scope_error = listing.err().map(|error| ScopeError {
        account_id: ctx
            .target
            .account_id
            .clone()
            .or_else(|| accounts.iter().next().cloned()),
        region: Some(ctx.region.clone()),
        operation: error.operation,
        code: error.code,
        message: error.message,
    });
    RegionResult {
        region: ctx.region.clone(),
        records,
        scope_error,
        accounts,
    }
}

/// Lists every key of the region into `sender`, keeping only the accounts in scope.
async fn list_keys(ctx: &RegionContext, sender: &UnboundedSender<Listed>) -> Result<(), KeyError> {
    let scope = &ctx.request.scope;
    let mut marker: Option<String> = None;
    loop {
        ctx.limiter.wait(Op::ListKeys).await;
        let page = ctx
            .client
            .list_keys()
            .limit(LIST_KEYS_LIMIT)
            .set_marker(marker.clone())
            .send()
            .await
            .map_err(|err| key_error(LIST_KEYS, &err))?;
        let mut count = 0;
        for entry in page.keys() {
            let arn = entry.key_arn().map(str::to_owned);
            let parsed = arn
                .as_deref()
                .and_then(|a| crate::model::KeyArn::parse(a).ok());
            let Some(key_id) = entry
                .key_id()
                .or(parsed.as_ref().map(|p| p.key_id))
                .map(str::to_owned)
            else {
                tracing::warn!(
                    region = %ctx.region,
                    "ListKeys returned an entry with neither id nor ARN"
                );
                continue;
            };
            let account = parsed
                .as_ref()
                .map(|p| p.account_id)
                .or(ctx.target.account_id.as_deref());
            if let Some(account) = account
                && !scope.accounts.is_empty()
                && !scope.accounts.iter().any(|a| a == account)
            {
                continue;
            }
            count += 1;
            // The receiver lives until this function returns (both are joined in read_region).
            let _ = sender.unbounded_send(Listed { key_id, arn });
        }
        ctx.progress.listed(count);
        match next_marker(page.truncated(), page.next_marker(), marker.as_deref()) {
            Some(next) => marker = Some(next),
            None => return Ok(()),
        }
    }
}

/// Every alias of the region, by target key id. AWS-created aliases without a key have no
/// `TargetKeyId` and are skipped.
async fn list_aliases(ctx: &RegionContext) -> Result<HashMap<String, Vec<String>>, KeyError> {
    let mut aliases: HashMap<String, Vec<String>> = HashMap::new();
    let mut marker: Option<String> = None;
    loop {
        ctx.limiter.wait(Op::ListAliases).await;
        let page = ctx
            .client
            .list_aliases()
            .limit(LIST_ALIASES_LIMIT)
            .set_marker(marker.clone())
            .send()
            .await
            .map_err(|err| key_error(operation::LIST_ALIASES, &err))?;
        for alias in page.aliases() {
            if let (Some(name), Some(target)) = (alias.alias_name(), alias.target_key_id()) {
                aliases
                    .entry(target.to_owned())
                    .or_default()
                    .push(name.to_owned());
            }
        }
        match next_marker(page.truncated(), page.next_marker(), marker.as_deref()) {
            Some(next) => marker = Some(next),
            None => break,
        }
    }
    for names in aliases.values_mut() {
        names.sort();
        names.dedup();
    }
    Ok(aliases)
}

/// Reads one key: always a record, with what could not be read in `errors`.
async fn read_key(ctx: &RegionContext, listed: Listed) -> KeyRecord {
    let mut record = describe(ctx, &listed).await;
    let policy = &ctx.request.policy;
    let needs = &ctx.request.needs;

    if rule::needs_rotation_status(&record, policy) {
        ctx.limiter.wait(Op::GetKeyRotationStatus).await;
        match ctx
            .client
            .get_key_rotation_status()
            .key_id(&listed.key_id)
            .send()
            .await
        {
            Ok(out) => record.rotation = Some(convert::rotation_from_status(&out)),
            // Never read as `false`: the rule turns this into an `error` finding.
            Err(err) => record
                .errors
                .push(key_error(operation::GET_KEY_ROTATION_STATUS, &err)),
        }
    }

    let wants_history = (needs.rotation_history && record.rotation.is_some())
        || (needs.imported_key_history && is_imported_customer_symmetric(&record));
    if wants_history {
        match list_rotations(ctx, &listed.key_id).await {
            Ok(Some(last)) => match &mut record.rotation {
                Some(rotation) => rotation.last_rotation = Some(last),
                // Imported keys have no GetKeyRotationStatus reading to hang the date on;
                // automatic rotation does not exist for them, so `enabled: false` is a fact.
                None => {
                    record.rotation = Some(Rotation {
                        enabled: false,
                        period_days: None,
                        next_rotation_date: None,
                        on_demand_rotation_start_date: None,
                        last_rotation: Some(last),
                    })
                }
            },
            Ok(None) => {}
            Err(error) => record.errors.push(error),
        }
    }

    let wants_tags = record.error_for(operation::DESCRIBE_KEY).is_none()
        && match needs.tags {
            TagNeed::Never => false,
            TagNeed::Always => true,
            TagNeed::WhenFailing => rule::would_fail(&record, policy, ctx.now),
        };
    if wants_tags {
        match list_tags(ctx, &listed.key_id).await {
            Ok(tags) => record.tags = Some(tags),
            Err(error) => record.errors.push(error),
        }
    }

    ctx.progress.read_one();
    record
}

/// DescribeKey, or a record with only the key's place and the error.
async fn describe(ctx: &RegionContext, listed: &Listed) -> KeyRecord {
    let account = ctx.target.account_id.as_deref();
    ctx.limiter.wait(Op::DescribeKey).await;
    let bare = || convert::bare_record(listed.arn.as_deref(), &listed.key_id, account, &ctx.region);
    match ctx
        .client
        .describe_key()
        .key_id(&listed.key_id)
        .send()
        .await
    {
        Ok(out) => match out.key_metadata() {
            Some(meta) => {
                convert::record_from_metadata(meta, listed.arn.as_deref(), account, &ctx.region)
            }
            None => {
                let mut record = bare();
                record.errors.push(KeyError {
                    operation: operation::DESCRIBE_KEY.to_owned(),
                    code: "MissingKeyMetadata".to_owned(),
                    message: "DescribeKey answered without KeyMetadata".to_owned(),
                });
                record
            }
        },
        Err(err) => {
            let mut record = bare();
            record.errors.push(key_error(operation::DESCRIBE_KEY, &err));
            record
        }
    }
}

/// Customer-managed symmetric keys with imported material: the only keys judged by the age of
/// their last on-demand rotation (rule row 5a).
fn is_imported_customer_symmetric(record: &KeyRecord) -> bool {
    record.error_for(operation::DESCRIBE_KEY).is_none()
        && record.key_manager == Some(KeyManager::Customer)
        && record.key_spec == Some(KeySpec::SymmetricDefault)
        && record.origin == Some(Origin::External)
}

/// The most recent completed rotation of a key (ListKeyRotations, every page).
async fn list_rotations(
    ctx: &RegionContext,
    key_id: &str,
) -> Result<Option<crate::model::LastRotation>, KeyError> {
    let mut entries: Vec<RotationsListEntry> = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        ctx.limiter.wait(Op::ListKeyRotations).await;
        let page = ctx
            .client
            .list_key_rotations()
            .key_id(key_id)
            .limit(LIST_KEY_ROTATIONS_LIMIT)
            .set_marker(marker.clone())
            .send()
            .await
            .map_err(|err| key_error(operation::LIST_KEY_ROTATIONS, &err))?;
        entries.extend_from_slice(page.rotations());
        match next_marker(page.truncated(), page.next_marker(), marker.as_deref()) {
            Some(next) => marker = Some(next),
            None => break,
        }
    }
    convert::last_rotation(&entries)
}

/// A key's tags (ListResourceTags, every page).
async fn list_tags(
    ctx: &RegionContext,
    key_id: &str,
) -> Result<BTreeMap<String, String>, KeyError> {
    let mut tags = BTreeMap::new();
    let mut marker: Option<String> = None;
    loop {
        ctx.limiter.wait(Op::ListResourceTags).await;
        let page = ctx
            .client
            .list_resource_tags()
            .key_id(key_id)
            .limit(LIST_RESOURCE_TAGS_LIMIT)
            .set_marker(marker.clone())
            .send()
            .await
            .map_err(|err| key_error(operation::LIST_RESOURCE_TAGS, &err))?;
        for tag in page.tags() {
            tags.insert(tag.tag_key().to_owned(), tag.tag_value().to_owned());
        }
        match next_marker(page.truncated(), page.next_marker(), marker.as_deref()) {
            Some(next) => marker = Some(next),
            None => break,
        }
    }
    Ok(tags)
}

#[cfg(test)]
mod tests {
    use super::next_marker;

    #[test]
    fn paging_follows_truncated_not_the_marker() {
        assert_eq!(next_marker(true, Some("m2"), Some("m1")), Some("m2".into()));
        assert_eq!(next_marker(false, Some("m2"), Some("m1")), None);
        assert_eq!(next_marker(true, None, None), None);
        assert_eq!(next_marker(true, Some(""), None), None);
        assert_eq!(next_marker(true, Some("m1"), Some("m1")), None);
    }
}
