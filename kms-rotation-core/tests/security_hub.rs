//! Sending findings to Security Hub (`scan --security-hub`, `ops::send_to_security_hub`), end to
//! end against moto's Security Hub (`moto[server]`: BatchImportFindings and GetFindings): the
//! findings arrive whole, a second import updates rather than duplicates, batches hold at most
//! 100, and what is not taken is counted, never dropped.
//!
//! moto checks little of what it is sent (a finding needs only an `Id` and a resource), so the
//! fields Security Hub requires are checked here, on what moto stored.
#![cfg(all(feature = "aws", feature = "cli"))]
#![allow(clippy::unwrap_used)]

mod aws_common;
mod common;

use aws_sdk_kms::types::KeySpec;
use aws_sdk_securityhub::types::{ComplianceStatus, RecordState};
use kms_rotation::ops::{self, SecurityHubOptions};
use kms_rotation::{KeyRecord, Policy, Report, ReportScope};

const ACCOUNT: &str = "123456789012"; // moto's default account

fn security_hub(sdk: &aws_config::SdkConfig) -> aws_sdk_securityhub::Client {
    let config = aws_sdk_securityhub::config::Builder::from(sdk)
        .region(aws_config::Region::new("us-east-1"))
        .build();
    aws_sdk_securityhub::Client::from_conf(config)
}

/// Every finding moto holds, page by page.
async fn stored(
    hub: &aws_sdk_securityhub::Client,
) -> Vec<aws_sdk_securityhub::types::AwsSecurityFinding> {
    let mut findings = Vec::new();
    let mut token = None;
    loop {
        let page = hub
            .get_findings()
            .max_results(100)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        findings.extend(page.findings().iter().cloned());
        token = page
            .next_token()
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        if token.is_none() {
            return findings;
        }
    }
}

/// A key record of moto's account with rotation on or off: the evidence of a pass or a fail.
fn record(i: usize, rotates: bool) -> KeyRecord {
    let arn = format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{i:08}-0000-4000-8000-000000000000");
    let mut record = KeyRecord::from_arn(&arn).unwrap();
    record.key_manager = Some(kms_rotation::model::KeyManager::Customer);
    record.key_spec = Some(kms_rotation::model::KeySpec::SymmetricDefault);
    record.key_usage = Some(kms_rotation::model::KeyUsage::EncryptDecrypt);
    record.origin = Some(kms_rotation::model::Origin::AwsKms);
    record.key_state = Some(kms_rotation::model::KeyState::Enabled);
    record.rotation = Some(kms_rotation::model::Rotation {
        enabled: rotates,
        period_days: rotates.then_some(365),
        next_rotation_date: None,
        on_demand_rotation_start_date: None,
        last_rotation: None,
    });
    record.aliases = Some(Vec::new());
    record
}

fn report(records: &[KeyRecord]) -> Report {
    Report::evaluate(
        records,
        Policy::default(),
        ReportScope::default(),
        Vec::new(),
        chrono::Utc::now(),
    )
}

/// Runs `test` on threads with room for the SDK's Security Hub types: a finding is a large
/// value, and debug builds keep many copies of it on the stack (the default 2 MiB overflows).
fn run(test: impl std::future::Future<Output = ()> + Send) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(16 << 20)
        .build()
        .unwrap();
    // `block_on` polls on the calling thread: give it the same room.
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(16 << 20)
            .spawn_scoped(scope, || runtime.block_on(test))
            .unwrap()
            .join()
            .unwrap()
    })
}

/// The CLI scans moto's KMS, sends every finding, and a second scan after a fix updates the
/// same findings: the fixed key's is PASSED and archived, and there are no more findings than
/// keys.
#[test]
fn scan_sends_every_finding_and_the_next_scan_updates_them() {
    let Some(url) = aws_common::moto_url() else {
        return;
    };
    run(scan_and_rescan(url));
}

