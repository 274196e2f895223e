//! The AWS remediation target: DescribeKey, GetKeyRotationStatus, EnableKeyRotation and
//! DisableKeyRotation through aws-sdk-kms, one client per account and region taken from each key's ARN.
//!
//! Every call is retried past the SDK's own attempts while it fails with a retryable error
//! (throttling, 5xx, a timeout, a dropped connection), with backoff and jitter, within the same
//! time budget as reads ([`AwsOptions::throttling_budget`](crate::aws::AwsOptions)): a
//! throttle storm or a flaky network slows a run down instead of leaving keys unfixed, or a
//! rollback undone. Retrying a write is safe: EnableKeyRotation with a period and
//! DisableKeyRotation set a state, so a second call after an ambiguous failure sets the same one.
//!
//! Its clients live in a retry partition of their own (per account and region): in adaptive
//! retry mode the SDK's client-side rate limiter is shared by every client of a partition, so
//! without this, throttled writes would slow down a scan running in the same process
//! (`kms-api.md` §4.2).

use std::borrow::Cow;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_kms::config::retry::RetryPartition;

use super::call::Backoff;
use super::errors::to_error;
use super::permissions::Action;
use super::{AwsOptions, AwsSource, kms_client};
use crate::model::{KeyArn, MultiRegion, MultiRegionRole};
use crate::policy::RotationPeriod;
use crate::remediate::KeyMetadata;
use crate::remediate::{RemediationTarget, RotationState};
use crate::{Error, Result};

/// Where the target gets credentials for an account.
#[derive(Debug, Clone)]
enum Credentials {
    /// One configuration for every key (the caller's own account). Boxed: an `SdkConfig` is
    /// large and the enum is built once.
    Sdk(Box<SdkConfig>),
    /// The AWS source's configuration per account (assumed roles).
    Source(Arc<AwsSource>),
}

/// Remediation against AWS KMS (or an emulator, through the configuration's endpoint).
#[derive(Debug)]
pub struct AwsTarget {
    credentials: Credentials,
    clients: Mutex<HashMap<(String, String), aws_sdk_kms::Client>>,
    backoff: Backoff,
}

impl AwsTarget {
    /// Uses one SDK configuration for every key: the keys must be in its credentials' account.
    pub fn from_sdk_config(sdk: SdkConfig) -> Self {
        AwsTarget {
            credentials: Credentials::Sdk(Box::new(sdk)),
            clients: Mutex::default(),
            backoff: AwsOptions::default().backoff(),
        }
    }

    /// Uses an AWS source's credentials: with assumed roles, each key's account gets its role.
    /// Its `throttling_budget` bounds the retries of each call, and `max_attempts: 1` turns
    /// them off.
    pub fn from_source(source: Arc<AwsSource>) -> Self {
        let options = source.options();
        let mut backoff = options.backoff();
        if options.max_attempts <= 1 {
            // One attempt per call, as asked: no retries past the SDK's either.
            backoff.budget = Duration::ZERO;
        }
        AwsTarget {
            credentials: Credentials::Source(source),
            clients: Mutex::default(),
            backoff,
        }
    }

    /// How long a failing call is retried past the SDK's own attempts (the source's
    /// `throttling_budget`, or 300 s): zero sends each call once.
    pub fn with_retry_budget(mut self, budget: Duration) -> Self {
        self.backoff.budget = budget;
        self
    }

    /// Sends one call (`send` may run several times) until it succeeds, fails for good, or the
    /// retry budget is spent; the error is the last attempt's.
    async fn send<T, F, Fut>(&self, mut send: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let started = Instant::now();
        let mut retries = 0;
        loop {
            let err = match send().await {
                Ok(out) => return Ok(out),
                Err(err) => err,
            };
            let wait = match self.backoff.next(started, retries) {
                Some(wait) if err.is_retryable() => wait,
                _ => return Err(err),
            };
            tracing::debug!(
                code = err.context().code.as_deref().unwrap_or_default(),
                retries,
                ?wait,
                "remediation call failed: retrying after a backoff"
            );
            retries += 1;
            tokio::time::sleep(wait).await;
        }
    }

    /// The retry partition of remediation calls in one account and region.
    fn partition(account_id: &str, region: &str) -> RetryPartition {
        RetryPartition::new(Cow::Owned(format!(
            "kms-rotation-write-{account_id}-{region}"
        )))
    }

