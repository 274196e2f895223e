//! The config file: flags written down. Each key is a flag's long name without `--`, each value
//! what the flag would be given (a list for a repeatable flag):
//!
//! ```yaml
//! region: [eu-west-1, us-east-1]   # every command with --region
//! profile: audit
//! scan:                            # only `scan`, over the keys above
//!   fail-on: error
//! ```
//!
//! A top-level key applies to every command that has the flag, so its value must suit each of
//! them; a section named after a command applies to that command only, and wins. Fail closed:
//! an unknown key, a key in the wrong place, a bad value or a list for a single-valued flag is
//! an error naming the file, line, column and key, before anything runs. Values are checked by
//! the flags' own parsers, so a file accepts exactly what the command line does.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use clap::{Arg, ArgAction, Command};
use kms_rotation::{Error, Result};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::settings;

/// Flag values read from a config file, checked against the command they configure.
#[derive(Debug, Default)]
pub struct Config {
    /// Top-level keys: (flag, values).
    shared: Vec<(String, Vec<String>)>,
    /// Per command: (flag, values).
    sections: BTreeMap<String, Vec<(String, Vec<String>)>>,
}

impl Config {
    /// Reads `path` and checks every key and value against `command` (the whole command line,
    /// subcommands included).
    pub fn read(path: &Path, command: &Command) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::from(e).with_file(path).with_retryable(false))?;
        Config::parse(&text, command).map_err(|e| e.with_file(path))
    }

    fn parse(text: &str, command: &Command) -> Result<Config> {
        // Built, so that every subcommand lists the global flags and each flag's parser is set.
        let mut built = command.clone();
        built.build();
        let seed = FileSeed { command: &built };
        seed.deserialize(serde_yaml_ng::Deserializer::from_str(text))
            .map_err(|e| {
                let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
                let message = e.to_string();
                // serde_yaml_ng ends its message with the position, which `Error` prints first.
                let message = match message.rfind(" at line ") {
                    Some(at) => message[..at].to_owned(),
                    None => message,
                };
                Error::invalid_input(message).with_position(line, column)
            })
    }

    /// `command` with the file's values as the defaults of its flags: a flag typed, or set in
    /// the environment, still wins (clap reads both before defaults).
    pub fn apply(&self, mut command: Command) -> Command {
        let globals: BTreeSet<String> = command
            .get_arguments()
            .filter_map(|a| a.get_long().map(str::to_owned))
            .collect();
        for (key, values) in &self.shared {
            if globals.contains(key) {
                let id = id_of(&command, key);
                command = command.mut_arg(id, |a| with_default(a, values));
            }
        }
        command.mut_subcommands(|mut sub| {
            let own = self.sections.get(sub.get_name());
            // Top-level keys first, so that the command's own section overrides them.
            for (key, values) in self.shared.iter().chain(own.into_iter().flatten()) {
                if sub
                    .get_arguments()
                    .any(|a| a.get_long() == Some(key.as_str()))
                {
                    let id = id_of(&sub, key);
                    sub = sub.mut_arg(id, |a| with_default(a, values));
                }
            }
            sub
        })
    }
}

fn id_of(command: &Command, long: &str) -> String {
    command
        .get_arguments()
        .find(|a| a.get_long() == Some(long))
        .map_or_else(|| long.to_owned(), |a| a.get_id().to_string())
}

/// A value from the file is a default: not required on the command line any more.
fn with_default(arg: Arg, values: &[String]) -> Arg {
    arg.default_values(values.to_vec()).required(false)
}

/// The flag of `command` that `key` names, if it may be set from a file.
fn flag<'c>(command: &'c Command, key: &str) -> Option<&'c Arg> {
    command
        .get_arguments()
        .find(|a| a.get_long() == Some(key))
        .filter(|a| settings::from_elsewhere(a) && a.get_id() != "config")
}

/// Why `key` has no place where it was written, in words for the person who wrote it.
fn misplaced(command: &Command, section: Option<&str>, key: &str) -> String {
    match key {
        "yes" => {
            return "`yes` is never read from a config file (nor the environment): a write is \
                    asked for by typing --yes"
                .to_owned();
        }
        "config" => {
            return "a config file cannot name another: use --config or KMS_ROTATION_CONFIG"
                .to_owned();
        }
        _ => {}
    }
    let is_flag_of = |c: &Command| flag(c, key).is_some();
    match section {
        Some(name) if command.get_arguments().any(|a| a.get_long() == Some(key)) => {
            format!("`{key}` applies to every command: set it at the top level, not under `{name}`")
        }
        Some(name) => {
            let others: Vec<&str> = command
                .get_subcommands()
                .filter(|c| is_flag_of(c))
                .map(Command::get_name)
                .collect();
            if others.is_empty() {
                format!("unknown key `{key}`: `{name}` has no flag --{key}")
            } else {
                format!(
                    "`{name}` has no flag --{key} (it is a flag of: {})",
                    others.join(", ")
                )
            }
        }
        None => format!("unknown key `{key}`: no command has a flag --{key}"),
    }
}

