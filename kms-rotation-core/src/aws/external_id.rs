//! The external id a role's trust policy requires: a shared secret between the account owner and
//! whoever scans it. It is kept out of every `Debug` output and every error message, and it can
//! be loaded from a file, so that it never has to be a visible process argument.

use std::fmt;
use std::io::Read;
use std::path::Path;

use crate::{Error, ErrorKind, Result};

/// STS's limits on `ExternalId`: 2 to 1224 characters, word characters and these.
const MIN_LEN: usize = 2;
const MAX_LEN: usize = 1224;
const EXTRA_CHARS: &str = "+=,.@:/-";

/// An STS external id. Its `Debug` prints `ExternalId(<redacted>)`; it has no `Display`, and
/// [`expose_secret`](ExternalId::expose_secret) is the one way to read the value, so that every
/// use of it can be found by name.
///
/// ```
/// use kms_rotation::aws::ExternalId;
/// let id = ExternalId::from("the-shared-secret");
/// assert_eq!(format!("{id:?}"), "ExternalId(<redacted>)");
/// assert_eq!(id.expose_secret(), "the-shared-secret");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ExternalId(String);

impl ExternalId {
    /// Reads the external id from a file, as secret managers and orchestrators mount them: the
    /// whole file, without its trailing line break. The file must exist and hold a valid id;
    /// errors name the file, never the value.
    pub fn from_file(path: impl AsRef<Path>) -> Result<ExternalId> {
        let path = path.as_ref();
        let file_error = |kind: ErrorKind, message: String| {
            Error::new(kind, message)
                .with_file(path)
                .with_field("external_id")
        };
        let file = std::fs::File::open(path).map_err(|e| {
            let kind = match e.kind() {
                std::io::ErrorKind::NotFound => ErrorKind::NotFound,
                // The user named this file: any other failure to open it is bad input too.
                _ => ErrorKind::InvalidInput,
            };
            file_error(kind, format!("cannot read the external id file: {e}"))
        })?;
        // Read at most one byte more than the longest id and its line break: a wrong path (a
        // device, a huge file) must not be read to its end.
        let mut bytes = Vec::new();
        file.take(MAX_LEN as u64 + 3)
            .read_to_end(&mut bytes)
            .map_err(|e| {
                file_error(
                    ErrorKind::InvalidInput,
                    format!("cannot read the external id file: {e}"),
                )
            })?;
        if bytes.len() > MAX_LEN + 2 {
            return Err(file_error(
                ErrorKind::InvalidInput,
                format!("the external id file is longer than the {MAX_LEN} characters STS accepts"),
            ));
        }
        let text = String::from_utf8(bytes).map_err(|_| {
            file_error(
                ErrorKind::InvalidInput,
                "the external id file is not UTF-8 text".to_owned(),
            )
        })?;
        let value = text.trim_end_matches(['\n', '\r']);
        if value.is_empty() {
            return Err(file_error(
                ErrorKind::InvalidInput,
                "the external id file is empty".to_owned(),
            ));
        }
        let id = ExternalId(value.to_owned());
        id.check().map_err(|e| e.with_file(path))?;
        Ok(id)
    }

    /// Checks STS's rules (length and characters). The error says what is wrong without the
    /// value: error messages end up in CI logs.
    pub fn check(&self) -> Result<()> {
        let invalid = |why: String| Error::invalid_input(why).with_field("external_id");
        let len = self.0.chars().count();
        if !(MIN_LEN..=MAX_LEN).contains(&len) {
            return Err(invalid(format!(
                "the external id has length {len}; STS accepts {MIN_LEN} to {MAX_LEN} characters"
            )));
        }
        if let Some((position, bad)) =
            self.0.chars().enumerate().find(|(_, c)| {
                !(c.is_ascii_alphanumeric() || *c == '_' || EXTRA_CHARS.contains(*c))
            })
        {
            // Whitespace is the usual mistake (a copied value, a file with a trailing space);
            // saying so gives nothing of a valid id away.
            let what = if bad.is_whitespace() {
                "whitespace"
            } else {
                "a character STS does not accept"
            };
            return Err(invalid(format!(
                "the external id has {what} at position {} of {len}; STS accepts letters, \
                 digits and _{EXTRA_CHARS}",
                position + 1
            )));
        }
        Ok(())
    }

