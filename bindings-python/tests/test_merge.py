"""merge: one report from the reports of a scan split over several jobs, as the core (and
`kms-rotation merge`) makes it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

import kms_rotation
import kms_rotation.aio
from kms_rotation.types import KeyRecord

NOW = "2026-11-22T12:00:00Z"


def by_region(fleet_keys: list[KeyRecord]) -> list[kms_rotation.Report]:
    regions = sorted({key["arn"].split(":")[3] for key in fleet_keys})
    return [
        kms_rotation.evaluate([k for k in fleet_keys if k["arn"].split(":")[3] == region], now=NOW)
        for region in regions
    ]


def test_parts_by_region_merge_into_the_report_of_one_scan(
    fleet_keys: list[KeyRecord], tmp_path: Path
) -> None:
    whole = kms_rotation.evaluate(fleet_keys, now=NOW)
    parts = by_region(fleet_keys)
    assert len(parts) == 3
    merged = kms_rotation.merge(reports=parts)
    assert merged == whole
    # Files and reports mix; the async form gives the same report.
    first = tmp_path / "first.json"
    first.write_text(parts[0].to_json())
    mixed = asyncio.run(kms_rotation.aio.merge(reports=parts[1:], report_files=[first]))
    assert mixed == whole


def test_overlapping_parts_are_refused_naming_the_part(fleet_keys: list[KeyRecord]) -> None:
    part = by_region(fleet_keys)[0]
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        kms_rotation.merge(reports=[part, part])
    assert caught.value.field == "reports[1]"
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        kms_rotation.merge()
    assert caught.value.field == "reports"
