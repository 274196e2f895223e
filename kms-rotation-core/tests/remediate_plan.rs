//! Planning remediation from a report: what gets an action, what is skipped and why, order,
//! batches, selection, and loading plan files.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;

use kms_rotation::remediate::{
    ActionKind, Plan, PlanFormat, PlanOptions, Priority, SkipReason, TagMatch, plan,
};
use kms_rotation::{ErrorKind, KeyRecord, Policy, Report, ReportScope};

const PRIMARY: &str =
    "arn:aws:kms:us-east-1:111122223333:key/mrk-0000000f-0000-4000-8000-00000000000f";
const REPLICA: &str =
    "arn:aws:kms:eu-west-1:111122223333:key/mrk-0000000f-0000-4000-8000-00000000000f";
const ORDERS: &str = "arn:aws:kms:us-east-1:111122223333:key/00000002-0000-4000-8000-000000000002";
const REPORTS: &str = "arn:aws:kms:us-east-1:111122223333:key/00000003-0000-4000-8000-000000000003";
const QUEUE: &str = "arn:aws:kms:us-west-2:444455556666:key/00000015-0000-4000-8000-000000000015";
const ANALYTICS: &str =
    "arn:aws:kms:eu-west-1:111122223333:key/00000012-0000-4000-8000-000000000012";
const PAUSED: &str = "arn:aws:kms:us-east-1:111122223333:key/0000000c-0000-4000-8000-00000000000c";
const LEGACY: &str = "arn:aws:kms:eu-west-1:111122223333:key/00000011-0000-4000-8000-000000000011";
const BYOK: &str = "arn:aws:kms:us-east-1:111122223333:key/00000007-0000-4000-8000-000000000007";
const DESCRIBE_DENIED: &str =
    "arn:aws:kms:us-west-2:444455556666:key/00000013-0000-4000-8000-000000000013";
const PAYMENTS: &str =
    "arn:aws:kms:us-east-1:111122223333:key/00000001-0000-4000-8000-000000000001";

fn now() -> chrono::DateTime<chrono::Utc> {
    "2026-11-22T12:00:00Z".parse().unwrap()
}

fn sample_policy() -> Policy {
    let dir = common::examples_dir();
    let mut policy = Policy::from_file(dir.join("policy.yaml")).unwrap();
    policy
        .add_exceptions_file(dir.join("exceptions.yaml"))
        .unwrap();
    policy
}

fn report_of(records: &[KeyRecord]) -> Report {
    Report::evaluate(
        records,
        sample_policy(),
        ReportScope::default(),
        Vec::new(),
        now(),
    )
}

fn fleet_report() -> Report {
    report_of(&common::fleet())
}

fn options() -> PlanOptions {
    PlanOptions {
        now: Some(now()),
        ..PlanOptions::default()
    }
}

fn skips(plan: &Plan) -> BTreeMap<String, SkipReason> {
    plan.skips
        .iter()
        .map(|s| (s.arn.clone(), s.reason))
        .collect()
}

fn targets(plan: &Plan) -> Vec<&str> {
    plan.actions.iter().map(|a| a.target_arn.as_str()).collect()
}

#[test]
fn the_sample_fleet_gets_one_action_per_failing_remediable_key() {
    let report = fleet_report();
    let plan = plan(&report, &options()).unwrap();
    let mut got = targets(&plan);
    got.sort_unstable();
    // orders (off), reports (730 days), the multi-Region primary (once for two findings),
    // the analytics key (its exception expired), and the queue key in the second account.
    let mut expected = vec![ORDERS, REPORTS, PRIMARY, ANALYTICS, QUEUE];
    expected.sort_unstable();
    assert_eq!(got, expected);
    for action in &plan.actions {
        assert_eq!(action.action, ActionKind::EnableRotation);
        assert_eq!(action.rotation_period_days.days(), 365);
    }
    // Every finding is accounted for exactly once: in an action's `because` or in `skips`.
    let because: usize = plan.actions.iter().map(|a| a.because.len()).sum();
    assert_eq!(because + plan.skips.len(), report.findings.len());
}

