//! Helpers shared by the AWS source's tests: configuration that can only reach 127.0.0.1.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
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

/// moto's URL, or `None` (test skipped) when it is not configured outside CI.
pub fn moto_url() -> Option<String> {
    match std::env::var("KMS_ROTATION_MOTO_URL") {
        Ok(url) if !url.is_empty() => {
            assert_loopback(&url);
            Some(url.trim_end_matches('/').to_owned())
        }
        _ if std::env::var_os("CI").is_some() => {
            panic!("KMS_ROTATION_MOTO_URL must point at a moto server on 127.0.0.1 in CI")
        }
        _ => {
            eprintln!(
                "note: KMS_ROTATION_MOTO_URL is not set; skipping the moto test \
                 (start `moto_server -H 127.0.0.1 -p 5055` and set it to run)"
            );
            None
        }
    }
}

/// Serializes the tests of a test binary (they share one moto; cargo runs binaries one at a
/// time) and resets moto's state.
pub async fn exclusive_moto(url: &str) -> tokio::sync::MutexGuard<'static, ()> {
    // An async lock: it is held across the whole test, awaits included.
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let guard = LOCK.lock().await;
    let host = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).unwrap();
    write!(
        stream,
        "POST /moto-api/reset HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    assert!(
        reply.starts_with("HTTP/1.1 200") || reply.starts_with("HTTP/1.0 200"),
        "moto reset failed: {reply}"
    );
    guard
}