async fn scan_and_rescan(url: String) {
    let _moto = aws_common::exclusive_moto(&url).await;
    let sdk = aws_common::sdk_config(&url, "AKIDMOTOTEST").await;
    let kms = kms_rotation::aws::kms_client(&sdk, "us-east-1", None);
    let mut ids = Vec::new();
    for _ in 0..3 {
        let key = kms
            .create_key()
            .key_spec(KeySpec::SymmetricDefault)
            .send()
            .await
            .unwrap();
        ids.push(key.key_metadata().unwrap().key_id().to_owned());
    }
    kms.enable_key_rotation()
        .key_id(&ids[0])
        .send()
        .await
        .unwrap();
    let saved = common::scratch("security-hub-scan.json");
    let scan = || {
        common::cli()
            .args(["scan", "--region", "us-east-1", "--endpoint-url", &url])
            .args(["--security-hub", "--output"])
            .arg(&saved)
            .output()
            .unwrap()
    };

    let first = scan();
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert_eq!(first.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("Security Hub: 3 of 3 findings imported in 1 calls"),
        "{stderr}"
    );
    let hub = security_hub(&sdk);
    let findings = stored(&hub).await;
    assert_eq!(findings.len(), 3);
    for f in &findings {
        // What BatchImportFindings requires of a new finding.
        assert_eq!(f.schema_version(), Some("2018-10-08"));
        let arn = f.resources()[0].id().unwrap();
        assert_eq!(f.id(), Some(format!("{arn}/kms-rotation/KMS.4").as_str()));
        assert_eq!(
            f.product_arn(),
            Some(
                format!("arn:aws:securityhub:us-east-1:{ACCOUNT}:product/{ACCOUNT}/default")
                    .as_str()
            )
        );
        assert_eq!(f.generator_id(), Some("kms-rotation/KMS.4"));
        assert_eq!(f.aws_account_id(), Some(ACCOUNT));
        assert!(!f.types().is_empty());
        assert!(f.created_at().is_some() && f.updated_at().is_some());
        assert!(f.severity().and_then(|s| s.label()).is_some());
        assert!(f.title().is_some_and(|t| !t.is_empty()));
        assert!(f.description().is_some_and(|d| !d.is_empty()));
        assert_eq!(f.resources()[0].r#type(), Some("AwsKmsKey"));
        let key = f.resources()[0].details().unwrap().aws_kms_key().unwrap();
        assert_eq!(key.key_manager(), Some("CUSTOMER"));
        let passes = arn.ends_with(&ids[0]);
        let compliance = f.compliance().unwrap();
        if passes {
            assert_eq!(compliance.status(), Some(&ComplianceStatus::Passed));
            assert_eq!(f.record_state(), Some(&RecordState::Archived));
            assert!(f.remediation().is_none());
        } else {
            assert_eq!(compliance.status(), Some(&ComplianceStatus::Failed));
            assert_eq!(f.record_state(), Some(&RecordState::Active));
            let fix = f
                .remediation()
                .unwrap()
                .recommendation()
                .unwrap()
                .text()
                .unwrap();
            assert!(
                fix.starts_with("aws kms enable-key-rotation --key-id arn:aws:kms:"),
                "{fix}"
            );
        }
    }

    kms.enable_key_rotation()
        .key_id(&ids[1])
        .send()
        .await
        .unwrap();
    let second = scan();
    assert_eq!(
        second.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let findings = stored(&hub).await;
    assert_eq!(findings.len(), 3, "a re-import updates, it does not add");
    let fixed = findings
        .iter()
        .find(|f| f.resources()[0].id().unwrap().ends_with(&ids[1]))
        .unwrap();
    assert_eq!(
        fixed.compliance().unwrap().status(),
        Some(&ComplianceStatus::Passed)
    );
    assert_eq!(fixed.record_state(), Some(&RecordState::Archived));
}

/// 250 findings go in three calls (at most 100 each), and all arrive.
#[test]
fn findings_go_in_batches_of_at_most_100() {
    let Some(url) = aws_common::moto_url() else {
        return;
    };
    run(async {
        let _moto = aws_common::exclusive_moto(&url).await;
        let records: Vec<KeyRecord> = (0..250).map(|i| record(i, i % 2 == 0)).collect();
        let inventory = common::scratch("security-hub-250.json");
        std::fs::write(
            &inventory,
            serde_json::to_vec(&kms_rotation::Inventory::new(records)).unwrap(),
        )
        .unwrap();
        let out = common::cli()
            .env("AWS_ENDPOINT_URL", &url)
            .args(["scan", "--security-hub", "--format", "json", "--inventory"])
            .arg(&inventory)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("Security Hub: 250 of 250 findings imported in 3 calls"),
            "{stderr}"
        );
        let sdk = aws_common::sdk_config(&url, "AKIDMOTOTEST").await;
        assert_eq!(stored(&security_hub(&sdk)).await.len(), 250);
    });
}

/// Sends `report` (through `role_arn`, if any) to a Security Hub that cannot be reached, and
/// returns the refusal, which must come before any call.
async fn refusal(report: Report, role_arn: Option<&str>) -> kms_rotation::Error {
    let options = SecurityHubOptions {
        report: Some(report),
        role_arn: role_arn.map(str::to_owned),
        endpoint_url: Some("http://127.0.0.1:9".to_owned()),
        ..SecurityHubOptions::default()
    };
    let err = ops::send_to_security_hub(options).await.unwrap_err();
    assert_eq!(err.kind(), kms_rotation::ErrorKind::InvalidInput, "{err}");
    err
}

/// A role in another account than the findings' is refused before any call: Security Hub would
/// refuse every finding.
#[tokio::test(flavor = "multi_thread")]
async fn a_role_of_another_account_is_refused_before_any_call() {
    let role = "arn:aws:iam::111122223333:role/importer";
    let err = refusal(report(&[record(1, false)]), Some(role)).await;
    assert_eq!(
        err.context().field.as_deref(),
        Some("report.findings[0].account_id")
    );
}

/// A report is a file a user may have edited: one whose verdict its evidence does not give is
/// refused before any call, so that Security Hub is never told a failing key passes.
#[tokio::test(flavor = "multi_thread")]
async fn an_edited_report_is_refused_before_any_call() {
    let mut edited = report(&[record(1, false)]);
    edited.findings[0].status = kms_rotation::Status::Pass;
    let err = refusal(edited, None).await;
    assert_eq!(
        err.context().field.as_deref(),
        Some("report.findings[0].status")
    );
}

/// Keys declared in code (a Terraform plan, a CloudFormation template) are not in any account:
/// their findings are refused whole, before any call, rather than one by one by Security Hub.
#[tokio::test(flavor = "multi_thread")]
async fn findings_about_keys_declared_in_code_are_refused_before_any_call() {
    let location = kms_rotation::source::Location {
        file: "main.tf".to_owned(),
        line: Some(3),
        address: "aws_kms_key.main".to_owned(),
    };
    let declared = KeyRecord::declared(location, Some("us-east-1".to_owned()));
    let err = refusal(report(&[record(1, true), declared]), None).await;
    // In report order the declared key (no account) is the first.
    assert_eq!(
        err.context().field.as_deref(),
        Some("report.findings[0].location")
    );
    assert!(
        err.to_string().contains("main.tf#aws_kms_key.main"),
        "{err}"
    );
    assert!(err.to_string().contains("declared in code"), "{err}");
}

/// The same from the command: the report of a code scan is written, then the send is refused.
#[test]
fn scan_of_code_with_security_hub_is_exit_2_saying_why() {
    let out = common::cli()
        .args([
            "scan",
            "--terraform-plan",
            "iac/plan.json",
            "--security-hub",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("declared in code"), "{stderr}");
    assert!(!stderr.contains("NOT imported"), "{stderr}");
}

/// When Security Hub cannot be reached, the report is still written, every finding is named
/// as not imported, and the exit code says the run is incomplete (3).
#[test]
fn an_unreachable_security_hub_is_exit_3_with_the_report_written() {
    let saved = common::scratch("security-hub-unreachable.csv");
    let out = common::cli()
        .args(["scan", "--inventory", "fleet.json", "--security-hub"])
        .arg("--output")
        .arg(&saved)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("22 NOT imported"), "{stderr}");
    assert!(stderr.contains("DispatchFailure"), "{stderr}");
    assert!(saved.exists());
}

/// The flags are checked before the scan: a bad region or role is exit 2 with the flag named.
#[test]
fn bad_security_hub_flags_are_exit_2_before_the_scan() {
    for (flag, value) in [
        ("--security-hub-region", "moon-east-1"),
        ("--security-hub-role-arn", "not-a-role"),
    ] {
        let out = common::cli()
            .args([
                "scan",
                "--inventory",
                "fleet.json",
                "--security-hub",
                flag,
                value,
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(flag), "{stderr}");
        assert!(out.stdout.is_empty());
    }
}
