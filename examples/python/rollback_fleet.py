"""Rolls back, as a dry run, what a journal says an apply run changed in the sample fleet: reads
the journal, calls nothing, writes nothing, and prints what would be undone.

    python examples/python/rollback_fleet.py [JOURNAL.ndjson]

Without a journal, it writes a small one in a temporary directory: the lines a real
`apply(..., dry_run=False, journal=...)` would have written after enabling rotation on the plan's
first two keys (`formats.md`, Journal). `rollback` is a dry run unless `dry_run=False`. Offline.
Exits 2 on bad input.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import kms_rotation

EXAMPLES = Path(__file__).resolve().parent.parent


def sample_journal(path: Path) -> None:
    plan = kms_rotation.plan(
        scan={
            "inventory": EXAMPLES / "fleet.json",
            "policy_file": EXAMPLES / "policy.yaml",
            "exceptions": [EXAMPLES / "exceptions.yaml"],
        }
    )
    off = {"enabled": False, "period_days": None}
    on = {"enabled": True, "period_days": 365}
    lines = []
    for action in plan.actions[:2]:
        common = {"at": "2026-06-01T12:00:00Z", "run_id": "example-run",
                  "target_arn": action["target_arn"], "error": None}
        lines += [
            {**common, "event": "before", "state": off, "target": on},
            {**common, "event": "after", "state": on},
            {**common, "event": "verified", "state": on},
        ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        journal = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(scratch) / "journal.ndjson"
        try:
            if len(sys.argv) == 1:
                sample_journal(journal)
            before = journal.read_text()
            # No `dry_run=False`: the journal is only read, and nothing is called.
            result = kms_rotation.rollback(journal=journal)
        except (kms_rotation.KmsRotationError, OSError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        assert journal.read_text() == before

    print(f"dry run: {str(result.dry_run).lower()}")
    for key in result.results:
        print(f"{key['status']} {key['target_arn']} -> {json.dumps(key['restore'])}")
    print(f"would roll back: {sum(r['status'] == 'would_roll_back' for r in result.results)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
