//! Building SDK configuration and clients: one base [`SdkConfig`] (credentials chain or the
//! embedder's, plus retries, timeouts and endpoint), one config per account (assumed roles), and
//! one KMS client per account and region.
//!
//! Retry state (the retry quota and, in adaptive mode, the client-side rate limiter) lives in a
//! retry partition. KMS quotas are per account and region, so reads get a partition of that scope
//! (kept with the rate limiters, `limits.rs`); remediation builds its clients with [`kms_client`]
//! and a partition of its own, so write throttling never slows reads.

use aws_config::environment::EnvironmentVariableRegionProvider;
use aws_config::meta::region::RegionProviderChain;
use aws_config::profile::ProfileFileRegionProvider;
use aws_config::sts::AssumeRoleProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::future;
use aws_sdk_kms::config::retry::{RetryConfig, RetryPartition};
use aws_sdk_kms::config::timeout::TimeoutConfig;
use aws_sdk_kms::config::{Credentials, ProvideCredentials, SharedCredentialsProvider};

use super::AwsOptions;

/// The credentials and identity one account is read with.
#[derive(Clone)]
pub(crate) struct Target {
    /// Known before any call only for assumed roles (from the role ARN); for the default
    /// credentials it is learnt from the key ARNs that ListKeys returns.
    pub(crate) account_id: Option<String>,
    pub(crate) sdk: SdkConfig,
}

/// Only the account: an `SdkConfig`'s `Debug` reaches its credentials provider, and the SDK's
/// `AssumeRoleProvider` prints its whole request, external id included.
impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("account_id", &self.account_id)
            .finish_non_exhaustive()
    }
}

impl Target {
    /// A name for the account in limiter and partition keys, known or not.
    pub(crate) fn label(&self) -> &str {
        self.account_id.as_deref().unwrap_or("default")
    }
}

/// Retries and timeouts from `options`, applied to every client of a source.
fn retry_config(options: &AwsOptions) -> RetryConfig {
    let mut retry = RetryConfig::adaptive().with_max_attempts(options.max_attempts);
    if let Some(backoff) = options.initial_backoff {
        retry = retry.with_initial_backoff(backoff);
    }
    retry
}

fn timeout_config(options: &AwsOptions, existing: Option<&TimeoutConfig>) -> TimeoutConfig {
    let mut builder = TimeoutConfig::builder();
    builder.set_connect_timeout(options.connect_timeout);
    builder.set_operation_timeout(options.operation_timeout);
    builder.set_operation_attempt_timeout(options.operation_attempt_timeout);
    let mut config = builder.build();
    if let Some(existing) = existing {
        config.take_defaults_from(existing);
    }
    config
}

/// Loads the default configuration chain (environment, profile, SSO, IMDS...) with `options`
/// applied. `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_KMS` are read by aws-config itself.
pub(crate) async fn load_base(options: &AwsOptions) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry_config(options))
        .timeout_config(timeout_config(options, None));
    if let Some(profile) = &options.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = named_regions_chain(options) {
        loader = loader.region(region);
    }
    if let Some(url) = &options.endpoint_url {
        // On the shared config, not only KMS: STS (assume role) and Account (ListRegions) must
        // go to the same emulator, never to AWS.
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

/// When the user named regions, the home region (STS, ListRegions) comes from the environment,
/// then the profile, then the first region named; never from the instance metadata service,
/// whose lookup outside EC2 costs a timeout and a warning for a region the user already gave.
/// Without named regions the SDK's default chain (IMDS included) is what finds one.
fn named_regions_chain(options: &AwsOptions) -> Option<RegionProviderChain> {
    let first = options.regions.first()?;
    let mut profile = ProfileFileRegionProvider::builder();
    if let Some(name) = &options.profile {
        profile = profile.profile_name(name);
    }
    Some(
        RegionProviderChain::first_try(EnvironmentVariableRegionProvider::new())
            .or_else(profile.build())
            .or_else(Region::new(first.clone())),
    )
}

/// An embedder's configuration with `options`' retries, timeouts and endpoint applied.
pub(crate) fn adopt_base(sdk: SdkConfig, options: &AwsOptions) -> SdkConfig {
    let timeouts = timeout_config(options, sdk.timeout_config());
    let mut builder = sdk
        .into_builder()
        .retry_config(retry_config(options))
        .timeout_config(timeouts);
    if let Some(url) = &options.endpoint_url {
        builder = builder.endpoint_url(url);
    }
    builder.build()
}

/// The accounts to read: the base credentials' own, or one per role in `options.role_arns`.
///
/// Assumed-role credentials are fetched lazily, on the first call, and cached for every client
/// built from the account's config: a role that cannot be assumed surfaces as the error of that
/// account's first call (a scope error), not here.
pub(crate) async fn targets(
    base: &SdkConfig,
    options: &AwsOptions,
    home_region: Option<&str>,
) -> Vec<Target> {
    if options.role_arns.is_empty() {
        return vec![Target {
            account_id: None,
            sdk: base.clone(),
        }];
    }
    let mut targets = Vec::with_capacity(options.role_arns.len());
    for role in &options.role_arns {
        targets.push(role_target(base, options, role, home_region).await);
    }
    targets
}

/// The account of `role`, read through it: its credentials come from STS
/// (`permissions::Action::AssumeRole`), on the first call and cached from then on.
pub(crate) async fn role_target(
    base: &SdkConfig,
    options: &AwsOptions,
    role: &str,
    home_region: Option<&str>,
) -> Target {
    let mut provider = AssumeRoleProvider::builder(role)
        .configure(base)
        .session_name(options.session_name.clone());
    if let Some(external_id) = &options.external_id {
        provider = provider.external_id(external_id.expose_secret());
    }
    if base.region().is_none()
        && let Some(region) = home_region
    {
        // STS needs a region; the base may have none when the user named regions instead.
        provider = provider.region(Region::new(region.to_owned()));
    }
    let provider = RoleCredentials {
        role_arn: role.to_owned(),
        provider: provider.build().await,
    };
    let sdk = base
        .clone()
        .into_builder()
        .credentials_provider(SharedCredentialsProvider::new(provider))
        .build();
    Target {
        account_id: super::role_account(role).map(str::to_owned),
        sdk,
    }
}

/// The SDK's assume-role provider behind a `Debug` that names the role and nothing else. Its own
/// `Debug` prints the whole AssumeRole request, external id included, and so would every
/// configuration and client built on it, and anything holding one (tests/cli_secrets.rs).
struct RoleCredentials {
    role_arn: String,
    provider: AssumeRoleProvider,
}

impl std::fmt::Debug for RoleCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssumeRoleProvider")
            .field("role_arn", &self.role_arn)
            .finish_non_exhaustive()
    }
}

