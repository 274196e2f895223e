"""Scans and the remediation loop against AWS emulators on 127.0.0.1: the project's KMS test
server (AWS semantics, started here from KMS_TEST_SERVER_BIN) and moto (KMS_ROTATION_MOTO_URL).
Credentials are dummies; nothing here reaches AWS."""

from __future__ import annotations

import asyncio
import json
import os
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

import kms_rotation
from support import EXCEPTIONS, FLEET, POLICY

pytestmark = pytest.mark.skipif(not kms_rotation.HAS_AWS, reason="built without the AWS source")

ACCOUNT = "111122223333"
REGIONS = ["eu-west-1", "us-east-1"]
FAST: dict[str, Any] = {"max_attempts": 1, "operation_timeout_ms": 10_000}


@pytest.fixture(autouse=True)
def _dummy_credentials(aws_credentials: None) -> None:
    """Every test here gets the test server's dummy credentials (conftest.py)."""


def inventory_report() -> kms_rotation.Report:
    return kms_rotation.scan(inventory=FLEET, policy_file=POLICY, exceptions=[EXCEPTIONS],
                             accounts=[ACCOUNT], regions=REGIONS)


def calls(server: str) -> list[dict[str, Any]]:
    """The test server's call log (`GET /_calls`, tests/kms-test-server/README.md)."""
    with urllib.request.urlopen(f"{server}/_calls", timeout=10) as response:
        log: list[dict[str, Any]] = json.loads(response.read())
    return log


def writes(server: str) -> list[dict[str, Any]]:
    """The write calls (Enable/DisableKeyRotation) the server received."""
    return [c for c in calls(server) if c["write"]]


def verdicts(report: kms_rotation.Report) -> dict[str, tuple[str, str]]:
    return {f.arn: (f.status, f.reason) for f in report.findings}


def test_sync_scan_of_the_test_server_matches_the_inventory(test_server: str) -> None:
    seen: list[kms_rotation.Progress] = []
    report = kms_rotation.scan(endpoint_url=test_server, regions=REGIONS, policy_file=POLICY,
                               exceptions=[EXCEPTIONS], progress=seen.append, **FAST)
    assert report.scope["source"] == "aws"
    assert report.complete, report.scope_errors
    expected = inventory_report()
    assert set(verdicts(report)) == set(verdicts(expected))
    assert seen and seen[-1].keys_read == report.summary.total


def test_async_scans_of_the_test_server_run_concurrently(test_server: str) -> None:
    async def main() -> list[kms_rotation.Report]:
        return await asyncio.gather(*(
            kms_rotation.aio.scan(endpoint_url=test_server, regions=[region], max_attempts=1)
            for region in REGIONS
        ))

    per_region = asyncio.run(main())
    both = kms_rotation.scan(endpoint_url=test_server, regions=REGIONS, max_attempts=1)
    assert sum(r.summary.total for r in per_region) == both.summary.total > 0


def test_rate_limits_and_history_options_are_accepted(test_server: str) -> None:
    report = kms_rotation.scan(endpoint_url=test_server, regions=["us-east-1"],
                               rates=["describe-key=50", "list-keys=5"],
                               rotation_history=True, concurrency_per_region=2, max_attempts=1)
    assert report.summary.total > 0
    # The core's one syntax (the CLI's --rate); the message names the bad entry.
    bad = "`describe_keys=5`.*OPERATION="
    with pytest.raises(kms_rotation.InvalidInputError, match=bad) as caught:
        kms_rotation.scan(endpoint_url=test_server, regions=["us-east-1"],
                          rates=["describe_keys=5"])
    assert caught.value.field == "rates"


def test_invalid_aws_options_are_refused_before_any_call() -> None:
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        kms_rotation.scan(regions=["us-east-1"], role_arns=["arn:aws:iam::12:role/x"])
    assert caught.value.field == "role_arns[0]"
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        kms_rotation.scan(regions=["us-east-1"], endpoint_url="127.0.0.1:4566")
    assert caught.value.field == "endpoint_url"


def test_an_unreachable_endpoint_is_an_incomplete_report_not_an_exception() -> None:
    report = kms_rotation.scan(endpoint_url="http://127.0.0.1:9", regions=["us-east-1"],
                               max_attempts=1, connect_timeout_ms=1_000)
    assert report.complete is False
    assert report.scope_errors and report.scope_errors[0]["region"] == "us-east-1"


