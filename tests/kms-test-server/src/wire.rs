//! The awsJson1_1 wire format: who is calling (from the SigV4 `Authorization` header), what they
//! asked (`X-Amz-Target` and a JSON body), and how errors, pages and timestamps are written.

use std::ops::Range;

use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

pub(crate) const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
const TARGET_PREFIX: &str = "TrentService.";
/// Unsigned requests (curl, hand-written tests) land here.
pub(crate) const DEFAULT_REGION: &str = "us-east-1";

/// An error reply: `{"__type": code, "message": message}` with the status AWS uses for the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KmsError {
    pub code: String,
    pub message: String,
    pub status: u16,
}

impl KmsError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        let code = code.into();
        KmsError {
            status: status_for(&code),
            code,
            message: message.into(),
        }
    }

    pub fn validation(message: impl Into<String>) -> Self {
        KmsError::new("ValidationException", message)
    }

    pub fn body(&self) -> String {
        json!({"__type": self.code, "message": self.message}).to_string()
    }
}

/// Server faults are 5xx so that SDKs retry them; every modeled and unmodeled client error
/// (AccessDenied, Throttling, NotFound...) is 400 on real KMS.
fn status_for(code: &str) -> u16 {
    match code {
        "KMSInternalException" | "InternalFailure" => 500,
        "DependencyTimeoutException" | "ServiceUnavailableException" => 503,
        _ => 400,
    }
}

/// The operation named by `X-Amz-Target: TrentService.<Operation>`.
pub(crate) fn operation(headers: &HeaderMap) -> Option<String> {
    let target = headers.get("x-amz-target")?.to_str().ok()?;
    target.strip_prefix(TARGET_PREFIX).map(str::to_owned)
}

/// The access key id and region of the SigV4 credential scope
/// (`Credential=AKID/DATE/REGION/kms/aws4_request`). The signature itself is not checked.
pub(crate) fn credential(headers: &HeaderMap) -> (Option<String>, String) {
    let scope = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|auth| auth.split("Credential=").nth(1))
        .and_then(|rest| rest.split([',', ' ']).next());
    let mut parts = scope.unwrap_or_default().split('/');
    let access_key = parts.next().filter(|s| !s.is_empty()).map(str::to_owned);
    let region = parts
        .nth(1)
        .filter(|s| !s.is_empty())
        .unwrap_or(DEFAULT_REGION);
    (access_key, region.to_owned())
}

/// A parsed request body. An empty body counts as `{}`, as it does on AWS.
#[derive(Debug, Default)]
pub(crate) struct Input(Map<String, Value>);

impl Input {
    pub fn parse(body: &[u8]) -> Result<Input, KmsError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Input::default());
        }
        match serde_json::from_slice(body) {
            Ok(Value::Object(map)) => Ok(Input(map)),
            _ => Err(KmsError::new(
                "SerializationException",
                "Start of structure or map found where not expected",
            )),
        }
    }

    /// A string member; `null` counts as absent, another type is a serialization error.
    pub fn str(&self, name: &str) -> Result<Option<&str>, KmsError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(wrong_type(name)),
        }
    }

    pub fn required_str(&self, name: &str) -> Result<&str, KmsError> {
        self.str(name)?.ok_or_else(|| {
            KmsError::validation(format!(
                "1 validation error detected: Value null at '{}' failed to satisfy constraint: \
                 Member must not be null",
                lower_first(name)
            ))
        })
    }

    pub fn int(&self, name: &str) -> Result<Option<i64>, KmsError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_i64().map(Some).ok_or_else(|| wrong_type(name)),
        }
    }

    /// `int` checked against an inclusive range, with AWS's validation message.
    pub fn int_in(&self, name: &str, min: i64, max: i64) -> Result<Option<i64>, KmsError> {
        let value = self.int(name)?;
        match value {
            Some(v) if v < min || v > max => Err(KmsError::validation(format!(
                "1 validation error detected: Value '{v}' at '{}' failed to satisfy constraint: \
                 Member must have value between {min} and {max}",
                lower_first(name)
            ))),
            _ => Ok(value),
        }
    }
}

