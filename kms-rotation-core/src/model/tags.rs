//! A key's tags.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A key's tags, sorted by tag key, each key once: a JSON object, as a `BTreeMap` would be.
///
/// A sorted list rather than a `BTreeMap` because a scan keeps every key's tags until it
/// reports: most keys have one to three tags, and a B-tree allocates a node with room for
/// eleven (about 550 bytes) for the first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Tags(Vec<(String, String)>);

impl Tags {
    /// No tags.
    pub fn new() -> Self {
        Tags::default()
    }

    /// The value of tag `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        let at = self.position(key).ok()?;
        Some(&self.0[at].1)
    }

    /// Whether the key has tag `key`.
    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_ok()
    }

    /// Sets tag `key` to `value`; returns the value it replaced.
    pub fn insert(&mut self, key: String, value: String) -> Option<String> {
        match self.position(&key) {
            Ok(at) => Some(std::mem::replace(&mut self.0[at].1, value)),
            Err(at) => {
                self.0.insert(at, (key, value));
                None
            }
        }
    }

    /// The tags in key order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> {
        self.into_iter()
    }

    /// How many tags.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn position(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }
}

/// Later pairs win over earlier ones with the same key, as with `BTreeMap`; the list keeps
/// only its items (it lives as long as the scan).
impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Tags {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(pairs: I) -> Self {
        let mut pairs: Vec<(String, String)> = (pairs.into_iter())
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        // Stable: of a key's pairs, the last given is the last of its run.
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let mut tags: Vec<(String, String)> = Vec::with_capacity(pairs.len());
        for pair in pairs {
            match tags.last_mut() {
                Some(last) if last.0 == pair.0 => *last = pair,
                _ => tags.push(pair),
            }
        }
        tags.shrink_to_fit();
        Tags(tags)
    }
}

impl<'a> IntoIterator for &'a Tags {
    type Item = (&'a str, &'a str);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, String)>,
        fn(&'a (String, String)) -> (&'a str, &'a str),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl<K: Into<String>, V: Into<String>, const N: usize> From<[(K, V); N]> for Tags {
    fn from(pairs: [(K, V); N]) -> Self {
        pairs.into_iter().collect()
    }
}

impl From<BTreeMap<String, String>> for Tags {
    fn from(map: BTreeMap<String, String>) -> Self {
        let mut tags = Vec::with_capacity(map.len());
        tags.extend(map);
        Tags(tags)
    }
}

impl From<&Tags> for BTreeMap<String, String> {
    fn from(tags: &Tags) -> Self {
        tags.0.iter().cloned().collect()
    }
}

impl Serialize for Tags {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Tags {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TagsVisitor;

        impl<'de> Visitor<'de> for TagsVisitor {
            type Value = Tags;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("an object of tag keys and values")
            }

            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Tags, M::Error> {
                let mut pairs: Vec<(String, String)> = Vec::new();
                while let Some(pair) = map.next_entry()? {
                    pairs.push(pair);
                }
                Ok(pairs.into_iter().collect())
            }
        }

        deserializer.deserialize_map(TagsVisitor)
    }
}

impl schemars::JsonSchema for Tags {
    fn schema_name() -> Cow<'static, str> {
        BTreeMap::<String, String>::schema_name()
    }

    fn inline_schema() -> bool {
        BTreeMap::<String, String>::inline_schema()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        BTreeMap::<String, String>::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_sorted_and_the_last_of_a_key_wins() {
        let tags: Tags = [("team", "a"), ("env", "prod"), ("team", "b")]
            .into_iter()
            .collect();
        assert_eq!(
            tags.iter().collect::<Vec<_>>(),
            [("env", "prod"), ("team", "b")]
        );
        assert_eq!(tags.get("team"), Some("b"));
        assert_eq!(tags.get("owner"), None);
    }

    #[test]
    fn json_is_an_object_even_when_empty() {
        let tags: Tags = [("b", "2"), ("a", "1")].into_iter().collect();
        assert_eq!(
            serde_json::to_string(&tags).unwrap(),
            r#"{"a":"1","b":"2"}"#
        );
        assert_eq!(serde_json::to_string(&Tags::new()).unwrap(), "{}");
    }

    #[test]
    fn reads_an_object_like_a_btree_map_and_refuses_anything_else() {
        let json = r#"{"team": "a", "env": "prod", "team": "b"}"#;
        let tags: Tags = serde_json::from_str(json).unwrap();
        let map: BTreeMap<String, String> = serde_json::from_str(json).unwrap();
        assert_eq!(BTreeMap::from(&tags), map);
        assert!(serde_json::from_str::<Tags>(r#"[["team", "a"]]"#).is_err());
        assert!(serde_json::from_str::<Tags>(r#"{"team": 1}"#).is_err());
    }

    #[test]
    fn insert_keeps_the_order_and_replaces() {
        let mut tags = Tags::new();
        assert_eq!(tags.insert("b".into(), "1".into()), None);
        assert_eq!(tags.insert("a".into(), "2".into()), None);
        assert_eq!(tags.insert("b".into(), "3".into()), Some("1".into()));
        assert_eq!(tags.iter().collect::<Vec<_>>(), [("a", "2"), ("b", "3")]);
        assert!(tags.contains_key("a") && !tags.contains_key("c"));
    }

    #[test]
    fn the_schema_is_a_string_map() {
        assert_eq!(
            schemars::schema_for!(Tags),
            schemars::schema_for!(BTreeMap<String, String>)
        );
    }
}
