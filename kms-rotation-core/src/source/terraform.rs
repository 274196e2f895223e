//! Records from a Terraform plan in JSON (`terraform show -json PLANFILE`): the KMS keys the
//! plan would leave, judged before apply.
//!
//! The planned values of the root module and every child module give each key's settings; the
//! plan's `resource_changes` (`after_unknown`) say which are known only after apply, and its
//! `configuration` whether an unknown value was set by the code (unknown) or left to AWS (the
//! default). Resources that are not KMS keys are ignored.

use std::collections::HashMap;
use std::path::Path;

use async_trait::async_trait;
use serde_json::{Map, Value};

use super::declared::{Declared, Fact, aws_value, check_pending_window, check_period};
use super::location::{Location, value_lines};
use super::{Collected, KeySource, MemorySource, ReadRequest};
use crate::model::{KeyRecord, Origin};
use crate::{Error, Result};

/// The KMS key resources of the AWS provider, and whether each holds imported material or is a
/// replica.
const KEY_TYPES: [(&str, bool, bool); 4] = [
    ("aws_kms_key", false, false),
    ("aws_kms_external_key", true, false),
    ("aws_kms_replica_key", false, true),
    ("aws_kms_replica_external_key", true, true),
];

/// The keys of a Terraform plan. The file is read and checked completely when the source is made,
/// so bad input is reported before anything else happens.
#[derive(Debug, Clone)]
pub struct TerraformPlanSource {
    records: MemorySource,
}

impl TerraformPlanSource {
    /// Reads a plan file (`terraform show -json PLANFILE > plan.json`).
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::from(e).with_file(path).with_retryable(false))?;
        Self::parse(&text, &path.to_string_lossy()).map_err(|e| e.with_file(path))
    }

    /// Parses a plan's JSON text; `file` is what findings name as its location.
    pub fn parse(text: &str, file: &str) -> Result<Self> {
        let plan: Value = crate::input::parse(text, crate::input::Syntax::Json)?;
        let records = Plan::read(&plan, text, file)?;
        Ok(TerraformPlanSource {
            records: MemorySource::new(records),
        })
    }

    /// Every key of the plan, root module first, in the plan's order.
    pub fn records(&self) -> &[KeyRecord] {
        self.records.records()
    }
}

#[async_trait]
impl KeySource for TerraformPlanSource {
    fn name(&self) -> &str {
        "terraform"
    }

    async fn read(&self, request: &ReadRequest) -> Result<Collected> {
        self.records.collect(request)
    }
}

/// The parts of a plan the keys are read from.
struct Plan<'a> {
    file: &'a str,
    /// Each resource's line in the file, by address.
    lines: HashMap<String, u32>,
    /// `after_unknown` of each resource change, by address.
    unknown: HashMap<&'a str, &'a Map<String, Value>>,
    configuration: Option<&'a Value>,
}

/// A resource of the planned values, with what is needed to read it.
struct Resource<'a> {
    address: &'a str,
    module: &'a str,
    kind: &'a str,
    name: &'a str,
    values: &'a Map<String, Value>,
}

impl<'a> Plan<'a> {
    fn read(plan: &'a Value, text: &str, file: &'a str) -> Result<Vec<KeyRecord>> {
        let not_a_plan = |why: &str| {
            Error::invalid_input(format!(
                "not a Terraform plan in JSON ({why}); make one with `terraform show -json \
                 PLANFILE`"
            ))
        };
        let plan = plan
            .as_object()
            .ok_or_else(|| not_a_plan("not an object"))?;
        if !plan.get("format_version").is_some_and(Value::is_string) {
            return Err(not_a_plan("no `format_version`").with_field("format_version"));
        }
        let root = plan
            .get("planned_values")
            .ok_or_else(|| not_a_plan("no `planned_values`").with_field("planned_values"))?
            .get("root_module")
            .ok_or_else(|| not_a_plan("no root module").with_field("planned_values.root_module"))?;
        let mut unknown = HashMap::new();
        for (i, change) in array(plan.get("resource_changes"), "resource_changes")?
            .iter()
            .enumerate()
        {
            let address = change.get("address").and_then(Value::as_str);
            let after_unknown = change
                .get("change")
                .and_then(|c| c.get("after_unknown"))
                .and_then(Value::as_object);
            if let (Some(address), Some(after_unknown)) = (address, after_unknown) {
                unknown.insert(address, after_unknown);
            } else if address.is_none() {
                return Err(not_a_plan("a resource change without an address")
                    .with_field(format!("resource_changes[{i}].address")));
            }
        }
        let reader = Plan {
            file,
            lines: value_lines(text, "address")?,
            unknown,
            configuration: plan.get("configuration").and_then(|c| c.get("root_module")),
        };
        let mut resources = Vec::new();
        collect(root, "", "planned_values.root_module", &mut resources)?;
        let mut keys: Vec<(Declared, Option<Vec<String>>)> = Vec::new();
        for resource in &resources {
            if let Some(key) = reader.key(resource)? {
                keys.push(key);
            }
        }
        // A replica in the same module as its primary shares the primary's settings.
        let by_address: HashMap<String, Declared> = keys
            .iter()
            .map(|(key, _)| (key.location.address.clone(), key.clone()))
            .collect();
        Ok(keys
            .into_iter()
            .map(|(mut key, primary)| {
                if let Some(references) = primary {
                    match references.iter().find_map(|r| by_address.get(r)) {
                        Some(primary) => key.inherit(primary),
                        None => key.primary_elsewhere("primary_key_arn"),
                    }
                }
                key.into_record()
            })
            .collect())
    }

