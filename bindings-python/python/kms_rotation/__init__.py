"""kms_rotation: checks and fixes automatic rotation of customer-managed symmetric AWS KMS keys
(CIS AWS Foundations, Security Hub KMS.4).

A thin layer over the Rust core: ``scan`` lists keys and reports, ``evaluate`` judges records
you already have, and the report renders in every format the core offers (``FORMATS``). Sync
calls release the GIL while they wait; ``kms_rotation.aio`` has the asyncio versions.

>>> import kms_rotation
>>> report = kms_rotation.evaluate([{
...     "arn": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
...     "key_manager": "CUSTOMER", "key_spec": "SYMMETRIC_DEFAULT", "origin": "AWS_KMS",
...     "key_state": "Enabled", "rotation": {"enabled": False},
... }])
>>> report.findings[0].reason
'rotation_disabled'
"""

from __future__ import annotations

import atexit

from . import _native, aio
from ._errors import (
    AccessDeniedError,
    InvalidInputError,
    InvalidKeyStateError,
    KmsRotationError,
    NotFoundError,
    ThrottledError,
    UnavailableError,
    UnexpectedError,
    UnsupportedError,
)
from ._native import (
    FORMATS,
    HAS_AWS,
    PLAN_FORMATS,
    ApplyResult,
    Finding,
    KeyRecord,
    Plan,
    Policy,
    Progress,
    RemediationProgress,
    Report,
    RollbackResult,
    Summary,
    __version__,
    apply,
    evaluate,
    load_policy,
    plan_remediation,
    rollback,
    scan,
)

# Runtime threads must be done with Python before the interpreter finalizes.
atexit.register(_native._shutdown)

__all__ = [
    "FORMATS",
    "HAS_AWS",
    "PLAN_FORMATS",
    "AccessDeniedError",
    "ApplyResult",
    "Finding",
    "InvalidInputError",
    "InvalidKeyStateError",
    "KeyRecord",
    "KmsRotationError",
    "NotFoundError",
    "Plan",
    "Policy",
    "Progress",
    "RemediationProgress",
    "Report",
    "RollbackResult",
    "Summary",
    "ThrottledError",
    "UnavailableError",
    "UnexpectedError",
    "UnsupportedError",
    "__version__",
    "aio",
    "apply",
    "evaluate",
    "load_policy",
    "plan_remediation",
    "rollback",
    "scan",
]
