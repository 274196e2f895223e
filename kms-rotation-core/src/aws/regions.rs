//! Which regions to read in an account.
//!
//! Regions launched since 2019 are opt-in; a call to a region that is not enabled fails with an
//! authentication error that does not say why (`kms-api.md` §6). With `all_regions`, the
//! account's enabled regions come from Account `ListRegions`, and a region asked for that is not
//! enabled becomes a scope error that says so.

use aws_sdk_account::types::RegionOptStatus;

use super::client::{Target, account_client};
use super::errors;
use super::permissions::Action;
use crate::source::ScopeError;

/// The operation name in scope errors about region discovery.
pub(crate) const LIST_REGIONS: &str = Action::ListRegions.operation();
/// The code of a scope error for a region that is not enabled in the account.
pub const REGION_NOT_ENABLED: &str = "RegionNotEnabled";

/// The regions to read in one account, and the scope errors met choosing them.
#[derive(Debug, Default)]
pub(crate) struct RegionPlan {
    pub(crate) regions: Vec<String>,
    pub(crate) errors: Vec<ScopeError>,
}

/// Plans the regions of `target`.
///
/// `wanted` is the explicit list (empty: every enabled region, which needs `all_regions`).
/// Without `all_regions`, the explicit list is read as given: checking it would need
/// `account:ListRegions`, which a read-only scanner role may not have.
pub(crate) async fn plan(
    target: &Target,
    wanted: &[String],
    all_regions: bool,
    home_region: &str,
) -> RegionPlan {
    if !all_regions {
        return RegionPlan {
            regions: wanted.to_vec(),
            errors: Vec::new(),
        };
    }
    let enabled = match enabled_regions(target, home_region).await {
        Ok(enabled) => enabled,
        Err(error) => {
            // The account's regions are unknown: read what was asked for by name, if anything,
            // and report the account incomplete.
            return RegionPlan {
                regions: wanted.to_vec(),
                errors: vec![error],
            };
        }
    };
    if wanted.is_empty() {
        return RegionPlan {
            regions: enabled,
            errors: Vec::new(),
        };
    }
    let mut plan = RegionPlan::default();
    for region in wanted {
        if enabled.contains(region) {
            plan.regions.push(region.clone());
        } else {
            plan.errors.push(ScopeError {
                account_id: target.account_id.clone(),
                region: Some(region.clone()),
                operation: LIST_REGIONS.to_owned(),
                code: REGION_NOT_ENABLED.to_owned(),
                message: format!("region {region} is not enabled for this account"),
            });
        }
    }
    plan
}

/// The regions whose status is `ENABLED` or `ENABLED_BY_DEFAULT`, in the order AWS lists them.
async fn enabled_regions(target: &Target, home_region: &str) -> Result<Vec<String>, ScopeError> {
    let client = account_client(&target.sdk, home_region);
    let mut regions = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .list_regions()
            .max_results(50)
            .region_opt_status_contains(RegionOptStatus::Enabled)
            .region_opt_status_contains(RegionOptStatus::EnabledByDefault)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|err| {
                let error = errors::key_error(LIST_REGIONS, &err);
                ScopeError {
                    account_id: target.account_id.clone(),
                    region: None,
                    operation: LIST_REGIONS.to_owned(),
                    code: error.code,
                    message: error.message,
                }
            })?;
        for region in page.regions() {
            // Filtered again here: the filter is a request, and ENABLING/DISABLING regions
            // cannot be read reliably.
            let enabled = matches!(
                region.region_opt_status(),
                Some(RegionOptStatus::Enabled | RegionOptStatus::EnabledByDefault)
            );
            if let (true, Some(name)) = (enabled, region.region_name()) {
                regions.push(name.to_owned());
            }
        }
        match page.next_token() {
            Some(next) if !next.is_empty() && token.as_deref() != Some(next) => {
                token = Some(next.to_owned());
            }
            _ => break,
        }
    }
    Ok(regions)
}
