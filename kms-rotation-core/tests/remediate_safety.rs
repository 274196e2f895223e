//! Remediation that fails closed, through the AWS target: an edited plan writes nothing out of
//! scope (counted on the test server's call log, and on moto), a write whose reply is lost is
//! rolled back, and `kms-rotation apply` killed (SIGKILL) between EnableKeyRotation and its
//! `after` line is rolled back by `kms-rotation rollback`. Dummy credentials; loopback only.
#![cfg(feature = "aws")]
#![allow(clippy::unwrap_used)]

mod aws_common;
mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_kms::config::Credentials;
use aws_sdk_kms::config::retry::RetryConfig;
use aws_sdk_kms::config::timeout::TimeoutConfig;
use kms_rotation::aws::AwsTarget;
use kms_rotation::model::KeyArn;
use kms_rotation::remediate::{
    ActionStatus, Event, Journal, KeyMetadata, Plan, PlanFormat, PlanOptions, RemediationTarget,
    RollbackStatus, RotationState, apply, plan, rollback, scope_reason,
};
use kms_rotation::{Policy, Report, ReportScope, RotationPeriod};
use kms_test_server::{Faults, KmsTestServer, Selection};

const ORDERS: &str = "arn:aws:kms:us-east-1:111122223333:key/00000002-0000-4000-8000-000000000002";
const REPLICA: &str =
    "arn:aws:kms:eu-west-1:111122223333:key/mrk-0000000f-0000-4000-8000-00000000000f";

fn key(n: &str) -> String {
    format!("arn:aws:kms:us-east-1:111122223333:key/000000{n}-0000-4000-8000-0000000000{n}")
}

/// The fleet's out-of-scope keys in the first account, each with the reason apply must give.
fn out_of_scope_fleet_keys() -> Vec<(String, &'static str)> {
    vec![
        (key("05"), scope_reason::UNSUPPORTED_KEY_SPEC), // RSA_2048
        (key("06"), scope_reason::UNSUPPORTED_KEY_SPEC), // HMAC_256
        (key("07"), scope_reason::IMPORTED_KEY_MATERIAL), // EXTERNAL
        (key("08"), scope_reason::CUSTOM_KEY_STORE),     // AWS_CLOUDHSM
        (key("09"), scope_reason::CUSTOM_KEY_STORE),     // EXTERNAL_KEY_STORE
        (key("0a"), scope_reason::AWS_MANAGED),
        (key("0c"), scope_reason::KEY_DISABLED),
        (key("0d"), scope_reason::PENDING_DELETION),
        (key("0e"), scope_reason::IMPORTED_KEY_MATERIAL), // EXTERNAL, PendingImport
        (REPLICA.to_owned(), scope_reason::REPLICA_KEY),
    ]
}

/// Dummy credentials, environment ignored, every call to `endpoint` on loopback. One attempt
/// per call and a short attempt timeout: a held reply becomes a `TimeoutError` quickly.
async fn sdk_config(endpoint: &str) -> SdkConfig {
    aws_common::assert_loopback(endpoint);
    aws_config::defaults(BehaviorVersion::latest())
        .empty_test_environment()
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "AKIDTEST",
            "dummy-secret",
            None,
            None,
            "kms-rotation-tests",
        ))
        .retry_config(RetryConfig::standard().with_max_attempts(1))
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(Duration::from_millis(800))
                .build(),
        )
        .endpoint_url(endpoint)
        .load()
        .await
}

fn fleet_plan(accounts: &[&str]) -> Plan {
    let report = Report::evaluate(
        &common::fleet(),
        Policy::default(),
        ReportScope::default(),
        Vec::new(),
        chrono::Utc::now(),
    );
    let mut options = PlanOptions::default();
    options.selection.include.accounts = accounts.iter().map(|a| (*a).to_owned()).collect();
    plan(&report, &options).unwrap()
}

