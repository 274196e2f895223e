//! kms-rotation: checks and fixes automatic rotation of customer-managed symmetric AWS KMS keys
//! (CIS AWS Foundations, Security Hub KMS.4).
//!
//! Data flows one way: a [`KeySource`] yields [`KeyRecord`]s, the [`rule`] turns each into a
//! [`Finding`] under a [`Policy`], and a [`Report`] collects them.
//!
//! ```
//! use kms_rotation::{InventorySource, KeySourceExt, ScanRequest};
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let source = InventorySource::from_path(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/fleet.json"))?;
//! let report = source.scan(&ScanRequest::default()).await?;
//! println!("{} keys, compliant: {}", report.summary.by_status.total, report.is_compliant());
//! # Ok::<(), kms_rotation::Error>(())
//! # }).unwrap();
//! ```

#![warn(missing_docs)]

#[cfg(feature = "aws")]
pub mod aws;
pub mod baseline;
pub mod controls;
pub mod diff;
mod document;
mod error;
pub mod event;
pub mod exceptions;
pub mod explain;
pub mod exposure;
mod finding;
pub mod input;
pub mod memory;
pub mod model;
pub mod ops;
pub mod policy;
pub mod regions;
pub mod remediate;
mod report;
pub mod rule;
pub mod schema;
mod shell;
pub mod source;
mod wire;

pub use controls::{Control, Severity};
pub use error::{Error, ErrorContext, ErrorKind, Result};
pub use finding::{AppliedException, Finding, PeriodSource, Reason, Status};
pub use model::{Inventory, KeyRecord};
pub use policy::{DisabledKeys, Exception, ExceptionMatch, Policy, RotationPeriod};
pub use remediate::{Plan, PlanOptions, RemediationTarget};
pub use report::{Format, Report, ReportScope, SHARD_MISSING, StatusCounts, Summary};
pub use rule::evaluate;
pub use source::{
    CloudFormationSource, InventorySource, KeySource, KeySourceExt, MemorySource, ReadRequest,
    ScanRequest, Scope, ScopeError, Shard, TerraformPlanSource,
};
