//! The AWS source under faults, against the in-process KMS test server: 5xx, held replies
//! (timeouts), connection resets, throttle storms, bursts past the quota, malformed and truncated
//! bodies, a region failing mid-pagination, and a server that stops answering mid-scan.
//!
//! One seeded fleet of 400 keys of every kind, whose verdicts are known (the rule on the seeded
//! records), is scanned under each fault. Every case checks that every listed key has exactly one
//! finding, that no verdict is wrong (`error` is allowed where a fact could not be read; a `pass`
//! or `fail` that differs from the truth never is), and its own completeness and error figures.
//! Each case prints a table row (`cargo test --test faults -- --nocapture`).
#![cfg(feature = "aws")]
#![allow(clippy::unwrap_used)]

mod aws_common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use kms_rotation::aws::{AwsOptions, AwsSource, REGION_UNRESPONSIVE, RateLimits};
use kms_rotation::model::{
    KeyError, KeyManager, KeyRecord, KeySpec, KeyState, KeyUsage, LastRotation, MultiRegion,
    MultiRegionRole, Origin, Rotation, RotationType, operation,
};
use kms_rotation::policy::{Exception, ExceptionMatch, Policy};
use kms_rotation::source::ProgressUpdate;
use kms_rotation::{KeySourceExt, Report, ScanRequest, Status};
use kms_test_server::{Faults, Injected, KmsTestServer, PagingFault, PagingFaultKind, Selection};

const ACCOUNT: &str = "111122223333";
const EAST: &str = "us-east-1";
const WEST: &str = "eu-west-1";
const REGIONS: [&str; 2] = [EAST, WEST];
const KEYS_PER_REGION: usize = 200;

fn arn(region: &str, id: &str) -> String {
    format!("arn:aws:kms:{region}:{ACCOUNT}:key/{id}")
}

fn rotating(period_days: u32, last: Option<&str>) -> Option<Rotation> {
    Some(Rotation {
        enabled: true,
        period_days: Some(period_days),
        next_rotation_date: Some("2027-01-01T00:00:00Z".parse().unwrap()),
        on_demand_rotation_start_date: None,
        last_rotation: last.map(|date| LastRotation {
            date: date.parse().unwrap(),
            rotation_type: RotationType::Automatic,
        }),
    })
}

/// Key `n` of `region`: its kind follows `n % 20`, so every kind appears ten times per region.
fn key(region: &str, n: usize) -> KeyRecord {
    let kind = n % 20;
    let id = if kind == 19 {
        format!("mrk-{n:032x}")
    } else {
        format!(
            "{n:08x}-0000-4000-8000-{:012x}",
            n + 1000 * usize::from(region == WEST)
        )
    };
    let mut r = KeyRecord::from_arn(&arn(region, &id)).unwrap();
    r.key_manager = Some(KeyManager::Customer);
    r.key_spec = Some(KeySpec::SymmetricDefault);
    r.key_usage = Some(KeyUsage::EncryptDecrypt);
    r.origin = Some(Origin::AwsKms);
    r.key_state = Some(KeyState::Enabled);
    r.creation_date = Some("2024-03-01T12:00:00Z".parse().unwrap());
    // As a scan reads it: rotation off is a fact (`enabled: false`), not a missing reading.
    r.rotation = Some(Rotation {
        enabled: false,
        period_days: None,
        next_rotation_date: None,
        on_demand_rotation_start_date: None,
        last_rotation: None,
    });
    match kind {
        // 0-5: rotation off (fail); one in fifty has its status denied (error).
        0..=5 if n % 50 == 3 => {
            r.errors = vec![KeyError {
                operation: operation::GET_KEY_ROTATION_STATUS.to_owned(),
                code: "AccessDeniedException".to_owned(),
                message: String::new(),
            }]
        }
        0..=5 => {}
        6..=11 => r.rotation = rotating(365, Some("2026-01-01T00:00:00Z")),
        12 => r.rotation = rotating(730, None),
        13 => {
            r.key_manager = Some(KeyManager::Aws);
            r.rotation = rotating(365, None);
        }
        14 => {
            r.key_spec = Some(KeySpec::Rsa2048);
            r.key_usage = Some(KeyUsage::SignVerify);
        }
        15 => {
            r.key_spec = Some(KeySpec::Hmac256);
            r.key_usage = Some(KeyUsage::GenerateVerifyMac);
        }
        // Imported material, judged by age: rotated on demand recently (pass) or never (fail).
        16 => {
            r.origin = Some(Origin::External);
            // No GetKeyRotationStatus for imported keys: only their history is read.
            r.rotation = None;
            if n % 40 == 16 {
                r.rotation = Some(Rotation {
                    enabled: false,
                    period_days: None,
                    next_rotation_date: None,
                    on_demand_rotation_start_date: None,
                    last_rotation: Some(LastRotation {
                        date: "2026-06-01T00:00:00Z".parse().unwrap(),
                        rotation_type: RotationType::OnDemand,
                    }),
                });
            }
        }
        17 => r.key_state = Some(KeyState::Disabled),
        18 => r.key_state = Some(KeyState::PendingDeletion),
        // Multi-Region: the primary rotates in the east, its replica of the same id is in the
        // west (replicas share the primary's setting).
        _ => {
            r.rotation = rotating(365, Some("2026-02-01T00:00:00Z"));
            r.multi_region = Some(if region == EAST {
                MultiRegion {
                    role: MultiRegionRole::Primary,
                    primary_arn: None,
                }
            } else {
                MultiRegion {
                    role: MultiRegionRole::Replica,
                    primary_arn: Some(arn(EAST, &id)),
                }
            });
        }
    }
    r
}

