//! An error in an operation's options names its field: a value of the wrong type, in the AWS
//! options too (fields of each operation's options, not a flattened part), inside nested options
//! (`scan.max_attempts`), and an unknown name, refused with the list of known ones.

use kms_rotation::input::{self, Syntax};
use kms_rotation::ops::{
    ApplyOptions, EvaluateOptions, PlanOptions, RenderOptions, RollbackOptions, ScanOptions,
};
use kms_rotation::{Error, ErrorKind};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// The error of reading `options` as `T`, through the core's reader (what Node does; the CLI and
/// Python track the path the same way, with serde_path_to_error).
fn error<T: DeserializeOwned>(options: Value) -> Error {
    match input::parse::<T>(&options.to_string(), Syntax::Json) {
        Ok(_) => panic!("{options} was accepted"),
        Err(err) => err,
    }
}

#[track_caller]
fn names<T: DeserializeOwned>(options: Value, field: &str) -> Error {
    let err = error::<T>(options.clone());
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{options}: {err}");
    assert_eq!(
        err.context().field.as_deref(),
        Some(field),
        "{options}: {err}"
    );
    err
}

/// The unknown-field error lists what is known, the AWS options included.
#[track_caller]
fn refuses_unknown<T: DeserializeOwned>(known: &[&str]) {
    let err = names::<T>(json!({ "max_atempts": 3 }), "max_atempts");
    assert!(
        err.message().contains("unknown field `max_atempts`"),
        "{err}"
    );
    for name in known {
        assert!(
            err.message().contains(&format!("`{name}`")),
            "{name}: {err}"
        );
    }
}

#[test]
fn scan_names_the_field() {
    refuses_unknown::<ScanOptions>(&["inventory", "max_attempts", "role_arns"]);
    names::<ScanOptions>(json!({ "max_attempts": "x" }), "max_attempts");
    names::<ScanOptions>(json!({ "role_arns": ["a", 2] }), "role_arns[1]");
    names::<ScanOptions>(json!({ "connect_timeout_ms": -1 }), "connect_timeout_ms");
    names::<ScanOptions>(json!({ "rates": ["describe-key=fast"] }), "rates");
    names::<ScanOptions>(json!({ "regions": ["eu-west-1", 3] }), "regions[1]");
    names::<ScanOptions>(json!({ "all_tags": "yes" }), "all_tags");
}

#[test]
fn evaluate_names_the_field() {
    refuses_unknown::<EvaluateOptions>(&["records"]);
    names::<EvaluateOptions>(json!({ "records": {} }), "records");
}

#[test]
fn plan_names_the_field_of_its_scan_options_too() {
    refuses_unknown::<PlanOptions>(&["report", "scan", "batch_size"]);
    names::<PlanOptions>(json!({ "batch_size": "x" }), "batch_size");
    names::<PlanOptions>(
        json!({ "scan": { "max_attempts": "x" } }),
        "scan.max_attempts",
    );
    names::<PlanOptions>(json!({ "scan": { "role_arns": [1] } }), "scan.role_arns[0]");
    let err = names::<PlanOptions>(json!({ "scan": { "max_atempts": 3 } }), "scan.max_atempts");
    assert!(err.message().contains("`max_attempts`"), "{err}");
}

#[test]
fn apply_names_the_field() {
    refuses_unknown::<ApplyOptions>(&["plan", "dry_run", "max_attempts", "endpoint_url"]);
    names::<ApplyOptions>(json!({ "max_attempts": "x" }), "max_attempts");
    names::<ApplyOptions>(json!({ "endpointUrl": 1 }), "endpointUrl");
    names::<ApplyOptions>(json!({ "dry_run": "no" }), "dry_run");
}

#[test]
fn rollback_names_the_field() {
    refuses_unknown::<RollbackOptions>(&["journal", "only_run", "max_attempts", "profile"]);
    names::<RollbackOptions>(
        json!({ "concurrency_per_region": -1 }),
        "concurrency_per_region",
    );
    names::<RollbackOptions>(json!({ "verify_attempts": "x" }), "verify_attempts");
}

#[test]
fn render_names_the_field() {
    refuses_unknown::<RenderOptions>(&["report", "plan", "format"]);
    names::<RenderOptions>(json!({ "format": 1 }), "format");
}