def test_the_remediation_loop_plan_apply_rescan_rollback(test_server: str, tmp_path: Path) -> None:
    connect: dict[str, Any] = {"endpoint_url": test_server, "max_attempts": 1}
    before = kms_rotation.scan(regions=REGIONS, policy_file=POLICY, exceptions=[EXCEPTIONS],
                               **connect)
    plan = kms_rotation.plan(report=before)
    remediable = {f.remediation_target for f in before.findings if f.remediable}
    assert remediable and {a["target_arn"] for a in plan.actions} == remediable
    assert {s["reason"] for s in plan.skips} >= {"exempt"}
    for format in kms_rotation.PLAN_FORMATS:
        assert plan.render(format)
    assert kms_rotation.Plan.from_dict(json.loads(plan.render("json"))) == plan

    # A dry run reads and writes nothing.
    journal = tmp_path / "journal.ndjson"
    dry = kms_rotation.apply(plan=plan, journal=journal, **connect)
    assert dry.dry_run and {r["status"] for r in dry.results} == {"would_remediate"}
    assert not journal.exists()

    calls: list[kms_rotation.RemediationProgress] = []
    done = kms_rotation.apply(plan=plan, journal=journal, dry_run=False, verify_delay_ms=10,
                              progress=calls.append, **connect)
    assert done.success, done.to_dict()
    done.raise_for_failure()
    assert [(c.done, c.total) for c in calls] == [(n, len(plan)) for n in range(1, len(plan) + 1)]
    assert {r["status"] for r in done.results} == {"remediated"}
    after = kms_rotation.scan(regions=REGIONS, policy_file=POLICY, exceptions=[EXCEPTIONS],
                              **connect)
    assert not any(f.remediable for f in after.findings)
    assert after.summary.by_status["fail"] < before.summary.by_status["fail"]
    events = [json.loads(line)["event"] for line in journal.read_text().splitlines()]
    assert events.count("before") == len(plan) and "verified" in events

    rollback_calls: list[kms_rotation.RemediationProgress] = []
    undone = asyncio.run(kms_rotation.aio.rollback(journal=journal, dry_run=False,
                                                   verify_delay_ms=10,
                                                   progress=rollback_calls.append, **connect))
    assert {r["status"] for r in undone.results} == {"rolled_back"}
    undone.raise_for_failure()
    assert [c.done for c in rollback_calls] == list(range(1, len(undone.results) + 1))
    assert {c.total for c in rollback_calls} == {len(undone.results)}
    again = kms_rotation.scan(regions=REGIONS, policy_file=POLICY, exceptions=[EXCEPTIONS],
                              **connect)
    assert verdicts(again) == verdicts(before)
    # A second rollback of the same journal changes nothing.
    assert kms_rotation.rollback(journal=journal, dry_run=False, **connect).results == []


def test_apply_needs_a_journal_to_change_keys(test_server: str) -> None:
    plan = kms_rotation.plan(report=inventory_report())
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        kms_rotation.apply(plan=plan, dry_run=False, endpoint_url=test_server)
    assert caught.value.field == "journal"
    assert writes(test_server) == []


@pytest.mark.parametrize(
    ("server_args", "code"),
    [(["--writes", "fail:ThrottlingException"], "ThrottlingException"),
     (["--writes", "fail:KMSInvalidStateException"], "KMSInvalidStateException")],
)
def test_per_key_write_failures_are_results_not_exceptions(
    test_server: str, tmp_path: Path, server_args: list[str], code: str
) -> None:
    # Throttling and key-state errors of single keys are data (the core's contract): the run
    # reports them per key, and the circuit breaker stops it.
    connect: dict[str, Any] = {"endpoint_url": test_server, "max_attempts": 1}
    plan = kms_rotation.plan(scan={"regions": REGIONS, "endpoint_url": test_server,
                                   "max_attempts": 1})
    done = kms_rotation.apply(plan=plan, journal=tmp_path / "j.ndjson", dry_run=False,
                              max_consecutive_failures=2, concurrency=1, verify_delay_ms=10,
                              **connect)
    assert not done.success
    failed = [r for r in done.results if r["status"] == "failed"]
    assert failed and all(r["error"] and r["error"]["code"] == code for r in failed), done.to_dict()
    assert done.stopped is not None and "circuit breaker" in done.stopped


# -- moto ---------------------------------------------------------------------------------------


def moto_call(url: str, operation: str, body: dict[str, Any], region: str = "us-east-1") -> Any:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"TrentService.{operation}",
            "Authorization": (f"AWS4-HMAC-SHA256 Credential=AKIDTEST/20260101/{region}/kms/"
                              "aws4_request, SignedHeaders=host, Signature=0"),
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


@pytest.fixture
def moto() -> str:
    url = os.environ.get("KMS_ROTATION_MOTO_URL")
    if not url:
        pytest.skip("KMS_ROTATION_MOTO_URL is not set")
    return url


