"""evaluate(): the rule over records the caller already has, as dicts or KeyRecords."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
import pytest

import kms_rotation
from kms_rotation.types import KeyRecord, PolicyInput
from support import FLEET, KEY_ARN, POLICY

Make = Callable[..., KeyRecord]


def test_a_dict_record_is_judged_by_the_rule(record: Make) -> None:
    report = kms_rotation.evaluate([record(rotation={"enabled": False})])
    [finding] = report.findings
    assert finding.status == "fail"
    assert finding.reason == "rotation_disabled"
    assert finding.remediable is True
    assert finding.remediation_target == KEY_ARN
    assert finding.account_id == "123456789012"
    assert finding.region == "eu-west-1"
    assert report.compliant is False


def test_every_status_comes_through(record: Make) -> None:
    records = [
        record(arn=KEY_ARN.replace("1234abcd", "00000001")),
        record(arn=KEY_ARN.replace("1234abcd", "00000002"), rotation={"enabled": False}),
        record(arn=KEY_ARN.replace("1234abcd", "00000003"), key_manager="AWS"),
        record(
            arn=KEY_ARN.replace("1234abcd", "00000004"),
            rotation=None,
            errors=[{"operation": "GetKeyRotationStatus", "code": "AccessDeniedException"}],
        ),
    ]
    report = kms_rotation.evaluate(records)
    statuses = {f.key_id[:8]: (f.status, f.reason) for f in report.findings}
    assert statuses == {
        "00000001": ("pass", "rotation_enabled"),
        "00000002": ("fail", "rotation_disabled"),
        "00000003": ("not_applicable", "aws_managed"),
        "00000004": ("error", "rotation_status_failed"),
    }
    error = report.findings[3].error
    assert error is not None and error["code"] == "AccessDeniedException"
    assert report.summary.by_status == {
        "total": 4,
        "pass": 1,
        "fail": 1,
        "not_applicable": 1,
        "exempt": 0,
        "error": 1,
    }


def test_dicts_give_the_same_report_as_scanning_the_inventory_file(
    fleet_keys: list[KeyRecord],
) -> None:
    now = datetime(2026, 6, 1, tzinfo=timezone.utc)
    from_dicts = kms_rotation.evaluate(fleet_keys, policy=kms_rotation.load_policy(POLICY), now=now)
    from_file = kms_rotation.scan(inventory=FLEET, policy_file=POLICY, now=now)
    assert from_dicts.findings == from_file.findings
    assert from_dicts.summary.to_dict() == from_file.summary.to_dict()
    assert from_dicts.scope["source"] == "memory"


def test_an_inventory_dict_and_key_records_are_accepted(
    fleet_keys: list[KeyRecord],
) -> None:
    as_dicts = kms_rotation.evaluate(fleet_keys)
    as_inventory = kms_rotation.evaluate({"schema_version": 1, "keys": fleet_keys})
    as_records = kms_rotation.evaluate(
        kms_rotation.KeyRecord.from_dict(k) for k in fleet_keys
    )
    assert as_inventory.findings == as_dicts.findings
    assert as_records.findings == as_dicts.findings
    # Records in memory, whatever their container (the core's `evaluate`).
    assert as_inventory.scope["source"] == as_dicts.scope["source"] == "memory"


def test_an_inventory_dict_is_checked_like_a_file(fleet_keys: list[KeyRecord]) -> None:
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        kms_rotation.evaluate({"schema_version": 2, "keys": fleet_keys})
    assert caught.value.field == "schema_version"
    with pytest.raises(kms_rotation.InvalidInputError, match="twice|duplicate|listed"):
        kms_rotation.evaluate({"schema_version": 1, "keys": [fleet_keys[0], fleet_keys[0]]})


def test_unknown_fields_are_ignored(record: Make) -> None:
    report = kms_rotation.evaluate([record(something_new={"nested": [1, 2]})])
    assert report.findings[0].status == "pass"


def test_policy_as_dict_or_object_not_a_path(record: Make) -> None:
    long_period = record(rotation={"enabled": True, "period_days": 730})
    assert kms_rotation.evaluate([long_period]).findings[0].status == "fail"
    policies: list[PolicyInput | kms_rotation.Policy] = [
        {"max_rotation_period_days": 730},
        kms_rotation.Policy(max_rotation_period_days=730),
    ]
    for policy in policies:
        assert kms_rotation.evaluate([long_period], policy=policy).findings[0].status == "pass"
    assert kms_rotation.evaluate(
        [long_period], policy=kms_rotation.load_policy(POLICY)
    ).findings[0].reason == "rotation_period_exceeds_policy"
    # A path is not a policy (`load_policy` reads one): refused, never taken for the default.
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        kms_rotation.evaluate([long_period], policy=str(POLICY))  # type: ignore[arg-type]
    assert caught.value.field == "policy"


def test_now_decides_whether_an_exception_is_active(record: Make) -> None:
    policy: PolicyInput = {
        "exceptions": [
            {"match": {"alias": "payments"}, "owner": "o", "reason": "r", "expires": "2026-06-30"}
        ]
    }
    key = record(rotation={"enabled": False})
    before = kms_rotation.evaluate([key], policy, datetime(2026, 6, 30, 23, 59, tzinfo=timezone.utc))
    after = kms_rotation.evaluate([key], policy, "2026-07-01T00:00:00Z")
    assert before.findings[0].status == "exempt"
    assert after.findings[0].status == "fail"
    exception = after.findings[0].exception
    assert exception is not None and exception["expired"] is True
    assert before.generated_at == datetime(2026, 6, 30, 23, 59, tzinfo=timezone.utc)


def test_datetime_objects_in_records_are_read(record: Make) -> None:
    created = datetime(2020, 1, 1, tzinfo=timezone(timedelta(hours=2)))
    report = kms_rotation.evaluate(
        [record(origin="EXTERNAL", creation_date=created)],
        policy={"imported_key_max_age_days": 365},
        now=datetime(2026, 1, 1, tzinfo=timezone.utc),
    )
    finding = report.findings[0]
    assert finding.reason == "imported_key_rotation_overdue"
    assert finding.creation_date == created


def test_a_naive_datetime_is_refused(record: Make) -> None:
    with pytest.raises(kms_rotation.InvalidInputError, match="naive") as caught:
        kms_rotation.evaluate([record()], now=datetime(2026, 1, 1))
    assert caught.value.field == "now"


def test_a_bad_record_names_its_index_and_field(record: Make) -> None:
    records = [record(), record(key_spec="RSA_1024")]
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        kms_rotation.evaluate(records)
    assert caught.value.field == "records[1].key_spec"
    assert "RSA_1024" in str(caught.value)


def test_a_record_missing_required_fields_is_refused(record: Make) -> None:
    key = record()
    del key["key_state"]  # type: ignore[misc]
    with pytest.raises(kms_rotation.InvalidInputError, match="key_state"):
        kms_rotation.evaluate([key])
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        kms_rotation.evaluate([record(arn="not-an-arn")])
    assert caught.value.field == "records[0]"


def test_records_must_be_an_iterable(record: Make) -> None:
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        kms_rotation.evaluate(42)  # type: ignore[arg-type]
    assert caught.value.field == "records"
    with pytest.raises(kms_rotation.InvalidInputError, match="cannot be converted"):
        kms_rotation.evaluate([object()])  # type: ignore[list-item]


def test_evaluate_async_gives_the_same_report(fleet_keys: list[KeyRecord]) -> None:
    now = datetime(2026, 6, 1, tzinfo=timezone.utc)

    async def both() -> tuple[kms_rotation.Report, kms_rotation.Report]:
        return await asyncio.gather(
            kms_rotation.aio.evaluate(fleet_keys, policy, now),
            kms_rotation.aio.evaluate(fleet_keys, policy, now),
        )

    policy = kms_rotation.load_policy(POLICY)
    first, second = asyncio.run(both())
    assert first == second == kms_rotation.evaluate(fleet_keys, policy, now)


def test_key_record_attributes(record: Make) -> None:
    key = kms_rotation.KeyRecord.from_dict(record(multi_region={"role": "PRIMARY"}))
    assert key.arn == KEY_ARN
    assert key.key_id == "1234abcd-12ab-34cd-56ef-1234567890ab"
    assert key.key_manager == "CUSTOMER"
    assert key.multi_region == {"role": "PRIMARY"}
    assert key.rotation is not None and key.rotation["period_days"] == 365
    assert key.creation_date == datetime(2024, 3, 1, 12, tzinfo=timezone.utc)
    assert kms_rotation.KeyRecord.from_dict(key.to_dict()) == key
