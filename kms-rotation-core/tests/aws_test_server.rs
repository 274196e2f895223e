//! The AWS source against the project's KMS test server (`tests/kms-test-server`), which follows
//! AWS's semantics where moto does not (errors per key, periods, paging, quotas) and injects
//! faults. Everything runs in-process on 127.0.0.1 with dummy credentials.
#![cfg(feature = "aws")]
#![allow(clippy::unwrap_used)]

mod aws_common;
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use kms_rotation::aws::{AwsOptions, AwsSource};
use kms_rotation::exposure::{EvidenceSource, Exposure, ExposureEvidence, ExposureLevel};
use kms_rotation::model::Tags;
use kms_rotation::model::{
    KeyError, KeyManager, KeyRecord, KeySpec, KeyState, KeyUsage, LastRotation, Origin, Rotation,
    RotationType, operation,
};
use kms_rotation::policy::{DisabledKeys, Exception, ExceptionMatch, Policy};
use kms_rotation::source::Need;
use kms_rotation::{KeySourceExt, PeriodSource, Reason, Report, ScanRequest, Status};
use kms_test_server::{Faults, Injected, KmsTestServer, ListKeysFailure, Selection};

const ACCOUNT: &str = "111122223333";

fn arn(region: &str, n: usize) -> String {
    format!("arn:aws:kms:{region}:{ACCOUNT}:key/{n:08x}-0000-4000-8000-{n:012x}")
}

/// A customer managed symmetric key, Enabled, rotation off.
fn key(region: &str, n: usize) -> KeyRecord {
    let mut r = KeyRecord::from_arn(&arn(region, n)).unwrap();
    r.key_manager = Some(KeyManager::Customer);
    r.key_spec = Some(KeySpec::SymmetricDefault);
    r.key_usage = Some(KeyUsage::EncryptDecrypt);
    r.origin = Some(Origin::AwsKms);
    r.key_state = Some(KeyState::Enabled);
    r.creation_date = Some("2024-03-01T12:00:00Z".parse().unwrap());
    r
}

fn with(mut record: KeyRecord, change: impl FnOnce(&mut KeyRecord)) -> KeyRecord {
    change(&mut record);
    record
}

fn rotating(period_days: u32) -> Option<Rotation> {
    Some(Rotation {
        enabled: true,
        period_days: Some(period_days),
        next_rotation_date: Some("2027-01-01T00:00:00Z".parse().unwrap()),
        on_demand_rotation_start_date: None,
        last_rotation: None,
    })
}

fn denied(operation: &str) -> Vec<KeyError> {
    vec![KeyError {
        operation: operation.to_owned(),
        code: "AccessDeniedException".to_owned(),
        message: String::new(),
    }]
}

async fn source(server: &KmsTestServer, options: AwsOptions) -> AwsSource {
    let sdk = aws_common::sdk_config(&server.endpoint_url(), "AKIDTEST").await;
    AwsSource::from_sdk_config(sdk, options).await.unwrap()
}

/// The ARNs of the keys a call log names for `operation`.
fn arns_called(server: &KmsTestServer, operation: &str) -> BTreeSet<String> {
    server
        .calls_for(operation)
        .into_iter()
        .filter_map(|c| c.key_arn)
        .collect()
}

#[tokio::test]
async fn a_denied_rotation_status_is_an_error_finding_and_the_scan_goes_on() {
    let region = "us-east-1";
    let records = vec![
        with(key(region, 1), |r| {
            r.errors = denied(operation::GET_KEY_ROTATION_STATUS)
        }),
        with(key(region, 2), |r| r.rotation = rotating(365)),
        key(region, 3),
    ];
    let server = KmsTestServer::start(records, Faults::default())
        .await
        .unwrap();
    let source = source(&server, aws_common::options(&[region])).await;
    let report = source.scan(&ScanRequest::default()).await.unwrap();

    assert!(report.is_complete());
    let by_arn: BTreeMap<_, _> = report.findings.iter().map(|f| (f.arn.clone(), f)).collect();
    let finding = by_arn[&arn(region, 1)];
    assert_eq!(
        (finding.status, finding.reason),
        (Status::Error, Reason::RotationStatusFailed)
    );
    let error = finding.error.as_ref().unwrap();
    assert_eq!(error.code, "AccessDeniedException");
    assert_eq!(error.operation, "GetKeyRotationStatus");
    assert!(!error.message.is_empty(), "AWS's message is kept");
    assert!(finding.rotation.is_none(), "a failed read is never `false`");
    assert_eq!(by_arn[&arn(region, 2)].status, Status::Pass);
    assert_eq!(by_arn[&arn(region, 3)].status, Status::Fail);
    // AccessDenied is not retried: one call per key.
    assert_eq!(server.calls_for("GetKeyRotationStatus").len(), 3);
}

