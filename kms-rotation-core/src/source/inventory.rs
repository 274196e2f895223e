use std::path::Path;

use async_trait::async_trait;

use super::{Collected, KeySource, MemorySource, ReadRequest};
use crate::input::{self, Syntax};
use crate::model::{Inventory, SCHEMA_VERSION};
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

    pub fn from_inventory(inventory: Inventory) -> Result<Self> {
        if inventory.schema_version != SCHEMA_VERSION {
            return Err(Error::invalid_input(format!(
                "version {} is not supported; this release reads version {SCHEMA_VERSION}",
                inventory.schema_version
            ))
            .with_field("schema_version"));
        }
        Ok(InventorySource {
            records: MemorySource::new(inventory.keys),
        })
    }

    pub fn records(&self) -> &[crate::KeyRecord] {
        self.records.records()
    }
}

#[async_trait]
impl KeySource for InventorySource {
    fn name(&self) -> &str {
        "inventory"
    }

    async fn read(&self, request: &ReadRequest) -> Result<Collected> {
        Ok(self.records.collect(request))
    }
}
