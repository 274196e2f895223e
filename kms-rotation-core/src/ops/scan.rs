//! `scan`: read keys from one source, evaluate them, report.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{AwsOptions, with_aws_options};
use crate::model::{Inventory, KeyRecord};
use crate::source::{Need, ProgressFn};
use crate::{
    CloudFormationSource, Error, InventorySource, KeySource, KeySourceExt, MemorySource, Policy,
    Report, Result, ScanRequest, Scope, TerraformPlanSource,
};

with_aws_options! {
    /// Options of [`scan`]. The source is the one of `records`, `inventory`, `terraform_plan`
    /// and `cloudformation` given (at most one), else AWS (with the AWS options, which the
    /// other sources refuse).
    #[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
    #[serde(default, deny_unknown_fields)]
    pub struct ScanOptions {
        /// Key records in memory (the inventory format's `keys`).
        pub records: Option<Vec<KeyRecord>>,
        /// An inventory file (JSON, or YAML by extension).
        pub inventory: Option<PathBuf>,
        /// A Terraform plan in JSON (`terraform show -json PLANFILE`): its KMS keys, judged
        /// before apply.
        #[serde(alias = "terraformPlan")]
        pub terraform_plan: Option<PathBuf>,
        /// CloudFormation templates (JSON or YAML): their KMS keys, judged before deploy.
        pub cloudformation: Vec<PathBuf>,
        /// A policy document; the default policy when neither it nor `policy_file` is given.
        pub policy: Option<Policy>,
        /// A policy file (JSON or YAML), instead of `policy`.
        #[serde(alias = "policyFile")]
        pub policy_file: Option<PathBuf>,
        /// Exceptions files (`{"exceptions": [...]}`), added to the policy's exceptions.
        pub exceptions: Vec<PathBuf>,
        /// Only these regions. Checked against the known AWS regions unless
        /// `allow_unknown_region` (a typo would scan nothing and pass). For AWS: the regions to
        /// read (default: the configured region, or every enabled one with `all_regions`).
        pub regions: Vec<String>,
        /// Only these accounts (12 digits). One that is never read is a scope error.
        pub accounts: Vec<String>,
        /// Read only one part of the account and region pairs, `INDEX/COUNT` counted from 0
        /// (`0/4` to `3/4`): a stable split (FNV-1a of `ACCOUNT:REGION`), the same in every
        /// process, so that `COUNT` scans with the same options cover every pair once and
        /// `merge` makes one report of them. The report's scope records the shard.
        pub shard: Option<crate::source::Shard>,
        /// Accept region names this release does not know (new regions, emulators).
        #[serde(alias = "allowUnknownRegion")]
        pub allow_unknown_region: bool,
        /// Evaluate as of this time (RFC 3339); the clock when absent.
        pub now: Option<DateTime<Utc>>,
        /// Read every key's tags, not only where an exception or priority may match by tag.
        #[serde(alias = "allTags")]
        pub all_tags: bool,
        /// Read each key's last rotation (ListKeyRotations; its quota is 100/s).
        #[serde(alias = "rotationHistory")]
        pub rotation_history: bool,
        /// When to read who beyond the account may use a key (GetKeyPolicy and ListGrants;
        /// AWS only): `when_failing` (the default: the plan fixes exposed keys first), `always`,
        /// or `never`. A read that fails leaves the exposure `unknown`, never `account`.
        pub exposure: Need = Need::WhenFailing,
        /// Also save the key records read as an inventory file (atomically): scanning it
        /// reproduces the same findings offline.
        #[serde(alias = "saveInventory")]
        pub save_inventory: Option<PathBuf>,
    }
}