#[tokio::test]
async fn a_region_that_cannot_be_listed_is_a_scope_error_and_the_others_are_complete() {
    let regions = ["us-east-1", "eu-west-1", "ap-northeast-1"];
    let records: Vec<KeyRecord> = regions
        .iter()
        .flat_map(|region| (0..5).map(|n| key(region, n)))
        .collect();
    let faults = Faults {
        list_keys_failures: vec![ListKeysFailure {
            account_id: None,
            region: "eu-west-1".into(),
            code: "UnrecognizedClientException".into(),
        }],
        ..Faults::default()
    };
    let server = KmsTestServer::start(records, faults).await.unwrap();
    let source = source(&server, aws_common::options(&regions)).await;
    let report = source.scan(&ScanRequest::default()).await.unwrap();

    assert!(!report.is_complete());
    let [error] = report.scope_errors.as_slice() else {
        panic!("{:?}", report.scope_errors)
    };
    assert_eq!(error.region.as_deref(), Some("eu-west-1"));
    assert_eq!(error.operation, "ListKeys");
    assert_eq!(error.code, "UnrecognizedClientException");
    // The account is learnt from the other regions' key ARNs.
    assert_eq!(error.account_id.as_deref(), Some(ACCOUNT));
    assert_eq!(report.scope.regions, ["ap-northeast-1", "us-east-1"]);
    assert_eq!(report.findings.len(), 10);
    assert!(report.findings.iter().all(|f| f.region != "eu-west-1"));
    assert!(report.findings.iter().all(|f| f.status == Status::Fail));
}

/// 2,000 keys in each of two regions, the server enforcing AWS's default quotas: every key is
/// evaluated and the client-side limits keep throttling from ever surfacing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_keys_per_region_under_aws_quotas() {
    let regions = ["us-east-1", "eu-west-1"];
    let mut records = Vec::new();
    for region in regions {
        for n in 0..2000 {
            records.push(match n % 4 {
                0 => key(region, n),
                1 | 2 => with(key(region, n), |r| r.rotation = rotating(365)),
                _ => with(key(region, n), |r| {
                    r.key_spec = Some(KeySpec::Rsa2048);
                    r.key_usage = Some(KeyUsage::SignVerify);
                }),
            });
        }
    }
    let faults = Faults {
        latency: Duration::from_millis(5),
        ..Faults::default()
    }
    .with_aws_quotas();
    let server = KmsTestServer::start(records, faults).await.unwrap();
    let source = source(&server, aws_common::options(&regions)).await;
    let started = Instant::now();
    let report = source.scan(&ScanRequest::default()).await.unwrap();
    eprintln!("4,000 keys read in {:?}", started.elapsed());

    assert!(report.is_complete(), "{:?}", report.scope_errors);
    assert_eq!(report.findings.len(), 4000);
    let counts = &report.summary.by_status;
    assert_eq!(
        (
            counts.fail,
            counts.pass,
            counts.not_applicable,
            counts.error
        ),
        (1000, 2000, 1000, 0)
    );
    let unique: BTreeSet<_> = report.findings.iter().map(|f| &f.arn).collect();
    assert_eq!(unique.len(), 4000);
    let throttled = server
        .calls()
        .iter()
        .filter(|c| c.injected == Some(Injected::Throttled))
        .count();
    assert_eq!(throttled, 0, "client-side limits stay under the quotas");
    // ListKeys pages of 1,000: two pages per region, not twenty.
    assert_eq!(server.calls_for("ListKeys").len(), 4);
}

