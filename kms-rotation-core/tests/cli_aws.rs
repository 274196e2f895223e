//! `kms-rotation scan` against AWS, here the project's KMS test server on 127.0.0.1 with dummy
//! credentials: the command sees the same verdicts as the library, and its exit code tells a CI
//! job when a region could not be scanned.
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::process::Output;

use kms_rotation::{Finding, Policy, Reason, Status};
use kms_test_server::{Faults, KmsTestServer, ListKeysFailure};

fn scan(server: &KmsTestServer, args: &[&str]) -> Output {
    command(server, "scan", args)
}

/// `kms-rotation SUBCOMMAND` against `server`.
fn command(server: &KmsTestServer, subcommand: &str, args: &[&str]) -> Output {
    common::cli()
        .arg(subcommand)
        .args([
            "--endpoint-url",
            &server.endpoint_url(),
            "--max-attempts",
            "2",
        ])
        .args(args)
        .output()
        .unwrap()
}

fn findings(out: &Output) -> Vec<Finding> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The sample fleet's keys of the first account: the test server answers for one account per
/// access key.
fn first_account() -> Vec<kms_rotation::KeyRecord> {
    common::fleet()
        .into_iter()
        .filter(|r| r.account_id == "111122223333")
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn scanning_the_server_gives_the_rules_verdicts_for_every_key() {
    let seeded = first_account();
    let server = KmsTestServer::start(seeded.clone(), Faults::default())
        .await
        .unwrap();
    let out = scan(
        &server,
        &[
            "--region",
            "us-east-1",
            "--region",
            "eu-west-1",
            "--format",
            "ndjson",
            "-q",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let scanned: BTreeMap<String, (Status, Reason)> = findings(&out)
        .into_iter()
        .map(|f| (f.arn, (f.status, f.reason)))
        .collect();
    let now = chrono::Utc::now();
    let expected: BTreeMap<String, (Status, Reason)> = seeded
        .iter()
        .map(|r| {
            let f = kms_rotation::evaluate(r, &Policy::default(), now);
            (f.arn, (f.status, f.reason))
        })
        .collect();
    assert_eq!(scanned, expected);
    assert_eq!(scanned.len(), seeded.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_region_that_cannot_be_listed_is_exit_3_and_the_others_are_reported() {
    let faults = Faults {
        list_keys_failures: vec![ListKeysFailure {
            account_id: None,
            region: "eu-west-1".into(),
            code: "AccessDeniedException".into(),
        }],
        ..Faults::default()
    };
    let server = KmsTestServer::start(first_account(), faults).await.unwrap();
    let out = scan(
        &server,
        &[
            "--region",
            "us-east-1",
            "--region",
            "eu-west-1",
            "--format",
            "ndjson",
            "--fail-on",
            "none",
        ],
    );
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("INCOMPLETE"), "{stderr}");
    assert!(stderr.contains("eu-west-1"), "{stderr}");
    let found = findings(&out);
    assert!(!found.is_empty());
    assert!(found.iter().all(|f| f.region == "us-east-1"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mistyped_region_is_exit_2_before_any_call() {
    let server = KmsTestServer::start(first_account(), Faults::default())
        .await
        .unwrap();
    let out = scan(&server, &["--region", "us-esat-1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("us-esat-1"));
    assert!(server.calls().is_empty(), "no call was made");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_role_arn_is_exit_2_before_any_call() {
    let server = KmsTestServer::start(first_account(), Faults::default())
        .await
        .unwrap();
    let out = scan(
        &server,
        &[
            "--region",
            "us-east-1",
            "--role-arn",
            "arn:aws:iam::12:role/x",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--role-arn"));
    assert!(server.calls().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_scans_aws_with_the_same_connection_flags_as_scan() {
    let seeded = first_account();
    let server = KmsTestServer::start(seeded.clone(), Faults::default())
        .await
        .unwrap();
    let regions = ["--region", "us-east-1", "--region", "eu-west-1"];
    let out = command(&server, "plan", &[&regions[..], &["-q"]].concat());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let from_aws: kms_rotation::Plan = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!from_aws.actions.is_empty());
    assert!(server.calls().iter().any(|c| c.operation == "ListKeys"));

    // The same plan as from a report of the same scan.
    let report = scan(
        &server,
        &[&regions[..], &["-q", "--fail-on", "none"]].concat(),
    );
    let path = common::scratch("plan-aws-report.json");
    std::fs::write(&path, &report.stdout).unwrap();
    let out = command(&server, "plan", &["--report", path.to_str().unwrap(), "-q"]);
    // --report takes no connection flags: the helper's --endpoint-url is refused.
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = common::cli()
        .args(["plan", "--report", path.to_str().unwrap(), "-q"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let from_report: kms_rotation::Plan = serde_json::from_slice(&out.stdout).unwrap();
    let targets = |plan: &kms_rotation::Plan| -> Vec<String> {
        plan.actions.iter().map(|a| a.target_arn.clone()).collect()
    };
    assert_eq!(targets(&from_aws), targets(&from_report));
}

/// With regions named and no default region, the home region is the first one named: the
/// instance metadata service (here a listener that counts connections) is never asked, which
/// outside EC2 would cost a timeout and a warning.
#[tokio::test(flavor = "multi_thread")]
async fn named_regions_need_no_default_region_and_never_ask_the_metadata_service() {
    let server = KmsTestServer::start(first_account(), Faults::default())
        .await
        .unwrap();
    let imds = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let imds_url = format!("http://{}", imds.local_addr().unwrap());
    imds.set_nonblocking(true).unwrap();
    let out = common::cli()
        .env_remove("AWS_REGION")
        .env_remove("AWS_EC2_METADATA_DISABLED")
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds_url)
        .args(["scan", "--endpoint-url", &server.endpoint_url()])
        .args(["--region", "eu-west-1", "--format", "ndjson"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let found = findings(&out);
    assert_eq!(found.len(), 4, "{out:?}");
    assert!(found.iter().all(|f| f.region == "eu-west-1"), "{out:?}");
    assert!(
        matches!(imds.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the metadata service was contacted"
    );
}
