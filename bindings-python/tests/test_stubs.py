"""The type stubs describe the built module, and typed code using the package checks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from support import EXAMPLES

pytest.importorskip("mypy")

HERE = Path(__file__).resolve().parent


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # Outside the source tree (the installed package is checked) and with the cache in tmp.
    return subprocess.run(
        [sys.executable, "-m", *args],
        capture_output=True, text=True, timeout=300, cwd=cwd,
        env={**os.environ, "MYPY_CACHE_DIR": str(cwd / ".mypy_cache")},
    )


def test_stubtest_finds_no_drift(tmp_path: Path) -> None:
    out = run(tmp_path, "mypy.stubtest", "kms_rotation",
              "--allowlist", str(HERE.parent / "stubtest-allowlist.txt"))
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_example_and_the_tests_type_check(tmp_path: Path) -> None:
    examples = sorted(str(p) for p in (EXAMPLES / "python").glob("*.py"))
    tests = [str(HERE / name) for name in
             ("test_evaluate.py", "test_scan.py", "test_options.py", "test_aws.py",
              "test_explain.py", "test_iam_policy.py", "test_diff.py", "test_merge.py", "test_event.py", "support.py")]
    out = run(tmp_path, "mypy", "--strict", *examples, *tests)
    assert out.returncode == 0, out.stdout + out.stderr
