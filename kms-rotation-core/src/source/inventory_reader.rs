//! Reading an inventory file one record at a time: a JSON inventory is never held whole, as
//! text or as records, so a scan of it holds only what it keeps of each record (its finding).
//!
//! Fail closed: the caller is handed records before the end of the file is reached, so an error
//! anywhere (a malformed record, a truncated file, trailing garbage, another format version)
//! means everything it was handed must be dropped, and nothing built from it is complete.

use std::cell::RefCell;
use std::fmt;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::input::{self, Syntax};
use crate::model::{Inventory, KeyRecord, SCHEMA_VERSION};
use crate::{Error, Result};

/// Calls `each` with every record of the inventory at `path`, in file order, with its index in
/// `keys`. JSON is read incrementally; YAML (`.yaml`, `.yml`) is read whole first. Errors name
/// the file, and for malformed input the field (`keys[41237].rotation.enabled`), line and
/// column. An error from `each` stops the read and is returned as it is.
pub(crate) fn for_each_record(
    path: &Path,
    mut each: impl FnMut(usize, KeyRecord) -> Result<()>,
) -> Result<()> {
    match Syntax::of_path(path) {
        Syntax::Yaml => {
            let inventory: Inventory = input::read_file(path)?;
            check_version(inventory.schema_version).map_err(|e| e.with_file(path))?;
            (inventory.keys.into_iter().enumerate()).try_for_each(|(i, record)| each(i, record))
        }
        Syntax::Json => read_json(path, &mut each).map_err(|e| e.with_file(path)),
    }
}

/// How many records the inventory at `path` lists, counted without building them (one quick
/// pass of the parser); `None` for YAML, for anything but a regular file (a pipe such as
/// `/dev/stdin` can be read only once: the read that follows needs it), or when the file
/// cannot be read as an inventory (the read that follows says why). A hint for reserving room,
/// never a fact about the file: it may change before it is read.
pub(crate) fn count_records(path: &Path) -> Option<usize> {
    #[derive(serde::Deserialize)]
    struct Counted {
        keys: Count,
    }
    struct Count(usize);

    impl<'de> serde::Deserialize<'de> for Count {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer.deserialize_seq(CountVisitor)
        }
    }

    struct CountVisitor;

    impl<'de> Visitor<'de> for CountVisitor {
        type Value = Count;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a list")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Count, A::Error> {
            let mut count = 0;
            while seq.next_element::<IgnoredAny>()?.is_some() {
                count += 1;
            }
            Ok(Count(count))
        }
    }

    if Syntax::of_path(path) != Syntax::Json || !is_regular_file(path) {
        return None;
    }
    let file = BufReader::with_capacity(1 << 16, File::open(path).ok()?);
    let counted: Counted = serde_json::from_reader(file).ok()?;
    Some(counted.keys.0)
}

/// Whether `path` is a file that can be read twice (not a pipe, not a device).
fn is_regular_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

/// Another version is refused before its records are read (when, as in the files this tool
/// writes, `schema_version` comes first), not misread.
fn check_version(version: u32) -> Result<()> {
    if version == SCHEMA_VERSION {
        return Ok(());
    }
    Err(Error::invalid_input(format!(
        "version {version} is not supported; this release reads version {SCHEMA_VERSION}"
    ))
    .with_field("schema_version"))
}

type Each<'a> = &'a mut dyn FnMut(usize, KeyRecord) -> Result<()>;

fn read_json(path: &Path, each: Each<'_>) -> Result<()> {
    // Most files are valid: read without tracking the field path (as `input::parse` does), and
    // read again with it only to explain a malformed one.
    let first = match read_json_once(path, each, false) {
        Ok(()) => return Ok(()),
        Err(Failure::Ours(error)) => return Err(error),
        Err(Failure::Syntax(error)) => error,
    };
    // A pipe cannot be read again (a named one would wait for another writer): its error
    // stands without the field path.
    if !is_regular_file(path) {
        return Err(first);
    }
    match read_json_once(path, &mut |_, _| Ok(()), true) {
        Err(Failure::Syntax(error)) => Err(error),
        // The file changed between the two reads: the first error stands, without its path.
        _ => Err(first),
    }
}

enum Failure {
    /// The file is not a valid inventory (with the field path when it was tracked).
    Syntax(Error),
    /// Everything else: the file cannot be opened, another version, an error from `each`.
    Ours(Error),
}

fn read_json_once(path: &Path, each: Each<'_>, track_path: bool) -> Result<(), Failure> {
    let file = File::open(path).map_err(|e| Failure::Ours(Error::from(e).with_retryable(false)))?;
    let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(1 << 16, file));
    let stopped = RefCell::new(None);
    let seed = InventorySeed {
        each: RefCell::new(each),
        stopped: &stopped,
    };
    let read = if track_path {
        let mut track = serde_path_to_error::Track::new();
        let result = seed.deserialize(serde_path_to_error::Deserializer::new(&mut de, &mut track));
        result.map_err(|e| (e, Some(track.path().to_string())))
    } else {
        seed.deserialize(&mut de).map_err(|e| (e, None))
    };
    if let Some(error) = stopped.into_inner() {
        return Err(Failure::Ours(error));
    }
    let end = read.and_then(|()| de.end().map_err(|e| (e, None)));
    end.map_err(|(e, field)| {
        if e.is_io() {
            // The file could not be read (a directory, a disk error): not the user's syntax.
            return Failure::Ours(Error::from(std::io::Error::from(e)).with_retryable(false));
        }
        let mut error = Error::invalid_input(input::strip_position(&e.to_string()))
            .with_position(e.line(), e.column());
        if let Some(field) = field.filter(|f| !f.is_empty() && f != ".") {
            error = error.with_field(field);
        }
        Failure::Syntax(error)
    })
}

