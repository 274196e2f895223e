"""Policies and exceptions: files, dicts, keyword arguments, and their validation."""

from __future__ import annotations

from pathlib import Path

import pytest

import kms_rotation
from support import EXCEPTIONS, POLICY


def test_defaults_are_those_of_the_rule() -> None:
    policy = kms_rotation.Policy()
    assert policy.max_rotation_period_days == 365
    assert policy.target_rotation_period_days == 365
    assert policy.disabled_keys == "evaluate"
    assert policy.imported_key_max_age_days is None
    assert policy.exceptions == []


def test_load_policy_and_add_exceptions() -> None:
    policy = kms_rotation.load_policy(POLICY)
    assert len(policy.exceptions) == 0
    with_exceptions = policy.with_exceptions_file(EXCEPTIONS)
    assert len(with_exceptions.exceptions) == 2
    assert with_exceptions.exceptions[0]["match"] == {"alias": "alias/legacy-batch"}
    assert kms_rotation.Policy.from_file(POLICY) == policy
    assert len(policy.exceptions) == 0, "the original is left as it was"


def test_from_dict_and_keywords_agree() -> None:
    exception = {"match": {"key_id": "k"}, "owner": "o", "reason": "r", "expires": "2030-01-01"}
    a = kms_rotation.Policy.from_dict(
        {"max_rotation_period_days": 730, "disabled_keys": "skip", "exceptions": [exception]}
    )
    b = kms_rotation.Policy(max_rotation_period_days=730, disabled_keys="skip",
                            exceptions=[exception])
    c = kms_rotation.Policy(max_rotation_period_days=730, disabled_keys="skip").with_exceptions(
        [exception]
    )
    assert a == b == c
    assert kms_rotation.Policy.from_dict(a.to_dict()) == a


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"max_rotation_period_days": 30}, "policy.max_rotation_period_days"),
        ({"max_rotation_period_days": 180, "target_rotation_period_days": 365},
         "policy.target_rotation_period_days"),
        ({"max_rotation_perod_days": 365}, "policy.max_rotation_perod_days"),
        ({"disabled_keys": "hide"}, "policy.disabled_keys"),
        ({"exceptions": [{"match": {"alias": "a"}, "reason": "r", "expires": "2030-01-01"}]},
         "policy.exceptions[0]"),
    ],
)
def test_invalid_policies_name_the_field(fields: dict[str, object], field: str) -> None:
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        kms_rotation.Policy.from_dict(fields)
    assert caught.value.field == field, caught.value


def test_a_bad_policy_file_names_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("max_rotation_period_days: 365\ndisabled_keys: hide\n")
    with pytest.raises(kms_rotation.InvalidInputError) as caught:
        kms_rotation.load_policy(path)
    err = caught.value
    assert (err.file, err.line, err.field) == (str(path), 2, "disabled_keys")
    assert str(err).startswith(f"{path}:2:")


def test_an_exception_without_expiry_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "exceptions.json"
    path.write_text('{"exceptions": [{"match": {"alias": "a"}, "owner": "o", "reason": "r"}]}')
    with pytest.raises(kms_rotation.InvalidInputError, match="expires"):
        kms_rotation.Policy().with_exceptions_file(path)