fn fleet() -> Vec<KeyRecord> {
    REGIONS
        .iter()
        .flat_map(|region| (0..KEYS_PER_REGION).map(move |n| key(region, n)))
        .collect()
}

/// Imported keys are judged by age (ListKeyRotations) and some failing keys are exempt by ARN
/// (a fact every listed key has), so that each kind of read decides some verdicts.
fn policy() -> Policy {
    let exempt = fleet()
        .into_iter()
        .enumerate()
        .filter(|(i, _)| i % 40 == 1)
        .map(|(_, r)| Exception {
            matcher: ExceptionMatch::Arn(r.arn),
            owner: "batch-team".into(),
            reason: "legacy batch".into(),
            ticket: None,
            expires: NaiveDate::from_ymd_opt(2999, 1, 31).unwrap(),
        })
        .collect();
    Policy {
        imported_key_max_age_days: Some(365),
        exceptions: exempt,
        ..Policy::default()
    }
}

fn now() -> DateTime<Utc> {
    "2026-09-01T00:00:00Z".parse().unwrap()
}

/// What the rule says of each seeded key: the truth a scan must never contradict.
fn truth() -> BTreeMap<String, Status> {
    let policy = policy();
    fleet()
        .iter()
        .map(|r| {
            (
                r.arn.clone(),
                kms_rotation::evaluate(r, &policy, now()).status,
            )
        })
        .collect()
}

/// Small backoffs and timeouts, so that every case runs in seconds; the attempt timeout stays
/// well above a debug build's call time on a loaded machine, or faultless calls would time out.
fn options() -> AwsOptions {
    AwsOptions {
        max_attempts: 5,
        initial_backoff: Some(Duration::from_millis(5)),
        operation_attempt_timeout: Some(Duration::from_secs(1)),
        operation_timeout: Some(Duration::from_secs(5)),
        concurrency_per_region: 16,
        throttling_budget: Duration::from_secs(60),
        ..aws_common::options(&REGIONS)
    }
}

/// One case's figures.
#[derive(Debug)]
struct Outcome {
    report: Report,
    keys_listed: usize,
    /// Findings per ARN that has any.
    findings_per_key: BTreeSet<usize>,
    wrong: Vec<String>,
    /// `error` findings for keys whose truth is not `error`.
    unexpected_errors: usize,
    /// Those errors by operation and code.
    error_codes: BTreeMap<String, usize>,
    injected: BTreeMap<String, usize>,
    calls: usize,
    /// The server's call log.
    log: Vec<kms_test_server::Call>,
    elapsed: Duration,
}

