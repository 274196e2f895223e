//! Remediation: plan, apply with verification, journal, roll back (`rule.md`, "Remediation").
//!
//! Data flows one way: a [`Report`](crate::Report) becomes a [`Plan`] (pure, [`plan()`]); a plan
//! is [`apply`]'d to a [`RemediationTarget`] (AWS, or [`MemoryTarget`]) with every step written to
//! a [`Journal`]; a journal is enough to [`rollback`] exactly what a run changed, even a run
//! killed mid-write.
//!
//! Safety rests on a few rules, each in one place: [`out_of_scope`] decides which keys may be
//! written (apply and rollback describe every key right before writing and refuse the rest, so an
//! edited plan cannot widen the scope); the journal gets each write's intent on disk before the
//! write is sent, and [`write_may_have_applied`] decides which failed writes may still have
//! landed; a journal file is locked for the whole run.
//!
//! ```
//! use std::sync::Arc;
//! use kms_rotation::remediate::{apply, plan, ApplyOptions, Journal, MemoryTarget, PlanOptions, RotationState};
//! use kms_rotation::{InventorySource, KeySourceExt, ScanRequest};
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let source = InventorySource::from_path(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/fleet.json"))?;
//! let report = source.scan(&ScanRequest::default()).await?;
//! let plan = plan(&report, &PlanOptions::default())?;
//! // A stand-in for KMS holding every target with rotation off.
//! let target = Arc::new(MemoryTarget::new(
//!     plan.actions.iter().map(|a| (a.target_arn.clone(), RotationState::DISABLED)),
//! ));
//! let journal = Journal::in_memory();
//! let outcome = apply(&plan, target, &ApplyOptions::default(), &journal).await?;
//! assert!(outcome.is_success());
//! # Ok::<(), kms_rotation::Error>(())
//! # }).unwrap();
//! ```

mod apply;
mod exec;
mod journal;
mod limiter;
mod plan;
mod rollback;
mod scope;
mod target;

pub use crate::memory::{MemoryTarget, WriteCall, WriteMode};
pub use apply::{
    ActionResult, ActionStatus, ApplyOptions, ApplyOutcome, RemediationProgress,
    RemediationProgressFn, apply, skip,
};
pub use exec::{Verify, new_run_id, write_may_have_applied};
pub use journal::{Event, Journal, JournalEntry, JournalError, parse_line, read_journal};
pub use plan::{
    Action, ActionKind, CLOUDFORMATION_STACK_TAG, KeyFilter, Plan, PlanFormat, PlanOptions,
    Priority, Selection, Skip, SkipReason, TagMatch, plan,
};
pub use rollback::{
    RollbackOptions, RollbackOutcome, RollbackResult, RollbackStatus, Undo, reason, rollback,
    undo_list,
};
pub use scope::{KeyMetadata, out_of_scope, scope_reason};
pub use target::{RemediationTarget, RotationState};
