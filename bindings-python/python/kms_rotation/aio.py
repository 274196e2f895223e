"""asyncio versions of kms_rotation's operations: same arguments, awaitable results.

They run on the package's own tokio runtime (one per process, rebuilt after ``fork()``), so the
event loop is never blocked. A ``progress`` callback runs on the event loop's thread.

>>> import asyncio, kms_rotation.aio
>>> report = asyncio.run(kms_rotation.aio.evaluate([]))
>>> report.summary.total
0
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from . import _native, types
from ._native import (
    ApplyResult,
    KeyRecord,
    Plan,
    Policy,
    Progress,
    RemediationProgress,
    Report,
    RollbackResult,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

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
        Explanation,
        IamPolicy,
        IamPolicyOptions,
        PlanOptions,
        RenderOptions,
        ReportDiff,
        RollbackOptions,
        ScanOptions,
        SecurityHubOptions,
        SecurityHubOutcome,
    )

__all__ = [
    "apply",
    "baseline",
    "diff",
    "evaluate",
    "event",
    "explain",
    "iam_policy",
    "merge",
    "plan",
    "render",
    "review_exceptions",
    "rollback",
    "scan",
    "send_to_security_hub",
]


async def evaluate(
    records: Iterable[types.KeyRecord | KeyRecord] | types.Inventory,
    policy: types.PolicyInput | Policy | None = None,
    now: str | datetime | None = None,
) -> Report:
    """``kms_rotation.evaluate``, off the event loop's thread."""
    return await _native.evaluate_async(records, policy, now)


async def scan(
    *, progress: Callable[[Progress], object] | None = None, **options: Unpack[ScanOptions]
) -> Report:
    """``kms_rotation.scan`` as a coroutine."""
    return await _native.scan_async(progress=progress, **options)


async def plan(
    *, progress: Callable[[Progress], object] | None = None, **options: Unpack[PlanOptions]
) -> Plan:
    """``kms_rotation.plan`` as a coroutine (``progress`` hears of a ``scan=`` scan)."""
    return await _native.plan_async(progress=progress, **options)


async def review_exceptions(
    *, progress: Callable[[Progress], object] | None = None, **options: Unpack[ExceptionsOptions]
) -> ExceptionsReview:
    """``kms_rotation.review_exceptions`` as a coroutine (``progress`` hears of a ``scan=`` scan)."""
    return await _native.review_exceptions_async(progress=progress, **options)


async def apply(
    *,
    progress: Callable[[RemediationProgress], object] | None = None,
    **options: Unpack[ApplyOptions],
) -> ApplyResult:
    """``kms_rotation.apply`` as a coroutine: a dry run unless ``dry_run=False``."""
    return await _native.apply_async(progress=progress, **options)


async def rollback(
    *,
    progress: Callable[[RemediationProgress], object] | None = None,
    **options: Unpack[RollbackOptions],
) -> RollbackResult:
    """``kms_rotation.rollback`` as a coroutine: a dry run unless ``dry_run=False``."""
    return await _native.rollback_async(progress=progress, **options)


async def render(**options: Unpack[RenderOptions]) -> str:
    """``kms_rotation.render`` as a coroutine."""
    return await _native.render_async(**options)


async def explain(**options: Unpack[ExplainOptions]) -> list[Explanation]:
    """``kms_rotation.explain`` as a coroutine."""
    return await _native.explain_async(**options)


async def diff(**options: Unpack[DiffOptions]) -> ReportDiff:
    """``kms_rotation.diff`` as a coroutine."""
    return await _native.diff_async(**options)


async def merge(**options: Unpack[MergeOptions]) -> Report:
    """``kms_rotation.merge`` as a coroutine."""
    return await _native.merge_async(**options)


async def baseline(**options: Unpack[BaselineOptions]) -> str:
    """``kms_rotation.baseline`` as a coroutine."""
    return await _native.baseline_async(**options)


async def event(
    *, progress: Callable[[Progress], object] | None = None, **options: Unpack[EventOptions]
) -> EventOutcome:
    """``kms_rotation.event`` as a coroutine: a remediation is a dry run unless ``dry_run=False``."""
    return await _native.event_async(progress=progress, **options)


async def iam_policy(**options: Unpack[IamPolicyOptions]) -> IamPolicy:
    """``kms_rotation.iam_policy`` as a coroutine."""
    return await _native.iam_policy_async(**options)


async def send_to_security_hub(**options: Unpack[SecurityHubOptions]) -> SecurityHubOutcome:
    """``kms_rotation.send_to_security_hub`` as a coroutine."""
    return await _native.send_to_security_hub_async(**options)
