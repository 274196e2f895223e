//! Reading one account in one region.
//!
//! ListKeys feeds a stream of keys that are read as they are listed (bounded concurrency), while
//! one unfiltered ListAliases runs alongside and is joined on `TargetKeyId` at the end. Per key,
//! only the calls that can change the key's verdict are made: DescribeKey always (by the id that
//! ListKeys returned, never an alias: an unused predefined AWS alias would *create* its key),
//! then GetKeyRotationStatus, ListKeyRotations and ListResourceTags only where the rule or the
//! request needs them. Every call saved is time saved at organisation scale.
//!
//! Paging is done by hand: the SDK paginator ignores `Truncated` (`kms-api.md` §5). A page that
//! says `Truncated` without a new marker ends the list as a failure, never as "done": for ListKeys
//! that is a scope error (the region is incomplete), for the other lists an error on the keys it
//! concerns.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use aws_sdk_kms::types::RotationsListEntry;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use futures::channel::mpsc::UnboundedSender;

use super::call::{Breaker, CallContext, ReadRetry, call};
use super::client::Target;
use super::convert;
use super::errors::{REPEATED_MARKER, TRUNCATED_WITHOUT_MARKER, UNIDENTIFIED_KEY};
use super::limits::{Op, RegionLimiter};
use super::permissions::Action;
use super::progress::Progress;
use crate::exposure::{Exposure, GrantFact};
use crate::model::{KeyError, KeyManager, KeyRecord, KeySpec, Origin, Rotation, Tags, operation};
use crate::rule;
use crate::source::{Need, ReadRequest, ScopeError};

/// The operation name of a failed listing in scope errors.
pub(crate) const LIST_KEYS: &str = Action::ListKeys.operation();

/// Largest pages each list operation accepts (`kms-api.md` §1.11): fewer round trips.
const LIST_KEYS_LIMIT: i32 = 1000;
const LIST_ALIASES_LIMIT: i32 = 100;
const LIST_KEY_ROTATIONS_LIMIT: i32 = 1000;
const LIST_RESOURCE_TAGS_LIMIT: i32 = 50;
const LIST_GRANTS_LIMIT: i32 = 100;

/// The only key policy name KMS has.
const KEY_POLICY_NAME: &str = "default";

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
    pub(crate) retry: ReadRetry,
    /// This region read's: a region that stops answering is not called again.
    pub(crate) breaker: Breaker,
}

impl RegionContext {
    fn calls(&self) -> CallContext<'_> {
        CallContext {
            limiter: &self.limiter,
            breaker: &self.breaker,
            retry: self.retry,
        }
    }
}

/// What one region read produced.
#[derive(Debug)]
pub(crate) struct RegionResult {
    pub(crate) region: String,
    pub(crate) records: Vec<KeyRecord>,
    /// Set when ListKeys failed or the region stopped answering; `records` then holds every key
    /// listed before that (each with its own errors for what could not be read).
    pub(crate) scope_error: Option<ScopeError>,
    /// The accounts the listed key ARNs belong to.
    pub(crate) accounts: BTreeSet<String>,
}

/// A key as ListKeys returned it.
#[derive(Debug)]
struct Listed {
    key_id: String,
    arn: Option<String>,
    /// Set for an entry with neither id nor ARN: the key exists but cannot be read.
    unidentified: Option<KeyError>,
}

/// Follows one list's markers. Only `Truncated` says there is more; a truncated page must carry a
/// marker this list has not sent before (any earlier page, not only the last: a cycle can be
/// longer than one page), or the list cannot be read to its end.
#[derive(Debug)]
struct Pager {
    operation: &'static str,
    marker: Option<String>,
    sent: HashSet<String>,
    pages: usize,
}

impl Pager {
    fn new(operation: &'static str) -> Self {
        Pager {
            operation,
            marker: None,
            sent: HashSet::new(),
            pages: 0,
        }
    }

    /// The marker for the next request (none for the first page).
    fn marker(&self) -> Option<String> {
        self.marker.clone()
    }