    /// The key `resource` declares, and for a replica the addresses its primary may have;
    /// `None` for a resource that is not a KMS key.
    fn key(&self, resource: &Resource<'_>) -> Result<Option<(Declared, Option<Vec<String>>)>> {
        let Some(&(_, external, replica)) = KEY_TYPES.iter().find(|(t, ..)| *t == resource.kind)
        else {
            return Ok(None);
        };
        let line = self.lines.get(resource.address).copied();
        let located = |e: Error| {
            let field = e.context().field.clone().unwrap_or_default();
            let e = e.with_field(format!("{}.{field}", resource.address));
            match line {
                Some(line) => e.with_position(line as usize, 0),
                None => e,
            }
        };
        let unknown = self.unknown.get(resource.address).copied();
        let config = self.config(resource);
        let facts = Facts {
            values: resource.values,
            unknown,
            config,
        };
        let mut key = Declared::new(Location {
            file: self.file.to_owned(),
            line,
            address: resource.address.to_owned(),
        });
        key.external = external;
        key.replica = replica;
        key.region = match facts.string("region").map_err(located)? {
            Fact::Known(region) => Some(region),
            _ => None,
        };
        key.enabled = facts
            .boolean(if replica || external {
                "enabled"
            } else {
                "is_enabled"
            })
            .map_err(located)?;
        if let Fact::Known(days) = facts.integer("deletion_window_in_days").map_err(located)? {
            check_pending_window(days, "deletion_window_in_days").map_err(located)?;
        }
        if replica {
            key.primary_arn = match facts.string("primary_key_arn").map_err(located)? {
                Fact::Known(arn) => Some(arn),
                _ => None,
            };
            let references = self.references(resource, config, "primary_key_arn");
            return Ok(Some((key, Some(references))));
        }
        key.multi_region = facts.boolean("multi_region").map_err(located)?;
        if external {
            return Ok(Some((key, None)));
        }
        key.key_spec = match facts.string("customer_master_key_spec").map_err(located)? {
            Fact::Unset => facts.string("key_spec").map_err(located)?,
            spec => spec,
        }
        .try_map(|spec| aws_value(&spec, "customer_master_key_spec"))
        .map_err(located)?;
        key.key_usage = facts
            .string("key_usage")
            .map_err(located)?
            .try_map(|usage| aws_value(&usage, "key_usage"))
            .map_err(located)?;
        key.custom_key_store_id = facts.string("custom_key_store_id").map_err(located)?;
        // The provider has no origin argument: a key store makes it, XKS or CloudHSM.
        key.origin = match (
            &key.custom_key_store_id,
            facts.string("xks_key_id").map_err(located)?,
        ) {
            (Fact::Unset, _) => Fact::Unset,
            (_, Fact::Unset) => Fact::Known(Origin::AwsCloudhsm),
            _ => Fact::Known(Origin::ExternalKeyStore),
        };
        key.rotation = facts.boolean("enable_key_rotation").map_err(located)?;
        key.period_days = facts
            .integer("rotation_period_in_days")
            .map_err(located)?
            .try_map(|days| check_period(days, "rotation_period_in_days"))
            .map_err(located)?;
        Ok(Some((key, None)))
    }

