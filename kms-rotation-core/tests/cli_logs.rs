//! Logs: `-v` and `RUST_LOG` on stderr, never on stdout; `--log-format json`; and every write
//! of apply and rollback logged at info level with its key, region, state before and after.
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used)]

mod common;

use std::process::Output;

use kms_test_server::{Faults, KmsTestServer};
use serde_json::Value;

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    common::cli()
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Every line of stdout is a finding: no log line slipped in.
fn assert_only_findings(out: &Output) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.lines().count() > 5, "{stdout}{}", stderr(out));
    for line in stdout.lines() {
        serde_json::from_str::<kms_rotation::Finding>(line).unwrap();
    }
}

/// The KMS test server with the sample fleet's first account, and the flags that scan it.
async fn server() -> (KmsTestServer, Vec<String>) {
    let records: Vec<_> = common::fleet()
        .into_iter()
        .filter(|r| r.account_id == "111122223333")
        .collect();
    let server = KmsTestServer::start(records, Faults::default())
        .await
        .unwrap();
    let scan = [
        "scan",
        "--region",
        "us-east-1",
        "--format",
        "ndjson",
        "-q",
        "--max-attempts",
        "2",
        "--endpoint-url",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .chain([server.endpoint_url()])
    .collect();
    (server, scan)
}

/// Runs off the async runtime that serves the test server.
async fn run_blocking(args: Vec<String>, env: Vec<(&'static str, &'static str)>) -> Output {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&args, &env)
    })
    .await
    .unwrap()
}

fn with(first: &[&str], rest: &[String]) -> Vec<String> {
    first
        .iter()
        .map(|s| (*s).to_owned())
        .chain(rest.iter().cloned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn logs_go_to_stderr_and_never_to_stdout() {
    let (_server, scan) = server().await;
    let quiet = run_blocking(scan.clone(), vec![]).await;
    assert_only_findings(&quiet);
    assert_eq!(stderr(&quiet), "", "warnings only by default");

    for (args, env) in [
        (vec!["-vv"], vec![]),
        (vec!["-vvv"], vec![]),
        (vec![], vec![("RUST_LOG", "debug")]),
        (vec![], vec![("KMS_ROTATION_VERBOSE", "2")]),
    ] {
        let out = run_blocking(with(&args, &scan), env.clone()).await;
        assert_only_findings(&out);
        assert!(
            stderr(&out).contains(" DEBUG "),
            "{args:?} {env:?}: {}",
            stderr(&out)
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn json_logs_are_one_object_a_line() {
    let (_server, scan) = server().await;
    for args in [
        &["-vv", "--log-format", "json"][..],
        &["-vvv", "--log-format=json"][..],
    ] {
        let out = run_blocking(with(args, &scan), vec![]).await;
        assert_only_findings(&out);
        let log = stderr(&out);
        assert!(log.lines().count() > 5, "{log}");
        for line in log.lines() {
            let event: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            assert!(event["level"].is_string(), "{line}");
            assert!(event["fields"].is_object(), "{line}");
        }
    }
}

/// The events of `out`'s JSON log whose message is `message`.
fn events(out: &Output, message: &str) -> Vec<Value> {
    stderr(out)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["fields"]["message"] == message)
        .collect()
}

fn outcome(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(out)))
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_and_rollback_log_every_write_with_key_region_before_and_after() {
    let records: Vec<_> = common::fleet()
        .into_iter()
        .filter(|r| r.account_id == "111122223333")
        .collect();
    let server = KmsTestServer::start(records, Faults::default())
        .await
        .unwrap();
    let endpoint = server.endpoint_url();
    let (plan, journal) = (
        common::scratch("plan.json"),
        common::scratch("journal.ndjson"),
    );
    let (plan, journal) = (plan.to_str().unwrap(), journal.to_str().unwrap());
    let aws = ["--endpoint-url", endpoint.as_str(), "--max-attempts", "2"];
    let quick = ["--verify-delay-ms", "10", "--writes-per-second", "0"];
    let regions = ["--region", "us-east-1", "--region", "eu-west-1"];
    let json = ["-v", "--log-format", "json"];
    let run_ = |args: Vec<&str>| {
        let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
        tokio::task::spawn_blocking(move || {
            run(&args.iter().map(String::as_str).collect::<Vec<_>>(), &[])
        })
    };

    let planned = run_([&["plan", "-o", plan][..], &regions, &aws].concat())
        .await
        .unwrap();
    assert_eq!(planned.status.code(), Some(0), "{}", stderr(&planned));

    let apply = [
        &["apply", "--plan", plan, "--journal", journal][..],
        &aws,
        &quick,
    ]
    .concat();
    // Without -v the writes are not logged: they are info events.
    let dry = run_(apply.clone()).await.unwrap();
    assert!(
        !stderr(&dry).contains("EnableKeyRotation"),
        "{}",
        stderr(&dry)
    );
    let applied = run_([&apply[..], &["--yes"], &json].concat())
        .await
        .unwrap();
    assert_eq!(applied.status.code(), Some(0), "{}", stderr(&applied));
    let results = outcome(&applied)["results"].as_array().unwrap().clone();
    let remediated: Vec<&Value> = results
        .iter()
        .filter(|r| r["status"] == "remediated")
        .collect();
    assert!(!remediated.is_empty());
    let logged = events(&applied, "apply: EnableKeyRotation");
    assert_eq!(logged.len(), remediated.len(), "{}", stderr(&applied));
    assert_eq!(
        logged.len(),
        server.write_calls().len(),
        "one line per write"
    );
    for result in &remediated {
        let event = logged
            .iter()
            .find(|e| e["fields"]["key"] == result["target_arn"])
            .unwrap_or_else(|| panic!("{} not logged", result["target_arn"]));
        assert_eq!(event["level"], "INFO");
        assert_eq!(event["fields"]["region"], result["region"]);
        let (before, after) = (&event["fields"]["before"], &event["fields"]["after"]);
        assert!(
            before.as_str().unwrap().contains("RotationState"),
            "{event}"
        );
        assert!(after.as_str().unwrap().contains("enabled: true"), "{event}");
        assert_ne!(before, after, "{event}");
    }

    let writes = server.write_calls().len();
    let rollback = [
        &["rollback", "--journal", journal, "--yes"][..],
        &aws,
        &quick,
        &json,
    ]
    .concat();
    let rolled_back = run_(rollback).await.unwrap();
    assert_eq!(
        rolled_back.status.code(),
        Some(0),
        "{}",
        stderr(&rolled_back)
    );
    let logged = events(&rolled_back, "rollback: written");
    assert_eq!(
        logged.len(),
        server.write_calls().len() - writes,
        "one line per write"
    );
    assert_eq!(logged.len(), remediated.len(), "{}", stderr(&rolled_back));
    for event in &logged {
        assert_eq!(event["level"], "INFO");
        let (key, region) = (&event["fields"]["key"], &event["fields"]["region"]);
        let in_region = format!(":kms:{}:", region.as_str().unwrap());
        assert!(key.as_str().unwrap().contains(&in_region), "{event}");
        assert!(event["fields"]["before"].is_string(), "{event}");
        assert!(event["fields"]["after"].is_string(), "{event}");
    }
}
