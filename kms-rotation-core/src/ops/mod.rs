//! The operations every surface offers (the CLI, Python, Node, and Rust programs), each taking
//! one options type: [`scan`], [`evaluate`], [`plan`], [`apply`], [`rollback`] and [`render`];
//! and two that explain: [`explain`] (a reason code) and `iam_policy` (the permissions).
//!
//! This is where the surfaces' decisions are made, once: defaults (a dry run unless
//! `dry_run: false`), validation (known regions, account ids, rate syntax, timeouts), which
//! source to read, where to connect (where the plan or journal points), and that a journal is
//! required to write. The options deserialize from the same snake_case names on every surface
//! (`deny_unknown_fields`: a misspelt option is an error, never ignored); JavaScript's camelCase
//! spellings are accepted as aliases. A surface converts its arguments into these types, calls
//! the operation and maps the error: nothing else.
//!
//! ```
//! use kms_rotation::ops::{self, ScanOptions};
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let options: ScanOptions = serde_json::from_str(&format!(
//!     r#"{{"inventory": "{}/../examples/fleet.json"}}"#,
//!     env!("CARGO_MANIFEST_DIR")
//! ))?;
//! let report = ops::scan(options, None).await?;
//! assert!(!report.is_compliant());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

mod apply;
mod evaluate;
mod explain;
pub(crate) mod files;
#[cfg(feature = "aws")]
mod iam_policy;
#[cfg(feature = "aws")]
pub(crate) mod millis;
mod plan;
mod render;
mod rollback;
mod scan;

pub use apply::{ApplyOptions, apply, apply_to};
pub use evaluate::{EvaluateOptions, evaluate};
pub use explain::{ExplainOptions, explain};
#[cfg(feature = "aws")]
pub use iam_policy::{IamPolicyOptions, iam_policy};
pub use plan::{PlanOptions, plan};
pub use render::{RenderOptions, render, render_to};
pub use rollback::{RollbackOptions, rollback, rollback_to};
pub use scan::{ScanOptions, scan};

#[cfg(feature = "aws")]
pub use crate::aws::AwsOptions;

/// The remediation target for keys in `regions`, through `aws` (each key's account through its
/// role). Makes no call.
#[cfg(feature = "aws")]
async fn connect(
    aws: &AwsOptions,
    mut regions: Vec<String>,
) -> crate::Result<std::sync::Arc<dyn crate::remediate::RemediationTarget>> {
    use crate::aws::AwsSource;
    use crate::aws::AwsTarget;
    regions.sort_unstable();
    regions.dedup();
    let options = AwsOptions {
        regions,
        ..aws.clone()
    };
    let source = AwsSource::new(options).await?;
    Ok(std::sync::Arc::new(AwsTarget::from_source(
        std::sync::Arc::new(source),
    )))
}

#[cfg(not(feature = "aws"))]
async fn connect(
    _aws: &AwsOptions,
    _regions: Vec<String>,
) -> crate::Result<std::sync::Arc<dyn crate::remediate::RemediationTarget>> {
    Err(crate::Error::new(
        crate::ErrorKind::Unsupported,
        "this build has no AWS support: it cannot change keys",
    ))
}

/// Where to connect when there are no AWS options: nothing to configure.
#[cfg(not(feature = "aws"))]
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct AwsOptions {}