    /// The configuration of `resource` (its `expressions`), found through its module calls.
    fn config(&self, resource: &Resource<'_>) -> Option<&'a Map<String, Value>> {
        let mut module = self.configuration?;
        for name in module_names(resource.module) {
            module = module.get("module_calls")?.get(name)?.get("module")?;
        }
        let address = format!("{}.{}", resource.kind, resource.name);
        module
            .get("resources")?
            .as_array()?
            .iter()
            .find(|r| r.get("address").and_then(Value::as_str) == Some(address.as_str()))?
            .get("expressions")?
            .as_object()
    }

    /// The addresses, in `resource`'s module, of the resources an argument refers to.
    fn references(
        &self,
        resource: &Resource<'_>,
        config: Option<&Map<String, Value>>,
        argument: &str,
    ) -> Vec<String> {
        let prefix = if resource.module.is_empty() {
            String::new()
        } else {
            format!("{}.", resource.module)
        };
        config
            .and_then(|c| c.get(argument))
            .and_then(|a| a.get("references"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|r| format!("{prefix}{r}"))
            .collect()
    }
}

/// The resources of `module` and of its child modules, in the plan's order.
fn collect<'a>(
    module: &'a Value,
    address: &'a str,
    field: &str,
    out: &mut Vec<Resource<'a>>,
) -> Result<()> {
    for (i, resource) in array(module.get("resources"), &format!("{field}.resources"))?
        .iter()
        .enumerate()
    {
        let field = format!("{field}.resources[{i}]");
        if resource.get("mode").and_then(Value::as_str) != Some("managed") {
            continue;
        }
        let text = |name: &str| {
            resource.get(name).and_then(Value::as_str).ok_or_else(|| {
                Error::invalid_input(format!("a planned resource without `{name}`"))
                    .with_field(format!("{field}.{name}"))
            })
        };
        let values = match resource.get("values") {
            Some(Value::Object(values)) => values,
            _ => {
                return Err(Error::invalid_input("a planned resource without `values`")
                    .with_field(format!("{field}.values")));
            }
        };
        out.push(Resource {
            address: text("address")?,
            module: address,
            kind: text("type")?,
            name: text("name")?,
            values,
        });
    }
    for (i, child) in array(
        module.get("child_modules"),
        &format!("{field}.child_modules"),
    )?
    .iter()
    .enumerate()
    {
        let field = format!("{field}.child_modules[{i}]");
        let address = child
            .get("address")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                Error::invalid_input("a child module without `address`")
                    .with_field(format!("{field}.address"))
            })?;
        collect(child, address, &field, out)?;
    }
    Ok(())
}

/// The items of an optional array; an error naming `field` when it is something else.
fn array<'a>(value: Option<&'a Value>, field: &str) -> Result<&'a [Value]> {
    match value {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(Error::invalid_input("expected an array").with_field(field)),
    }
}

/// The module call names of a module address: `module.a[0].module.b["x"]` is `a`, `b`.
fn module_names(address: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = address;
    while let Some(after) = rest.strip_prefix("module.") {
        let end = after.find(['[', '.']).unwrap_or(after.len());
        names.push(&after[..end]);
        rest = &after[end..];
        if rest.starts_with('[') {
            rest = skip_index(rest);
        }
        rest = rest.strip_prefix('.').unwrap_or(rest);
    }
    names
}

/// `rest` after its leading instance key (`[0]`, `["a.b]"]`).
fn skip_index(rest: &str) -> &str {
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in rest.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            ']' if !quoted => return &rest[i + 1..],
            _ => {}
        }
    }
    ""
}

/// One resource's values, read as facts.
struct Facts<'a> {
    values: &'a Map<String, Value>,
    unknown: Option<&'a Map<String, Value>>,
    config: Option<&'a Map<String, Value>>,
}

impl Facts<'_> {
    /// What the plan says of `name`: unknown when `after_unknown` says so and the code sets it
    /// (an unset argument that AWS computes, such as the rotation period, takes AWS's default).
    fn get(&self, name: &str) -> Option<std::result::Result<&Value, String>> {
        let unknown = self
            .unknown
            .and_then(|u| u.get(name))
            .is_some_and(|u| u == &Value::Bool(true));
        if unknown {
            let set_by_code = self.config.is_none_or(|c| c.contains_key(name));
            return set_by_code.then(|| Err(format!("`{name}`")));
        }
        match self.values.get(name) {
            None | Some(Value::Null) => None,
            Some(value) => Some(Ok(value)),
        }
    }

    fn boolean(&self, name: &str) -> Result<Fact<bool>> {
        self.read(name, "a boolean", Value::as_bool)
    }

    fn integer(&self, name: &str) -> Result<Fact<i64>> {
        self.read(name, "a number", Value::as_i64)
    }

    fn string(&self, name: &str) -> Result<Fact<String>> {
        self.read(name, "a string", |v| v.as_str().map(str::to_owned))
    }

    fn read<T>(
        &self,
        name: &str,
        expected: &str,
        convert: impl Fn(&Value) -> Option<T>,
    ) -> Result<Fact<T>> {
        match self.get(name) {
            None => Ok(Fact::Unset),
            Some(Err(what)) => Ok(Fact::Unknown(what)),
            Some(Ok(value)) => convert(value).map(Fact::Known).ok_or_else(|| {
                Error::invalid_input(format!("expected {expected}, found {value}")).with_field(name)
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names_skip_instance_keys() {
        assert_eq!(module_names(""), Vec::<&str>::new());
        assert_eq!(
            module_names("module.a[0].module.b[\"x.y]\"]"),
            vec!["a", "b"]
        );
    }
}
