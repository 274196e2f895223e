use std::collections::BTreeSet;

use async_trait::async_trait;

use crate::Result;
use crate::model::KeyRecord;
use crate::source::{Collected, KeySource, ProgressUpdate, ReadRequest};

/// Records held in memory: for tests and for programs that build records themselves.
#[derive(Debug, Clone, Default)]
pub struct MemorySource {
    records: Vec<KeyRecord>,
}

impl MemorySource {
    /// A source of `records`, as they are.
    pub fn new(records: Vec<KeyRecord>) -> Self {
        MemorySource { records }
    }

    /// Every record, in the order given.
    pub fn records(&self) -> &[KeyRecord] {
        &self.records
    }

    /// The records of a request's scope, as any source would return them: one per key, and an
    /// account asked for that has no record is a scope error (nothing says it was read).
    pub(crate) fn collect(&self, request: &ReadRequest) -> Result<Collected> {
        request.scope.validate()?;
        let records: Vec<KeyRecord> = self
            .records
            .iter()
            .filter(|r| request.scope.spans(r))
            .cloned()
            .collect();
        Self::collected(records, request)
    }

    /// [`MemorySource::collect`] without copying the records: for a source used once.
    pub(crate) fn into_collected(mut self, request: &ReadRequest) -> Result<Collected> {
        request.scope.validate()?;
        self.records.retain(|r| request.scope.spans(r));
        Self::collected(self.records, request)
    }

    /// `records` are those the scope spans, whatever its shard: an account is read even when
    /// all its records are another shard's.
    fn collected(mut records: Vec<KeyRecord>, request: &ReadRequest) -> Result<Collected> {
        let covered = |asked: &[String], seen: BTreeSet<&String>| -> Vec<String> {
            if asked.is_empty() {
                seen.into_iter().cloned().collect()
            } else {
                asked.to_vec()
            }
        };
        let accounts: Vec<String> = distinct(records.iter().map(|r| &r.account_id))
            .into_iter()
            .cloned()
            .collect();
        let regions = covered(
            &request.scope.regions,
            distinct(records.iter().map(|r| &r.region)),
        );
        records.retain(|r| {
            request.scope.owns(&r.account_id, &r.region) && request.scope.names(&r.arn)
        });
        if let Some(progress) = &request.progress {
            progress(ProgressUpdate {
                keys_listed: records.len(),
                keys_read: records.len(),
            });
        }
        let collected = Collected {
            records,
            scope_errors: Vec::new(),
            accounts,
            regions,
        };
        Ok(collected.finish(&request.scope))
    }
}

/// The distinct values, inserted one at a time: collecting them would sort every record's.
fn distinct<'a>(values: impl Iterator<Item = &'a String>) -> BTreeSet<&'a String> {
    let mut set = BTreeSet::new();
    for value in values {
        set.insert(value);
    }
    set
}

#[async_trait]
impl KeySource for MemorySource {
    fn name(&self) -> &str {
        "memory"
    }

    async fn read(&self, request: &ReadRequest) -> Result<Collected> {
        self.collect(request)
    }
}
