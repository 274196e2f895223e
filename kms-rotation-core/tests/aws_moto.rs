//! The AWS source against moto's KMS server (`moto[server]==5.2.5`), an independent emulator:
//! keys are created through the SDK, scanned, and judged by the rule.
//!
//! Start it with `moto_server -H 127.0.0.1 -p 5055` and set
//! `KMS_ROTATION_MOTO_URL=http://127.0.0.1:5055`. Without the variable these tests are skipped
//! with a note, except under `CI`, where they fail.
//!
//! Only what moto emulates faithfully is asserted here (`kms-api.md` §8, `product.md`). moto:
//! - ignores `RotationPeriodInDays` (GetKeyRotationStatus returns no period, so every enabled key
//!   passes with `period_source: assumed_default`; periods are tested on the project's server);
//! - does not page (every list is one page);
//! - accepts rotation calls on any key type and state (so eligibility errors are not tested here);
//! - marks a replica `PRIMARY` (ReplicateKey copies the primary's metadata), so the replica's
//!   role and shared rotation state are not asserted;
//! - returns the stored flag for PendingDeletion keys (the rule settles those before the call).
//!
//! moto is one process shared by every test: each test takes a lock and resets it first.
#![cfg(feature = "aws")]
#![allow(clippy::unwrap_used)]

mod aws_common;
mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_config::SdkConfig;
use aws_sdk_kms::types::{KeySpec, KeyUsageType, OriginType, Tag};
use chrono::{Duration, NaiveDate, Utc};
use kms_rotation::aws::{AwsOptions, AwsSource, kms_client};
use kms_rotation::model::{KeyRecord, RotationType};
use kms_rotation::policy::{DisabledKeys, Exception, ExceptionMatch, Policy};
use kms_rotation::source::ProgressUpdate;
use kms_rotation::{
    KeySource, KeySourceExt, PeriodSource, ReadRequest, Reason, Report, ReportScope, ScanRequest,
    Scope, Status,
};

const ACCOUNT: &str = "123456789012"; // moto's default account

struct Moto {
    sdk: SdkConfig,
}

impl Moto {
    async fn new(url: &str) -> Self {
        Moto {
            sdk: aws_common::sdk_config(url, "AKIDMOTOTEST").await,
        }
    }

    fn kms(&self, region: &str) -> aws_sdk_kms::Client {
        kms_client(&self.sdk, region, None)
    }

    async fn source(&self, options: AwsOptions) -> AwsSource {
        AwsSource::from_sdk_config(self.sdk.clone(), options)
            .await
            .unwrap()
    }
}

/// Creates a key and returns its id.
async fn create(
    kms: &aws_sdk_kms::Client,
    spec: KeySpec,
    usage: KeyUsageType,
    origin: OriginType,
) -> String {
    kms.create_key()
        .key_spec(spec)
        .key_usage(usage)
        .origin(origin)
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_id()
        .to_owned()
}

async fn symmetric(kms: &aws_sdk_kms::Client) -> String {
    create(
        kms,
        KeySpec::SymmetricDefault,
        KeyUsageType::EncryptDecrypt,
        OriginType::AwsKms,
    )
    .await
}

async fn enable_rotation(kms: &aws_sdk_kms::Client, id: &str) {
    kms.enable_key_rotation()
        .key_id(id)
        .rotation_period_in_days(180)
        .send()
        .await
        .unwrap();
}

fn by_key_id(records: &[KeyRecord]) -> BTreeMap<String, &KeyRecord> {
    records.iter().map(|r| (r.key_id.clone(), r)).collect()
}