impl ProvideCredentials for RoleCredentials {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        self.provider.provide_credentials()
    }

    fn fallback_on_interrupt(&self) -> Option<Credentials> {
        self.provider.fallback_on_interrupt()
    }
}

/// The KMS client of the reads of one account in `region`: in `partition`, in standard retry
/// mode rather than the source's adaptive one, and with throttling left to `call.rs`.
///
/// The adaptive mode's client-side rate limiter waits inside the operation timeout, and after a
/// throttle storm it waits long: with a third of calls throttled, most keys of a 400-key scan
/// timed out that way (5 s operation timeout). Its rate is also one per client, not per
/// operation. Reads have their own adaptive rate per operation (`adaptive.rs`), which must see
/// every throttled reply, and retry throttling with a time budget (`call.rs`).
pub(crate) fn read_client(
    sdk: &SdkConfig,
    region: &str,
    partition: RetryPartition,
    options: &AwsOptions,
) -> aws_sdk_kms::Client {
    let mut retry = RetryConfig::standard().with_max_attempts(options.max_attempts);
    if let Some(backoff) = options.initial_backoff {
        retry = retry.with_initial_backoff(backoff);
    }
    let config = aws_sdk_kms::config::Builder::from(sdk)
        .region(Region::new(region.to_owned()))
        .retry_partition(partition)
        .retry_config(retry)
        .retry_classifier(super::call::ThrottlingNotRetried);
    aws_sdk_kms::Client::from_conf(config.build())
}

/// A KMS client for `region` built from `sdk`, optionally in its own retry partition.
///
/// Remediation gives its clients a partition of their own
/// (`RetryPartition::custom("kms-rotation-write").build()`), so that throttled writes do not
/// slow down reads through the shared adaptive rate limiter.
pub fn kms_client(
    sdk: &SdkConfig,
    region: &str,
    retry_partition: Option<RetryPartition>,
) -> aws_sdk_kms::Client {
    let mut config = aws_sdk_kms::config::Builder::from(sdk).region(Region::new(region.to_owned()));
    if let Some(partition) = retry_partition {
        config = config.retry_partition(partition);
    }
    aws_sdk_kms::Client::from_conf(config.build())
}

/// An Account API client (ListRegions). The API is global; `region` only picks the partition.
pub(crate) fn account_client(sdk: &SdkConfig, region: &str) -> aws_sdk_account::Client {
    let config = aws_sdk_account::config::Builder::from(sdk).region(Region::new(region.to_owned()));
    aws_sdk_account::Client::from_conf(config.build())
}

/// An Organizations client (ListAccounts, OU listings). The API is global; `region` only picks
/// the partition.
pub(crate) fn organizations_client(sdk: &SdkConfig, region: &str) -> aws_sdk_organizations::Client {
    let config =
        aws_sdk_organizations::config::Builder::from(sdk).region(Region::new(region.to_owned()));
    aws_sdk_organizations::Client::from_conf(config.build())
}

/// An STS client (GetCallerIdentity, the AssumeRole check of discovered accounts) in `region`.
pub(crate) fn sts_client(sdk: &SdkConfig, region: &str) -> aws_sdk_sts::Client {
    let config = aws_sdk_sts::config::Builder::from(sdk).region(Region::new(region.to_owned()));
    aws_sdk_sts::Client::from_conf(config.build())
}
