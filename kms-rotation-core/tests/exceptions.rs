//! `ops::review_exceptions`: its options (defaults, names, checks) and where its report comes
//! from. The states themselves are tested with the review (`src/exceptions/mod.rs`) and through
//! the command (`exceptions_cli.rs`).

mod common;

use kms_rotation::ErrorKind;
use kms_rotation::exceptions::ExceptionState;
use kms_rotation::ops::{self, ExceptionsOptions};
use serde_json::json;

fn options(value: serde_json::Value) -> ExceptionsOptions {
    serde_json::from_value(value).expect("valid options")
}

fn fleet_scan() -> serde_json::Value {
    json!({
        "inventory": common::examples_dir().join("fleet.json"),
        "policy_file": common::examples_dir().join("policy.yaml"),
        "exceptions": [common::examples_dir().join("exceptions.yaml")],
        "now": "2026-11-22T12:00:00Z",
    })
}

#[test]
fn options_default_to_30_days_and_take_camel_case_but_nothing_unknown() {
    assert_eq!(ExceptionsOptions::default().within_days, 30);
    assert_eq!(options(json!({})).within_days, 30);
    let camel = options(json!({ "withinDays": 7, "reportFile": "r.json" }));
    assert_eq!(camel.within_days, 7);
    assert_eq!(camel.report_file.as_deref(), Some("r.json".as_ref()));
    let err = serde_json::from_value::<ExceptionsOptions>(json!({ "within_day": 7 })).unwrap_err();
    assert!(
        err.to_string().contains("unknown field `within_day`"),
        "{err}"
    );
    assert!(serde_json::from_value::<ExceptionsOptions>(json!({ "within_days": -1 })).is_err());
}

#[tokio::test]
async fn the_review_comes_from_exactly_one_of_a_report_a_file_or_a_scan() {
    let now = "2026-11-22T12:00:00Z";
    let from_scan =
        ops::review_exceptions(options(json!({ "scan": fleet_scan(), "now": now })), None)
            .await
            .unwrap();
    assert_eq!(from_scan.summary.total, 2);
    assert!(from_scan.summary.expired_failing);
    assert_eq!(from_scan.exceptions[0].state, ExceptionState::Expired);

    let report = ops::scan(serde_json::from_value(fleet_scan()).unwrap(), None)
        .await
        .unwrap();
    let from_report = ops::review_exceptions(
        ExceptionsOptions {
            report: Some(report.clone()),
            now: Some(now.parse().unwrap()),
            ..ExceptionsOptions::default()
        },
        None,
    )
    .await
    .unwrap();
    assert_eq!(from_report, from_scan);

    let file = common::scratch("report.json");
    std::fs::write(&file, serde_json::to_vec(&report).unwrap()).unwrap();
    let from_file =
        ops::review_exceptions(options(json!({ "report_file": file, "now": now })), None)
            .await
            .unwrap();
    assert_eq!(from_file, from_scan);

    let err = ops::review_exceptions(ExceptionsOptions::default(), None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(err.context().field.as_deref(), Some("report"));
    assert!(err.message().starts_with("nothing to review"), "{err}");
    let err = ops::review_exceptions(
        options(json!({ "report_file": file, "scan": fleet_scan() })),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.context().field.as_deref(), Some("report"));
}

#[tokio::test]
async fn an_edited_report_is_refused_before_its_exceptions_are_reviewed() {
    let mut report = common::fleet_report("2026-11-22T12:00:00Z".parse().unwrap());
    let expired = (report.findings.iter_mut())
        .find(|f| f.exception.as_ref().is_some_and(|e| e.expired))
        .unwrap();
    // The lapsed exception hidden by an edit: the key made to look excused.
    expired.status = kms_rotation::Status::Exempt;
    let err = ops::review_exceptions(
        ExceptionsOptions {
            report: Some(report),
            ..ExceptionsOptions::default()
        },
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        (err.context().field.as_deref().unwrap_or("")).starts_with("report.findings["),
        "{err}"
    );
}
