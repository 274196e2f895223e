//! `evaluate`: judge key records already in memory. Pure: no I/O, no runtime.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::scan::under;
use crate::model::KeyRecord;
use crate::source::KeySource;
use crate::{MemorySource, Policy, Report, ReportScope, Result, ScanRequest};

/// Options of [`evaluate`].
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct EvaluateOptions {
    /// The key records (the inventory format's `keys`).
    pub records: Vec<KeyRecord>,
    /// The policy; the default policy when absent.
    pub policy: Option<Policy>,
    /// Evaluate as of this time (RFC 3339); the clock when absent.
    pub now: Option<DateTime<Utc>>,
}

/// One finding per key, in a report of the `memory` source: the same report a scan of these
/// records gives. A record listed twice is reported once; two different records for one key
/// are an error.
pub fn evaluate(options: EvaluateOptions) -> Result<Report> {
    let policy = options.policy.unwrap_or_default();
    policy.validate().map_err(|e| under("policy", e))?;
    let now = options.now.unwrap_or_else(Utc::now);
    let request = ScanRequest {
        policy,
        now: Some(now),
        ..ScanRequest::default()
    };
    let source = MemorySource::new(options.records);
    let name = source.name().to_owned();
    let collected = source.into_collected(&request.read_request())?;
    let scope = ReportScope {
        source: name,
        accounts: collected.accounts,
        regions: collected.regions,
        shard: None,
    };
    // The caller gave the records away: their evidence moves into the findings.
    Ok(Report::from_records(
        collected.records,
        request.policy,
        scope,
        collected.scope_errors,
        now,
    ))
}
