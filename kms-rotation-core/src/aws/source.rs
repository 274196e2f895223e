//! The AWS key source: reads every account and region of a request, concurrently.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_kms::config::retry::RetryPartition;
use chrono::Utc;
use futures::StreamExt;

use super::call::{Breaker, ReadRetry};
use super::client::{self, Target, kms_client};
use super::identity;
use super::limits::Limits;
use super::organization;
use super::progress::Progress;
use super::read::{self, RegionContext, RegionResult};
use super::{AwsOptions, regions};
use crate::regions::check_name;
use crate::source::{Collected, KeySource, ReadRequest, Scope, ScopeError};
use crate::{Error, Result};

/// The AWS key source. Cheap to share (`Arc`); concurrent reads share its rate limiters.
#[derive(Debug)]
pub struct AwsSource {
    options: AwsOptions,
    /// The regions read when the request names none (empty with `all_regions` and no `regions`).
    regions: Vec<String>,
    /// The region used for calls that need one but are not about keys (STS, ListRegions).
    home_region: String,
    targets: Vec<Target>,
    /// The base configuration: the organisation's listings and the account the scan runs in.
    base: SdkConfig,
    limits: Limits,
}

impl AwsSource {
    /// Loads the default configuration chain (or `options.profile`) and prepares the clients.
    /// Options are checked first; no AWS call is made here (assumed roles are assumed on first
    /// use).
    pub async fn new(options: AwsOptions) -> Result<Self> {
        let options = options.with_external_id_file()?;
        // Safe to log: the external id's Debug is redacted.
        tracing::debug!(?options, "AWS options");
        options.validate()?;
        let sdk = client::load_base(&options).await;
        Self::build(sdk, options).await
    }

    /// Uses an embedding program's configuration (credentials, region, HTTP client...).
    /// `options`' retries, timeouts and endpoint are applied on top of it; `profile` cannot be
    /// used here (the configuration is already loaded).
    pub async fn from_sdk_config(sdk: SdkConfig, options: AwsOptions) -> Result<Self> {
        let options = options.with_external_id_file()?;
        if options.profile.is_some() {
            return Err(Error::invalid_input(
                "a profile cannot be applied to an existing SdkConfig: load it into the SdkConfig",
            )
            .with_field("profile"));
        }
        let sdk = client::adopt_base(sdk, &options);
        Self::build(sdk, options).await
    }

    async fn build(sdk: SdkConfig, options: AwsOptions) -> Result<Self> {
        let configured = sdk.region().map(|r| r.as_ref().to_owned());
        let regions = if !options.regions.is_empty() {
            dedup(&options.regions)
        } else if options.all_regions {
            Vec::new()
        } else {
            let region = configured.clone().ok_or_else(|| {
                Error::invalid_input(
                    "no region given and none configured: name regions, set all_regions, \
                     or set AWS_REGION or a profile region",
                )
                .with_field("regions")
            })?;
            check_name(&region).map_err(|e| e.with_field("AWS_REGION"))?;
            vec![region]
        };
        let home_region = configured
            .or_else(|| regions.first().cloned())
            .ok_or_else(|| {
                Error::invalid_input(
                    "all_regions needs a region to call ListRegions from: set AWS_REGION or a \
                     profile region, or name the regions",
                )
                .with_field("regions")
            })?;
        let targets = client::targets(&sdk, &options, Some(&home_region)).await;
        Ok(AwsSource {
            base: sdk,
            limits: Limits::new(options.rate_limits),
            options,
            regions,
            home_region,
            targets,
        })
    }

    /// The options it was made with.
    pub fn options(&self) -> &AwsOptions {
        &self.options
    }

    /// The accounts this source reads, where known before any call (assumed roles).
    pub fn known_accounts(&self) -> Vec<&str> {
        self.targets
            .iter()
            .filter_map(|t| t.account_id.as_deref())
            .collect()
    }

    /// The configuration of `account_id`'s credentials (an assumed role's, or the default
    /// credentials' when they are the only ones and their account is not known yet).
    pub fn sdk_config(&self, account_id: &str) -> Option<&SdkConfig> {
        let target = self
            .targets
            .iter()
            .find(|t| t.account_id.as_deref() == Some(account_id))
            .or_else(|| match self.targets.as_slice() {
                [only] if only.account_id.is_none() => Some(only),
                _ => None,
            })?;
        Some(&target.sdk)
    }

