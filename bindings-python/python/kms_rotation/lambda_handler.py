"""An AWS Lambda handler for the EventBridge rule of KMS CloudTrail calls: re-checks the keys each
event touches (``kms_rotation.event``) and, when configured, fixes them through the same plan,
apply and journal as any other run. It converts its configuration and calls the core; every
decision (which events count, which keys, dry run or not) is the core's.

Configured by environment variables, named as the ``kms-rotation event`` flags' variables:

``KMS_ROTATION_POLICY``
    A policy file (JSON or YAML) shipped with the function; the default policy when unset.
``KMS_ROTATION_ROLE_ARN``
    Roles to assume, comma-separated (one account each); unset: the function's own account.
``KMS_ROTATION_EXTERNAL_ID_FILE``
    A file holding the external id those roles require.
``KMS_ROTATION_ENDPOINT_URL``
    Send every AWS call there (emulators and tests).
``KMS_ROTATION_REMEDIATE``
    ``true``: plan and apply the fix of a touched key that fails.
``KMS_ROTATION_DRY_RUN``
    ``false``: the remediation changes keys; ``true`` or unset: a dry run (the core's default).
    Any other value is refused.
``KMS_ROTATION_JOURNAL``
    The journal file of a remediation, required to change keys. Lambda's ``/tmp`` lasts as long
    as the function's instance: the returned outcome (in the function's logs) is the durable
    record.
``KMS_ROTATION_TARGET_PERIOD_DAYS``
    The rotation period a fix sets; default: the policy's target.

Returns the outcome as a dict (``kms_rotation.types.EventOutcome``): ``ignored`` with the reason
for an event of another kind, else ``report`` with the findings of the touched keys. A malformed
event raises ``InvalidInputError`` naming the field.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from . import _native
from .types import EventOutcome

__all__ = ["handler"]


def handler(event: dict[str, Any], context: object = None) -> EventOutcome:
    """Re-check (and optionally fix) the keys of one EventBridge event."""
    return _native.event(event=event, **_options(os.environ))


def _options(env: Mapping[str, str]) -> dict[str, Any]:
    """The core's event options from the environment: values converted, never judged (a value
    the core refuses comes back as its error, naming the option)."""
    scan: dict[str, Any] = {}
    options: dict[str, Any] = {"scan": scan}
    if "KMS_ROTATION_POLICY" in env:
        scan["policy_file"] = env["KMS_ROTATION_POLICY"]
    if "KMS_ROTATION_ROLE_ARN" in env:
        scan["role_arns"] = [r.strip() for r in env["KMS_ROTATION_ROLE_ARN"].split(",") if r.strip()]
    if "KMS_ROTATION_EXTERNAL_ID_FILE" in env:
        scan["external_id_file"] = env["KMS_ROTATION_EXTERNAL_ID_FILE"]
    if "KMS_ROTATION_ENDPOINT_URL" in env:
        scan["endpoint_url"] = env["KMS_ROTATION_ENDPOINT_URL"]
    if "KMS_ROTATION_REMEDIATE" in env:
        options["remediate"] = _boolean(env["KMS_ROTATION_REMEDIATE"])
    if "KMS_ROTATION_DRY_RUN" in env:
        options["dry_run"] = _boolean(env["KMS_ROTATION_DRY_RUN"])
    if "KMS_ROTATION_JOURNAL" in env:
        options["journal"] = env["KMS_ROTATION_JOURNAL"]
    if "KMS_ROTATION_TARGET_PERIOD_DAYS" in env:
        days = env["KMS_ROTATION_TARGET_PERIOD_DAYS"]
        options["target_period_days"] = int(days) if days.isdigit() else days
    return options


def _boolean(value: str) -> bool | str:
    """``true``/``false`` as booleans; anything else as given, for the core to refuse."""
    return {"true": True, "false": False}.get(value.strip().lower(), value)