#[tokio::test]
async fn findings_follow_the_rule_across_three_regions() {
    let Some(url) = aws_common::moto_url() else {
        return;
    };
    let _moto = aws_common::exclusive_moto(&url).await;
    let moto = Moto::new(&url).await;
    let (us, eu, ap) = (
        moto.kms("us-east-1"),
        moto.kms("eu-west-1"),
        moto.kms("ap-southeast-2"),
    );

    let mut expected: BTreeMap<String, (Status, Reason)> = BTreeMap::new();
    // us-east-1: the rule's rows one by one.
    let off = symmetric(&us).await;
    us.create_alias()
        .alias_name("alias/payments")
        .target_key_id(&off)
        .send()
        .await
        .unwrap();
    expected.insert(off.clone(), (Status::Fail, Reason::RotationDisabled));
    let on = symmetric(&us).await;
    enable_rotation(&us, &on).await;
    expected.insert(on.clone(), (Status::Pass, Reason::RotationEnabled));
    let rsa = create(
        &us,
        KeySpec::Rsa2048,
        KeyUsageType::SignVerify,
        OriginType::AwsKms,
    )
    .await;
    expected.insert(rsa, (Status::NotApplicable, Reason::UnsupportedKeySpec));
    let hmac = create(
        &us,
        KeySpec::Hmac256,
        KeyUsageType::GenerateVerifyMac,
        OriginType::AwsKms,
    )
    .await;
    expected.insert(hmac, (Status::NotApplicable, Reason::UnsupportedKeySpec));
    let imported = create(
        &us,
        KeySpec::SymmetricDefault,
        KeyUsageType::EncryptDecrypt,
        OriginType::External,
    )
    .await;
    expected.insert(
        imported,
        (Status::NotApplicable, Reason::ImportedKeyMaterial),
    );
    let disabled = symmetric(&us).await;
    us.disable_key().key_id(&disabled).send().await.unwrap();
    expected.insert(disabled.clone(), (Status::Fail, Reason::RotationDisabled));
    let deleting = symmetric(&us).await;
    us.schedule_key_deletion()
        .key_id(&deleting)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    expected.insert(deleting, (Status::NotApplicable, Reason::PendingDeletion));

    // eu-west-1: a multi-Region primary that rotates, and a key nobody may describe.
    let primary = moto_multi_region_key(&eu).await;
    enable_rotation(&eu, &primary).await;
    let denied = eu
        .create_key()
        .policy(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*",
                "Action":"kms:DescribeKey","Resource":"*"}]}"#,
        )
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_id()
        .to_owned();
    expected.insert(denied.clone(), (Status::Error, Reason::DescribeFailed));

    // ap-southeast-2: the primary's replica (listed there too) and a key without rotation.
    eu.replicate_key()
        .key_id(&primary)
        .replica_region("ap-southeast-2")
        .send()
        .await
        .unwrap();
    let ap_off = symmetric(&ap).await;
    expected.insert(ap_off, (Status::Fail, Reason::RotationDisabled));

    // A region outside the scan.
    symmetric(&moto.kms("us-west-2")).await;

    let source = moto
        .source(aws_common::options(&[
            "us-east-1",
            "eu-west-1",
            "ap-southeast-2",
        ]))
        .await;
    let updates = Arc::new(Mutex::new(Vec::<ProgressUpdate>::new()));
    let sink = updates.clone();
    let request = ScanRequest {
        progress: Some(Arc::new(move |u| sink.lock().unwrap().push(u))),
        ..ScanRequest::default()
    };
    let report = source.scan(&request).await.unwrap();

    assert!(report.scope_errors.is_empty(), "{:?}", report.scope_errors);
    assert_eq!(
        report.scope.regions,
        ["ap-southeast-2", "eu-west-1", "us-east-1"]
    );
    assert_eq!(report.scope.accounts, [ACCOUNT]);
    // Every key of the three regions has exactly one finding; the replica shares its id.
    assert_eq!(report.findings.len(), expected.len() + 2);
    for finding in &report.findings {
        assert_eq!(finding.account_id, ACCOUNT);
        assert_ne!(finding.region, "us-west-2");
        if finding.key_id == primary {
            assert_eq!(
                (finding.status, finding.reason),
                (Status::Pass, Reason::RotationEnabled),
                "{} in {}",
                finding.key_id,
                finding.region
            );
            continue;
        }
        assert_eq!(
            Some(&(finding.status, finding.reason)),
            expected.get(&finding.key_id),
            "{finding:#?}"
        );
    }

    let find = |id: &str, region: &str| {
        report
            .findings
            .iter()
            .find(|f| f.key_id == id && f.region == region)
            .unwrap()
    };
    assert_eq!(
        find(&off, "us-east-1").aliases,
        Some(vec!["alias/payments".to_owned()])
    );
    assert!(find(&off, "us-east-1").remediable);
    assert!(!find(&disabled, "us-east-1").remediable);
    // moto reports no RotationPeriodInDays: the rule assumes AWS's default and says so.
    assert_eq!(
        find(&on, "us-east-1").period_source,
        Some(PeriodSource::AssumedDefault)
    );
    let primary_finding = find(&primary, "eu-west-1");
    assert_eq!(
        primary_finding.multi_region.as_ref().unwrap().primary_arn,
        Some(primary_finding.arn.clone())
    );
    let denied = find(&denied, "eu-west-1");
    assert_eq!(denied.error.as_ref().unwrap().code, "AccessDeniedException");
    assert_eq!(denied.error.as_ref().unwrap().operation, "DescribeKey");
    assert!(find(&primary, "ap-southeast-2").multi_region.is_some());

    // Progress: cumulative, never backwards, complete at the end.
    let updates = updates.lock().unwrap().clone();
    assert!(
        updates
            .windows(2)
            .all(|w| w[0].keys_read <= w[1].keys_read && w[0].keys_listed <= w[1].keys_listed)
    );
    let total = report.findings.len();
    assert_eq!(
        updates.last(),
        Some(&ProgressUpdate {
            keys_listed: total,
            keys_read: total
        })
    );

    // The same records under `disabled_keys: skip`.
    let collected = source.read(&ReadRequest::default()).await.unwrap();
    let policy = Policy {
        disabled_keys: DisabledKeys::Skip,
        ..Policy::default()
    };
    let skipped = Report::evaluate(
        &collected.records,
        policy,
        ReportScope::default(),
        Vec::new(),
        Utc::now(),
    );
    let finding = skipped
        .findings
        .iter()
        .find(|f| f.key_id == disabled)
        .unwrap();
    assert_eq!(
        (finding.status, finding.reason),
        (Status::NotApplicable, Reason::KeyDisabled)
    );
}

