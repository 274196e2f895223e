//! The call log, and the wire details a non-SDK client sees (request id, error body, unknown
//! operations).

#![allow(clippy::unwrap_used)]

mod common;

use std::io::{Read, Write};

use common::*;
use kms_test_server::Injected;

#[tokio::test]
async fn every_call_is_logged_with_caller_key_and_outcome() {
    let server = start(fleet()).await;
    let us = client(&server, REGION);
    us.list_keys().send().await.unwrap();
    us.describe_key()
        .key_id("alias/payments")
        .send()
        .await
        .unwrap();
    us.get_key_rotation_status()
        .key_id("denied")
        .send()
        .await
        .unwrap_err();
    us.enable_key_rotation().key_id("sym").send().await.unwrap();
    us.disable_key_rotation()
        .key_id("disabled")
        .send()
        .await
        .unwrap_err();
    let other = client_as(&server, EU, &format!("TEST{OTHER_ACCOUNT}"));
    other.list_aliases().send().await.unwrap();

    let calls = server.calls();
    let summary: Vec<_> = calls
        .iter()
        .map(|c| {
            (
                c.operation.as_str(),
                c.account_id.as_str(),
                c.region.as_str(),
                c.key_id.as_deref(),
                c.status,
                c.error_code.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("ListKeys", ACCOUNT, REGION, None, 200, None),
            (
                "DescribeKey",
                ACCOUNT,
                REGION,
                Some("alias/payments"),
                200,
                None
            ),
            (
                "GetKeyRotationStatus",
                ACCOUNT,
                REGION,
                Some("denied"),
                400,
                Some("AccessDeniedException")
            ),
            ("EnableKeyRotation", ACCOUNT, REGION, Some("sym"), 200, None),
            (
                "DisableKeyRotation",
                ACCOUNT,
                REGION,
                Some("disabled"),
                400,
                Some("DisabledException")
            ),
            ("ListAliases", OTHER_ACCOUNT, EU, None, 200, None),
        ]
    );
    assert_eq!(
        calls[1].key_arn.as_deref(),
        Some(arn(REGION, "sym").as_str()),
        "alias resolved"
    );
    assert!(calls.windows(2).all(|w| w[0].at <= w[1].at));
    assert!(calls.iter().all(|c| c.injected.is_none()));

    let writes: Vec<_> = server
        .write_calls()
        .iter()
        .map(|c| c.key_arn.clone().unwrap())
        .collect();
    assert_eq!(writes, [arn(REGION, "sym"), arn(REGION, "disabled")]);
    assert_eq!(server.calls_for("DescribeKey").len(), 1);
    assert!(server.calls_for("CreateKey").is_empty());
    server.clear_calls();
    assert!(server.calls().is_empty());
}

/// Sends one raw HTTP/1.1 request and returns the whole reply.
fn raw(url: &str, target: Option<&str>, body: &str) -> String {
    let addr = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    let target = target
        .map(|t| format!("X-Amz-Target: {t}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-amz-json-1.1\r\n{target}\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    reply
}

#[tokio::test]
async fn wire_errors_for_unknown_operations_and_bad_bodies() {
    let server = start(fleet()).await;
    let url = server.endpoint_url();
    let replies = tokio::task::spawn_blocking(move || {
        [
            raw(&url, Some("TrentService.CreateKey"), "{}"),
            raw(&url, Some("TrentService.DescribeKey"), "not json"),
            raw(&url, Some("TrentService.DescribeKey"), "{}"),
            raw(&url, Some("TrentService.ListKeys"), ""),
            raw(&url, None, "{}"),
        ]
    })
    .await
    .unwrap();
    let expect = [
        ("400", "UnknownOperationException"),
        ("400", "SerializationException"),
        ("400", "ValidationException"),
        ("200", "\"Keys\""),
        ("400", "UnknownOperationException"),
    ];
    for (reply, (status, text)) in replies.iter().zip(expect) {
        assert!(reply.starts_with(&format!("HTTP/1.1 {status}")), "{reply}");
        assert!(reply.contains(text), "{reply}");
        assert!(
            reply.to_ascii_lowercase().contains("x-amzn-requestid: "),
            "{reply}"
        );
    }
    // Unsigned requests use the default account and us-east-1.
    let logged = server.calls();
    assert_eq!(logged.len(), 5);
    assert!(
        logged
            .iter()
            .all(|c| c.account_id == ACCOUNT && c.region == REGION)
    );
    assert_eq!(logged[4].operation, "");
    assert!(
        logged
            .iter()
            .all(|c| c.injected != Some(Injected::Malformed))
    );
}

#[tokio::test]
async fn the_call_log_is_served_over_http_and_not_logged_itself() {
    let server = start(fleet()).await;
    let url = server.endpoint_url();
    let log = tokio::task::spawn_blocking(move || {
        raw(&url, Some("TrentService.ListKeys"), "{}");
        raw(
            &url,
            Some("TrentService.EnableKeyRotation"),
            r#"{"KeyId": "sym"}"#,
        );
        let addr = url.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        write!(
            stream,
            "GET {} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n",
            kms_test_server::CALL_LOG_PATH
        )
        .unwrap();
        let mut reply = String::new();
        stream.read_to_string(&mut reply).unwrap();
        reply
    })
    .await
    .unwrap();
    assert!(log.starts_with("HTTP/1.1 200"), "{log}");
    let body = &log[log.find("\r\n\r\n").unwrap() + 4..];
    let calls: serde_json::Value = serde_json::from_str(body).unwrap();
    let summary: Vec<_> = calls
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["operation"].as_str().unwrap(),
                c["write"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(summary, [("ListKeys", false), ("EnableKeyRotation", true)]);
    assert_eq!(calls[1]["key_arn"], arn(REGION, "sym"));
    assert_eq!(server.calls().len(), 2);
}
