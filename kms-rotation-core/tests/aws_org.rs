//! `organization` against moto's Organizations, STS and KMS: an organisation with OUs (one
//! nested) and member accounts, keys in each account, discovered and read through the role.
//!
//! moto is multi-account: credentials from AssumeRole act in the role's account, so keys created
//! through a member's role are filed under that account (checked here: each finding's account is
//! the one its key was created in). moto assumes any role, so the account whose role cannot be
//! assumed is made by a proxy in front of moto that refuses that account's AssumeRole with
//! AccessDenied and passes every other request through.
//!
//! Start moto with `moto_server -H 127.0.0.1 -p 5055` and set
//! `KMS_ROTATION_MOTO_URL=http://127.0.0.1:5055` (skipped with a note otherwise, outside CI).
#![cfg(feature = "aws")]
#![allow(clippy::unwrap_used)]

mod aws_common;
mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};

use aws_config::SdkConfig;
use kms_rotation::aws::{AwsOptions, AwsSource};
use kms_rotation::{ErrorKind, KeySourceExt, Report, ScanRequest, Scope, Shard};

const MANAGEMENT: &str = "123456789012"; // moto's default account
const REGION: &str = "eu-west-1";
const ROLE: &str = "kms-rotation-scanner";

/// The organisation: OU ids and the accounts in them, and each account's one key.
struct Org {
    prod: String,
    prod_eu: String,
    dev: String,
    /// Member accounts by name: `a` in prod, `b` in prod/eu (nested), `c` in dev.
    member: BTreeMap<&'static str, String>,
    /// Key ARN -> account, for every account including the management one.
    keys: BTreeMap<String, String>,
}

async fn organisation(sdk: &SdkConfig) -> Org {
    let org = aws_sdk_organizations::Client::new(sdk);
    let created = org
        .create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .unwrap();
    assert_eq!(
        created.organization().unwrap().master_account_id(),
        Some(MANAGEMENT)
    );
    let root = org.list_roots().send().await.unwrap().roots()[0]
        .id()
        .unwrap()
        .to_owned();
    let unit = |parent: String, name: &'static str| {
        let org = org.clone();
        async move {
            org.create_organizational_unit()
                .parent_id(parent)
                .name(name)
                .send()
                .await
                .unwrap()
                .organizational_unit()
                .unwrap()
                .id()
                .unwrap()
                .to_owned()
        }
    };
    let prod = unit(root.clone(), "prod").await;
    let prod_eu = unit(prod.clone(), "eu").await;
    let dev = unit(root.clone(), "dev").await;
    let mut member = BTreeMap::new();
    for (name, parent) in [("a", &prod), ("b", &prod_eu), ("c", &dev)] {
        let account = org
            .create_account()
            .email(format!("{name}@example.com"))
            .account_name(name)
            .send()
            .await
            .unwrap()
            .create_account_status()
            .unwrap()
            .account_id()
            .unwrap()
            .to_owned();
        org.move_account()
            .account_id(&account)
            .source_parent_id(&root)
            .destination_parent_id(parent)
            .send()
            .await
            .unwrap();
        member.insert(name, account);
    }
    let mut keys = BTreeMap::new();
    keys.insert(create_key(sdk, None).await, MANAGEMENT.to_owned());
    for account in member.values() {
        keys.insert(create_key(sdk, Some(account)).await, account.clone());
    }
    Org {
        prod,
        prod_eu,
        dev,
        member,
        keys,
    }
}

/// Creates a key in `account` (through its role) or the management account; returns its ARN.
async fn create_key(sdk: &SdkConfig, account: Option<&str>) -> String {
    let kms = match account {
        Some(account) => {
            let source = AwsSource::from_sdk_config(
                sdk.clone(),
                AwsOptions {
                    role_arns: vec![format!("arn:aws:iam::{account}:role/{ROLE}")],
                    ..aws_common::options(&[REGION])
                },
            )
            .await
            .unwrap();
            source.kms_client(account, REGION, None).unwrap()
        }
        None => kms_rotation::aws::kms_client(sdk, REGION, None),
    };
    kms.create_key()
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .arn()
        .unwrap()
        .to_owned()
}

fn org_options() -> AwsOptions {
    AwsOptions {
        organization: true,
        org_role_name: Some(ROLE.to_owned()),
        external_id: Some("kms-rotation-test".into()),
        ..aws_common::options(&[REGION])
    }
}

