"""kms_rotation: checks and fixes automatic rotation of customer-managed symmetric AWS KMS keys
(CIS AWS Foundations, Security Hub KMS.4).

A thin layer over the Rust core's operations: ``scan`` reads keys and reports, ``evaluate``
judges records you already have, ``plan`` plans the fixes, ``apply`` carries them out and
``rollback`` undoes them (both dry runs unless ``dry_run=False``), ``render`` writes a report or
a plan in one of its formats; ``review_exceptions`` reviews a report's exceptions (expired,
unused, unknown, expiring, active); ``diff`` compares an older report with a newer one (what was
fixed, what regressed); ``explain`` says what a finding's reason code means and how to fix the
key, ``baseline`` generates the organisation baseline (AWS Config rule, conformance pack,
Terraform key) from the policy, ``event`` re-checks the keys a KMS CloudTrail event touches
(``kms_rotation.lambda_handler`` is its Lambda handler), and ``iam_policy`` gives the least-privilege IAM policy to scan (``mode="read_only"``, the
default) or to remediate (``mode="remediate"``); those four return plain dicts. Options are keyword
arguments with the core's snake_case names (see ``ScanOptions`` and the other ``*Options``
types); the core checks them all. The shapes of every option and of the data (``to_dict()``,
and what ``explain``, ``diff`` and ``iam_policy`` return) are the ``TypedDict`` classes of
``kms_rotation.types``, generated from the core's JSON Schemas. Sync calls release the GIL while
they wait; ``kms_rotation.aio`` has the asyncio versions.

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

# `types` is not in __all__: a star import would hide the standard library's module of that name.
from . import _native, aio, types
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
    baseline,
    diff,
    evaluate,
    event,
    explain,
    iam_policy,
    load_policy,
    merge,
    plan,
    render,
    review_exceptions,
    rollback,
    scan,
    send_to_security_hub,
)
from .types import (
    ApplyOptions,
    BaselineOptions,
    EventOptions,
    EventOutcome,
    ExceptionsOptions,
    ExceptionsReview,
    DiffOptions,
    MergeOptions,
    ExplainOptions,
    IamPolicyOptions,
    KeyFilter,
    PlanOptions,
    RenderOptions,
    ReportDiff,
    RollbackOptions,
    ScanOptions,
    SecurityHubOptions,
    SecurityHubOutcome,
    Selection,
)

# Runtime threads must be done with Python before the interpreter finalizes.
atexit.register(_native._shutdown)

__all__ = [
    "FORMATS",
    "HAS_AWS",
    "PLAN_FORMATS",
    "AccessDeniedError",
    "ApplyOptions",
    "ApplyResult",
    "BaselineOptions",
    "EventOptions",
    "EventOutcome",
    "ExceptionsOptions",
    "ExceptionsReview",
    "DiffOptions",
    "MergeOptions",
    "ExplainOptions",
    "Finding",
    "IamPolicyOptions",
    "InvalidInputError",
    "InvalidKeyStateError",
    "KeyFilter",
    "KeyRecord",
    "KmsRotationError",
    "NotFoundError",
    "Plan",
    "PlanOptions",
    "Policy",
    "Progress",
    "RemediationProgress",
    "RenderOptions",
    "Report",
    "ReportDiff",
    "RollbackOptions",
    "RollbackResult",
    "ScanOptions",
    "SecurityHubOptions",
    "SecurityHubOutcome",
    "Selection",
    "Summary",
    "ThrottledError",
    "UnavailableError",
    "UnexpectedError",
    "UnsupportedError",
    "__version__",
    "aio",
    "apply",
    "baseline",
    "diff",
    "evaluate",
    "event",
    "explain",
    "iam_policy",
    "load_policy",
    "merge",
    "plan",
    "render",
    "review_exceptions",
    "rollback",
    "scan",
    "send_to_security_hub",
]
