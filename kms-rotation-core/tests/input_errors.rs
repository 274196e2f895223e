//! Malformed inventory, policy and exceptions files: each error names the file, the field and
//! the line, so a user can fix it without guessing.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use kms_rotation::{Error, ErrorKind, InventorySource, Policy};

/// A file in a fresh temporary directory, removed with it.
struct TempFile {
    dir: PathBuf,
    path: PathBuf,
}

impl TempFile {
    fn new(name: &str, contents: &str) -> Self {
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("kms-rotation-test-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, contents).unwrap();
        TempFile { dir, path }
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const GOOD_KEY: &str = r#"{
      "arn": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
      "key_manager": "CUSTOMER",
      "key_spec": "SYMMETRIC_DEFAULT",
      "origin": "AWS_KMS",
      "key_state": "Enabled",
      "rotation": {"enabled": true, "period_days": 365}
    }"#;

/// An inventory whose second key (index 1, starting on line 4) is `bad_key`.
fn inventory_with(bad_key: &str) -> String {
    format!("{{\n  \"schema_version\": 1,\n  \"keys\": [{GOOD_KEY},\n    {bad_key}\n  ]\n}}\n")
}

fn inventory_error(bad_key: &str) -> (Error, TempFile) {
    let file = TempFile::new("inventory.json", &inventory_with(bad_key));
    let err = InventorySource::from_path(&file.path).unwrap_err();
    (err, file)
}

fn assert_names_place(err: &Error, file: &Path, field: &str, needle: &str) {
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    let context = err.context();
    assert_eq!(context.file.as_deref(), Some(file), "{err}");
    assert_eq!(context.field.as_deref(), Some(field), "{err}");
    assert!(context.line.is_some(), "no line in {err}");
    assert!(context.column.is_some(), "no column in {err}");
    let shown = err.to_string();
    assert!(shown.contains(&file.display().to_string()), "{shown}");
    assert!(shown.contains(field), "{shown}");
    assert!(shown.contains(needle), "{shown} lacks {needle}");
}

#[test]
fn the_sample_fleet_loads() {
    let fleet = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/fleet.json");
    assert_eq!(
        InventorySource::from_path(fleet).unwrap().records().len(),
        22
    );
}

#[test]
fn inventory_missing_required_field() {
    let key = GOOD_KEY.replace("\"key_spec\": \"SYMMETRIC_DEFAULT\",", "");
    let (err, file) = inventory_error(&key);
    assert_names_place(&err, &file.path, "keys[1]", "key_spec");
}

#[test]
fn inventory_missing_arn() {
    let key = GOOD_KEY.replace(
        "\"arn\": \"arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab\",",
        "",
    );
    let (err, file) = inventory_error(&key);
    assert_names_place(&err, &file.path, "keys[1]", "missing field `arn`");
}

#[test]
fn inventory_wrong_type() {
    let key = GOOD_KEY.replace("\"enabled\": true", "\"enabled\": \"yes\"");
    let (err, file) = inventory_error(&key);
    assert_names_place(&err, &file.path, "keys[1].rotation.enabled", "invalid type");
    // The second key starts on line 11; its rotation object is its seventh line.
    assert_eq!(err.context().line, Some(17));
}

#[test]
fn inventory_unknown_enum_value() {
    let key = GOOD_KEY.replace("\"Enabled\"", "\"Enabeld\"");
    let (err, file) = inventory_error(&key);
    assert_names_place(
        &err,
        &file.path,
        "keys[1].key_state",
        "unknown variant `Enabeld`",
    );
}

#[test]
fn inventory_period_outside_the_aws_range() {
    let key = GOOD_KEY.replace("\"period_days\": 365", "\"period_days\": 3650");
    let (err, file) = inventory_error(&key);
    assert_names_place(&err, &file.path, "keys[1]", "90-2560");
}

#[test]
fn inventory_bad_arn() {
    let key = GOOD_KEY.replace("key/1234abcd", "alias/1234abcd");
    let (err, file) = inventory_error(&key);
    assert_names_place(&err, &file.path, "keys[1]", "not a KMS key ARN");
}

#[test]
fn inventory_fields_that_contradict_the_arn() {
    let key = GOOD_KEY.replace("{\n", "{\n      \"region\": \"us-east-1\",\n");
    let (err, file) = inventory_error(&key);
    assert_names_place(&err, &file.path, "keys[1]", "region");
}

#[test]
fn inventory_with_a_key_listed_twice_is_refused_naming_both_places_and_the_arn() {
    // Found after parsing, so named by index rather than line.
    let (err, file) = inventory_error(GOOD_KEY);
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert_eq!(err.context().file.as_deref(), Some(file.path.as_path()));
    assert_eq!(err.context().field.as_deref(), Some("keys[1].arn"));
    let shown = err.to_string();
    for needle in [
        file.path.display().to_string().as_str(),
        "keys[0] and keys[1]",
        "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ] {
        assert!(shown.contains(needle), "{shown} lacks {needle}");
    }
}

#[test]
fn inventory_key_whose_describe_failed_needs_only_its_arn() {
    let key = r#"{"arn": "arn:aws:kms:eu-west-1:123456789012:key/k2",
      "errors": [{"operation": "DescribeKey", "code": "AccessDeniedException"}]}"#;
    let file = TempFile::new("inventory.json", &inventory_with(key));
    let source = InventorySource::from_path(&file.path).unwrap();
    assert_eq!(source.records()[1].region, "eu-west-1");
}

#[test]
fn inventory_unknown_fields_are_ignored() {
    let key = GOOD_KEY
        .replace(
            "{\n",
            "{\n      \"description\": \"added by a newer release\",\n",
        )
        .replace("1234abcd-12ab", "5678abcd-12ab");
    let file = TempFile::new("inventory.json", &inventory_with(&key));
    assert_eq!(
        InventorySource::from_path(&file.path)
            .unwrap()
            .records()
            .len(),
        2
    );
}

#[test]
fn inventory_wrong_schema_version() {
    let file = TempFile::new("inventory.json", "{\"schema_version\": 2, \"keys\": []}");
    let err = InventorySource::from_path(&file.path).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(err.context().field.as_deref(), Some("schema_version"));
    assert!(err.to_string().contains("inventory.json"), "{err}");
}

#[test]
fn inventory_that_is_not_json() {
    let file = TempFile::new("inventory.json", "{\"schema_version\": 1,\n \"keys\": [\n");
    let err = InventorySource::from_path(&file.path).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(err.context().line, Some(3));
}

#[test]
fn inventory_file_missing() {
    let err = InventorySource::from_path("/nonexistent/fleet.json").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains("/nonexistent/fleet.json"), "{err}");
}

