//! The operations every surface offers (the CLI, Python, Node, and Rust programs), each taking
//! one options type: [`scan`], [`evaluate`], [`plan`], [`apply`], [`rollback`] and [`render`];
//! two that explain: [`explain`] (a reason code) and `iam_policy` (the permissions); and
//! [`review_exceptions`], the review of a report's exceptions; [`baseline`], the organisation
//! baseline from the policy; and [`event`], the re-check of the keys a KMS CloudTrail event
//! touches.
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
mod baseline;
mod diff;
mod evaluate;
mod event;
mod exceptions;
mod explain;
pub(crate) mod files;
#[cfg(feature = "aws")]
mod iam_policy;
mod merge;
#[cfg(feature = "aws")]
pub(crate) mod millis;
mod plan;
mod render;
mod report_source;
mod rollback;
mod scan;
#[cfg(feature = "aws")]
mod security_hub;

pub use apply::{ApplyOptions, apply, apply_to};
pub use baseline::{BaselineFormat, BaselineOptions, baseline};
pub use diff::{DiffOptions, diff};
pub use evaluate::{EvaluateOptions, evaluate};
pub use event::{EventOptions, EventOutcome, event};
pub use exceptions::{ExceptionsOptions, review_exceptions};
pub use explain::{ExplainOptions, explain};
#[cfg(feature = "aws")]
pub use iam_policy::{IamPolicyOptions, iam_policy};
pub use merge::{MergeOptions, merge};
pub use plan::{PlanOptions, plan};
pub use render::{RenderOptions, render, render_to};
pub use rollback::{RollbackOptions, rollback, rollback_to};
pub use scan::{ScanOptions, scan};
#[cfg(feature = "aws")]
pub use security_hub::{SecurityHubOptions, send_to_security_hub};

#[cfg(feature = "aws")]
pub use crate::aws::AwsOptions;
#[cfg(feature = "aws")]
use crate::aws::with_aws_options;

/// A dry run's progress: one call per previewed action (or key), `done` counting up to `total`,
/// as a real run makes one per finished action, so that progress bars work the same for both.
fn preview_progress(progress: Option<&crate::remediate::RemediationProgressFn>, total: usize) {
    if let Some(callback) = progress {
        for done in 1..=total {
            callback(crate::remediate::RemediationProgress { done, total });
        }
    }
}

/// apply and rollback write the keys of a plan or journal, each in the account its ARN names,
/// through `role_arns`: organisation discovery has nothing to add there, and its options would
/// otherwise be ignored in silence. Refused before anything is read.
#[cfg(feature = "aws")]
pub(crate) fn refuse_organization(aws: &AwsOptions) -> crate::Result<()> {
    let given = [
        ("organization", aws.organization),
        ("org_role_name", aws.org_role_name.is_some()),
        ("include_ous", !aws.include_ous.is_empty()),
        ("exclude_ous", !aws.exclude_ous.is_empty()),
        ("exclude_accounts", !aws.exclude_accounts.is_empty()),
    ];
    match given.into_iter().find(|(_, set)| *set) {
        Some((field, _)) => Err(crate::Error::invalid_input(
            "organisation discovery is for scans: apply and rollback write the keys of the \
             plan or journal; give the roles of their accounts with role_arns",
        )
        .with_field(field)),
        None => Ok(()),
    }
}

#[cfg(not(feature = "aws"))]
pub(crate) fn refuse_organization(_aws: &AwsOptions) -> crate::Result<()> {
    Ok(())
}

/// The remediation target for keys in `aws.regions`, through `aws` (each key's account through
/// its role). Makes no call.
#[cfg(feature = "aws")]
async fn connect(
    mut aws: AwsOptions,
) -> crate::Result<std::sync::Arc<dyn crate::remediate::RemediationTarget>> {
    use crate::aws::AwsSource;
    use crate::aws::AwsTarget;
    aws.regions.sort_unstable();
    aws.regions.dedup();
    let source = AwsSource::new(aws).await?;
    Ok(std::sync::Arc::new(AwsTarget::from_source(
        std::sync::Arc::new(source),
    )))
}

#[cfg(not(feature = "aws"))]
async fn connect(
    _aws: AwsOptions,
) -> crate::Result<std::sync::Arc<dyn crate::remediate::RemediationTarget>> {
    Err(crate::Error::new(
        crate::ErrorKind::Unsupported,
        "this build has no AWS support: it cannot change keys",
    ))
}

/// Where to connect when there are no AWS options: nothing to configure.
#[cfg(not(feature = "aws"))]
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct AwsOptions {}

/// Without AWS, the options of the operations that would reach it have no AWS options: the
/// struct as written, its `Default`, and an `aws_options` that has nothing to give.
#[cfg(not(feature = "aws"))]
macro_rules! with_aws_options {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$field_meta:meta])*
                pub $field:ident: $type:ty $(= $default:expr)?,
            )*
        }
    ) => {
        $(#[$meta])*
        pub struct $name {
            $(
                $(#[$field_meta])*
                pub $field: $type,
            )*
        }

        impl Default for $name {
            fn default() -> Self {
                $name {
                    $($field: with_aws_options!(@default $($default)?),)*
                }
            }
        }

        impl $name {
            /// Nothing: this build has no AWS options.
            pub fn aws_options(&self, _regions: Vec<String>) -> crate::ops::AwsOptions {
                crate::ops::AwsOptions {}
            }
        }
    };
    (@default) => {
        Default::default()
    };
    (@default $default:expr) => {
        $default
    };
}

#[cfg(not(feature = "aws"))]
use with_aws_options;
