//! An inventory file is read one record at a time and each record evaluated as it arrives
//! (`ops::scan` with `inventory`): the report is the one the whole file would give, and a file
//! that goes wrong anywhere, even after thousands of good records, is an error naming its place,
//! never a partial report.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;

use kms_rotation::ops::{self, ScanOptions};
use kms_rotation::{ErrorKind, KeyRecord, Report};

/// A fresh temporary directory, removed with it.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("kms-rotation-stream-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `n` records: the sample fleet's kinds in turn, each with its own ARN, in an order that is
/// not the report's.
fn records(n: usize) -> Vec<KeyRecord> {
    let fleet = common::fleet();
    (0..n)
        .map(|i| {
            let mut record = fleet[i % fleet.len()].clone();
            let key_id = format!("{:08x}-0000-4000-8000-000000000000", n - i);
            record.arn = record.arn.replace(&record.key_id, &key_id);
            record.key_id = key_id;
            record
        })
        .collect()
}

/// The inventory of `records`, one record per line after the two opening lines: record `i` is
/// on line `i + 3`.
fn inventory_text(records: &[KeyRecord]) -> String {
    let lines: Vec<String> = records
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    format!(
        "{{\"schema_version\": 1,\n\"keys\": [\n{}\n]}}\n",
        lines.join(",\n")
    )
}

async fn scan(options: serde_json::Value) -> kms_rotation::Result<Report> {
    let mut options = options;
    options["now"] = "2026-06-01T00:00:00Z".into();
    ops::scan(
        serde_json::from_value::<ScanOptions>(options).unwrap(),
        None,
    )
    .await
}

#[tokio::test]
async fn a_streamed_inventory_gives_the_report_of_its_records_in_memory() {
    let records = records(5_000);
    let dir = TempDir::new();
    let path = dir.file("inventory.json", &inventory_text(&records));
    for scope in [
        serde_json::json!({}),
        serde_json::json!({"regions": ["eu-west-1"], "accounts": ["111122223333", "999999999999"]}),
    ] {
        let mut from_file = scope.clone();
        from_file["inventory"] = serde_json::json!(path);
        let mut in_memory = scope.clone();
        in_memory["records"] = serde_json::to_value(&records).unwrap();
        let streamed = scan(from_file).await.unwrap();
        let mut expected = scan(in_memory).await.unwrap();
        expected.scope.source = "inventory".into();
        assert_eq!(streamed, expected, "scope {scope}");
    }
}

#[tokio::test]
async fn a_bad_record_deep_in_a_big_file_is_named_by_file_index_field_and_line() {
    let text = inventory_text(&records(20_000));
    // Record 12,345 (on line 12,348) says its rotation is "yes".
    let lines: Vec<&str> = text.lines().collect();
    let bad = lines[12_347].replacen("\"enabled\":true", "\"enabled\":\"yes\"", 1);
    assert_ne!(bad, lines[12_347]);
    let text = [&lines[..12_347], &[bad.as_str()], &lines[12_348..]]
        .concat()
        .join("\n");
    let dir = TempDir::new();
    let path = dir.file("big.json", &text);
    let err = scan(serde_json::json!({ "inventory": path }))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    let context = err.context();
    assert_eq!(context.file.as_deref(), Some(path.as_path()));
    assert_eq!(
        context.field.as_deref(),
        Some("keys[12345].rotation.enabled")
    );
    assert_eq!(context.line, Some(12_348));
    assert!(err.to_string().contains("invalid type"), "{err}");
}

#[tokio::test]
async fn a_truncated_file_is_an_error_not_a_partial_report() {
    let text = inventory_text(&records(3_000));
    let dir = TempDir::new();
    // Cut at the end of a record, in the middle of one, and just before the closing brackets:
    // every record before the cut is valid, and none of them may be reported.
    let record_end = text.match_indices("},\n").nth(1_500).unwrap().0 + 1;
    for (name, cut) in [
        ("after-a-record.json", record_end),
        ("mid-record.json", text.len() / 2),
        ("before-the-end.json", text.len() - 3),
    ] {
        let path = dir.file(name, &text[..cut]);
        let err = scan(serde_json::json!({ "inventory": path }))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{name}: {err}");
        assert_eq!(
            err.context().file.as_deref(),
            Some(path.as_path()),
            "{name}"
        );
        assert!(err.context().line.is_some(), "{name}: {err}");
        assert!(err.to_string().contains("EOF"), "{name}: {err}");
    }
}

#[tokio::test]
async fn trailing_content_and_a_late_bad_version_are_errors_after_every_record() {
    let text = inventory_text(&records(100));
    let dir = TempDir::new();
    let trailing = dir.file("trailing.json", &format!("{text} {{}}"));
    let err = scan(serde_json::json!({ "inventory": trailing }))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    // The version after the keys: only known once every record has been read.
    let late = text
        .replacen("\"schema_version\": 1,\n", "", 1)
        .replace("\n]}\n", "\n], \"schema_version\": 2}\n");
    let late = dir.file("late.json", &late);
    let err = scan(serde_json::json!({ "inventory": late }))
        .await
        .unwrap_err();
    assert_eq!(
        err.context().field.as_deref(),
        Some("schema_version"),
        "{err}"
    );
    let missing = dir.file("missing.json", "{\"keys\": []}");
    let err = scan(serde_json::json!({ "inventory": missing }))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("schema_version"), "{err}");
}

#[tokio::test]
async fn a_key_listed_twice_is_refused_naming_its_first_two_places_in_or_out_of_scope() {
    let records = records(1_000);
    let dir = TempDir::new();
    for (copy_of, scope) in [
        (10, serde_json::json!({})),
        // The copied key is outside the scope: it is still the same file, refused the same way.
        (16, serde_json::json!({"regions": ["us-east-1"]})),
    ] {
        assert_eq!(
            records[copy_of].region,
            if copy_of == 16 {
                "eu-west-1"
            } else {
                "us-east-1"
            }
        );
        let mut listed = records.clone();
        listed.insert(700, records[copy_of].clone());
        listed.insert(900, records[copy_of].clone());
        let path = dir.file("twice.json", &inventory_text(&listed));
        let mut options = scope;
        options["inventory"] = serde_json::json!(path);
        let err = scan(options).await.unwrap_err();
        assert_eq!(
            err.context().field.as_deref(),
            Some("keys[700].arn"),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains(&format!("keys[{copy_of}] and keys[700]")),
            "{err}"
        );
    }
}

#[tokio::test]
async fn a_file_that_cannot_be_read_is_unavailable_not_bad_input() {
    let dir = std::env::temp_dir().join(format!("kms-rotation-dir-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let err = scan(serde_json::json!({ "inventory": dir }))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert!(!err.is_retryable(), "{err}");
    assert_eq!(err.context().file.as_deref(), Some(dir.as_path()), "{err}");
}
