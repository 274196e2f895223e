//! The AWS remediation target: DescribeKey, GetKeyRotationStatus, EnableKeyRotation and
//! DisableKeyRotation through aws-sdk-kms, one client per account and region taken from each key's ARN.
//!
//! Its clients live in a retry partition of their own (per account and region): in adaptive
//! retry mode the SDK's client-side rate limiter is shared by every client of a partition, so
//! without this, throttled writes would slow down a scan running in the same process
//! (`kms-api.md` §4.2).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_kms::config::retry::RetryPartition;

use super::scope::KeyMetadata;
use super::target::{RemediationTarget, RotationState};
use crate::model::{KeyArn, MultiRegion, MultiRegionRole};
use crate::policy::RotationPeriod;
use crate::source::aws::errors::to_error;
use crate::source::aws::{AwsSource, kms_client};
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
}

impl AwsTarget {
    /// Uses one SDK configuration for every key: the keys must be in its credentials' account.
    pub fn from_sdk_config(sdk: SdkConfig) -> Self {
        AwsTarget {
            credentials: Credentials::Sdk(Box::new(sdk)),
            clients: Mutex::default(),
        }
    }

    /// Uses an AWS source's credentials: with assumed roles, each key's account gets its role.
    pub fn from_source(source: Arc<AwsSource>) -> Self {
        AwsTarget {
            credentials: Credentials::Source(source),
            clients: Mutex::default(),
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
        let out = client
            .describe_key()
            .key_id(arn)
            .send()
            .await
            .map_err(|e| {
                to_error("DescribeKey", e)
                    .with_key_arn(arn)
                    .with_region(&region)
            })?;
        let meta = out.key_metadata().ok_or_else(|| {
            Error::new(
                crate::ErrorKind::Unexpected,
                "DescribeKey answered without KeyMetadata",
            )
            .with_code(crate::source::aws::errors::RESPONSE_ERROR)
            .with_operation("DescribeKey")
            .with_key_arn(arn)
            .with_region(&region)
        })?;
        Ok(key_metadata(meta))
    }

    async fn read_rotation(&self, arn: &str) -> Result<RotationState> {
        let (client, region) = self.client(arn)?;
        let out = client
            .get_key_rotation_status()
            .key_id(arn)
            .send()
            .await
            .map_err(|e| {
                to_error("GetKeyRotationStatus", e)
                    .with_key_arn(arn)
                    .with_region(&region)
            })?;
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
        client
            .enable_key_rotation()
            .key_id(arn)
            .rotation_period_in_days(days)
            .send()
            .await
            .map_err(|e| {
                to_error("EnableKeyRotation", e)
                    .with_key_arn(arn)
                    .with_region(&region)
            })?;
        Ok(())
    }

    async fn disable_rotation(&self, arn: &str) -> Result<()> {
        let (client, region) = self.client(arn)?;
        client
            .disable_key_rotation()
            .key_id(arn)
            .send()
            .await
            .map_err(|e| {
                to_error("DisableKeyRotation", e)
                    .with_key_arn(arn)
                    .with_region(&region)
            })?;
        Ok(())
    }
}
