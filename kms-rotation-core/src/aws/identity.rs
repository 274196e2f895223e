//! Who the base credentials are: STS `GetCallerIdentity`, for the account the scan runs in
//! (`organization`) and for the default credentials' account when a shard must be chosen before
//! any key is listed.

use aws_config::SdkConfig;

use super::client::sts_client;
use super::errors::to_error;
use super::permissions::Action;
use crate::{Error, ErrorKind, Result};

/// The account and partition of the credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Caller {
    /// The account id, 12 digits.
    pub(crate) account: String,
    /// The partition (`aws`, `aws-cn`, `aws-us-gov`), for role ARNs in the same partition.
    pub(crate) partition: String,
}

/// Asks STS who `sdk`'s credentials are. A failure is the read's error: what the credentials are
/// cannot be guessed.
pub(crate) async fn caller(sdk: &SdkConfig, home_region: &str) -> Result<Caller> {
    let action = Action::GetCallerIdentity;
    let reply = sts_client(sdk, home_region)
        .get_caller_identity()
        .send()
        .await
        .map_err(|err| to_error(action.operation(), err))?;
    let unreadable = || {
        Error::new(
            ErrorKind::Unexpected,
            "GetCallerIdentity named no account or ARN: the credentials' account is unknown",
        )
        .with_operation(action.operation())
    };
    let account = reply.account().ok_or_else(unreadable)?.to_owned();
    let partition = reply
        .arn()
        .and_then(|arn| arn.split(':').nth(1))
        .filter(|p| !p.is_empty())
        .ok_or_else(unreadable)?
        .to_owned();
    if !super::options::is_account_id(&account) {
        return Err(unreadable());
    }
    Ok(Caller { account, partition })
}