fn policy_error(name: &str, contents: &str) -> (Error, TempFile) {
    let file = TempFile::new(name, contents);
    let err = Policy::from_file(&file.path).unwrap_err();
    (err, file)
}

#[test]
fn policy_period_outside_90_to_2560() {
    for days in ["30", "2561", "-1"] {
        let (err, file) = policy_error(
            "policy.json",
            &format!("{{\n  \"max_rotation_period_days\": {days}\n}}"),
        );
        assert_names_place(&err, &file.path, "max_rotation_period_days", "90-2560");
    }
    let (err, file) = policy_error("policy.yaml", "target_rotation_period_days: 3000\n");
    assert_names_place(&err, &file.path, "target_rotation_period_days", "90-2560");
}

#[test]
fn policy_target_above_max() {
    let (err, _file) = policy_error(
        "policy.yaml",
        "max_rotation_period_days: 180\ntarget_rotation_period_days: 365\n",
    );
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(
        err.context().field.as_deref(),
        Some("target_rotation_period_days")
    );
    assert!(err.to_string().contains("policy.yaml"), "{err}");
}

#[test]
fn policy_wrong_type_and_unknown_values() {
    let (err, file) = policy_error(
        "policy.yaml",
        "max_rotation_period_days: 365\ndisabled_keys: hide\n",
    );
    assert_names_place(&err, &file.path, "disabled_keys", "unknown variant `hide`");
    let (err, file) = policy_error("policy.json", "{\"max_rotation_period_days\": \"365\"}");
    assert_names_place(&err, &file.path, "max_rotation_period_days", "invalid type");
}

