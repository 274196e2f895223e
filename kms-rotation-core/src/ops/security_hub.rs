//! `send_to_security_hub`: a report's findings, as ASFF, into AWS Security Hub.

use serde::Deserialize;

use super::scan::under;
use super::{AwsOptions, with_aws_options};
use crate::aws::security_hub::{self, SecurityHubOutcome};
use crate::aws::{client, role_account};
use crate::regions::check_name;
use crate::{Error, Report, Result};

with_aws_options! {
    /// Options of [`send_to_security_hub`]. The AWS options are the scan's: each account's
    /// findings are sent with that account's credentials (the default ones, or its role in
    /// `role_arns`), because Security Hub takes a finding only from the account it is about.
    #[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
    #[serde(default, deny_unknown_fields)]
    pub struct SecurityHubOptions {
        /// The report whose findings are sent (every finding: passing keys archive what an
        /// earlier import said about them). Rechecked first, as `plan` rechecks a report: a
        /// verdict that its evidence does not give is refused.
        pub report: Option<Report>,
        /// The Security Hub region every finding goes to (an aggregation region, say);
        /// default: each key's own region.
        pub region: Option<String>,
        /// A role to send with instead of the scan's credentials. Security Hub takes a finding
        /// only from its own account, so every finding must be about the role's account.
        #[serde(alias = "roleArn")]
        pub role_arn: Option<String>,
        /// Accept a `region` this release does not know (new regions, emulators).
        #[serde(alias = "allowUnknownRegion")]
        pub allow_unknown_region: bool,
    }
}

impl SecurityHubOptions {
    /// Checks every option but the report: a program (the CLI) can check them before the scan
    /// that makes the report.
    pub fn check(&self) -> Result<()> {
        if let Some(region) = &self.region {
            if self.allow_unknown_region {
                check_name(region)
            } else {
                crate::regions::check_known(std::slice::from_ref(region))
            }
            .map_err(|e| e.with_field("region"))?;
        }
        if let Some(role) = &self.role_arn {
            role_account(role).ok_or_else(|| {
                Error::invalid_input(format!(
                    "`{role}` is not an IAM role ARN; expected arn:aws:iam::ACCOUNT:role/NAME"
                ))
                .with_field("role_arn")
            })?;
        }
        self.aws_options(Vec::new()).validate()
    }
}

/// Sends the findings of `options.report`; the outcome counts what Security Hub took and lists
/// what it did not. Options are checked before any call.
pub async fn send_to_security_hub(mut options: SecurityHubOptions) -> Result<SecurityHubOutcome> {
    options.check()?;
    // A report is a file a user may have edited: what it says about a key is recomputed from
    // its evidence (an edited verdict is refused) before Security Hub is told anything.
    let report = (options.report.take())
        .ok_or_else(|| Error::invalid_input("give the report to send").with_field("report"))?
        .rechecked()
        .map_err(|e| under("report", e))?;
    let report = &report;
    // A key declared in code is not deployed: it has no account, and its `arn` is FILE#ADDRESS.
    // Security Hub would refuse each one as from an unknown partition; say why instead.
    if let Some((i, finding)) =
        (report.findings.iter().enumerate()).find(|(_, f)| f.location.is_some())
    {
        return Err(Error::invalid_input(format!(
            "`{}` is a key declared in code, not a deployed one: Security Hub takes findings \
             only about keys in an AWS account; send the findings of a scan of the accounts",
            finding.arn
        ))
        .with_field(format!("report.findings[{i}].location")));
    }
    let mut aws: AwsOptions = options.aws_options(Vec::new());
    if let Some(role) = &options.role_arn {
        let account = role_account(role).unwrap_or_default();
        if let Some((i, other)) =
            (report.findings.iter().enumerate()).find(|(_, f)| f.account_id != account)
        {
            return Err(Error::invalid_input(format!(
                "the report has findings about account {}, but the role is in {account}: \
                 Security Hub takes a finding only from its own account; send without role_arn \
                 (each account's findings with the scan's credentials for it)",
                other.account_id
            ))
            .with_field(format!("report.findings[{i}].account_id")));
        }
        aws.role_arns = vec![role.clone()];
    }
    let aws = aws.with_external_id_file()?;
    let base = client::load_base(&aws).await;
    // STS (for roles) needs a region even when the configuration names none.
    let home =
        (options.region.as_deref()).or_else(|| report.findings.first().map(|f| f.region.as_str()));
    let targets = match home {
        // The accounts are the report's: each through `org_role_name`, as the scan read them.
        Some(home) if aws.organization => {
            let accounts = report
                .findings
                .iter()
                .map(|f| f.account_id.as_str())
                .collect();
            crate::aws::organization::report_targets(&base, &aws, home, &accounts).await?
        }
        _ => client::targets(&base, &aws, home).await,
    };
    Ok(
        security_hub::send(report, options.region.as_deref(), |account| {
            security_hub::credentials_for(&targets, account)
        })
        .await,
    )
}