fn wrong_type(name: &str) -> KmsError {
    KmsError::new(
        "SerializationException",
        format!("Unexpected value type for member {name}"),
    )
}

fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_ascii_lowercase().to_string() + chars.as_str()
    })
}

/// One page of a list: which items, and the marker for the next page.
#[derive(Debug)]
pub(crate) struct Page {
    pub range: Range<usize>,
    pub next_marker: Option<String>,
}

impl Page {
    /// Reads `Limit` (1..=`max`, default `default`, at most `cap` when set) and `Marker` for a
    /// list of `len` items. Markers are opaque to clients; ours name the operation so one from
    /// another list is refused.
    pub fn of(
        input: &Input,
        op: &str,
        len: usize,
        default: i64,
        max: i64,
        cap: Option<usize>,
    ) -> Result<Page, KmsError> {
        let limit = usize::try_from(input.int_in("Limit", 1, max)?.unwrap_or(default)).unwrap_or(1);
        let limit = cap.map_or(limit, |cap| limit.min(cap.max(1)));
        let start = match input.str("Marker")? {
            None => 0,
            Some(marker) => marker
                .strip_prefix(op)
                .and_then(|rest| rest.strip_prefix('~'))
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|&n| n > 0 && n <= len)
                .ok_or_else(|| {
                    KmsError::new(
                        "InvalidMarkerException",
                        format!("Invalid marker: {marker}"),
                    )
                })?,
        };
        let end = start.saturating_add(limit).min(len);
        // NextMarker only while truncated: the Rust SDK's paginator ignores `Truncated`.
        let next_marker = (end < len).then(|| format!("{op}~{end}"));
        Ok(Page {
            range: start..end,
            next_marker,
        })
    }

    /// `{member: items, "Truncated": .., "NextMarker": ..}`.
    pub fn reply(self, member: &str, items: Vec<Value>) -> Value {
        let mut out = Map::new();
        out.insert(member.to_owned(), Value::Array(items));
        out.insert(
            "Truncated".to_owned(),
            Value::Bool(self.next_marker.is_some()),
        );
        if let Some(marker) = self.next_marker {
            out.insert("NextMarker".to_owned(), Value::String(marker));
        }
        Value::Object(out)
    }
}

/// awsJson timestamps are epoch seconds as JSON numbers.
pub(crate) fn epoch(at: DateTime<Utc>) -> Value {
    json!(at.timestamp_millis() as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_scope_gives_access_key_and_region() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=TEST444455556666/20260101/eu-west-1/kms/aws4_request, \
             SignedHeaders=host, Signature=abc"
                .parse()
                .unwrap(),
        );
        assert_eq!(
            credential(&headers),
            (Some("TEST444455556666".into()), "eu-west-1".into())
        );
        assert_eq!(credential(&HeaderMap::new()), (None, DEFAULT_REGION.into()));
    }

    #[test]
    fn pages_and_markers() {
        let input = Input::parse(br#"{"Limit": 2}"#).unwrap();
        let page = Page::of(&input, "ListKeys", 5, 100, 1000, None).unwrap();
        assert_eq!(page.range, 0..2);
        let marker = page.next_marker.unwrap();
        let input =
            Input::parse(format!(r#"{{"Limit": 2, "Marker": "{marker}"}}"#).as_bytes()).unwrap();
        assert_eq!(
            Page::of(&input, "ListKeys", 5, 100, 1000, None)
                .unwrap()
                .range,
            2..4
        );
        // A cap shortens pages whatever `Limit` asks.
        assert_eq!(
            Page::of(&input, "ListKeys", 5, 100, 1000, Some(1))
                .unwrap()
                .range,
            2..3
        );
        // A marker from another list, or past the end, is refused.
        assert!(Page::of(&input, "ListAliases", 5, 50, 100, None).is_err());
        assert!(Page::of(&input, "ListKeys", 1, 100, 1000, None).is_err());
    }
}
