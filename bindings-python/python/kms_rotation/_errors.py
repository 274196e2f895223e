"""The exceptions of kms_rotation: one base class, one subclass per error kind.

The native module raises these, choosing the class from the core's error kind (never from the
message) and filling in the context it knows.
"""

from __future__ import annotations

__all__ = [
    "KmsRotationError",
    "InvalidInputError",
    "NotFoundError",
    "AccessDeniedError",
    "ThrottledError",
    "InvalidKeyStateError",
    "UnsupportedError",
    "UnavailableError",
    "UnexpectedError",
]


class KmsRotationError(Exception):
    """Base class of every error kms_rotation raises.

    ``kind`` is the stable error kind (``"InvalidInput"``, ``"AccessDenied"``, ...); the other
    attributes are set where known and ``None`` otherwise: ``code`` is the AWS error code
    (``"AccessDeniedException"``), ``file``/``line``/``column``/``field`` point into an input
    file or argument.
    """

    kind: str = "Unexpected"
    message: str
    retryable: bool
    code: str | None
    key_arn: str | None
    region: str | None
    operation: str | None
    request_id: str | None
    file: str | None
    line: int | None
    column: int | None
    field: str | None

    def __init__(
        self,
        message: str,
        *,
        kind: str | None = None,
        retryable: bool = False,
        code: str | None = None,
        key_arn: str | None = None,
        region: str | None = None,
        operation: str | None = None,
        request_id: str | None = None,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if kind is not None:
            self.kind = kind
        self.retryable = retryable
        self.code = code
        self.key_arn = key_arn
        self.region = region
        self.operation = operation
        self.request_id = request_id
        self.file = file
        self.line = line
        self.column = column
        self.field = field


class InvalidInputError(KmsRotationError, ValueError):
    """A file, option or value given by the caller is malformed or out of range."""

    kind = "InvalidInput"


class NotFoundError(KmsRotationError):
    """The key, file or resource does not exist."""

    kind = "NotFound"


class AccessDeniedError(KmsRotationError):
    """The caller is not allowed to do this (IAM, key policy, file permissions)."""

    kind = "AccessDenied"


class ThrottledError(KmsRotationError):
    """A rate limit was hit and retries did not absorb it."""

    kind = "Throttled"


class InvalidKeyStateError(KmsRotationError):
    """The key is in a state that does not allow the operation."""

    kind = "InvalidKeyState"


class UnsupportedError(KmsRotationError):
    """The operation does not exist for this key, source or build."""

    kind = "Unsupported"


class UnavailableError(KmsRotationError):
    """The service or a file could not be reached or read (I/O, network, timeout, 5xx)."""

    kind = "Unavailable"


class UnexpectedError(KmsRotationError):
    """Anything else, including a bug (a Rust panic) in kms_rotation."""

    kind = "Unexpected"
