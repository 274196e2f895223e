"""Every error class, raised in a real situation and caught by the package's base class."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import kms_rotation
from support import FLEET

KINDS = {
    kms_rotation.InvalidInputError: "InvalidInput",
    kms_rotation.NotFoundError: "NotFound",
    kms_rotation.AccessDeniedError: "AccessDenied",
    kms_rotation.ThrottledError: "Throttled",
    kms_rotation.InvalidKeyStateError: "InvalidKeyState",
    kms_rotation.UnsupportedError: "Unsupported",
    kms_rotation.UnavailableError: "Unavailable",
    kms_rotation.UnexpectedError: "Unexpected",
}


@pytest.mark.parametrize("cls", list(KINDS))
def test_every_class_derives_from_the_base(cls: type[kms_rotation.KmsRotationError]) -> None:
    assert issubclass(cls, kms_rotation.KmsRotationError)
    assert issubclass(kms_rotation.KmsRotationError, Exception)
    assert cls.kind == KINDS[cls]


def test_invalid_input_from_a_malformed_inventory(tmp_path: Path) -> None:
    path = tmp_path / "fleet.json"
    path.write_text('{"schema_version": 1, "keys": [\n  {"arn": 42}\n]}')
    with pytest.raises(kms_rotation.KmsRotationError) as caught:
        kms_rotation.scan(inventory=path)
    err = caught.value
    assert type(err) is kms_rotation.InvalidInputError
    assert isinstance(err, ValueError)
    assert (err.kind, err.file, err.line, err.field) == ("InvalidInput", str(path), 2, "keys[0].arn")
    assert err.retryable is False
    assert err.code is None and err.key_arn is None and err.request_id is None


def test_not_found_for_a_missing_file() -> None:
    with pytest.raises(kms_rotation.KmsRotationError) as caught:
        kms_rotation.load_policy("/nonexistent/policy.yaml")
    assert type(caught.value) is kms_rotation.NotFoundError
    assert caught.value.file == "/nonexistent/policy.yaml"


def test_unavailable_when_the_inventory_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(kms_rotation.KmsRotationError) as caught:
        kms_rotation.scan(inventory=tmp_path)  # a directory
    assert type(caught.value) is kms_rotation.UnavailableError


ACCESS_DENIED = textwrap.dedent(
    """
    import os, sys, kms_rotation
    # Drop root (which reads anything) once the package is loaded.
    os.setgid(65534)
    os.setuid(65534)
    try:
        kms_rotation.scan(inventory=sys.argv[1])
    except kms_rotation.KmsRotationError as err:
        print(type(err).__name__, err.kind, err.file)
    """
)


def test_access_denied_for_an_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "fleet.json"
    path.write_text(FLEET.read_text())
    path.chmod(0)
    if os.geteuid() != 0:
        with pytest.raises(kms_rotation.AccessDeniedError) as caught:
            kms_rotation.scan(inventory=path)
        assert caught.value.file == str(path)
        return
    # root reads anything: read as an unprivileged user instead.
    out = subprocess.run(
        [sys.executable, "-c", ACCESS_DENIED, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split() == ["AccessDeniedError", "AccessDenied", str(path)]


@pytest.mark.skipif(kms_rotation.HAS_AWS, reason="this build has the AWS source")
def test_unsupported_without_a_source() -> None:
    with pytest.raises(kms_rotation.KmsRotationError) as caught:
        kms_rotation.scan()
    assert type(caught.value) is kms_rotation.UnsupportedError


@pytest.mark.skipif(kms_rotation.HAS_AWS, reason="this build has the AWS source")
def test_no_iam_policy_without_aws_support() -> None:
    with pytest.raises(kms_rotation.UnsupportedError):
        kms_rotation.iam_policy()


def test_a_panic_becomes_unexpected_error_sync() -> None:
    with pytest.raises(kms_rotation.KmsRotationError) as caught:
        kms_rotation._native._panic_for_tests("deliberate")
    assert type(caught.value) is kms_rotation.UnexpectedError
    assert "deliberate" in str(caught.value)
    # The interpreter and the runtime go on.
    assert kms_rotation.scan(inventory=FLEET).summary.total == 22


def test_a_panic_becomes_unexpected_error_async() -> None:
    async def main() -> None:
        await kms_rotation._native._panic_for_tests("deliberate", True)

    with pytest.raises(kms_rotation.UnexpectedError, match="deliberate"):
        asyncio.run(main())
    assert asyncio.run(kms_rotation.aio.scan(inventory=FLEET)).summary.total == 22


def test_errors_can_be_built_and_pickled_like_any_exception() -> None:
    import pickle

    err = kms_rotation.ThrottledError("slow down", code="ThrottlingException", retryable=True)
    assert (err.kind, err.code, err.retryable, str(err)) == (
        "Throttled", "ThrottlingException", True, "slow down")
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is kms_rotation.ThrottledError and str(again) == "slow down"


# -- AWS failures of single keys, raised on request ----------------------------------------------

ORDERS = "arn:aws:kms:us-east-1:111122223333:key/00000002-0000-4000-8000-000000000002"
AWS_KINDS = [
    ("ThrottlingException", kms_rotation.ThrottledError),
    ("KMSInvalidStateException", kms_rotation.InvalidKeyStateError),
    ("UnsupportedOperationException", kms_rotation.UnsupportedError),
    ("AccessDeniedException", kms_rotation.AccessDeniedError),
]
needs_aws = pytest.mark.skipif(not kms_rotation.HAS_AWS, reason="built without the AWS source")


@needs_aws
@pytest.mark.parametrize(
    ("server_args", "code", "cls"),
    [(["--writes", f"fail:{code}"], code, cls) for code, cls in AWS_KINDS],
)
def test_a_failed_apply_raises_the_class_of_its_aws_code(
    test_server: str, tmp_path: Path, server_args: list[str], code: str,
    cls: type[kms_rotation.KmsRotationError],
) -> None:
    connect: dict[str, Any] = {"endpoint_url": test_server, "max_attempts": 1}
    plan = kms_rotation.plan(scan={"regions": ["eu-west-1", "us-east-1"], **connect})
    done = kms_rotation.apply(plan=plan, journal=tmp_path / "j.ndjson", dry_run=False,
                              max_consecutive_failures=1, concurrency=1, verify_attempts=1,
                              verify_delay_ms=10, **connect)
    failed = next(r for r in done.results if r["status"] == "failed")
    with pytest.raises(kms_rotation.KmsRotationError) as caught:
        done.raise_for_failure()
    err = caught.value
    assert type(err) is cls and err.kind == KINDS[cls]
    assert (err.code, err.key_arn, err.region, err.operation) == (
        code, failed["target_arn"], failed["region"], "EnableKeyRotation")
    assert err.retryable is (cls is kms_rotation.ThrottledError)


@needs_aws
@pytest.mark.parametrize(
    ("server_args", "code", "cls"),
    [(["--writes", f"fail:{code}"], code, cls) for code, cls in AWS_KINDS],
)
def test_a_failed_rollback_raises_the_class_of_its_aws_code(
    test_server: str, tmp_path: Path, server_args: list[str], code: str,
    cls: type[kms_rotation.KmsRotationError],
) -> None:
    # A journal saying a run turned rotation off on a key that had it on (365 days): rolling
    # it back is an EnableKeyRotation, which the server fails.
    journal = tmp_path / "j.ndjson"
    lines = [
        {"at": "2026-11-22T12:00:00Z", "run_id": "r1", "target_arn": ORDERS, "event": event,
         "state": state, "error": None}
        for event, state in [("before", {"enabled": True, "period_days": 365}),
                             ("after", {"enabled": False, "period_days": None})]
    ]
    journal.write_text("".join(json.dumps(line) + "\n" for line in lines))
    undone = asyncio.run(kms_rotation.aio.rollback(
        journal=journal, dry_run=False, verify_attempts=1, verify_delay_ms=10,
        endpoint_url=test_server, max_attempts=1))
    assert [r["status"] for r in undone.results] == ["failed"], undone.to_dict()
    with pytest.raises(kms_rotation.KmsRotationError) as caught:
        undone.raise_for_failure()
    err = caught.value
    assert type(err) is cls
    assert (err.code, err.key_arn, err.region, err.operation) == (
        code, ORDERS, "us-east-1", "EnableKeyRotation")



@needs_aws
@pytest.mark.parametrize("server_args", [["--writes", "fail:ThrottlingException"]])
def test_error_on_failure_raises_instead_of_returning(
    test_server: str, tmp_path: Path, server_args: list[str]
) -> None:
    connect: dict[str, Any] = {"endpoint_url": test_server, "max_attempts": 1}
    plan = kms_rotation.plan(scan={"regions": ["eu-west-1", "us-east-1"], **connect})
    with pytest.raises(kms_rotation.ThrottledError) as caught:
        kms_rotation.apply(plan=plan, journal=tmp_path / "j.ndjson", dry_run=False,
                           max_consecutive_failures=1, concurrency=1, verify_attempts=1,
                           verify_delay_ms=10, error_on_failure=True, **connect)
    assert caught.value.operation == "EnableKeyRotation"