    /// A KMS client for `account_id` in `region`, in `retry_partition` when given (remediation
    /// passes its own so that its throttling does not slow reads). `None` when this source has
    /// no credentials for that account.
    pub fn kms_client(
        &self,
        account_id: &str,
        region: &str,
        retry_partition: Option<RetryPartition>,
    ) -> Option<aws_sdk_kms::Client> {
        self.sdk_config(account_id)
            .map(|sdk| kms_client(sdk, region, retry_partition))
    }

    /// Reads one account in one region in a task of its own. A panic in it (a bug) becomes a
    /// scope error for that region instead of taking the whole read down.
    async fn read_region(
        &self,
        target: &Target,
        region: String,
        request: &Arc<ReadRequest>,
        progress: &Arc<Progress>,
    ) -> RegionResult {
        let limiter = self.limits.region(target.label(), &region);
        let ctx = RegionContext {
            client: client::read_client(
                &target.sdk,
                &region,
                limiter.partition.clone(),
                &self.options,
            ),
            limiter,
            target: target.clone(),
            region: region.clone(),
            request: request.clone(),
            now: request.now.unwrap_or_else(Utc::now),
            progress: progress.clone(),
            concurrency: self.options.concurrency_per_region,
            retry: ReadRetry {
                throttled: self.options.backoff(),
                attempts: self.options.max_attempts,
            },
            breaker: Breaker::default(),
        };
        let task = AbortOnDrop(tokio::spawn(async move { read::read_region(&ctx).await }));
        match task.join().await {
            Ok(result) => result,
            Err(err) => RegionResult {
                region: region.clone(),
                records: Vec::new(),
                scope_error: Some(ScopeError {
                    account_id: target.account_id.clone(),
                    region: Some(region),
                    operation: read::LIST_KEYS.to_owned(),
                    code: "InternalError".to_owned(),
                    message: format!("reading the region failed: {err}"),
                }),
                accounts: BTreeSet::new(),
            },
        }
    }
}

