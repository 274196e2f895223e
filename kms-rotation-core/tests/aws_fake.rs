//! The AWS source against a tiny canned-reply server on 127.0.0.1, for replies neither moto nor
//! the project's KMS test server can give: Account `ListRegions`, enum values newer than the
//! model, and paging replies whose `Truncated` and `NextMarker` disagree.
#![cfg(feature = "aws")]
#![allow(clippy::unwrap_used)]

mod aws_common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kms_rotation::aws::{AwsOptions, AwsSource, REGION_NOT_ENABLED};
use kms_rotation::{KeySource, KeySourceExt, ReadRequest, Reason, ScanRequest, Status};
use serde_json::{Value, json};

/// One request as the fake saw it: the operation, the region it was signed for, and the body.
#[derive(Debug, Clone)]
struct Seen {
    operation: String,
    region: String,
    body: Value,
}

type Handler = dyn Fn(&Seen) -> (u16, Value) + Send + Sync;

/// A server answering every request with `handler`'s reply, one thread per connection.
struct Fake {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Fake {
    fn start(handler: impl Fn(&Seen) -> (u16, Value) + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (handler, log) = (handler.clone(), log.clone());
                std::thread::spawn(move || serve(stream, &*handler, &log));
            }
        });
        Fake { url, seen }
    }

    fn operations(&self) -> Vec<(String, String)> {
        let seen = self.seen.lock().unwrap();
        seen.iter()
            .map(|s| (s.operation.clone(), s.region.clone()))
            .collect()
    }

    fn calls(&self, operation: &str) -> Vec<Seen> {
        let seen = self.seen.lock().unwrap();
        seen.iter()
            .filter(|s| s.operation == operation)
            .cloned()
            .collect()
    }
}

/// Serves the requests of one connection (keep-alive) until the client closes it.
fn serve(stream: TcpStream, handler: &Handler, log: &Mutex<Vec<Seen>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or("/")
            .to_owned();
        let (mut length, mut target, mut region) = (0, String::new(), String::new());
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').unwrap();
            let value = value.trim();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.parse().unwrap(),
                "x-amz-target" => target = value.rsplit('.').next().unwrap().to_owned(),
                // Credential=AKID/DATE/REGION/SERVICE/aws4_request
                "authorization" => {
                    region = value
                        .split("Credential=")
                        .nth(1)
                        .and_then(|c| c.split('/').nth(2))
                        .unwrap_or_default()
                        .to_owned();
                }
                _ => {}
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let operation = if target.is_empty() {
            // restJson1 (Account): the operation is the path, `/listRegions`.
            let name = path.trim_start_matches('/');
            let mut chars = name.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        } else {
            target
        };
        let seen = Seen {
            operation,
            region,
            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        };
        let (status, reply) = handler(&seen);
        log.lock().unwrap().push(seen);
        let reply = reply.to_string();
        let response = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/x-amz-json-1.1\r\n\
             x-amzn-requestid: fake-request-1\r\ncontent-length: {}\r\n\r\n{reply}",
            reply.len()
        );
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

fn no_keys() -> (u16, Value) {
    (200, json!({"Keys": [], "Truncated": false}))
}

fn no_aliases() -> (u16, Value) {
    (200, json!({"Aliases": [], "Truncated": false}))
}

async fn source(fake: &Fake, options: AwsOptions) -> AwsSource {
    let sdk = aws_common::sdk_config(&fake.url, "AKIDFAKETEST").await;
    AwsSource::from_sdk_config(sdk, options).await.unwrap()
}