def test_sync_and_async_scans_against_moto(moto: str) -> None:
    # A region of our own: moto's state is shared by every test using it.
    region = "eu-north-1"
    tag = uuid.uuid4().hex
    on = moto_call(moto, "CreateKey", {"Tags": [{"TagKey": "run", "TagValue": tag}]}, region)
    off = moto_call(moto, "CreateKey", {"Tags": [{"TagKey": "run", "TagValue": tag}]}, region)
    on_arn, off_arn = on["KeyMetadata"]["Arn"], off["KeyMetadata"]["Arn"]
    moto_call(moto, "EnableKeyRotation", {"KeyId": on_arn}, region)

    sync = kms_rotation.scan(endpoint_url=moto, regions=[region], max_attempts=1)
    by_arn = {f.arn: f for f in sync.findings}
    assert by_arn[on_arn].status == "pass"
    assert by_arn[off_arn].status == "fail" and by_arn[off_arn].reason == "rotation_disabled"

    async_ = asyncio.run(kms_rotation.aio.scan(endpoint_url=moto, regions=[region], max_attempts=1))
    assert {f.arn: f.status for f in async_.findings} == {f.arn: f.status for f in sync.findings}


def test_sync_and_async_send_to_security_hub_against_moto(moto: str) -> None:
    # A region of our own: moto's state is shared by every test using it.
    region = "eu-south-2"
    for _ in range(2):
        moto_call(moto, "CreateKey", {}, region)
    report = kms_rotation.scan(endpoint_url=moto, regions=[region], max_attempts=1)
    assert len(report) >= 2
    sent = kms_rotation.send_to_security_hub(report=report, endpoint_url=moto, max_attempts=1)
    assert sent == {"findings": len(report), "imported": len(report), "failed": [], "calls": 1,
                    "complete": True}
    again = asyncio.run(kms_rotation.aio.send_to_security_hub(report=report, endpoint_url=moto))
    assert again == sent


def test_send_to_security_hub_refuses_a_role_of_another_account() -> None:
    with pytest.raises(kms_rotation.InvalidInputError) as refused:
        kms_rotation.send_to_security_hub(report=inventory_report(),
                                          role_arn="arn:aws:iam::999999999999:role/importer",
                                          endpoint_url="http://127.0.0.1:9")
    assert refused.value.field == "report.findings[0].account_id"


def test_progress_of_async_apply_and_sync_rollback(test_server: str, tmp_path: Path) -> None:
    connect: dict[str, Any] = {"endpoint_url": test_server, "max_attempts": 1}
    plan = kms_rotation.plan(report=kms_rotation.scan(regions=REGIONS, **connect))
    journal = tmp_path / "journal.ndjson"
    calls: list[kms_rotation.RemediationProgress] = []
    done = asyncio.run(kms_rotation.aio.apply(plan=plan, journal=journal, dry_run=False,
                                              verify_delay_ms=10, progress=calls.append,
                                              **connect))
    assert done.success, done.to_dict()
    assert [c.done for c in calls] == list(range(1, len(plan) + 1))
    assert calls[-1].done == calls[-1].total == len(plan)

    rollback_calls: list[kms_rotation.RemediationProgress] = []
    undone = kms_rotation.rollback(journal=journal, dry_run=False, verify_delay_ms=10,
                                   progress=rollback_calls.append, **connect)
    assert len(rollback_calls) == len(undone.results) == len(plan)
    assert rollback_calls[-1].done == rollback_calls[-1].total == len(plan)


def test_a_progress_callback_that_raises_fails_the_call(test_server: str, tmp_path: Path) -> None:
    connect: dict[str, Any] = {"endpoint_url": test_server, "max_attempts": 1}
    plan = kms_rotation.plan(report=kms_rotation.scan(regions=REGIONS, **connect))

    def boom(progress: kms_rotation.RemediationProgress) -> None:
        raise ValueError(f"stop at {progress.done}")

    with pytest.raises(ValueError, match="stop at 1"):
        kms_rotation.apply(plan=plan, journal=tmp_path / "j.ndjson", dry_run=False,
                           verify_delay_ms=10, progress=boom, **connect)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_journal_that_cannot_be_written_stops_apply_with_every_result(test_server: str) -> None:
    connect: dict[str, Any] = {"endpoint_url": test_server, "max_attempts": 1}
    plan = kms_rotation.plan(report=kms_rotation.scan(regions=REGIONS, **connect))
    done = kms_rotation.apply(plan=plan, journal="/dev/full", dry_run=False, verify_delay_ms=10,
                              **connect)
    assert not done.success
    assert done.journal_error and done.stopped and "journal" in done.stopped
    assert done.journal_warnings == []
    assert len(done.results) == len(plan)
    assert {(r["status"], r["reason"]) for r in done.results} == {("not_attempted", "journal_failed")}


