//! Merging the reports of a scan split over several processes (a scheduler's matrix, one part
//! per set of accounts or regions) into the one report a single scan would have made.
//!
//! Fails closed: parts judged under different policies, parts that overlap (the same account
//! and region, hence the same keys, in two parts), and parts whose verdicts would differ at the
//! merged report's time are refused, never reconciled. The merged report is complete only if
//! every part is.
//!
//! Parts made with `shard` (`i/n`) must all be shards of the same `n`, each once. A shard missing
//! from the set is a scope error of the merged report ([`SHARD_MISSING`], naming it): the
//! report is incomplete, never passed off as the whole scan.

use std::collections::{BTreeMap, BTreeSet};

use super::{Report, ReportScope, verdict_mismatch};
use crate::model::ScopeError;
use crate::source::Shard;
use crate::{Error, Result, rule};

/// The code of the merged report's scope error for a shard of the split that was not merged.
pub const SHARD_MISSING: &str = "ShardMissing";

/// One report of the parts, as [`Report::rechecked`] left it.
///
/// The merged report's time is the earliest part's: its evidence is at least that old. Every
/// finding of a later part is judged again at that time, and the merge is refused if a verdict
/// changes (an exception that expired between the two scans, say): scan every part with the
/// same `now` to avoid it. Errors name the part (`reports[i]`) and the field.
pub fn merge(parts: Vec<Report>) -> Result<Report> {
    let Some(first) = parts.first() else {
        return Err(Error::invalid_input("give at least one report to merge").with_field("reports"));
    };
    let policy = first.policy.clone();
    let generated_at = parts
        .iter()
        .map(|p| p.generated_at)
        .min()
        .unwrap_or(first.generated_at);

    let missing = missing_shards(&parts)?;
    let mut owner: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for (i, part) in parts.iter().enumerate() {
        let field = |f: &str| format!("reports[{i}].{f}");
        if part.policy != policy {
            return Err(Error::invalid_input(
                "this part was judged under another policy than reports[0]: scan every part \
                 with the same policy and exceptions",
            )
            .with_field(field("policy")));
        }
        // The account and region pairs the part read, or tried to.
        let pairs: BTreeSet<(&str, &str)> = part
            .findings
            .iter()
            .map(|f| (f.account_id.as_str(), f.region.as_str()))
            .chain(
                part.scope_errors
                    .iter()
                    .filter_map(|e| Some((e.account_id.as_deref()?, e.region.as_deref()?))),
            )
            .collect();
        for pair in pairs {
            if let Some(other) = owner.insert(pair, i) {
                return Err(Error::invalid_input(format!(
                    "account {} in {} is in reports[{other}] and reports[{i}]: parts must not \
                     overlap (give each part its own accounts or regions)",
                    pair.0, pair.1
                ))
                .with_field(format!("reports[{i}]")));
            }
        }
        if part.generated_at != generated_at {
            for (j, finding) in part.findings.iter().enumerate() {
                let then = rule::evaluate(&finding.to_record(), &policy, generated_at);
                if let Some(what) = verdict_mismatch(finding, &then) {
                    return Err(Error::invalid_input(format!(
                        "`{}` is `{}` as of this part's time ({}) but `{}` as of the earliest \
                         part's ({}): parts judged at different times disagree ({what}); scan \
                         every part with the same --now",
                        finding.arn,
                        finding.status,
                        part.generated_at.to_rfc3339(),
                        then.status,
                        generated_at.to_rfc3339()
                    ))
                    .with_field(field(&format!("findings[{j}]"))));
                }
            }
        }
    }

    let mut scope = ReportScope::default();
    let mut sources = BTreeSet::new();
    let mut findings = Vec::new();
    let mut scope_errors = missing;
    for part in parts {
        sources.insert(part.scope.source);
        scope.accounts.extend(part.scope.accounts);
        scope.regions.extend(part.scope.regions);
        findings.extend(part.findings);
        scope_errors.extend(part.scope_errors);
    }
    scope.source = sources.into_iter().collect::<Vec<_>>().join("+");
    for list in [&mut scope.accounts, &mut scope.regions] {
        list.sort();
        list.dedup();
    }
    scope_errors.sort_by(|a, b| {
        (&a.account_id, &a.region, &a.operation, &a.code, &a.message).cmp(&(
            &b.account_id,
            &b.region,
            &b.operation,
            &b.code,
            &b.message,
        ))
    });
    // What every shard says of a whole account (not read, its regions not listed) once.
    scope_errors.dedup();
    Ok(Report::new(
        findings,
        policy,
        scope,
        scope_errors,
        generated_at,
    ))
}

/// The shards of a split that `parts` lack, as scope errors; an error when the parts are not
/// shards of one split (some sharded and some not, different counts, a shard twice).
fn missing_shards(parts: &[Report]) -> Result<Vec<ScopeError>> {
    let field = |i: usize| format!("reports[{i}].scope.shard");
    let Some(first) = parts.iter().find_map(|p| p.scope.shard) else {
        return Ok(Vec::new());
    };
    let mut given: BTreeMap<Shard, usize> = BTreeMap::new();
    for (i, part) in parts.iter().enumerate() {
        let Some(shard) = part.scope.shard else {
            return Err(Error::invalid_input(format!(
                "this part is not a shard, and others are ({first} among them): merge the \
                 shards of one split, then merge that report with others"
            ))
            .with_field(field(i)));
        };
        if shard.count != first.count {
            return Err(Error::invalid_input(format!(
                "shard {shard} is of a split into {} parts, and shard {first} of one into {}: \
                 merge the shards of one split",
                shard.count, first.count
            ))
            .with_field(field(i)));
        }
        if let Some(other) = given.insert(shard, i) {
            return Err(Error::invalid_input(format!(
                "shard {shard} is given twice, as reports[{other}] and reports[{i}]"
            ))
            .with_field(field(i)));
        }
    }
    Ok(first
        .all()
        .filter(|shard| !given.contains_key(shard))
        .map(|shard| ScopeError {
            account_id: None,
            region: None,
            operation: "Merge".to_owned(),
            code: SHARD_MISSING.to_owned(),
            message: format!(
                "shard {shard} is not among the merged reports: the account and region pairs \
                 it owns were not read"
            ),
        })
        .collect())
}