    /// The value, for the one place that sends it (STS AssumeRole).
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl From<String> for ExternalId {
    /// Wraps a value as given; [`check`](ExternalId::check) (run by `AwsOptions::validate`)
    /// judges it.
    fn from(value: String) -> Self {
        ExternalId(value)
    }
}

impl From<&str> for ExternalId {
    fn from(value: &str) -> Self {
        ExternalId(value.to_owned())
    }
}

impl<'de> serde::Deserialize<'de> for ExternalId {
    /// From a string, as given; checked with the other options.
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        String::deserialize(deserializer).map(ExternalId)
    }
}

impl fmt::Debug for ExternalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ExternalId(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "s3cr3t-Ext-1d";

    #[test]
    fn debug_never_shows_the_value() {
        let id = ExternalId::from(SECRET);
        assert_eq!(format!("{id:?}"), "ExternalId(<redacted>)");
        assert!(!format!("{:#?}", Some(id)).contains(SECRET));
    }

    #[test]
    fn invalid_values_are_refused_without_being_echoed() {
        for (value, expected) in [
            ("Q", "has length 1; STS accepts 2 to 1224"),
            ("has space-in-it", "whitespace at position 4 of 15"),
            (
                "semi;colon",
                "a character STS does not accept at position 5 of 10",
            ),
        ] {
            let err = ExternalId::from(value).check().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput);
            assert_eq!(err.context().field.as_deref(), Some("external_id"));
            let message = err.to_string();
            assert!(message.contains(expected), "{message}");
            assert!(!message.contains(value), "{message} echoes the value");
        }
        let long = "a".repeat(MAX_LEN + 1);
        assert!(ExternalId::from(long).check().is_err());
        assert!(ExternalId::from("a".repeat(MAX_LEN)).check().is_ok());
        assert!(ExternalId::from("Ab_+=,.@:/-9").check().is_ok());
    }

    /// A file in a directory of this test process's own.
    fn file(name: &str, contents: Option<&[u8]>) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("kms-rotation-extid-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        let _ = std::fs::remove_file(&path);
        if let Some(contents) = contents {
            std::fs::write(&path, contents).unwrap();
        }
        path
    }

    #[test]
    fn a_file_gives_the_value_without_its_line_break() {
        for (name, contents) in [("lf", "\n"), ("crlf", "\r\n"), ("bare", "")] {
            let path = file(name, Some(format!("{SECRET}{contents}").as_bytes()));
            let id = ExternalId::from_file(&path).unwrap();
            assert_eq!(id.expose_secret(), SECRET, "{name}");
        }
    }

    #[test]
    fn a_missing_or_empty_file_is_named_and_bad_contents_are_not_echoed() {
        let missing = file("missing", None);
        let err = ExternalId::from_file(&missing).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(err.to_string().contains(missing.to_str().unwrap()), "{err}");

        for (name, contents) in [("empty", &b""[..]), ("newline", &b"\n"[..])] {
            let path = file(name, Some(contents));
            let err = ExternalId::from_file(&path).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{name}");
            assert!(err.to_string().contains(path.to_str().unwrap()), "{err}");
            assert!(err.to_string().contains("is empty"), "{err}");
        }

        let spaced = file("spaced", Some(format!("{SECRET} \n").as_bytes()));
        let err = ExternalId::from_file(&spaced).unwrap_err();
        assert!(err.to_string().contains(spaced.to_str().unwrap()), "{err}");
        assert!(err.to_string().contains("whitespace"), "{err}");
        assert!(!err.to_string().contains(SECRET), "{err}");

        let binary = file("binary", Some(&[0xff, 0xfe, b'a']));
        let err = ExternalId::from_file(&binary).unwrap_err();
        assert!(err.to_string().contains("not UTF-8"), "{err}");

        // Longer than STS allows: refused after reading only a bounded prefix.
        let huge = file("huge", Some("a".repeat(1 << 20).as_bytes()));
        let err = ExternalId::from_file(&huge).unwrap_err();
        assert!(err.to_string().contains("longer than"), "{err}");
    }
}
