"""Plans the fixes for the sample fleet (an inventory file, with the sample policy and
exceptions), prints the plan as a table and saves it as a plan file for `apply_fleet.py`.

    python examples/python/plan_fleet.py [PLAN.json]

Offline: the scan reads the inventory file. Exits 2 on bad input.
"""

from __future__ import annotations

import sys
from pathlib import Path

import kms_rotation

EXAMPLES = Path(__file__).resolve().parent.parent


def main() -> int:
    try:
        # Scan first (`scan=` takes the scan's options), then plan: batches of 3 actions, keys
        # other principals may use first, then keys tagged `environment=prod`, and nothing in
        # account 444455556666.
        plan = kms_rotation.plan(
            scan={
                "inventory": EXAMPLES / "fleet.json",
                "policy_file": EXAMPLES / "policy.yaml",
                "exceptions": [EXAMPLES / "exceptions.yaml"],
            },
            batch_size=3,
            priorities=["exposure", "tag:environment=prod"],
            selection={"exclude": {"accounts": ["444455556666"]}},
        )
        # The same plan from a report already in hand.
        report = kms_rotation.scan(
            inventory=EXAMPLES / "fleet.json",
            policy_file=EXAMPLES / "policy.yaml",
            exceptions=[EXAMPLES / "exceptions.yaml"],
        )
        again = kms_rotation.plan(
            report=report,
            batch_size=3,
            priorities=["exposure", "tag:environment=prod"],
            selection={"exclude": {"accounts": ["444455556666"]}},
            now=plan.generated_at,
        )
        if len(sys.argv) > 1:
            kms_rotation.render(plan=plan, format="json", output=sys.argv[1])
    except kms_rotation.KmsRotationError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    assert again.actions == plan.actions

    print(plan.render("table"), end="")
    print(f"actions: {len(plan)}")
    print(f"batches: {plan.batches}")
    print(f"skipped: {len(plan.skips)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
