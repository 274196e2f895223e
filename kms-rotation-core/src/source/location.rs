//! Where a key is declared in code, and the line of each declaration in its file.
//!
//! Keys read from a Terraform plan or a CloudFormation template have no ARN yet: their identity is
//! the file and the resource's address (or logical id), and a finding points at the resource's
//! line so that a pull-request check annotates it. serde's parsers give values but no positions,
//! so the lines come from a second pass over saphyr-parser's events, which carry their line for
//! YAML and JSON alike (JSON is YAML's flow style).

use std::collections::HashMap;

use saphyr_parser::{Event, Parser};
use serde::{Deserialize, Serialize};

use crate::Error;

/// Where a key is declared: set only on keys read from code (a Terraform plan, a CloudFormation
/// template), which have no ARN yet.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Location {
    /// The file, as the scan was given it (relative paths stay relative, so that a code-scanning
    /// upload made from the repository's root points at the repository's file).
    pub file: String,
    /// The line of the resource in the file (1-based); absent when it could not be found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// The Terraform resource address (`module.app.aws_kms_key.main`) or the CloudFormation
    /// logical id (`PaymentsKey`).
    pub address: String,
}

impl Location {
    /// The identity a key declared here carries instead of an ARN: `FILE#ADDRESS`, unique
    /// across the files of one scan.
    pub fn identity(&self) -> String {
        format!("{}#{}", self.file, self.address)
    }
}

/// One mapping entry met while walking a document.
pub(crate) struct Entry<'a> {
    /// The keys of the mappings around the entry, from the root (`[]` for a sequence item).
    pub path: &'a [String],
    /// The entry's key.
    pub key: &'a str,
    /// The key's line (1-based).
    pub line: u32,
    /// The value, when it is a scalar.
    pub scalar: Option<&'a str>,
}

/// The line of each key of the mapping at `path` (keys from the root): a template's resources.
pub(crate) fn key_lines(text: &str, path: &[&str]) -> crate::Result<HashMap<String, u32>> {
    let mut lines = HashMap::new();
    walk(text, |entry| {
        if entry
            .path
            .iter()
            .map(String::as_str)
            .eq(path.iter().copied())
        {
            lines.entry(entry.key.to_owned()).or_insert(entry.line);
        }
    })?;
    Ok(lines)
}

/// The line of the first entry `key: VALUE` for each scalar VALUE: a plan's resource addresses.
pub(crate) fn value_lines(text: &str, key: &str) -> crate::Result<HashMap<String, u32>> {
    let mut lines = HashMap::new();
    walk(text, |entry| {
        if entry.key == key
            && let Some(value) = entry.scalar
        {
            lines.entry(value.to_owned()).or_insert(entry.line);
        }
    })?;
    Ok(lines)
}

enum Frame {
    /// A mapping, with the key whose value comes next (and its line), if any.
    Mapping(Option<(String, u32)>),
    Sequence,
}

/// Calls `on_entry` for every mapping entry of the first document of `text`, in order.
fn walk(text: &str, mut on_entry: impl FnMut(Entry<'_>)) -> crate::Result<()> {
    let mut frames: Vec<Frame> = Vec::new();
    let mut path: Vec<String> = Vec::new();
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| {
            Error::invalid_input(e.info().to_owned())
                .with_position(e.marker().line(), e.marker().col() + 1)
        })?;
        let line = u32::try_from(span.start.line()).unwrap_or(u32::MAX);
        match event {
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let item = match frames.last_mut() {
                    Some(Frame::Mapping(pending)) => match pending.take() {
                        Some((key, key_line)) => {
                            on_entry(Entry {
                                path: &path,
                                key: &key,
                                line: key_line,
                                scalar: None,
                            });
                            key
                        }
                        // A complex key: not an entry anyone looks for.
                        None => "?".to_owned(),
                    },
                    Some(Frame::Sequence) => "[]".to_owned(),
                    None => String::new(),
                };
                if !frames.is_empty() {
                    path.push(item);
                }
                frames.push(if matches!(event, Event::MappingStart(..)) {
                    Frame::Mapping(None)
                } else {
                    Frame::Sequence
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                frames.pop();
                if frames.is_empty() {
                    // The first document is all a template or plan has.
                    return Ok(());
                }
                path.pop();
            }
            Event::Scalar(value, ..) => {
                scalar(&mut frames, &path, Some(&value), line, &mut on_entry)
            }
            Event::Alias(_) => scalar(&mut frames, &path, None, line, &mut on_entry),
            _ => {}
        }
    }
    Ok(())
}

/// A scalar (or alias) in the current frame: a key, or the value of the pending key.
fn scalar(
    frames: &mut [Frame],
    path: &[String],
    value: Option<&str>,
    line: u32,
    on_entry: &mut impl FnMut(Entry<'_>),
) {
    let Some(Frame::Mapping(pending)) = frames.last_mut() else {
        return;
    };
    match pending.take() {
        None => *pending = Some((value.unwrap_or_default().to_owned(), line)),
        Some((key, key_line)) => on_entry(Entry {
            path,
            key: &key,
            line: key_line,
            scalar: value,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_a_templates_resources_in_yaml_and_json() {
        let yaml = "Parameters:\n  Key:\n    Type: String\nResources:\n  Key:\n    Type: \
                    AWS::KMS::Key\n    Properties:\n      KeySpec: !Ref Key\n  Other: {Type: X}\n\
                    Outputs:\n  Key:\n    Value: !Ref Key\n";
        let lines = key_lines(yaml, &["Resources"]).unwrap();
        assert_eq!(lines.get("Key"), Some(&5));
        assert_eq!(lines.get("Other"), Some(&9));
        let json = "{\n \"Resources\": {\n  \"A\": {\"Type\": \"X\"},\n  \"B\": {}\n }\n}";
        let lines = key_lines(json, &["Resources"]).unwrap();
        assert_eq!((lines["A"], lines["B"]), (3, 4));
    }

    #[test]
    fn lines_of_values_under_a_key() {
        let json = "{\"planned_values\": {\"root_module\": {\"resources\": [\n\
                    {\"address\": \"aws_kms_key.a\"},\n{\"address\": \"aws_kms_key.b\"}]}},\n\
                    \"resource_changes\": [{\"address\": \"aws_kms_key.a\"}]}";
        let lines = value_lines(json, "address").unwrap();
        assert_eq!((lines["aws_kms_key.a"], lines["aws_kms_key.b"]), (2, 3));
    }

    #[test]
    fn a_syntax_error_has_its_line() {
        let err = key_lines("a: [\nb: c\n", &[]).unwrap_err();
        assert!(err.context().line.is_some(), "{err}");
    }
}