#[test]
fn a_failing_replica_and_its_primary_make_one_action_on_the_primary() {
    let plan = plan(&fleet_report(), &options()).unwrap();
    let on_primary: Vec<_> = plan
        .actions
        .iter()
        .filter(|a| a.target_arn.contains("mrk-0000000f"))
        .collect();
    assert_eq!(on_primary.len(), 1, "{:#?}", plan.actions);
    let action = on_primary[0];
    assert_eq!(action.target_arn, PRIMARY);
    assert_eq!(action.region, "us-east-1");
    assert_eq!(action.because, vec![PRIMARY.to_owned(), REPLICA.to_owned()]);
    assert!(!skips(&plan).contains_key(REPLICA));
}

#[test]
fn a_replica_whose_primary_was_not_scanned_is_fixed_on_the_primary() {
    // Only eu-west-1: the primary in us-east-1 is not in the report.
    let records: Vec<KeyRecord> = common::fleet()
        .into_iter()
        .filter(|r| r.region == "eu-west-1")
        .collect();
    let report = report_of(&records);
    assert!(report.findings.iter().all(|f| f.arn != PRIMARY));
    let plan = plan(&report, &options()).unwrap();
    let action = plan
        .actions
        .iter()
        .find(|a| a.target_arn == PRIMARY)
        .expect("an action on the primary");
    assert_eq!(
        (action.region.as_str(), action.account_id.as_str()),
        ("us-east-1", "111122223333")
    );
    assert_eq!(action.because, vec![REPLICA.to_owned()]);
}

#[test]
fn keys_that_cannot_or_must_not_be_fixed_are_skipped_with_reasons() {
    let plan = plan(&fleet_report(), &options()).unwrap();
    let skips = skips(&plan);
    assert_eq!(skips[PAUSED], SkipReason::KeyDisabled);
    assert_eq!(skips[LEGACY], SkipReason::Exempt);
    assert_eq!(skips[BYOK], SkipReason::NotApplicable);
    assert_eq!(skips[DESCRIBE_DENIED], SkipReason::ErrorRescanFirst);
    assert_eq!(skips[PAYMENTS], SkipReason::Passing);
    assert!(!targets(&plan).contains(&PAUSED));
}

#[test]
fn an_overdue_imported_key_is_skipped_because_it_rotates_only_on_demand() {
    let mut policy = sample_policy();
    policy.imported_key_max_age_days = Some(30);
    let mut records = common::fleet();
    for r in &mut records {
        if r.arn == BYOK {
            r.creation_date = Some("2020-01-01T00:00:00Z".parse().unwrap());
        }
    }
    let report = Report::evaluate(&records, policy, ReportScope::default(), Vec::new(), now());
    let plan = plan(&report, &options()).unwrap();
    assert_eq!(skips(&plan)[BYOK], SkipReason::ImportedKey);
}

#[test]
fn a_replica_follows_its_primarys_verdict_when_both_are_in_the_report() {
    // The primary is exempt, the replica is not: the write would land on the exempt key.
    let mut policy = sample_policy();
    policy.exceptions.push(kms_rotation::Exception {
        matcher: kms_rotation::ExceptionMatch::Arn(PRIMARY.into()),
        owner: "global-team".into(),
        reason: "migration".into(),
        ticket: None,
        expires: "2030-01-01".parse().unwrap(),
    });
    let report = Report::evaluate(
        &common::fleet(),
        policy,
        ReportScope::default(),
        Vec::new(),
        now(),
    );
    let plan = plan(&report, &options()).unwrap();
    assert!(!targets(&plan).contains(&PRIMARY));
    assert_eq!(skips(&plan)[REPLICA], SkipReason::Exempt);
}

#[test]
fn priority_tags_order_the_actions_and_batches_cut_them() {
    let options = PlanOptions {
        priorities: vec![
            "tag:environment=prod".parse().unwrap(),
            Priority::Tag(TagMatch::new("environment", "staging")),
        ],
        batch_size: 2,
        ..options()
    };
    let plan = plan(&fleet_report(), &options).unwrap();
    let order: Vec<(usize, usize, &str)> = plan
        .actions
        .iter()
        .map(|a| (a.priority, a.batch, a.target_arn.as_str()))
        .collect();
    assert_eq!(
        order,
        vec![
            (1, 1, ORDERS),    // prod
            (2, 1, REPORTS),   // staging
            (3, 2, ANALYTICS), // the rest: account, region, ARN
            (3, 2, PRIMARY),
            (3, 3, QUEUE),
        ]
    );
    assert_eq!(plan.batches(), 3);
}