    /// Takes in a page's `Truncated` and `NextMarker`: `Ok(true)` when there is another page to
    /// read, `Ok(false)` at the end, an error when the list cannot be read to its end.
    fn advance(&mut self, truncated: bool, next: Option<&str>) -> Result<bool, KeyError> {
        self.pages += 1;
        if !truncated {
            return Ok(false);
        }
        let failure = |code: &str, message: String| KeyError {
            operation: self.operation.to_owned(),
            code: code.to_owned(),
            message,
        };
        match next.filter(|n| !n.is_empty()) {
            None => Err(failure(
                TRUNCATED_WITHOUT_MARKER,
                format!(
                    "page {} said Truncated but gave no NextMarker: the rest of the list cannot \
                     be read",
                    self.pages
                ),
            )),
            Some(next) if self.sent.contains(next) => Err(failure(
                REPEATED_MARKER,
                format!(
                    "page {} gave NextMarker `{next}`, which was already followed: the list \
                     loops",
                    self.pages
                ),
            )),
            Some(next) => {
                self.sent.insert(next.to_owned());
                self.marker = Some(next.to_owned());
                Ok(true)
            }
        }
    }
}

pub(crate) async fn read_region(ctx: &RegionContext) -> RegionResult {
    let (sender, receiver) = futures::channel::mpsc::unbounded();
    let listing = async move {
        // The sender is dropped when listing ends, which ends the stream of keys to read.
        let sender = sender;
        if ctx.request.scope.keys.is_empty() {
            list_keys(ctx, &sender).await
        } else {
            send_given_keys(ctx, &sender);
            Ok(())
        }
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
    // The listing's own failure says most; a region that stopped answering after listing is
    // incomplete too, since its keys were not read.
    let failure = listing.err().or_else(|| {
        ctx.breaker.opened_by().map(|operation| KeyError {
            operation: operation.to_owned(),
            code: super::call::REGION_UNRESPONSIVE.to_owned(),
            message: Breaker::message(),
        })
    });
    let scope_error = failure.map(|error| ScopeError {
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

/// The scope's keys of this region (and account, when known) into `sender`, by ARN: each is
/// read as if listed, without listing the region. A key that no longer exists is a DescribeKey
/// error on its finding, never a silent absence.
fn send_given_keys(ctx: &RegionContext, sender: &UnboundedSender<Listed>) {
    let mut count = 0;
    for arn in &ctx.request.scope.keys {
        let Ok(key) = crate::model::KeyArn::parse(arn) else {
            continue; // Scope::validate refused it before any read.
        };
        let ours = key.region == ctx.region
            && (ctx.target.account_id.as_deref()).is_none_or(|a| a == key.account_id);
        if ours {
            count += 1;
            // Every call takes the ARN, which also names a key of another account.
            let _ = sender.unbounded_send(Listed {
                key_id: arn.clone(),
                arn: Some(arn.clone()),
                unidentified: None,
            });
        }
    }
    ctx.progress.listed(count);
}

/// Lists every key of the region into `sender`, once each, keeping only the accounts in scope.
async fn list_keys(ctx: &RegionContext, sender: &UnboundedSender<Listed>) -> Result<(), KeyError> {
    let scope = &ctx.request.scope;
    let mut pager = Pager::new(LIST_KEYS);
    // Key ids already sent: a key listed twice (a page repeated by the service) is read once.
    let mut listed: HashSet<String> = HashSet::new();
    let mut unidentified = 0;
    loop {
        let marker = pager.marker();
        let page = call(&ctx.calls(), Op::ListKeys, || {
            ctx.client
                .list_keys()
                .limit(LIST_KEYS_LIMIT)
                .set_marker(marker.clone())
                .send()
        })
        .await?;
        let mut count = 0;
        for entry in page.keys() {
            let arn = entry.key_arn().filter(|a| !a.is_empty()).map(str::to_owned);
            let parsed = arn
                .as_deref()
                .and_then(|a| crate::model::KeyArn::parse(a).ok());
            let key_id = entry
                .key_id()
                .filter(|id| !id.is_empty())
                .or(parsed.as_ref().map(|p| p.key_id))
                .map(str::to_owned);
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
            let listed_key = match key_id {
                Some(key_id) if !listed.insert(key_id.clone()) => continue,
                Some(key_id) => Listed {
                    key_id,
                    arn,
                    unidentified: None,
                },
                None => {
                    // Still a key of this region: it gets its finding (an error), not a log line.
                    unidentified += 1;
                    Listed {
                        key_id: format!("unidentified-{unidentified}"),
                        arn: None,
                        unidentified: Some(KeyError {
                            operation: crate::model::operation::DESCRIBE_KEY.to_owned(),
                            code: UNIDENTIFIED_KEY.to_owned(),
                            message: format!(
                                "ListKeys page {} listed a key with neither KeyId nor KeyArn: it \
                                 cannot be read or judged",
                                pager.pages + 1
                            ),
                        }),
                    }
                }
            };
            count += 1;
            // The receiver lives until this function returns (both are joined in read_region).
            let _ = sender.unbounded_send(listed_key);
        }
        ctx.progress.listed(count);
        if !pager.advance(page.truncated(), page.next_marker())? {
            return Ok(());
        }
    }
}

/// Every alias of the region, by target key id. AWS-created aliases without a key have no
/// `TargetKeyId` and are skipped.
async fn list_aliases(ctx: &RegionContext) -> Result<HashMap<String, Vec<String>>, KeyError> {
    let mut aliases: HashMap<String, Vec<String>> = HashMap::new();
    let mut pager = Pager::new(operation::LIST_ALIASES);
    loop {
        let marker = pager.marker();
        let page = call(&ctx.calls(), Op::ListAliases, || {
            ctx.client
                .list_aliases()
                .limit(LIST_ALIASES_LIMIT)
                .set_marker(marker.clone())
                .send()
        })
        .await?;
        for alias in page.aliases() {
            if let (Some(name), Some(target)) = (alias.alias_name(), alias.target_key_id()) {
                aliases
                    .entry(target.to_owned())
                    .or_default()
                    .push(name.to_owned());
            }
        }
        if !pager.advance(page.truncated(), page.next_marker())? {
            break;
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
    if let Some(error) = listed.unidentified {
        let account = ctx.target.account_id.as_deref();
        let mut record = convert::bare_record(None, &listed.key_id, account, &ctx.region);
        record.errors.push(error);
        ctx.progress.read_one();
        return record;
    }
    let mut record = describe(ctx, &listed).await;
    let policy = &ctx.request.policy;
    let needs = &ctx.request.needs;

    if rule::needs_rotation_status(&record, policy) {
        let status = call(&ctx.calls(), Op::GetKeyRotationStatus, || {
            ctx.client
                .get_key_rotation_status()
                .key_id(&listed.key_id)
                .send()
        })
        .await;
        match status {
            Ok(out) => record.rotation = Some(convert::rotation_from_status(&out)),
            // Never read as `false`: the rule turns this into an `error` finding.
            Err(error) => record.errors.push(error),
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

    let wants_tags = wants(needs.tags, &record, ctx);
    if wants_tags {
        match list_tags(ctx, &listed.key_id).await {
            Ok(tags) => record.tags = Some(tags),
            Err(error) => record.errors.push(error),
        }
    }

    if wants(needs.exposure, &record, ctx) {
        record.exposure = Some(Box::new(exposure(ctx, &listed.key_id, &mut record).await));
    }

    ctx.progress.read_one();
    record
}

/// Whether `need` asks for an optional fact of this key (never of a key DescribeKey failed on).
fn wants(need: Need, record: &KeyRecord, ctx: &RegionContext) -> bool {
    record.error_for(operation::DESCRIBE_KEY).is_none()
        && match need {
            Need::Never => false,
            Need::Always => true,
            Need::WhenFailing => rule::would_fail(record, &ctx.request.policy, ctx.now),
        }
}

/// Who beyond the account may use the key: its policy, then its grants where they can change
/// the answer (an `account` policy). A failed read is also on the record's `errors`, like any
/// other.
async fn exposure(ctx: &RegionContext, key_id: &str, record: &mut KeyRecord) -> Exposure {
    let policy = call(&ctx.calls(), Op::GetKeyPolicy, || {
        ctx.client
            .get_key_policy()
            .key_id(key_id)
            .policy_name(KEY_POLICY_NAME)
            .send()
    })
    .await
    .and_then(|out| {
        out.policy.ok_or_else(|| KeyError {
            operation: operation::GET_KEY_POLICY.to_owned(),
            code: "MissingPolicy".to_owned(),
            message: "GetKeyPolicy answered without Policy".to_owned(),
        })
    });
    if let Err(error) = &policy {
        record.errors.push(error.clone());
    }
    let account = record.account_id.clone();
    let exposure = Exposure::from_policy(&account, policy.as_deref());
    if !exposure.grants_can_change() {
        return exposure;
    }
    let grants = list_grants(ctx, key_id).await;
    if let Err(error) = &grants {
        record.errors.push(error.clone());
    }
    exposure.with_grants(&account, grants.as_deref())
}

/// A key's grants (ListGrants, every page): a partial list could hide another account's grant.
async fn list_grants(ctx: &RegionContext, key_id: &str) -> Result<Vec<GrantFact>, KeyError> {
    let mut grants = Vec::new();
    let mut pager = Pager::new(operation::LIST_GRANTS);
    loop {
        let marker = pager.marker();
        let page = call(&ctx.calls(), Op::ListGrants, || {
            ctx.client
                .list_grants()
                .key_id(key_id)
                .limit(LIST_GRANTS_LIMIT)
                .set_marker(marker.clone())
                .send()
        })
        .await?;
        grants.extend(page.grants().iter().map(|grant| GrantFact {
            grant_id: grant.grant_id().unwrap_or_default().to_owned(),
            grantee_principal: grant.grantee_principal().map(str::to_owned),
        }));
        if !pager.advance(page.truncated(), page.next_marker())? {
            return Ok(grants);
        }
    }
}

/// DescribeKey, or a record with only the key's place and the error.
async fn describe(ctx: &RegionContext, listed: &Listed) -> KeyRecord {
    let account = ctx.target.account_id.as_deref();
    let bare = || convert::bare_record(listed.arn.as_deref(), &listed.key_id, account, &ctx.region);
    let described = call(&ctx.calls(), Op::DescribeKey, || {
        ctx.client.describe_key().key_id(&listed.key_id).send()
    })
    .await;
    match described {
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
        Err(error) => {
            let mut record = bare();
            record.errors.push(error);
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
    let mut pager = Pager::new(operation::LIST_KEY_ROTATIONS);
    loop {
        let marker = pager.marker();
        let page = call(&ctx.calls(), Op::ListKeyRotations, || {
            ctx.client
                .list_key_rotations()
                .key_id(key_id)
                .limit(LIST_KEY_ROTATIONS_LIMIT)
                .set_marker(marker.clone())
                .send()
        })
        .await?;
        entries.extend_from_slice(page.rotations());
        // A partial history could hide the latest rotation: an error, not a shorter list.
        if !pager.advance(page.truncated(), page.next_marker())? {
            break;
        }
    }
    convert::last_rotation(&entries)
}

/// A key's tags (ListResourceTags, every page).
async fn list_tags(ctx: &RegionContext, key_id: &str) -> Result<Tags, KeyError> {
    let mut tags = Vec::new();
    let mut pager = Pager::new(operation::LIST_RESOURCE_TAGS);
    loop {
        let marker = pager.marker();
        let page = call(&ctx.calls(), Op::ListResourceTags, || {
            ctx.client
                .list_resource_tags()
                .key_id(key_id)
                .limit(LIST_RESOURCE_TAGS_LIMIT)
                .set_marker(marker.clone())
                .send()
        })
        .await?;
        for tag in page.tags() {
            tags.push((tag.tag_key().to_owned(), tag.tag_value().to_owned()));
        }
        // Some tags are not "no such tag": the key's tags are unread.
        if !pager.advance(page.truncated(), page.next_marker())? {
            break;
        }
    }
    Ok(tags.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_follows_truncated_with_new_markers_only() {
        let mut pager = Pager::new(LIST_KEYS);
        assert_eq!(pager.marker(), None);
        assert_eq!(pager.advance(true, Some("m1")), Ok(true));
        assert_eq!(pager.marker().as_deref(), Some("m1"));
        assert_eq!(pager.advance(true, Some("m2")), Ok(true));
        // A marker without `Truncated` is not followed.
        assert_eq!(pager.advance(false, Some("m3")), Ok(false));
    }

    #[test]
    fn truncated_without_a_marker_is_an_error_not_the_end() {
        for empty in [None, Some("")] {
            let mut pager = Pager::new(LIST_KEYS);
            assert_eq!(pager.advance(true, Some("m1")), Ok(true));
            let err = pager.advance(true, empty).unwrap_err();
            assert_eq!(err.code, TRUNCATED_WITHOUT_MARKER);
            assert_eq!(err.operation, LIST_KEYS);
            assert!(err.message.contains("page 2"), "{}", err.message);
        }
    }

    #[test]
    fn any_marker_already_followed_is_a_loop() {
        let mut pager = Pager::new(operation::LIST_ALIASES);
        assert_eq!(pager.advance(true, Some("m1")), Ok(true));
        assert_eq!(pager.advance(true, Some("m2")), Ok(true));
        assert_eq!(pager.advance(true, Some("m3")), Ok(true));
        // Not the previous marker: one two pages back.
        let err = pager.advance(true, Some("m1")).unwrap_err();
        assert_eq!(err.code, REPEATED_MARKER);
        assert_eq!(err.operation, operation::LIST_ALIASES);
    }
}
