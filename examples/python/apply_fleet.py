"""Applies the sample fleet's remediation plan as a dry run: checks the plan, calls nothing,
writes nothing, and prints what would be done.

    python examples/python/apply_fleet.py

`apply` is a dry run unless `dry_run=False` (then `journal=` is required: it is what `rollback`
reads). Offline: a dry run makes no AWS call. Exits 2 on bad input.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import kms_rotation

EXAMPLES = Path(__file__).resolve().parent.parent


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        journal = Path(scratch) / "journal.ndjson"
        try:
            plan = kms_rotation.plan(
                scan={
                    "inventory": EXAMPLES / "fleet.json",
                    "policy_file": EXAMPLES / "policy.yaml",
                    "exceptions": [EXAMPLES / "exceptions.yaml"],
                }
            )
            seen: list[kms_rotation.RemediationProgress] = []
            # No `dry_run=False`: nothing is called and the journal is not even created.
            result = kms_rotation.apply(plan=plan, journal=journal, progress=seen.append)
        except kms_rotation.KmsRotationError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        assert not journal.exists()

    print(f"dry run: {str(result.dry_run).lower()}")
    for action in result.results:
        print(f"{action['status']} {action['target_arn']}")
    print(f"would remediate: {sum(r['status'] == 'would_remediate' for r in result.results)}")
    print(f"success: {str(result.success).lower()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