impl ScanOptions {
    /// The policy these options name: the document or file, plus the exceptions files.
    pub fn load_policy(&self) -> Result<Policy> {
        let mut policy = match (&self.policy, &self.policy_file) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid_input(
                    "give a policy document or a policy file, not both",
                )
                .with_field("policy_file"));
            }
            (Some(policy), None) => {
                policy.validate().map_err(|e| under("policy", e))?;
                policy.clone()
            }
            (None, Some(path)) => Policy::from_file(path)?,
            (None, None) => Policy::default(),
        };
        for path in &self.exceptions {
            policy.add_exceptions_file(path)?;
        }
        Ok(policy)
    }

    /// The scope, checked: account ids, region names (known ones unless allowed).
    pub fn scope(&self) -> Result<Scope> {
        if !self.allow_unknown_region {
            crate::regions::check_known(&self.regions)?;
        }
        let scope = Scope {
            accounts: self.accounts.clone(),
            regions: self.regions.clone(),
            shard: self.shard,
            keys: Vec::new(),
        };
        scope.validate().map_err(|e| {
            // The scope's fields are the options' own.
            match e.context().field.clone() {
                Some(field) => e.with_field(field.trim_start_matches("scope.").to_owned()),
                None => e,
            }
        })?;
        Ok(scope)
    }

    /// Whether the keys are read from AWS: no records, inventory, plan or templates are given.
    pub fn reads_aws(&self) -> bool {
        self.local_sources().is_empty()
    }

    /// The options naming a source other than AWS that are given.
    fn local_sources(&self) -> Vec<&'static str> {
        [
            ("records", self.records.is_some()),
            ("inventory", self.inventory.is_some()),
            ("terraform_plan", self.terraform_plan.is_some()),
            ("cloudformation", !self.cloudformation.is_empty()),
        ]
        .into_iter()
        .filter_map(|(name, given)| given.then_some(name))
        .collect()
    }

    /// At most one source other than AWS.
    fn check_one_source(&self) -> Result<()> {
        let given = self.local_sources();
        if let [_, second, ..] = given.as_slice() {
            return Err(Error::invalid_input(format!(
                "give one source of keys, not {}",
                given.join(" and ")
            ))
            .with_field(*second));
        }
        Ok(())
    }

    /// The source these options name. Everything is checked first; no call is made.
    pub async fn source(&self) -> Result<Box<dyn KeySource>> {
        self.check_one_source()?;
        let local: Option<Box<dyn KeySource>> = if let Some(records) = &self.records {
            Some(Box::new(MemorySource::new(records.clone())))
        } else if let Some(path) = &self.inventory {
            Some(Box::new(InventorySource::from_path(path)?))
        } else if let Some(path) = &self.terraform_plan {
            Some(Box::new(TerraformPlanSource::from_path(path)?))
        } else if !self.cloudformation.is_empty() {
            Some(Box::new(CloudFormationSource::from_paths(
                &self.cloudformation,
            )?))
        } else {
            None
        };
        match local {
            Some(source) => {
                self.refuse_aws_options()?;
                Ok(source)
            }
            None => self.aws_source().await,
        }
    }

    fn refuse_aws_options(&self) -> Result<()> {
        if self.aws_options(Vec::new()) != AwsOptions::default() {
            return Err(Error::invalid_input(
                "AWS options apply to scans of AWS, not of records, an inventory, a plan or \
                 templates",
            )
            .with_field(self.local_sources().first().copied().unwrap_or("records")));
        }
        Ok(())
    }

    #[cfg(feature = "aws")]
    async fn aws_source(&self) -> Result<Box<dyn KeySource>> {
        let options = self.aws_options(self.regions.clone());
        Ok(Box::new(crate::aws::AwsSource::new(options).await?))
    }

    #[cfg(not(feature = "aws"))]
    async fn aws_source(&self) -> Result<Box<dyn KeySource>> {
        Err(Error::new(
            crate::ErrorKind::Unsupported,
            "this build has no AWS support: give key records or an inventory file",
        ))
    }
}

/// Reads the keys of the source `options` name, evaluates them and reports. Every option is
/// checked before the source is touched; `progress` hears of the read as it goes.
pub async fn scan(options: ScanOptions, progress: Option<ProgressFn>) -> Result<Report> {
    scan_keys(options, Vec::new(), progress).await
}

/// [`scan`] of only the keys `keys` (ARNs; empty: every key), as `event` re-checks the keys a
/// call touched without reading their regions whole.
pub(crate) async fn scan_keys(
    options: ScanOptions,
    keys: Vec<String>,
    progress: Option<ProgressFn>,
) -> Result<Report> {
    let policy = options.load_policy()?;
    let mut scope = options.scope()?;
    scope.keys = keys;
    scope.validate()?;
    let request = ScanRequest {
        scope,
        policy,
        now: options.now,
        all_tags: options.all_tags,
        rotation_history: options.rotation_history,
        exposure: options.exposure,
        progress,
    };
    // An inventory file is read as it is evaluated, one record at a time (flat memory), unless
    // its records are to be saved again.
    if let (None, Some(path), None) = (
        &options.records,
        &options.inventory,
        &options.save_inventory,
    ) {
        options.check_one_source()?;
        options.refuse_aws_options()?;
        return InventorySource::scan_file(path, &request);
    }
    let source = options.source().await?;
    let Some(path) = &options.save_inventory else {
        return source.scan(&request).await;
    };
    let (report, records) = source.scan_with_records(&request).await?;
    super::files::write_json(path, &Inventory::new(records))?;
    Ok(report)
}

/// `error` about a value given under `name`: its field path starts there.
pub(crate) fn under(name: &str, error: Error) -> Error {
    let field = match error.context().field.as_deref() {
        Some(inner) if inner.starts_with('[') => format!("{name}{inner}"),
        Some(inner) => format!("{name}.{inner}"),
        None => name.to_owned(),
    };
    error.with_field(field)
}
