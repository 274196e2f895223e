//! The JSON Schemas in `schemas/` are the ones the Rust types give: a type changed without
//! regenerating them fails here. Regenerate with
//! `UPDATE_SCHEMAS=1 cargo test -p kms-rotation-core --test schemas`.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

fn schemas_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../schemas")
}

#[test]
fn the_shipped_schemas_match_the_types() {
    let update = std::env::var_os("UPDATE_SCHEMAS").is_some();
    let mut stale = Vec::new();
    for named in kms_rotation::schema::all() {
        let path = schemas_dir().join(format!("{}.schema.json", named.name));
        let text = serde_json::to_string_pretty(&named.schema).unwrap() + "\n";
        if update {
            std::fs::create_dir_all(schemas_dir()).unwrap();
            std::fs::write(&path, &text).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "out of date (run UPDATE_SCHEMAS=1 cargo test -p kms-rotation-core --test schemas): {stale:?}"
    );
}

/// The sample files validate against the schemas users point their editors at.
#[test]
fn the_examples_validate_against_their_schemas() {
    let examples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples");
    for (schema, file) in [
        ("inventory", "fleet.json"),
        ("policy", "policy.yaml"),
        ("exceptions", "exceptions.yaml"),
    ] {
        let text = std::fs::read_to_string(examples.join(file)).unwrap();
        assert_valid(schema, serde_yaml_ng::from_str(&text).unwrap());
    }
}

/// Checks `value` against the schema `name`.
fn assert_valid(name: &str, value: serde_json::Value) {
    let schema = kms_rotation::schema::all()
        .into_iter()
        .find(|n| n.name == name)
        .unwrap()
        .schema;
    let validator = jsonschema::validator_for(schema.as_value()).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{name}: {errors:?} in {value}");
}

/// Every explanation `explain` gives is what its schema (and so the bindings' types) says.
#[test]
fn explanations_validate_against_their_schema() {
    use kms_rotation::ops::{self, ExplainOptions};
    for e in ops::explain(ExplainOptions::default()).unwrap() {
        assert_valid("explanation", serde_json::to_value(e).unwrap());
    }
    assert_valid(
        "explain-options",
        serde_json::json!({"reason": "rotation_disabled"}),
    );
}

/// The policy of each mode, with and without roles, is what its schema says.
#[cfg(feature = "aws")]
#[test]
fn iam_policies_validate_against_their_schema() {
    use kms_rotation::aws::permissions::Mode;
    use kms_rotation::ops::{self, IamPolicyOptions};
    let role = "arn:aws:iam::111122223333:role/kms-rotation".to_owned();
    for mode in [Mode::ReadOnly, Mode::Remediate] {
        for role_arns in [vec![], vec![role.clone()]] {
            let policy = ops::iam_policy(IamPolicyOptions { mode, role_arns }).unwrap();
            assert_valid("iam-policy", serde_json::to_value(policy).unwrap());
        }
    }
    assert_valid(
        "iam-policy-options",
        serde_json::json!({"mode": "remediate", "role_arns": [role]}),
    );
}

/// A review of the sample fleet's exceptions (expired, active, unknown keys) is what its schema
/// (and so the bindings' types) says.
#[test]
fn exceptions_reviews_validate_against_their_schema() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let inventory = kms_rotation::InventorySource::from_path(dir.join("fleet.json")).unwrap();
    let mut policy = kms_rotation::Policy::default();
    policy
        .add_exceptions_file(dir.join("exceptions.yaml"))
        .unwrap();
    let now = "2026-11-22T12:00:00Z".parse().unwrap();
    let report = kms_rotation::Report::evaluate(
        inventory.records(),
        policy,
        kms_rotation::ReportScope::default(),
        Vec::new(),
        now,
    );
    let review = kms_rotation::exceptions::review(&report, 30, now);
    assert_valid("exceptions-review", serde_json::to_value(review).unwrap());
    assert_valid(
        "exceptions-options",
        serde_json::json!({"report_file": "report.json", "within_days": 14}),
    );
}

/// An event's outcome (re-checked and planned, or ignored) is what its schema says.
#[tokio::test]
async fn event_outcomes_validate_against_their_schema() {
    use kms_rotation::ops::{self, EventOptions, ScanOptions};
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples");
    for (name, remediate) in [("disable-key-rotation", true), ("unrelated", false)] {
        let options = EventOptions {
            event_file: Some(dir.join(format!("events/{name}.json"))),
            scan: ScanOptions {
                inventory: Some(dir.join("fleet.json")),
                ..ScanOptions::default()
            },
            remediate,
            ..EventOptions::default()
        };
        let outcome = ops::event(options, None).await.unwrap();
        assert_valid("event-outcome", serde_json::to_value(outcome).unwrap());
    }
    assert_valid(
        "event-options",
        serde_json::json!({"event_file": "e.json", "remediate": true, "dry_run": false,
                           "journal": "j.ndjson", "scan": {"role_arns": []}}),
    );
    assert_valid(
        "baseline-options",
        serde_json::json!({"format": "conformance-pack", "policy_file": "policy.yaml"}),
    );
}
