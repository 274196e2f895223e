//! Remediation under the faults the read path survives (`faults.rs`): 5xx, throttle storms,
//! connection resets and timeouts on the KMS test server. An apply writes only keys in scope,
//! and rolling back restores every key it may have changed, even writes whose reply was lost.
//! Dummy credentials; loopback only.
#![cfg(feature = "aws")]
#![allow(clippy::unwrap_used)]

mod aws_common;
mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region};
use aws_sdk_kms::config::Credentials;
use aws_sdk_kms::config::retry::RetryConfig;
use aws_sdk_kms::config::timeout::TimeoutConfig;
use kms_rotation::aws::AwsTarget;
use kms_rotation::model::Tags;
use kms_rotation::model::{KeyManager, KeySpec, KeyState};
use kms_rotation::remediate::{
    ActionStatus, ApplyOptions, Journal, PlanOptions, RollbackOptions, RollbackStatus, Verify,
    apply, plan, read_journal, rollback,
};
use kms_rotation::{KeyRecord, Policy, Report, ReportScope};
use kms_test_server::{Faults, KmsTestServer, Selection};

const IN_SCOPE: usize = 40;

fn arn(n: usize) -> String {
    format!("arn:aws:kms:us-east-1:111122223333:key/{n:08x}-0000-4000-8000-{n:012x}")
}

/// `IN_SCOPE` customer-managed symmetric keys with rotation off, then one key of every kind
/// apply must refuse, also with rotation off.
fn fleet() -> (Vec<KeyRecord>, Vec<String>) {
    let key = |n: usize| KeyRecord {
        tags: Some(Tags::new()),
        ..common::failing(&arn(n))
    };
    let mut records: Vec<KeyRecord> = (1..=IN_SCOPE).map(key).collect();
    let out_of_scope: Vec<KeyRecord> = [
        |r: &mut KeyRecord| r.key_spec = Some(KeySpec::Rsa2048),
        |r: &mut KeyRecord| r.key_spec = Some(KeySpec::Hmac256),
        |r: &mut KeyRecord| r.key_state = Some(KeyState::Disabled),
        |r: &mut KeyRecord| r.key_state = Some(KeyState::PendingDeletion),
        |r: &mut KeyRecord| r.key_manager = Some(KeyManager::Aws),
    ]
    .iter()
    .enumerate()
    .map(|(i, edit)| {
        let mut record = key(IN_SCOPE + 1 + i);
        edit(&mut record);
        record
    })
    .collect();
    let refused = out_of_scope.iter().map(|r| r.arn.clone()).collect();
    records.extend(out_of_scope);
    (records, refused)
}

/// What each key's rotation is on the server.
fn states(server: &KmsTestServer, records: &[KeyRecord]) -> BTreeMap<String, (bool, Option<u32>)> {
    records
        .iter()
        .map(|r| {
            let s = server.rotation_of(&r.arn).unwrap();
            (r.arn.clone(), (s.enabled, s.period_days))
        })
        .collect()
}

async fn target(endpoint: &str) -> Arc<AwsTarget> {
    aws_common::assert_loopback(endpoint);
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .empty_test_environment()
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDTEST", "dummy", None, None, "tests"))
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(5)
                .with_initial_backoff(Duration::from_millis(20)),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(Duration::from_millis(500))
                .build(),
        )
        .endpoint_url(endpoint)
        .load()
        .await;
    Arc::new(AwsTarget::from_sdk_config(sdk))
}

fn verify() -> Verify {
    Verify {
        attempts: 10,
        delay: Duration::from_millis(10),
    }
}