/// The whole file: top-level keys and sections.
struct FileSeed<'c> {
    command: &'c Command,
}

impl<'de> DeserializeSeed<'de> for FileSeed<'_> {
    type Value = Config;
    fn deserialize<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> std::result::Result<Config, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FileSeed<'_> {
    type Value = Config;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "a mapping of flag names (without --) to values, and of command names to such mappings",
        )
    }

    /// An empty file configures nothing.
    fn visit_unit<E: de::Error>(self) -> std::result::Result<Config, E> {
        Ok(Config::default())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Config, A::Error> {
        let mut config = Config::default();
        let mut seen = BTreeSet::new();
        while let Some(key) = map.next_key_seed(KeySeed {
            command: self.command,
            section: None,
            seen: &mut seen,
        })? {
            match key {
                Key::Section(sub) => {
                    let entries = map.next_value_seed(SectionSeed {
                        root: self.command,
                        sub,
                    })?;
                    config.sections.insert(sub.get_name().to_owned(), entries);
                }
                Key::Flag(key) => {
                    // Shared: it must suit every command it configures.
                    let targets: Vec<(&str, &Arg)> = match flag(self.command, &key) {
                        Some(global) => vec![("", global)],
                        None => self
                            .command
                            .get_subcommands()
                            .filter_map(|c| flag(c, &key).map(|a| (c.get_name(), a)))
                            .collect(),
                    };
                    let values = map.next_value_seed(ValueSeed {
                        targets,
                        in_list: false,
                    })?;
                    config.shared.push((key, values));
                }
            }
        }
        Ok(config)
    }
}

enum Key<'c> {
    Section(&'c Command),
    Flag(String),
}

/// One key, checked where it stands, so that an error points at it.
struct KeySeed<'c, 's> {
    command: &'c Command,
    /// The section the key is in, or `None` at the top level.
    section: Option<&'c Command>,
    seen: &'s mut BTreeSet<String>,
}

impl<'de, 'c> DeserializeSeed<'de> for KeySeed<'c, '_> {
    type Value = Key<'c>;
    fn deserialize<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> std::result::Result<Key<'c>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de, 'c> Visitor<'de> for KeySeed<'c, '_> {
    type Value = Key<'c>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a flag name without --")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> std::result::Result<Key<'c>, E> {
        if !self.seen.insert(key.to_owned()) {
            return Err(E::custom(format!("`{key}` is set twice")));
        }
        let section = self.section.map(Command::get_name);
        if section.is_none()
            && let Some(sub) = self.command.find_subcommand(key)
        {
            return Ok(Key::Section(sub));
        }
        let known = match self.section {
            Some(sub) => flag(sub, key).is_some_and(|a| !a.is_global_set()),
            None => {
                flag(self.command, key).is_some()
                    || self
                        .command
                        .get_subcommands()
                        .any(|c| flag(c, key).is_some())
            }
        };
        if known {
            Ok(Key::Flag(key.to_owned()))
        } else {
            Err(E::custom(misplaced(self.command, section, key)))
        }
    }
}

/// A command's section.
struct SectionSeed<'c> {
    root: &'c Command,
    sub: &'c Command,
}

impl<'de> DeserializeSeed<'de> for SectionSeed<'_> {
    type Value = Vec<(String, Vec<String>)>;
    fn deserialize<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> std::result::Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for SectionSeed<'_> {
    type Value = Vec<(String, Vec<String>)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a mapping of `{}` flag names (without --) to values",
            self.sub.get_name()
        )
    }

    fn visit_unit<E: de::Error>(self) -> std::result::Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_map<A: MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        let mut entries = Vec::new();
        let mut seen = BTreeSet::new();
        while let Some(key) = map.next_key_seed(KeySeed {
            command: self.root,
            section: Some(self.sub),
            seen: &mut seen,
        })? {
            let Key::Flag(key) = key else {
                return Err(de::Error::custom("a section holds flags, not sections"));
            };
            let arg = flag(self.sub, &key);
            let targets = arg.map(|a| ("", a)).into_iter().collect();
            let values = map.next_value_seed(ValueSeed {
                targets,
                in_list: false,
            })?;
            entries.push((key, values));
        }
        Ok(entries)
    }
}

