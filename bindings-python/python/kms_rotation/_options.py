"""The options of each operation, as typed keyword arguments (``**options: Unpack[...]``): one
TypedDict per options type of the core (``kms_rotation::ops``), with the core's snake_case field
names. The core defines every default and check; ``None`` for any option means "not given"."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypedDict, Union

if TYPE_CHECKING:
    from ._native import KeyRecord, Plan, Policy, Report

StrPath = Union[str, "os.PathLike[str]"]


# --- BEGIN OPTIONS TYPES -------------------------------------------------------------------------
# The one place the options are declared in Python. A later step generates this block from the
# Rust types' JSON Schema: change the Rust types first, then this block to match.


class AwsOptions(TypedDict, total=False):
    """How to reach AWS (flattened into the scan, apply and rollback options)."""

    endpoint_url: str | None
    profile: str | None
    role_arns: Sequence[str] | None
    external_id: str | None
    external_id_file: StrPath | None
    session_name: str | None
    all_regions: bool | None
    max_attempts: int | None
    initial_backoff_ms: int | None
    throttling_budget_ms: int | None
    concurrency_per_region: int | None
    max_concurrent_regions: int | None
    rates: Sequence[str] | None
    connect_timeout_ms: int | None
    operation_timeout_ms: int | None
    operation_attempt_timeout_ms: int | None


class ScanOptions(AwsOptions, total=False):
    """``scan``: the source is ``records``, else ``inventory``, else AWS."""

    records: Sequence[Mapping[str, Any] | KeyRecord] | None
    inventory: StrPath | None
    policy: Policy | Mapping[str, Any] | None
    policy_file: StrPath | None
    exceptions: Sequence[StrPath] | None
    regions: Sequence[str] | None
    accounts: Sequence[str] | None
    allow_unknown_region: bool | None
    now: datetime | str | None
    all_tags: bool | None
    rotation_history: bool | None
    save_inventory: StrPath | None


class KeyFilter(TypedDict, total=False):
    """Keys named by account, region, ARN, alias or tag (``KEY=VALUE``)."""

    accounts: Sequence[str]
    regions: Sequence[str]
    arns: Sequence[str]
    aliases: Sequence[str]
    tags: Sequence[str]


class Selection(TypedDict, total=False):
    """Which failing keys a plan may act on."""

    include: KeyFilter
    exclude: KeyFilter


class PlanOptions(TypedDict, total=False):
    """``plan``: from exactly one of ``report``, ``report_file`` and ``scan``."""

    report: Report | Mapping[str, Any] | None
    report_file: StrPath | None
    scan: ScanOptions | None
    target_period_days: int | None
    priorities: Sequence[str] | None
    batch_size: int | None
    selection: Selection | None
    now: datetime | str | None


class ApplyOptions(AwsOptions, total=False):
    """``apply``: a dry run unless ``dry_run=False``; a journal is required to write."""

    plan: Plan | Mapping[str, Any] | None
    plan_file: StrPath | None
    journal: StrPath | None
    dry_run: bool | None
    writes_per_second: int | None
    concurrency: int | None
    max_consecutive_failures: int | None
    verify_attempts: int | None
    verify_delay_ms: int | None
    run_id: str | None
    error_on_failure: bool | None


class RollbackOptions(AwsOptions, total=False):
    """``rollback``: a dry run unless ``dry_run=False``."""

    journal: StrPath | None
    dry_run: bool | None
    only_run: str | None
    writes_per_second: int | None
    concurrency: int | None
    verify_attempts: int | None
    verify_delay_ms: int | None
    run_id: str | None
    error_on_failure: bool | None


class RenderOptions(TypedDict, total=False):
    """``render``: one of ``report`` and ``plan``, in ``format``, returned or written to
    ``output``."""

    report: Report | Mapping[str, Any] | None
    plan: Plan | Mapping[str, Any] | None
    format: str | None
    output: StrPath | None


# --- END OPTIONS TYPES ---------------------------------------------------------------------------

__all__ = [
    "ApplyOptions",
    "AwsOptions",
    "KeyFilter",
    "PlanOptions",
    "RenderOptions",
    "RollbackOptions",
    "ScanOptions",
    "Selection",
    "StrPath",
]