/// `plan` as a JSON document with an action added on each of `arns`, as a hand edit would.
fn edited_plan_json(plan: &Plan, arns: &[String]) -> String {
    let mut doc: serde_json::Value =
        serde_json::from_str(&plan.render_to_string(PlanFormat::Json).unwrap()).unwrap();
    let batch = plan.batches().max(1);
    let actions = doc["actions"].as_array_mut().unwrap();
    for arn in arns {
        let parsed = KeyArn::parse(arn).unwrap();
        actions.push(serde_json::json!({
            "action": "enable_rotation",
            "target_arn": arn,
            "region": parsed.region,
            "account_id": parsed.account_id,
            "rotation_period_days": 365,
            "batch": batch,
            "priority": 1,
            "because": [arn],
        }));
    }
    serde_json::to_string_pretty(&doc).unwrap()
}

fn rotation(server: &KmsTestServer, arn: &str) -> (bool, Option<u32>) {
    let state = server.rotation_of(arn).unwrap();
    (state.enabled, state.period_days)
}

/// `kms-rotation ARGS --endpoint-url URL`, as a CI job runs it: dummy credentials in the
/// environment and nothing else from it.
#[cfg(feature = "cli")]
fn cli(endpoint: &str, args: &[&str]) -> std::process::Command {
    aws_common::assert_loopback(endpoint);
    let mut command = common::cli();
    command
        .args(args)
        .args(["--endpoint-url", endpoint, "--verify-delay-ms", "10"]);
    command
}

