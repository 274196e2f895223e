//! Every row and note of `rule.md`, one test each: change the rule and one of these fails.
#![allow(clippy::unwrap_used)]

use chrono::{DateTime, NaiveDate, Utc};
use kms_rotation::model::{
    KeyError, KeyManager, KeySpec, KeyState, LastRotation, MultiRegion, MultiRegionRole, Origin,
    Rotation, RotationType,
};
use kms_rotation::rule::{needs_rotation_status, would_fail};
use kms_rotation::{
    DisabledKeys, Exception, ExceptionMatch, Finding, KeyRecord, PeriodSource, Policy,
    RotationPeriod, Status, evaluate,
};

const ARN: &str = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const PRIMARY: &str = "arn:aws:kms:us-east-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab";

fn now() -> DateTime<Utc> {
    "2026-11-22T12:00:00Z".parse().unwrap()
}

fn rotation(enabled: bool, period_days: Option<u32>) -> Rotation {
    Rotation {
        enabled,
        period_days,
        next_rotation_date: None,
        on_demand_rotation_start_date: None,
        last_rotation: None,
    }
}

/// A customer-managed symmetric AWS_KMS key, Enabled, rotating yearly: the row-11 pass.
fn key() -> KeyRecord {
    KeyRecord {
        key_manager: Some(KeyManager::Customer),
        key_spec: Some(KeySpec::SymmetricDefault),
        origin: Some(Origin::AwsKms),
        key_state: Some(KeyState::Enabled),
        rotation: Some(rotation(true, Some(365))),
        ..KeyRecord::from_arn(ARN).unwrap()
    }
}

fn key_error(operation: &str, code: &str) -> KeyError {
    KeyError {
        operation: operation.into(),
        code: code.into(),
        message: format!("{code} from {operation}"),
    }
}

fn judge(record: &KeyRecord) -> Finding {
    evaluate(record, &Policy::default(), now())
}

fn judge_with(record: &KeyRecord, policy: &Policy) -> Finding {
    evaluate(record, policy, now())
}

fn assert_verdict(finding: &Finding, status: Status, reason: &str) {
    assert_eq!(
        (finding.status, finding.reason.as_str()),
        (status, reason),
        "{finding:#?}"
    );
}

fn exception(matcher: ExceptionMatch, expires: &str) -> Exception {
    Exception {
        matcher,
        owner: "platform-team".into(),
        reason: "legacy app".into(),
        ticket: Some("SEC-1".into()),
        expires: expires.parse::<NaiveDate>().unwrap(),
    }
}

// Row 1
#[test]
fn describe_failure_is_an_error_with_its_code() {
    let mut record = KeyRecord::from_arn(ARN).unwrap();
    record.errors = vec![key_error("DescribeKey", "AccessDeniedException")];
    let finding = judge(&record);
    assert_verdict(&finding, Status::Error, "describe_failed");
    assert_eq!(
        finding.error.as_ref().map(|e| e.code.as_str()),
        Some("AccessDeniedException")
    );
    assert!(!finding.remediable);
    assert_eq!(finding.remediation_target, None);
}

#[test]
fn describe_failure_wins_over_everything_else() {
    // Even with metadata that would pass, a DescribeKey error means the facts are not trusted.
    let mut record = key();
    record.errors = vec![key_error("DescribeKey", "KMSInternalException")];
    assert_verdict(&judge(&record), Status::Error, "describe_failed");
}

#[test]
fn missing_metadata_is_an_error_not_a_guess() {
    let mut record = key();
    record.key_spec = None;
    let finding = judge(&record);
    assert_verdict(&finding, Status::Error, "describe_failed");
    assert_eq!(finding.error.as_ref().unwrap().code, "NotCollected");
}