async fn scan(name: &str, faults: Faults, options: AwsOptions) -> Outcome {
    let server = KmsTestServer::start(fleet(), faults).await.unwrap();
    let sdk = aws_common::sdk_config(&server.endpoint_url(), "AKIDTEST").await;
    let source = AwsSource::from_sdk_config(sdk, options).await.unwrap();
    let listed = Arc::new(AtomicUsize::new(0));
    let sink = listed.clone();
    let request = ScanRequest {
        policy: policy(),
        now: Some(now()),
        all_tags: true,
        rotation_history: true,
        progress: Some(Arc::new(move |u: ProgressUpdate| {
            sink.fetch_max(u.keys_listed, Ordering::Relaxed);
        })),
        ..ScanRequest::default()
    };
    let started = Instant::now();
    // A liveness guard, not a timing assertion: a scan that loops must fail, not hang.
    let report = tokio::time::timeout(Duration::from_secs(120), source.scan(&request))
        .await
        .expect("the scan ends")
        .unwrap();
    let elapsed = started.elapsed();

    let truth = truth();
    let mut per_key: BTreeMap<&str, usize> = BTreeMap::new();
    for finding in &report.findings {
        *per_key.entry(&finding.arn).or_default() += 1;
    }
    let wrong = report
        .findings
        .iter()
        .filter(|f| f.status != Status::Error && truth.get(&f.arn) != Some(&f.status))
        .map(|f| format!("{} {:?} (truth {:?})", f.arn, f.status, truth.get(&f.arn)))
        .collect();
    let unexpected_errors = report
        .findings
        .iter()
        .filter(|f| f.status == Status::Error && truth.get(&f.arn) != Some(&Status::Error))
        .count();
    let mut error_codes = BTreeMap::new();
    for finding in &report.findings {
        if let (Status::Error, Some(error)) = (finding.status, &finding.error)
            && truth.get(&finding.arn) != Some(&Status::Error)
        {
            *error_codes
                .entry(format!("{}:{}", error.operation, error.code))
                .or_default() += 1;
        }
    }
    let calls = server.calls();
    let mut injected = BTreeMap::new();
    for call in &calls {
        if let Some(kind) = call.injected {
            *injected.entry(format!("{kind:?}")).or_default() += 1;
        }
    }
    let outcome = Outcome {
        keys_listed: listed.load(Ordering::Relaxed),
        findings_per_key: per_key.values().copied().collect(),
        wrong,
        unexpected_errors,
        error_codes,
        injected,
        calls: calls.len(),
        log: calls,
        elapsed,
        report,
    };
    eprintln!(
        "| {name} | {} listed | {} calls, injected {:?} | findings per key {:?} | {} wrong | \
         {} error findings ({} beyond the truth's: {:?}) | complete {} | {:.1} s |",
        outcome.keys_listed,
        outcome.calls,
        outcome.injected,
        outcome.findings_per_key,
        outcome.wrong.len(),
        outcome.report.summary.by_status.error,
        outcome.unexpected_errors,
        outcome.error_codes,
        outcome.report.is_complete(),
        outcome.elapsed.as_secs_f64(),
    );
    outcome
}

/// What every case must show: one finding per listed key and no wrong verdict.
fn assert_sound(outcome: &Outcome) {
    assert_eq!(
        outcome.report.findings.len(),
        outcome.keys_listed,
        "one finding per listed key"
    );
    assert!(
        outcome.findings_per_key.iter().all(|n| *n == 1),
        "{:?}",
        outcome.findings_per_key
    );
    assert!(
        outcome.wrong.is_empty(),
        "wrong verdicts: {:#?}",
        outcome.wrong
    );
}

/// A whole, faultless-looking result: every key listed and judged, nothing left as `error`
/// beyond the keys whose truth is `error`.
fn assert_absorbed(outcome: &Outcome) {
    assert_sound(outcome);
    assert!(
        outcome.report.is_complete(),
        "{:?}",
        outcome.report.scope_errors
    );
    assert_eq!(outcome.keys_listed, REGIONS.len() * KEYS_PER_REGION);
    assert_eq!(outcome.unexpected_errors, 0);
}

