//! Files an operation writes (reports, plans, inventories): through a `.partial` file renamed
//! into place, so that a reader never sees half a file and a failed write leaves any previous
//! file intact.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::{Error, ErrorKind, Result};

/// Writes `path` atomically with `write`.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<()> {
    let unwritable = |e: std::io::Error| {
        Error::new(ErrorKind::Unavailable, format!("cannot write: {e}")).with_file(path)
    };
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let mut file = BufWriter::new(std::fs::File::create(&partial).map_err(unwritable)?);
    if let Err(e) = write(&mut file) {
        drop(file);
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    file.into_inner()
        .map_err(|e| unwritable(e.into_error()))?
        .sync_all()
        .map_err(unwritable)?;
    std::fs::rename(&partial, path).map_err(unwritable)
}

/// Writes `value` as pretty JSON, atomically.
pub fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    write_atomically(path, |out| {
        crate::document::json(out, value).map_err(Error::from)
    })
}