#[test]
fn selection_includes_and_excludes_by_account_region_arn_alias_and_tag() {
    let report = fleet_report();
    let with = |change: &dyn Fn(&mut PlanOptions)| {
        let mut o = options();
        change(&mut o);
        let p = plan(&report, &o).unwrap();
        let mut t: Vec<String> = targets(&p).into_iter().map(str::to_owned).collect();
        t.sort_unstable();
        (t, skips(&p))
    };
    let (t, s) = with(&|o| o.selection.include.accounts = vec!["444455556666".into()]);
    assert_eq!(t, vec![QUEUE]);
    assert_eq!(s[ORDERS], SkipReason::Excluded);

    let (t, _) = with(&|o| o.selection.include.aliases = vec!["orders".into()]);
    assert_eq!(t, vec![ORDERS]);

    let (t, _) =
        with(&|o| o.selection.include.tags = vec![TagMatch::new("environment", "staging")]);
    assert_eq!(t, vec![REPORTS]);

    let (t, _) = with(&|o| {
        o.selection.include.regions = vec!["us-east-1".into()];
        o.selection.exclude.arns = vec![ORDERS.into()];
    });
    assert_eq!(t, vec![REPORTS, PRIMARY]);

    // Excluding a region keeps writes out of it, even for a replica elsewhere.
    let (t, s) = with(&|o| o.selection.exclude.regions = vec!["us-east-1".into()]);
    assert_eq!(t, vec![ANALYTICS, QUEUE]);
    assert_eq!(s[REPLICA], SkipReason::Excluded);
}

#[test]
fn keys_of_a_cloudformation_stack_are_marked() {
    let mut records = common::fleet();
    for r in &mut records {
        if r.arn == ORDERS {
            r.tags
                .get_or_insert_default()
                .insert("aws:cloudformation:stack-name".into(), "orders-prod".into());
        }
    }
    let plan = plan(&report_of(&records), &options()).unwrap();
    for action in &plan.actions {
        let expected = (action.target_arn == ORDERS).then(|| "orders-prod".to_owned());
        assert_eq!(action.managed_by_cloudformation, expected);
    }
    let json = plan.render_to_string(PlanFormat::Json).unwrap();
    assert!(json.contains("\"managed_by_cloudformation\": \"orders-prod\""));
    let script = plan.render_to_string(PlanFormat::Script).unwrap();
    assert!(script.contains("CloudFormation stack orders-prod"));
}

