//! The AWS source: reads key records from AWS KMS with `aws-sdk-kms`.
//!
//! One read covers every account (the default credentials' own, or one assumed role per account)
//! times every region, concurrently. Within a region, keys are read as they are listed, at most
//! [`AwsOptions::concurrency_per_region`] at a time and under client-side [`RateLimits`] per
//! account, region and operation; the SDK's retries and a time budget
//! ([`AwsOptions::throttling_budget`]) absorb what throttling remains. Per-key failures stay on
//! the record (`errors`); a region that cannot be listed to its end (a failure, a truncated page
//! without a marker, a marker cycle) or that stops answering becomes a
//! [`ScopeError`](crate::source::ScopeError) with the keys read so far kept; and nothing short of
//! invalid options or an invalid scope fails the whole read.
//!
//! ```no_run
//! use kms_rotation::source::aws::{AwsOptions, AwsSource};
//! use kms_rotation::{KeySourceExt, ScanRequest};
//! # async fn run() -> kms_rotation::Result<()> {
//! let source = AwsSource::new(AwsOptions {
//!     regions: vec!["eu-west-1".into(), "us-east-1".into()],
//!     ..AwsOptions::default()
//! })
//! .await?;
//! let report = source.scan(&ScanRequest::default()).await?;
//! println!("compliant: {}", report.is_compliant());
//! # Ok(())
//! # }
//! ```

pub(crate) mod call;
mod client;
mod convert;
pub mod errors;
mod external_id;
mod limits;
mod progress;
mod read;
mod regions;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_kms::config::retry::RetryPartition;
use chrono::Utc;
use futures::StreamExt;
use serde::Deserialize;

pub use call::REGION_UNRESPONSIVE;
pub use client::kms_client;
pub use external_id::ExternalId;
pub use limits::RateLimits;
pub use regions::REGION_NOT_ENABLED;

use self::call::{Backoff, Breaker, ReadRetry};
use self::client::Target;
use self::limits::Limits;
use self::progress::Progress;
use self::read::{RegionContext, RegionResult};
use super::{Collected, KeySource, ReadRequest, ScopeError};
use crate::regions::check_name;
use crate::{Error, Result};

