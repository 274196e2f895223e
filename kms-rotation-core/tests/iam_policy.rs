//! The IAM policies of `kms-rotation iam-policy` against the calls the code really makes: a scan
//! with every optional read turned on (all regions, all tags, rotation history, assumed roles),
//! then an apply and a rollback through the same roles, against the project's KMS test server.
//! A small front on 127.0.0.1 answers what that server does not speak (STS `AssumeRole`,
//! Account `ListRegions`), passes every KMS call on to it, and logs each call by its IAM action.
//! Each mode's policy must grant every action called, and nothing the mode never calls.
#![cfg(feature = "aws")]
#![allow(clippy::unwrap_used)]

mod aws_common;
mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use kms_rotation::aws::permissions::{IamPolicy, Mode};
use kms_rotation::aws::{AwsOptions, AwsSource, AwsTarget};
use kms_rotation::ops::{self, IamPolicyOptions};
use kms_rotation::remediate::{self, Journal, PlanOptions, read_journal};
use kms_rotation::{KeySourceExt, ScanRequest};
use kms_test_server::{Faults, KmsTestServer};

const ROLES: [&str; 2] = [
    "arn:aws:iam::111122223333:role/kms-rotation",
    "arn:aws:iam::444455556666:role/kms-rotation",
];
const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "us-west-2"];

/// A loopback front: STS and Account answered here, KMS passed on to `upstream`.
struct Front {
    url: String,
    /// The IAM action of every request, in arrival order.
    seen: Arc<Mutex<Vec<String>>>,
}

impl Front {
    fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = log.clone();
                std::thread::spawn(move || serve(stream, upstream, &log));
            }
        });
        Front { url, seen }
    }

    /// The IAM actions called since the last call, and forgets them.
    fn take(&self) -> BTreeSet<String> {
        std::mem::take(&mut *self.seen.lock().unwrap())
            .into_iter()
            .collect()
    }
}

/// One request, as read off the connection.
struct Request {
    head: Vec<String>,
    path: String,
    target: Option<String>,
    body: Vec<u8>,
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return None;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let mut head = vec![line.trim_end().to_owned()];
    let (mut length, mut target) = (0, None);
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap();
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().unwrap(),
            "x-amz-target" => target = Some(value.trim().to_owned()),
            // The upstream connection is one request long.
            "connection" => continue,
            _ => {}
        }
        head.push(line.to_owned());
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    Some(Request {
        head,
        path,
        target,
        body,
    })
}

fn serve(stream: TcpStream, upstream: SocketAddr, log: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    while let Some(request) = read_request(&mut reader) {
        let body = String::from_utf8_lossy(&request.body).into_owned();
        let (action, reply) = match &request.target {
            Some(target) if target.starts_with("AWSOrganizations") => {
                let operation = target.rsplit('.').next().unwrap_or_default();
                (
                    format!("organizations:{operation}"),
                    organization(operation),
                )
            }
            Some(target) => {
                let operation = target.rsplit('.').next().unwrap_or_default();
                (format!("kms:{operation}"), forward(&request, upstream))
            }
            None if request.path == "/listRegions" => ("account:ListRegions".into(), regions()),
            None if request.path == "/findings/import" => (
                "securityhub:BatchImportFindings".into(),
                imported(&request.body),
            ),
            None if body.contains("Action=AssumeRole") => {
                ("sts:AssumeRole".into(), assume_role(&body))
            }
            None if body.contains("Action=GetCallerIdentity") => {
                ("sts:GetCallerIdentity".into(), caller_identity())
            }
            None => (
                format!("unknown:{}", request.path),
                reply(400, "text/plain", ""),
            ),
        };
        log.lock().unwrap().push(action);
        if writer.write_all(&reply).is_err() {
            return;
        }
    }
}

