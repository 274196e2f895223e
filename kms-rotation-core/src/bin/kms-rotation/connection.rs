//! How the CLI reaches AWS: the flags `scan`, `plan`, `apply` and `rollback` share. Each flag's
//! field is named after the core's option (`kms_rotation::ops::AwsOptions`), so the flags turn
//! into the core's options by serialization alone: no value is decided or checked here.

use std::path::PathBuf;

use clap::Args;
use kms_rotation::aws::ExternalId;
use kms_rotation::ops::AwsOptions;
use serde::{Serialize, Serializer};

#[derive(Debug, Clone, Args, Serialize)]
pub struct ConnectionArgs {
    /// Scan every region enabled for the account (needs account:ListRegions). With --region,
    /// only those, each checked to be enabled.
    #[arg(long)]
    all_regions: bool,

    /// A named profile from the shared AWS config files.
    #[arg(long, value_name = "NAME")]
    #[serde(skip_serializing_if = "Option::is_none")]
    profile: Option<String>,

    /// A role to assume, one per account (repeatable): scans every account given.
    #[arg(long = "role-arn", value_name = "ARN")]
    role_arns: Vec<String>,

    /// Scan every ACTIVE account of the AWS organisation (organizations:ListAccounts, from the
    /// management or a delegated administrator account), each through --org-role-name; the
    /// account it runs in with its own credentials. Scans only.
    #[arg(long)]
    organization: bool,

    /// With --organization: the role to assume in each account (with --external-id).
    #[arg(long, value_name = "NAME")]
    #[serde(skip_serializing_if = "Option::is_none")]
    org_role_name: Option<String>,

    /// With --organization: only the accounts of this OU and the OUs nested in it (repeatable).
    #[arg(long = "include-ou", value_name = "OU_ID")]
    include_ous: Vec<String>,

    /// With --organization: not the accounts of this OU and the OUs nested in it (repeatable).
    #[arg(long = "exclude-ou", value_name = "OU_ID")]
    exclude_ous: Vec<String>,

    /// With --organization: not this account (repeatable). Named apart from plan's
    /// --exclude-account, which keeps an account's keys out of the plan.
    #[arg(long = "org-exclude-account", value_name = "ACCOUNT_ID")]
    // The core's name: errors about it are turned back into this flag by
    // `options::RENAMED_FIELDS`.
    #[serde(rename = "exclude_accounts")]
    org_exclude_accounts: Vec<String>,

    /// The external id the roles require. Visible to other users in the process list: prefer
    /// the environment variable or --external-id-file.
    #[arg(
        long,
        value_name = "ID",
        env = "KMS_ROTATION_EXTERNAL_ID",
        // --help would otherwise print the variable's value.
        hide_env_values = true,
        // Wrapped as given, so that clap's own errors never quote it; the core checks it with
        // a message that does not repeat it.
        value_parser = external_id_arg,
    )]
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "expose")]
    external_id: Option<ExternalId>,

    /// Read the external id from this file (its trailing line break dropped), e.g. a mounted
    /// secret. Not with --external-id or KMS_ROTATION_EXTERNAL_ID.
    #[arg(long, value_name = "FILE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    external_id_file: Option<PathBuf>,

    /// Send every AWS call to this URL (emulators). AWS_ENDPOINT_URL(_KMS) work too.
    #[arg(long, value_name = "URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    endpoint_url: Option<String>,

    /// Attempts per call, retries included.
    #[arg(long, value_name = "N", default_value_t = AwsOptions::default().max_attempts)]
    max_attempts: u32,

    /// How long a throttled call may go on being retried, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = AwsOptions::default().throttling_budget.as_millis() as u64)]
    throttling_budget_ms: u64,

    /// Keys read at once per account and region.
    #[arg(long = "read-concurrency", value_name = "N", default_value_t = AwsOptions::default().concurrency_per_region)]
    concurrency_per_region: usize,

    /// A client-side rate cap in requests/s, as OPERATION=RPS (repeatable). Operations:
    /// describe-key, get-key-rotation-status, list-keys, list-aliases, list-resource-tags,
    /// list-key-rotations, get-key-policy, list-grants. Defaults: the KMS quotas; each rate
    /// slows down when throttled and climbs back, never past its cap.
    #[arg(long = "rate", value_name = "OP=RPS")]
    rates: Vec<String>,
}

fn external_id_arg(value: &str) -> std::result::Result<ExternalId, std::convert::Infallible> {
    Ok(ExternalId::from(value))
}

/// The one place the CLI hands the external id on: into the core's options, in memory.
fn expose<S: Serializer>(id: &Option<ExternalId>, serializer: S) -> Result<S::Ok, S::Error> {
    id.as_ref()
        .map(ExternalId::expose_secret)
        .serialize(serializer)
}
