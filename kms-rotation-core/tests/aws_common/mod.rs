//! Helpers shared by the AWS source's tests: configuration that can only reach 127.0.0.1.
#![allow(dead_code)]

use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_kms::config::Credentials;
use kms_rotation::aws::AwsOptions;

/// Panics unless `url` is a plain http URL on the loopback interface: no test may reach
/// anything else, whatever the environment says.
pub fn assert_loopback(url: &str) {
    let rest = url
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("{url} must be an http:// URL on 127.0.0.1"));
    let host = rest.split([':', '/']).next().unwrap_or_default();
    assert!(
        matches!(host, "127.0.0.1" | "localhost"),
        "{url} is not on 127.0.0.1: tests only talk to loopback servers"
    );
}

/// An SDK configuration with dummy credentials that sends every call to `endpoint`.
///
/// Environment variables are ignored (`empty_test_environment`), so neither `AWS_ENDPOINT_URL`
/// nor real credentials in the developer's shell can redirect a test to AWS.
pub async fn sdk_config(endpoint: &str, access_key: &str) -> SdkConfig {
    assert_loopback(endpoint);
    aws_config::defaults(BehaviorVersion::latest())
        .empty_test_environment()
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            access_key,
            "dummy-secret",
            None,
            None,
            "kms-rotation-tests",
        ))
        .endpoint_url(endpoint)
        .load()
        .await
}

/// Options for tests: few, quick retries, so failure paths take milliseconds (throttling, which
/// is retried for a time, for seconds at most).
pub fn options(regions: &[&str]) -> AwsOptions {
    AwsOptions {
        regions: regions.iter().map(|r| (*r).to_owned()).collect(),
        max_attempts: 2,
        initial_backoff: Some(Duration::from_millis(10)),
        throttling_budget: Duration::from_secs(5),
        operation_attempt_timeout: Some(Duration::from_secs(10)),
        operation_timeout: Some(Duration::from_secs(30)),
        ..AwsOptions::default()
    }
}