/// Sends `request` to the KMS test server on a connection of its own, and returns its reply.
fn forward(request: &Request, upstream: SocketAddr) -> Vec<u8> {
    let mut up = TcpStream::connect(upstream).unwrap();
    let mut head = request.head.join("\r\n");
    head.push_str("\r\nconnection: close\r\n\r\n");
    up.write_all(head.as_bytes()).unwrap();
    up.write_all(&request.body).unwrap();
    let mut reply = Vec::new();
    up.read_to_end(&mut reply).unwrap();
    reply
}

fn reply(status: u16, content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\nx-amzn-requestid: front-1\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Every region of the fleet, enabled.
fn regions() -> Vec<u8> {
    let regions: Vec<_> = REGIONS
        .iter()
        .map(|r| serde_json::json!({"RegionName": r, "RegionOptStatus": "ENABLED_BY_DEFAULT"}))
        .collect();
    let body = serde_json::json!({ "Regions": regions }).to_string();
    reply(200, "application/json", &body)
}

/// An organisation of the roles' two accounts, both in one OU with no nested OU.
fn organization(operation: &str) -> Vec<u8> {
    let accounts: Vec<_> = ROLES
        .iter()
        .map(|r| serde_json::json!({"Id": &r[13..25], "State": "ACTIVE"}))
        .collect();
    let body = match operation {
        "ListAccounts" | "ListAccountsForParent" => serde_json::json!({ "Accounts": accounts }),
        "ListOrganizationalUnitsForParent" => serde_json::json!({ "OrganizationalUnits": [] }),
        _ => return reply(400, "application/json", "{}"),
    };
    reply(200, "application/x-amz-json-1.1", &body.to_string())
}

/// The base credentials: an account of their own, outside the organisation's list, so that
/// every account is read through its role.
fn caller_identity() -> Vec<u8> {
    let body = r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:iam::999988887777:user/scanner</Arn>
    <UserId>AIDATEST</UserId>
    <Account>999988887777</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>front-1</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>"#;
    reply(200, "text/xml", body)
}

/// Security Hub taking every finding it is sent.
fn imported(body: &[u8]) -> Vec<u8> {
    let sent: serde_json::Value = serde_json::from_slice(body).unwrap();
    let count = sent["Findings"].as_array().unwrap().len();
    let body = serde_json::json!({"FailedCount": 0, "SuccessCount": count, "FailedFindings": []});
    reply(200, "application/json", &body.to_string())
}

/// Temporary credentials whose access key id (`TEST<account>`) tells the KMS test server which
/// account the role is in.
fn assume_role(form: &str) -> Vec<u8> {
    let account = form
        .split("iam%3A%3A")
        .nth(1)
        .map(|rest| &rest[..12])
        .unwrap();
    let expires = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let body = format!(
        r#"<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <Credentials>
      <AccessKeyId>TEST{account}</AccessKeyId>
      <SecretAccessKey>dummy-secret</SecretAccessKey>
      <SessionToken>dummy-token</SessionToken>
      <Expiration>{expires}</Expiration>
    </Credentials>
    <AssumedRoleUser>
      <AssumedRoleId>AROATEST:kms-rotation</AssumedRoleId>
      <Arn>arn:aws:sts::{account}:assumed-role/kms-rotation/kms-rotation</Arn>
    </AssumedRoleUser>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>front-1</RequestId></ResponseMetadata>
</AssumeRoleResponse>"#
    );
    reply(200, "text/xml", &body)
}

/// The IAM actions a policy document grants.
fn granted(policy: &IamPolicy) -> BTreeSet<String> {
    let document = serde_json::to_value(&policy.document).unwrap();
    document["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["Action"].as_array().unwrap().clone())
        .map(|a| a.as_str().unwrap().to_owned())
        .collect()
}

fn policy(mode: Mode) -> IamPolicy {
    ops::iam_policy(IamPolicyOptions {
        mode,
        role_arns: ROLES.iter().map(|r| (*r).to_owned()).collect(),
    })
    .unwrap()
}

/// Called ⊆ granted, and granted = the code's list for the mode = called: the policy misses no
/// call the mode makes and grants nothing it never makes.
fn assert_exact(mode: Mode, called: &BTreeSet<String>) {
    let granted = granted(&policy(mode));
    let listed: BTreeSet<String> = mode.actions().iter().map(|a| a.iam_action()).collect();
    let missing: Vec<_> = called.difference(&granted).collect();
    assert!(
        missing.is_empty(),
        "{mode:?} called but not granted: {missing:?}"
    );
    assert_eq!(granted, listed, "{mode:?}: the policy is the code's list");
    let never: Vec<_> = listed.difference(called).collect();
    assert!(
        never.is_empty(),
        "{mode:?} grants what it never called: {never:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_policy_grants_exactly_what_its_mode_calls() {
    let server = KmsTestServer::start(common::fleet(), Faults::default())
        .await
        .unwrap();
    let front = Front::start(server.local_addr());
    let sdk = aws_common::sdk_config(&front.url, "AKIDTEST").await;
    let options = AwsOptions {
        all_regions: true,
        role_arns: ROLES.iter().map(|r| (*r).to_owned()).collect(),
        ..aws_common::options(&[])
    };
    let source = Arc::new(AwsSource::from_sdk_config(sdk, options).await.unwrap());

    // Read-only: a scan with every optional read, and its findings sent to Security Hub.
    let request = ScanRequest {
        all_tags: true,
        rotation_history: true,
        ..ScanRequest::default()
    };
    let report = source.scan(&request).await.unwrap();
    assert!(report.is_complete(), "{:?}", report.scope_errors);
    assert_eq!(report.findings.len(), common::fleet().len());
    let sent = kms_rotation::aws::security_hub::send_with_source(&report, None, &source).await;
    assert!(sent.complete, "{sent:?}");
    // The same accounts found through the organisation (one OU), and a shard of them.
    let org = AwsSource::from_sdk_config(
        aws_common::sdk_config(&front.url, "AKIDTEST").await,
        AwsOptions {
            all_regions: true,
            organization: true,
            org_role_name: Some("kms-rotation".into()),
            include_ous: vec!["ou-abcd-abcdefgh".into()],
            ..aws_common::options(&[])
        },
    )
    .await
    .unwrap();
    let found = org.scan(&request).await.unwrap();
    assert!(found.is_complete(), "{:?}", found.scope_errors);
    assert_eq!(found.findings, report.findings);
    let scanned = front.take();
    let kms: BTreeSet<String> = server
        .calls()
        .iter()
        .map(|c| format!("kms:{}", c.operation))
        .collect();
    assert!(
        kms.is_subset(&scanned),
        "every KMS call went through the front"
    );
    assert!(
        !scanned.iter().any(|a| a.starts_with("unknown")),
        "{scanned:?}"
    );
    assert_exact(Mode::ReadOnly, &scanned);

    // Remediate: apply the plan of that scan, then roll it back, through the roles. A new
    // source, as `apply` in a process of its own has: the scan's cached role credentials would
    // hide the AssumeRole calls.
    let plan = remediate::plan(&report, &PlanOptions::default()).unwrap();
    assert!(!plan.actions.is_empty());
    let sdk = aws_common::sdk_config(&front.url, "AKIDTEST").await;
    let options = AwsOptions {
        role_arns: ROLES.iter().map(|r| (*r).to_owned()).collect(),
        ..aws_common::options(&REGIONS)
    };
    let source = AwsSource::from_sdk_config(sdk, options).await.unwrap();
    let target = Arc::new(AwsTarget::from_source(Arc::new(source)));
    let path = common::scratch("iam-policy.ndjson");
    let journal = Journal::open(&path).unwrap();
    let applied = remediate::apply(
        &plan,
        target.clone(),
        &common::quick_apply_options(),
        &journal,
    )
    .await
    .unwrap();
    assert!(applied.is_success(), "{applied:#?}");
    let entries = read_journal(&path).unwrap();
    let undone = remediate::rollback(
        &entries,
        target,
        &common::quick_rollback_options(),
        &journal,
    )
    .await
    .unwrap();
    assert!(undone.is_success(), "{undone:#?}");
    assert_exact(Mode::Remediate, &front.take());
}