/// A flag's value or list of values, as the flag's own parser accepts them.
struct ValueSeed<'c> {
    /// (command, flag) pairs that will take the value; the command is named in errors when the
    /// value is shared.
    targets: Vec<(&'c str, &'c Arg)>,
    /// An element of a list, which cannot be a list itself.
    in_list: bool,
}

impl ValueSeed<'_> {
    fn check<E: de::Error>(self, values: Vec<String>) -> std::result::Result<Vec<String>, E> {
        for (command, arg) in &self.targets {
            check(arg, &values).map_err(|message| match command {
                _ if self.targets.len() < 2 => E::custom(message),
                command => E::custom(format!("for `{command}`: {message}")),
            })?;
        }
        Ok(values)
    }
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Vec<String>;
    fn deserialize<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> std::result::Result<Vec<String>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Vec<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value, or a list of values for a repeatable flag")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Vec<String>, E> {
        self.check(vec![v.to_owned()])
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> std::result::Result<Vec<String>, E> {
        self.check(vec![v.to_string()])
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Vec<String>, E> {
        self.check(vec![v.to_string()])
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Vec<String>, E> {
        self.check(vec![v.to_string()])
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Vec<String>, E> {
        self.check(vec![v.to_string()])
    }

    fn visit_unit<E: de::Error>(self) -> std::result::Result<Vec<String>, E> {
        Err(E::custom("no value: remove the key, or give it one"))
    }

    fn visit_seq<A: SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<Vec<String>, A::Error> {
        if self.in_list {
            return Err(de::Error::custom("a list holds values, not lists"));
        }
        let mut values = Vec::new();
        while let Some(value) = seq.next_element_seed(ValueSeed {
            targets: Vec::new(),
            in_list: true,
        })? {
            values.extend(value);
        }
        self.check(values)
    }
}

/// Whether `arg` accepts `values`: one for a flag that takes one, any number for a repeatable
/// one, each as its parser (numbers, names, enums) accepts it. The message never repeats a
/// value clap does not (the external id's parser accepts anything, so it is never quoted).
fn check(arg: &Arg, values: &[String]) -> std::result::Result<(), String> {
    let many = matches!(arg.get_action(), ArgAction::Append);
    let long = arg.get_long().unwrap_or_default();
    if !many && values.len() != 1 {
        return Err(format!("--{long} takes one value, not a list"));
    }
    let mut probe = Arg::new(arg.get_id().clone())
        .long(long.to_owned())
        .value_parser(arg.get_value_parser().clone())
        .action(if many {
            ArgAction::Append
        } else {
            ArgAction::Set
        });
    if let Some(names) = arg.get_value_names() {
        probe = probe.value_names(names.to_vec());
    }
    // `--flag=value`: a value that starts with `-` stays a value.
    let argv = values.iter().map(|v| format!("--{long}={v}"));
    Command::new("kms-rotation")
        .no_binary_name(true)
        .arg(probe)
        .try_get_matches_from(argv)
        .map(drop)
        .map_err(|e| {
            // clap's message without its usage and tips: the lines before the first blank one.
            let rendered = e.render().to_string();
            let message: Vec<&str> = rendered
                .lines()
                .take_while(|l| !l.trim().is_empty())
                .map(str::trim)
                .collect();
            message.join(" ").trim_start_matches("error: ").to_owned()
        })
}

/// Where the config file is: `--config` or `KMS_ROTATION_CONFIG` when given (it must exist),
/// else `kms-rotation.yaml` in the working directory when there is one.
pub fn locate(named: Option<PathBuf>) -> Option<PathBuf> {
    if named.is_some() {
        return named;
    }
    let default = PathBuf::from(settings::DEFAULT_CONFIG);
    // A file that cannot be looked at is read anyway, so that its error is reported.
    match default.try_exists() {
        Ok(false) => None,
        Ok(true) | Err(_) => Some(default),
    }
}

#[cfg(test)]
mod tests {
    use clap::{ArgMatches, CommandFactory};

    use super::*;
    use crate::exit::FailOn;

    fn parse(text: &str) -> Result<Config> {
        Config::parse(text, &crate::Cli::command())
    }

    /// The matches of `scan` (or the command given first in `argv`) under the config `text`.
    fn matches(text: &str, argv: &[&str]) -> ArgMatches {
        let command = parse(text).unwrap().apply(crate::Cli::command());
        let matches = command
            .try_get_matches_from(["kms-rotation"].iter().chain(argv))
            .unwrap();
        matches.subcommand().unwrap().1.clone()
    }

    fn regions(matches: &ArgMatches) -> Vec<&str> {
        matches
            .get_many::<String>("regions")
            .unwrap()
            .map(String::as_str)
            .collect()
    }

    const FILE: &str = "\
fail-on: none
region: [eu-west-1, us-east-1]
all-tags: true
verbose: 2
scan:
  fail-on: error
apply:
  plan: plan.json
";

    #[test]
    fn a_section_wins_over_the_top_level_and_a_typed_flag_over_both() {
        let scan = matches(FILE, &["scan"]);
        assert_eq!(scan.get_one::<FailOn>("fail_on"), Some(&FailOn::Error));
        assert_eq!(regions(&scan), ["eu-west-1", "us-east-1"]);
        assert_eq!(scan.get_one::<bool>("all_tags"), Some(&true));
        assert_eq!(scan.get_one::<u8>("verbose"), Some(&2));

        let typed = matches(
            FILE,
            &["scan", "--fail-on", "fail", "--region", "ca-central-1"],
        );
        assert_eq!(typed.get_one::<FailOn>("fail_on"), Some(&FailOn::Fail));
        assert_eq!(regions(&typed), ["ca-central-1"], "replaced, not appended");

        // Top-level keys reach every command with the flag.
        assert_eq!(
            regions(&matches(FILE, &["plan"])),
            ["eu-west-1", "us-east-1"]
        );
    }

    #[test]
    fn a_required_flag_may_come_from_the_file() {
        let apply = matches(FILE, &["apply"]);
        assert_eq!(
            apply.get_one::<PathBuf>("plan_file"),
            Some(&PathBuf::from("plan.json"))
        );
    }

    #[test]
    fn an_empty_file_sets_nothing() {
        assert_eq!(
            matches("", &["scan"]).get_one::<FailOn>("fail_on"),
            Some(&FailOn::Fail)
        );
        assert!(parse("# nothing yet\n").is_ok());
    }

    /// Each mistake is refused with its line, column and words that say what to do.
    #[test]
    fn every_mistake_is_refused_where_it_is() {
        for (text, line, column, words) in [
            ("regoin: [eu-west-1]\n", 1, 1, "unknown key `regoin`"),
            ("scan:\n  batch-size: 3\n", 2, 3, "it is a flag of: plan"),
            ("scan:\n  verbose: 1\n", 2, 3, "set it at the top level"),
            ("yes: true\n", 1, 1, "typing --yes"),
            ("apply:\n  yes: true\n", 2, 3, "typing --yes"),
            ("config: other.yaml\n", 1, 1, "cannot name another"),
            ("profile: [a, b]\n", 1, 10, "--profile takes one value"),
            ("region: [eu-west-1, [x]]\n", 1, 21, "a list holds values"),
            ("region:\n", 1, 8, "no value"),
            (
                "scan:\n  fail-on: sometimes\n",
                2,
                12,
                "invalid value 'sometimes'",
            ),
            (
                "scan:\n  batch-size: 3\n",
                2,
                3,
                "`scan` has no flag --batch-size",
            ),
            (
                "format: ndjson\n",
                1,
                9,
                "for `plan`: invalid value 'ndjson'",
            ),
            ("region: a\nregion: b\n", 2, 1, "`region` is set twice"),
            ("plan: plan.json\n", 1, 7, "a mapping of `plan` flag names"),
            ("- region\n", 1, 1, "a mapping of flag names"),
            ("region: [\n", 2, 1, ""),
        ] {
            let err = parse(text).unwrap_err();
            let context = err.context();
            assert_eq!(
                (context.line, context.column),
                (Some(line), Some(column)),
                "{text:?}: {err}"
            );
            assert!(err.to_string().contains(words), "{text:?}: {err}");
            assert_eq!(
                err.kind(),
                kms_rotation::ErrorKind::InvalidInput,
                "{text:?}"
            );
        }
    }

    #[test]
    fn a_value_is_checked_by_the_flag_s_own_parser() {
        let err = parse("scan:\n  read-concurrency: many\n").unwrap_err();
        assert!(err.to_string().contains("--read-concurrency"), "{err}");
        // A value starting with `-` is still a value.
        let err = parse("plan:\n  batch-size: -3\n").unwrap_err();
        assert!(err.to_string().contains("'-3'"), "{err}");
    }
}
