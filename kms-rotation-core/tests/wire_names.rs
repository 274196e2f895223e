//! The names of the enums in data and options (`Status`, `Reason`, journal events, AWS values...)
//! are one set: what serde writes and reads, what `as_str` and `Display` print, what `FromStr`
//! parses, and `ALL` lists every value. strum derives the names, serde its own: this checks they
//! agree for every value of every such enum.

use std::collections::BTreeSet;
use std::fmt::Display;
use std::str::FromStr;

use kms_rotation::exceptions::{ExceptionState, ExceptionsFormat};
use kms_rotation::model::{
    KeyManager, KeySpec, KeyState, KeyUsage, MultiRegionRole, Origin, RotationType,
};
use kms_rotation::remediate::{
    ActionKind, ActionStatus, Event, PlanFormat, RollbackStatus, SkipReason,
};
use kms_rotation::{
    Control, DisabledKeys, ErrorKind, Format, PeriodSource, Reason, Severity, Status,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// What every wire enum has, whether or not serde writes it.
trait Named: Copy + Eq + std::fmt::Debug + Display + FromStr<Err = kms_rotation::Error> {
    fn name(self) -> &'static str;
}

macro_rules! named {
    ($($name:ident),+) => {$(
        impl Named for $name {
            fn name(self) -> &'static str {
                self.as_str()
            }
        }
    )+};
}

named!(
    Status,
    Reason,
    Severity,
    Control,
    PeriodSource,
    DisabledKeys,
    KeyManager,
    KeySpec,
    KeyUsage,
    Origin,
    KeyState,
    MultiRegionRole,
    RotationType,
    ActionKind,
    SkipReason,
    ActionStatus,
    RollbackStatus,
    Event,
    Format,
    PlanFormat,
    ErrorKind,
    ExceptionState,
    ExceptionsFormat
);

/// Every value has a distinct name, printed and parsed back as itself; an unknown name is
/// refused with a message that lists them all.
fn names_round_trip<T: Named>(all: &[T]) -> Vec<&'static str> {
    assert!(!all.is_empty());
    let names: Vec<&str> = all.iter().map(|v| v.name()).collect();
    assert_eq!(
        names.iter().collect::<BTreeSet<_>>().len(),
        names.len(),
        "{names:?}"
    );
    for (value, name) in all.iter().zip(&names) {
        assert_eq!(value.to_string(), *name);
        assert_eq!(name.parse::<T>().expect("a known name"), *value);
    }
    let err = "no-such-name".parse::<T>().expect_err("an unknown name");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.message().ends_with(&names.join(", ")), "{err}");
    names
}

/// The same, and serde's name of each value is strum's, written and read.
fn serde_agrees<T: Named + Serialize + DeserializeOwned>(all: &[T]) {
    for (value, name) in all.iter().zip(names_round_trip(all)) {
        assert_eq!(
            serde_json::to_value(value).expect("serializable"),
            serde_json::Value::from(name),
            "{value:?}"
        );
        assert_eq!(
            serde_json::from_value::<T>(serde_json::Value::from(name)).expect("deserializable"),
            *value
        );
    }
}

#[test]
fn serde_and_strum_name_every_value_of_the_data_enums_alike() {
    serde_agrees(&Status::ALL);
    serde_agrees(&Reason::ALL);
    serde_agrees(&Severity::ALL);
    serde_agrees(&Control::ALL);
    serde_agrees(&PeriodSource::ALL);
    serde_agrees(&DisabledKeys::ALL);
    serde_agrees(&KeyManager::ALL);
    serde_agrees(&KeySpec::ALL);
    serde_agrees(&KeyUsage::ALL);
    serde_agrees(&Origin::ALL);
    serde_agrees(&KeyState::ALL);
    serde_agrees(&MultiRegionRole::ALL);
    serde_agrees(&RotationType::ALL);
    serde_agrees(&ActionKind::ALL);
    serde_agrees(&SkipReason::ALL);
    serde_agrees(&ActionStatus::ALL);
    serde_agrees(&RollbackStatus::ALL);
    serde_agrees(&Event::ALL);
    serde_agrees(&ExceptionState::ALL);
}

#[test]
fn formats_and_error_kinds_are_named_the_same_way() {
    assert_eq!(
        names_round_trip(&Format::ALL),
        [
            "json", "ndjson", "csv", "markdown", "asff", "sarif", "ocsf", "html"
        ]
    );
    assert_eq!(
        names_round_trip(&PlanFormat::ALL),
        ["json", "table", "script"]
    );
    assert_eq!(
        names_round_trip(&ExceptionsFormat::ALL),
        ["json", "table", "markdown"]
    );
    assert_eq!(
        names_round_trip(&ErrorKind::ALL),
        [
            "InvalidInput",
            "NotFound",
            "AccessDenied",
            "Throttled",
            "InvalidKeyState",
            "Unsupported",
            "Unavailable",
            "Unexpected"
        ]
    );
}

#[test]
fn all_lists_every_value_in_declaration_order() {
    // `ALL` comes from strum's list of variants; `Reason::ALL` is what `explain` lists.
    assert_eq!(Status::ALL.len(), 5);
    assert_eq!(Reason::ALL.len(), 19);
    assert_eq!(Reason::ALL[0], Reason::DescribeFailed);
    assert_eq!(Reason::ALL[16], Reason::ExceptionUndecidable);
    assert_eq!(Reason::ALL[18], Reason::RotationNotSupported);
    assert_eq!(KeySpec::ALL.len(), 20);
    assert_eq!(KeySpec::Rsa2048.as_str(), "RSA_2048");
    assert_eq!(KeySpec::EccSecgP256k1.as_str(), "ECC_SECG_P256K1");
    assert_eq!(KeyState::PendingDeletion.as_str(), "PendingDeletion");
}