// Row 2
#[test]
fn aws_managed_keys_are_not_applicable() {
    let mut record = key();
    record.key_manager = Some(KeyManager::Aws);
    // aws/acm denies GetKeyRotationStatus to everyone: still not applicable, not an error.
    record.rotation = None;
    record.errors = vec![key_error("GetKeyRotationStatus", "AccessDeniedException")];
    assert_verdict(&judge(&record), Status::NotApplicable, "aws_managed");
}

// Row 3
#[test]
fn every_non_symmetric_spec_is_not_applicable() {
    for spec in KeySpec::ALL
        .iter()
        .filter(|s| **s != KeySpec::SymmetricDefault)
    {
        let mut record = key();
        record.key_spec = Some(*spec);
        record.rotation = Some(rotation(false, None));
        assert_verdict(
            &judge(&record),
            Status::NotApplicable,
            "unsupported_key_spec",
        );
    }
}

#[test]
fn aws_managed_is_decided_before_key_spec() {
    let mut record = key();
    record.key_manager = Some(KeyManager::Aws);
    record.key_spec = Some(KeySpec::Rsa2048);
    assert_verdict(&judge(&record), Status::NotApplicable, "aws_managed");
}

// Row 4
#[test]
fn custom_key_store_keys_are_not_applicable() {
    for origin in [Origin::AwsCloudhsm, Origin::ExternalKeyStore] {
        let mut record = key();
        record.origin = Some(origin);
        record.rotation = None;
        assert_verdict(&judge(&record), Status::NotApplicable, "custom_key_store");
    }
    let mut record = key();
    record.custom_key_store_id = Some("cks-1234567890abcdef0".into());
    record.rotation = Some(rotation(false, None));
    assert_verdict(&judge(&record), Status::NotApplicable, "custom_key_store");
}

// Row 5
#[test]
fn imported_keys_are_not_applicable_without_an_age_policy() {
    let mut record = key();
    record.origin = Some(Origin::External);
    record.rotation = None;
    record.errors = vec![key_error(
        "GetKeyRotationStatus",
        "UnsupportedOperationException",
    )];
    let finding = judge(&record);
    assert_verdict(&finding, Status::NotApplicable, "imported_key_material");
    assert!(!finding.remediable);
}

// Row 5a
fn imported(created: &str, last_on_demand: Option<&str>) -> KeyRecord {
    let mut record = key();
    record.origin = Some(Origin::External);
    record.creation_date = Some(created.parse().unwrap());
    record.rotation = last_on_demand.map(|date| Rotation {
        last_rotation: Some(LastRotation {
            date: date.parse().unwrap(),
            rotation_type: RotationType::OnDemand,
        }),
        ..rotation(false, None)
    });
    record
}

fn imported_policy(days: u32) -> Policy {
    Policy {
        imported_key_max_age_days: Some(days),
        ..Policy::default()
    }
}

#[test]
fn imported_key_passes_when_rotated_on_demand_within_the_age() {
    let record = imported("2020-01-01T00:00:00Z", Some("2026-06-01T00:00:00Z"));
    let finding = judge_with(&record, &imported_policy(365));
    assert_verdict(&finding, Status::Pass, "imported_key_rotated_on_demand");
}

#[test]
fn imported_key_never_rotated_is_judged_by_its_creation_date() {
    let young = imported("2026-10-01T00:00:00Z", None);
    assert_verdict(
        &judge_with(&young, &imported_policy(365)),
        Status::Pass,
        "imported_key_rotated_on_demand",
    );
    let old = imported("2020-01-01T00:00:00Z", None);
    assert_verdict(
        &judge_with(&old, &imported_policy(365)),
        Status::Fail,
        "imported_key_rotation_overdue",
    );
}

#[test]
fn imported_key_rotated_too_long_ago_fails_and_is_not_remediable() {
    let record = imported("2020-01-01T00:00:00Z", Some("2025-01-01T00:00:00Z"));
    let finding = judge_with(&record, &imported_policy(365));
    assert_verdict(&finding, Status::Fail, "imported_key_rotation_overdue");
    // Imported keys rotate only on demand: a plan cannot enable automatic rotation on them.
    assert!(!finding.remediable);
    assert_eq!(finding.remediation_target.as_deref(), Some(ARN));
}