#[tokio::test]
async fn all_regions_reads_the_enabled_ones_and_reports_the_rest() {
    let fake = Fake::start(|seen| match seen.operation.as_str() {
        "ListRegions" => (
            200,
            json!({"Regions": [
                {"RegionName": "eu-west-1", "RegionOptStatus": "ENABLED_BY_DEFAULT"},
                {"RegionName": "af-south-1", "RegionOptStatus": "ENABLED"},
                {"RegionName": "me-south-1", "RegionOptStatus": "DISABLED"},
                {"RegionName": "ap-east-2", "RegionOptStatus": "ENABLING"},
            ]}),
        ),
        "ListKeys" => no_keys(),
        "ListAliases" => no_aliases(),
        other => panic!("unexpected {other}"),
    });

    // Every enabled region, and only those.
    let all = source(
        &fake,
        AwsOptions {
            all_regions: true,
            ..aws_common::options(&[])
        },
    )
    .await;
    let collected = all.read(&ReadRequest::default()).await.unwrap();
    assert!(collected.scope_errors.is_empty());
    assert_eq!(collected.regions, ["af-south-1", "eu-west-1"]);
    let list_regions = fake.calls("ListRegions");
    assert_eq!(list_regions.len(), 1);
    let statuses = &list_regions[0].body["RegionOptStatusContains"];
    assert_eq!(statuses, &json!(["ENABLED", "ENABLED_BY_DEFAULT"]));

    // Named regions are checked against them: one not enabled is a scope error, not a crash.
    let named = source(
        &fake,
        AwsOptions {
            all_regions: true,
            ..aws_common::options(&["eu-west-1", "me-south-1"])
        },
    )
    .await;
    let report = named.scan(&ScanRequest::default()).await.unwrap();
    assert_eq!(report.scope.regions, ["eu-west-1"]);
    assert!(!report.is_complete());
    let [error] = report.scope_errors.as_slice() else {
        panic!("{:?}", report.scope_errors)
    };
    assert_eq!(error.region.as_deref(), Some("me-south-1"));
    assert_eq!(error.code, REGION_NOT_ENABLED);
    assert!(
        !fake
            .operations()
            .contains(&("ListKeys".into(), "me-south-1".into())),
        "a region that is not enabled is never called"
    );
}

#[tokio::test]
async fn a_failed_list_regions_is_a_scope_error() {
    let fake = Fake::start(|seen| match seen.operation.as_str() {
        "ListRegions" => (
            403,
            json!({"__type": "AccessDeniedException", "message": "not allowed: account:ListRegions"}),
        ),
        other => panic!("unexpected {other}"),
    });
    let source = source(
        &fake,
        AwsOptions {
            all_regions: true,
            ..aws_common::options(&[])
        },
    )
    .await;
    let collected = source.read(&ReadRequest::default()).await.unwrap();
    let [error] = collected.scope_errors.as_slice() else {
        panic!("{:?}", collected.scope_errors)
    };
    assert_eq!(error.operation, "ListRegions");
    assert_eq!(error.code, "AccessDeniedException");
    assert_eq!(error.region, None);
}

const KEY_ARN: &str = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555";
const KEY_ID: &str = "11111111-2222-3333-4444-555555555555";

fn key_metadata(spec: &str) -> Value {
    json!({"KeyMetadata": {
        "KeyId": KEY_ID, "Arn": KEY_ARN, "AWSAccountId": "123456789012",
        "KeyManager": "CUSTOMER", "KeySpec": spec, "KeyUsage": "ENCRYPT_DECRYPT",
        "Origin": "AWS_KMS", "KeyState": "Enabled", "Enabled": true,
        "CreationDate": 1700000000.0
    }})
}

#[tokio::test]
async fn a_key_spec_the_model_does_not_know_is_an_error_never_a_guess() {
    let fake = Fake::start(|seen| match seen.operation.as_str() {
        "ListKeys" => (
            200,
            json!({"Keys": [{"KeyId": KEY_ID, "KeyArn": KEY_ARN}], "Truncated": false}),
        ),
        "ListAliases" => no_aliases(),
        "DescribeKey" => (200, key_metadata("QUANTUM_9000")),
        other => panic!("unexpected {other}"),
    });
    let source = source(&fake, aws_common::options(&["eu-west-1"])).await;
    let report = source.scan(&ScanRequest::default()).await.unwrap();
    let [finding] = report.findings.as_slice() else {
        panic!("{:?}", report.findings)
    };
    assert_eq!(finding.status, Status::Error);
    assert_eq!(finding.reason, Reason::DescribeFailed);
    let error = finding.error.as_ref().unwrap();
    assert_eq!(error.code, "UnknownEnumValue");
    assert!(error.message.contains("QUANTUM_9000"));
    assert!(fake.calls("GetKeyRotationStatus").is_empty());
    // DescribeKey was called with the id ListKeys returned, not an alias or the ARN.
    assert_eq!(fake.calls("DescribeKey")[0].body["KeyId"], KEY_ID);
}