async fn moto_multi_region_key(kms: &aws_sdk_kms::Client) -> String {
    kms.create_key()
        .multi_region(true)
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_id()
        .to_owned()
}

#[tokio::test]
async fn imported_keys_are_judged_by_their_last_on_demand_rotation() {
    let Some(url) = aws_common::moto_url() else {
        return;
    };
    let _moto = aws_common::exclusive_moto(&url).await;
    let moto = Moto::new(&url).await;
    let kms = moto.kms("eu-central-1");
    let imported = |kms: aws_sdk_kms::Client| async move {
        create(
            &kms,
            KeySpec::SymmetricDefault,
            KeyUsageType::EncryptDecrypt,
            OriginType::External,
        )
        .await
    };
    let rotated = imported(kms.clone()).await;
    kms.rotate_key_on_demand()
        .key_id(&rotated)
        .send()
        .await
        .unwrap();
    let never_rotated = imported(kms.clone()).await;
    let symmetric_rotated = symmetric(&kms).await;
    enable_rotation(&kms, &symmetric_rotated).await;
    kms.rotate_key_on_demand()
        .key_id(&symmetric_rotated)
        .send()
        .await
        .unwrap();

    let source = moto.source(aws_common::options(&["eu-central-1"])).await;
    let policy = Policy {
        imported_key_max_age_days: Some(30),
        ..Policy::default()
    };
    let report = source
        .scan(&ScanRequest {
            policy: policy.clone(),
            ..ScanRequest::default()
        })
        .await
        .unwrap();
    let find = |id: &str| report.findings.iter().find(|f| f.key_id == id).unwrap();
    let rotated_finding = find(&rotated);
    assert_eq!(
        (rotated_finding.status, rotated_finding.reason),
        (Status::Pass, Reason::ImportedKeyRotatedOnDemand)
    );
    let last = rotated_finding
        .rotation
        .as_ref()
        .and_then(|r| r.last_rotation.as_ref())
        .unwrap();
    assert_eq!(last.rotation_type, RotationType::OnDemand);
    assert!(Utc::now() - last.date < Duration::minutes(10));
    // Never rotated: judged by its creation date, which is today.
    let never = find(&never_rotated);
    assert_eq!(never.status, Status::Pass);
    assert!(never.rotation.is_none());
    // Rotation history is not read for other keys unless asked.
    assert!(
        find(&symmetric_rotated)
            .rotation
            .as_ref()
            .unwrap()
            .last_rotation
            .is_none()
    );

    // Sixty days on, both imported keys are overdue (moto cannot backdate, so `now` moves).
    let collected = source
        .read(&ReadRequest {
            scope: Scope::default(),
            policy: policy.clone(),
            needs: kms_rotation::source::Needs {
                rotation_history: true,
                ..kms_rotation::source::Needs::for_policy(&policy)
            },
            ..ReadRequest::default()
        })
        .await
        .unwrap();
    let later = Report::evaluate(
        &collected.records,
        policy,
        ReportScope::default(),
        Vec::new(),
        Utc::now() + Duration::days(60),
    );
    for id in [&rotated, &never_rotated] {
        let finding = later.findings.iter().find(|f| &f.key_id == id).unwrap();
        assert_eq!(
            (finding.status, finding.reason),
            (Status::Fail, Reason::ImportedKeyRotationOverdue)
        );
        assert!(!finding.remediable, "imported keys rotate only on demand");
    }
    // With rotation history asked for, the symmetric key's on-demand rotation is read too.
    let record = by_key_id(&collected.records)[&symmetric_rotated];
    let last = record
        .rotation
        .as_ref()
        .unwrap()
        .last_rotation
        .as_ref()
        .unwrap();
    assert_eq!(last.rotation_type, RotationType::OnDemand);
}