/// 5% of calls answer 500: retries absorb them and every key still has exactly one finding.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_server_errors_leave_every_key_exactly_one_finding() {
    let region = "eu-central-1";
    let records: Vec<KeyRecord> = (0..600)
        .map(|n| {
            if n % 2 == 0 {
                key(region, n)
            } else {
                with(key(region, n), |r| r.rotation = rotating(365))
            }
        })
        .collect();
    let faults = Faults {
        seed: 7,
        server_errors: Selection::fraction(0.05),
        ..Faults::default()
    };
    let server = KmsTestServer::start(records, faults).await.unwrap();
    let options = AwsOptions {
        max_attempts: 5,
        ..aws_common::options(&[region])
    };
    let source = source(&server, options).await;
    let report = source.scan(&ScanRequest::default()).await.unwrap();

    let injected = server
        .calls()
        .iter()
        .filter(|c| c.injected == Some(Injected::ServerError))
        .count();
    assert!(injected > 10, "faults were injected ({injected})");
    assert!(report.is_complete(), "{:?}", report.scope_errors);
    assert_eq!(report.findings.len(), 600);
    let unique: BTreeSet<_> = report.findings.iter().map(|f| &f.arn).collect();
    assert_eq!(unique.len(), 600);
    assert_eq!(report.summary.by_status.error, 0);
    assert_eq!(report.summary.by_status.fail, 300);
    assert_eq!(report.summary.by_status.pass, 300);
}

