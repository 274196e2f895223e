"""asyncio versions of kms_rotation's functions: same arguments, awaitable results.

They run on the package's own tokio runtime (one per process, rebuilt after ``fork()``), so the
event loop is never blocked. A ``progress`` callback runs on the event loop's thread.

>>> import asyncio, kms_rotation.aio
>>> report = asyncio.run(kms_rotation.aio.evaluate([]))
>>> report.summary.total
0
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from . import _native
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

__all__ = ["apply", "evaluate", "rollback", "scan"]

_StrPath = str | os.PathLike[str]


async def evaluate(
    records: Iterable[Mapping[str, Any] | KeyRecord] | Mapping[str, Any],
    policy: Policy | Mapping[str, Any] | _StrPath | None = None,
    now: datetime | str | None = None,
) -> Report:
    """``kms_rotation.evaluate``, off the event loop's thread."""
    return await _native.evaluate_async(records, policy, now)


async def scan(
    *,
    inventory: _StrPath | None = None,
    policy: Policy | Mapping[str, Any] | _StrPath | None = None,
    exceptions: _StrPath | Sequence[_StrPath] | None = None,
    regions: Sequence[str] | None = None,
    accounts: Sequence[str] | None = None,
    now: datetime | str | None = None,
    progress: Callable[[Progress], object] | None = None,
    all_tags: bool = False,
    rotation_history: bool = False,
    allow_unknown_region: bool = False,
    all_regions: bool = False,
    profile: str | None = None,
    role_arns: Sequence[str] | None = None,
    external_id: str | None = None,
    endpoint_url: str | None = None,
    max_attempts: int | None = None,
    concurrency: int | None = None,
    rate_limits: Mapping[str, int] | None = None,
    connect_timeout: float | None = None,
    operation_timeout: float | None = None,
) -> Report:
    """``kms_rotation.scan`` as a coroutine; ``progress`` is called on the event loop."""
    return await _native.scan_async(
        inventory=inventory,
        policy=policy,
        exceptions=exceptions,
        regions=regions,
        accounts=accounts,
        now=now,
        progress=progress,
        all_tags=all_tags,
        rotation_history=rotation_history,
        allow_unknown_region=allow_unknown_region,
        all_regions=all_regions,
        profile=profile,
        role_arns=role_arns,
        external_id=external_id,
        endpoint_url=endpoint_url,
        max_attempts=max_attempts,
        concurrency=concurrency,
        rate_limits=rate_limits,
        connect_timeout=connect_timeout,
        operation_timeout=operation_timeout,
    )


async def apply(
    plan: Plan | Mapping[str, Any] | _StrPath,
    *,
    journal: _StrPath | None = None,
    dry_run: bool = True,
    writes_per_second: int | None = None,
    concurrency: int | None = None,
    max_consecutive_failures: int | None = None,
    verify_attempts: int | None = None,
    verify_delay: float | None = None,
    run_id: str | None = None,
    progress: Callable[[RemediationProgress], object] | None = None,
    endpoint_url: str | None = None,
    profile: str | None = None,
    role_arns: Sequence[str] | None = None,
    external_id: str | None = None,
    max_attempts: int | None = None,
) -> ApplyResult:
    """``kms_rotation.apply`` as a coroutine (a dry run unless ``dry_run=False``);
    ``progress`` is called on the event loop."""
    return await _native.apply_async(
        plan,
        journal=journal,
        dry_run=dry_run,
        writes_per_second=writes_per_second,
        concurrency=concurrency,
        max_consecutive_failures=max_consecutive_failures,
        verify_attempts=verify_attempts,
        verify_delay=verify_delay,
        run_id=run_id,
        progress=progress,
        endpoint_url=endpoint_url,
        profile=profile,
        role_arns=role_arns,
        external_id=external_id,
        max_attempts=max_attempts,
    )


async def rollback(
    journal: _StrPath,
    *,
    dry_run: bool = True,
    only_run: str | None = None,
    writes_per_second: int | None = None,
    concurrency: int | None = None,
    verify_attempts: int | None = None,
    verify_delay: float | None = None,
    run_id: str | None = None,
    progress: Callable[[RemediationProgress], object] | None = None,
    endpoint_url: str | None = None,
    profile: str | None = None,
    role_arns: Sequence[str] | None = None,
    external_id: str | None = None,
    max_attempts: int | None = None,
) -> RollbackResult:
    """``kms_rotation.rollback`` as a coroutine (a dry run unless ``dry_run=False``);
    ``progress`` is called on the event loop."""
    return await _native.rollback_async(
        journal,
        dry_run=dry_run,
        only_run=only_run,
        writes_per_second=writes_per_second,
        concurrency=concurrency,
        verify_attempts=verify_attempts,
        verify_delay=verify_delay,
        run_id=run_id,
        progress=progress,
        endpoint_url=endpoint_url,
        profile=profile,
        role_arns=role_arns,
        external_id=external_id,
        max_attempts=max_attempts,
    )
