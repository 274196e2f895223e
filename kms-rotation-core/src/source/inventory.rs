use std::collections::HashMap;
use std::path::Path;

use async_trait::async_trait;

use super::{Collected, KeySource, MemorySource, ReadRequest};
use crate::input::{self, Syntax};
use crate::model::{Inventory, KeyRecord, SCHEMA_VERSION};
use crate::{Error, Result};

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
        let inventory: Inventory = input::read_file(path)?;
        Self::from_inventory(inventory).map_err(|e| e.with_file(path))
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
            return Err(Error::invalid_input(format!(
                "key `{}` is listed twice, at keys[{first}] and keys[{i}]; an inventory lists \
                 each key once",
                key.arn
            ))
            .with_field(format!("keys[{i}].arn")));
        }
    }
    Ok(())
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