async fn scan(sdk: &SdkConfig, options: AwsOptions) -> kms_rotation::Result<Report> {
    let source = AwsSource::from_sdk_config(sdk.clone(), options).await?;
    source.scan(&ScanRequest::default()).await
}

/// Key ARN -> account of every finding; each finding's account is checked against its ARN.
fn found(report: &Report) -> BTreeMap<String, String> {
    report
        .findings
        .iter()
        .map(|f| {
            assert!(f.arn.contains(&format!(":{}:", f.account_id)), "{}", f.arn);
            (f.arn.clone(), f.account_id.clone())
        })
        .collect()
}

fn keys_of(org: &Org, accounts: &[&str]) -> BTreeMap<String, String> {
    org.keys
        .iter()
        .filter(|(_, account)| accounts.contains(&account.as_str()))
        .map(|(arn, account)| (arn.clone(), account.clone()))
        .collect()
}

#[tokio::test]
async fn every_account_of_the_organisation_is_read_each_through_its_role() {
    let Some(url) = aws_common::moto_url() else {
        return;
    };
    let _moto = aws_common::exclusive_moto(&url).await;
    let sdk = aws_common::sdk_config(&url, "AKIDMOTOTEST").await;
    let org = organisation(&sdk).await;
    // A closed account (SUSPENDED) with a key: not ACTIVE, so not read.
    let organizations = aws_sdk_organizations::Client::new(&sdk);
    let closed = organizations
        .create_account()
        .email("closed@example.com")
        .account_name("closed")
        .send()
        .await
        .unwrap()
        .create_account_status()
        .unwrap()
        .account_id()
        .unwrap()
        .to_owned();
    create_key(&sdk, Some(&closed)).await;
    organizations
        .close_account()
        .account_id(&closed)
        .send()
        .await
        .unwrap();

    let report = scan(&sdk, org_options()).await.unwrap();
    assert!(report.scope_errors.is_empty(), "{:?}", report.scope_errors);
    // moto files each key under the account whose role created it, and each is found there.
    assert_eq!(found(&report), org.keys);
    let mut accounts: Vec<String> = org.member.values().cloned().collect();
    accounts.push(MANAGEMENT.to_owned());
    accounts.sort();
    assert_eq!(report.scope.accounts, accounts);
}

