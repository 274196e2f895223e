"""Options are the core's: its snake_case names, its defaults and checks, and nothing else.
The binding only converts keyword arguments; their types are the TypedDicts generated from the
core's schemas (kms_rotation.types), which type checkers hold calls to."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

import pytest

import kms_rotation
from kms_rotation.types import KeyRecord
from support import FLEET, KEY_ARN

OPERATIONS: list[tuple[Callable[..., Any], type]] = [
    (kms_rotation.scan, kms_rotation.ScanOptions),
    (kms_rotation.plan, kms_rotation.PlanOptions),
    (kms_rotation.apply, kms_rotation.ApplyOptions),
    (kms_rotation.rollback, kms_rotation.RollbackOptions),
    (kms_rotation.render, kms_rotation.RenderOptions),
    (kms_rotation.explain, kms_rotation.ExplainOptions),
    (kms_rotation.review_exceptions, kms_rotation.ExceptionsOptions),
    (kms_rotation.diff, kms_rotation.DiffOptions),
    (kms_rotation.merge, kms_rotation.MergeOptions),
    (kms_rotation.baseline, kms_rotation.BaselineOptions),
    (kms_rotation.event, kms_rotation.EventOptions),
    *([(kms_rotation.iam_policy, kms_rotation.IamPolicyOptions)] if kms_rotation.HAS_AWS else []),
]
NAMES = [f"{op.__name__}" for op, _ in OPERATIONS]
# Those whose options have no flattened AWS options, whose own names the core's errors list.
UNFLATTENED = [op for op in OPERATIONS if op[0].__name__ not in ("scan", "apply", "rollback")]


@pytest.mark.parametrize(("operation", "options"), OPERATIONS, ids=NAMES)
def test_an_unknown_keyword_is_invalid_input_naming_it(
    operation: Callable[..., Any], options: type
) -> None:
    unknown = "unknown field `no_such_option`"
    with pytest.raises(kms_rotation.InvalidInputError, match=unknown) as caught:
        operation(no_such_option=1)
    assert caught.value.field == "no_such_option"
    # Misspellings are not guessed at.
    with pytest.raises(kms_rotation.InvalidInputError, match="unknown field `dry-run`"):
        operation(**{"dry-run": False})


@pytest.mark.parametrize(("operation", "options"), OPERATIONS, ids=NAMES)
def test_every_documented_option_is_one_the_core_knows(
    operation: Callable[..., Any], options: type
) -> None:
    # A value that cannot be converted fails on the option's own name, never as unknown.
    for name in options.__annotations__:
        with pytest.raises(kms_rotation.InvalidInputError) as caught:
            operation(**{name: object()})
        assert "unknown field" not in str(caught.value), name
        # "cannot be converted", or "expected a string" for a choice (`mode`).
        assert "of type `object`" in str(caught.value), name
        assert caught.value.field == name


@pytest.mark.parametrize(
    ("operation", "options"),
    UNFLATTENED, ids=[op.__name__ for op, _ in UNFLATTENED],
)
def test_the_documented_options_are_all_the_core_has(
    operation: Callable[..., Any], options: type
) -> None:
    # The core's error lists its fields (for options types without flattened AWS options),
    # with JavaScript's camelCase aliases, which Python does not document.
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        operation(no_such_option=1)
    known = set(re.findall(r"`(\w+)`", str(caught.value).split(", expected", 1)[1]))
    snake = {name for name in known if name == name.lower()}
    assert snake == set(options.__annotations__)
    for alias in known - snake:
        assert re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), alias) in snake, alias


def test_options_are_documented_in_snake_case_only() -> None:
    typed = [kms_rotation.types.EvaluateOptions, kms_rotation.KeyFilter, kms_rotation.Selection]
    for options in [o for _, o in OPERATIONS] + typed:
        for name in options.__annotations__:
            assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", name), (options, name)
    # JavaScript's camelCase spelling is the core's alias of the same option (for Node), not a
    # second option: giving both is an error, never one silently winning.
    with pytest.raises(kms_rotation.InvalidInputError, match="duplicate field"):
        kms_rotation.scan(inventory=FLEET, allow_unknown_region=False,
                          allowUnknownRegion=True)  # type: ignore[call-arg]


def test_type_checkers_refuse_what_the_core_refuses(record: Callable[..., KeyRecord]) -> None:
    # Each `type: ignore[code]` is an expected type error: test_stubs.py runs mypy --strict over
    # this file, which fails on an ignore that is no longer needed (as tsc on @ts-expect-error).
    # The same calls fail at run time, in the core.
    scan, plan, evaluate = kms_rotation.scan, kms_rotation.plan, kms_rotation.evaluate
    with pytest.raises(kms_rotation.InvalidInputError, match="unknown field `inventroy`"):
        scan(inventroy=FLEET)  # type: ignore[call-arg]
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        scan(inventory=FLEET, max_attempts="3")  # type: ignore[arg-type]
    assert caught.value.field == "max_attempts"
    with pytest.raises(kms_rotation.InvalidInputError, match="unknown field `inventroy`"):
        plan(scan={"inventroy": FLEET})  # type: ignore[arg-type]
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        plan(scan={"inventory": FLEET}, selection={"include": {"region": []}})  # type: ignore[arg-type]
    assert caught.value.field == "selection.include.region"
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        evaluate([record()], policy={"disabled_keys": "ignore"})  # type: ignore[arg-type]
    assert caught.value.field == "policy.disabled_keys"
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        evaluate([{"arn": KEY_ARN, "key_spec": "symmetric_default"}])  # type: ignore[list-item]
    assert caught.value.field == "records[0].key_spec"
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        kms_rotation.render(report=evaluate([]), format=1)  # type: ignore[arg-type]
    assert caught.value.field == "format"
    # A bad reason code or mode: in test_explain.py and test_iam_policy.py.
    with pytest.raises(kms_rotation.InvalidInputError, match="unknown field `reasons`"):
        kms_rotation.explain(reasons=["rotation_disabled"])  # type: ignore[call-arg]
    if kms_rotation.HAS_AWS:
        with pytest.raises(kms_rotation.InvalidInputError, match="unknown field `role_arn`"):
            kms_rotation.iam_policy(role_arn="arn:aws:iam::1:role/x")  # type: ignore[call-arg]


def test_defaults_and_checks_are_the_cores(tmp_path: Path) -> None:
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        kms_rotation.apply()
    assert caught.value.field == "plan"
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        kms_rotation.rollback()
    assert caught.value.field == "journal"
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        kms_rotation.plan()
    assert caught.value.field == "report"
    plan = kms_rotation.plan(scan={"inventory": FLEET})
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        kms_rotation.apply(plan=plan, concurrency=0)
    assert caught.value.field == "concurrency"
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        kms_rotation.plan(scan={"inventory": FLEET, "regions": ["xx-nowhere-1"]})
    assert caught.value.field == "regions[0]"
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        kms_rotation.plan(scan={"inventory": FLEET}, batch_size=0)
    assert caught.value.field == "batch_size"
    # The default is a dry run, decided by the core: the result says so.
    assert kms_rotation.apply(plan=plan).dry_run is True


def test_the_plan_order_is_the_cores_default_and_says_why() -> None:
    plan = kms_rotation.plan(scan={"inventory": FLEET})
    first = plan.actions[0]
    assert (first["priority"], first["priority_reason"].split(":")[0]) == (1, "public")
    ranks = [action["priority"] for action in plan.actions]
    assert ranks == sorted(ranks)
    by_tag = kms_rotation.plan(scan={"inventory": FLEET}, priorities=["tag:environment=prod"])
    assert by_tag.actions[0]["priority_reason"] == "tag environment=prod"
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        kms_rotation.plan(scan={"inventory": FLEET}, priorities=["environment=prod"])
    assert caught.value.field == "priorities[0]"
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        kms_rotation.scan(inventory=FLEET, exposure="sometimes")  # type: ignore[arg-type]
    assert caught.value.field == "exposure"
