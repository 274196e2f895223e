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
use super::limits::Limits;
use super::progress::Progress;
use super::read::{self, RegionContext, RegionResult};
use super::{AwsOptions, regions};
use crate::regions::check_name;
use crate::source::{Collected, KeySource, ReadRequest, ScopeError};
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
        let targets: Vec<&Target> = self
            .targets
            .iter()
            .filter(|t| in_scope(&t.account_id))
            .collect();

        let plans = futures::future::join_all(targets.iter().map(|target| {
            regions::plan(target, &wanted, self.options.all_regions, &self.home_region)
        }))
        .await;

        let progress = Arc::new(Progress::new(request.progress.clone()));
        let shared_request = Arc::new(request.clone());
        let mut collected = Collected::default();
        let mut pairs = Vec::new();
        for (target, plan) in targets.iter().zip(plans) {
            collected.scope_errors.extend(plan.errors);
            pairs.extend(plan.regions.into_iter().map(|region| (*target, region)));
        }
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

        let mut accounts = BTreeSet::new();
        let mut regions = BTreeSet::new();
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
        collected.records.sort_by(|a, b| {
            (&a.account_id, &a.region, &a.arn).cmp(&(&b.account_id, &b.region, &b.arn))
        });
        collected.scope_errors.sort_by(|a, b| {
            (&a.account_id, &a.region, &a.operation).cmp(&(&b.account_id, &b.region, &b.operation))
        });
        collected.accounts = accounts.into_iter().collect();
        collected.regions = regions.into_iter().collect();
        Ok(collected.finish(&request.scope))
    }
}
