"""The Python examples in examples/python run and print what they say."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import kms_rotation
from support import EXAMPLES


def test_scan_fleet_prints_the_summary_and_exits_1_on_failures() -> None:
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / "python" / "scan_fleet.py")],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 1, out.stderr
    lines = out.stdout.splitlines()
    for line in ["keys: 22", "fail: 7", "exempt: 1", "error: 2", "compliant: false"]:
        assert line in lines, out.stdout
    assert any("rotation_period_exceeds_policy (alias/reports)" in line for line in lines)


def test_scan_fleet_reports_bad_input_and_exits_2() -> None:
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / "python" / "scan_fleet.py"), "/nonexistent/fleet.json"],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 2
    assert "/nonexistent/fleet.json" in out.stderr


def run(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / "python" / name), *args],
        capture_output=True, text=True, timeout=60,
    )


def test_plan_fleet_prints_the_plan_and_saves_it(tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    out = run("plan_fleet.py", str(saved))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    actions = int(next(line for line in lines if line.startswith("actions: ")).split()[1])
    assert actions > 0 and "batches: " + str(-(-actions // 3)) in lines, out.stdout
    plan = kms_rotation.Plan.from_file(saved)
    assert len(plan) == actions
    assert all(a["account_id"] != "444455556666" for a in plan.actions)


def test_apply_fleet_is_a_dry_run_of_every_action() -> None:
    out = run("apply_fleet.py")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "dry run: true" in lines and "success: true" in lines, out.stdout
    statuses = {line.split()[0] for line in lines if line.startswith(("would_", "remediated"))}
    assert statuses == {"would_remediate"}, out.stdout
    assert any(line.startswith("would remediate: ") and not line.endswith(" 0") for line in lines)


def test_rollback_fleet_is_a_dry_run_of_its_journal() -> None:
    out = run("rollback_fleet.py")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "dry run: true" in lines and "would roll back: 2" in lines, out.stdout
    assert sum(line.startswith("would_roll_back arn:aws:kms:") for line in lines) == 2
    assert '"enabled": false' in out.stdout


def test_rollback_fleet_reports_a_missing_journal_and_exits_2() -> None:
    out = run("rollback_fleet.py", "/nonexistent/journal.ndjson")
    assert out.returncode == 2
    assert "/nonexistent/journal.ndjson" in out.stderr