/// How the AWS source reaches AWS. Every field has a usable default; all are checked by
/// [`AwsSource::new`] before any call.
///
/// It is also the AWS part of every operation's options ([`crate::ops`]): deserialized from the
/// same snake_case names on every surface (camelCase accepted for JavaScript), durations in
/// milliseconds (`*_ms`), rate limits as `OPERATION=RATE` strings.
///
/// Its `Debug` output is safe to log: the external id prints as `ExternalId(<redacted>)`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct AwsOptions {
    /// Regions to read. Empty: every enabled region with `all_regions`, else the region of the
    /// default configuration (`AWS_REGION`, the profile). Set from an operation's `regions`.
    #[serde(skip)]
    pub regions: Vec<String>,
    /// Read every region enabled for each account (Account `ListRegions`, statuses `ENABLED` and
    /// `ENABLED_BY_DEFAULT`; needs `account:ListRegions`). With `regions` also set, only those
    /// are read, and any that is not enabled is reported as a scope error
    /// ([`REGION_NOT_ENABLED`]). Without it, named regions are read as given; one that is not
    /// enabled fails ListKeys and is reported as a scope error too.
    #[serde(alias = "allRegions")]
    pub all_regions: bool,
    /// A named profile from the shared config files instead of the default chain.
    pub profile: Option<String>,
    /// Roles to assume, one account each (the account is taken from the ARN). Empty: the
    /// default credentials' own account.
    #[serde(alias = "roleArns")]
    pub role_arns: Vec<String>,
    /// The external id the roles require, if any. A secret: never printed (see [`ExternalId`]).
    #[serde(alias = "externalId")]
    #[schemars(with = "Option<String>")]
    pub external_id: Option<ExternalId>,
    /// Read the external id from this file instead (its trailing line break dropped), e.g. a
    /// mounted secret. Not together with `external_id`.
    #[serde(alias = "externalIdFile")]
    pub external_id_file: Option<PathBuf>,
    /// The role session name, visible in the target accounts' CloudTrail.
    #[serde(alias = "sessionName")]
    pub session_name: String,
    /// Send every AWS call (KMS, STS, Account) to this URL: for emulators. `AWS_ENDPOINT_URL`
    /// and `AWS_ENDPOINT_URL_KMS` are honoured too when this is unset.
    #[serde(alias = "endpointUrl")]
    pub endpoint_url: Option<String>,
    /// Attempts per call, retries included. At least 1. Throttling is retried past this, within
    /// `throttling_budget`. (Reads use the SDK's standard retry mode, other calls adaptive.)
    #[serde(alias = "maxAttempts")]
    pub max_attempts: u32,
    /// The first retry's backoff ceiling; `None`: the SDK's (1 s). Throttled calls back off from
    /// it too, doubling up to 20 s, with full jitter.
    #[serde(
        rename = "initial_backoff_ms",
        alias = "initialBackoffMs",
        deserialize_with = "crate::ops::millis::option::deserialize"
    )]
    #[schemars(with = "Option<u64>")]
    pub initial_backoff: Option<Duration>,
    /// How long one call may go on being retried while it is throttled, from its first attempt.
    /// A throttle storm (other callers using the account's quota) then slows the scan down
    /// instead of leaving keys as `error`. Other failures are retried `max_attempts` times only.
    #[serde(
        rename = "throttling_budget_ms",
        alias = "throttlingBudgetMs",
        deserialize_with = "crate::ops::millis::deserialize"
    )]
    #[schemars(with = "u64")]
    pub throttling_budget: Duration,
    /// Keys read at once per account and region.
    #[serde(alias = "concurrencyPerRegion")]
    pub concurrency_per_region: usize,
    /// Account-region pairs read at once.
    #[serde(alias = "maxConcurrentRegions")]
    pub max_concurrent_regions: usize,
    /// Client-side request rates per account, region and operation, as `OPERATION=RATE`
    /// strings (`describe-key=1000`); the others keep their defaults.
    #[serde(rename = "rates", deserialize_with = "limits::syntax::deserialize")]
    #[schemars(with = "Vec<String>")]
    pub rate_limits: RateLimits,
    /// Connection timeout; `None`: the SDK's (3.1 s).
    #[serde(
        rename = "connect_timeout_ms",
        alias = "connectTimeoutMs",
        deserialize_with = "crate::ops::millis::option::deserialize"
    )]
    #[schemars(with = "Option<u64>")]
    pub connect_timeout: Option<Duration>,
    /// Limit on one call including its retries; `None`: no limit.
    #[serde(
        rename = "operation_timeout_ms",
        alias = "operationTimeoutMs",
        deserialize_with = "crate::ops::millis::option::deserialize"
    )]
    #[schemars(with = "Option<u64>")]
    pub operation_timeout: Option<Duration>,
    /// Limit on one attempt of a call; `None`: no limit.
    #[serde(
        rename = "operation_attempt_timeout_ms",
        alias = "operationAttemptTimeoutMs",
        deserialize_with = "crate::ops::millis::option::deserialize"
    )]
    #[schemars(with = "Option<u64>")]
    pub operation_attempt_timeout: Option<Duration>,
}

impl Default for AwsOptions {
    fn default() -> Self {
        AwsOptions {
            regions: Vec::new(),
            all_regions: false,
            profile: None,
            role_arns: Vec::new(),
            external_id: None,
            external_id_file: None,
            session_name: "kms-rotation".to_owned(),
            endpoint_url: None,
            max_attempts: 5,
            initial_backoff: None,
            throttling_budget: DEFAULT_THROTTLING_BUDGET,
            concurrency_per_region: 64,
            max_concurrent_regions: 32,
            rate_limits: RateLimits::default(),
            connect_timeout: None,
            operation_timeout: Some(Duration::from_secs(120)),
            operation_attempt_timeout: Some(Duration::from_secs(20)),
        }
    }
}

