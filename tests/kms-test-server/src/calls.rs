//! The call log: every request the server received and what it answered, for assertions such as
//! "no write reached a key out of scope" or "the scan stayed under the quota".

use chrono::{DateTime, Utc};

use crate::faults::Injected;

/// One request and its reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// From `X-Amz-Target`, without the `TrentService.` prefix; empty when absent.
    pub operation: String,
    pub account_id: String,
    pub region: String,
    /// `KeyId` as sent (id, ARN or alias), if the request had one.
    pub key_id: Option<String>,
    /// The ARN `key_id` resolved to, if it named a known key.
    pub key_arn: Option<String>,
    /// The HTTP status of the reply.
    pub status: u16,
    /// The `__type` of an error reply.
    pub error_code: Option<String>,
    /// The fault injected into this call, if any.
    pub injected: Option<Injected>,
    /// When the request arrived.
    pub at: DateTime<Utc>,
}

impl Call {
    /// EnableKeyRotation or DisableKeyRotation.
    pub fn is_write(&self) -> bool {
        matches!(
            self.operation.as_str(),
            "EnableKeyRotation" | "DisableKeyRotation"
        )
    }

    /// Answered 200 with a whole, well-formed body that was sent (a held reply counts: whether
    /// it arrives depends on the client's timeout).
    pub fn succeeded(&self) -> bool {
        self.status == 200
            && !matches!(
                self.injected,
                Some(
                    Injected::Malformed | Injected::Truncated | Injected::Reset | Injected::Stopped
                )
            )
    }
}
