//! Where key records come from. A [`KeySource`] reads the records of a scope; everything else
//! (evaluating, reporting) is built on that one call by [`KeySourceExt`].

mod cloudformation;
mod declared;
mod finish;
mod inventory;
mod inventory_reader;
mod location;
mod shard;
mod terraform;

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

pub use crate::memory::MemorySource;
pub use cloudformation::CloudFormationSource;
pub use finish::{ACCOUNT_NOT_READ, CONFLICTING_RECORDS, dedup_records};
pub use inventory::InventorySource;
pub use location::Location;
pub use shard::Shard;
pub use terraform::TerraformPlanSource;

use crate::model::KeyRecord;
pub use crate::model::ScopeError;
use crate::policy::Policy;
use crate::report::{Report, ReportScope};
use crate::{Error, Result};

/// Which accounts and regions to read. Empty lists mean "every one the source has".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// Account ids (12 digits) to read; empty: every account the source has.
    pub accounts: Vec<String>,
    /// Region names to read; empty: every region the source has.
    pub regions: Vec<String>,
    /// Only this part's account and region pairs ([`Shard::owns`]); `None`: all of them. An
    /// account is still read (and reported as read) when none of its pairs is this part's, so
    /// that no part reports another's accounts as not read.
    pub shard: Option<Shard>,
    /// Only these keys, by ARN; empty: every key. A source reads just these where it can (AWS:
    /// DescribeKey on each, no ListKeys), so re-checking a few keys does not read a region.
    pub keys: Vec<String>,
}

impl Scope {
    /// Checks every account id (12 digits) and region name, before any call: a mistyped account
    /// would otherwise match nothing and the scan would pass. The error names the field and the
    /// value.
    pub fn validate(&self) -> Result<()> {
        for (i, account) in self.accounts.iter().enumerate() {
            if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Error::invalid_input(format!(
                    "`{account}` is not an AWS account id (12 digits)"
                ))
                .with_field(format!("scope.accounts[{i}]")));
            }
        }
        for (i, region) in self.regions.iter().enumerate() {
            crate::regions::check_name(region)
                .map_err(|e| e.with_field(format!("scope.regions[{i}]")))?;
        }
        for (i, arn) in self.keys.iter().enumerate() {
            let key = crate::model::KeyArn::parse(arn)
                .map_err(|e| e.with_field(format!("scope.keys[{i}]")))?;
            let within =
                |list: &[String], value: &str| list.is_empty() || list.iter().any(|v| v == value);
            if !within(&self.accounts, key.account_id) || !within(&self.regions, key.region) {
                return Err(Error::invalid_input(format!(
                    "`{arn}` is outside the accounts and regions asked for"
                ))
                .with_field(format!("scope.keys[{i}]")));
            }
        }
        Ok(())
    }

    /// Whether `record`'s account and region are in the scope, and in its shard.
    pub fn includes(&self, record: &KeyRecord) -> bool {
        self.spans(record)
            && self.owns(&record.account_id, &record.region)
            && self.names(&record.arn)
    }

    /// Whether the key `arn` is among the scope's keys (every key when none are named).
    pub fn names(&self, arn: &str) -> bool {
        self.keys.is_empty() || self.keys.iter().any(|k| k == arn)
    }

    /// Whether `record`'s account and region are among the scope's, whatever the shard.
    pub fn spans(&self, record: &KeyRecord) -> bool {
        (self.accounts.is_empty() || self.accounts.contains(&record.account_id))
            && (self.regions.is_empty() || self.regions.contains(&record.region))
    }

    /// Whether `account` in `region` is this scope's shard's (every pair without a shard).
    pub fn owns(&self, account: &str, region: &str) -> bool {
        self.shard.is_none_or(|shard| shard.owns(account, region))
    }
}

/// When a source should read an optional fact: tags (one ListResourceTags call per key on AWS)
/// or exposure (GetKeyPolicy and ListGrants).
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Need {
    /// Do not read it.
    #[default]
    Never,
    /// Read it for keys that would fail: where an exception or the plan's priorities may use
    /// it.
    WhenFailing,
    /// Read it for every key.
    Always,
}
crate::wire::wire_names!(Need, "need");

