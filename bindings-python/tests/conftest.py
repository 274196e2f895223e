"""Shared fixtures: the sample fleet of examples/, and record builders."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from support import FLEET, KEY_ARN


@pytest.fixture
def fleet_keys() -> list[dict[str, Any]]:
    """The sample fleet's records, as plain dicts."""
    keys: list[dict[str, Any]] = json.loads(FLEET.read_text())["keys"]
    return keys


@pytest.fixture
def record() -> Callable[..., dict[str, Any]]:
    """A customer-managed symmetric key with rotation on; keyword arguments override fields."""

    def make(**fields: Any) -> dict[str, Any]:
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
        return base

    return make