#[test]
fn policy_misspelt_field_is_an_error_not_ignored() {
    let (err, file) = policy_error("policy.yaml", "\nmax_rotation_perod_days: 90\n");
    assert_names_place(
        &err,
        &file.path,
        "max_rotation_perod_days",
        "unknown field `max_rotation_perod_days`",
    );
    assert_eq!(err.context().line, Some(2));
}

const EXCEPTION_OK: &str =
    "  - match: {alias: alias/legacy}\n    owner: team\n    reason: why\n    expires: 2027-01-31\n";

fn exceptions_error(second: &str) -> (Error, TempFile) {
    let file = TempFile::new(
        "exceptions.yaml",
        &format!("exceptions:\n{EXCEPTION_OK}{second}"),
    );
    let mut policy = Policy::default();
    let err = policy.add_exceptions_file(&file.path).unwrap_err();
    assert!(policy.exceptions.is_empty(), "nothing half-applied");
    (err, file)
}

#[test]
fn exception_without_owner() {
    let (err, file) =
        exceptions_error("  - match: {arn: x}\n    reason: why\n    expires: 2027-01-31\n");
    assert_names_place(&err, &file.path, "exceptions[1]", "missing field `owner`");
}

#[test]
fn exception_with_blank_owner() {
    let (err, file) = exceptions_error(
        "  - match: {arn: x}\n    owner: ' '\n    reason: why\n    expires: 2027-01-31\n",
    );
    assert_names_place(&err, &file.path, "exceptions[1].owner", "must not be empty");
}

#[test]
fn exception_without_expiry() {
    let (err, file) = exceptions_error("  - match: {arn: x}\n    owner: team\n    reason: why\n");
    assert_names_place(&err, &file.path, "exceptions[1]", "missing field `expires`");
}

#[test]
fn exception_with_a_bad_date() {
    let (err, file) = exceptions_error(
        "  - match: {arn: x}\n    owner: team\n    reason: why\n    expires: 2027-02-30\n",
    );
    assert_names_place(&err, &file.path, "exceptions[1].expires", "out of range");
}

#[test]
fn exception_with_two_matchers_or_none() {
    let (err, file) = exceptions_error(
        "  - match: {arn: x, alias: alias/y}\n    owner: team\n    reason: why\n    expires: 2027-01-31\n",
    );
    assert_names_place(&err, &file.path, "exceptions[1].match", "exactly one");
    let (err, file) = exceptions_error(
        "  - match: {}\n    owner: team\n    reason: why\n    expires: 2027-01-31\n",
    );
    assert_names_place(&err, &file.path, "exceptions[1].match", "exactly one");
}

#[test]
fn exceptions_in_json_too() {
    let file = TempFile::new(
        "exceptions.json",
        "{\"exceptions\": [\n {\"match\": {\"tag\": {\"key\": \"k\", \"value\": \"v\"}},\n  \"owner\": \"o\", \"reason\": \"r\"}]}",
    );
    let err = Policy::default()
        .add_exceptions_file(&file.path)
        .unwrap_err();
    assert_names_place(&err, &file.path, "exceptions[0]", "missing field `expires`");
}

#[test]
fn the_sample_policy_and_exceptions_load() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut policy = Policy::from_file(examples.join("policy.yaml")).unwrap();
    policy
        .add_exceptions_file(examples.join("exceptions.yaml"))
        .unwrap();
    assert_eq!(policy.exceptions.len(), 2);
    assert!(policy.needs_tags());
}
