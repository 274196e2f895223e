"""Shared fixtures: the sample fleet of examples/, and record builders."""

from __future__ import annotations

import copy
import json
import os
import subprocess
from collections.abc import Callable, Iterator
from typing import Any, cast

import pytest

from kms_rotation.types import KeyRecord
from support import FLEET, KEY_ARN


@pytest.fixture
def fleet_keys() -> list[KeyRecord]:
    """The sample fleet's records, as plain dicts."""
    keys: list[KeyRecord] = json.loads(FLEET.read_text())["keys"]
    return keys


@pytest.fixture
def record() -> Callable[..., KeyRecord]:
    """A customer-managed symmetric key with rotation on; keyword arguments override fields.
    Typed as a record, though a test may override a field with anything."""

    def make(**fields: Any) -> KeyRecord:
        base: dict[str, Any] = {
            "arn": KEY_ARN,
            "aliases": ["alias/payments"],
            "tags": {"owner": "payments"},
            "key_manager": "CUSTOMER",
            "key_spec": "SYMMETRIC_DEFAULT",
            "key_usage": "ENCRYPT_DECRYPT",
            "origin": "AWS_KMS",
            "key_state": "Enabled",
            "creation_date": "2024-03-01T12:00:00Z",
            "rotation": {"enabled": True, "period_days": 365},
        }
        base = copy.deepcopy(base)
        base.update(fields)
        return cast(KeyRecord, base)

    return make


TEST_ACCOUNT = "111122223333"


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials and no AWS configuration: nothing can reach AWS."""
    # The test server takes the account from a `TEST<account>` access key id.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", f"TEST{TEST_ACCOUNT}")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_KMS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def server_args() -> list[str]:
    """Extra flags of the test server (fault injection); override by parametrizing."""
    return []


@pytest.fixture
def test_server(server_args: list[str], aws_credentials: None) -> Iterator[str]:
    """The project's KMS test server (KMS_TEST_SERVER_BIN) serving the sample fleet."""
    binary = os.environ.get("KMS_TEST_SERVER_BIN")
    if not binary:
        pytest.skip("KMS_TEST_SERVER_BIN is not set")
    server = subprocess.Popen(
        [binary, "--inventory", str(FLEET), *server_args],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        yield url
    finally:
        server.kill()
        server.wait()
        if server.stdout is not None:
            server.stdout.close()
