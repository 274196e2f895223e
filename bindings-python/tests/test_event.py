"""event, its Lambda handler, and baseline: a KMS CloudTrail event re-checks the keys it touches
(against the project's KMS test server, dummy credentials), an unrelated event is ignored, a
malformed one refused naming the field; the handler only converts its environment."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

import kms_rotation
import kms_rotation.lambda_handler
from support import EXAMPLES, FLEET

pytestmark = pytest.mark.skipif(not kms_rotation.HAS_AWS, reason="built without the AWS source")

EVENTS = EXAMPLES / "events"
ROTATION_OFF = "arn:aws:kms:us-east-1:111122223333:key/00000002-0000-4000-8000-000000000002"


def sample(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return event


def writes(server: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{server}/_calls", timeout=10) as response:
        log: list[dict[str, Any]] = json.loads(response.read())
    return [c for c in log if c["write"]]


@pytest.fixture
def handler_env(monkeypatch: pytest.MonkeyPatch, test_server: str) -> str:
    for name in ("KMS_ROTATION_REMEDIATE", "KMS_ROTATION_DRY_RUN", "KMS_ROTATION_JOURNAL",
                 "KMS_ROTATION_POLICY", "KMS_ROTATION_ROLE_ARN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KMS_ROTATION_ENDPOINT_URL", test_server)
    return test_server


def test_event_re_checks_the_key_the_event_names(test_server: str) -> None:
    outcome = kms_rotation.event(event=sample("disable-key-rotation"), scan={"endpoint_url": test_server})
    assert outcome["ignored"] is None
    assert outcome["event_name"] == "DisableKeyRotation"
    report = outcome["report"]
    assert report is not None
    assert [(f["arn"], f["status"], f["reason"]) for f in report["findings"]] == [
        (ROTATION_OFF, "fail", "rotation_disabled")
    ]
    assert outcome["remediation"] is None


def test_event_reads_a_file_and_an_inventory_too() -> None:
    outcome = kms_rotation.event(event_file=EVENTS / "replicate-key.json", scan={"inventory": FLEET})
    assert outcome["report"] is not None
    assert len(outcome["report"]["findings"]) == 2


def test_an_unrelated_event_is_ignored_and_a_malformed_one_names_the_field() -> None:
    outcome = kms_rotation.event(event=sample("unrelated"))
    assert outcome["ignored"] and "aws.s3" in outcome["ignored"]
    assert outcome["report"] is None
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        kms_rotation.event(event=sample("malformed"))
    assert caught.value.field == "event.detail.requestParameters.keyId"


def test_aio_event_is_the_same(test_server: str) -> None:
    outcome = asyncio.run(kms_rotation.aio.event(event=sample("enable-key"), scan={"endpoint_url": test_server}))
    assert outcome["report"] is not None
    assert outcome["report"]["findings"][0]["status"] == "fail"


def test_the_handler_re_checks_with_a_dry_run_by_default(handler_env: str) -> None:
    outcome = kms_rotation.lambda_handler.handler(sample("disable-key-rotation"), None)
    assert outcome["report"] is not None
    assert outcome["report"]["findings"][0]["arn"] == ROTATION_OFF
    assert outcome["remediation"] is None
    assert writes(handler_env) == []


def test_the_handler_remediates_when_configured(
    handler_env: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.ndjson"
    monkeypatch.setenv("KMS_ROTATION_REMEDIATE", "true")
    outcome = kms_rotation.lambda_handler.handler(sample("disable-key-rotation"), None)
    assert outcome["remediation"] is not None and outcome["remediation"]["dry_run"]
    assert writes(handler_env) == []

    monkeypatch.setenv("KMS_ROTATION_DRY_RUN", "false")
    monkeypatch.setenv("KMS_ROTATION_JOURNAL", str(journal))
    outcome = kms_rotation.lambda_handler.handler(sample("disable-key-rotation"), None)
    remediation = outcome["remediation"]
    assert remediation is not None and not remediation["dry_run"]
    assert [r["status"] for r in remediation["results"]] == ["remediated"]
    assert [w["operation"] for w in writes(handler_env)] == ["EnableKeyRotation"]
    assert ROTATION_OFF in journal.read_text()


def test_the_handler_ignores_an_unrelated_event(handler_env: str) -> None:
    outcome = kms_rotation.lambda_handler.handler(sample("unrelated"), None)
    assert outcome["ignored"]


def test_a_bad_setting_is_the_cores_error_naming_the_option(
    handler_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KMS_ROTATION_DRY_RUN", "maybe")
    monkeypatch.setenv("KMS_ROTATION_REMEDIATE", "true")
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        kms_rotation.lambda_handler.handler(sample("disable-key-rotation"), None)
    assert caught.value.field == "dry_run"


def test_baseline_generates_each_document() -> None:
    template = json.loads(kms_rotation.baseline())
    kinds = {r["Type"] for r in template["Resources"].values()}
    assert {"AWS::Config::ConfigRule", "AWS::Config::RemediationConfiguration",
            "AWS::Events::Rule"} <= kinds
    pack = json.loads(kms_rotation.baseline(format="conformance-pack"))
    assert pack["Resources"]["KeyRotationRemediation"]["Properties"]["TargetId"] == (
        "AWSConfigRemediation-EnableKeyRotation"
    )
    assert "rotation_period_in_days  = 365" in kms_rotation.baseline(format="terraform")
    assert asyncio.run(kms_rotation.aio.baseline(format="terraform")) == kms_rotation.baseline(
        format="terraform"
    )
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        kms_rotation.baseline(format="yaml")  # type: ignore[arg-type]
    assert caught.value.field == "format"