#[test]
fn imported_key_with_failed_history_read_is_an_error() {
    let mut record = imported("2020-01-01T00:00:00Z", None);
    record.errors = vec![key_error("ListKeyRotations", "AccessDeniedException")];
    let finding = judge_with(&record, &imported_policy(365));
    assert_verdict(&finding, Status::Error, "rotation_status_failed");
    assert_eq!(finding.error.unwrap().code, "AccessDeniedException");
}

// Row 6
#[test]
fn pending_deletion_is_not_applicable_although_rotation_reads_false() {
    for state in [KeyState::PendingDeletion, KeyState::PendingReplicaDeletion] {
        let mut record = key();
        record.key_state = Some(state);
        record.rotation = Some(rotation(false, None));
        assert_verdict(&judge(&record), Status::NotApplicable, "pending_deletion");
    }
}

// Row 7
#[test]
fn pending_import_unavailable_and_creating_are_not_applicable() {
    for (state, reason) in [
        (KeyState::PendingImport, "key_state_pending_import"),
        (KeyState::Unavailable, "key_state_unavailable"),
        (KeyState::Creating, "key_state_creating"),
    ] {
        let mut record = key();
        record.key_state = Some(state);
        record.rotation = None;
        assert_verdict(&judge(&record), Status::NotApplicable, reason);
    }
}

// Row 7a and the disabled-key note
#[test]
fn disabled_keys_are_evaluated_by_default_and_not_remediable() {
    let mut record = key();
    record.key_state = Some(KeyState::Disabled);
    record.rotation = Some(rotation(false, None));
    let finding = judge(&record);
    assert_verdict(&finding, Status::Fail, "rotation_disabled");
    // EnableKeyRotation answers DisabledException on a disabled key.
    assert!(!finding.remediable);
    assert_eq!(finding.remediation_target.as_deref(), Some(ARN));

    record.rotation = Some(rotation(true, Some(365)));
    assert_verdict(&judge(&record), Status::Pass, "rotation_enabled");
}

#[test]
fn disabled_keys_are_skipped_when_the_policy_says_so() {
    let mut record = key();
    record.key_state = Some(KeyState::Disabled);
    record.rotation = Some(rotation(false, None));
    let policy = Policy {
        disabled_keys: DisabledKeys::Skip,
        ..Policy::default()
    };
    assert_verdict(
        &judge_with(&record, &policy),
        Status::NotApplicable,
        "key_disabled",
    );
}

// Row 8
#[test]
fn failed_rotation_status_is_an_error_never_fail_or_pass() {
    for code in [
        "AccessDeniedException",
        "ThrottlingException",
        "UnsupportedOperationException",
        "KMSInternalException",
    ] {
        let mut record = key();
        // Whatever a careless source left in `rotation`, the recorded failure wins.
        record.rotation = Some(rotation(false, None));
        record.errors = vec![key_error("GetKeyRotationStatus", code)];
        let finding = judge(&record);
        assert_verdict(&finding, Status::Error, "rotation_status_failed");
        assert_eq!(finding.error.as_ref().unwrap().code, code);
        assert!(!finding.remediable);
        assert_eq!(finding.remediation_target, None);
    }
}

#[test]
fn unread_rotation_status_is_an_error_not_false() {
    let mut record = key();
    record.rotation = None;
    let finding = judge(&record);
    assert_verdict(&finding, Status::Error, "rotation_status_failed");
    assert_eq!(finding.error.unwrap().code, "NotCollected");
}

#[test]
fn errors_on_optional_reads_do_not_change_the_verdict() {
    let mut record = key();
    record.errors = vec![key_error("ListResourceTags", "AccessDeniedException")];
    assert_verdict(&judge(&record), Status::Pass, "rotation_enabled");
}

