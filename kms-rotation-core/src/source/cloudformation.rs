//! Records from CloudFormation templates, JSON or YAML: the `AWS::KMS::Key` and
//! `AWS::KMS::ReplicaKey` resources, judged before deploy.
//!
//! YAML is read with serde_yaml_ng, which keeps the short-form intrinsic tags (`!Ref`, `!If`,
//! `!Sub`...) as tagged values; the long form (`{"Ref": ...}`, `{"Fn::If": [...]}`) is a
//! one-entry mapping. A property set by either is known only at deploy. Booleans may be
//! strings ("true"), as CloudFormation accepts them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use serde_yaml_ng::Value;

use super::declared::{Declared, Fact, aws_value, check_pending_window, check_period};
use super::location::{Location, key_lines};
use super::{Collected, KeySource, MemorySource, ReadRequest};
use crate::input::Syntax;
use crate::model::KeyRecord;
use crate::{Error, Result};

const KEY: &str = "AWS::KMS::Key";
const REPLICA_KEY: &str = "AWS::KMS::ReplicaKey";

/// The keys of CloudFormation templates. Every file is read and checked completely when the
/// source is made, so bad input is reported before anything else happens.
#[derive(Debug, Clone)]
pub struct CloudFormationSource {
    records: MemorySource,
}

impl CloudFormationSource {
    /// Reads templates: YAML for `.yaml`, `.yml` and `.template` files that are not JSON, JSON
    /// otherwise.
    pub fn from_paths(paths: &[PathBuf]) -> Result<Self> {
        let mut records = Vec::new();
        for path in paths {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::from(e).with_file(path).with_retryable(false))?;
            let syntax = syntax_of(path, &text);
            records.extend(
                read(&text, syntax, &path.to_string_lossy()).map_err(|e| e.with_file(path))?,
            );
        }
        Ok(CloudFormationSource {
            records: MemorySource::new(records),
        })
    }

    /// Parses one template's text; `file` is what findings name as its location.
    pub fn parse(text: &str, syntax: Syntax, file: &str) -> Result<Self> {
        Ok(CloudFormationSource {
            records: MemorySource::new(read(text, syntax, file)?),
        })
    }

    /// Every key, template by template, in each template's order.
    pub fn records(&self) -> &[KeyRecord] {
        self.records.records()
    }
}

#[async_trait]
impl KeySource for CloudFormationSource {
    fn name(&self) -> &str {
        "cloudformation"
    }

    async fn read(&self, request: &ReadRequest) -> Result<Collected> {
        self.records.collect(request)
    }
}

/// JSON when the file starts like JSON, whatever its name (`.template` files are either).
fn syntax_of(path: &Path, text: &str) -> Syntax {
    if text.trim_start().starts_with('{') {
        Syntax::Json
    } else if Syntax::of_path(path) == Syntax::Yaml
        || path.extension().is_some_and(|e| e == "template")
    {
        Syntax::Yaml
    } else {
        Syntax::Json
    }
}