/// Every key listed and judged, with no wrong verdict; a key may be `error` only when a transient
/// failure (5xx, timeout, dropped connection, unreadable reply) outlasted every retry, which a
/// seeded but concurrent run can draw now and then: the issue accepts that, never a wrong
/// `pass` or `fail`. Throttling is held to [`assert_absorbed`]: it must leave no error at all.
fn assert_survived(outcome: &Outcome) {
    assert_sound(outcome);
    assert!(
        outcome.report.is_complete(),
        "{:?}",
        outcome.report.scope_errors
    );
    assert_eq!(outcome.keys_listed, REGIONS.len() * KEYS_PER_REGION);
    for code in outcome.error_codes.keys() {
        let code = code.rsplit(':').next().unwrap_or_default();
        assert!(
            code == "ResponseError"
                || kms_rotation::ErrorKind::from_aws_code(code)
                    == kms_rotation::ErrorKind::Unavailable,
            "an error finding that is not a transient failure: {:?}",
            outcome.error_codes
        );
    }
    // Rare, not routine: a few keys at most out of 400.
    assert!(outcome.unexpected_errors <= 4, "{:?}", outcome.error_codes);
}

fn injected(outcome: &Outcome, kind: Injected) -> usize {
    outcome
        .injected
        .get(&format!("{kind:?}"))
        .copied()
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_faults_every_key_gets_its_true_verdict() {
    let outcome = scan("none", Faults::default(), options()).await;
    assert_absorbed(&outcome);
    let statuses: BTreeSet<Status> = outcome.report.findings.iter().map(|f| f.status).collect();
    assert_eq!(statuses.len(), 5, "the fleet shows every status");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_percent_5xx() {
    let faults = Faults {
        seed: 11,
        server_errors: Selection::fraction(0.10),
        ..Faults::default()
    };
    let outcome = scan("10% 5xx", faults, options()).await;
    assert!(injected(&outcome, Injected::ServerError) > 50);
    assert_survived(&outcome);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_percent_timeouts() {
    let faults = Faults {
        seed: 12,
        timeouts: Selection::fraction(0.10),
        ..Faults::default()
    };
    let outcome = scan("10% timeouts", faults, options()).await;
    assert!(injected(&outcome, Injected::Held) > 50);
    assert_survived(&outcome);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_percent_connection_resets() {
    let faults = Faults {
        seed: 13,
        resets: Selection::fraction(0.10),
        ..Faults::default()
    };
    let outcome = scan("10% resets", faults, options()).await;
    assert!(injected(&outcome, Injected::Reset) > 50);
    assert_survived(&outcome);
}

/// A third of all calls throttled, whatever the rate (others use the account's quota): the scan
/// slows down and every key is still judged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_third_of_calls_throttled() {
    let faults = Faults {
        seed: 14,
        throttles: Selection::fraction(1.0 / 3.0),
        ..Faults::default()
    };
    let outcome = scan("1/3 throttled", faults, options()).await;
    assert!(injected(&outcome, Injected::Throttled) > 300);
    assert_absorbed(&outcome);
}

/// The client's rates set to five times the server's quotas (an account whose quotas are lower
/// than the client was told, or shared with busy callers): the server throttles the first bursts,
/// the adaptive rates come down to the quotas, and every throttled call is retried until it
/// passes. With fixed rates most calls were throttled (6,480 throttled replies for about
/// 1,750 calls that passed); with adaptive ones, a small share.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bursts_at_five_times_the_quota() {
    // Low enough that a debug build on a loaded machine still exceeds them.
    let quotas = [
        ("DescribeKey", 20),
        ("GetKeyRotationStatus", 20),
        ("ListResourceTags", 20),
        ("ListKeyRotations", 10),
        ("ListKeys", 2),
        ("ListAliases", 2),
    ];
    let faults = Faults {
        quotas: quotas
            .iter()
            .map(|(op, q)| ((*op).to_owned(), *q))
            .collect(),
        ..Faults::default()
    };
    let rate_limits = RateLimits {
        describe_key: 100,
        get_key_rotation_status: 100,
        list_resource_tags: 100,
        list_key_rotations: 50,
        list_keys: 10,
        list_aliases: 10,
        get_key_policy: 100,
        list_grants: 50,
    };
    let outcome = scan(
        "5x quota",
        faults,
        AwsOptions {
            rate_limits,
            ..options()
        },
    )
    .await;
    let throttled = injected(&outcome, Injected::Throttled);
    assert!(throttled > 50);
    assert!(
        throttled * 5 < outcome.calls,
        "{throttled} throttled replies out of {} calls: the rates did not come down",
        outcome.calls
    );
    assert_absorbed(&outcome);
}

/// A rate the user sets is a cap the adaptive rate never goes past: in no second does the server
/// see more of an operation's calls from one region than the rate and its burst (a tenth of it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_set_rate_is_never_exceeded() {
    let rate = 40;
    let rate_limits = RateLimits {
        describe_key: rate,
        get_key_rotation_status: rate,
        ..RateLimits::default()
    };
    let outcome = scan(
        "rate 40/s",
        Faults::default(),
        AwsOptions {
            rate_limits,
            ..options()
        },
    )
    .await;
    assert_absorbed(&outcome);
    for region in REGIONS {
        for op in ["DescribeKey", "GetKeyRotationStatus"] {
            let times: Vec<DateTime<Utc>> = outcome
                .log
                .iter()
                .filter(|c| c.region == region && c.operation == op)
                .map(|c| c.at)
                .collect();
            let busiest = times
                .iter()
                .map(|t| {
                    times
                        .iter()
                        .filter(|u| **u >= *t && **u < *t + chrono::Duration::seconds(1))
                        .count()
                })
                .max()
                .unwrap_or(0);
            // The rate, its burst, and a few calls that left on time but arrived late.
            assert!(
                busiest <= rate as usize * 11 / 10 + 3,
                "{busiest} {op} calls in one second in {region}, past the rate {rate}/s"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_percent_malformed_bodies() {
    let faults = Faults {
        seed: 15,
        malformed: Selection::fraction(0.10),
        ..Faults::default()
    };
    let outcome = scan("10% malformed JSON", faults, options()).await;
    assert!(injected(&outcome, Injected::Malformed) > 50);
    assert_survived(&outcome);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_percent_truncated_bodies() {
    let faults = Faults {
        seed: 16,
        truncated: Selection::fraction(0.10),
        ..Faults::default()
    };
    let outcome = scan("10% truncated bodies", faults, options()).await;
    assert!(injected(&outcome, Injected::Truncated) > 50);
    assert_survived(&outcome);
}

/// The west fails for good after three pages of 25 keys: its keys read so far are kept and
/// judged, the report says it is incomplete, the east is whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_region_failing_mid_pagination() {
    let faults = Faults {
        page_cap: Some(25),
        paging_faults: vec![PagingFault::new(
            "ListKeys",
            WEST,
            3,
            PagingFaultKind::Fail("KMSInternalException".into()),
        )],
        ..Faults::default()
    };
    let outcome = scan("west fails after 3 pages", faults, options()).await;
    assert_sound(&outcome);
    assert_eq!(outcome.unexpected_errors, 0);
    assert!(!outcome.report.is_complete());
    let [error] = outcome.report.scope_errors.as_slice() else {
        panic!("{:?}", outcome.report.scope_errors)
    };
    assert_eq!(
        (error.region.as_deref(), error.operation.as_str()),
        (Some(WEST), "ListKeys")
    );
    assert_eq!(error.code, "KMSInternalException");
    let in_region = |region: &str| {
        outcome
            .report
            .findings
            .iter()
            .filter(|f| f.region == region)
            .count()
    };
    assert_eq!(in_region(EAST), KEYS_PER_REGION);
    assert_eq!(in_region(WEST), 75);
}

/// After 500 calls the server answers nothing more. The scan ends (region reads stop calling
/// once calls time out in a row) with what it read and `complete: false`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_stops_answering_mid_scan() {
    let faults = Faults {
        stop_after: Some(500),
        ..Faults::default()
    };
    let outcome = scan("stops after 500 calls", faults, options()).await;
    assert_sound(&outcome);
    assert!(!outcome.report.is_complete());
    assert!(
        outcome
            .report
            .scope_errors
            .iter()
            .all(|e| e.code == REGION_UNRESPONSIVE || e.code == "TimeoutError"),
        "{:?}",
        outcome.report.scope_errors
    );
    // Keys read before the stop keep their verdicts.
    let judged = outcome
        .report
        .findings
        .iter()
        .filter(|f| f.status != Status::Error)
        .count();
    assert!(judged > 50, "{judged} keys judged before the stop");
    assert!(injected(&outcome, Injected::Stopped) > 0);
}