fn faults() -> Faults {
    Faults {
        seed: 7,
        server_errors: Selection::fraction(0.1),
        throttles: Selection::fraction(0.33),
        resets: Selection::fraction(0.1),
        timeouts: Selection::fraction(0.05),
        timeout_hold: Duration::from_secs(2),
        ..Faults::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_under_faults_writes_only_in_scope_keys_and_rollback_restores_them_all() {
    let (records, refused) = fleet();
    let server = KmsTestServer::start(records.clone(), Faults::default())
        .await
        .unwrap();
    let initial = states(&server, &records);

    // A plan that also names the out-of-scope keys, as an edited plan file would.
    let mut as_if_in_scope = records.clone();
    for r in &mut as_if_in_scope {
        r.key_spec = Some(KeySpec::SymmetricDefault);
        r.key_state = Some(KeyState::Enabled);
        r.key_manager = Some(KeyManager::Customer);
    }
    let report = Report::evaluate(
        &as_if_in_scope,
        Policy::default(),
        ReportScope::default(),
        Vec::new(),
        chrono::Utc::now(),
    );
    let plan = plan(&report, &PlanOptions::default()).unwrap();
    assert_eq!(plan.actions.len(), records.len());

    server.set_faults(faults());
    let target = target(&server.endpoint_url()).await;
    let journal_path =
        std::env::temp_dir().join(format!("kms-rotation-faults-{}.ndjson", std::process::id()));
    let _ = std::fs::remove_file(&journal_path);
    let journal = Journal::open(&journal_path).unwrap();
    let outcome = apply(
        &plan,
        target.clone(),
        &ApplyOptions {
            writes_per_second: 0,
            max_consecutive_failures: 0,
            verify: verify(),
            dry_run: false,
            ..ApplyOptions::default()
        },
        &journal,
    )
    .await
    .unwrap();
    drop(journal);

    let injected = server
        .calls()
        .iter()
        .filter(|c| c.injected.is_some())
        .count();
    assert!(injected > 20, "faults were injected: {injected}");
    // Out of scope: never a write attempt, whatever the faults did to the reads before it.
    for arn in &refused {
        assert!(
            !server
                .write_calls()
                .iter()
                .any(|c| c.key_arn.as_deref() == Some(arn.as_str())),
            "{arn} was written"
        );
        let result = outcome
            .results
            .iter()
            .find(|r| &r.target_arn == arn)
            .unwrap();
        assert!(
            matches!(result.status, ActionStatus::Skipped | ActionStatus::Failed),
            "{arn}: {result:?}"
        );
    }
    let remediated = outcome.count(ActionStatus::Remediated);
    assert!(
        remediated > IN_SCOPE / 2,
        "{remediated} of {IN_SCOPE} fixed"
    );

    // Roll back under the same faults. A key whose rollback call failed is left for the next
    // run, as a person would re-run it: each run appends to the journal and skips what is done.
    let mut passes = 0;
    loop {
        passes += 1;
        let entries = read_journal(&journal_path).unwrap();
        let journal = Journal::open(&journal_path).unwrap();
        let undone = rollback(
            &entries,
            target.clone(),
            &RollbackOptions {
                writes_per_second: 0,
                verify: verify(),
                dry_run: false,
                ..RollbackOptions::default()
            },
            &journal,
        )
        .await
        .unwrap();
        if undone.count(RollbackStatus::Failed) == 0 || passes == 5 {
            break;
        }
    }
    server.set_faults(Faults::default());
    // The figures the issue note and BENCHMARKS.md quote (`-- --nocapture`).
    eprintln!(
        "keys: {} in scope + {} out; faults injected: {injected} during apply, {} in all; \
         apply: {remediated} remediated, {} failed, {} skipped; out-of-scope writes: 0; \
         rollback runs: {passes}",
        IN_SCOPE,
        refused.len(),
        server
            .calls()
            .iter()
            .filter(|c| c.injected.is_some())
            .count(),
        outcome.count(ActionStatus::Failed),
        outcome.count(ActionStatus::Skipped),
    );
    assert_eq!(
        states(&server, &records),
        initial,
        "every key is back as it was ({passes} rollback run(s))"
    );
}
