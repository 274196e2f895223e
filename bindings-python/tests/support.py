"""Paths and constants the tests share (importable: `pythonpath = ["tests"]`)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
FLEET = EXAMPLES / "fleet.json"
POLICY = EXAMPLES / "policy.yaml"
EXCEPTIONS = EXAMPLES / "exceptions.yaml"

KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