#[tokio::test]
async fn rotation_status_is_read_only_where_the_rule_needs_it() {
    let region = "us-west-2";
    let records = vec![
        // Reach the rotation rows: read.
        key(region, 1),
        with(key(region, 2), |r| r.rotation = rotating(730)),
        with(key(region, 3), |r| r.key_state = Some(KeyState::Disabled)),
        // Settled earlier: not read.
        with(key(region, 10), |r| r.key_manager = Some(KeyManager::Aws)),
        with(key(region, 11), |r| {
            r.key_spec = Some(KeySpec::EccNistP256);
            r.key_usage = Some(KeyUsage::SignVerify);
        }),
        with(key(region, 12), |r| r.origin = Some(Origin::External)),
        with(key(region, 13), |r| {
            r.origin = Some(Origin::AwsCloudhsm);
            r.custom_key_store_id = Some("cks-1234567890abcdef0".into());
        }),
        with(key(region, 14), |r| {
            r.key_state = Some(KeyState::PendingDeletion)
        }),
        with(key(region, 15), |r| {
            r.errors = denied(operation::DESCRIBE_KEY)
        }),
    ];
    let server = KmsTestServer::start(records, Faults::default())
        .await
        .unwrap();
    let source = source(&server, aws_common::options(&[region])).await;
    let report = source.scan(&ScanRequest::default()).await.unwrap();

    assert_eq!(
        arns_called(&server, "GetKeyRotationStatus"),
        BTreeSet::from([arn(region, 1), arn(region, 2), arn(region, 3)])
    );
    assert_eq!(server.calls_for("DescribeKey").len(), 9, "one per key");
    assert_eq!(server.calls_for("ListKeys").len(), 1);
    assert_eq!(server.calls_for("ListAliases").len(), 1);
    // Tags and exposure order the plan: read for the failing keys only.
    let failing = BTreeSet::from([arn(region, 1), arn(region, 2), arn(region, 3)]);
    for operation in ["ListResourceTags", "GetKeyPolicy", "ListGrants"] {
        assert_eq!(arns_called(&server, operation), failing, "{operation}");
    }
    assert!(server.calls_for("ListKeyRotations").is_empty());
    assert!(server.write_calls().is_empty());

    let expected = [
        (1, Status::Fail, Reason::RotationDisabled),
        (2, Status::Fail, Reason::RotationPeriodExceedsPolicy),
        (3, Status::Fail, Reason::RotationDisabled),
        (10, Status::NotApplicable, Reason::AwsManaged),
        (11, Status::NotApplicable, Reason::UnsupportedKeySpec),
        (12, Status::NotApplicable, Reason::ImportedKeyMaterial),
        (13, Status::NotApplicable, Reason::CustomKeyStore),
        (14, Status::NotApplicable, Reason::PendingDeletion),
        (15, Status::Error, Reason::DescribeFailed),
    ];
    for (n, status, reason) in expected {
        let finding = report
            .findings
            .iter()
            .find(|f| f.arn == arn(region, n))
            .unwrap();
        assert_eq!(
            (finding.status, finding.reason),
            (status, reason),
            "key {n}"
        );
    }

    // With disabled keys skipped, the disabled key's status is not read either.
    server.clear_calls();
    let policy = Policy {
        disabled_keys: DisabledKeys::Skip,
        ..Policy::default()
    };
    source
        .scan(&ScanRequest {
            policy,
            ..ScanRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(
        arns_called(&server, "GetKeyRotationStatus"),
        BTreeSet::from([arn(region, 1), arn(region, 2)])
    );
}

#[tokio::test]
async fn tags_are_read_only_for_keys_that_would_fail_when_an_exception_matches_by_tag() {
    let region = "eu-north-1";
    let tagged = |n, value: &str| {
        with(key(region, n), |r| {
            r.tags = Some(Tags::from([(
                "rotation-exception".to_owned(),
                value.to_owned(),
            )]))
        })
    };
    let records = vec![
        tagged(1, "TKT-42"),
        tagged(2, "other"),
        with(tagged(3, "TKT-42"), |r| r.rotation = rotating(365)),
        with(tagged(4, "TKT-42"), |r| {
            r.key_manager = Some(KeyManager::Aws)
        }),
    ];
    let server = KmsTestServer::start(records, Faults::default())
        .await
        .unwrap();
    let policy = Policy {
        exceptions: vec![Exception {
            matcher: ExceptionMatch::Tag {
                key: "rotation-exception".into(),
                value: "TKT-42".into(),
            },
            owner: "batch-team".into(),
            reason: "legacy batch".into(),
            ticket: None,
            expires: NaiveDate::from_ymd_opt(2999, 1, 31).unwrap(),
        }],
        ..Policy::default()
    };
    let source = source(&server, aws_common::options(&[region])).await;
    let report = source
        .scan(&ScanRequest {
            policy: policy.clone(),
            ..ScanRequest::default()
        })
        .await
        .unwrap();

    assert_eq!(
        arns_called(&server, "ListResourceTags"),
        BTreeSet::from([arn(region, 1), arn(region, 2)])
    );
    let status = |n| {
        report
            .findings
            .iter()
            .find(|f| f.arn == arn(region, n))
            .unwrap()
            .status
    };
    assert_eq!(status(1), Status::Exempt);
    assert_eq!(status(2), Status::Fail);
    assert_eq!(status(3), Status::Pass);
    assert_eq!(status(4), Status::NotApplicable);

    // Without a tag exception, tags are still read for the keys that fail (they order the
    // plan), and for no other.
    server.clear_calls();
    let report_without = source.scan(&ScanRequest::default()).await.unwrap();
    assert_eq!(
        arns_called(&server, "ListResourceTags"),
        BTreeSet::from([arn(region, 1), arn(region, 2)])
    );
    assert!(
        report_without
            .findings
            .iter()
            .filter(|f| f.status != Status::Fail)
            .all(|f| f.tags.is_none()),
        "tags not read are null, not empty"
    );
    // The same records evaluated offline agree with the scan.
    let offline = Report::evaluate(
        &report
            .findings
            .iter()
            .map(|f| f.to_record())
            .collect::<Vec<_>>(),
        policy,
        report.scope.clone(),
        Vec::new(),
        report.generated_at,
    );
    assert_eq!(offline.summary.by_status, report.summary.by_status);
}

/// A read its caller gives up on (a timeout, a cancelled scan) stops calling AWS: region reads
/// run in tasks of their own, which are cancelled with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_read_stops_calling() {
    let region = "us-east-2";
    let records: Vec<KeyRecord> = (0..300).map(|n| key(region, n)).collect();
    let faults = Faults {
        latency: Duration::from_millis(50),
        ..Faults::default()
    };
    let server = KmsTestServer::start(records, faults).await.unwrap();
    let options = AwsOptions {
        concurrency_per_region: 4,
        ..aws_common::options(&[region])
    };
    let source = source(&server, options).await;
    let request = ScanRequest::default();
    let read = source.scan(&request);
    assert!(
        tokio::time::timeout(Duration::from_millis(300), read)
            .await
            .is_err(),
        "300 keys at 4 at a time and 50 ms a call take longer"
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    let after_drop = server.calls().len();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(server.calls().len(), after_drop);
    assert!(
        after_drop < 300,
        "the read was cut short ({after_drop} calls)"
    );
}

/// ListKeyRotations (quota 100/s) is called only where asked: for imported keys when the policy
/// judges them by age, and for keys whose rotation status was read when history is asked for.
#[tokio::test]
async fn rotation_history_is_read_only_where_asked() {
    let region = "ca-central-1";
    let last = |date: &str, kind| {
        Some(LastRotation {
            date: date.parse().unwrap(),
            rotation_type: kind,
        })
    };
    let records = vec![
        with(key(region, 1), |r| {
            r.rotation = rotating(365);
            r.rotation.as_mut().unwrap().last_rotation =
                last("2026-01-01T00:00:00Z", RotationType::Automatic);
        }),
        with(key(region, 2), |r| {
            r.origin = Some(Origin::External);
            r.rotation = Some(Rotation {
                enabled: false,
                period_days: None,
                next_rotation_date: None,
                on_demand_rotation_start_date: None,
                last_rotation: last("2026-06-01T00:00:00Z", RotationType::OnDemand),
            });
        }),
        with(key(region, 3), |r| {
            r.key_spec = Some(KeySpec::Hmac256);
            r.key_usage = Some(KeyUsage::GenerateVerifyMac);
        }),
    ];
    let server = KmsTestServer::start(records, Faults::default())
        .await
        .unwrap();
    let source = source(&server, aws_common::options(&[region])).await;
    let policy = Policy {
        imported_key_max_age_days: Some(365),
        ..Policy::default()
    };
    let now = "2026-09-01T00:00:00Z".parse().unwrap();

    // The policy needs the imported key's history only.
    let report = source
        .scan(&ScanRequest {
            policy: policy.clone(),
            now: Some(now),
            ..ScanRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(
        arns_called(&server, "ListKeyRotations"),
        BTreeSet::from([arn(region, 2)])
    );
    let find = |report: &Report, n| {
        report
            .findings
            .iter()
            .find(|f| f.arn == arn(region, n))
            .unwrap()
            .clone()
    };
    let imported = find(&report, 2);
    assert_eq!(
        (imported.status, imported.reason),
        (Status::Pass, Reason::ImportedKeyRotatedOnDemand)
    );
    let rotating_key = find(&report, 1);
    assert_eq!(rotating_key.period_source, Some(PeriodSource::Reported));
    assert!(rotating_key.rotation.unwrap().last_rotation.is_none());

    // Asked for history: also the key whose status was read, never the HMAC key.
    server.clear_calls();
    let report = source
        .scan(&ScanRequest {
            policy,
            now: Some(now),
            rotation_history: true,
            ..ScanRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(
        arns_called(&server, "ListKeyRotations"),
        BTreeSet::from([arn(region, 1), arn(region, 2)])
    );
    let last = find(&report, 1).rotation.unwrap().last_rotation.unwrap();
    assert_eq!(last.rotation_type, RotationType::Automatic);
    assert_eq!(
        last.date,
        "2026-01-01T00:00:00Z"
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
    );
}

/// The sample fleet (a key of every kind in rule.md) in one account across its three regions:
/// the second account's keys move to the first, since one set of credentials reads one account.
fn every_kind_in_three_regions() -> Vec<KeyRecord> {
    common::fleet()
        .into_iter()
        .map(|mut r| {
            if r.account_id != ACCOUNT {
                r.arn = r.arn.replace(&r.account_id, ACCOUNT);
                r.account_id = ACCOUNT.to_owned();
            }
            r
        })
        .collect()
}

const FLEET_REGIONS: [&str; 3] = ["eu-west-1", "us-east-1", "us-west-2"];

#[tokio::test]
async fn every_kind_of_key_across_three_regions_gets_the_rules_verdict() {
    let seeded = every_kind_in_three_regions();
    let server = KmsTestServer::start(seeded.clone(), Faults::default())
        .await
        .unwrap();
    let source = source(&server, aws_common::options(&FLEET_REGIONS)).await;
    let dir = common::examples_dir();
    let mut policy = Policy::from_file(dir.join("policy.yaml")).unwrap();
    policy
        .add_exceptions_file(dir.join("exceptions.yaml"))
        .unwrap();
    let now = "2026-11-22T12:00:00Z".parse().unwrap();
    let report = source
        .scan(&ScanRequest {
            policy: policy.clone(),
            now: Some(now),
            ..ScanRequest::default()
        })
        .await
        .unwrap();

    let scanned: BTreeMap<String, (Status, Reason)> = report
        .findings
        .iter()
        .map(|f| (f.arn.clone(), (f.status, f.reason)))
        .collect();
    let expected: BTreeMap<String, (Status, Reason)> = seeded
        .iter()
        .map(|r| {
            let f = kms_rotation::evaluate(r, &policy, now);
            (f.arn, (f.status, f.reason))
        })
        .collect();
    assert_eq!(scanned, expected);
    let statuses: BTreeSet<Status> = scanned.values().map(|v| v.0).collect();
    assert_eq!(statuses.len(), 5, "the fleet shows every status");
    assert_eq!(report.scope.regions.len(), 3);
    assert!(report.is_complete());
}

#[tokio::test]
async fn the_aws_source_passes_the_conformance_suite_on_the_test_server() {
    let seeded = every_kind_in_three_regions();
    let server = KmsTestServer::start(seeded.clone(), Faults::default())
        .await
        .unwrap();
    let source = source(&server, aws_common::options(&FLEET_REGIONS)).await;
    common::conformance::run(&source, &seeded).await;
}

/// Exposure evidence the test server turns into a key policy statement or a grant.
fn exposed(level: ExposureLevel, source: EvidenceSource, principal: &str) -> Option<Box<Exposure>> {
    Some(Box::new(Exposure {
        level,
        evidence: vec![ExposureEvidence {
            level,
            source,
            statement: "Shared".to_owned(),
            principal: principal.to_owned(),
            detail: String::new(),
        }],
        error: None,
    }))
}

#[tokio::test]
async fn exposure_is_read_for_failing_keys_and_unknown_when_denied() {
    let region = "eu-west-1";
    let records = vec![
        with(key(region, 1), |r| {
            r.exposure = exposed(ExposureLevel::Public, EvidenceSource::KeyPolicy, "*")
        }),
        with(key(region, 2), |r| {
            let other = "arn:aws:iam::999988887777:role/reader";
            r.exposure = exposed(ExposureLevel::CrossAccount, EvidenceSource::Grant, other)
        }),
        with(key(region, 3), |r| {
            r.exposure = Some(Box::new(Exposure::unknown(
                denied("GetKeyPolicy").remove(0),
            )))
        }),
        key(region, 4),
        // Passes: its policy is not read unless asked.
        with(key(region, 5), |r| {
            r.rotation = rotating(365);
            r.exposure = exposed(ExposureLevel::Public, EvidenceSource::KeyPolicy, "*");
        }),
    ];
    let server = KmsTestServer::start(records, Faults::default())
        .await
        .unwrap();
    let source = source(&server, aws_common::options(&[region])).await;
    let report = source.scan(&ScanRequest::default()).await.unwrap();
    let finding = |n| {
        report
            .findings
            .iter()
            .find(|f| f.arn == arn(region, n))
            .unwrap()
    };
    let level = |n| finding(n).exposure.as_ref().map(|e| e.level);
    assert_eq!(level(1), Some(ExposureLevel::Public));
    assert_eq!(
        finding(1).exposure.as_ref().unwrap().evidence[0].statement,
        "Shared"
    );
    assert_eq!(level(2), Some(ExposureLevel::CrossAccount));
    assert_eq!(level(3), Some(ExposureLevel::Unknown));
    assert_eq!(level(4), Some(ExposureLevel::Account));
    assert_eq!(level(5), None, "not read for a passing key");
    // A denied policy read is evidence missing, not a verdict: the key still fails, and its
    // errors say what was not read.
    assert_eq!(finding(3).status, Status::Fail);
    assert_eq!(finding(3).errors[0].operation, "GetKeyPolicy");
    assert_eq!(
        finding(3)
            .exposure
            .as_ref()
            .unwrap()
            .error
            .as_ref()
            .unwrap()
            .code,
        "AccessDeniedException"
    );

    // Grants are read only where they can change the answer: not for a public policy, nor for
    // a policy that could not be read.
    assert_eq!(
        arns_called(&server, "ListGrants"),
        BTreeSet::from([arn(region, 2), arn(region, 4)])
    );

    server.clear_calls();
    let never = ScanRequest {
        exposure: Need::Never,
        ..ScanRequest::default()
    };
    let report = source.scan(&never).await.unwrap();
    assert!(server.calls_for("GetKeyPolicy").is_empty());
    assert!(server.calls_for("ListGrants").is_empty());
    assert!(report.findings.iter().all(|f| f.exposure.is_none()));

    server.clear_calls();
    let always = ScanRequest {
        exposure: Need::Always,
        ..ScanRequest::default()
    };
    let report = source.scan(&always).await.unwrap();
    assert_eq!(server.calls_for("GetKeyPolicy").len(), 5);
    let passing = report
        .findings
        .iter()
        .find(|f| f.arn == arn(region, 5))
        .unwrap();
    assert_eq!(
        passing.exposure.as_ref().map(|e| e.level),
        Some(ExposureLevel::Public)
    );
}

/// Several accounts through one server: each `--role-arn` is assumed through the server's STS,
/// whose credentials name the role's account, so each account lists and reads its own keys.
#[tokio::test]
async fn each_role_reads_its_own_account_through_the_servers_sts() {
    let other = "444455556666";
    // Key 0's kind, in the other account.
    let place = KeyRecord::from_arn(&arn("us-east-1", 0).replace(ACCOUNT, other)).unwrap();
    let other_key = with(key("us-east-1", 0), |r| {
        r.arn = place.arn;
        r.account_id = place.account_id;
    });
    let records = vec![key("us-east-1", 1), key("us-east-1", 2), other_key];
    let server = KmsTestServer::start(records, Faults::default())
        .await
        .unwrap();
    let options = AwsOptions {
        role_arns: [ACCOUNT, other]
            .iter()
            .map(|a| format!("arn:aws:iam::{a}:role/kms-rotation-reader"))
            .collect(),
        ..aws_common::options(&["us-east-1"])
    };
    let report = source(&server, options)
        .await
        .scan(&ScanRequest::default())
        .await
        .unwrap();
    assert!(report.is_complete(), "{:?}", report.scope_errors);
    let accounts: BTreeMap<&str, usize> =
        report
            .findings
            .iter()
            .fold(BTreeMap::new(), |mut counts, finding| {
                *counts.entry(finding.account_id.as_str()).or_default() += 1;
                counts
            });
    assert_eq!(accounts, BTreeMap::from([(ACCOUNT, 2), (other, 1)]));
    let listed_by: BTreeSet<String> = server
        .calls_for("ListKeys")
        .into_iter()
        .map(|c| c.account_id)
        .collect();
    assert_eq!(
        listed_by,
        BTreeSet::from([ACCOUNT.to_owned(), other.to_owned()])
    );
}
