//! The AWS source without any server: option checks before any call, and an endpoint that
//! refuses connections, which must end as scope errors rather than a failed read.
#![cfg(feature = "aws")]
#![allow(clippy::unwrap_used)]

mod aws_common;

use std::net::TcpListener;

use kms_rotation::aws::{AwsOptions, AwsSource};
use kms_rotation::{ErrorKind, KeySource, KeySourceExt, ReadRequest, ScanRequest, Scope};

/// A loopback URL where nothing listens (the port was just free).
fn refused_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

#[tokio::test]
async fn a_bad_role_arn_is_refused_before_any_call() {
    let err = AwsSource::new(AwsOptions {
        regions: vec!["eu-west-1".into()],
        role_arns: vec!["arn:aws:iam::123:role/scanner".into()],
        ..AwsOptions::default()
    })
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        err.to_string().contains("arn:aws:iam::123:role/scanner"),
        "{err}"
    );
}

#[tokio::test]
async fn unreachable_regions_are_scope_errors_not_a_failed_read() {
    let endpoint = refused_endpoint();
    let sdk = aws_common::sdk_config(&endpoint, "AKIDTEST").await;
    let source = AwsSource::from_sdk_config(
        sdk,
        AwsOptions {
            max_attempts: 1,
            ..aws_common::options(&["eu-west-1", "us-east-1"])
        },
    )
    .await
    .unwrap();

    let collected = source.read(&ReadRequest::default()).await.unwrap();
    assert!(collected.records.is_empty());
    assert!(collected.regions.is_empty(), "nothing was read");
    let regions: Vec<_> = collected
        .scope_errors
        .iter()
        .map(|e| e.region.as_deref().unwrap())
        .collect();
    assert_eq!(regions, ["eu-west-1", "us-east-1"]);
    for error in &collected.scope_errors {
        assert_eq!(error.operation, "ListKeys");
        assert_eq!(error.code, "DispatchFailure", "{error:?}");
        assert_eq!(error.account_id, None, "no key ever named the account");
    }

    // Through a scan, the report says it is incomplete.
    let report = source.scan(&ScanRequest::default()).await.unwrap();
    assert!(!report.is_complete());
    assert_eq!(report.summary.by_status.total, 0);
}

#[tokio::test]
async fn scope_regions_replace_the_configured_ones_and_are_checked() {
    let endpoint = refused_endpoint();
    let sdk = aws_common::sdk_config(&endpoint, "AKIDTEST").await;
    let source = AwsSource::from_sdk_config(
        sdk,
        AwsOptions {
            max_attempts: 1,
            ..aws_common::options(&["eu-west-1"])
        },
    )
    .await
    .unwrap();
    let request = ReadRequest {
        scope: Scope {
            accounts: Vec::new(),
            regions: vec!["ap-south-1".into()],
            shard: None,
            keys: Vec::new(),
        },
        ..ReadRequest::default()
    };
    let collected = source.read(&request).await.unwrap();
    assert_eq!(collected.scope_errors.len(), 1);
    assert_eq!(
        collected.scope_errors[0].region.as_deref(),
        Some("ap-south-1")
    );

    let request = ReadRequest {
        scope: Scope {
            accounts: Vec::new(),
            regions: vec!["https://evil.example/".into()],
            shard: None,
            keys: Vec::new(),
        },
        ..ReadRequest::default()
    };
    let err = source.read(&request).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn a_profile_cannot_be_laid_over_an_existing_config() {
    let sdk = aws_common::sdk_config(&refused_endpoint(), "AKIDTEST").await;
    let err = AwsSource::from_sdk_config(
        sdk,
        AwsOptions {
            profile: Some("prod".into()),
            ..aws_common::options(&["eu-west-1"])
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.context().field.as_deref(), Some("profile"));
}

#[tokio::test]
async fn a_role_that_cannot_be_assumed_fails_its_account_only_as_scope_errors() {
    let sdk = aws_common::sdk_config(&refused_endpoint(), "AKIDTEST").await;
    let source = AwsSource::from_sdk_config(
        sdk,
        AwsOptions {
            max_attempts: 1,
            role_arns: vec!["arn:aws:iam::111122223333:role/scanner".into()],
            ..aws_common::options(&["eu-west-1"])
        },
    )
    .await
    .unwrap();
    let collected = source.read(&ReadRequest::default()).await.unwrap();
    let [error] = collected.scope_errors.as_slice() else {
        panic!("{:?}", collected.scope_errors)
    };
    // The account is known from the role ARN even though nothing could be read.
    assert_eq!(error.account_id.as_deref(), Some("111122223333"));
    assert_eq!(error.region.as_deref(), Some("eu-west-1"));
    assert_eq!(error.code, "DispatchFailure");
    assert!(error.message.contains("credentials"), "{}", error.message);
    assert!(collected.accounts.is_empty());
}