#[tokio::test]
async fn tags_are_read_only_where_an_exception_may_need_them() {
    let Some(url) = aws_common::moto_url() else {
        return;
    };
    let _moto = aws_common::exclusive_moto(&url).await;
    let moto = Moto::new(&url).await;
    let kms = moto.kms("sa-east-1");
    let tag = |k: &str, v: &str| Tag::builder().tag_key(k).tag_value(v).build().unwrap();
    let excused = symmetric(&kms).await;
    let failing = symmetric(&kms).await;
    let passing = symmetric(&kms).await;
    enable_rotation(&kms, &passing).await;
    for id in [&excused, &failing, &passing] {
        let mut request = kms
            .tag_resource()
            .key_id(id.as_str())
            .tags(tag("team", "payments"));
        if id == &excused {
            request = request.tags(tag("rotation-exception", "TKT-42"));
        }
        request.send().await.unwrap();
    }
    let policy = Policy {
        exceptions: vec![Exception {
            matcher: ExceptionMatch::Tag {
                key: "rotation-exception".into(),
                value: "TKT-42".into(),
            },
            owner: "payments".into(),
            reason: "legacy batch".into(),
            ticket: Some("TKT-42".into()),
            expires: NaiveDate::from_ymd_opt(2999, 12, 31).unwrap(),
        }],
        ..Policy::default()
    };
    let source = moto.source(aws_common::options(&["sa-east-1"])).await;
    let report = source
        .scan(&ScanRequest {
            policy: policy.clone(),
            ..ScanRequest::default()
        })
        .await
        .unwrap();
    let find = |id: &str| report.findings.iter().find(|f| f.key_id == id).unwrap();
    assert_eq!(find(&excused).status, Status::Exempt);
    assert_eq!(find(&excused).reason, Reason::RotationDisabled);
    assert_eq!(find(&failing).status, Status::Fail);
    assert_eq!(
        find(&failing).tags.as_ref().and_then(|t| t.get("team")),
        Some("payments")
    );
    // The passing key's tags cannot change its verdict: they were not read.
    assert_eq!(find(&passing).status, Status::Pass);
    assert!(find(&passing).tags.is_none(), "not read: null, not empty");

    // Unless every key's tags are asked for.
    let report = source
        .scan(&ScanRequest {
            policy,
            all_tags: true,
            ..ScanRequest::default()
        })
        .await
        .unwrap();
    let passing = report
        .findings
        .iter()
        .find(|f| f.key_id == passing)
        .unwrap();
    assert_eq!(
        passing.tags.as_ref().and_then(|t| t.get("team")),
        Some("payments")
    );
}