#[tokio::test]
async fn ous_and_excluded_accounts_narrow_the_organisation() {
    let Some(url) = aws_common::moto_url() else {
        return;
    };
    let _moto = aws_common::exclusive_moto(&url).await;
    let sdk = aws_common::sdk_config(&url, "AKIDMOTOTEST").await;
    let org = organisation(&sdk).await;
    let (a, b, c) = (
        org.member["a"].as_str(),
        org.member["b"].as_str(),
        org.member["c"].as_str(),
    );

    // prod holds a, and b through the nested OU.
    let report = scan(
        &sdk,
        AwsOptions {
            include_ous: vec![org.prod.clone()],
            ..org_options()
        },
    )
    .await
    .unwrap();
    assert!(report.scope_errors.is_empty(), "{:?}", report.scope_errors);
    assert_eq!(found(&report), keys_of(&org, &[a, b]));

    let report = scan(
        &sdk,
        AwsOptions {
            include_ous: vec![org.prod.clone(), org.dev.clone()],
            exclude_ous: vec![org.prod_eu.clone()],
            ..org_options()
        },
    )
    .await
    .unwrap();
    assert_eq!(found(&report), keys_of(&org, &[a, c]));

    let report = scan(
        &sdk,
        AwsOptions {
            exclude_accounts: vec![c.to_owned(), MANAGEMENT.to_owned()],
            ..org_options()
        },
    )
    .await
    .unwrap();
    assert_eq!(found(&report), keys_of(&org, &[a, b]));

    // An account asked for that the organisation (as narrowed) does not hold is not read: a
    // scope error, never a clean account.
    let source = AwsSource::from_sdk_config(
        sdk.clone(),
        AwsOptions {
            include_ous: vec![org.dev.clone()],
            ..org_options()
        },
    )
    .await
    .unwrap();
    let report = source
        .scan(&ScanRequest {
            scope: Scope {
                accounts: vec![a.to_owned(), c.to_owned()],
                ..Scope::default()
            },
            ..ScanRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(found(&report), keys_of(&org, &[c]));
    let [error] = report.scope_errors.as_slice() else {
        panic!("{:?}", report.scope_errors)
    };
    assert_eq!(error.account_id.as_deref(), Some(a));
    assert_eq!(error.code, kms_rotation::source::ACCOUNT_NOT_READ);
}

#[tokio::test]
async fn an_ou_that_cannot_be_listed_fails_the_scan() {
    let Some(url) = aws_common::moto_url() else {
        return;
    };
    let _moto = aws_common::exclusive_moto(&url).await;
    let sdk = aws_common::sdk_config(&url, "AKIDMOTOTEST").await;
    let org = organisation(&sdk).await;
    let unknown = format!("{}x", &org.dev[..org.dev.len() - 1]);
    let err = scan(
        &sdk,
        AwsOptions {
            exclude_ous: vec![org.prod.clone(), unknown],
            ..org_options()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.context().field.as_deref(), Some("exclude_ous[1]"));
    assert_eq!(
        err.context().operation.as_deref(),
        Some("ListAccountsForParent")
    );
}

#[tokio::test]
async fn without_an_organisation_the_scan_fails_instead_of_reading_nothing() {
    let Some(url) = aws_common::moto_url() else {
        return;
    };
    let _moto = aws_common::exclusive_moto(&url).await;
    let sdk = aws_common::sdk_config(&url, "AKIDMOTOTEST").await;
    let err = scan(&sdk, org_options()).await.unwrap_err();
    assert_eq!(err.context().operation.as_deref(), Some("ListAccounts"));
    assert_ne!(err.kind(), ErrorKind::InvalidInput, "{err}");
}

#[tokio::test]
async fn an_account_whose_role_cannot_be_assumed_is_a_scope_error_and_the_others_are_read() {
    let Some(url) = aws_common::moto_url() else {
        return;
    };
    let _moto = aws_common::exclusive_moto(&url).await;
    let sdk = aws_common::sdk_config(&url, "AKIDMOTOTEST").await;
    let org = organisation(&sdk).await;
    let refused = org.member["b"].clone();
    let proxy = refusing_proxy(&url, &refused);
    let through_proxy = aws_common::sdk_config(&proxy, "AKIDMOTOTEST").await;

    let report = scan(&through_proxy, org_options()).await.unwrap();
    let [error] = report.scope_errors.as_slice() else {
        panic!("{:?}", report.scope_errors)
    };
    assert_eq!(error.account_id.as_deref(), Some(refused.as_str()));
    assert_eq!(error.operation, "AssumeRole");
    assert_eq!(error.code, "AccessDenied");
    assert!(error.message.contains(&refused), "{}", error.message);
    assert!(!report.is_complete());
    let others: Vec<&str> = org
        .keys
        .values()
        .map(String::as_str)
        .filter(|a| *a != refused)
        .collect();
    assert_eq!(found(&report), keys_of(&org, &others));

    // The CLI: exit 3 (incomplete), the account and code in the report.
    let out = common::cli()
        .args([
            "scan",
            "--organization",
            "--org-role-name",
            ROLE,
            "--region",
            REGION,
            "--endpoint-url",
            &proxy,
            "--format",
            "json",
            "-q",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["scope_errors"][0]["account_id"], refused.as_str());
    assert_eq!(report["scope_errors"][0]["code"], "AccessDenied");
    assert_eq!(
        report["findings"].as_array().unwrap().len(),
        org.keys.len() - 1
    );
}

/// `--security-hub` sends each account's findings with that account's credentials: members'
/// through the organisation role, the management account's with its own. moto keeps findings
/// per account, so each account's are read back through its role.
#[test]
fn security_hub_gets_each_accounts_findings_from_that_account() {
    let Some(url) = aws_common::moto_url() else {
        return;
    };
    // Room for the SDK's Security Hub types, as in tests/security_hub.rs.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(16 << 20)
        .build()
        .unwrap();
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(16 << 20)
            .spawn_scoped(scope, || runtime.block_on(security_hub_by_account(url)))
            .unwrap()
            .join()
            .unwrap()
    })
}

async fn security_hub_by_account(url: String) {
    let _moto = aws_common::exclusive_moto(&url).await;
    let sdk = aws_common::sdk_config(&url, "AKIDMOTOTEST").await;
    let org = organisation(&sdk).await;
    let out = common::cli()
        .args([
            "scan",
            "--organization",
            "--org-role-name",
            ROLE,
            "--region",
            REGION,
            "--endpoint-url",
            &url,
            "--security-hub",
            "-q",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // 1: keys without rotation fail; 3 would say some finding was not imported.
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let account = org.member["c"].clone();
    let source = AwsSource::from_sdk_config(
        sdk.clone(),
        AwsOptions {
            role_arns: vec![format!("arn:aws:iam::{account}:role/{ROLE}")],
            ..aws_common::options(&[REGION])
        },
    )
    .await
    .unwrap();
    let config = aws_sdk_securityhub::config::Builder::from(source.sdk_config(&account).unwrap())
        .region(aws_config::Region::new(REGION))
        .build();
    let hub = aws_sdk_securityhub::Client::from_conf(config);
    let stored = hub.get_findings().send().await.unwrap();
    let ids: Vec<Option<&str>> = stored
        .findings()
        .iter()
        .map(|f| f.aws_account_id())
        .collect();
    assert_eq!(ids, [Some(account.as_str())]);
}

/// Shards of an organisation scan (the account list is listed in each, then split) merge into
/// the report of one scan.
#[tokio::test]
async fn shards_of_an_organisation_merge_into_one_scan() {
    let Some(url) = aws_common::moto_url() else {
        return;
    };
    let _moto = aws_common::exclusive_moto(&url).await;
    let sdk = aws_common::sdk_config(&url, "AKIDMOTOTEST").await;
    let org = organisation(&sdk).await;
    let regions = ["eu-west-1", "us-east-1", "us-west-2"];
    let options = AwsOptions {
        regions: regions.iter().map(|r| (*r).to_owned()).collect(),
        ..org_options()
    };
    let now = chrono::Utc::now();
    let request = |shard: Option<Shard>| ScanRequest {
        scope: Scope {
            shard,
            ..Scope::default()
        },
        now: Some(now),
        ..ScanRequest::default()
    };
    let source = AwsSource::from_sdk_config(sdk.clone(), options)
        .await
        .unwrap();
    let whole = source.scan(&request(None)).await.unwrap();
    assert_eq!(found(&whole), org.keys);
    let mut parts = Vec::new();
    for index in 0..3 {
        let part = source
            .scan(&request(Some(Shard { index, count: 3 })))
            .await
            .unwrap();
        assert!(part.scope_errors.is_empty(), "{:?}", part.scope_errors);
        parts.push(part);
    }
    let merged = kms_rotation::ops::merge(kms_rotation::ops::MergeOptions {
        reports: parts,
        ..kms_rotation::ops::MergeOptions::default()
    })
    .unwrap();
    assert_eq!(merged.findings, whole.findings);
    assert!(merged.is_complete());
    assert_eq!(merged.scope.accounts, whole.scope.accounts);
}

/// A proxy to moto that answers STS AssumeRole for a role in `account` with AccessDenied, as
/// AWS does for a role whose trust policy does not allow the caller. Returns its URL.
fn refusing_proxy(moto: &str, account: &str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let upstream = moto.trim_start_matches("http://").to_owned();
    let refused_arn = format!("arn%3Aaws%3Aiam%3A%3A{account}%3Arole");
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let (upstream, refused_arn) = (upstream.clone(), refused_arn.clone());
            std::thread::spawn(move || relay(client, &upstream, &refused_arn));
        }
    });
    url
}

/// Relays the requests of one client connection, one upstream connection per request.
fn relay(client: TcpStream, upstream: &str, refused_arn: &str) {
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut writer = client;
    loop {
        let mut head = String::new();
        let mut length = 0;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap();
            }
            // The upstream connection serves this request only.
            if !line.to_ascii_lowercase().starts_with("connection:") {
                head.push_str(&line);
            }
            if line == "\r\n" {
                break;
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let text = String::from_utf8_lossy(&body);
        let response = if text.contains("Action=AssumeRole") && text.contains(refused_arn) {
            let xml = "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
                       <Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not \
                       authorized to perform sts:AssumeRole</Message></Error>\
                       <RequestId>proxy-1</RequestId></ErrorResponse>";
            format!(
                "HTTP/1.1 403 Forbidden\r\ncontent-type: text/xml\r\ncontent-length: {}\r\n\r\n{xml}",
                xml.len()
            )
            .into_bytes()
        } else {
            // The head ends with its blank line: the header goes before it.
            let head = format!("{}connection: close\r\n\r\n", &head[..head.len() - 2]);
            let mut moto = TcpStream::connect(upstream).unwrap();
            moto.write_all(head.as_bytes()).unwrap();
            moto.write_all(&body).unwrap();
            let mut reply = Vec::new();
            moto.read_to_end(&mut reply).unwrap();
            reply
        };
        if writer.write_all(&response).is_err() {
            return;
        }
    }
}