// Row 9
#[test]
fn rotation_off_fails_and_is_remediable() {
    let mut record = key();
    record.rotation = Some(rotation(false, None));
    let finding = judge(&record);
    assert_verdict(&finding, Status::Fail, "rotation_disabled");
    assert!(finding.remediable);
    assert_eq!(finding.remediation_target.as_deref(), Some(ARN));
    assert_eq!(finding.period_source, None);
}

// Row 10
#[test]
fn period_longer_than_the_policy_fails() {
    let mut record = key();
    record.rotation = Some(rotation(true, Some(730)));
    let finding = judge(&record);
    assert_verdict(&finding, Status::Fail, "rotation_period_exceeds_policy");
    assert!(finding.remediable);
    assert_eq!(finding.period_source, Some(PeriodSource::Reported));
}

#[test]
fn period_limit_is_inclusive_and_follows_the_policy() {
    let policy = Policy {
        max_rotation_period_days: RotationPeriod::new(180).unwrap(),
        target_rotation_period_days: RotationPeriod::new(90).unwrap(),
        ..Policy::default()
    };
    let mut record = key();
    record.rotation = Some(rotation(true, Some(180)));
    assert_verdict(
        &judge_with(&record, &policy),
        Status::Pass,
        "rotation_enabled",
    );
    record.rotation = Some(rotation(true, Some(181)));
    assert_verdict(
        &judge_with(&record, &policy),
        Status::Fail,
        "rotation_period_exceeds_policy",
    );
}

// Row 11 and the missing-period note
#[test]
fn rotation_on_within_the_period_passes() {
    let finding = judge(&key());
    assert_verdict(&finding, Status::Pass, "rotation_enabled");
    assert!(!finding.remediable);
    assert_eq!(finding.remediation_target, None);
    assert_eq!(finding.period_source, Some(PeriodSource::Reported));
}

#[test]
fn a_missing_period_is_taken_as_365_and_marked() {
    let mut record = key();
    record.rotation = Some(rotation(true, None));
    let finding = judge(&record);
    assert_verdict(&finding, Status::Pass, "rotation_enabled");
    assert_eq!(finding.period_source, Some(PeriodSource::AssumedDefault));

    // ... so under a stricter policy it fails rather than passing on an unknown period.
    let strict = Policy {
        max_rotation_period_days: RotationPeriod::new(180).unwrap(),
        target_rotation_period_days: RotationPeriod::new(180).unwrap(),
        ..Policy::default()
    };
    let finding = judge_with(&record, &strict);
    assert_verdict(&finding, Status::Fail, "rotation_period_exceeds_policy");
    assert_eq!(finding.period_source, Some(PeriodSource::AssumedDefault));
}

#[test]
fn updating_keys_are_evaluated() {
    let mut record = key();
    record.key_state = Some(KeyState::Updating);
    record.rotation = Some(rotation(false, None));
    assert_verdict(&judge(&record), Status::Fail, "rotation_disabled");
}

// Multi-Region note
#[test]
fn a_replicas_remediation_target_is_its_primary() {
    let mut record = key();
    record.multi_region = Some(MultiRegion {
        role: MultiRegionRole::Replica,
        primary_arn: Some(PRIMARY.into()),
    });
    record.rotation = Some(rotation(false, None));
    let finding = judge(&record);
    assert_verdict(&finding, Status::Fail, "rotation_disabled");
    assert!(finding.remediable);
    assert_eq!(finding.remediation_target.as_deref(), Some(PRIMARY));
    assert_eq!(finding.multi_region, record.multi_region);
}

#[test]
fn a_primarys_remediation_target_is_itself() {
    let mut record = key();
    record.multi_region = Some(MultiRegion {
        role: MultiRegionRole::Primary,
        primary_arn: Some(ARN.into()),
    });
    record.rotation = Some(rotation(false, None));
    assert_eq!(judge(&record).remediation_target.as_deref(), Some(ARN));
}

