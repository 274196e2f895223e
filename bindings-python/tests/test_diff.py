"""diff: the progress between an older and a newer report, as the core (and `kms-rotation
diff --format json`) gives it, as a plain dict."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import pytest

import kms_rotation
from kms_rotation.types import KeyChange, KeyRecord, PolicyInput, ReportDiff
from support import KEY_ARN

Make = Callable[..., KeyRecord]

OLD_AT = "2026-06-01T00:00:00Z"
NEW_AT = "2026-07-15T00:00:00Z"


def arn(n: int) -> str:
    return KEY_ARN.replace("1234abcd", f"{n:08x}")


# Key 3's exception lapses between the two scans.
POLICY: PolicyInput = {
    "exceptions": [
        {"match": {"arn": arn(3)}, "owner": "team-l", "reason": "legacy",
         "expires": "2026-06-30"},
    ]
}


def reports(record: Make) -> tuple[kms_rotation.Report, kms_rotation.Report]:
    """Key 1 fixed, 2 regressed, 3 lapsed, 4 new and failing, 5 gone, 6 unchanged."""
    off = {"enabled": False}
    old = [record(arn=arn(1), rotation=off), record(arn=arn(2)), record(arn=arn(3), rotation=off),
           record(arn=arn(5), rotation=off), record(arn=arn(6))]
    new = [record(arn=arn(1)), record(arn=arn(2), rotation=off), record(arn=arn(3), rotation=off),
           record(arn=arn(4), rotation=off), record(arn=arn(6))]
    return (kms_rotation.evaluate(old, POLICY, OLD_AT), kms_rotation.evaluate(new, POLICY, NEW_AT))


def arns(changes: list[KeyChange]) -> list[str]:
    return [change["arn"] for change in changes]


def test_each_category_gets_its_keys(record: Make) -> None:
    old, new = reports(record)
    diff: ReportDiff = kms_rotation.diff(old=old, new=new)
    assert arns(diff["fixed"]) == [arn(1)]
    assert arns(diff["regressed"]) == [arn(2)]
    assert arns(diff["lapsed"]) == [arn(3)]
    assert arns(diff["new_failing"]) == [arn(4)]
    assert arns(diff["gone"]) == [arn(5)]
    assert diff["worse"] is True
    assert diff["policy_changed"] is False
    assert diff["counts"]["still_failing"] == 0
    lapsed = diff["lapsed"][0]
    assert (lapsed["old_status"], lapsed["new_status"]) == ("exempt", "fail")
    assert lapsed["exception"] is not None and lapsed["exception"]["owner"] == "team-l"
    [place] = diff["by_account_region"]
    assert (place["account_id"], place["region"], place["regressed"]) == (
        "123456789012", "eu-west-1", 1)


def test_files_dicts_and_the_async_version_give_the_same_diff(
    record: Make, tmp_path: Path
) -> None:
    old, new = reports(record)
    old_file = tmp_path / "old.json"
    old_file.write_text(old.to_json())
    from_file = kms_rotation.diff(old_file=old_file, new=new.to_dict())
    assert from_file == kms_rotation.diff(old=old, new=new)
    assert asyncio.run(kms_rotation.aio.diff(old=old, new=new)) == from_file
    json.dumps(from_file)  # plain JSON values only


def test_an_edited_or_swapped_report_is_refused(record: Make) -> None:
    old, new = reports(record)
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        kms_rotation.diff(old=new, new=old)
    assert caught.value.field == "old.generated_at"
    edited = new.to_dict()
    edited["findings"][0]["status"] = "fail"  # key 1 passes in the new report
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        kms_rotation.diff(old=old, new=edited)
    assert caught.value.field == "new.findings[0].status"
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        kms_rotation.diff(old=old)
    assert caught.value.field == "new"
