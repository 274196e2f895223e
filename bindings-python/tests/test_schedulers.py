"""The scheduler example's Lambda handlers (examples/schedulers/lambda_parts.py): parts scanned
as one Step Functions Map would, then merged, give the report of one scan."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import kms_rotation
from support import FLEET

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "schedulers"
NOW = "2026-11-22T12:00:00Z"


def handlers() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lambda_parts", EXAMPLE / "lambda_parts.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["lambda_parts"] = module
    spec.loader.exec_module(module)
    return module


def test_the_map_states_parts_merge_into_one_scans_report(tmp_path: Path) -> None:
    lambda_parts = handlers()
    machine = json.loads((EXAMPLE / "step-functions.asl.json").read_text())
    parts = machine["States"]["Parts"]["Parameters"]["parts"]
    reports = tmp_path.as_uri()
    assert [p["scan"]["shard"] for p in parts] == ["0/3", "1/3", "2/3"]
    for part in parts:
        # The example scans AWS (all_regions); here the same shards of the sample fleet.
        event = {"part": part["part"], "now": NOW, "reports": reports,
                 "scan": {"inventory": str(FLEET), "shard": part["scan"]["shard"]}}
        assert lambda_parts.scan_part(event)["part"] == part["part"]
    summary = lambda_parts.merge_parts({"reports": reports})
    whole = kms_rotation.scan(inventory=FLEET, now=NOW)
    assert summary == {"compliant": False, "complete": True, "findings": whole.summary.total}
    merged = kms_rotation.Report.from_json((tmp_path / "report.json").read_text())
    assert merged.findings == whole.findings
    assert merged.summary == whole.summary
    assert set(whole.scope["regions"]) <= set(merged.scope["regions"])

    # A shard that did not run: the merged report is incomplete, never the whole scan.
    (tmp_path / "part-1.json").unlink()
    assert lambda_parts.merge_parts({"reports": reports})["complete"] is False
    merged = kms_rotation.Report.from_json((tmp_path / "report.json").read_text())
    assert [e["code"] for e in merged.scope_errors] == ["ShardMissing"]
