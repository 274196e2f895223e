//! The names of the enums that appear in data and options: a finding's status and reason, a
//! plan's actions and skips, results, journal events, policy settings, the AWS values of a key
//! record, report and plan formats, and error kinds.
//!
//! Every such enum has one way to be named. serde names it (`rename_all`, or AWS's spelling per
//! value) and strum derives the same names by the same rule (`serialize_all`): its
//! `IntoStaticStr` gives a value's name without a hand-written table, and `VariantArray` the
//! list of values. [`wire_names!`] turns those into the API every such enum has: `ALL`,
//! `as_str`, `Display`, and a `FromStr` whose error lists the names. That strum's names are
//! serde's, value for value, is checked by `tests/wire_names.rs`.

use crate::{Error, Result};

/// Gives `$name`, which derives strum's `IntoStaticStr` and `VariantArray`, the API of a wire
/// enum: `ALL` (every value, in declaration order), `as_str`, `Display` and `FromStr`. `$what`
/// names the enum in a parse error: "unknown $what `x`, expected one of: ...".
macro_rules! wire_names {
    ($name:ident, $what:literal) => {
        impl $name {
            /// Every value, in declaration order.
            // An array rather than strum's slice, so that `for v in ALL` yields values.
            pub const ALL: [$name; <$name as strum::VariantArray>::VARIANTS.len()] =
                match <$name as strum::VariantArray>::VARIANTS.first_chunk() {
                    Some(all) => *all,
                    None => unreachable!(),
                };

            /// The name in files, options and messages: the same as serde's.
            pub fn as_str(self) -> &'static str {
                self.into()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = crate::Error;

            fn from_str(s: &str) -> crate::Result<Self> {
                crate::wire::parse(s, &$name::ALL, $what)
            }
        }
    };
}

pub(crate) use wire_names;

/// The value of `all` named `name`; the error lists every name.
pub(crate) fn parse<T: Copy + Into<&'static str>>(name: &str, all: &[T], what: &str) -> Result<T> {
    all.iter()
        .copied()
        .find(|value| (*value).into() == name)
        .ok_or_else(|| {
            let names: Vec<&str> = all.iter().map(|value| (*value).into()).collect();
            Error::invalid_input(format!(
                "unknown {what} `{name}`, expected one of: {}",
                names.join(", ")
            ))
        })
}