/// Runs `command` off the test's runtime (the server runs on it) and waits for it.
#[cfg(feature = "cli")]
async fn output(mut command: std::process::Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

/// The case: a plan file edited to target an asymmetric, HMAC, imported, CloudHSM,
/// disabled, pending-deletion key and a replica. `apply --yes` sends none of them a write.
#[cfg(feature = "cli")]
#[tokio::test]
async fn apply_yes_on_an_edited_plan_writes_no_out_of_scope_key_on_the_test_server() {
    let server = KmsTestServer::start(common::fleet(), Faults::default().with_aws_quotas())
        .await
        .unwrap();
    let endpoint = server.endpoint_url();
    let plan = fleet_plan(&["111122223333"]);
    let planned: BTreeSet<String> = plan.actions.iter().map(|a| a.target_arn.clone()).collect();
    let refused = out_of_scope_fleet_keys();
    let arns: Vec<String> = refused.iter().map(|(arn, _)| arn.clone()).collect();
    let plan_path = common::scratch("edited-plan.json");
    std::fs::write(&plan_path, edited_plan_json(&plan, &arns)).unwrap();
    let journal = common::scratch("edited-journal.ndjson");
    let (plan_arg, journal_arg) = (plan_path.to_str().unwrap(), journal.to_str().unwrap());

    let out = output(cli(
        &endpoint,
        &[
            "apply",
            "--plan",
            plan_arg,
            "--journal",
            journal_arg,
            "--yes",
        ],
    ))
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Out-of-scope keys are skipped, not failures: the run succeeds.
    assert_eq!(out.status.code(), Some(0), "{stderr}");

    let written: BTreeSet<String> = server
        .write_calls()
        .into_iter()
        .filter_map(|c| c.key_arn)
        .collect();
    assert_eq!(written, planned, "writes only to the plan as made");
    for arn in &arns {
        assert_eq!(
            server
                .write_calls()
                .iter()
                .filter(|c| c.key_arn.as_deref() == Some(arn.as_str()))
                .count(),
            0,
            "{arn}"
        );
        // Each was described: the refusal is about the key as it is now.
        assert!(
            server
                .calls_for("DescribeKey")
                .iter()
                .any(|c| c.key_arn.as_deref() == Some(arn.as_str())),
            "{arn}"
        );
    }
    let outcome: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let entries = kms_rotation::remediate::read_journal(&journal).unwrap();
    for (arn, reason) in &refused {
        let result = outcome["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["target_arn"] == arn.as_str())
            .unwrap();
        assert_eq!(result["status"], "skipped", "{arn}");
        assert_eq!(result["reason"], *reason, "{arn}");
        let line = entries.iter().find(|e| &e.target_arn == arn).unwrap();
        assert_eq!(
            (line.event, line.reason.as_deref()),
            (Event::Skipped, Some(*reason))
        );
    }
}

/// A RemediationTarget that counts the writes it passes on: moto has no call log.
#[derive(Debug)]
struct Counting {
    inner: Arc<dyn RemediationTarget>,
    writes: Mutex<Vec<String>>,
}

#[async_trait]
impl RemediationTarget for Counting {
    async fn describe_key(&self, arn: &str) -> kms_rotation::Result<KeyMetadata> {
        self.inner.describe_key(arn).await
    }
    async fn read_rotation(&self, arn: &str) -> kms_rotation::Result<RotationState> {
        self.inner.read_rotation(arn).await
    }
    async fn enable_rotation(&self, arn: &str, period: RotationPeriod) -> kms_rotation::Result<()> {
        self.writes.lock().unwrap().push(arn.to_owned());
        self.inner.enable_rotation(arn, period).await
    }
    async fn disable_rotation(&self, arn: &str) -> kms_rotation::Result<()> {
        self.writes.lock().unwrap().push(arn.to_owned());
        self.inner.disable_rotation(arn).await
    }
}

/// The same on moto, for every kind moto models (it has no custom key stores): its DescribeKey
/// answers are what the re-check reads.
#[tokio::test]
async fn an_edited_plan_writes_no_out_of_scope_key_on_moto() {
    use aws_sdk_kms::types::{KeySpec, KeyUsageType, OriginType};
    use kms_rotation::aws::{AwsSource, kms_client};
    use kms_rotation::{KeySourceExt, ScanRequest};

    let Ok(url) = std::env::var("KMS_ROTATION_MOTO_URL") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "KMS_ROTATION_MOTO_URL must be set in CI"
        );
        eprintln!("note: KMS_ROTATION_MOTO_URL is not set; skipping the moto test");
        return;
    };
    let url = url.trim_end_matches('/').to_owned();
    let sdk = aws_common::sdk_config(&url, "AKIDREMEDIATESCOPE").await;
    let (east, west) = (
        kms_client(&sdk, "us-east-1", None),
        kms_client(&sdk, "eu-west-1", None),
    );
    // (key id, ARN): moto's own calls take the id, the plan takes the ARN.
    let create = |spec: KeySpec, usage: KeyUsageType, origin: OriginType| {
        let east = east.clone();
        async move {
            let out = east
                .create_key()
                .key_spec(spec)
                .key_usage(usage)
                .origin(origin)
                .send()
                .await
                .unwrap();
            let meta = out.key_metadata().unwrap();
            (meta.key_id().to_owned(), meta.arn().unwrap().to_owned())
        }
    };
    use KeySpec as S;
    use KeyUsageType as U;
    use OriginType as O;
    let (_, control) = create(S::SymmetricDefault, U::EncryptDecrypt, O::AwsKms).await;
    let (_, rsa) = create(S::Rsa2048, U::SignVerify, O::AwsKms).await;
    let (_, hmac) = create(S::Hmac256, U::GenerateVerifyMac, O::AwsKms).await;
    let (_, imported) = create(S::SymmetricDefault, U::EncryptDecrypt, O::External).await;
    let (id, disabled) = create(S::SymmetricDefault, U::EncryptDecrypt, O::AwsKms).await;
    east.disable_key().key_id(&id).send().await.unwrap();
    let (id, deleting) = create(S::SymmetricDefault, U::EncryptDecrypt, O::AwsKms).await;
    east.schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    let primary = east
        .create_key()
        .multi_region(true)
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_id()
        .to_owned();
    let replica = east
        .replicate_key()
        .key_id(&primary)
        .replica_region("eu-west-1")
        .send()
        .await
        .unwrap()
        .replica_key_metadata()
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();
    assert!(
        west.describe_key().key_id(&primary).send().await.is_ok(),
        "moto models replicas"
    );
    let refused = [
        (rsa, scope_reason::UNSUPPORTED_KEY_SPEC),
        (hmac, scope_reason::UNSUPPORTED_KEY_SPEC),
        (imported, scope_reason::IMPORTED_KEY_MATERIAL),
        (disabled, scope_reason::KEY_DISABLED),
        (deleting, scope_reason::PENDING_DELETION),
        (replica, scope_reason::REPLICA_KEY),
    ];

    // Plan the control key alone (from a scan of this test's own account), then edit the plan.
    let source = AwsSource::from_sdk_config(sdk.clone(), aws_common::options(&["us-east-1"]))
        .await
        .unwrap();
    let report = source.scan(&ScanRequest::default()).await.unwrap();
    let mut made = plan(&report, &PlanOptions::default()).unwrap();
    made.actions.retain(|a| a.target_arn == control);
    assert_eq!(made.actions.len(), 1, "{made:#?}");
    let arns: Vec<String> = refused.iter().map(|(arn, _)| arn.clone()).collect();
    let edited = Plan::parse(
        &edited_plan_json(&made, &arns),
        kms_rotation::input::Syntax::Json,
    )
    .unwrap();

    let target = Arc::new(Counting {
        inner: Arc::new(AwsTarget::from_sdk_config(sdk)),
        writes: Mutex::default(),
    });
    let outcome = apply(
        &edited,
        target.clone(),
        &common::quick_apply_options(),
        &Journal::in_memory(),
    )
    .await
    .unwrap();
    assert_eq!(*target.writes.lock().unwrap(), vec![control]);
    for (arn, reason) in &refused {
        let result = outcome
            .results
            .iter()
            .find(|r| &r.target_arn == arn)
            .unwrap();
        assert_eq!(result.status, ActionStatus::Skipped, "{arn}: {result:?}");
        assert_eq!(result.reason.as_deref(), Some(*reason), "{arn}");
    }
    assert!(outcome.is_success(), "{outcome:#?}");
}

