"""scan() and aio.scan() over the inventory source: options, progress, GIL, asyncio."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import kms_rotation
from support import EXCEPTIONS, FLEET, POLICY


def test_scan_an_inventory_with_policy_and_exceptions() -> None:
    report = kms_rotation.scan(inventory=FLEET, policy_file=POLICY, exceptions=[EXCEPTIONS])
    summary = report.summary
    assert (summary.total, summary.by_status["fail"], summary.by_status["exempt"]) == (22, 7, 1)
    assert summary.by_status["error"] == 2
    assert report.compliant is False and report.complete is True
    assert report.scope["source"] == "inventory"
    assert len(report) == 22


def test_exceptions_are_a_list_of_paths() -> None:
    one = kms_rotation.scan(inventory=FLEET, exceptions=[str(EXCEPTIONS)])
    several = kms_rotation.scan(inventory=FLEET, exceptions=[EXCEPTIONS, EXCEPTIONS])
    assert one.summary.by_status["exempt"] == several.summary.by_status["exempt"] == 1
    # One bare path is not a list (the core's type): refused, never read letter by letter.
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        kms_rotation.scan(inventory=FLEET, exceptions=EXCEPTIONS)  # type: ignore[arg-type]
    assert caught.value.field == "exceptions"


def test_policy_as_object_dict_or_file() -> None:
    policy = kms_rotation.load_policy(POLICY).with_exceptions_file(EXCEPTIONS)
    as_object = kms_rotation.scan(inventory=FLEET, policy=policy)
    as_dict = kms_rotation.scan(inventory=FLEET, policy=policy.to_dict())
    as_file = kms_rotation.scan(inventory=FLEET, policy_file=POLICY, exceptions=[EXCEPTIONS])
    assert as_object.findings == as_dict.findings == as_file.findings
    assert as_object.policy == policy
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        kms_rotation.scan(inventory=FLEET, policy=policy, policy_file=POLICY)
    assert caught.value.field == "policy_file"
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        kms_rotation.scan(inventory=FLEET, policy={"max_rotation_period_days": 30})
    assert caught.value.field == "policy.max_rotation_period_days"


def test_records_in_memory_are_a_source() -> None:
    keys = json.loads(FLEET.read_text())["keys"]
    report = kms_rotation.scan(records=keys, regions=["eu-west-1"])
    assert report.scope["source"] == "memory"
    assert report.findings and {f.region for f in report.findings} == {"eu-west-1"}
    records = [kms_rotation.KeyRecord.from_dict(k) for k in keys]
    assert kms_rotation.scan(records=records).findings == kms_rotation.scan(records=keys).findings


def test_none_means_not_given_and_paths_may_be_path_like(tmp_path: Path) -> None:
    report = kms_rotation.scan(inventory=FLEET, policy=None, regions=None, now=None)
    assert report.summary.total == 22

    class Where:
        def __fspath__(self) -> str:
            return str(FLEET)

    assert kms_rotation.scan(inventory=Where()).summary.total == 22
    saved = tmp_path / "saved.json"
    kms_rotation.scan(inventory=FLEET, save_inventory=saved)
    assert kms_rotation.scan(inventory=saved).findings == report.findings


def test_an_unknown_keyword_is_invalid_input_naming_it() -> None:
    with pytest.raises(kms_rotation.InvalidInputError, match="invntory"):
        kms_rotation.scan(invntory=FLEET)  # type: ignore[call-arg]
    with pytest.raises(kms_rotation.InvalidInputError, match="region"):
        kms_rotation.scan(inventory=FLEET, region="eu-west-1")  # type: ignore[call-arg]
    # The CLI's and the old binding's spellings are not aliases.
    with pytest.raises(kms_rotation.InvalidInputError, match="rate_limits"):
        kms_rotation.scan(inventory=FLEET, rate_limits={"describe_key": 1})  # type: ignore[call-arg]


def test_regions_and_accounts_narrow_the_scope() -> None:
    report = kms_rotation.scan(inventory=FLEET, regions=["eu-west-1"])
    assert {f.region for f in report.findings} == {"eu-west-1"}
    assert report.scope["regions"] == ["eu-west-1"]
    report = kms_rotation.scan(inventory=FLEET, accounts=["444455556666"])
    assert report.findings and {f.account_id for f in report.findings} == {"444455556666"}


def test_an_unknown_region_is_refused_unless_allowed() -> None:
    with pytest.raises(kms_rotation.InvalidInputError, match="us-esat-1") as caught:
        kms_rotation.scan(inventory=FLEET, regions=["eu-west-1", "us-esat-1"])
    assert caught.value.field == "regions[1]"
    report = kms_rotation.scan(inventory=FLEET, regions=["us-esat-1"], allow_unknown_region=True)
    assert report.summary.total == 0


def test_aws_options_do_not_apply_to_an_inventory() -> None:
    with pytest.raises(kms_rotation.InvalidInputError, match="AWS options"):
        kms_rotation.scan(inventory=FLEET, endpoint_url="http://127.0.0.1:1")
    with pytest.raises(kms_rotation.InvalidInputError, match="AWS options"):
        kms_rotation.scan(inventory=FLEET, max_attempts=1)


def test_an_invalid_value_names_the_option() -> None:
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        kms_rotation.scan(inventory=FLEET, accounts=["111122223333", "12345"])
    assert caught.value.field == "accounts[1]"
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        kms_rotation.scan(inventory=FLEET, all_tags="yes")  # type: ignore[arg-type]
    assert caught.value.field == "all_tags"


def test_progress_is_reported() -> None:
    seen: list[kms_rotation.Progress] = []
    kms_rotation.scan(inventory=FLEET, progress=seen.append)
    assert seen and seen[-1].keys_listed == seen[-1].keys_read == 22


def test_a_progress_callback_that_raises_fails_the_scan() -> None:
    class Stop(Exception):
        pass

    def stop(_: kms_rotation.Progress) -> None:
        raise Stop("enough")

    with pytest.raises(Stop):
        kms_rotation.scan(inventory=FLEET, progress=stop)


def test_aio_scan_runs_on_the_loop_and_calls_progress_on_its_thread() -> None:
    threads: list[int] = []

    async def main() -> list[kms_rotation.Report]:
        reports = await asyncio.gather(
            *(
                kms_rotation.aio.scan(
                    inventory=FLEET,
                    policy_file=POLICY,
                    progress=lambda _: threads.append(threading.get_ident()),
                )
                for _ in range(4)
            )
        )
        await asyncio.sleep(0)  # progress calls scheduled with the results have run
        return reports

    reports = asyncio.run(main())
    assert all(r.findings == reports[0].findings for r in reports)
    assert threads and set(threads) == {threading.get_ident()}


def test_aio_scan_raises_the_same_errors() -> None:
    with pytest.raises(kms_rotation.NotFoundError):
        asyncio.run(kms_rotation.aio.scan(inventory="/nonexistent/fleet.json"))


@pytest.mark.skipif(kms_rotation.HAS_AWS, reason="this build has the AWS source")
def test_without_the_aws_source_a_scan_needs_an_inventory() -> None:
    with pytest.raises(kms_rotation.UnsupportedError, match="inventory"):
        kms_rotation.scan(regions=["eu-west-1"])


def big_inventory(path: Path, keys: int) -> Path:
    fleet: dict[str, Any] = json.loads(FLEET.read_text())
    template = fleet["keys"][0]
    records = []
    for i in range(keys):
        key = dict(template)
        key_id = f"{i:08x}-0000-4000-8000-000000000000"
        key["key_id"] = key_id
        key["arn"] = f"arn:aws:kms:us-east-1:111122223333:key/{key_id}"
        records.append(key)
    path.write_text(json.dumps({"schema_version": 1, "keys": records}))
    return path


def test_a_sync_scan_releases_the_gil(tmp_path: Path) -> None:
    inventory = big_inventory(tmp_path / "big.json", 40_000)
    ticks: list[float] = []
    done = threading.Event()

    def ticker() -> None:
        while not done.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    thread = threading.Thread(target=ticker)
    thread.start()
    try:
        time.sleep(0.01)
        start = time.perf_counter()
        report = kms_rotation.scan(inventory=inventory)
        end = time.perf_counter()
    finally:
        done.set()
        thread.join()
    assert report.summary.total == 40_000
    during = [t for t in ticks if start < t < end]
    # Holding the GIL for the whole scan would leave no tick inside it.
    assert len(during) >= 5, (len(during), end - start)
