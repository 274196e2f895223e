"""explain: what each reason code of a finding means, why it matters and how to fix the key,
as the core (and the CLI's `kms-rotation explain`) gives it, as plain dicts."""

from __future__ import annotations

import asyncio
import json
import subprocess
import typing

import pytest

import kms_rotation
from kms_rotation.types import Explanation, Reason, Status
from support import needed


def literals(alias: object) -> set[str]:
    """The strings of a generated `Literal["a"] | Literal["b"]` alias."""
    return {value for member in typing.get_args(alias) for value in typing.get_args(member)}


def test_without_a_reason_every_reason_code_is_explained_once() -> None:
    explanations: list[Explanation] = kms_rotation.explain()
    codes = [e["reason"] for e in explanations]
    assert len(codes) == len(set(codes))
    # Every code a finding can carry (the generated type of `Finding.reason`), and no other.
    assert set(codes) == literals(Reason)
    for e in explanations:
        assert e["statuses"] and set(e["statuses"]) <= literals(Status), e["reason"]
        assert e["meaning"] and e["why"] and e["fix_console"], e["reason"]
        assert all(command.startswith("aws kms ") for command in e["fix_cli"]), e["reason"]


def test_one_reason_is_its_explanation_from_the_list() -> None:
    every = {e["reason"]: e for e in kms_rotation.explain()}
    one = kms_rotation.explain(reason="rotation_disabled")
    assert one == [every["rotation_disabled"]]
    assert one[0]["statuses"] == ["fail", "exempt"]
    assert any("enable-key-rotation" in command for command in one[0]["fix_cli"])
    # None is "not given", as for every option.
    assert kms_rotation.explain(reason=None) == list(every.values())


def test_an_unknown_reason_is_invalid_input_on_the_field_listing_the_codes() -> None:
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        kms_rotation.explain(reason="rotation_off")  # type: ignore[arg-type]
    assert caught.value.field == "reason"
    assert "`rotation_off` is not a reason code" in str(caught.value)
    assert "rotation_disabled" in str(caught.value)


def test_aio_explain_is_the_same() -> None:
    assert asyncio.run(kms_rotation.aio.explain()) == kms_rotation.explain()
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        asyncio.run(kms_rotation.aio.explain(reason="nope"))  # type: ignore[arg-type]
    assert caught.value.field == "reason"


def test_the_same_explanations_as_the_cli() -> None:
    cli = needed("KMS_ROTATION_CLI")
    done = subprocess.run(
        [cli, "explain", "--format", "json"], capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout) == kms_rotation.explain()
