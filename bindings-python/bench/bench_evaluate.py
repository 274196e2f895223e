"""Benchmark (not a test): `kms_rotation.evaluate` on 100,000 dict records against the same rule
written in plain Python.

    python bench/bench_evaluate.py [--keys N] [--runs R]

Both sides take the same list of dicts (the sample fleet's 22 kinds of key, each with a distinct
ARN) and the sample policy with its exceptions, and produce the same thing: one finding per key
(status, reason, remediable, remediation target and the record's evidence), in report order
(account, region, ARN), with the summary counts. The plain-Python rule below follows rule.md row
by row; a check at the end asserts that both sides agree on every key's status and reason.
Reported: best and median of R runs, in seconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import kms_rotation

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def fleet(keys: int) -> list[dict[str, Any]]:
    kinds: list[dict[str, Any]] = json.loads((EXAMPLES / "fleet.json").read_text())["keys"]
    records = []
    for i in range(keys):
        record = dict(kinds[i % len(kinds)])
        key_id = f"{i:08x}-0000-4000-8000-000000000000"
        prefix = record["arn"].rsplit("/", 1)[0]
        record["key_id"] = key_id
        record["arn"] = f"{prefix}/{key_id}"
        records.append(record)
    return records


# -- the rule, in plain Python (rule.md) --------------------------------------------------------

NOT_READ = {"operation": "GetKeyRotationStatus", "code": "NotCollected", "message": ""}
EVIDENCE = ("aliases", "tags", "key_manager", "key_spec", "key_usage", "origin",
            "custom_key_store_id", "key_state", "creation_date", "multi_region", "rotation")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def error_for(record: dict[str, Any], operation: str) -> dict[str, Any] | None:
    for error in record.get("errors") or ():
        if error["operation"] == operation:
            return error
    return None


def matches(matcher: dict[str, Any], record: dict[str, Any]) -> bool:
    if "arn" in matcher:
        return bool(record["arn"] == matcher["arn"])
    if "key_id" in matcher:
        return bool(record.get("key_id") == matcher["key_id"])
    if "alias" in matcher:
        wanted = matcher["alias"].removeprefix("alias/")
        return any(a.removeprefix("alias/") == wanted for a in record.get("aliases") or ())
    tag = matcher["tag"]
    return bool((record.get("tags") or {}).get(tag["key"]) == tag["value"])


def decide(record: dict[str, Any], policy: dict[str, Any], now: datetime) -> tuple[str, str, Any]:
    error = error_for(record, "DescribeKey")
    if error:
        return "error", "describe_failed", error
    if record.get("key_manager") == "AWS":
        return "not_applicable", "aws_managed", None
    if record.get("key_spec") != "SYMMETRIC_DEFAULT":
        return "not_applicable", "unsupported_key_spec", None
    origin = record.get("origin")
    if origin in ("AWS_CLOUDHSM", "EXTERNAL_KEY_STORE") or record.get("custom_key_store_id"):
        return "not_applicable", "custom_key_store", None
    if origin == "EXTERNAL":
        max_age = policy.get("imported_key_max_age_days")
        if max_age is None:
            return "not_applicable", "imported_key_material", None
        last = ((record.get("rotation") or {}).get("last_rotation") or {}).get("date")
        since = last or record.get("creation_date")
        if since is None:
            return "error", "rotation_status_failed", NOT_READ
        if now - parse_time(since) <= timedelta(days=max_age):
            return "pass", "imported_key_rotated_on_demand", None
        return "fail", "imported_key_rotation_overdue", None
    state = record.get("key_state")
    if state in ("PendingDeletion", "PendingReplicaDeletion"):
        return "not_applicable", "pending_deletion", None
    if state == "PendingImport":
        return "not_applicable", "key_state_pending_import", None
    if state == "Unavailable":
        return "not_applicable", "key_state_unavailable", None
    if state == "Creating":
        return "not_applicable", "key_state_creating", None
    if state == "Disabled" and policy.get("disabled_keys") == "skip":
        return "not_applicable", "key_disabled", None
    error = error_for(record, "GetKeyRotationStatus")
    if error:
        return "error", "rotation_status_failed", error
    rotation = record.get("rotation")
    if rotation is None:
        return "error", "rotation_status_failed", NOT_READ
    if not rotation["enabled"]:
        return "fail", "rotation_disabled", None
    period = rotation.get("period_days") or 365
    if period > policy.get("max_rotation_period_days", 365):
        return "fail", "rotation_period_exceeds_policy", None
    return "pass", "rotation_enabled", None


def evaluate_python(records: list[dict[str, Any]], policy: dict[str, Any],
                    now: datetime) -> dict[str, Any]:
    exceptions = policy.get("exceptions") or []
    today = now.date()
    findings = []
    ordered = sorted(records, key=lambda r: (r["arn"].split(":")[4], r["arn"].split(":")[3],
                                             r["arn"]))
    for record in ordered:
        status, reason, error = decide(record, policy, now)
        applied = None
        if status == "fail":
            hits = [e for e in exceptions if matches(e["match"], record)]
            active = [e for e in hits if today <= date.fromisoformat(e["expires"])]
            if active:
                status, applied = "exempt", dict(active[0], expired=False)
            elif hits:
                applied = dict(hits[0], expired=True)
        replica = (record.get("multi_region") or {}).get("role") == "REPLICA"
        target = None
        if status in ("fail", "exempt"):
            target = (record["multi_region"].get("primary_arn") if replica else record["arn"])
        remediable = (status == "fail"
                      and reason in ("rotation_disabled", "rotation_period_exceeds_policy")
                      and record.get("key_state") != "Disabled" and target is not None)
        _, _, _, region, account, _ = record["arn"].split(":", 5)
        finding = {"arn": record["arn"], "account_id": account, "region": region,
                   "key_id": record["arn"].rsplit("/", 1)[1], "status": status, "reason": reason,
                   "remediable": remediable, "remediation_target": target,
                   "exception": applied, "error": error}
        for field in EVIDENCE:
            finding[field] = record.get(field)
        findings.append(finding)
    by_status = Counter(f["status"] for f in findings)
    summary = {"compliant": by_status["fail"] == 0, "total": len(findings),
               "by_status": dict(by_status), "by_reason": dict(Counter(f["reason"] for f in findings)),
               "by_region": dict(Counter(f["region"] for f in findings)),
               "by_account": dict(Counter(f["account_id"] for f in findings))}
    return {"findings": findings, "summary": summary}


# -- the benchmark ------------------------------------------------------------------------------

def timed(runs: int, fn: Any) -> tuple[list[float], Any]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return times, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    records = fleet(args.keys)
    policy = kms_rotation.load_policy(EXAMPLES / "policy.yaml").with_exceptions_file(
        EXAMPLES / "exceptions.yaml")
    policy_dict = policy.to_dict()
    now = datetime(2026, 6, 1, tzinfo=timezone.utc)

    rows = [
        ("plain Python rule (findings + summary)",
         lambda: evaluate_python(records, policy_dict, now)),
        ("kms_rotation.evaluate (Report)",
         lambda: kms_rotation.evaluate(records, policy, now)),
        ("kms_rotation.evaluate + report.findings (Finding objects)",
         lambda: kms_rotation.evaluate(records, policy, now).findings),
        ("kms_rotation.evaluate + report.to_dict() (plain dicts)",
         lambda: kms_rotation.evaluate(records, policy, now).to_dict()),
    ]
    results = {}
    print(f"{args.keys:,} dict records, {args.runs} runs, kms_rotation {kms_rotation.__version__}")
    print(f"{'what':<62} {'best':>8} {'median':>8}")
    for name, fn in rows:
        times, results[name] = timed(args.runs, fn)
        print(f"{name:<62} {min(times):>7.3f}s {statistics.median(times):>7.3f}s")

    python = results[rows[0][0]]["findings"]
    native = results[rows[1][0]].findings
    assert [(f["arn"], f["status"], f["reason"]) for f in python] == [
        (f.arn, f.status, f.reason) for f in native
    ], "the plain-Python rule and the binding disagree"
    print("both agree on every key's status and reason")


if __name__ == "__main__":
    main()
