"""Every error class, raised in a real situation and caught by the package's base class."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from pathlib import Path

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