/// The inventory object: `schema_version`, `keys` (each record handed on as it is read), and
/// fields this release does not know, ignored as `Inventory` ignores them.
struct InventorySeed<'a, 'b> {
    each: RefCell<Each<'b>>,
    /// Why the read was stopped by us rather than by the parser.
    stopped: &'a RefCell<Option<Error>>,
}

impl InventorySeed<'_, '_> {
    /// Stops the parser with `error`, kept to be returned as it is.
    fn stop<E: de::Error>(&self, error: Error) -> E {
        let message = error.to_string();
        *self.stopped.borrow_mut() = Some(error);
        E::custom(message)
    }
}

impl<'de> DeserializeSeed<'de> for InventorySeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for InventorySeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an inventory: {\"schema_version\": 1, \"keys\": [...]}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let (mut version, mut keys) = (false, false);
        while let Some(field) = map.next_key::<String>()? {
            match field.as_str() {
                "schema_version" if version => {
                    return Err(de::Error::duplicate_field("schema_version"));
                }
                "schema_version" => {
                    version = true;
                    let value: u32 = map.next_value()?;
                    check_version(value).map_err(|e| self.stop::<A::Error>(e))?;
                }
                "keys" if keys => return Err(de::Error::duplicate_field("keys")),
                "keys" => {
                    keys = true;
                    map.next_value_seed(KeysSeed(&self))?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        match (version, keys) {
            (false, _) => Err(de::Error::missing_field("schema_version")),
            (_, false) => Err(de::Error::missing_field("keys")),
            _ => Ok(()),
        }
    }
}

/// The `keys` array: each record goes to `each` as soon as it is parsed, and is not kept.
struct KeysSeed<'s, 'a, 'b>(&'s InventorySeed<'a, 'b>);

impl<'de> DeserializeSeed<'de> for KeysSeed<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for KeysSeed<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of key records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0;
        while let Some(record) = seq.next_element::<KeyRecord>()? {
            let each = &mut *self.0.each.borrow_mut();
            each(index, record).map_err(|e| self.0.stop::<A::Error>(e))?;
            index += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_is_refused_before_any_record_when_it_comes_first() {
        let dir = std::env::temp_dir().join(format!("kms-rotation-reader-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("v2.json");
        std::fs::write(&path, "{\"schema_version\": 2, \"keys\": [{\"arn\": 1}]}").unwrap();
        let mut handed = 0;
        let err = for_each_record(&path, |_, _| {
            handed += 1;
            Ok(())
        })
        .unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(err.context().field.as_deref(), Some("schema_version"));
        assert_eq!(handed, 0);
    }

    #[test]
    fn records_are_counted_without_reading_them_and_anything_else_is_no_count() {
        let dir = std::env::temp_dir().join(format!("kms-rotation-count-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let write = |name: &str, text: &str| {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        let json = r#"{"keys": [{"arn": 1}, {"nested": [1, 2]}, "x"], "schema_version": 1}"#;
        assert_eq!(count_records(&write("a.json", json)), Some(3));
        assert_eq!(
            count_records(&write("b.json", r#"{"keys": [], "schema_version": 1}"#)),
            Some(0)
        );
        assert_eq!(count_records(&write("c.json", r#"{"keys": [1, "#)), None);
        assert_eq!(count_records(&write("d.yaml", "keys: []\n")), None);
        assert_eq!(count_records(&dir.join("missing.json")), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Reads what `for_each_record` makes of `text` written into a named pipe by another
    /// thread: the records' ARNs, or the error. `check` runs on the pipe before the read.
    #[cfg(unix)]
    fn read_from_pipe(
        name: &str,
        text: &'static str,
        check: impl FnOnce(&Path),
    ) -> Result<Vec<String>> {
        let dir = std::env::temp_dir().join(format!("kms-rotation-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("inventory.json");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        check(&fifo);
        let writer = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::write(&fifo, text).unwrap())
        };
        let mut arns = Vec::new();
        let read = for_each_record(&fifo, |_, record| {
            arns.push(record.arn);
            Ok(())
        });
        writer.join().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        read.map(|()| arns)
    }

    /// A pipe is read once, by the read itself: counting would consume it.
    #[cfg(unix)]
    #[test]
    fn a_pipe_is_not_counted_and_is_read_whole() {
        let text = r#"{"schema_version": 1, "keys": [{"arn": "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", "key_manager": "CUSTOMER", "key_spec": "SYMMETRIC_DEFAULT", "origin": "AWS_KMS", "key_state": "Enabled"}]}"#;
        let arns = read_from_pipe("pipe", text, |fifo| assert_eq!(count_records(fifo), None));
        assert_eq!(arns.unwrap().len(), 1);
    }

    /// A malformed inventory from a pipe is refused after one read, not read again for the
    /// field path (a named pipe would wait for a writer that never comes).
    #[cfg(unix)]
    #[test]
    fn a_malformed_pipe_is_refused_after_one_read() {
        let text = r#"{"schema_version": 1, "keys": [{"arn": 7}]}"#;
        let err = read_from_pipe("bad-pipe", text, |_| {}).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidInput, "{err}");
    }
}
