//! `--security-hub`: the report's findings into AWS Security Hub, after the report is written.

use clap::Args;
use kms_rotation::ops::{self, SecurityHubOptions};
use kms_rotation::{Report, Result};
use serde::Serialize;

use crate::connection::ConnectionArgs;
use crate::options::from_flags;
use crate::output::note;

#[derive(Debug, Args, Serialize)]
pub struct SecurityHubArgs {
    /// Also send the findings to AWS Security Hub (BatchImportFindings, as ASFF; keys that
    /// pass archive their earlier finding), each account's with that account's credentials.
    /// Exit 3 when Security Hub does not take them all.
    #[arg(long)]
    #[serde(skip)]
    security_hub: bool,

    /// The Security Hub region every finding goes to (default: each key's own region).
    #[arg(long, value_name = "REGION", requires = "security_hub")]
    #[serde(rename = "region", skip_serializing_if = "Option::is_none")]
    security_hub_region: Option<String>,

    /// A role to send with instead of the scan's credentials; Security Hub takes a finding only
    /// from its own account, so the role must be in the account of every finding.
    #[arg(long, value_name = "ARN", requires = "security_hub")]
    #[serde(rename = "role_arn", skip_serializing_if = "Option::is_none")]
    security_hub_role_arn: Option<String>,
}

impl SecurityHubArgs {
    /// The core's options, checked, when --security-hub is given; the report is added later.
    pub fn options(
        &self,
        connection: &ConnectionArgs,
        allow_unknown_region: bool,
    ) -> Result<Option<SecurityHubOptions>> {
        if !self.security_hub {
            return Ok(None);
        }
        #[derive(Serialize)]
        struct Flags<'a> {
            #[serde(flatten)]
            hub: &'a SecurityHubArgs,
            #[serde(flatten)]
            connection: &'a ConnectionArgs,
            allow_unknown_region: bool,
        }
        let options: SecurityHubOptions = from_flags(
            &Flags {
                hub: self,
                connection,
                allow_unknown_region,
            },
            |flags| {
                // Which regions to scan is the scan's business, not the send's.
                flags.remove("all_regions");
            },
        )?;
        options.check().map_err(rename_fields)?;
        Ok(Some(options))
    }
}

/// The core's field names as this command's flags.
fn rename_fields(err: kms_rotation::Error) -> kms_rotation::Error {
    let flag = match err.context().field.as_deref() {
        Some("region") => "--security-hub-region",
        Some("role_arn") => "--security-hub-role-arn",
        _ => return err,
    };
    err.with_field(flag)
}

/// Sends `report`'s findings; says on stderr what Security Hub took and what it did not (even
/// with --quiet: a failure is not a summary). False when it did not take them all.
pub async fn send(mut options: SecurityHubOptions, report: Report, quiet: bool) -> Result<bool> {
    options.report = Some(report);
    let outcome = ops::send_to_security_hub(options).await?;
    if !quiet || !outcome.complete {
        note(format_args!(
            "Security Hub: {} of {} findings imported in {} calls{}",
            outcome.imported,
            outcome.findings,
            outcome.calls,
            if outcome.complete {
                String::new()
            } else {
                format!("; {} NOT imported", outcome.failed.len())
            }
        ));
    }
    for failed in &outcome.failed {
        note(format_args!(
            "kms-rotation: error: Security Hub did not take the finding of {} (account {}, \
             region {}): {}: {}",
            failed.arn, failed.account_id, failed.region, failed.code, failed.message
        ));
    }
    Ok(outcome.complete)
}