/// A write that lands but whose reply never comes (the SDK's `TimeoutError`): apply says the
/// outcome is unknown, and rollback restores the key because it shows the target state.
#[tokio::test]
async fn a_write_that_timed_out_after_landing_is_rolled_back_on_the_test_server() {
    let held = Faults {
        timeouts: Selection::operation("EnableKeyRotation"),
        timeout_hold: Duration::from_secs(30),
        ..Faults::default()
    };
    let server = KmsTestServer::start(common::fleet(), held).await.unwrap();
    // No retries past the SDK's: every EnableKeyRotation reply is held, so the write's outcome
    // stays unknown.
    let target = Arc::new(
        AwsTarget::from_sdk_config(sdk_config(&server.endpoint_url()).await)
            .with_retry_budget(Duration::ZERO),
    );
    let mut plan = fleet_plan(&["111122223333"]);
    plan.actions.retain(|a| a.target_arn == ORDERS);
    let journal = Journal::in_memory();
    let outcome = apply(
        &plan,
        target.clone(),
        &common::quick_apply_options(),
        &journal,
    )
    .await
    .unwrap();
    let result = &outcome.results[0];
    assert_eq!(result.status, ActionStatus::Failed, "{result:?}");
    assert_eq!(result.error.as_ref().unwrap().code, "TimeoutError");
    assert_eq!(result.reason.as_deref(), Some("write_outcome_unknown"));
    assert_eq!(rotation(&server, ORDERS), (true, Some(365)), "it landed");

    server.set_faults(Faults::default());
    let undone = rollback(
        &journal.entries(),
        target,
        &common::quick_rollback_options(),
        &journal,
    )
    .await
    .unwrap();
    assert_eq!(undone.results[0].status, RollbackStatus::RolledBack);
    assert!(undone.results[0].possibly_applied);
    assert_eq!(rotation(&server, ORDERS), (false, None));
}

