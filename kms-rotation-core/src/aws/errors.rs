//! SDK errors in the crate's terms: a [`KeyError`] (a per-key failure kept as data) or an
//! [`Error`] with a kind (a failure of a whole operation, e.g. in remediation).
//!
//! The code is the wire code (`KMSInvalidStateException`, not the Rust variant name), read with
//! [`ProvideErrorMetadata::code`]: `AccessDeniedException` and `ThrottlingException` are not
//! modeled by KMS and reach Rust as `Unhandled`. Errors that never reached the service get a code
//! of their own (`TimeoutError`, `DispatchFailure`, ...) so that a timeout is never mistaken for a
//! denial.

use aws_sdk_kms::config::http::HttpResponse;
use aws_sdk_kms::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_kms::operation::RequestId;

use crate::model::KeyError;
use crate::{Error, ErrorKind};

/// Code for an error that timed out before a reply (connect, attempt or operation timeout).
pub const TIMEOUT_ERROR: &str = "TimeoutError";
/// Code for a request that could not be sent or whose connection failed (DNS, TLS, refused).
pub const DISPATCH_FAILURE: &str = "DispatchFailure";
/// Code for a reply that could not be read (truncated, malformed, or a 2xx whose body does not
/// parse).
pub const RESPONSE_ERROR: &str = "ResponseError";
/// Code for a request that could not be built (a bug or an invalid option).
pub const CONSTRUCTION_FAILURE: &str = "ConstructionFailure";
/// Code for a service error whose reply named no code.
pub const UNKNOWN_ERROR: &str = "UnknownError";
/// Code for an AWS enum value this crate's model does not know (a newer key spec, state...).
pub const UNKNOWN_ENUM_VALUE: &str = "UnknownEnumValue";
/// Code for a list page that said `Truncated` but gave no `NextMarker`: the rest is unreadable.
pub const TRUNCATED_WITHOUT_MARKER: &str = "TruncatedWithoutMarker";
/// Code for a list page whose `NextMarker` was already followed: the list would loop.
pub const REPEATED_MARKER: &str = "RepeatedMarker";
/// Code for a ListKeys entry with neither `KeyId` nor `KeyArn`: a key that cannot be read.
pub const UNIDENTIFIED_KEY: &str = "UnidentifiedKey";

/// The AWS error code of `err`: the service's code, or one of this module's codes when the
/// request never got a service reply.
pub fn error_code<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> String {
    match err {
        // A success status with an error: the reply's body could not be parsed (garbled or cut).
        SdkError::ServiceError(_)
            if err.code().is_none()
                && http_status(err).is_some_and(|s| (200..300).contains(&s)) =>
        {
            RESPONSE_ERROR.to_owned()
        }
        SdkError::ServiceError(_) => err.code().unwrap_or(UNKNOWN_ERROR).to_owned(),
        SdkError::TimeoutError(_) => TIMEOUT_ERROR.to_owned(),
        SdkError::DispatchFailure(failure) if failure.is_timeout() => TIMEOUT_ERROR.to_owned(),
        SdkError::DispatchFailure(_) => DISPATCH_FAILURE.to_owned(),
        SdkError::ResponseError(_) => RESPONSE_ERROR.to_owned(),
        SdkError::ConstructionFailure(_) => CONSTRUCTION_FAILURE.to_owned(),
        _ => UNKNOWN_ERROR.to_owned(),
    }
}

/// A readable message: the service's message, or the whole error chain for other failures
/// (the top-level `Display` of an `SdkError` is only "dispatch failure" and the like).
pub fn error_message<E>(err: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match err {
        SdkError::ServiceError(_) => match err.message() {
            Some(message) => message.to_owned(),
            None => match err.raw_response() {
                Some(response) => format!("HTTP {} with no message", response.status().as_u16()),
                None => DisplayErrorContext(err).to_string(),
            },
        },
        _ => DisplayErrorContext(err).to_string(),
    }
}

/// The HTTP status of the reply, when there was one.
fn http_status<E>(err: &SdkError<E, HttpResponse>) -> Option<u16> {
    err.raw_response().map(|r| r.status().as_u16())
}

/// `err` as a per-key failure of `operation`
/// (e.g. [`crate::model::operation::GET_KEY_ROTATION_STATUS`]).
pub fn key_error<E>(operation: &str, err: &SdkError<E, HttpResponse>) -> KeyError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    KeyError {
        operation: operation.to_owned(),
        code: error_code(err),
        message: error_message(err),
    }
}

/// The kind of an AWS error code ([`ErrorKind::from_aws_code`]); `http_status` decides for codes
/// that mapping does not know (5xx: unavailable).
pub fn error_kind(code: &str, http_status: Option<u16>) -> ErrorKind {
    match ErrorKind::from_aws_code(code) {
        ErrorKind::Unexpected if http_status.is_some_and(|s| s >= 500) => ErrorKind::Unavailable,
        kind => kind,
    }
}

/// `err` as the crate's error: kind from the code, with operation, code and request id set.
/// The caller adds what it knows besides (key ARN, region).
pub fn to_error<E>(operation: &str, err: SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let code = error_code(&err);
    let kind = error_kind(&code, http_status(&err));
    let mut error = Error::new(kind, error_message(&err))
        .with_operation(operation)
        .with_code(code);
    if let Some(request_id) = err.request_id() {
        error = error.with_request_id(request_id);
    }
    error.with_source(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_follow_the_wire_code() {
        assert_eq!(
            error_kind("AccessDeniedException", Some(400)),
            ErrorKind::AccessDenied
        );
        assert_eq!(
            error_kind("ThrottlingException", Some(400)),
            ErrorKind::Throttled
        );
        assert_eq!(
            error_kind("KMSInvalidStateException", Some(400)),
            ErrorKind::InvalidKeyState
        );
        assert_eq!(
            error_kind("DisabledException", Some(400)),
            ErrorKind::InvalidKeyState
        );
        assert_eq!(
            error_kind("UnsupportedOperationException", Some(400)),
            ErrorKind::Unsupported
        );
        assert_eq!(error_kind(TIMEOUT_ERROR, None), ErrorKind::Unavailable);
        assert_eq!(error_kind("Whatever", Some(503)), ErrorKind::Unavailable);
        assert_eq!(error_kind("Whatever", Some(400)), ErrorKind::Unexpected);
    }
}
