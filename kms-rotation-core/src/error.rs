//! One error type for the whole crate: a [`ErrorKind`] that callers (and the bindings) match on,
//! a retryable flag, and the context that says where it happened.
//!
//! Per-key failures during a scan are *not* errors of this type: they are data on the key record
//! and become `error` findings. An [`Error`] means a whole operation could not be done.

use std::fmt;
use std::path::PathBuf;

use strum::{IntoStaticStr, VariantArray};

use crate::wire::wire_names;

/// What went wrong, in terms a caller can act on. Bindings map on this, never on message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, IntoStaticStr, VariantArray)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A file, option or value given by the caller is malformed or out of range.
    InvalidInput,
    /// The key, file or resource does not exist.
    NotFound,
    /// The caller is not allowed to do this (IAM or key policy).
    AccessDenied,
    /// A rate limit was hit and retries did not absorb it.
    Throttled,
    /// The key is in a state that does not allow the operation (disabled, pending deletion, ...).
    InvalidKeyState,
    /// The operation does not exist for this key or source.
    Unsupported,
    /// The service or a file could not be reached or read (I/O, network, timeout, 5xx).
    Unavailable,
    /// Anything else: a bug, an unexpected reply. The message says what.
    Unexpected,
}

// The names (`as_str`) are the variants' own: the stable names the bindings use (`err.code` in
// Node, the exception class in Python).
wire_names!(ErrorKind, "error kind");

impl ErrorKind {
    /// Whether trying the same thing again later may succeed.
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorKind::Throttled | ErrorKind::Unavailable)
    }

    /// The kind of an AWS error code (`AccessDeniedException`, `ThrottlingException`, ...),
    /// including the codes the crate gives failures that never reached the service
    /// (`TimeoutError`, `DispatchFailure`). Codes it does not know are
    /// [`ErrorKind::Unexpected`].
    ///
    /// The one mapping from AWS codes to kinds: the AWS source, remediation results and the
    /// bindings all go through it.
    ///
    /// ```
    /// use kms_rotation::ErrorKind;
    /// assert_eq!(ErrorKind::from_aws_code("ThrottlingException"), ErrorKind::Throttled);
    /// assert_eq!(ErrorKind::from_aws_code("SomethingNew"), ErrorKind::Unexpected);
    /// ```
    pub fn from_aws_code(code: &str) -> ErrorKind {
        match code {
            "AccessDeniedException"
            | "AccessDenied"
            | "UnrecognizedClientException"
            | "InvalidClientTokenId"
            | "ExpiredTokenException"
            | "InvalidSignatureException"
            | "IncompleteSignature"
            | "MissingAuthenticationTokenException" => ErrorKind::AccessDenied,
            "ThrottlingException" | "Throttling" | "TooManyRequestsException" => {
                ErrorKind::Throttled
            }
            "NotFoundException" => ErrorKind::NotFound,
            "KMSInvalidStateException" | "DisabledException" => ErrorKind::InvalidKeyState,
            "UnsupportedOperationException" => ErrorKind::Unsupported,
            // ConstructionFailure: the SDK could not build the request; it never left.
            "InvalidArnException" | "ValidationException" | "ConstructionFailure" => {
                ErrorKind::InvalidInput
            }
            "TimeoutError"
            | "DispatchFailure"
            | "DependencyTimeoutException"
            | "KMSInternalException"
            | "InternalFailure"
            | "ServiceUnavailable"
            | "ServiceUnavailableException" => ErrorKind::Unavailable,
            _ => ErrorKind::Unexpected,
        }
    }
}

/// Where an error happened. Every field is optional; [`Error`]'s `Display` prints those that are set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ErrorContext {
    /// The input file the error is in.
    pub file: Option<PathBuf>,
    /// 1-based line in `file`.
    pub line: Option<usize>,
    /// 1-based column in `file`.
    pub column: Option<usize>,
    /// The field path inside the document, e.g. `keys[3].key_spec`.
    pub field: Option<String>,
    /// The KMS key the error is about.
    pub key_arn: Option<String>,
    /// The AWS region the error is about.
    pub region: Option<String>,
    /// The AWS operation that failed, e.g. `EnableKeyRotation`.
    pub operation: Option<String>,
    /// The AWS error code, e.g. `AccessDeniedException`.
    pub code: Option<String>,
    /// The AWS request id, for support cases.
    pub request_id: Option<String>,
}

