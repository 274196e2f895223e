"""iam_policy: the least-privilege IAM policy to scan (`read_only`) or to change keys
(`remediate`), as the core (and the CLI's `kms-rotation iam-policy`) gives it, as a dict."""

from __future__ import annotations

import asyncio
import json
import subprocess

import pytest

import kms_rotation
from kms_rotation.types import IamPolicy, IamPolicyMode
from support import needed

pytestmark = pytest.mark.skipif(not kms_rotation.HAS_AWS, reason="built without AWS support")

ROLE = "arn:aws:iam::111122223333:role/kms-rotation"
MODES: list[IamPolicyMode] = ["read_only", "remediate"]


def actions(policy: IamPolicy) -> list[str]:
    """Every action the document grants."""
    return [a for statement in policy["document"]["Statement"] for a in statement["Action"]]


def test_read_only_is_the_default_and_never_writes() -> None:
    policy = kms_rotation.iam_policy()
    assert policy == kms_rotation.iam_policy(mode="read_only")
    assert policy["mode"] == "read_only"
    assert policy["document"]["Version"] == "2012-10-17"
    granted = actions(policy)
    assert "kms:ListKeys" in granted and "kms:GetKeyRotationStatus" in granted
    assert "kms:EnableKeyRotation" not in granted
    assert "kms:DisableKeyRotation" not in granted
    # Each action of the document is described, in the document's order.
    assert [p["action"] for p in policy["permissions"]] == granted
    assert all(p["why"] for p in policy["permissions"])


def test_remediate_grants_the_writes() -> None:
    policy = kms_rotation.iam_policy(mode="remediate")
    assert policy["mode"] == "remediate"
    granted = actions(policy)
    assert "kms:EnableKeyRotation" in granted and "kms:DisableKeyRotation" in granted
    assert "kms:ListKeys" not in granted


@pytest.mark.parametrize("mode", MODES)
def test_role_arns_add_assume_role_on_those_roles(mode: IamPolicyMode) -> None:
    assert "sts:AssumeRole" not in actions(kms_rotation.iam_policy(mode=mode))
    policy = kms_rotation.iam_policy(mode=mode, role_arns=(ROLE,))
    assume = [s for s in policy["document"]["Statement"] if "sts:AssumeRole" in s["Action"]]
    assert len(assume) == 1 and assume[0]["Resource"] == [ROLE]


def test_a_bad_role_arn_is_invalid_input_on_its_index() -> None:
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        kms_rotation.iam_policy(role_arns=["kms-rotation"])
    assert caught.value.field == "role_arns[0]"
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        kms_rotation.iam_policy(role_arns=[ROLE, "arn:aws:iam::1:role/x"])
    assert caught.value.field == "role_arns[1]"


def test_an_unknown_mode_is_invalid_input_on_the_field() -> None:
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        kms_rotation.iam_policy(mode="read-write")  # type: ignore[arg-type]
    assert caught.value.field == "mode"


def test_aio_iam_policy_is_the_same() -> None:
    remediate = asyncio.run(kms_rotation.aio.iam_policy(mode="remediate"))
    assert remediate == kms_rotation.iam_policy(mode="remediate")
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        asyncio.run(kms_rotation.aio.iam_policy(role_arns=["nope"]))
    assert caught.value.field == "role_arns[0]"


def test_the_same_document_as_the_cli() -> None:
    cli = needed("KMS_ROTATION_CLI")
    for mode in MODES:
        flag = "--" + mode.replace("_", "-")
        done = subprocess.run(
            [cli, "iam-policy", flag, "--role-arn", ROLE, "--quiet"],
            capture_output=True, text=True, check=True,
        )
        policy = kms_rotation.iam_policy(mode=mode, role_arns=[ROLE])
        assert json.loads(done.stdout) == policy["document"]