/// The SDK's first backoff ceiling, used for throttled calls when `initial_backoff` is unset.
const DEFAULT_INITIAL_BACKOFF: Duration = Duration::from_secs(1);

/// [`AwsOptions::throttling_budget`]'s default: long enough to outlast a burst of other callers'
/// traffic, short enough that a quota exhausted for good ends the scan within minutes.
pub const DEFAULT_THROTTLING_BUDGET: Duration = Duration::from_secs(300);

impl AwsOptions {
    /// Checks every option; the error names the field and the value, except for the external
    /// id, whose value no message repeats.
    pub fn validate(&self) -> Result<()> {
        for (i, region) in self.regions.iter().enumerate() {
            check_name(region).map_err(|e| e.with_field(format!("regions[{i}]")))?;
        }
        let mut accounts = BTreeSet::new();
        for (i, role) in self.role_arns.iter().enumerate() {
            let account = role_account(role).ok_or_else(|| {
                Error::invalid_input(format!(
                    "`{role}` is not an IAM role ARN; expected arn:aws:iam::ACCOUNT:role/NAME"
                ))
                .with_field(format!("role_arns[{i}]"))
            })?;
            if !accounts.insert(account) {
                return Err(Error::invalid_input(format!(
                    "a second role for account {account} (`{role}`): give one role per account"
                ))
                .with_field(format!("role_arns[{i}]")));
            }
        }
        if let Some(external_id) = &self.external_id {
            external_id.check()?;
            if self.external_id_file.is_some() {
                return Err(Error::invalid_input(
                    "the external id is given twice, as a value and as a file: give one",
                )
                .with_field("external_id_file"));
            }
        }
        check_chars(&self.session_name, 2, 64, "+=,.@-").map_err(|why| {
            Error::invalid_input(format!("`{}` {why}", self.session_name))
                .with_field("session_name")
        })?;
        if let Some(url) = &self.endpoint_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(
                Error::invalid_input(format!("`{url}` is not an http:// or https:// URL"))
                    .with_field("endpoint_url"),
            );
        }
        if self.max_attempts == 0 {
            return Err(Error::invalid_input("must be at least 1").with_field("max_attempts"));
        }
        if self.concurrency_per_region == 0 {
            return Err(
                Error::invalid_input("must be at least 1").with_field("concurrency_per_region")
            );
        }
        if self.max_concurrent_regions == 0 {
            return Err(
                Error::invalid_input("must be at least 1").with_field("max_concurrent_regions")
            );
        }
        for (name, timeout) in [
            ("connect_timeout", self.connect_timeout),
            ("operation_timeout", self.operation_timeout),
            ("operation_attempt_timeout", self.operation_attempt_timeout),
            ("initial_backoff", self.initial_backoff),
            ("throttling_budget", Some(self.throttling_budget)),
        ] {
            if timeout.is_some_and(|t| t.is_zero()) {
                return Err(Error::invalid_input("must be more than zero").with_field(name));
            }
        }
        self.rate_limits.validate()
    }
}

impl AwsOptions {
    /// The options with `external_id_file` read into `external_id` (checked first, so that a
    /// file given next to a value is refused before it is read).
    pub fn with_external_id_file(mut self) -> Result<Self> {
        self.validate()?;
        if let Some(path) = self.external_id_file.take() {
            self.external_id = Some(ExternalId::from_file(path)?);
        }
        Ok(self)
    }

    /// How a call that may pass later is retried past the SDK's attempts: reads retry throttling
    /// this way, remediation every retryable failure.
    pub(crate) fn backoff(&self) -> Backoff {
        Backoff {
            initial: self.initial_backoff.unwrap_or(DEFAULT_INITIAL_BACKOFF),
            budget: self.throttling_budget,
        }
    }
}

/// The account id of an IAM role ARN (`arn:PARTITION:iam::ACCOUNT:role/PATH/NAME`).
pub(crate) fn role_account(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let name = resource.strip_prefix("role/")?;
    let valid = !partition.is_empty()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !name.is_empty()
        && !name.ends_with('/');
    valid.then_some(account)
}

