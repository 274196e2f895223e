//! `kms-rotation event`: a KMS CloudTrail event re-checks exactly the keys it touches, read from
//! AWS (the project's KMS test server on 127.0.0.1, dummy credentials), and `--remediate`
//! fixes them through plan, apply and the journal. Unrelated events are ignored, malformed ones
//! refused with the field named.
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use kms_rotation::{Finding, KeyRecord, Policy, Reason, Status};
use kms_test_server::{Faults, KmsTestServer};
use serde_json::{Value, json};

const ACCOUNT: &str = "111122223333";
const ROTATION_OFF: &str =
    "arn:aws:kms:us-east-1:111122223333:key/00000002-0000-4000-8000-000000000002";
const RSA: &str = "arn:aws:kms:us-east-1:111122223333:key/00000005-0000-4000-8000-000000000005";
const MRK: &str = "mrk-0000000f-0000-4000-8000-00000000000f";

/// The fleet's keys of the account the test server answers for.
fn seeded() -> Vec<KeyRecord> {
    common::fleet()
        .into_iter()
        .filter(|r| r.account_id == ACCOUNT)
        .collect()
}

fn events_dir() -> PathBuf {
    common::examples_dir().join("events")
}

fn event_cli(server: &KmsTestServer, file: &Path, args: &[&str]) -> Output {
    common::cli()
        .arg("event")
        .arg("--file")
        .arg(file)
        .args([
            "--endpoint-url",
            &server.endpoint_url(),
            "--max-attempts",
            "2",
        ])
        .args(["--format", "ndjson"])
        .args(args)
        .output()
        .unwrap()
}

fn findings(out: &Output) -> BTreeMap<String, (Status, Reason)> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Finding>(l).unwrap())
        .map(|f| (f.arn, (f.status, f.reason)))
        .collect()
}

/// What the rule says of `arns` as seeded.
fn expected(seeded: &[KeyRecord], arns: &[String]) -> BTreeMap<String, (Status, Reason)> {
    let now = chrono::Utc::now();
    seeded
        .iter()
        .filter(|r| arns.contains(&r.arn))
        .map(|r| {
            let f = kms_rotation::evaluate(r, &Policy::default(), now);
            (f.arn, (f.status, f.reason))
        })
        .collect()
}

/// An EventBridge event for the call `name` on `arn`, shaped as CloudTrail records it.
fn event_on(name: &str, arn: &str) -> Value {
    let region = arn.split(':').nth(3).unwrap();
    let key_id = arn.rsplit('/').next().unwrap();
    let (request, response) = match name {
        "CreateKey" => (
            json!({}),
            json!({"keyMetadata": {"keyId": key_id, "arn": arn}}),
        ),
        "ReplicateKey" => (
            json!({"keyId": key_id, "replicaRegion": "eu-west-1"}),
            json!({"replicaKeyMetadata": {"arn": format!("arn:aws:kms:eu-west-1:{ACCOUNT}:key/{key_id}")}}),
        ),
        "UpdatePrimaryRegion" => (
            json!({"keyId": arn, "primaryRegion": "eu-west-1"}),
            Value::Null,
        ),
        _ => (json!({"keyId": key_id}), Value::Null),
    };
    json!({
        "version": "0",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.kms",
        "account": ACCOUNT,
        "region": region,
        "detail": {
            "eventSource": "kms.amazonaws.com",
            "eventName": name,
            "awsRegion": region,
            "requestParameters": request,
            "responseElements": response,
        }
    })
}

