//! How the CLI reaches AWS: the options `scan`, `apply` and `rollback` share.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use kms_rotation::remediate::RemediationTarget;
use kms_rotation::remediate::aws::AwsTarget;
use kms_rotation::source::aws::{AwsOptions, AwsSource, ExternalId, RateLimits};
use kms_rotation::{Error, Result};

#[derive(Debug, Clone, Args)]
pub struct ConnectionArgs {
    /// Scan every region enabled for the account (needs account:ListRegions). With --region,
    /// only those, each checked to be enabled.
    #[arg(long)]
    all_regions: bool,

    /// A named profile from the shared AWS config files.
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,

    /// A role to assume, one per account (repeatable): scans every account given.
    #[arg(long = "role-arn", value_name = "ARN")]
    role_arns: Vec<String>,

    /// The external id the roles require. Visible to other users in the process list: prefer
    /// the environment variable or --external-id-file.
    #[arg(
        long,
        value_name = "ID",
        env = "KMS_ROTATION_EXTERNAL_ID",
        // --help would otherwise print the variable's value.
        hide_env_values = true,
        // Wrapped as given, so that clap's own errors never quote it; checked with the other
        // options, by a message that does not repeat it.
        value_parser = external_id_arg,
    )]
    external_id: Option<ExternalId>,

    /// Read the external id from this file (its trailing line break dropped), e.g. a mounted
    /// secret. Not with --external-id or KMS_ROTATION_EXTERNAL_ID.
    #[arg(long, value_name = "FILE")]
    external_id_file: Option<PathBuf>,

    /// Send every AWS call to this URL (emulators). AWS_ENDPOINT_URL(_KMS) work too.
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,

    /// Attempts per call, retries included (adaptive retries).
    #[arg(long, value_name = "N", default_value_t = AwsOptions::default().max_attempts)]
    max_attempts: u32,

    /// Keys read at once per account and region.
    #[arg(long, value_name = "N", default_value_t = AwsOptions::default().concurrency_per_region)]
    read_concurrency: usize,

    /// A client-side rate limit in requests/s, as OPERATION=RATE (repeatable). Operations:
    /// describe-key, get-key-rotation-status, list-keys, list-aliases, list-resource-tags,
    /// list-key-rotations. Defaults: about 80% of the KMS quotas.
    #[arg(long = "rate", value_name = "OP=RPS")]
    rates: Vec<String>,
}

impl ConnectionArgs {
    /// The AWS source's options for these flags and `regions`.
    pub fn aws_options(&self, regions: &[String]) -> Result<AwsOptions> {
        let mut rate_limits = RateLimits::default();
        for rate in &self.rates {
            set_rate(&mut rate_limits, rate)?;
        }
        let options = AwsOptions {
            regions: regions.to_vec(),
            all_regions: self.all_regions,
            profile: self.profile.clone(),
            role_arns: self.role_arns.clone(),
            external_id: self.external_id()?,
            endpoint_url: self.endpoint_url.clone(),
            max_attempts: self.max_attempts,
            concurrency_per_region: self.read_concurrency,
            rate_limits,
            ..AwsOptions::default()
        };
        // Safe to log: the external id's Debug is redacted (tests/cli_secrets.rs checks).
        tracing::debug!(?options, "AWS options");
        Ok(options)
    }

    /// The external id from the flag, the environment or the file; two of them is an error,
    /// since which one was meant cannot be known.
    fn external_id(&self) -> Result<Option<ExternalId>> {
        match (&self.external_id, &self.external_id_file) {
            (Some(_), Some(_)) => Err(Error::invalid_input(
                "the external id is given twice, by --external-id (or KMS_ROTATION_EXTERNAL_ID) \
                 and by --external-id-file: give one",
            )
            .with_field("--external-id-file")),
            (Some(id), None) => Ok(Some(id.clone())),
            (None, Some(path)) => ExternalId::from_file(path).map(Some),
            (None, None) => Ok(None),
        }
    }
}

fn external_id_arg(value: &str) -> std::result::Result<ExternalId, std::convert::Infallible> {
    Ok(ExternalId::from(value))
}

impl ConnectionArgs {
    /// The AWS source for `regions`. Checks the options; makes no AWS call.
    pub async fn source(&self, regions: &[String]) -> Result<AwsSource> {
        AwsSource::new(self.aws_options(regions)?).await
    }

    /// The AWS remediation target for keys in `regions`. Makes no AWS call.
    pub async fn target(&self, regions: Vec<String>) -> Result<Arc<dyn RemediationTarget>> {
        let source = self.source(&regions).await?;
        Ok(Arc::new(AwsTarget::from_source(Arc::new(source))))
    }
}

fn set_rate(limits: &mut RateLimits, rate: &str) -> Result<()> {
    let bad = |why: &str| {
        Error::invalid_input(format!(
            "`{rate}`: {why}; expected OPERATION=REQUESTS_PER_SECOND"
        ))
        .with_field("--rate")
    };
    let (operation, value) = rate.split_once('=').ok_or_else(|| bad("no `=`"))?;
    let value: u32 = value
        .parse()
        .map_err(|_| bad("the rate is not a whole number"))?;
    let slot = match operation {
        "describe-key" => &mut limits.describe_key,
        "get-key-rotation-status" => &mut limits.get_key_rotation_status,
        "list-keys" => &mut limits.list_keys,
        "list-aliases" => &mut limits.list_aliases,
        "list-resource-tags" => &mut limits.list_resource_tags,
        "list-key-rotations" => &mut limits.list_key_rotations,
        _ => return Err(bad("unknown operation")),
    };
    *slot = value;
    Ok(())
}
