"""review_exceptions: the review of a report's exceptions (expired, unused, unknown, expiring,
active), as the core (and the CLI's `kms-rotation exceptions --format json`) gives it: a dict."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest

import kms_rotation
from kms_rotation.types import ExceptionsReview, ScanOptions
from support import EXCEPTIONS, FLEET, POLICY, needed

NOW = "2026-11-22T12:00:00Z"
ORDERS = "arn:aws:kms:us-east-1:111122223333:key/00000002-0000-4000-8000-000000000002"


def more_exceptions(tmp_path: Path) -> Path:
    """An expiring exception (a failing key, 9 days left), an unused one (a key id no key has)
    and an unknown one (a tag: one key of the fleet had its tags unread)."""
    path = tmp_path / "more.json"
    path.write_text(json.dumps({"exceptions": [
        {"match": {"arn": ORDERS}, "owner": "orders-team", "reason": "freeze",
         "ticket": "CHG-7", "expires": "2026-12-01"},
        {"match": {"key_id": "00000099-0000-4000-8000-000000000099"}, "owner": "gone-team",
         "reason": "deleted", "expires": "2027-06-30"},
        {"match": {"tag": {"key": "rotation-exception", "value": "TKT-99"}},
         "owner": "data-team", "reason": "pinned", "expires": "2027-06-30"},
    ]}))
    return path


def scan_options(tmp_path: Path) -> ScanOptions:
    return {
        "inventory": FLEET, "policy_file": POLICY,
        "exceptions": [EXCEPTIONS, more_exceptions(tmp_path)], "now": NOW,
    }


def test_every_state_from_a_scan(tmp_path: Path) -> None:
    review: ExceptionsReview = kms_rotation.review_exceptions(
        scan=scan_options(tmp_path), now=NOW)
    states = {e["owner"]: e["state"] for e in review["exceptions"]}
    assert states == {
        "analytics-team": "expired", "gone-team": "unused", "data-team": "unknown",
        "orders-team": "expiring", "batch-team": "active",
    }
    # The most urgent first.
    assert [e["state"] for e in review["exceptions"]] == [
        "expired", "unused", "unknown", "expiring", "active"]
    assert review["summary"]["expired_failing"] is True
    assert review["complete"] is True
    orders = next(e for e in review["exceptions"] if e["owner"] == "orders-team")
    assert orders["days_left"] == 9
    assert orders["failing_keys"] == [ORDERS]


def test_a_report_a_file_and_a_scan_give_one_review(tmp_path: Path) -> None:
    report = kms_rotation.scan(**scan_options(tmp_path))
    saved = tmp_path / "report.json"
    saved.write_text(report.to_json())
    from_scan = kms_rotation.review_exceptions(scan=scan_options(tmp_path), now=NOW)
    assert kms_rotation.review_exceptions(report=report, now=NOW) == from_scan
    assert kms_rotation.review_exceptions(report_file=saved, now=NOW, within_days=30) == from_scan
    # A window that ends before the expiry day: active, not expiring.
    narrow = kms_rotation.review_exceptions(report=report, now=NOW, within_days=8)
    assert narrow["summary"]["expiring"] == 0


def test_the_core_checks_the_options() -> None:
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        kms_rotation.review_exceptions()
    assert caught.value.field == "report"
    assert "nothing to review" in str(caught.value)
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        kms_rotation.review_exceptions(report_file=FLEET, within_days=-1)
    assert caught.value.field == "within_days"


def test_aio_review_exceptions_is_the_same(tmp_path: Path) -> None:
    seen: list[kms_rotation.Progress] = []
    review = asyncio.run(kms_rotation.aio.review_exceptions(
        scan=scan_options(tmp_path), now=NOW, progress=seen.append))
    assert review == kms_rotation.review_exceptions(scan=scan_options(tmp_path), now=NOW)
    with pytest.raises(kms_rotation.InvalidInputError):
        asyncio.run(kms_rotation.aio.review_exceptions())


def test_the_same_review_as_the_cli(tmp_path: Path) -> None:
    cli = needed("KMS_ROTATION_CLI")
    out = subprocess.run(
        [cli, "exceptions", "--inventory", str(FLEET), "--policy", str(POLICY),
         "--exceptions", str(EXCEPTIONS), "--exceptions", str(more_exceptions(tmp_path)),
         "--now", NOW, "--format", "json", "-q"],
        capture_output=True, text=True, check=False,
    )
    assert out.returncode == 1, out.stderr
    assert json.loads(out.stdout) == kms_rotation.review_exceptions(
        scan=scan_options(tmp_path), now=NOW)