fn read(text: &str, syntax: Syntax, file: &str) -> Result<Vec<KeyRecord>> {
    let template: Value = match syntax {
        // serde_json's exact errors for JSON, then the same value type as YAML's.
        Syntax::Json => {
            let json: serde_json::Value = crate::input::parse(text, Syntax::Json)?;
            serde_yaml_ng::to_value(json).map_err(|e| Error::invalid_input(e.to_string()))?
        }
        Syntax::Yaml => crate::input::parse(text, Syntax::Yaml)?,
    };
    let resources = match template.get("Resources") {
        Some(Value::Mapping(resources)) => resources,
        _ => {
            return Err(Error::invalid_input(
                "not a CloudFormation template: it has no `Resources` mapping",
            )
            .with_field("Resources"));
        }
    };
    let lines = key_lines(text, &["Resources"])?;
    let mut keys = Vec::new();
    for (id, resource) in resources {
        let Some(id) = id.as_str() else {
            continue;
        };
        let kind = resource.get("Type").and_then(Value::as_str);
        if !matches!(kind, Some(KEY | REPLICA_KEY)) {
            continue;
        }
        let line = lines.get(id).copied();
        let located = |e: Error| {
            let field = e.context().field.clone().unwrap_or_default();
            let e = e.with_field(format!("Resources.{id}.Properties.{field}"));
            match line {
                Some(line) => e.with_position(line as usize, 0),
                None => e,
            }
        };
        let properties = match resource.get("Properties") {
            None | Some(Value::Null) => None,
            Some(Value::Mapping(properties)) => Some(properties),
            Some(_) => {
                return Err(located(
                    Error::invalid_input("`Properties` is not a mapping").with_field(""),
                ));
            }
        };
        let facts = Facts(properties);
        let mut key = Declared::new(Location {
            file: file.to_owned(),
            line,
            address: id.to_owned(),
        });
        key.enabled = facts.boolean("Enabled").map_err(located)?;
        if let Fact::Known(days) = facts.integer("PendingWindowInDays").map_err(located)? {
            check_pending_window(days, "PendingWindowInDays").map_err(located)?;
        }
        if kind == Some(REPLICA_KEY) {
            key.replica = true;
            let primary = facts.0.and_then(|p| p.get("PrimaryKeyArn"));
            key.primary_arn = primary.and_then(Value::as_str).map(str::to_owned);
            keys.push((key, Some(primary.and_then(arn_of_resource))));
            continue;
        }
        key.key_spec = facts
            .string("KeySpec")
            .map_err(located)?
            .try_map(|spec| aws_value(&spec, "KeySpec"))
            .map_err(located)?;
        key.key_usage = facts
            .string("KeyUsage")
            .map_err(located)?
            .try_map(|usage| aws_value(&usage, "KeyUsage"))
            .map_err(located)?;
        key.origin = facts
            .string("Origin")
            .map_err(located)?
            .try_map(|origin| aws_value(&origin, "Origin"))
            .map_err(located)?;
        key.multi_region = facts.boolean("MultiRegion").map_err(located)?;
        key.rotation = facts.boolean("EnableKeyRotation").map_err(located)?;
        key.period_days = facts
            .integer("RotationPeriodInDays")
            .map_err(located)?
            .try_map(|days| check_period(days, "RotationPeriodInDays"))
            .map_err(located)?;
        keys.push((key, None));
    }
    // A replica whose primary is a key of the same template shares its settings.
    let by_id: HashMap<String, Declared> = keys
        .iter()
        .map(|(key, _)| (key.location.address.clone(), key.clone()))
        .collect();
    Ok(keys
        .into_iter()
        .map(|(mut key, primary)| {
            if let Some(primary) = primary {
                match primary.and_then(|id| by_id.get(&id)) {
                    Some(primary) if !primary.replica => key.inherit(primary),
                    _ => key.primary_elsewhere("PrimaryKeyArn"),
                }
            }
            key.into_record()
        })
        .collect())
}

/// The logical id `!GetAtt Id.Arn` (or its long form) names.
fn arn_of_resource(value: &Value) -> Option<String> {
    let argument = match value {
        Value::Tagged(tagged) if tagged.tag == "GetAtt" => &tagged.value,
        Value::Mapping(m) if m.len() == 1 => m.get("Fn::GetAtt")?,
        _ => return None,
    };
    match argument {
        Value::String(dotted) => dotted.strip_suffix(".Arn").map(str::to_owned),
        Value::Sequence(parts) => match parts.as_slice() {
            [Value::String(id), Value::String(attribute)] if attribute == "Arn" => Some(id.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// Whether `value` is an intrinsic function (or a condition) CloudFormation resolves at deploy.
fn is_intrinsic(value: &Value) -> bool {
    match value {
        Value::Tagged(_) => true,
        Value::Mapping(m) if m.len() == 1 => m
            .keys()
            .next()
            .and_then(Value::as_str)
            .is_some_and(|k| k == "Ref" || k == "Condition" || k.starts_with("Fn::")),
        _ => false,
    }
}

/// A resource's properties, read as facts.
struct Facts<'a>(Option<&'a serde_yaml_ng::Mapping>);

impl Facts<'_> {
    fn read<T>(
        &self,
        name: &str,
        expected: &str,
        convert: impl Fn(&Value) -> Option<T>,
    ) -> Result<Fact<T>> {
        match self.0.and_then(|p| p.get(name)) {
            None | Some(Value::Null) => Ok(Fact::Unset),
            Some(value) if is_intrinsic(value) => Ok(Fact::Unknown(format!("`{name}`"))),
            Some(value) => convert(value).map(Fact::Known).ok_or_else(|| {
                let found = serde_yaml_ng::to_string(value).unwrap_or_default();
                Error::invalid_input(format!("expected {expected}, found {}", found.trim()))
                    .with_field(name)
            }),
        }
    }

    /// A boolean, or the strings CloudFormation takes for one.
    fn boolean(&self, name: &str) -> Result<Fact<bool>> {
        self.read(name, "true or false", |value| match value {
            Value::Bool(b) => Some(*b),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        })
    }

    /// A whole number, or a string of one.
    fn integer(&self, name: &str) -> Result<Fact<i64>> {
        self.read(name, "a whole number", |value| match value {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        })
    }

    fn string(&self, name: &str) -> Result<Fact<String>> {
        self.read(name, "a string", |value| value.as_str().map(str::to_owned))
    }
}