#[test]
fn a_replica_with_unknown_primary_has_no_target_and_is_not_remediable() {
    let mut record = key();
    record.multi_region = Some(MultiRegion {
        role: MultiRegionRole::Replica,
        primary_arn: None,
    });
    record.rotation = Some(rotation(false, None));
    let finding = judge(&record);
    assert_verdict(&finding, Status::Fail, "rotation_disabled");
    assert!(!finding.remediable);
    assert_eq!(finding.remediation_target, None);
}

// Exceptions
fn failing_key() -> KeyRecord {
    let mut record = key();
    record.aliases = Some(vec!["alias/legacy-batch".into()]);
    record.tags = Some([("rotation-exception".to_owned(), "TKT-42".to_owned())].into());
    record.rotation = Some(rotation(false, None));
    record
}

fn with_exceptions(exceptions: Vec<Exception>) -> Policy {
    Policy {
        exceptions,
        ..Policy::default()
    }
}

#[test]
fn an_active_exception_turns_fail_into_exempt_keeping_the_reason() {
    let matchers = [
        ExceptionMatch::Arn(ARN.into()),
        ExceptionMatch::KeyId("1234abcd-12ab-34cd-56ef-1234567890ab".into()),
        ExceptionMatch::Alias("alias/legacy-batch".into()),
        ExceptionMatch::Alias("legacy-batch".into()),
        ExceptionMatch::Tag {
            key: "rotation-exception".into(),
            value: "TKT-42".into(),
        },
    ];
    for matcher in matchers {
        let policy = with_exceptions(vec![exception(matcher.clone(), "2027-06-30")]);
        let finding = judge_with(&failing_key(), &policy);
        assert_verdict(&finding, Status::Exempt, "rotation_disabled");
        let applied = finding.exception.as_ref().expect("exception attached");
        assert_eq!(applied.matcher, matcher);
        assert_eq!(applied.owner, "platform-team");
        assert!(!applied.expired);
        assert!(!finding.remediable, "exempt keys are not remediated");
        assert_eq!(finding.remediation_target.as_deref(), Some(ARN));
    }
}

#[test]
fn an_exception_is_active_through_its_whole_expiry_day() {
    let policy = with_exceptions(vec![exception(
        ExceptionMatch::Arn(ARN.into()),
        "2026-11-22",
    )]);
    let last_second = "2026-11-22T23:59:59Z".parse().unwrap();
    assert_eq!(
        evaluate(&failing_key(), &policy, last_second).status,
        Status::Exempt
    );
    let next_day = "2026-11-23T00:00:00Z".parse().unwrap();
    assert_eq!(
        evaluate(&failing_key(), &policy, next_day).status,
        Status::Fail
    );
}

#[test]
fn an_expired_exception_leaves_fail_and_is_attached_as_expired() {
    let policy = with_exceptions(vec![exception(
        ExceptionMatch::Alias("alias/legacy-batch".into()),
        "2025-01-31",
    )]);
    let finding = judge_with(&failing_key(), &policy);
    assert_verdict(&finding, Status::Fail, "rotation_disabled");
    assert!(finding.exception.as_ref().unwrap().expired);
    assert!(finding.remediable);
}

#[test]
fn an_active_exception_wins_over_an_expired_one() {
    let policy = with_exceptions(vec![
        exception(ExceptionMatch::Arn(ARN.into()), "2025-01-31"),
        exception(
            ExceptionMatch::Alias("alias/legacy-batch".into()),
            "2027-01-31",
        ),
    ]);
    let finding = judge_with(&failing_key(), &policy);
    assert_eq!(finding.status, Status::Exempt);
    assert_eq!(
        finding.exception.unwrap().matcher,
        ExceptionMatch::Alias("alias/legacy-batch".into())
    );
}