/// STS's character rules for session names: word characters and `extra`. The reason does not
/// repeat the value; the caller adds it where it is not a secret.
fn check_chars(
    value: &str,
    min: usize,
    max: usize,
    extra: &str,
) -> std::result::Result<(), String> {
    if !(min..=max).contains(&value.len()) {
        return Err(format!("must be {min} to {max} characters long"));
    }
    if let Some(bad) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || extra.contains(*c)))
    {
        return Err(format!("has a character STS refuses: `{bad}`"));
    }
    Ok(())
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn role_accounts_come_from_the_arn() {
        assert_eq!(
            role_account("arn:aws:iam::111122223333:role/scanner"),
            Some("111122223333")
        );
        assert_eq!(
            role_account("arn:aws-cn:iam::111122223333:role/path/to/scanner"),
            Some("111122223333")
        );
        for bad in [
            "",
            "scanner",
            "arn:aws:iam::111122223333:user/bob",
            "arn:aws:iam::1111:role/scanner",
            "arn:aws:sts::111122223333:role/scanner",
            "arn:aws:iam:us-east-1:111122223333:role/scanner",
            "arn:aws:iam::111122223333:role/",
        ] {
            assert_eq!(role_account(bad), None, "{bad}");
        }
    }

    #[test]
    fn invalid_options_are_named() {
        let check = |options: AwsOptions, field: &str| {
            let err = options.validate().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput);
            assert_eq!(err.context().field.as_deref(), Some(field), "{err}");
        };
        check(
            AwsOptions {
                role_arns: vec!["arn:aws:iam::111122223333:role/a".into(), "nope".into()],
                ..AwsOptions::default()
            },
            "role_arns[1]",
        );
        check(
            AwsOptions {
                role_arns: vec![
                    "arn:aws:iam::111122223333:role/a".into(),
                    "arn:aws:iam::111122223333:role/b".into(),
                ],
                ..AwsOptions::default()
            },
            "role_arns[1]",
        );
        check(
            AwsOptions {
                regions: vec!["eu-west-1".into(), "eu west 1".into()],
                ..AwsOptions::default()
            },
            "regions[1]",
        );
        check(
            AwsOptions {
                max_attempts: 0,
                ..AwsOptions::default()
            },
            "max_attempts",
        );
        check(
            AwsOptions {
                throttling_budget: Duration::ZERO,
                ..AwsOptions::default()
            },
            "throttling_budget",
        );
        check(
            AwsOptions {
                session_name: "has space".into(),
                ..AwsOptions::default()
            },
            "session_name",
        );
        check(
            AwsOptions {
                endpoint_url: Some("127.0.0.1:4566".into()),
                ..AwsOptions::default()
            },
            "endpoint_url",
        );
        assert!(AwsOptions::default().validate().is_ok());
    }

    #[test]
    fn an_invalid_external_id_is_named_but_never_echoed() {
        let secret = "not valid; shared-secret";
        let err = AwsOptions {
            role_arns: vec!["arn:aws:iam::111122223333:role/a".into()],
            external_id: Some(secret.into()),
            ..AwsOptions::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert_eq!(err.context().field.as_deref(), Some("external_id"));
        assert!(!err.to_string().contains(secret), "{err}");
        assert!(!format!("{err:?}").contains("shared-secret"), "{err:?}");
    }

    #[test]
    fn options_debug_redacts_the_external_id() {
        let options = AwsOptions {
            external_id: Some("shared-secret".into()),
            ..AwsOptions::default()
        };
        let debug = format!("{options:?}");
        assert!(debug.contains("ExternalId(<redacted>)"), "{debug}");
        assert!(!debug.contains("shared-secret"), "{debug}");
    }

    #[test]
    fn the_invalid_role_is_named_in_the_message() {
        let err = AwsOptions {
            role_arns: vec!["arn:aws:iam::12:role/x".into()],
            ..AwsOptions::default()
        }
        .validate()
        .unwrap_err();
        assert!(err.to_string().contains("arn:aws:iam::12:role/x"), "{err}");
    }
}
