//! One part of a scan split over `n` processes: `--shard i/n` reads the account and region pairs
//! whose stable hash is `i` modulo `n`. `i` is 0-based (`0/4` to `3/4`), like Kubernetes'
//! `JOB_COMPLETION_INDEX` and a GitHub Actions matrix index.
//!
//! The hash is FNV-1a (64 bits) of `ACCOUNT:REGION`: the same in every process, release and
//! platform (Rust's own hasher is seeded at random), so that `n` processes with the same account
//! list split it without overlap or gap, and `merge` can tell a whole set from one missing a part.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Error, Result};

/// Part `index` of `count` (0-based), written `index/count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Shard {
    /// This part, from 0 to `count - 1`.
    pub index: u32,
    /// How many parts the scan is split into, at least 1.
    pub count: u32,
}

impl Shard {
    /// Whether `account` in `region` is this part's to read.
    pub fn owns(&self, account: &str, region: &str) -> bool {
        let hash = fnv1a(&[account.as_bytes(), b":", region.as_bytes()]);
        hash % u64::from(self.count) == u64::from(self.index)
    }

    /// Every part of the same split, this one included.
    pub fn all(&self) -> impl Iterator<Item = Shard> + use<> {
        let count = self.count;
        (0..count).map(move |index| Shard { index, count })
    }
}

/// FNV-1a, 64 bits, of the concatenated `parts`.
fn fnv1a(parts: &[&[u8]]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    parts
        .iter()
        .flat_map(|part| part.iter())
        .fold(OFFSET, |hash, byte| {
            (hash ^ u64::from(*byte)).wrapping_mul(PRIME)
        })
}

impl FromStr for Shard {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        let refuse = |why: &str| {
            Error::invalid_input(format!(
                "`{text}` {why}; expected INDEX/COUNT with INDEX from 0 to COUNT-1 (0/4 .. 3/4)"
            ))
            .with_field("shard")
        };
        let (index, count) = text.split_once('/').ok_or_else(|| refuse("has no `/`"))?;
        let number = |s: &str| {
            s.parse::<u32>()
                .ok()
                .filter(|_| s.bytes().all(|b| b.is_ascii_digit()))
        };
        let (Some(index), Some(count)) = (number(index), number(count)) else {
            return Err(refuse("is not two whole numbers"));
        };
        if count == 0 {
            return Err(refuse("has no parts"));
        }
        if index >= count {
            return Err(refuse(
                "names a part past the last (parts are counted from 0)",
            ));
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Serialize for Shard {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Shard {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for Shard {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Shard".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A part of a split scan, `INDEX/COUNT`, 0-based (`0/4` to `3/4`).",
            "type": "string",
            "pattern": "^[0-9]+/[0-9]+$"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_written_index_slash_count_from_zero() {
        let shard: Shard = "3/4".parse().unwrap();
        assert_eq!(shard, Shard { index: 3, count: 4 });
        assert_eq!(shard.to_string(), "3/4");
        for bad in [
            "4/4", "1/0", "1", "a/4", "-1/4", "+1/4", "1/4/2", " 1/4", "",
        ] {
            let err = bad.parse::<Shard>().unwrap_err();
            assert_eq!(err.context().field.as_deref(), Some("shard"), "{bad}");
            assert!(err.to_string().contains(&format!("`{bad}`")), "{err}");
        }
    }

    #[test]
    fn every_pair_belongs_to_exactly_one_shard() {
        let accounts = ["111111111111", "222222222222", "333333333333"];
        let regions = ["eu-west-1", "us-east-1", "us-west-2", "ap-south-1"];
        let mut sizes = [0; 4];
        for account in accounts {
            for region in regions {
                let owners: Vec<Shard> = Shard { index: 0, count: 4 }
                    .all()
                    .filter(|s| s.owns(account, region))
                    .collect();
                let [owner] = owners.as_slice() else {
                    panic!("{account} {region}: {owners:?}")
                };
                sizes[owner.index as usize] += 1;
            }
        }
        assert_eq!(sizes.iter().sum::<usize>(), 12);
    }

    /// The split must not change between releases: parts scanned by two versions are merged.
    #[test]
    fn the_hash_is_fnv1a_and_stable() {
        // Published FNV-1a 64 test vectors.
        assert_eq!(fnv1a(&[b""]), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(&[b"a"]), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(&[b"fo", b"obar"]), 0x8594_4171_f739_67e8);
        let owner = |account, region| {
            Shard { index: 0, count: 7 }
                .all()
                .find(|s| s.owns(account, region))
                .unwrap()
                .index
        };
        let expected = fnv1a(&[b"123456789012:eu-west-1"]) % 7;
        assert_eq!(u64::from(owner("123456789012", "eu-west-1")), expected);
    }

    #[test]
    fn shards_cross_json_as_strings() {
        let shard: Shard = serde_json::from_str("\"0/2\"").unwrap();
        assert_eq!(serde_json::to_string(&shard).unwrap(), "\"0/2\"");
        assert!(serde_json::from_str::<Shard>("\"2/2\"").is_err());
    }
}