fn write_event(name: &str, event: &Value) -> PathBuf {
    let path = common::scratch(name);
    std::fs::write(&path, serde_json::to_vec(event).unwrap()).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn every_event_type_on_every_kind_of_key_gives_the_rules_finding() {
    let seeded = seeded();
    let server = KmsTestServer::start(seeded.clone(), Faults::default())
        .await
        .unwrap();
    // One key of each kind: rotating, not rotating, asymmetric, HMAC, imported, custom key
    // store, AWS managed, disabled, pending deletion, and a multi-Region primary and replica.
    let kinds = [
        "00000001-0000-4000-8000-000000000001",
        "00000002-0000-4000-8000-000000000002",
        "00000005-0000-4000-8000-000000000005",
        "00000006-0000-4000-8000-000000000006",
        "00000007-0000-4000-8000-000000000007",
        "00000008-0000-4000-8000-000000000008",
        "0000000a-0000-4000-8000-00000000000a",
        "0000000c-0000-4000-8000-00000000000c",
        "0000000d-0000-4000-8000-00000000000d",
    ]
    .map(|id| format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{id}"));
    let primary = format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{MRK}");
    let replica = format!("arn:aws:kms:eu-west-1:{ACCOUNT}:key/{MRK}");
    let single_key = [
        "CreateKey",
        "EnableKey",
        "DisableKey",
        "EnableKeyRotation",
        "DisableKeyRotation",
        "CancelKeyDeletion",
        "ImportKeyMaterial",
    ];
    let mut cases: Vec<(&str, String, Vec<String>)> = Vec::new();
    for name in single_key {
        for arn in kinds.iter().chain([&primary, &replica]) {
            cases.push((name, arn.clone(), vec![arn.clone()]));
        }
    }
    let both = vec![primary.clone(), replica.clone()];
    cases.push(("ReplicateKey", primary.clone(), both.clone()));
    cases.push(("UpdatePrimaryRegion", primary.clone(), both));

    for (name, arn, touched) in cases {
        let file = write_event(&format!("{name}.json"), &event_on(name, &arn));
        let out = event_cli(&server, &file, &["-q"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{name} {arn}: {stderr}"
        );
        assert_eq!(
            findings(&out),
            expected(&seeded, &touched),
            "{name} on {arn}: {stderr}"
        );
    }
    assert!(server.write_calls().is_empty(), "a re-check writes nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn each_sample_event_re_checks_the_keys_it_names() {
    let seeded = seeded();
    let server = KmsTestServer::start(seeded.clone(), Faults::default())
        .await
        .unwrap();
    let key = |region: &str, id: &str| format!("arn:aws:kms:{region}:{ACCOUNT}:key/{id}");
    let samples = [
        (
            "create-key",
            vec![key("us-east-1", "00000001-0000-4000-8000-000000000001")],
        ),
        (
            "replicate-key",
            vec![key("us-east-1", MRK), key("eu-west-1", MRK)],
        ),
        (
            "enable-key",
            vec![key("us-east-1", "0000000c-0000-4000-8000-00000000000c")],
        ),
        (
            "disable-key",
            vec![key("us-east-1", "0000000c-0000-4000-8000-00000000000c")],
        ),
        (
            "enable-key-rotation",
            vec![key("us-east-1", "00000004-0000-4000-8000-000000000004")],
        ),
        ("disable-key-rotation", vec![ROTATION_OFF.to_owned()]),
        (
            "cancel-key-deletion",
            vec![key("us-east-1", "0000000d-0000-4000-8000-00000000000d")],
        ),
        (
            "import-key-material",
            vec![key("us-east-1", "00000007-0000-4000-8000-000000000007")],
        ),
        (
            "update-primary-region",
            vec![key("us-east-1", MRK), key("eu-west-1", MRK)],
        ),
    ];
    for (sample, touched) in samples {
        let out = event_cli(
            &server,
            &events_dir().join(format!("{sample}.json")),
            &["-q"],
        );
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{sample}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(findings(&out), expected(&seeded, &touched), "{sample}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn remediating_a_disable_key_rotation_event_turns_rotation_back_on_with_a_journal() {
    let server = KmsTestServer::start(seeded(), Faults::default())
        .await
        .unwrap();
    let file = events_dir().join("disable-key-rotation.json");

    // Without --yes: a dry run, nothing called, no journal.
    let journal = common::scratch("remediate.ndjson");
    let journal_arg = journal.to_str().unwrap();
    let out = event_cli(&server, &file, &["--remediate", "--journal", journal_arg]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("would_remediate"), "{stderr}");
    assert!(server.write_calls().is_empty());
    assert!(!journal.exists());

    let out = event_cli(
        &server,
        &file,
        &["--remediate", "--journal", journal_arg, "--yes"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let state = server.rotation_of(ROTATION_OFF).unwrap();
    assert!(state.enabled, "rotation is on again");
    assert_eq!(state.period_days, Some(365));
    let lines = std::fs::read_to_string(&journal).unwrap();
    assert!(
        lines.lines().any(|l| l.contains(ROTATION_OFF)),
        "the journal names the key: {lines}"
    );
    // The report printed is the re-check that found the key failing.
    assert_eq!(findings(&out)[ROTATION_OFF].0, Status::Fail);
}

#[tokio::test(flavor = "multi_thread")]
async fn remediating_an_event_on_a_replica_fixes_its_primary() {
    let server = KmsTestServer::start(seeded(), Faults::default())
        .await
        .unwrap();
    let replica = format!("arn:aws:kms:eu-west-1:{ACCOUNT}:key/{MRK}");
    let primary = format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{MRK}");
    let file = write_event("replica.json", &event_on("DisableKeyRotation", &replica));
    let journal = common::scratch("replica.ndjson");
    let out = event_cli(
        &server,
        &file,
        &[
            "--remediate",
            "--journal",
            journal.to_str().unwrap(),
            "--yes",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(server.rotation_of(&primary).unwrap().enabled);
    let written: Vec<_> = server.write_calls().into_iter().map(|c| c.region).collect();
    assert_eq!(written, ["us-east-1"], "the write went to the primary only");
}

#[tokio::test(flavor = "multi_thread")]
async fn remediating_an_event_on_a_key_out_of_scope_writes_nothing() {
    let server = KmsTestServer::start(seeded(), Faults::default())
        .await
        .unwrap();
    let journal = common::scratch("out-of-scope.ndjson");
    for arn in [
        RSA.to_owned(),
        format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/0000000b-0000-4000-8000-00000000000b"),
    ] {
        let file = write_event("out-of-scope.json", &event_on("DisableKeyRotation", &arn));
        let out = event_cli(
            &server,
            &file,
            &[
                "--remediate",
                "--journal",
                journal.to_str().unwrap(),
                "--yes",
            ],
        );
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(server.write_calls().is_empty(), "{arn}: nothing written");
        let lines = std::fs::read_to_string(&journal).unwrap_or_default();
        assert!(!lines.contains(&arn), "{arn}: no journal entry: {lines}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unrelated_event_is_ignored_and_a_malformed_one_is_refused() {
    let server = KmsTestServer::start(seeded(), Faults::default())
        .await
        .unwrap();
    let out = event_cli(&server, &events_dir().join("unrelated.json"), &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty(), "no finding");
    assert!(String::from_utf8_lossy(&out.stderr).contains("event ignored"));

    let out = event_cli(&server, &events_dir().join("malformed.json"), &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("detail.requestParameters.keyId"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");

    let not_json = common::scratch("not-json.json");
    std::fs::write(&not_json, "{ not json").unwrap();
    assert_eq!(event_cli(&server, &not_json, &[]).status.code(), Some(2));
    assert!(server.calls().is_empty(), "nothing read for either");
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_touched_key_is_read_not_its_region() {
    let server = KmsTestServer::start(seeded(), Faults::default())
        .await
        .unwrap();
    let file = write_event(
        "only-touched.json",
        &event_on("DisableKeyRotation", ROTATION_OFF),
    );
    let out = event_cli(&server, &file, &[]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        server.calls_for("ListKeys").is_empty(),
        "the region is not listed"
    );
    let read: Vec<_> = (server.calls().into_iter())
        .filter(|c| c.operation != "ListAliases")
        .map(|c| (c.operation, c.key_arn))
        .collect();
    assert!(
        read.iter()
            .all(|(_, arn)| arn.as_deref() == Some(ROTATION_OFF)),
        "only the touched key is read: {read:?}"
    );
    assert!(read.iter().any(|(op, _)| op == "DescribeKey"), "{read:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_the_event_names_that_is_not_there_makes_the_result_incomplete() {
    let server = KmsTestServer::start(seeded(), Faults::default())
        .await
        .unwrap();
    let gone = format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/00000099-0000-4000-8000-000000000099");
    let file = write_event("gone.json", &event_on("EnableKey", &gone));
    let out = event_cli(&server, &file, &[]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("NOT FOUND"));
}

#[test]
fn regions_keep_only_the_keys_within_them_and_are_checked() {
    let event = |args: &[&str]| {
        common::cli()
            .args([
                "event",
                "--file",
                "events/disable-key-rotation.json",
                "--inventory",
                "fleet.json",
            ])
            .args(args)
            .output()
            .unwrap()
    };
    let out = event(&["--region", "eu-west-1"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty(), "no finding");
    assert!(String::from_utf8_lossy(&out.stderr).contains("outside the accounts and regions"));
    let out = event(&["--region", "us-esat-1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--region"));
}

#[test]
fn the_sample_pattern_is_the_baselines() {
    let pattern: Value =
        serde_json::from_slice(&std::fs::read(events_dir().join("event-pattern.json")).unwrap())
            .unwrap();
    assert_eq!(pattern, kms_rotation::baseline::event_pattern());
}
