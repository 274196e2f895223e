"""Report, Finding and Summary: attributes, to_dict/to_json, and every rendering."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

import kms_rotation
from support import EXCEPTIONS, FLEET, POLICY

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def report() -> kms_rotation.Report:
    return kms_rotation.scan(inventory=FLEET, policy_file=POLICY, exceptions=[EXCEPTIONS], now=NOW)


def test_formats_are_the_cores() -> None:
    assert {"json", "ndjson", "csv", "markdown", "asff", "sarif", "ocsf", "html"} <= set(kms_rotation.FORMATS)


def test_csv_is_a_header_and_a_row_per_finding(report: kms_rotation.Report) -> None:
    rows = list(csv.DictReader(io.StringIO(report.render("csv"), newline="")))
    assert [r["arn"] for r in rows] == [f.arn for f in report.findings]
    assert [r["severity"] for r in rows] == [f.severity for f in report.findings]
    assert all("aws-security-hub/KMS.4" in f.controls and f.message for f in report.findings)


def test_markdown_lists_the_keys_that_need_attention(report: kms_rotation.Report) -> None:
    text = kms_rotation.render(report=report, format="markdown")
    assert text.startswith("# KMS key rotation: ")
    for finding in report.findings:
        if finding.status in ("fail", "error"):
            assert finding.key_id in text


def test_sarif_has_a_result_per_key_that_needs_attention(report: kms_rotation.Report) -> None:
    sarif = json.loads(report.render("sarif"))
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    assert run["tool"]["driver"]["name"] == "kms-rotation"
    attention = [f for f in report.findings if f.status in ("fail", "error", "exempt")]
    results = run["results"]
    assert [r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] for r in results] == [
        f.arn for f in attention
    ]
    assert [r["ruleId"] for r in results] == [f.reason for f in attention]


def test_ocsf_is_a_compliance_finding_per_key(report: kms_rotation.Report) -> None:
    findings = json.loads(kms_rotation.render(report=report, format="ocsf"))
    assert [f["resources"][0]["uid"] for f in findings] == [f.arn for f in report.findings]
    assert {(f["class_uid"], f["metadata"]["version"]) for f in findings} == {(2003, "1.8.0")}


def test_html_is_one_page_with_a_row_per_finding(report: kms_rotation.Report) -> None:
    text = report.render("html")
    assert text.startswith("<!DOCTYPE html>\n")
    assert text.count("<tr data-status=") == len(report.findings)
    for finding in report.findings:
        assert f'<div class="arn">{finding.arn}</div>' in text
        if finding.status == "fail" and finding.reason in ("rotation_disabled",
                                                          "rotation_period_exceeds_policy"):
            assert f"aws kms enable-key-rotation --key-id {finding.remediation_target} " in text


@pytest.mark.parametrize("format", kms_rotation.FORMATS)
def test_every_format_renders(report: kms_rotation.Report, format: str) -> None:
    text = report.render(format)
    assert text.strip()


def test_json_rendering_round_trips(report: kms_rotation.Report) -> None:
    text = report.render("json")
    assert json.loads(text) == report.to_dict()
    assert kms_rotation.Report.from_json(text) == report
    assert kms_rotation.Report.from_dict(report.to_dict()) == report


def test_ndjson_is_one_finding_per_line_in_report_order(report: kms_rotation.Report) -> None:
    lines = report.render("ndjson").splitlines()
    assert [json.loads(line) for line in lines] == [f.to_dict() for f in report.findings]
    order = [(f.account_id, f.region, f.arn) for f in report.findings]
    assert order == sorted(order)


def test_an_unknown_format_is_invalid_input(report: kms_rotation.Report) -> None:
    with pytest.raises(kms_rotation.InvalidInputError, match="xml") as caught:
        report.render("xml")
    assert caught.value.field == "format"


def test_render_takes_a_report_object_or_dict_and_writes_a_file(
    report: kms_rotation.Report, tmp_path: Path
) -> None:
    for format in kms_rotation.FORMATS:
        assert kms_rotation.render(report=report, format=format) == report.render(format)
    assert kms_rotation.render(report=report.to_dict()) == report.render()
    out = tmp_path / "report.ndjson"
    assert kms_rotation.render(report=report, format="ndjson", output=out) == ""
    assert out.read_text() == report.render("ndjson")
    assert asyncio.run(kms_rotation.aio.render(report=report)) == report.render()
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        kms_rotation.render()
    assert caught.value.field == "report"


def test_to_dict_is_the_json_shape(report: kms_rotation.Report) -> None:
    data = report.to_dict()
    assert set(data) >= {"schema_version", "generated_at", "policy", "scope", "summary",
                         "findings", "scope_errors"}
    assert data["generated_at"] == "2026-06-01T00:00:00Z"
    assert json.loads(report.to_json()) == data
    assert json.loads(report.to_json(indent=2)) == data
    assert report.to_json(indent=2).startswith("{\n  ")


def test_report_attributes(report: kms_rotation.Report) -> None:
    assert report.schema_version == 1
    assert report.generated_at == NOW
    assert report.policy == kms_rotation.load_policy(POLICY).with_exceptions_file(EXCEPTIONS)
    assert report.scope_errors == []
    assert report.summary.compliant is False
    # The exempt key keeps its failing reason.
    assert report.summary.by_reason["rotation_disabled"] == 7
    assert report.summary.by_region["us-west-2"]["fail"] == 1
    assert sum(c["total"] for c in report.summary.by_account.values()) == 22
    assert "fail=7" in repr(report)


def test_finding_attributes(report: kms_rotation.Report) -> None:
    by_alias = {f.aliases[0]: f for f in report.findings if f.aliases}
    replica = by_alias["alias/global-orders"]
    assert replica.multi_region is not None
    primary = replica.remediation_target
    assert primary is not None and primary != replica.arn or replica.multi_region["role"] == "PRIMARY"

    exempt = next(f for f in report.findings if f.status == "exempt")
    assert exempt.exception is not None and exempt.exception["owner"] == "batch-team"
    assert exempt.remediable is False

    passing = next(f for f in report.findings if f.status == "pass")
    assert passing.period_source in ("reported", "assumed_default")
    assert isinstance(passing.creation_date, datetime)
    assert passing.to_record().arn == passing.arn
    assert json.loads(passing.to_json()) == passing.to_dict()
    assert passing in report.findings


def test_write_takes_the_format_from_the_file_name(report: kms_rotation.Report,
                                                   tmp_path: Path) -> None:
    for name, format in [("r.json", "json"), ("r.csv", "csv"), ("r.md", "markdown"),
                         ("r.html", "html"), ("r.sarif", "sarif"), ("r.asff.json", "asff")]:
        report.write(tmp_path / name)
        assert (tmp_path / name).read_text() == report.render(format), name
    report.write(str(tmp_path / "named.txt"), "csv")
    assert (tmp_path / "named.txt").read_text() == report.render("csv")
    with pytest.raises(kms_rotation.InvalidInputError) as unknown:
        report.write(tmp_path / "r.txt")
    assert "cannot tell the report format" in str(unknown.value)
    assert not (tmp_path / "r.txt").exists()