#[tokio::test]
async fn each_assumed_role_reads_its_own_account() {
    let Some(url) = aws_common::moto_url() else {
        return;
    };
    let _moto = aws_common::exclusive_moto(&url).await;
    let moto = Moto::new(&url).await;
    let roles = [
        "arn:aws:iam::111111111111:role/kms-rotation-scanner",
        "arn:aws:iam::222222222222:role/kms-rotation-scanner",
    ];
    let options = AwsOptions {
        role_arns: roles.iter().map(|r| (*r).to_owned()).collect(),
        external_id: Some("kms-rotation-test".into()),
        ..aws_common::options(&["ca-central-1"])
    };
    let source = moto.source(options).await;
    assert_eq!(source.known_accounts(), ["111111111111", "222222222222"]);

    // Keys are created through the same assumed roles: moto files them under the role's account.
    let mut created = BTreeMap::new();
    for account in ["111111111111", "222222222222"] {
        let kms = source.kms_client(account, "ca-central-1", None).unwrap();
        created.insert(symmetric(&kms).await, account);
    }
    // A key of the default account, which no role reads.
    symmetric(&moto.kms("ca-central-1")).await;

    let collected = source.read(&ReadRequest::default()).await.unwrap();
    assert!(
        collected.scope_errors.is_empty(),
        "{:?}",
        collected.scope_errors
    );
    assert_eq!(collected.accounts, ["111111111111", "222222222222"]);
    assert_eq!(collected.records.len(), 2);
    for record in &collected.records {
        assert_eq!(created[&record.key_id], record.account_id);
    }

    // A scope of one account skips the other role entirely.
    let collected = source
        .read(&ReadRequest {
            scope: Scope {
                accounts: vec!["222222222222".into()],
                regions: Vec::new(),
                shard: None,
                keys: Vec::new(),
            },
            ..ReadRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(collected.accounts, ["222222222222"]);
    assert_eq!(collected.records.len(), 1);
}

#[tokio::test]
async fn the_aws_source_passes_the_conformance_suite_on_moto() {
    let Some(url) = aws_common::moto_url() else {
        return;
    };
    let _moto = aws_common::exclusive_moto(&url).await;
    let moto = Moto::new(&url).await;
    let regions = ["eu-west-1", "us-east-1", "us-west-2"];
    let mut seeded = Vec::new();
    for (i, region) in regions.iter().enumerate() {
        let kms = moto.kms(region);
        for _ in 0..=i {
            let id = symmetric(&kms).await;
            let arn = format!("arn:aws:kms:{region}:{ACCOUNT}:key/{id}");
            seeded.push(KeyRecord::from_arn(&arn).unwrap());
        }
    }
    let source = moto.source(aws_common::options(&regions)).await;
    common::conformance::run(&source, &seeded).await;
}

/// Remediation on moto: scan, plan, apply through the AWS target, re-scan. moto accepts writes on
/// any key, so the assertions are about what the plan chose to write and what the re-scan shows.
#[tokio::test]
async fn scan_plan_apply_rescan_on_moto() {
    use kms_rotation::aws::AwsTarget;
    use kms_rotation::remediate::{
        ApplyOptions, Journal, PlanOptions, SkipReason, Verify, apply, plan,
    };

    let Some(url) = aws_common::moto_url() else {
        return;
    };
    let _moto = aws_common::exclusive_moto(&url).await;
    let moto = Moto::new(&url).await;
    let east = moto.kms("us-east-1");
    let west = moto.kms("eu-west-1");
    let off = symmetric(&east).await;
    let on = symmetric(&east).await;
    enable_rotation(&east, &on).await;
    let asymmetric = create(
        &east,
        KeySpec::Rsa2048,
        KeyUsageType::SignVerify,
        OriginType::AwsKms,
    )
    .await;
    let disabled = symmetric(&east).await;
    east.disable_key().key_id(&disabled).send().await.unwrap();
    let off_west = symmetric(&west).await;

    let source = Arc::new(
        moto.source(aws_common::options(&["us-east-1", "eu-west-1"]))
            .await,
    );
    let before = source.scan(&ScanRequest::default()).await.unwrap();
    let plan = plan(&before, &PlanOptions::default()).unwrap();
    let mut targets: Vec<String> = plan.actions.iter().map(|a| a.target_arn.clone()).collect();
    targets.sort_unstable();
    let arn = |region: &str, id: &str| format!("arn:aws:kms:{region}:{ACCOUNT}:key/{id}");
    let mut expected = vec![arn("us-east-1", &off), arn("eu-west-1", &off_west)];
    expected.sort_unstable();
    assert_eq!(targets, expected, "only the enabled keys with rotation off");
    let skipped = |id: &str| {
        plan.skips
            .iter()
            .find(|s| s.arn.ends_with(id))
            .map(|s| s.reason)
    };
    assert_eq!(skipped(&disabled), Some(SkipReason::KeyDisabled));
    assert_eq!(skipped(&asymmetric), Some(SkipReason::NotApplicable));
    assert_eq!(skipped(&on), Some(SkipReason::Passing));

    let options = ApplyOptions {
        verify: Verify {
            attempts: 3,
            delay: std::time::Duration::from_millis(10),
        },
        ..ApplyOptions::default()
    };
    let target = Arc::new(AwsTarget::from_source(source.clone()));
    let outcome = apply(&plan, target, &options, &Journal::in_memory())
        .await
        .unwrap();
    assert!(outcome.is_success(), "{outcome:#?}");

    let after = source.scan(&ScanRequest::default()).await.unwrap();
    let failing: Vec<&str> = after
        .findings
        .iter()
        .filter(|f| f.status == Status::Fail)
        .map(|f| f.key_id.as_str())
        .collect();
    assert_eq!(
        failing,
        [disabled.as_str()],
        "only the disabled key, which the plan skipped"
    );
}

/// A key policy: the account's root may do everything (as the default policy says), plus
/// `extra`.
fn key_policy(extra: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[
            {{"Sid":"Root","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},
              "Action":"kms:*","Resource":"*"}}{extra}]}}"#
    )
}

