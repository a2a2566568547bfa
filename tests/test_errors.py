"""errors.py's type check on plain values: what ``check_prop_types`` decides is certain."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import aws_cdk as cdk
import pytest
from aws_cdk import aws_fsx as fsx
from aws_cdk import aws_kms as kms

from hpc_constructs.errors import (
    HpcValidationError,
    Validator,
    _matches,
    is_token,
    nag_text,
    type_problems,
)


@dataclass(frozen=True)
class _Option:
    size_gib: int


def test_an_option_dataclass_miss_is_certain_even_for_a_jsii_object() -> None:
    stack = cdk.Stack(cdk.App(), "Stack")
    assert _matches(_Option(1), _Option) is True
    assert _matches(stack, _Option) is False  # a jsii object never stands in for a dataclass
    assert _matches("x", _Option) is False
    (problem,) = type_problems("Stack/Thing", "options", [stack], Sequence[_Option])
    assert (problem.prop, problem.allowed) == ("options", "a list of _Option")


def test_jsii_interfaces_stay_unsure() -> None:
    stack = cdk.Stack(cdk.App(), "Stack")
    assert _matches(stack, cdk.aws_ec2.IVpc) is None


def test_a_jsii_enum_given_as_a_wrong_string_or_a_float_for_an_int_is_a_problem() -> None:
    hint = fsx.LustreDeploymentType | Literal["SCRATCH_2", "PERSISTENT_2"]
    assert _matches(fsx.LustreDeploymentType.SCRATCH_2, hint) is True
    assert _matches("PERSISTENT_2", hint) is True
    assert _matches("SCRATCH_3", hint) is False
    assert _matches(1200.0, int | None) is False
    (problem,) = type_problems("Stack/Fs", "deployment_type", "SCRATCH_3", hint)
    assert problem.allowed == ("fsx.LustreDeploymentType or one of 'SCRATCH_2', 'PERSISTENT_2'")


def test_a_list_of_option_dataclasses_is_not_sent_to_jsii_as_a_token_candidate() -> None:
    stack = cdk.Stack(cdk.App(), "Stack")
    whole = cdk.Token.as_list(cdk.CfnParameter(stack, "Azs", type="CommaDelimitedList").value)
    assert is_token(whole)
    assert not is_token([_Option(1), _Option(2)])
    assert not type_problems("Stack/Thing", "options", [_Option(1)], Sequence[_Option])


def test_checked_raises_the_recorded_problems_or_returns_the_value() -> None:
    v = Validator("Stack/Thing")
    assert v.checked(3) == 3
    v.add("size", 0, "1 or more")
    with pytest.raises(HpcValidationError, match=r"Stack/Thing: size=0 is not valid"):
        v.checked(None)
    with pytest.raises(AssertionError, match="no value although no problem"):
        Validator("Stack/Other").checked(None)


def kms_key(stack: cdk.Stack) -> kms.Key:
    return kms.Key(stack, "Key", enable_key_rotation=True)


def test_nag_text_renders_tokens_as_cdk_nag_prints_them() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    key = kms_key(stack)
    arn = cdk.Fn.join("", [key.key_arn, "/logs/*"])
    logical_id = stack.get_logical_id(key.node.default_child)  # type: ignore[arg-type]
    assert nag_text(stack, arn) == f"<{logical_id}.Arn>/logs/*"
    assert nag_text(stack, stack.account) == "<AWS::AccountId>"
    with pytest.raises(ValueError, match="cannot render"):
        nag_text(stack, cdk.Fn.select(0, cdk.Fn.get_azs()))
