//! From flags to the core's options. Each flag's field is named after the core option it sets,
//! so serialization carries them over; the core fills in what is left, checks everything and
//! names the field of a bad value, which is turned back into the flag a person typed.

use clap::CommandFactory;
use kms_rotation::{Error, ErrorKind, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The core's options `T` from the flags `args` (and any fields `extra` adds).
pub fn from_flags<T: DeserializeOwned>(
    args: &impl Serialize,
    extra: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>),
) -> Result<T> {
    let mut value = serde_json::to_value(args).map_err(|e| {
        Error::new(
            ErrorKind::Unexpected,
            format!("cannot convert the flags: {e}"),
        )
    })?;
    if let serde_json::Value::Object(map) = &mut value {
        extra(map);
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let field = e.path().to_string();
        let err = Error::invalid_input(e.into_inner().to_string());
        match field.as_str() {
            "" | "." => err,
            _ => err.with_field(field),
        }
    })
}

/// Core fields whose flag is not named after them: the organisation's `exclude_accounts` is
/// --org-exclude-account, apart from plan's --exclude-account (`selection.exclude.accounts`).
const RENAMED_FIELDS: &[(&str, &str)] = &[("exclude_accounts", "org_exclude_accounts")];

/// `err` with the field the core named (`regions[0]`, `selection.include.tags`) replaced by the
/// flag of `subcommand` that sets it (`--region`, `--include-tag`), when there is one.
pub fn name_the_flag(err: Error, subcommand: &str) -> Error {
    let Some(field) = err.context().field.clone() else {
        return err;
    };
    // `scan.regions[0]` (plan's scan options) is `regions`.
    let path: Vec<&str> = field
        .split('.')
        .map(|part| part.split('[').next().unwrap_or(part))
        .filter(|part| !matches!(*part, "" | "scan"))
        .collect();
    let id = match RENAMED_FIELDS.iter().find(|(core, _)| path == [*core]) {
        Some((_, id)) => id.to_string(),
        None => path
            .iter()
            .filter(|part| **part != "selection")
            .copied()
            .collect::<Vec<_>>()
            .join("_"),
    };
    let command = crate::Cli::command();
    let flag = command
        .find_subcommand(subcommand)
        .and_then(|sub| sub.get_arguments().find(|arg| arg.get_id() == id.as_str()))
        .and_then(|arg| arg.get_long().map(|long| format!("--{long}")));
    match flag {
        Some(flag) => err.with_field(flag),
        None => err,
    }
}

/// A clap value parser for one of the core's named enums (a document's formats, say): `names`
/// are the possible values, and the core parses them, so the CLI keeps no list of its own.
pub fn wire_enum<T>(
    names: impl IntoIterator<Item = &'static str>,
) -> impl clap::builder::TypedValueParser<Value = T>
where
    T: std::str::FromStr<Err = Error> + Clone + Send + Sync + 'static,
{
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(names).try_map(|name| name.parse::<T>())
}
