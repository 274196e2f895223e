//! The `kms-test-server` binary: reads an inventory, prints its URL first, applies flags.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

use common::*;
use kms_rotation::Inventory;

fn inventory_file(name: &str, text: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("kms-test-server-{}-{name}", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test]
async fn serves_an_inventory_and_prints_the_url_first() {
    let inventory = serde_json::to_string(&Inventory::new(fleet())).unwrap();
    let path = inventory_file("fleet.json", &inventory);
    let mut child = Command::new(env!("CARGO_BIN_EXE_kms-test-server"))
        .args([
            "--inventory",
            path.to_str().unwrap(),
            "--writes",
            "ignore",
            "--quota",
            "ListKeys=2",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut url = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut url)
        .unwrap();
    let url = url.trim().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    let config = aws_sdk_kms::Config::builder()
        .behavior_version(aws_sdk_kms::config::BehaviorVersion::latest())
        .region(aws_sdk_kms::config::Region::new(REGION))
        .credentials_provider(aws_sdk_kms::config::Credentials::new(
            "AKIDTEST", "secret", None, None, "test",
        ))
        .endpoint_url(&url)
        .retry_config(aws_sdk_kms::config::retry::RetryConfig::disabled())
        .build();
    let kms = aws_sdk_kms::Client::from_conf(config);
    let keys = kms.list_keys().send().await;
    let rotation = async {
        kms.enable_key_rotation()
            .key_id("sym")
            .send()
            .await
            .unwrap();
        kms.get_key_rotation_status()
            .key_id("sym")
            .send()
            .await
            .unwrap()
            .key_rotation_enabled()
    }
    .await;
    let mut burst = Vec::new();
    for _ in 0..4 {
        burst.push(
            kms.list_keys()
                .send()
                .await
                .map_err(|e| code(&e))
                .err()
                .flatten(),
        );
    }
    // The call log other languages read: the binary serves it over HTTP.
    let log = http_get(&url, kms_test_server::CALL_LOG_PATH);
    child.kill().unwrap();
    child.wait().unwrap();
    std::fs::remove_file(&path).ok();

    assert!(
        keys.unwrap()
            .keys()
            .iter()
            .any(|k| k.key_id() == Some("sym"))
    );
    assert!(!rotation, "--writes ignore");
    let throttled = burst
        .iter()
        .flatten()
        .filter(|c| *c == "ThrottlingException")
        .count();
    assert!(throttled >= 2, "--quota ListKeys=2: {burst:?}");
    let writes: Vec<_> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["write"] == true)
        .map(|c| {
            (
                c["operation"].as_str().unwrap(),
                c["key_id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(writes, [("EnableKeyRotation", "sym")], "{log}");
}

/// `GET path` over plain HTTP/1.1 (no client crate needed); the JSON body of a 200 reply.
fn http_get(url: &str, path: &str) -> serde_json::Value {
    let addr = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    serde_json::from_str(&reply[reply.find("\r\n\r\n").unwrap() + 4..]).unwrap()
}

#[test]
fn a_bad_inventory_exits_2_naming_the_problem() {
    let path = inventory_file(
        "bad.json",
        r#"{"schema_version": 1, "keys": [{"arn": "nope"}]}"#,
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_kms-test-server"))
        .args(["--inventory", path.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    std::fs::remove_file(&path).ok();
    assert_eq!(status.code(), Some(2));
    assert!(stderr.contains("arn"), "{stderr}");
}