/// The optional facts a read should collect. Each costs calls at organisation scale, so a source
/// collects only what is asked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needs {
    /// When to read tags.
    pub tags: Need,
    /// When to read exposure (key policy and grants).
    pub exposure: Need,
    /// Last rotation (date and type) for every key whose rotation status is read.
    pub rotation_history: bool,
    /// Last rotation for imported (EXTERNAL) keys, which the policy judges by age.
    pub imported_key_history: bool,
}

impl Needs {
    /// What `policy` needs to decide every key.
    pub fn for_policy(policy: &Policy) -> Self {
        Needs {
            tags: if policy.needs_tags() {
                Need::WhenFailing
            } else {
                Need::Never
            },
            exposure: Need::Never,
            rotation_history: false,
            imported_key_history: policy.imported_key_max_age_days.is_some(),
        }
    }
}

/// Progress of a read, reported as it goes (cumulative counts).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProgressUpdate {
    /// Keys found by listing so far.
    pub keys_listed: usize,
    /// Keys whose facts have all been read so far.
    pub keys_read: usize,
}

/// A progress callback. Called from the source's tasks: keep it quick.
pub type ProgressFn = Arc<dyn Fn(ProgressUpdate) + Send + Sync>;

/// A request to read key records.
#[derive(Clone, Default)]
pub struct ReadRequest {
    /// The accounts and regions to read.
    pub scope: Scope,
    /// The policy the records will be judged by: a source reads only what can change a verdict
    /// (see [`crate::rule::needs_rotation_status`] and [`crate::rule::would_fail`]).
    pub policy: Policy,
    /// The optional facts to collect.
    pub needs: Needs,
    /// The evaluation time, for decisions a source makes with the rule; the clock when unset.
    pub now: Option<DateTime<Utc>>,
    /// Told of the read's progress as it goes, if set.
    pub progress: Option<ProgressFn>,
}

impl Debug for ReadRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadRequest")
            .field("scope", &self.scope)
            .field("policy", &self.policy)
            .field("needs", &self.needs)
            .field("now", &self.now)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// What a read returns: the records, what could not be listed, and what was covered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Collected {
    /// One record per key read.
    pub records: Vec<KeyRecord>,
    /// Every account or region that could not be listed at all.
    pub scope_errors: Vec<ScopeError>,
    /// The accounts actually read.
    pub accounts: Vec<String>,
    /// The regions actually read.
    pub regions: Vec<String>,
}

impl Collected {
    /// Evaluates the records read for `request` and reports, returning the records too.
    pub(crate) fn into_report(
        self,
        source: &str,
        request: &ScanRequest,
        now: DateTime<Utc>,
    ) -> (Report, Vec<KeyRecord>) {
        let scope = ReportScope {
            source: source.to_owned(),
            accounts: self.accounts,
            regions: self.regions,
            shard: request.scope.shard,
        };
        let report = Report::evaluate(
            &self.records,
            request.policy.clone(),
            scope,
            self.scope_errors,
            now,
        );
        (report, self.records)
    }

    /// [`Collected::into_report`] when the records are not wanted afterwards: each record's
    /// evidence moves into its finding, so the scan never holds a key twice.
    fn into_report_only(self, source: &str, request: &ScanRequest, now: DateTime<Utc>) -> Report {
        let scope = ReportScope {
            source: source.to_owned(),
            accounts: self.accounts,
            regions: self.regions,
            shard: request.scope.shard,
        };
        Report::from_records(
            self.records,
            request.policy.clone(),
            scope,
            self.scope_errors,
            now,
        )
    }
}

/// A source of key records: AWS, an inventory file, memory.
///
/// Implementations keep per-key failures as data (`KeyRecord::errors`) and per-region or
/// per-account failures as [`ScopeError`]s; `Err` means the read as a whole could not start (an
/// invalid scope among others: see [`Scope::validate`]). The built-in sources return one record per
/// key and report accounts asked for but not read ([`Collected::finish`]); [`KeySourceExt::scan`]
/// applies the same to any source.
#[async_trait]
pub trait KeySource: Send + Sync + Debug {
    /// A short name for reports: `aws`, `inventory`, `memory`.
    fn name(&self) -> &str;

    /// Reads the records of `request.scope`, collecting what `request.needs` asks for.
    async fn read(&self, request: &ReadRequest) -> Result<Collected>;
}

