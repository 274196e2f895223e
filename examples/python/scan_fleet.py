"""Scans the sample fleet (an inventory file) with the sample policy and exceptions, sync and
with asyncio, and prints the summary and the failing keys.

    python examples/python/scan_fleet.py [FLEET.json]

Exits 0 when the fleet is compliant, 1 when a key fails, 2 on bad input (like the CLI).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import kms_rotation

EXAMPLES = Path(__file__).resolve().parent.parent


def main() -> int:
    fleet = Path(sys.argv[1]) if len(sys.argv) > 1 else EXAMPLES / "fleet.json"
    try:
        # Options are the core's (`kms_rotation.ScanOptions`): the same names as the CLI's flags.
        report = kms_rotation.scan(
            inventory=fleet,
            policy_file=EXAMPLES / "policy.yaml",
            exceptions=[EXAMPLES / "exceptions.yaml"],
        )
        # The same scan with asyncio, and a policy object: the event loop stays free meanwhile.
        policy = kms_rotation.load_policy(EXAMPLES / "policy.yaml").with_exceptions_file(
            EXAMPLES / "exceptions.yaml"
        )
        again = asyncio.run(kms_rotation.aio.scan(inventory=fleet, policy=policy))
    except kms_rotation.KmsRotationError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    assert again.findings == report.findings

    summary = report.summary
    print(f"keys: {summary.total}")
    for status, count in summary.by_status.items():
        if status != "total":
            print(f"{status}: {count}")
    for finding in report.findings:
        if finding.status == "fail":
            aliases = ", ".join(finding.aliases or [])
            print(f"fail {finding.arn} {finding.reason} ({aliases})")
    print(f"compliant: {str(report.compliant).lower()}")
    return 0 if report.compliant else 1


if __name__ == "__main__":
    sys.exit(main())
