//! The AWS source: reads key records from AWS KMS with `aws-sdk-kms`.
//!
//! One read covers every account (the default credentials' own, or one assumed role per account)
//! times every region, concurrently. Within a region, keys are read as they are listed, at most
//! [`AwsOptions::concurrency_per_region`] at a time and under client-side [`RateLimits`] per
//! account, region and operation; the SDK's retries and a time budget
//! ([`AwsOptions::throttling_budget`]) absorb what throttling remains. Per-key failures stay on
//! the record (`errors`); a region that cannot be listed to its end (a failure, a truncated page
//! without a marker, a marker cycle) or that stops answering becomes a
//! [`ScopeError`](crate::source::ScopeError) with the keys read so far kept; and nothing short of
//! invalid options or an invalid scope fails the whole read.
//!
//! ```no_run
//! use kms_rotation::aws::{AwsOptions, AwsSource};
//! use kms_rotation::{KeySourceExt, ScanRequest};
//! # async fn run() -> kms_rotation::Result<()> {
//! let source = AwsSource::new(AwsOptions {
//!     regions: vec!["eu-west-1".into(), "us-east-1".into()],
//!     ..AwsOptions::default()
//! })
//! .await?;
//! let report = source.scan(&ScanRequest::default()).await?;
//! println!("compliant: {}", report.is_compliant());
//! # Ok(())
//! # }
//! ```

mod adaptive;
pub(crate) mod call;
pub(crate) mod client;
mod convert;
pub mod errors;
mod external_id;
mod identity;
pub(crate) mod limits;
mod options;
pub(crate) mod organization;
pub mod permissions;
mod progress;
mod read;
mod regions;
pub mod security_hub;
mod source;
mod target;

pub use call::REGION_UNRESPONSIVE;
pub use client::kms_client;
pub use external_id::ExternalId;
pub use limits::RateLimits;
pub use options::{AwsOptions, DEFAULT_THROTTLING_BUDGET};
pub(crate) use options::{role_account, with_aws_options};
pub use regions::REGION_NOT_ENABLED;
pub use source::AwsSource;
pub use target::AwsTarget;