#[test]
fn exceptions_match_exactly() {
    let policy = with_exceptions(vec![
        exception(ExceptionMatch::Alias("alias/legacy".into()), "2027-01-31"),
        exception(
            ExceptionMatch::Tag {
                key: "rotation-exception".into(),
                value: "TKT-4".into(),
            },
            "2027-01-31",
        ),
        exception(
            ExceptionMatch::Arn(ARN.replace("eu-west-1", "eu-west-2")),
            "2027-01-31",
        ),
    ]);
    let finding = judge_with(&failing_key(), &policy);
    assert_eq!(finding.status, Status::Fail);
    assert_eq!(finding.exception, None);
}

#[test]
fn exceptions_never_touch_pass_error_or_not_applicable() {
    let policy = with_exceptions(vec![exception(
        ExceptionMatch::Arn(ARN.into()),
        "2027-01-31",
    )]);
    let passing = key();
    let mut erroring = key();
    erroring.errors = vec![key_error("GetKeyRotationStatus", "AccessDeniedException")];
    let mut pending = key();
    pending.key_state = Some(KeyState::PendingDeletion);
    for (record, status) in [
        (passing, Status::Pass),
        (erroring, Status::Error),
        (pending, Status::NotApplicable),
    ] {
        let finding = judge_with(&record, &policy);
        assert_eq!(finding.status, status);
        assert_eq!(finding.exception, None);
    }
}

// The evidence a finding carries
#[test]
fn findings_carry_the_records_evidence() {
    let mut record = failing_key();
    record.creation_date = Some("2024-03-01T12:00:00Z".parse().unwrap());
    record.rotation = Some(Rotation {
        next_rotation_date: Some("2027-03-01T12:00:00Z".parse().unwrap()),
        last_rotation: Some(LastRotation {
            date: "2026-03-01T12:00:00Z".parse().unwrap(),
            rotation_type: RotationType::Automatic,
        }),
        ..rotation(true, Some(365))
    });
    let finding = judge(&record);
    assert_eq!(finding.arn, record.arn);
    assert_eq!(finding.account_id, "123456789012");
    assert_eq!(finding.region, "eu-west-1");
    assert_eq!(finding.key_id, "1234abcd-12ab-34cd-56ef-1234567890ab");
    assert_eq!(finding.aliases, record.aliases);
    assert_eq!(finding.tags, record.tags);
    assert_eq!(finding.rotation, record.rotation);
    assert_eq!(finding.creation_date, record.creation_date);
    assert_eq!(finding.to_record(), record);
}

// What sources ask the rule before reading more
#[test]
fn rotation_status_is_needed_only_where_it_decides() {
    let policy = Policy::default();
    let mut unread = key();
    unread.rotation = None;
    assert!(needs_rotation_status(&unread, &policy));

    let mut aws_managed = unread.clone();
    aws_managed.key_manager = Some(KeyManager::Aws);
    let mut asymmetric = unread.clone();
    asymmetric.key_spec = Some(KeySpec::EccNistP256);
    let mut imported = unread.clone();
    imported.origin = Some(Origin::External);
    let mut deleting = unread.clone();
    deleting.key_state = Some(KeyState::PendingDeletion);
    for record in [&aws_managed, &asymmetric, &imported, &deleting, &key()] {
        assert!(!needs_rotation_status(record, &policy), "{record:?}");
    }

    let mut disabled = unread.clone();
    disabled.key_state = Some(KeyState::Disabled);
    assert!(needs_rotation_status(&disabled, &policy));
    let skip = Policy {
        disabled_keys: DisabledKeys::Skip,
        ..Policy::default()
    };
    assert!(!needs_rotation_status(&disabled, &skip));
}

#[test]
fn would_fail_ignores_exceptions() {
    let policy = with_exceptions(vec![exception(
        ExceptionMatch::Arn(ARN.into()),
        "2027-01-31",
    )]);
    assert!(would_fail(&failing_key(), &policy, now()));
    assert!(!would_fail(&key(), &policy, now()));
}

