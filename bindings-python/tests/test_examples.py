"""The Python examples in examples/python run and print what they say."""

from __future__ import annotations

import subprocess
import sys

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
