"""Paths, constants and helpers the tests share (importable: `pythonpath = ["tests"]`)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
FLEET = EXAMPLES / "fleet.json"
POLICY = EXAMPLES / "policy.yaml"
EXCEPTIONS = EXAMPLES / "exceptions.yaml"

KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def needed(name: str) -> str:
    """The environment variable `name`, which scripts/test sets: the test is skipped without it,
    and fails without it under CI."""
    value = os.environ.get(name)
    if not value:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not set: scripts/test sets it")
        pytest.skip(f"{name} is not set")
    return value