/// A spawned task that is cancelled when its handle is dropped: a read whose caller gives up
/// (a timeout, a cancelled scan) must not go on calling AWS in the background.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> AbortOnDrop<T> {
    async fn join(mut self) -> std::result::Result<T, tokio::task::JoinError> {
        (&mut self.0).await
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn dedup(values: &[String]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    values
        .iter()
        .filter(|v| seen.insert(v.as_str()))
        .cloned()
        .collect()
}

#[async_trait]
impl KeySource for AwsSource {
    fn name(&self) -> &str {
        "aws"
    }

    /// Reads every account and region of the request's scope.
    ///
    /// The scope is checked first ([`Scope::validate`](crate::Scope::validate)), before any
    /// call. `scope.regions`, when set, replaces the configured regions; `scope.accounts`, when
    /// set, skips roles of other accounts before any call and drops keys of other accounts as
    /// they are listed, and an account in it that is never read (no role for it, or no key
    /// attributed to it) is a scope error.
    async fn read(&self, request: &ReadRequest) -> Result<Collected> {
        request.scope.validate()?;
        let wanted = if request.scope.regions.is_empty() {
            self.regions.clone()
        } else {
            dedup(&request.scope.regions)
        };
        let in_scope = |account: &Option<String>| match account {
            Some(account) => {
                request.scope.accounts.is_empty() || request.scope.accounts.contains(account)
            }
            // Unknown until listed: filtered key by key.
            None => true,
        };
        let reach = self.accounts(request).await?;
        let targets: Vec<&Target> = reach
            .targets
            .iter()
            .filter(|t| in_scope(&t.account_id))
            .collect();

        let plans = futures::future::join_all(targets.iter().map(|target| {
            regions::plan(target, &wanted, self.options.all_regions, &self.home_region)
        }))
        .await;

        let mut collected = Collected {
            scope_errors: reach.errors.clone(),
            ..Collected::default()
        };
        let mut accounts_read = BTreeSet::new();
        let mut pairs = Vec::new();
        let owns = |target: &Target, region: &str| {
            request
                .scope
                .owns(target.account_id.as_deref().unwrap_or_default(), region)
        };
        for (target, plan) in targets.iter().zip(plans) {
            let regions_known = plan.errors.iter().all(|e| e.region.is_some());
            // A region's error is the error of the shard the pair is in.
            collected.scope_errors.extend(
                plan.errors
                    .into_iter()
                    .filter(|e| e.region.as_deref().is_none_or(|r| owns(target, r))),
            );
            let before = pairs.len();
            pairs.extend(
                plan.regions
                    .into_iter()
                    .filter(|region| owns(target, region))
                    .map(|region| (*target, region)),
            );
            // An account with no pair in this shard is read, as far as this shard goes.
            if pairs.len() == before
                && regions_known
                && request.scope.shard.is_some()
                && let Some(account) = &target.account_id
            {
                accounts_read.insert(account.clone());
            }
        }
        let progress = Arc::new(Progress::new(request.progress.clone()));
        let shared_request = Arc::new(request.clone());
        // The futures are built before they are streamed: a closure inside the stream trips
        // the compiler's Send check for the boxed `async_trait` future.
        let reads: Vec<_> = pairs
            .into_iter()
            .map(|(target, region)| {
                let (request, progress) = (&shared_request, &progress);
                async move {
                    let result = self.read_region(target, region, request, progress).await;
                    (target, result)
                }
            })
            .collect();
        let results: Vec<(&Target, RegionResult)> = futures::stream::iter(reads)
            .buffer_unordered(self.options.max_concurrent_regions)
            .collect()
            .await;
        progress.finish();

        let mut accounts = accounts_read;
        let mut regions = BTreeSet::new();
        // Exactly the room needed: at this point the records are most of the memory in use, and
        // a list doubling as it grows would free (and leave the allocator holding) half of it.
        collected
            .records
            .reserve_exact(results.iter().map(|(_, r)| r.records.len()).sum());
        for (target, result) in results {
            accounts.extend(result.accounts.iter().cloned());
            tracing::debug!(
                account = target.label(),
                region = %result.region,
                keys = result.records.len(),
                "region read"
            );
            match result.scope_error {
                Some(error) => {
                    tracing::warn!(
                        account = target.label(),
                        region = %result.region,
                        code = %error.code,
                        "the region could not be listed: the report will be incomplete"
                    );
                    collected.scope_errors.push(error);
                }
                None => {
                    regions.insert(result.region.clone());
                    if let Some(account) = &target.account_id {
                        accounts.insert(account.clone());
                    }
                }
            }
            collected.records.extend(result.records);
        }
        // The default credentials' account is learnt from key ARNs; errors from regions that
        // listed nothing can be attributed to it once any region has named it.
        if let ([only], [account]) = (
            self.targets.as_slice(),
            accounts.iter().collect::<Vec<_>>().as_slice(),
        ) && only.account_id.is_none()
        {
            for error in &mut collected.scope_errors {
                error.account_id.get_or_insert_with(|| (*account).clone());
            }
        }
        // Unstable: a stable sort allocates half the list again, and records of the same key
        // end as one record (`finish`) whatever their order.
        collected.records.sort_unstable_by(|a, b| {
            (&a.account_id, &a.region, &a.arn).cmp(&(&b.account_id, &b.region, &b.arn))
        });
        collected.scope_errors.sort_by(|a, b| {
            (&a.account_id, &a.region, &a.operation).cmp(&(&b.account_id, &b.region, &b.operation))
        });
        collected.accounts = accounts.into_iter().collect();
        collected.regions = regions.into_iter().collect();
        // Every account listed is asked for: one never read is a scope error, as for one
        // named in the request.
        let listed = Scope {
            accounts: reach.asked.clone(),
            ..Scope::default()
        };
        Ok(collected.finish(&listed).finish(&request.scope))
    }
}

/// The accounts a read goes through, and the accounts that could not be reached at all.
struct Accounts {
    targets: Vec<Target>,
    errors: Vec<ScopeError>,
    /// Accounts the read must cover, besides those the request names: the organisation's.
    asked: Vec<String>,
}

impl AwsSource {
    /// The accounts of `request`: the organisation's when `organization` is set (listed now,
    /// every call failing closed), else the configured ones. With a shard, the default
    /// credentials' account is learnt first (GetCallerIdentity): the pairs of an account
    /// cannot be split before the account is known.
    async fn accounts(&self, request: &ReadRequest) -> Result<Accounts> {
        if self.options.organization {
            let caller = identity::caller(&self.base, &self.home_region).await?;
            let listed =
                organization::accounts(&self.base, &self.options, &self.home_region).await?;
            let wanted: Vec<String> = listed
                .into_iter()
                .filter(|a| request.scope.accounts.is_empty() || request.scope.accounts.contains(a))
                .collect();
            let (targets, errors) = organization::targets(
                &self.base,
                &self.options,
                &self.home_region,
                &caller,
                &wanted,
            )
            .await;
            return Ok(Accounts {
                targets,
                errors,
                asked: wanted,
            });
        }
        let mut targets = self.targets.clone();
        if request.scope.shard.is_some() {
            for target in targets.iter_mut().filter(|t| t.account_id.is_none()) {
                let caller = identity::caller(&target.sdk, &self.home_region).await?;
                target.account_id = Some(caller.account);
            }
        }
        Ok(Accounts {
            targets,
            errors: Vec::new(),
            asked: Vec::new(),
        })
    }
}