/// The case, with a real kill: `kms-rotation apply --yes` is SIGKILLed after the server
/// applied EnableKeyRotation and before the reply (held) reached it, so no `after` is ever
/// journaled. A later apply finds the key at target and skips it; `kms-rotation rollback --yes`
/// still restores it, from the intent.
#[cfg(all(feature = "cli", unix))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_killed_mid_write_is_rolled_back_by_the_cli() {
    use std::os::unix::process::ExitStatusExt;

    let held = Faults {
        timeouts: Selection::operation("EnableKeyRotation"),
        timeout_hold: Duration::from_secs(600),
        ..Faults::default()
    };
    let server = KmsTestServer::start(common::fleet(), held).await.unwrap();
    let endpoint = server.endpoint_url();
    let mut plan = fleet_plan(&["111122223333"]);
    plan.actions.retain(|a| a.target_arn == ORDERS);
    let plan_path = common::scratch("kill-plan.json");
    std::fs::write(&plan_path, plan.render_to_string(PlanFormat::Json).unwrap()).unwrap();
    let journal = common::scratch("kill-journal.ndjson");
    let (plan_arg, journal_arg) = (plan_path.to_str().unwrap(), journal.to_str().unwrap());
    let apply_args = [
        "apply",
        "--plan",
        plan_arg,
        "--journal",
        journal_arg,
        "--yes",
    ];

    let mut child = cli(&endpoint, &apply_args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the server has applied the write (its reply is held): bounded, so a broken
    // build fails here instead of hanging.
    let mut waited = Duration::ZERO;
    while !server.rotation_of(ORDERS).unwrap().enabled {
        assert!(
            child.try_wait().unwrap().is_none(),
            "apply exited before its write"
        );
        assert!(waited < Duration::from_secs(120), "the write never arrived");
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += Duration::from_millis(20);
    }
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(9), "{status:?}");
    assert_eq!(server.calls_for("EnableKeyRotation").len(), 1);

    // The intent is on disk, and nothing after it.
    let entries = kms_rotation::remediate::read_journal(&journal).unwrap();
    let last = entries.last().unwrap();
    assert_eq!(
        (last.target_arn.as_str(), last.event),
        (ORDERS, Event::Before)
    );
    assert_eq!(
        last.target,
        Some(RotationState::enabled(RotationPeriod::AWS_DEFAULT))
    );
    assert!(!entries.iter().any(|e| e.event == Event::After));

    // The lock died with the process. A later apply finds the key at target.
    server.set_faults(Faults::default());
    let out = output(cli(&endpoint, &apply_args)).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let outcome: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(outcome["results"][0]["reason"], "already_at_target");

    // Rollback restores it all the same.
    let out = output(cli(
        &endpoint,
        &["rollback", "--journal", journal_arg, "--yes"],
    ))
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(rotation(&server, ORDERS), (false, None));
    let outcome: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(outcome["results"][0]["status"], "rolled_back");
    assert_eq!(outcome["results"][0]["possibly_applied"], true);
    let entries = kms_rotation::remediate::read_journal(&journal).unwrap();
    let last = entries.last().unwrap();
    assert_eq!(
        (last.target_arn.as_str(), last.event),
        (ORDERS, Event::RolledBack)
    );
    let disables = server.calls_for("DisableKeyRotation");
    assert_eq!(disables.len(), 1);
    assert_eq!(disables[0].key_arn.as_deref(), Some(ORDERS));
}

/// A journal that cannot take a line (a full disk: /dev/full) stops the run before any write,
/// and `apply` still prints every key's result and exits non-zero.
#[cfg(all(feature = "cli", target_os = "linux"))]
#[tokio::test]
async fn apply_on_a_journal_that_cannot_be_written_sends_no_write_and_exits_3() {
    let server = KmsTestServer::start(common::fleet(), Faults::default())
        .await
        .unwrap();
    let plan = fleet_plan(&["111122223333"]);
    let plan_path = common::scratch("full-plan.json");
    std::fs::write(&plan_path, plan.render_to_string(PlanFormat::Json).unwrap()).unwrap();
    let out = output(cli(
        &server.endpoint_url(),
        &[
            "apply",
            "--plan",
            plan_path.to_str().unwrap(),
            "--journal",
            "/dev/full",
            "--yes",
        ],
    ))
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("the journal failed"), "{stderr}");
    assert!(server.write_calls().is_empty());
    let outcome: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(outcome["journal_error"].is_string(), "{outcome}");
    let results = outcome["results"].as_array().unwrap();
    assert_eq!(results.len(), plan.actions.len());
    assert!(
        results
            .iter()
            .all(|r| r["status"] == "not_attempted" && r["reason"] == "journal_failed"),
        "{outcome}"
    );
}