def test_rollback_reports_a_torn_last_line_and_goes_on(tmp_path: Path) -> None:
    journal = tmp_path / "torn.ndjson"
    journal.write_text('{"at": "2026-11-22T12:00:00Z", "run_')
    undone = kms_rotation.rollback(journal=journal, dry_run=True)
    assert undone.results == [] and undone.success
    assert undone.journal_error is None
    assert len(undone.journal_warnings) == 1 and "line 1 is incomplete" in undone.journal_warnings[0]


def test_apply_and_rollback_call_and_write_nothing_unless_dry_run_is_false(
    test_server: str, tmp_path: Path
) -> None:
    # The server accepts every write: only the dry-run default stands between these calls and
    # the keys. The server's call log counts what reached it.
    connect: dict[str, Any] = {"endpoint_url": test_server, "max_attempts": 1}
    plan = kms_rotation.plan(scan={"regions": REGIONS, "endpoint_url": test_server,
                                   "max_attempts": 1})
    assert len(plan) > 0
    journal = tmp_path / "journal.ndjson"
    before = len(calls(test_server))
    for preview in (
        kms_rotation.apply(plan=plan, journal=journal, **connect),
        kms_rotation.apply(plan=plan.to_dict(), journal=journal, dry_run=None, **connect),
        asyncio.run(kms_rotation.aio.apply(plan=plan, journal=journal, **connect)),
    ):
        assert preview.dry_run and preview.success
        assert [r["status"] for r in preview.results] == ["would_remediate"] * len(plan)
    assert len(calls(test_server)) == before, "a dry run made a call"
    assert writes(test_server) == []
    assert not journal.exists(), "a dry run created the journal"

    done = kms_rotation.apply(plan=plan, journal=journal, dry_run=False, verify_delay_ms=10,
                              **connect)
    assert done.success, done.to_dict()
    assert len(writes(test_server)) == len(plan)
    journal_text = journal.read_text()

    before = len(calls(test_server))
    for undo in (
        kms_rotation.rollback(journal=journal, **connect),
        asyncio.run(kms_rotation.aio.rollback(journal=journal, **connect)),
    ):
        assert undo.dry_run and undo.success
        assert [r["status"] for r in undo.results] == ["would_roll_back"] * len(plan)
    assert len(calls(test_server)) == before, "a dry-run rollback made a call"
    assert len(writes(test_server)) == len(plan)
    assert journal.read_text() == journal_text, "a dry-run rollback wrote to the journal"


def moto_organizations(url: str, operation: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"AWSOrganizationsV20161128.{operation}",
            "Authorization": ("AWS4-HMAC-SHA256 Credential=AKIDTEST/20260101/us-east-1/"
                              "organizations/aws4_request, SignedHeaders=host, Signature=0"),
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


def test_organization_and_shard_options_pass_through_to_the_core(moto: str) -> None:
    # Checked by the core before any call, naming the field.
    with pytest.raises(kms_rotation.InvalidInputError) as refused:
        kms_rotation.scan(organization=True, regions=["us-east-1"], endpoint_url=moto)
    assert refused.value.field == "org_role_name"
    with pytest.raises(kms_rotation.InvalidInputError) as refused:
        kms_rotation.scan(organization=True, org_role_name="scanner",
                          exclude_ous=["ou-x"], regions=["us-east-1"], endpoint_url=moto)
    assert refused.value.field == "exclude_ous[0]"

    # An organisation on moto (shared: it may exist already), a key in the management account.
    try:
        moto_organizations(moto, "CreateOrganization", {"FeatureSet": "ALL"})
    except urllib.error.HTTPError as error:
        assert b"AlreadyInOrganization" in error.read()
    region = "eu-central-2"
    key = moto_call(moto, "CreateKey", {}, region)["KeyMetadata"]["Arn"]
    report = kms_rotation.scan(organization=True, org_role_name="kms-rotation-scanner",
                               exclude_accounts=["999999999999"], regions=[region],
                               endpoint_url=moto, max_attempts=1)
    assert "123456789012" in report.scope["accounts"]
    assert key in {f.arn for f in report.findings}
    assert report.scope_errors == []

    half = kms_rotation.scan(organization=True, org_role_name="kms-rotation-scanner",
                             regions=[region], shard="0/2", endpoint_url=moto, max_attempts=1)
    assert half.scope["shard"] == "0/2"
