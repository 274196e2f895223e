//! `organization`: the accounts of the AWS organisation, as the list of accounts to read.
//!
//! Every listing is read to its last page, and a listing that fails (or pages in a loop) fails the
//! read: an organisation listed in part would pass as whole, and its missing accounts as clean.
//! The account the scan runs in is read with its own credentials (the management or delegated
//! administrator account rarely holds the member role); every other account through
//! `org_role_name`, assumed once up front so that a role that cannot be assumed is reported as a
//! scope error with its account id and AWS code, and the other accounts are still read.

use std::collections::BTreeSet;
use std::future::Future;

use aws_config::SdkConfig;
use aws_sdk_organizations::types::{AccountState, AccountStatus};
use futures::StreamExt;

use super::AwsOptions;
use super::client::{self, Target};
use super::errors::{REPEATED_MARKER, key_error, to_error};
use super::identity::Caller;
use super::permissions::Action;
use crate::source::ScopeError;
use crate::{Error, ErrorKind, Result};

/// The organisation's accounts to read, after `include_ous`, `exclude_ous` and
/// `exclude_accounts`, in id order.
pub(crate) async fn accounts(
    sdk: &SdkConfig,
    options: &AwsOptions,
    home_region: &str,
) -> Result<Vec<String>> {
    let client = client::organizations_client(sdk, home_region);
    let mut accounts = active_accounts(&client).await?;
    if !options.include_ous.is_empty() {
        let included = under_units(&client, "include_ous", &options.include_ous).await?;
        accounts.retain(|a| included.contains(a));
    }
    let excluded = under_units(&client, "exclude_ous", &options.exclude_ous).await?;
    accounts.retain(|a| !excluded.contains(a) && !options.exclude_accounts.contains(a));
    Ok(accounts.into_iter().collect())
}

/// The targets of `accounts`: `caller`'s own account with the base credentials, every other
/// through `org_role_name`, checked by assuming it once. A role that cannot be assumed is a
/// scope error for its account.
pub(crate) async fn targets(
    base: &SdkConfig,
    options: &AwsOptions,
    home_region: &str,
    caller: &Caller,
    accounts: &[String],
) -> (Vec<Target>, Vec<ScopeError>) {
    let sts = client::sts_client(base, home_region);
    let reach = Reach {
        base,
        options,
        home_region,
        caller,
        sts: &sts,
    };
    // Built before they are streamed: a closure inside the stream trips the compiler's Send
    // check for the boxed `async_trait` future of the read.
    let checks: Vec<_> = accounts.iter().map(|a| reach.target(a)).collect();
    let results: Vec<std::result::Result<Target, ScopeError>> = futures::stream::iter(checks)
        .buffered(options.max_concurrent_regions)
        .collect()
        .await;
    let mut targets = Vec::new();
    let mut errors = Vec::new();
    for result in results {
        match result {
            Ok(target) => targets.push(target),
            Err(error) => errors.push(error),
        }
    }
    (targets, errors)
}

/// The targets that send a report's findings to Security Hub (each account's own, as the scan
/// read them): the caller's account with the base credentials, every other through
/// `org_role_name`, assumed when first used. A role that cannot be assumed leaves its
/// account's findings counted as not imported.
pub(crate) async fn report_targets(
    base: &SdkConfig,
    options: &AwsOptions,
    home_region: &str,
    accounts: &BTreeSet<&str>,
) -> Result<Vec<Target>> {
    if accounts.is_empty() {
        return Ok(Vec::new());
    }
    let caller = super::identity::caller(base, home_region).await?;
    let role_name = options.org_role_name.as_deref().unwrap_or_default();
    let mut targets = Vec::with_capacity(accounts.len());
    for account in accounts {
        if *account == caller.account {
            targets.push(Target {
                account_id: Some(caller.account.clone()),
                sdk: base.clone(),
            });
            continue;
        }
        let role = format!("arn:{}:iam::{account}:role/{role_name}", caller.partition);
        targets.push(client::role_target(base, options, &role, Some(home_region)).await);
    }
    Ok(targets)
}

