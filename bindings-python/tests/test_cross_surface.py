"""One scenario through the three surfaces: the CLI, Python and Node scan a seeded fleet on the
KMS test server, plan, apply and roll back, and must give byte-identical findings, plans,
outcomes and journals once timestamps and run ids are normalised.

Needs the CLI binary (KMS_ROTATION_CLI) and the built Node binding (KMS_ROTATION_NODE), which
scripts/test provides; skipped when either is missing outside CI."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import kms_rotation
from support import needed

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SCENARIO = Path(__file__).resolve().parents[2] / "tests" / "cross-surface"
NOW = "2026-12-01T00:00:00Z"
STEPS = ("report", "plan", "apply", "rollback", "journal")


@pytest.fixture
def fresh_server(aws_credentials: None) -> Iterator[Any]:
    """Starts a new test server per surface, so each sees the same seeded fleet."""
    binary = needed("KMS_TEST_SERVER_BIN")
    servers: list[subprocess.Popen[str]] = []

    def start() -> str:
        server = subprocess.Popen(
            [binary, "--inventory", str(EXAMPLES / "fleet.json")],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        servers.append(server)
        assert server.stdout is not None
        return server.stdout.readline().strip()

    yield start
    for server in servers:
        server.kill()
        server.wait()
        if server.stdout is not None:
            server.stdout.close()


def via_cli(url: str, out: Path) -> None:
    cli = needed("KMS_ROTATION_CLI")
    connect = ["--endpoint-url", url, "-q"]
    scan = ["--region", "us-east-1", "--region", "eu-west-1",
            "--policy", str(EXAMPLES / "policy.yaml"),
            "--exceptions", str(EXAMPLES / "exceptions.yaml"), "--now", NOW]

    def run(*args: str) -> str:
        done = subprocess.run([cli, *args], capture_output=True, text=True)
        assert done.returncode in (0, 1), done.stderr
        return done.stdout

    (out / "report.json").write_text(run("scan", *scan, *connect, "--fail-on", "none"))
    (out / "plan.json").write_text(run("plan", *scan, *connect))
    journal = str(out / "journal.ndjson")
    fast = [*connect, "--verify-delay-ms", "1", "--yes"]
    (out / "apply.json").write_text(run("apply", "--plan", str(out / "plan.json"), "--journal", journal, *fast))
    (out / "rollback.json").write_text(run("rollback", "--journal", journal, *fast))


def via_python(url: str, out: Path) -> None:
    scan: dict[str, Any] = {
        "endpoint_url": url, "regions": ["us-east-1", "eu-west-1"],
        "policy_file": EXAMPLES / "policy.yaml", "exceptions": [EXAMPLES / "exceptions.yaml"],
        "now": NOW,
    }
    (out / "report.json").write_text(kms_rotation.scan(**scan).to_json())
    plan = kms_rotation.plan(scan=scan)
    (out / "plan.json").write_text(plan.to_json())
    journal = out / "journal.ndjson"
    fast = {"endpoint_url": url, "verify_delay_ms": 1, "dry_run": False}
    (out / "apply.json").write_text(kms_rotation.apply(plan=plan, journal=journal, **fast).to_json())
    (out / "rollback.json").write_text(kms_rotation.rollback(journal=journal, **fast).to_json())


def via_node(url: str, out: Path) -> None:
    os.environ["KMS_ROTATION_NODE"] = needed("KMS_ROTATION_NODE")
    subprocess.run(["node", str(SCENARIO / "node.mjs"), url, str(out), str(EXAMPLES)], check=True)


TIMES = ("generated_at", "at", "next_rotation_date")
RUN_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$")


def normalised(value: Any) -> Any:
    """Times and run ids differ between runs; everything else must not. (The test server
    dates a key's next rotation from its own clock.)"""
    if isinstance(value, dict):
        return {k: ("<time>" if k in TIMES else
                    "<run>" if k == "run_id" and RUN_ID.match(str(v)) else normalised(v))
                for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [normalised(v) for v in value]
    return value


def results(out: Path) -> dict[str, str]:
    texts = {step: (out / f"{step}.json").read_text() for step in STEPS if step != "journal"}
    parsed = {step: normalised(json.loads(text)) for step, text in texts.items()}
    # Keys are written concurrently: the journal interleaves them in any order, and rollback
    # goes by the journal. Per key, the order is the run's and must match.
    parsed["rollback"]["results"].sort(key=lambda r: r["target_arn"])
    lines = [normalised(json.loads(line))
             for line in (out / "journal.ndjson").read_text().splitlines()]
    parsed["journal"] = [line for _, line in sorted(
        enumerate(lines), key=lambda item: (item[1]["target_arn"], item[0]))]
    return {step: json.dumps(value, sort_keys=True) for step, value in parsed.items()}


def test_the_cli_python_and_node_give_the_same_findings_plans_and_outcomes(
    fresh_server: Any, tmp_path: Path,
) -> None:
    outputs = {}
    for name, surface in (("cli", via_cli), ("python", via_python), ("node", via_node)):
        out = tmp_path / name
        out.mkdir()
        surface(fresh_server(), out)
        outputs[name] = results(out)
    report = json.loads(outputs["cli"]["report"])
    apply = json.loads(outputs["cli"]["apply"])
    # The scenario does something: failing keys, a plan that fixes them, writes rolled back.
    assert report["summary"]["by_status"]["fail"] > 0
    assert any(r["status"] == "remediated" for r in apply["results"]), apply
    for step in STEPS:
        assert outputs["python"][step] == outputs["cli"][step], step
        assert outputs["node"][step] == outputs["cli"][step], step