// Exceptions that cannot be decided (rule.md: `exception_undecidable`)
fn tag_exception(expires: &str) -> Exception {
    exception(
        ExceptionMatch::Tag {
            key: "rotation-exception".into(),
            value: "TKT-42".into(),
        },
        expires,
    )
}

#[test]
fn tags_not_read_under_an_active_tag_exception_are_an_error_not_fail() {
    let mut record = failing_key();
    record.tags = None;
    let finding = judge_with(&record, &with_exceptions(vec![tag_exception("2027-06-30")]));
    assert_verdict(&finding, Status::Error, "exception_undecidable");
    let error = finding
        .error
        .as_ref()
        .expect("the missing read is the error");
    assert_eq!(error.operation, "ListResourceTags");
    assert_eq!(error.code, "NotCollected");
    assert!(error.message.contains("platform-team"), "{}", error.message);
    assert!(!finding.remediable);
    assert_eq!(finding.remediation_target, None, "nothing to plan");
    assert_eq!(finding.exception, None);
}

#[test]
fn a_failed_tag_read_under_an_active_tag_exception_is_that_error() {
    let mut record = failing_key();
    record.tags = None;
    record
        .errors
        .push(key_error("ListResourceTags", "AccessDeniedException"));
    let finding = judge_with(&record, &with_exceptions(vec![tag_exception("2027-06-30")]));
    assert_verdict(&finding, Status::Error, "exception_undecidable");
    assert_eq!(
        finding.error.as_deref(),
        Some(&key_error("ListResourceTags", "AccessDeniedException"))
    );
    assert_eq!(finding.errors, record.errors, "every failed read is kept");
}

#[test]
fn aliases_not_read_under_an_active_alias_exception_are_an_error() {
    let mut record = failing_key();
    record.aliases = None;
    record
        .errors
        .push(key_error("ListAliases", "AccessDeniedException"));
    let policy = with_exceptions(vec![exception(
        ExceptionMatch::Alias("legacy-batch".into()),
        "2027-06-30",
    )]);
    let finding = judge_with(&record, &policy);
    assert_verdict(&finding, Status::Error, "exception_undecidable");
    assert_eq!(finding.error.as_ref().unwrap().operation, "ListAliases");
}

#[test]
fn a_definite_active_match_exempts_even_when_another_exception_is_undecidable() {
    let mut record = failing_key();
    record.tags = None;
    let policy = with_exceptions(vec![
        tag_exception("2027-06-30"),
        exception(ExceptionMatch::Arn(ARN.into()), "2027-06-30"),
    ]);
    assert_verdict(
        &judge_with(&record, &policy),
        Status::Exempt,
        "rotation_disabled",
    );
}

#[test]
fn known_tags_that_do_not_match_leave_the_key_failing() {
    let mut record = failing_key();
    record.tags = Some(Default::default());
    let finding = judge_with(&record, &with_exceptions(vec![tag_exception("2027-06-30")]));
    assert_verdict(&finding, Status::Fail, "rotation_disabled");
    assert!(finding.remediable);
}

#[test]
fn an_expired_exception_that_cannot_be_decided_leaves_the_fail() {
    let mut record = failing_key();
    record.tags = None;
    let finding = judge_with(&record, &with_exceptions(vec![tag_exception("2025-01-31")]));
    assert_verdict(&finding, Status::Fail, "rotation_disabled");
    assert_eq!(finding.exception, None);
}

#[test]
fn undecidable_exceptions_matter_only_for_keys_that_would_fail() {
    let mut record = key();
    record.tags = None;
    let finding = judge_with(&record, &with_exceptions(vec![tag_exception("2027-06-30")]));
    assert_verdict(&finding, Status::Pass, "rotation_enabled");
}