#[tokio::test]
async fn paging_follows_truncated_not_a_stray_next_marker() {
    let fake = Fake::start(|seen| match seen.operation.as_str() {
        // Page one says there is more; page two carries a marker but says it is the last.
        "ListKeys" if seen.body.get("Marker").is_none() => (
            200,
            json!({"Keys": [{"KeyId": KEY_ID, "KeyArn": KEY_ARN}], "NextMarker": "page-2", "Truncated": true}),
        ),
        "ListKeys" => (
            200,
            json!({"Keys": [], "NextMarker": "page-3", "Truncated": false}),
        ),
        "ListAliases" => (
            200,
            json!({"Aliases": [
                {"AliasName": "alias/payments", "TargetKeyId": KEY_ID},
                {"AliasName": "alias/aws/ebs"}
            ], "NextMarker": "stray", "Truncated": false}),
        ),
        "DescribeKey" => (200, key_metadata("SYMMETRIC_DEFAULT")),
        "GetKeyRotationStatus" => (
            200,
            json!({"KeyId": KEY_ARN, "KeyRotationEnabled": true, "RotationPeriodInDays": 730,
                   "NextRotationDate": 1800000000.0}),
        ),
        other => panic!("unexpected {other}"),
    });
    let source = source(&fake, aws_common::options(&["eu-west-1"])).await;
    let report = source.scan(&ScanRequest::default()).await.unwrap();

    let list_keys = fake.calls("ListKeys");
    assert_eq!(list_keys.len(), 2, "{list_keys:?}");
    assert_eq!(list_keys[0].body["Limit"], 1000);
    assert_eq!(list_keys[1].body["Marker"], "page-2");
    assert_eq!(fake.calls("ListAliases").len(), 1);

    let [finding] = report.findings.as_slice() else {
        panic!("{:?}", report.findings)
    };
    assert_eq!(finding.aliases, Some(vec!["alias/payments".to_owned()]));
    // The reported period is used: 730 days is longer than the default policy's 365.
    assert_eq!(
        (finding.status, finding.reason),
        (Status::Fail, Reason::RotationPeriodExceedsPolicy)
    );
    let rotation = finding.rotation.as_ref().unwrap();
    assert_eq!(rotation.period_days, Some(730));
    assert_eq!(
        rotation.next_rotation_date.unwrap().timestamp(),
        1_800_000_000
    );
}

#[tokio::test]
async fn a_throttled_rotation_status_is_an_error_finding_not_false() {
    let fake = Fake::start(|seen| match seen.operation.as_str() {
        "ListKeys" => (
            200,
            json!({"Keys": [{"KeyId": KEY_ID, "KeyArn": KEY_ARN}], "Truncated": false}),
        ),
        "ListAliases" => no_aliases(),
        "DescribeKey" => (200, key_metadata("SYMMETRIC_DEFAULT")),
        "GetKeyRotationStatus" => (
            400,
            json!({"__type": "ThrottlingException", "message": "You have exceeded the rate at which you may call KMS."}),
        ),
        other => panic!("unexpected {other}"),
    });
    // A throttle that outlasts the throttling budget: retried within it, then an error.
    let options = AwsOptions {
        max_attempts: 1,
        throttling_budget: Duration::from_millis(300),
        ..aws_common::options(&["eu-west-1"])
    };
    let source = source(&fake, options).await;
    let report = source.scan(&ScanRequest::default()).await.unwrap();
    let [finding] = report.findings.as_slice() else {
        panic!("{:?}", report.findings)
    };
    assert_eq!(finding.status, Status::Error);
    assert_eq!(finding.reason, Reason::RotationStatusFailed);
    assert_eq!(finding.error.as_ref().unwrap().code, "ThrottlingException");
    assert!(finding.rotation.is_none());
    let attempts = fake.calls("GetKeyRotationStatus").len();
    assert!(
        attempts > 1,
        "throttling is retried past max_attempts ({attempts})"
    );
}