/// What reaching one account takes.
struct Reach<'a> {
    base: &'a SdkConfig,
    options: &'a AwsOptions,
    home_region: &'a str,
    caller: &'a Caller,
    sts: &'a aws_sdk_sts::Client,
}

impl Reach<'_> {
    /// `account`'s target: the base credentials for the caller's own account, else the role.
    async fn target(&self, account: &String) -> std::result::Result<Target, ScopeError> {
        if *account == self.caller.account {
            return Ok(Target {
                account_id: Some(account.clone()),
                sdk: self.base.clone(),
            });
        }
        let role_name = self.options.org_role_name.as_deref().unwrap_or_default();
        let role = format!(
            "arn:{}:iam::{account}:role/{role_name}",
            self.caller.partition
        );
        check_role(self.sts, self.options, &role, account).await?;
        Ok(client::role_target(self.base, self.options, &role, Some(self.home_region)).await)
    }
}

/// Assumes `role` once: the SDK's credentials provider would turn a refusal into a dispatch
/// failure of the account's first call, losing the AWS code.
async fn check_role(
    sts: &aws_sdk_sts::Client,
    options: &AwsOptions,
    role: &str,
    account: &str,
) -> std::result::Result<(), ScopeError> {
    let operation = Action::AssumeRole.operation();
    sts.assume_role()
        .role_arn(role)
        .role_session_name(options.session_name.clone())
        .set_external_id(
            options
                .external_id
                .as_ref()
                .map(|id| id.expose_secret().to_owned()),
        )
        .send()
        .await
        .map(|_| ())
        .map_err(|err| {
            let error = key_error(operation, &err);
            tracing::warn!(account, code = %error.code, "the organisation role could not be assumed");
            ScopeError {
                account_id: Some(account.to_owned()),
                region: None,
                operation: operation.to_owned(),
                code: error.code,
                message: format!("{role} could not be assumed: {}", error.message),
            }
        })
}

/// Every ACTIVE account (`ListAccounts`, every page). An account without a state is kept: it
/// is read, and fails visibly if it cannot be, rather than skipped unseen. An organisation
/// holds at least its management account: an empty listing is an error (an emulator or proxy
/// answering for an organisation that is not there), never an organisation with nothing to scan.
async fn active_accounts(client: &aws_sdk_organizations::Client) -> Result<BTreeSet<String>> {
    let accounts = pages(Action::ListAccounts, |token| async move {
        let page = client
            .list_accounts()
            .set_next_token(token)
            .send()
            .await
            .map_err(|err| to_error(Action::ListAccounts.operation(), err))?;
        let accounts = page.accounts().to_vec();
        Ok((accounts, page.next_token().map(str::to_owned)))
    })
    .await?;
    if accounts.is_empty() {
        return Err(Error::new(
            ErrorKind::Unexpected,
            "ListAccounts listed no account, not even the management account: the \
             organisation cannot be read",
        )
        .with_operation(Action::ListAccounts.operation()));
    }
    Ok(accounts
        .iter()
        .filter(|a| is_active(a))
        .filter_map(|a| a.id().map(str::to_owned))
        .collect())
}

fn is_active(account: &aws_sdk_organizations::types::Account) -> bool {
    // `Status` is retired in favour of `State`; emulators may still send only the former.
    match (account.state(), account.status()) {
        (Some(state), _) => *state == AccountState::Active,
        (None, Some(status)) => *status == AccountStatus::Active,
        (None, None) => true,
    }
}

/// The accounts in `units` (the option `field`) and every OU nested in them. A listing that
/// fails names the OU given.
async fn under_units(
    client: &aws_sdk_organizations::Client,
    field: &str,
    units: &[String],
) -> Result<BTreeSet<String>> {
    let mut accounts = BTreeSet::new();
    for (i, unit) in units.iter().enumerate() {
        let under = under_unit(client, unit)
            .await
            .map_err(|e| e.with_field(format!("{field}[{i}]")))?;
        accounts.extend(under);
    }
    Ok(accounts)
}

