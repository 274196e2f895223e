"""scan() of a Terraform plan and CloudFormation templates: the core's sources, as options."""

from __future__ import annotations

import json

import pytest

import kms_rotation
from support import EXAMPLES, FLEET

IAC = EXAMPLES / "iac"
NOW = "2026-12-01T00:00:00Z"


def by_address(report: kms_rotation.Report) -> dict[str, tuple[str, str]]:
    out = {}
    for finding in report.findings:
        location = finding.location
        assert location is not None
        out[location["address"]] = (finding.status, finding.reason)
    return out


def test_scan_a_terraform_plan() -> None:
    report = kms_rotation.scan(terraform_plan=IAC / "plan.json", now=NOW)
    assert report.scope["source"] == "terraform"
    verdicts = by_address(report)
    assert verdicts["aws_kms_key.logs"] == ("fail", "rotation_disabled")
    assert verdicts["aws_kms_key.tenant"] == ("error", "unknown_until_apply")
    assert verdicts["aws_kms_key.webhooks"] == ("fail", "rotation_not_supported")
    assert verdicts["module.storage.aws_kms_key.data"] == ("fail", "rotation_period_exceeds_policy")
    assert "aws_s3_bucket.logs" not in verdicts
    logs = next(f for f in report.findings if f.key_id == "aws_kms_key.logs")
    assert logs.location is not None and logs.location["file"] == str(IAC / "plan.json")
    assert logs.location.get("line", 0) > 1
    assert logs.remediation_target is None and logs.to_dict()["location"] == logs.location


def test_scan_cloudformation_templates_and_render_sarif() -> None:
    report = kms_rotation.scan(
        cloudformation=[IAC / "template.yaml", str(IAC / "template.json")], now=NOW
    )
    verdicts = by_address(report)
    assert verdicts["LogsKey"] == ("fail", "rotation_disabled")
    assert verdicts["TenantKey"] == ("error", "unknown_until_apply")
    assert verdicts["ReportsKey"] == ("fail", "rotation_disabled")
    sarif = json.loads(report.render("sarif"))
    lines = {
        r["locations"][0]["physicalLocation"]["region"]["startLine"]
        for r in sarif["runs"][0]["results"]
    }
    assert min(lines) > 1


def test_one_source_at_a_time_and_bad_input_names_the_file() -> None:
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        kms_rotation.scan(inventory=FLEET, terraform_plan=IAC / "plan.json")
    assert caught.value.field == "terraform_plan"
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        kms_rotation.scan(terraform_plan=IAC / "template.json")
    assert caught.value.field == "format_version"
    assert str(caught.value.file).endswith("template.json")