#[async_trait]
impl<T: KeySource + ?Sized> KeySource for Arc<T> {
    fn name(&self) -> &str {
        (**self).name()
    }
    async fn read(&self, request: &ReadRequest) -> Result<Collected> {
        (**self).read(request).await
    }
}

#[async_trait]
impl<T: KeySource + ?Sized> KeySource for Box<T> {
    fn name(&self) -> &str {
        (**self).name()
    }
    async fn read(&self, request: &ReadRequest) -> Result<Collected> {
        (**self).read(request).await
    }
}

/// A scan: read a scope, evaluate every key against a policy, report.
#[derive(Clone)]
pub struct ScanRequest {
    /// The accounts and regions to read.
    pub scope: Scope,
    /// The policy every key is judged against.
    pub policy: Policy,
    /// The evaluation time; the clock when unset.
    pub now: Option<DateTime<Utc>>,
    /// Read tags for every key, not only where they can decide something.
    pub all_tags: bool,
    /// Read the last rotation of every key (ListKeyRotations; its quota is only 100/s).
    pub rotation_history: bool,
    /// When to read who beyond the account may use a key (GetKeyPolicy and ListGrants):
    /// by default for keys that would fail, which the plan orders by it.
    pub exposure: Need,
    /// Told of the read's progress as it goes, if set.
    pub progress: Option<ProgressFn>,
}

impl Default for ScanRequest {
    fn default() -> Self {
        ScanRequest {
            scope: Scope::default(),
            policy: Policy::default(),
            now: None,
            all_tags: false,
            rotation_history: false,
            exposure: Need::WhenFailing,
            progress: None,
        }
    }
}

impl Debug for ScanRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScanRequest")
            .field("scope", &self.scope)
            .field("policy", &self.policy)
            .field("now", &self.now)
            .field("all_tags", &self.all_tags)
            .field("rotation_history", &self.rotation_history)
            .field("exposure", &self.exposure)
            .finish_non_exhaustive()
    }
}

impl ScanRequest {
    /// What the source must collect for this scan.
    pub fn read_request(&self) -> ReadRequest {
        let mut needs = Needs::for_policy(&self.policy);
        // The tags of failing keys decide the plan's default priority (production first).
        needs.tags = if self.all_tags {
            Need::Always
        } else {
            needs.tags.max(Need::WhenFailing)
        };
        needs.exposure = self.exposure;
        needs.rotation_history |= self.rotation_history;
        ReadRequest {
            scope: self.scope.clone(),
            policy: self.policy.clone(),
            needs,
            now: self.now,
            progress: self.progress.clone(),
        }
    }
}

/// Conveniences over any [`KeySource`].
#[async_trait]
pub trait KeySourceExt: KeySource {
    /// Reads, evaluates and reports. The policy is validated first, before any call.
    async fn scan(&self, request: &ScanRequest) -> Result<Report> {
        let (collected, now) = read_for_scan(self, request).await?;
        Ok(collected.into_report_only(self.name(), request, now))
    }

    /// Like [`KeySourceExt::scan`], also returning the records read, so that they can be saved
    /// as an inventory and the same findings reproduced offline.
    async fn scan_with_records(&self, request: &ScanRequest) -> Result<(Report, Vec<KeyRecord>)> {
        let (collected, now) = read_for_scan(self, request).await?;
        Ok(collected.into_report(self.name(), request, now))
    }

    /// Reads every record the source has, with no optional facts.
    async fn read_all(&self) -> Result<Collected> {
        self.read(&ReadRequest::default()).await
    }
}

impl<T: KeySource + ?Sized> KeySourceExt for T {}

/// What a scan reads: the request checked, its records read with every read's guarantees
/// ([`Collected::finish`]), and the evaluation time.
async fn read_for_scan<S: KeySource + ?Sized>(
    source: &S,
    request: &ScanRequest,
) -> Result<(Collected, DateTime<Utc>)> {
    request.policy.validate()?;
    request.scope.validate()?;
    let now = request.now.unwrap_or_else(Utc::now);
    let read = ReadRequest {
        now: Some(now),
        ..request.read_request()
    };
    Ok((source.read(&read).await?.finish(&request.scope), now))
}