#[test]
fn an_invalid_target_period_is_an_input_error_naming_the_field() {
    let report = fleet_report();
    for days in [89, 2561, 730] {
        let err = plan(
            &report,
            &PlanOptions {
                target_period_days: Some(days),
                ..options()
            },
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{days}");
        assert_eq!(
            err.context().field.as_deref(),
            Some("target_rotation_period_days"),
            "{days}: {err}"
        );
    }
    let ok = plan(
        &report,
        &PlanOptions {
            target_period_days: Some(180),
            ..options()
        },
    )
    .unwrap();
    assert!(
        ok.actions
            .iter()
            .all(|a| a.rotation_period_days.days() == 180)
    );
    assert_eq!(ok.policy.target_rotation_period_days.days(), 180);
    let err = plan(
        &report,
        &PlanOptions {
            batch_size: 0,
            ..options()
        },
    )
    .unwrap_err();
    assert_eq!(err.context().field.as_deref(), Some("batch_size"));
}

fn temp_file(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("kms-rotation-plan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_plan_file_round_trips_and_renders_as_table_and_script() {
    let plan = plan(&fleet_report(), &options()).unwrap();
    let json = plan.render_to_string(PlanFormat::Json).unwrap();
    let path = temp_file("round-trip.json", &json);
    assert_eq!(Plan::from_file(&path).unwrap(), plan);

    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["schema_version"], 1);
    let first = &value["actions"][0];
    for field in [
        "action",
        "target_arn",
        "region",
        "account_id",
        "rotation_period_days",
        "batch",
        "priority",
        "because",
    ] {
        assert!(!first[field].is_null(), "{field} in {first}");
    }
    assert_eq!(first["action"], "enable_rotation");
    assert!(value["skips"][0]["reason"].is_string());

    let table = plan.render_to_string(PlanFormat::Table).unwrap();
    assert!(
        table.contains(PRIMARY) && table.contains("key_disabled"),
        "{table}"
    );

    let script = plan.render_to_string(PlanFormat::Script).unwrap();
    assert!(script.starts_with("#!/usr/bin/env bash\n# "), "{script}");
    assert!(script.contains("\nset -euo pipefail\n"));
    let enable = format!(
        "aws kms enable-key-rotation --key-id {PRIMARY} --region us-east-1 --rotation-period-in-days 365\n"
    );
    let check = format!("aws kms get-key-rotation-status --key-id {PRIMARY} --region us-east-1\n");
    let (at_enable, at_check) = (script.find(&enable).unwrap(), script.find(&check).unwrap());
    assert!(at_enable < at_check, "writes first, then checks");
    assert_eq!(
        script.matches("enable-key-rotation").count(),
        plan.actions.len()
    );
}

/// The plan file with `from` replaced by `to` in its JSON.
fn edited(plan: &Plan, from: &str, to: &str) -> String {
    let json = plan.render_to_string(PlanFormat::Json).unwrap();
    assert!(json.contains(from), "{from}");
    json.replacen(from, to, 1)
}

#[test]
fn a_plan_file_that_does_not_check_is_an_error_naming_file_field_and_line() {
    let plan = plan(&fleet_report(), &options()).unwrap();
    let json = plan.render_to_string(PlanFormat::Json).unwrap();
    let line_of = |needle: &str| json.lines().position(|l| l.contains(needle)).unwrap() + 1;

    // A bad ARN, an unknown action, an out-of-range period: each names the place.
    let first_target = &plan.actions[0].target_arn;
    let cases = [
        (
            format!("\"target_arn\": \"{first_target}\""),
            "\"target_arn\": \"arn:aws:kms:us-east-1:111122223333:alias/x\"".to_owned(),
            "actions[0]",
        ),
        (
            "\"action\": \"enable_rotation\"".to_owned(),
            "\"action\": \"delete_key\"".to_owned(),
            "actions[0].action",
        ),
        (
            "\"rotation_period_days\": 365".to_owned(),
            "\"rotation_period_days\": 3000".to_owned(),
            "actions[0].rotation_period_days",
        ),
    ];
    for (i, (from, to, field)) in cases.iter().enumerate() {
        let text = edited(&plan, from, to);
        let path = temp_file(&format!("bad-{i}.json"), &text);
        let err = Plan::from_file(&path).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert_eq!(err.context().file.as_deref(), Some(path.as_path()), "{err}");
        assert_eq!(err.context().field.as_deref(), Some(*field), "{err}");
        let line = err
            .context()
            .line
            .unwrap_or_else(|| panic!("no line: {err}"));
        // serde reports the end of the offending value or object: at or after the edited line.
        assert!(line >= line_of(from), "{err}");
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
    }

    // Not JSON at all.
    let path = temp_file(
        "garbage.json",
        "{\"schema_version\": 1,\n  \"actions\": [\n oops",
    );
    let err = Plan::from_file(&path).unwrap_err();
    assert_eq!(err.context().line, Some(3), "{err}");

    // A period the policy itself fails.
    let text = edited(
        &plan,
        "\"max_rotation_period_days\": 365",
        "\"max_rotation_period_days\": 180",
    )
    .replace(
        "\"target_rotation_period_days\": 365",
        "\"target_rotation_period_days\": 180",
    );
    let err = Plan::from_file(temp_file("above-max.json", &text)).unwrap_err();
    assert_eq!(
        err.context().field.as_deref(),
        Some("actions[0].rotation_period_days"),
        "{err}"
    );

    // The same key twice.
    let mut twice = plan.clone();
    twice.actions.push(twice.actions[0].clone());
    let text = serde_json::to_string_pretty(&twice).unwrap();
    let err = Plan::from_file(temp_file("twice.json", &text)).unwrap_err();
    assert!(err.to_string().contains("more than one action"), "{err}");
}

// Fail closed: a selection that needs facts the report does not have is refused, not guessed.

/// The sample fleet as a scan that read no tags (and, with `no_aliases`, no aliases either).
fn report_without(no_tags: bool, no_aliases: bool) -> Report {
    let records: Vec<KeyRecord> = common::fleet()
        .into_iter()
        .map(|mut r| {
            if no_tags {
                r.tags = None;
            }
            if no_aliases {
                r.aliases = None;
            }
            r
        })
        .collect();
    // No tag exceptions: with tags unread they would make findings errors instead.
    Report::evaluate(
        &records,
        Policy::default(),
        ReportScope::default(),
        Vec::new(),
        now(),
    )
}

#[test]
fn a_tag_filter_on_keys_whose_tags_were_not_read_is_refused_naming_option_and_keys() {
    let report = report_without(true, false);
    for (field, set) in [
        (
            "selection.exclude.tags",
            (|o: &mut PlanOptions| {
                o.selection.exclude.tags = vec![TagMatch::new("environment", "prod")]
            }) as fn(&mut PlanOptions),
        ),
        ("selection.include.tags", |o| {
            o.selection.include.tags = vec![TagMatch::new("environment", "staging")]
        }),
    ] {
        let mut o = options();
        set(&mut o);
        let err = plan(&report, &o).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert_eq!(err.context().field.as_deref(), Some(field), "{err}");
        assert!(err.message().contains(ORDERS), "names the keys: {err}");
        assert!(err.message().contains("tags were not read"), "{err}");
    }
}

#[test]
fn a_priority_on_keys_whose_tags_were_not_read_ranks_them_as_if_they_matched() {
    let report = report_without(true, false);
    let mut o = options();
    o.priorities = vec![Priority::Tag(TagMatch::new("environment", "staging"))];
    let plan = plan(&report, &o).unwrap();
    let orders = plan
        .actions
        .iter()
        .find(|a| a.target_arn == ORDERS)
        .unwrap();
    assert_eq!(orders.priority, 1);
    assert_eq!(
        orders.priority_reason,
        "tags not read: ranked as if tag:environment=staging"
    );
}

#[test]
fn an_alias_filter_on_keys_whose_aliases_were_not_read_is_refused() {
    let report = report_without(false, true);
    let mut o = options();
    o.selection.exclude.aliases = vec!["orders".into()];
    let err = plan(&report, &o).unwrap_err();
    assert_eq!(
        err.context().field.as_deref(),
        Some("selection.exclude.aliases")
    );
    assert!(err.message().contains("aliases were not read"), "{err}");
}

#[test]
fn a_known_answer_decides_even_where_tags_are_unknown() {
    let report = report_without(true, false);
    // Every key is outside the included region: tags cannot change that.
    let mut o = options();
    o.selection.include.regions = vec!["ap-south-1".into()];
    o.selection.include.tags = vec![TagMatch::new("environment", "prod")];
    let p = plan(&report, &o).unwrap();
    assert!(p.actions.is_empty());
    // Every failing key's account is excluded: an unknown tag exclusion changes nothing.
    let mut o = options();
    o.selection.exclude.accounts = vec!["111122223333".into(), "444455556666".into()];
    o.selection.exclude.tags = vec![TagMatch::new("environment", "prod")];
    let p = plan(&report, &o).unwrap();
    assert!(p.actions.is_empty());
}

#[test]
fn keys_the_plan_would_not_act_on_need_no_tags() {
    // Only the failing keys' tags are needed: drop every other key's tags and plan.
    let records: Vec<KeyRecord> = common::fleet();
    let judged = report_of(&records);
    let failing: Vec<&str> = judged
        .findings
        .iter()
        .filter(|f| f.remediable)
        .map(|f| f.arn.as_str())
        .collect();
    let records: Vec<KeyRecord> = records
        .into_iter()
        .map(|mut r| {
            if !failing.contains(&r.arn.as_str()) {
                r.tags = None;
            }
            r
        })
        .collect();
    let mut o = options();
    o.selection.exclude.tags = vec![TagMatch::new("environment", "prod")];
    let p = plan(&report_of(&records), &o).unwrap();
    assert!(!p.actions.is_empty());
}

#[test]
fn included_regions_bound_where_a_replicas_fix_is_written() {
    let mut o = options();
    o.selection.include.regions = vec!["eu-west-1".into()];
    let p = plan(&fleet_report(), &o).unwrap();
    assert!(
        p.actions.iter().all(|a| a.region == "eu-west-1"),
        "{:#?}",
        p.actions
    );
    assert_eq!(
        skips(&p)[REPLICA],
        SkipReason::Excluded,
        "its primary is in us-east-1"
    );
    let mut o = options();
    o.selection.include.accounts = vec!["444455556666".into()];
    let p = plan(&fleet_report(), &o).unwrap();
    assert!(p.actions.iter().all(|a| a.account_id == "444455556666"));
}