#[tokio::test]
async fn exposure_comes_from_key_policies_and_grants_and_orders_the_plan() {
    let Some(url) = aws_common::moto_url() else {
        return;
    };
    let _moto = aws_common::exclusive_moto(&url).await;
    let moto = Moto::new(&url).await;
    let kms = moto.kms("us-east-1");
    let with_policy = |extra: &str| {
        let kms = kms.clone();
        let policy = key_policy(extra);
        async move {
            kms.create_key()
                .policy(policy)
                .send()
                .await
                .unwrap()
                .key_metadata()
                .unwrap()
                .key_id()
                .to_owned()
        }
    };
    let wildcard = |condition: &str| {
        format!(
            r#",{{"Sid":"Shared","Effect":"Allow","Principal":{{"AWS":"*"}},
                 "Action":"kms:Decrypt","Resource":"*"{condition}}}"#
        )
    };
    let public = with_policy(&wildcard("")).await;
    let organization = with_policy(&wildcard(
        r#","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}"#,
    ))
    .await;
    let own_account = with_policy(&wildcard(&format!(
        r#","Condition":{{"StringEquals":{{"kms:CallerAccount":"{ACCOUNT}"}}}}"#
    )))
    .await;
    let not_pinned = with_policy(&wildcard(&format!(
        r#","Condition":{{"StringEqualsIfExists":{{"kms:CallerAccount":"{ACCOUNT}"}}}}"#
    )))
    .await;
    let other_account = with_policy(
        r#",{"Sid":"Partner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999988887777:root"},
             "Action":"kms:Decrypt","Resource":"*"}"#,
    )
    .await;
    let granted = with_policy("").await;
    kms.create_grant()
        .key_id(&granted)
        .grantee_principal("arn:aws:iam::999988887777:role/analytics")
        .operations(aws_sdk_kms::types::GrantOperation::Decrypt)
        .send()
        .await
        .unwrap();
    let production = with_policy("").await;
    kms.tag_resource()
        .key_id(&production)
        .tags(
            Tag::builder()
                .tag_key("Environment")
                .tag_value("prod")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    // moto does not apply a Deny to GetKeyPolicy: an unreadable policy is tested on the
    // project's server (aws_test_server.rs).

    let source = moto.source(aws_common::options(&["us-east-1"])).await;
    let report = source.scan(&ScanRequest::default()).await.unwrap();
    let finding = |id: &str| report.findings.iter().find(|f| f.key_id == id).unwrap();
    let level = |id: &str| finding(id).exposure.as_ref().unwrap().level;
    use kms_rotation::exposure::ExposureLevel;
    assert_eq!(level(&public), ExposureLevel::Public);
    assert_eq!(level(&not_pinned), ExposureLevel::Public);
    assert_eq!(level(&organization), ExposureLevel::CrossAccount);
    assert_eq!(level(&other_account), ExposureLevel::CrossAccount);
    assert_eq!(level(&granted), ExposureLevel::CrossAccount);
    assert_eq!(level(&own_account), ExposureLevel::Account);
    assert_eq!(level(&production), ExposureLevel::Account);
    let evidence = &finding(&granted).exposure.as_ref().unwrap().evidence[0];
    assert_eq!(
        evidence.principal,
        "arn:aws:iam::999988887777:role/analytics"
    );

    let plan = kms_rotation::remediate::plan(&report, &Default::default()).unwrap();
    let rank: BTreeMap<&str, usize> = plan
        .actions
        .iter()
        .map(|a| (a.target_arn.rsplit('/').next().unwrap(), a.priority))
        .collect();
    for (id, expected) in [
        (&public, 1),
        (&not_pinned, 1),
        (&organization, 2),
        (&other_account, 2),
        (&granted, 2),
        (&production, 3),
        (&own_account, 4),
    ] {
        assert_eq!(rank[id.as_str()], expected, "{id}");
    }
    let firsts: Vec<usize> = plan.actions.iter().map(|a| a.priority).collect();
    assert!(
        firsts.is_sorted(),
        "the plan runs in priority order: {firsts:?}"
    );
}
