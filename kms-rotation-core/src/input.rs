//! Reading the user's files (inventory, policy, exceptions, later plans and journals) into typed
//! values, with errors that name the file, the field path, and the line and column.

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::{Error, Result};

/// A document syntax. YAML is a superset of JSON, but JSON files get serde_json's exact errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// JSON: any file whose name does not end in `.yaml` or `.yml`.
    Json,
    /// YAML: `.yaml` and `.yml` files.
    Yaml,
}

impl Syntax {
    /// `.yaml` / `.yml` are YAML; everything else is JSON.
    pub fn of_path(path: &Path) -> Syntax {
        match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("yaml") || ext.eq_ignore_ascii_case("yml") => {
                Syntax::Yaml
            }
            _ => Syntax::Json,
        }
    }
}

/// Reads and parses `path`; the syntax follows the extension.
pub fn read_file<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::from(e).with_file(path).with_retryable(false))?;
    parse(&text, Syntax::of_path(path)).map_err(|e| e.with_file(path))
}

/// Parses `text`. Errors carry the field path and, where the parser knows it, line and column.
pub fn parse<T: DeserializeOwned>(text: &str, syntax: Syntax) -> Result<T> {
    match syntax {
        Syntax::Json => {
            // Most input is valid: read it without tracking the path (about 40% faster on large
            // inventories), and read it again with the path only to explain an error.
            if let Ok(value) = serde_json::from_str(text) {
                return Ok(value);
            }
            let mut de = serde_json::Deserializer::from_str(text);
            let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
                let path = e.path().to_string();
                let inner = e.into_inner();
                Error::invalid_input(strip_position(&inner.to_string()))
                    .with_field(path)
                    .with_position(inner.line(), inner.column())
            })?;
            // Trailing garbage after the document is an error, not ignored.
            de.end().map_err(|e| {
                Error::invalid_input(strip_position(&e.to_string()))
                    .with_position(e.line(), e.column())
            })?;
            Ok(value)
        }
        Syntax::Yaml => {
            let de = serde_yaml_ng::Deserializer::from_str(text);
            serde_path_to_error::deserialize(de).map_err(|e| {
                let path = e.path().to_string();
                let inner = e.into_inner();
                let (line, column) = inner.location().map_or((0, 0), |l| (l.line(), l.column()));
                Error::invalid_input(strip_position(&inner.to_string()))
                    .with_field(path)
                    .with_position(line, column)
            })
        }
    }
}

/// serde_json and serde_yaml append " at line L column C" to messages; we print the position
/// ourselves, once, at the front.
pub(crate) fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Doc {
        items: Vec<Item>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Item {
        n: u32,
    }

    #[test]
    fn json_errors_name_path_line_and_column() {
        let err = parse::<Doc>(
            "{\"items\": [\n {\"n\": 1},\n {\"n\": \"x\"}]}",
            Syntax::Json,
        )
        .unwrap_err();
        assert_eq!(err.context().field.as_deref(), Some("items[1].n"));
        assert_eq!(err.context().line, Some(3));
        assert!(err.message().contains("invalid type"), "{err}");
        assert!(!err.message().contains(" at line "), "{err}");
    }

    #[test]
    fn yaml_errors_name_path_and_line() {
        let err = parse::<Doc>("items:\n  - n: 1\n  - n: x\n", Syntax::Yaml).unwrap_err();
        assert_eq!(err.context().field.as_deref(), Some("items[1].n"));
        assert_eq!(err.context().line, Some(3));
    }

    #[test]
    fn trailing_content_is_rejected() {
        assert!(parse::<Doc>("{\"items\": []} x", Syntax::Json).is_err());
    }
}
