//! Apply and rollback outcomes: JSON for programs, and for people at a terminal a table with one
//! row per key in the order the run took them (what it was, what it is now, and why when it is
//! not what was asked). Display only: every value comes from the outcome as the core made it.

use clap::ValueEnum;
use comfy_table::{Attribute, Cell, Color, Table};
use kms_rotation::model::KeyArn;
use kms_rotation::remediate::{
    ActionResult, ActionStatus, ApplyOutcome, JournalError, RollbackOutcome, RollbackResult,
    RollbackStatus, RotationState,
};

use crate::table::{Look, new_table};

/// `--format` of apply and rollback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutcomeFormat {
    /// The outcome as JSON (what programs and the Python and Node bindings get).
    Json,
    /// One row per key, for people.
    Table,
}

impl OutcomeFormat {
    /// `format`, or by default a table when stdout is a terminal and JSON anywhere else.
    pub fn or_default(format: Option<OutcomeFormat>) -> OutcomeFormat {
        format.unwrap_or(if crate::output::for_people(None) {
            OutcomeFormat::Table
        } else {
            OutcomeFormat::Json
        })
    }
}

/// What an apply did, one row per action.
pub fn apply_table(outcome: &ApplyOutcome, look: Look) -> String {
    let mut table = new_table(
        [
            "STATUS", "KEY", "REGION", "ACCOUNT", "BEFORE", "AFTER", "DETAIL",
        ],
        look,
    );
    for result in &outcome.results {
        table.add_row(apply_row(result, look.colour));
    }
    lines(&table)
}

fn apply_row(result: &ActionResult, colour: bool) -> [Cell; 7] {
    let status = Cell::new(result.status.as_str());
    let status = if !colour {
        status
    } else {
        match result.status {
            ActionStatus::Remediated => status.fg(Color::Green),
            ActionStatus::WouldRemediate => status.fg(Color::Cyan),
            ActionStatus::Skipped => status.add_attribute(Attribute::Dim),
            ActionStatus::NotAttempted => status.fg(Color::Yellow),
            ActionStatus::Failed | ActionStatus::VerificationFailed => {
                status.fg(Color::Red).add_attribute(Attribute::Bold)
            }
        }
    };
    [
        status,
        Cell::new(key_id(&result.target_arn)),
        Cell::new(&result.region),
        Cell::new(&result.account_id),
        Cell::new(state(result.before.as_ref())),
        Cell::new(state(result.after.as_ref())),
        Cell::new(detail(
            result.reason.as_deref(),
            result.error.as_ref(),
            false,
        )),
    ]
}

/// What a rollback did, one row per key to undo.
pub fn rollback_table(outcome: &RollbackOutcome, look: Look) -> String {
    let mut table = new_table(
        [
            "STATUS", "KEY", "REGION", "ACCOUNT", "RESTORE", "NOW", "DETAIL",
        ],
        look,
    );
    for result in &outcome.results {
        table.add_row(rollback_row(result, look.colour));
    }
    lines(&table)
}

fn rollback_row(result: &RollbackResult, colour: bool) -> [Cell; 7] {
    let status = Cell::new(result.status.as_str());
    let status = if !colour {
        status
    } else {
        match result.status {
            RollbackStatus::RolledBack => status.fg(Color::Green),
            RollbackStatus::WouldRollBack => status.fg(Color::Cyan),
            RollbackStatus::Skipped | RollbackStatus::NotAttempted => status.fg(Color::Yellow),
            RollbackStatus::Failed => status.fg(Color::Red).add_attribute(Attribute::Bold),
        }
    };
    // Rollback results carry only the ARN; its parts are the key's region and account.
    let arn = KeyArn::parse(&result.target_arn).ok();
    [
        status,
        Cell::new(arn.map_or(result.target_arn.as_str(), |a| a.key_id)),
        Cell::new(arn.map_or("?", |a| a.region)),
        Cell::new(arn.map_or("?", |a| a.account_id)),
        Cell::new(state(Some(&result.restore))),
        Cell::new(state(result.current.as_ref())),
        Cell::new(detail(
            result.reason.as_deref(),
            result.error.as_ref(),
            result.possibly_applied,
        )),
    ]
}

fn lines(table: &Table) -> String {
    table
        .lines()
        .map(|l| l.trim_end().to_owned() + "\n")
        .collect()
}

/// The key id, or the whole ARN when it is not a key ARN (never hidden).
fn key_id(arn: &str) -> &str {
    KeyArn::parse(arn).map_or(arn, |a| a.key_id)
}

/// A rotation state in words; a state the run did not read says so.
fn state(state: Option<&RotationState>) -> String {
    match state {
        None => "not read".to_owned(),
        Some(RotationState { enabled: false, .. }) => "off".to_owned(),
        Some(RotationState {
            period_days: Some(days),
            ..
        }) => format!("on, {days} days"),
        Some(RotationState {
            period_days: None, ..
        }) => "on, period not reported".to_owned(),
    }
}

/// Why a row is what it is: the reason code, then the AWS error (code and message).
fn detail(reason: Option<&str>, error: Option<&JournalError>, possibly_applied: bool) -> String {
    let mut parts: Vec<String> = reason.map(str::to_owned).into_iter().collect();
    if let Some(error) = error {
        parts.push(format!("{}: {}", error.code, error.message));
    }
    if possibly_applied {
        parts.push("the change undone was never confirmed".to_owned());
    }
    parts.join("; ")
}
