use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use async_trait::async_trait;
use chrono::Utc;

use super::inventory_reader::{count_records, for_each_record};
use super::{Collected, KeySource, MemorySource, ProgressUpdate, ReadRequest, ScanRequest, Scope};
use crate::finding::Finding;
use crate::input::{self, Syntax};
use crate::model::{Inventory, KeyRecord, SCHEMA_VERSION};
use crate::report::{Report, ReportScope, sort_in_place};
use crate::{Error, Result, rule};

/// Records from an inventory file (`formats.md`), such as one a scan saved: findings computed
/// offline and reproducibly.
///
/// The file is read and checked completely when the source is made, so bad input is reported
/// before anything else happens.
#[derive(Debug, Clone)]
pub struct InventorySource {
    records: MemorySource,
}

impl InventorySource {
    /// Reads and validates an inventory file (JSON, or YAML by extension).
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let mut keys = Vec::new();
        for_each_record(path, |_, record| {
            keys.push(record);
            Ok(())
        })?;
        Self::from_inventory(Inventory::new(keys)).map_err(|e| e.with_file(path))
    }

    /// [`crate::KeySourceExt::scan`] of the inventory at `path`, holding nothing but findings:
    /// each record is evaluated as it is read and its evidence moves into its finding, so the
    /// file is never held whole, as text or as records. The same report, and the same errors,
    /// as a scan of [`InventorySource::from_path`]'s source.
    pub(crate) fn scan_file(path: impl AsRef<Path>, request: &ScanRequest) -> Result<Report> {
        let path = path.as_ref();
        request.policy.validate()?;
        request.scope.validate()?;
        let now = request.now.unwrap_or_else(Utc::now);
        // Room for every record from the start when every record is in scope: a list of
        // findings that doubles as it grows frees a buffer as large as half of it each time,
        // which an allocator may hold a while when it is the largest thing in memory.
        let expected = if request.scope == Scope::default() {
            count_records(path).unwrap_or(0)
        } else {
            0
        };
        // The keys in scope as findings, with their index in `keys`; the others' ARNs, only to
        // refuse a key listed twice there too.
        let mut findings: Vec<Finding> = Vec::with_capacity(expected);
        let mut indices: Vec<usize> = Vec::new();
        let mut outside: Vec<(String, usize)> = Vec::new();
        for_each_record(path, |i, record| {
            if request.scope.includes(&record) {
                findings.push(rule::evaluate_owned(record, &request.policy, now));
                indices.push(i);
            } else {
                outside.push((record.arn, i));
            }
            Ok(())
        })?;
        let from = sort_in_place(&mut findings);
        // A key's copies are now next to each other (the ARN decides account and region).
        let copies = (from.windows(2).zip(findings.windows(2)))
            .filter(|(_, pair)| pair[0].arn == pair[1].arn)
            .map(|(at, pair)| (pair[0].arn.as_str(), indices[at[0]], indices[at[1]]));
        outside.sort_unstable();
        let outside_copies = (outside.windows(2))
            .filter(|pair| pair[0].0 == pair[1].0)
            .map(|pair| (pair[0].0.as_str(), pair[0].1, pair[1].1));
        // The same one `reject_duplicates` names: the first copy in file order.
        if let Some((arn, first, i)) = copies.chain(outside_copies).min_by_key(|c| c.2) {
            return Err(listed_twice(arn, first, i).with_file(path));
        }
        drop(outside);
        let accounts: BTreeSet<&String> = findings.iter().map(|f| &f.account_id).collect();
        let regions: BTreeSet<&String> = findings.iter().map(|f| &f.region).collect();
        let covered = Collected {
            records: Vec::new(),
            scope_errors: Vec::new(),
            accounts: accounts.into_iter().cloned().collect(),
            regions: if request.scope.regions.is_empty() {
                regions.into_iter().cloned().collect()
            } else {
                request.scope.regions.clone()
            },
        }
        .finish(&request.scope);
        if let Some(progress) = &request.progress {
            progress(ProgressUpdate {
                keys_listed: findings.len(),
                keys_read: findings.len(),
            });
        }
        let scope = ReportScope {
            source: "inventory".to_owned(),
            accounts: covered.accounts,
            regions: covered.regions,
            shard: request.scope.shard,
        };
        Ok(Report::in_order(
            findings,
            request.policy.clone(),
            scope,
            covered.scope_errors,
            now,
        ))
    }

    /// Parses and validates an inventory document.
    pub fn parse(text: &str, syntax: Syntax) -> Result<Self> {
        Self::from_inventory(input::parse(text, syntax)?)
    }

    /// A source of `inventory`'s records; an error for another format version, or a key listed
    /// twice.
    pub fn from_inventory(inventory: Inventory) -> Result<Self> {
        if inventory.schema_version != SCHEMA_VERSION {
            return Err(Error::invalid_input(format!(
                "version {} is not supported; this release reads version {SCHEMA_VERSION}",
                inventory.schema_version
            ))
            .with_field("schema_version"));
        }
        reject_duplicates(&inventory.keys)?;
        Ok(InventorySource {
            records: MemorySource::new(inventory.keys),
        })
    }

    /// Every record, in file order.
    pub fn records(&self) -> &[KeyRecord] {
        self.records.records()
    }
}

/// A key listed twice in an inventory is a hand-edited or merged file: which copy is right cannot
/// be known, so the file is refused, naming both places and the ARN.
fn reject_duplicates(keys: &[KeyRecord]) -> Result<()> {
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(keys.len());
    for (i, key) in keys.iter().enumerate() {
        if let Some(first) = seen.insert(key.arn.as_str(), i) {
            return Err(listed_twice(&key.arn, first, i));
        }
    }
    Ok(())
}

fn listed_twice(arn: &str, first: usize, i: usize) -> Error {
    Error::invalid_input(format!(
        "key `{arn}` is listed twice, at keys[{first}] and keys[{i}]; an inventory lists each \
         key once"
    ))
    .with_field(format!("keys[{i}].arn"))
}

#[async_trait]
impl KeySource for InventorySource {
    fn name(&self) -> &str {
        "inventory"
    }

    async fn read(&self, request: &ReadRequest) -> Result<Collected> {
        self.records.collect(request)
    }
}