/// The crate's error. Build it with [`Error::new`] and the `with_*` methods.
#[derive(Debug, thiserror::Error)]
pub struct Error {
    kind: ErrorKind,
    retryable: bool,
    message: String,
    context: Box<ErrorContext>,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error; retryable exactly when the kind usually is.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            retryable: kind.is_retryable(),
            message: message.into(),
            context: Box::default(),
            source: None,
        }
    }

    /// Shorthand for an [`ErrorKind::InvalidInput`] error.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidInput, message)
    }

    /// What went wrong: what callers and the bindings match on.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Whether trying again later may succeed: the kind's default unless set otherwise.
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }

    /// The message without the context.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Where it happened: file, field, key, region, AWS operation and code, as far as known.
    pub fn context(&self) -> &ErrorContext {
        &self.context
    }

    /// The error, retryable or not whatever its kind says.
    pub fn with_retryable(mut self, retryable: bool) -> Self {
        self.retryable = retryable;
        self
    }

    /// The error, about `file`.
    pub fn with_file(mut self, file: impl Into<PathBuf>) -> Self {
        self.context.file = Some(file.into());
        self
    }

    /// The error, at 1-based `line` and `column` of its file; a line of 0 means no position.
    pub fn with_position(mut self, line: usize, column: usize) -> Self {
        // serde reports 0:0 when it has no position (e.g. for errors raised after parsing).
        if line > 0 {
            self.context.line = Some(line);
            self.context.column = Some(column);
        }
        self
    }

    /// The error, about the field at path `field` (`keys[3].key_spec`, `regions[0]`); an empty
    /// path (or serde's `.`, the document itself) names none.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        let field = field.into();
        if !field.is_empty() && field != "." {
            self.context.field = Some(field);
        }
        self
    }

    /// The error, about the KMS key `arn`.
    pub fn with_key_arn(mut self, arn: impl Into<String>) -> Self {
        self.context.key_arn = Some(arn.into());
        self
    }

    /// The error, in the AWS region `region`.
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.context.region = Some(region.into());
        self
    }

    /// The error, of the AWS operation `operation` (`EnableKeyRotation`).
    pub fn with_operation(mut self, operation: impl Into<String>) -> Self {
        self.context.operation = Some(operation.into());
        self
    }

    /// The error, with the AWS error code `code` (`AccessDeniedException`).
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.context.code = Some(code.into());
        self
    }

    /// The error, with the AWS request id, for support cases.
    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        self.context.request_id = Some(request_id.into());
        self
    }

    /// The error, caused by `source` (kept for `Error::source`, not printed in the message).
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }
}

impl fmt::Display for Error {
    /// `file:line:column: field: message (key ..., region ..., operation ..., code ...)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &*self.context;
        if let Some(file) = &c.file {
            write!(f, "{}", file.display())?;
            if let (Some(line), Some(column)) = (c.line, c.column) {
                write!(f, ":{line}:{column}")?;
            }
            f.write_str(": ")?;
        } else if let (Some(line), Some(column)) = (c.line, c.column) {
            write!(f, "line {line} column {column}: ")?;
        }
        if let Some(field) = &c.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)?;
        let details = [
            ("key", &c.key_arn),
            ("region", &c.region),
            ("operation", &c.operation),
            ("code", &c.code),
            ("request id", &c.request_id),
        ];
        let mut first = true;
        for (name, value) in details {
            if let Some(value) = value {
                f.write_str(if first { " (" } else { ", " })?;
                write!(f, "{name} {value}")?;
                first = false;
            }
        }
        if !first {
            f.write_str(")")?;
        }
        Ok(())
    }
}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        let kind = match err.kind() {
            std::io::ErrorKind::NotFound => ErrorKind::NotFound,
            std::io::ErrorKind::PermissionDenied => ErrorKind::AccessDenied,
            std::io::ErrorKind::InvalidData | std::io::ErrorKind::InvalidInput => {
                ErrorKind::InvalidInput
            }
            _ => ErrorKind::Unavailable,
        };
        Error::new(kind, err.to_string()).with_source(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_place_then_the_aws_context() {
        let err = Error::invalid_input("unknown variant `FOO`")
            .with_file("fleet.json")
            .with_position(12, 7)
            .with_field("keys[2].key_spec");
        assert_eq!(
            err.to_string(),
            "fleet.json:12:7: keys[2].key_spec: unknown variant `FOO`"
        );
        let err = Error::new(ErrorKind::AccessDenied, "denied")
            .with_key_arn("arn:k")
            .with_operation("EnableKeyRotation");
        assert_eq!(
            err.to_string(),
            "denied (key arn:k, operation EnableKeyRotation)"
        );
    }

    #[test]
    fn retryable_follows_the_kind_unless_overridden() {
        assert!(Error::new(ErrorKind::Throttled, "x").is_retryable());
        assert!(!Error::invalid_input("x").is_retryable());
        assert!(
            !Error::new(ErrorKind::Unavailable, "x")
                .with_retryable(false)
                .is_retryable()
        );
    }

    #[test]
    fn aws_codes_map_to_kinds() {
        let cases = [
            ("AccessDeniedException", ErrorKind::AccessDenied),
            ("UnrecognizedClientException", ErrorKind::AccessDenied),
            ("ThrottlingException", ErrorKind::Throttled),
            ("KMSInvalidStateException", ErrorKind::InvalidKeyState),
            ("DisabledException", ErrorKind::InvalidKeyState),
            ("UnsupportedOperationException", ErrorKind::Unsupported),
            ("NotFoundException", ErrorKind::NotFound),
            ("ValidationException", ErrorKind::InvalidInput),
            ("TimeoutError", ErrorKind::Unavailable),
            ("KMSInternalException", ErrorKind::Unavailable),
            ("SomethingNew", ErrorKind::Unexpected),
            ("", ErrorKind::Unexpected),
        ];
        for (code, kind) in cases {
            assert_eq!(ErrorKind::from_aws_code(code), kind, "{code}");
        }
    }

    #[test]
    fn io_errors_keep_their_meaning() {
        let err: Error = std::io::Error::new(std::io::ErrorKind::NotFound, "gone").into();
        assert_eq!(err.kind(), ErrorKind::NotFound);
    }
}