    /// The client for the key at `arn`, and the region, for error context.
    fn client(&self, arn: &str) -> Result<(aws_sdk_kms::Client, String)> {
        let parsed = KeyArn::parse(arn)?;
        let key = (parsed.account_id.to_owned(), parsed.region.to_owned());
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(client) = clients.get(&key) {
            return Ok((client.clone(), key.1));
        }
        let partition = Self::partition(&key.0, &key.1);
        let client = match &self.credentials {
            Credentials::Sdk(sdk) => kms_client(sdk, &key.1, Some(partition)),
            Credentials::Source(source) => source
                .kms_client(&key.0, &key.1, Some(partition))
                .ok_or_else(|| {
                    Error::invalid_input(format!(
                        "no credentials for account {}: add a role for it",
                        key.0
                    ))
                    .with_key_arn(arn)
                })?,
        };
        clients.insert(key.clone(), client.clone());
        Ok((client, key.1))
    }
}

/// An AWS enum by its wire spelling; a value this version does not know is `None`, which the
/// scope check treats as out of scope.
fn wire<T: std::str::FromStr>(value: Option<&str>) -> Option<T> {
    value.and_then(|v| v.parse().ok())
}

/// The scope facts of a DescribeKey reply.
fn key_metadata(meta: &aws_sdk_kms::types::KeyMetadata) -> KeyMetadata {
    // Fail closed: a multi-Region key whose role cannot be read is taken for a replica, which
    // is never written.
    let multi_region = (meta.multi_region() == Some(true)).then(|| {
        let config = meta.multi_region_configuration();
        MultiRegion {
            role: wire(
                config
                    .and_then(|c| c.multi_region_key_type())
                    .map(|t| t.as_str()),
            )
            .unwrap_or(MultiRegionRole::Replica),
            primary_arn: config
                .and_then(|c| c.primary_key())
                .and_then(|p| p.arn())
                .map(str::to_owned),
        }
    });
    KeyMetadata {
        key_manager: wire(meta.key_manager().map(|v| v.as_str())),
        key_spec: wire(meta.key_spec().map(|v| v.as_str())),
        origin: wire(meta.origin().map(|v| v.as_str())),
        custom_key_store_id: meta
            .custom_key_store_id()
            .filter(|id| !id.is_empty())
            .map(str::to_owned),
        key_state: wire(meta.key_state().map(|v| v.as_str())),
        multi_region,
    }
}

#[async_trait]
impl RemediationTarget for AwsTarget {
    async fn describe_key(&self, arn: &str) -> Result<KeyMetadata> {
        let (client, region) = self.client(arn)?;
        let out = self
            .send(|| async {
                client.describe_key().key_id(arn).send().await.map_err(|e| {
                    to_error(Action::DescribeKey.operation(), e)
                        .with_key_arn(arn)
                        .with_region(&region)
                })
            })
            .await?;
        let meta = out.key_metadata().ok_or_else(|| {
            Error::new(
                crate::ErrorKind::Unexpected,
                "DescribeKey answered without KeyMetadata",
            )
            .with_code(crate::aws::errors::RESPONSE_ERROR)
            .with_operation(Action::DescribeKey.operation())
            .with_key_arn(arn)
            .with_region(&region)
        })?;
        Ok(key_metadata(meta))
    }

    async fn read_rotation(&self, arn: &str) -> Result<RotationState> {
        let (client, region) = self.client(arn)?;
        let out = self
            .send(|| async {
                client
                    .get_key_rotation_status()
                    .key_id(arn)
                    .send()
                    .await
                    .map_err(|e| {
                        to_error(Action::GetKeyRotationStatus.operation(), e)
                            .with_key_arn(arn)
                            .with_region(&region)
                    })
            })
            .await?;
        Ok(RotationState {
            enabled: out.key_rotation_enabled(),
            period_days: out
                .rotation_period_in_days()
                .and_then(|d| u32::try_from(d).ok()),
        })
    }

    async fn enable_rotation(&self, arn: &str, period: RotationPeriod) -> Result<()> {
        let (client, region) = self.client(arn)?;
        // Always explicit: without it AWS may reset a custom period to 365 (kms-api.md §9.6).
        let days = i32::try_from(period.days())
            .map_err(|_| Error::invalid_input(format!("{period} is out of range")))?;
        self.send(|| async {
            client
                .enable_key_rotation()
                .key_id(arn)
                .rotation_period_in_days(days)
                .send()
                .await
                .map_err(|e| {
                    to_error(Action::EnableKeyRotation.operation(), e)
                        .with_key_arn(arn)
                        .with_region(&region)
                })
        })
        .await?;
        Ok(())
    }

    async fn disable_rotation(&self, arn: &str) -> Result<()> {
        let (client, region) = self.client(arn)?;
        self.send(|| async {
            client
                .disable_key_rotation()
                .key_id(arn)
                .send()
                .await
                .map_err(|e| {
                    to_error(Action::DisableKeyRotation.operation(), e)
                        .with_key_arn(arn)
                        .with_region(&region)
                })
        })
        .await?;
        Ok(())
    }
}