/// The accounts in `unit` and every OU nested in it (`ListAccountsForParent` and
/// `ListOrganizationalUnitsForParent`, every page).
async fn under_unit(
    client: &aws_sdk_organizations::Client,
    unit: &str,
) -> Result<BTreeSet<String>> {
    let mut accounts = BTreeSet::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut queue: Vec<String> = vec![unit.to_owned()];
    while let Some(unit) = queue.pop() {
        if !seen.insert(unit.clone()) {
            continue;
        }
        let parent = unit.as_str();
        let listed = pages(Action::ListAccountsForParent, |token| async move {
            let page = client
                .list_accounts_for_parent()
                .parent_id(parent)
                .set_next_token(token)
                .send()
                .await
                .map_err(|err| to_error(Action::ListAccountsForParent.operation(), err))?;
            let ids = page
                .accounts()
                .iter()
                .filter_map(|a| a.id().map(str::to_owned))
                .collect();
            Ok((ids, page.next_token().map(str::to_owned)))
        })
        .await?;
        accounts.extend(listed);
        let children = pages(
            Action::ListOrganizationalUnitsForParent,
            |token| async move {
                let page = client
                    .list_organizational_units_for_parent()
                    .parent_id(parent)
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(|err| {
                        to_error(Action::ListOrganizationalUnitsForParent.operation(), err)
                    })?;
                let ids = page
                    .organizational_units()
                    .iter()
                    .filter_map(|u| u.id().map(str::to_owned))
                    .collect();
                Ok((ids, page.next_token().map(str::to_owned)))
            },
        )
        .await?;
        queue.extend(children);
    }
    Ok(accounts)
}

/// Every item of a paginated listing: `page(token)` returns a page's items and next token. A
/// token already followed is an error (the listing would loop), never the end of the list.
async fn pages<T, F, Fut>(action: Action, mut page: F) -> Result<Vec<T>>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>)>>,
{
    let mut items = Vec::new();
    let mut followed = BTreeSet::new();
    let mut token = None;
    loop {
        let (mut got, next) = page(token).await?;
        items.append(&mut got);
        match next.filter(|t| !t.is_empty()) {
            None => return Ok(items),
            Some(next) if !followed.insert(next.clone()) => {
                return Err(Error::new(
                    ErrorKind::Unexpected,
                    "the listing returned a page token it had already returned: it would \
                     loop, and the organisation cannot be listed whole",
                )
                .with_operation(action.operation())
                .with_code(REPEATED_MARKER));
            }
            Some(next) => token = Some(next),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_organizations::types::Account;

    #[test]
    fn only_active_accounts_are_read_state_first_then_status() {
        let account = |state: Option<AccountState>, status: Option<AccountStatus>| {
            Account::builder()
                .id("111122223333")
                .set_state(state)
                .set_status(status)
                .build()
        };
        assert!(is_active(&account(Some(AccountState::Active), None)));
        assert!(!is_active(&account(
            Some(AccountState::Suspended),
            Some(AccountStatus::Active)
        )));
        assert!(!is_active(&account(
            Some(AccountState::PendingClosure),
            None
        )));
        assert!(is_active(&account(None, Some(AccountStatus::Active))));
        assert!(!is_active(&account(None, Some(AccountStatus::Suspended))));
        // Neither said: read, and failing visibly if it cannot be, rather than skipped unseen.
        assert!(is_active(&account(None, None)));
    }

    #[tokio::test]
    async fn pages_are_followed_to_the_end_and_a_loop_is_an_error() {
        let all = pages(Action::ListAccounts, |token: Option<String>| async move {
            Ok(match token.as_deref() {
                None => (vec![1], Some("a".to_owned())),
                Some("a") => (vec![2], Some("b".to_owned())),
                _ => (vec![3], None),
            })
        })
        .await
        .unwrap();
        assert_eq!(all, [1, 2, 3]);
        let err = pages(Action::ListAccounts, |_| async move {
            Ok((vec![1], Some("same".to_owned())))
        })
        .await
        .unwrap_err();
        assert_eq!(err.context().code.as_deref(), Some(REPEATED_MARKER));
    }
}
