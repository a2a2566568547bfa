"""Python types at the boundary (errors.check_prop_types) and the shared node-launcher rules
(nodes.py), on plain values: no synthesis."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from hpc_constructs.capacity import FleetCapacity
from hpc_constructs.errors import (
    TOKEN_SHOWN,
    HpcValidationError,
    Validator,
    check_prop_types,
    describe_type,
    needs_concrete_value,
)
from hpc_constructs.nodes import (
    as_subnet_selection,
    check_node_counts,
    mount_point_problems,
    plan_placement,
    user_data_commands,
)


@dataclass(frozen=True)
class _Option:
    size_gib: int
    names: Sequence[str] = ()


class _Thing(Construct):
    @check_prop_types
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        count: int,
        names: Sequence[str] = (),
        mode: Literal["fast", "safe"] = "safe",
        ratio: float | None = None,
        tags: Mapping[str, str] | None = None,
        option: _Option | None = None,
        options: Sequence[_Option] = (),
        subnet: ec2.ISubnet | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.count = count

    @check_prop_types
    def add_item(self, id: str, *, weight: int) -> int:
        return weight


@pytest.fixture(scope="module")
def stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Types")


def _problems(err: pytest.ExceptionInfo[HpcValidationError]) -> list[tuple[str, str, str]]:
    return [(p.path, p.prop, p.allowed) for p in err.value.problems]


def test_right_types_and_tokens_pass(stack: cdk.Stack) -> None:
    token = cdk.Token.as_number(cdk.Aws.ACCOUNT_ID)
    thing = _Thing(
        stack, "Ok", count=token, names=["a"], ratio=2, tags={"k": "v"}, option=_Option(token)
    )
    assert cdk.Token.is_unresolved(thing.count)


def test_fails_with_one_problem_per_prop_of_the_wrong_type(stack: cdk.Stack) -> None:
    with pytest.raises(HpcValidationError) as err:
        _Thing(stack, "Bad", count="4", names="abc", mode="quick", ratio="1", tags=["k"])  # type: ignore[arg-type]
    assert _problems(err) == [
        ("Types/Bad", "count", "int"),
        ("Types/Bad", "names", "a list of str"),
        ("Types/Bad", "mode", "one of 'fast', 'safe'"),
        ("Types/Bad", "ratio", "float or None"),
        ("Types/Bad", "tags", "a mapping of str to str or None"),
    ]
    assert "count='4' is not valid (got str); allowed: int" in str(err.value)


def test_fails_on_a_bool_where_an_int_is_expected(stack: cdk.Stack) -> None:
    with pytest.raises(HpcValidationError, match="count=True"):
        _Thing(stack, "Bool", count=True)


def test_fails_naming_the_field_of_an_option_and_of_each_option_in_a_list(
    stack: cdk.Stack,
) -> None:
    with pytest.raises(HpcValidationError) as err:
        _Thing(
            stack,
            "Fields",
            count=1,
            option=_Option(size_gib="10"),  # type: ignore[arg-type]
            options=[_Option(1), _Option(2, names="ab")],
        )
    assert [p for _, p, _ in _problems(err)] == ["option.size_gib", "options[1].names"]


def test_fails_on_a_plain_value_where_a_jsii_interface_is_expected(stack: cdk.Stack) -> None:
    with pytest.raises(HpcValidationError, match=r"subnet=.subnet-0abc.*ec2.ISubnet or None"):
        _Thing(stack, "Subnet", count=1, subnet="subnet-0abc")  # type: ignore[arg-type]


def test_method_problems_name_the_construct_and_the_new_id(stack: cdk.Stack) -> None:
    thing = _Thing(stack, "Owner", count=1)
    with pytest.raises(HpcValidationError) as err:
        thing.add_item("Item", weight="heavy")  # type: ignore[arg-type]
    assert _problems(err) == [("Types/Owner/Item", "weight", "int")]


def test_type_names_read_like_the_docs() -> None:
    assert describe_type(Sequence[str] | None) == "a list of str or None"
    assert describe_type(ec2.SubnetSelection) == "ec2.SubnetSelection"


def test_a_token_that_the_plan_needs_is_one_clear_problem() -> None:
    v = Validator("Stack/Fleet")
    token = cdk.Token.as_string(cdk.Aws.REGION)
    assert needs_concrete_value(v, "instance_types", "c5n.18xlarge")
    assert not needs_concrete_value(v, "instance_types", token, "it selects the EFA layout")
    [problem] = v.problems
    assert problem.value == TOKEN_SHOWN
    assert problem.reason == ("needs a concrete value at synth time: it selects the EFA layout")


# --- the shared node-launcher rules ---------------------------------------------------------


def test_node_counts_blame_max_nodes_for_min_above_max() -> None:
    v = Validator("S/F")
    check_node_counts(v, 4, 2, 3)
    assert [(p.prop, p.value) for p in v.problems] == [("max_nodes", 2), ("desired_nodes", 3)]


def test_fails_when_node_counts_are_not_integers_or_are_tokens() -> None:
    v = Validator("S/F")
    check_node_counts(v, "0", cdk.Token.as_number(cdk.Aws.ACCOUNT_ID), prefix="queues[0].")
    assert [p.prop for p in v.problems] == ["queues[0].min_nodes", "queues[0].max_nodes"]
    assert "needs a concrete value" in v.problems[1].reason


def test_fails_when_max_nodes_exceeds_the_service_limit() -> None:
    v = Validator("S/F")
    check_node_counts(v, 0, 40, most=32)
    assert [p.allowed for p in v.problems] == [
        "at least 1 and at least min_nodes (0) and at most 32"
    ]


def _placement(**kw: object) -> tuple[object, list[str]]:
    v = Validator("S/F")
    args: dict[str, object] = {
        "capacity": FleetCapacity.on_demand(),
        "efa_enabled": True,
        "group_given": False,
        "group_strategy": None,
        "group_label": None,
        "placement": None,
    }
    args.update(kw)
    plan = plan_placement(v, **args)  # type: ignore[arg-type]
    return plan, [p.prop for p in v.problems]


def test_efa_gets_a_new_cluster_group_and_a_passed_group_is_used() -> None:
    plan, problems = _placement()
    assert (plan.create_group, plan.strategy, problems) == (True, "cluster", [])  # type: ignore[attr-defined]
    plan, _ = _placement(group_given=True, group_strategy="cluster", group_label="S/Pg")
    assert (plan.create_group, plan.uses_group) == (False, True)  # type: ignore[attr-defined]


def test_a_reservation_never_gets_a_new_group() -> None:
    plan, problems = _placement(
        capacity=FleetCapacity.capacity_reservation(reservation_id="cr-0123456789abcdef0")
    )
    assert plan.create_group is False  # type: ignore[attr-defined]
    assert plan.reservation_without_group is True  # type: ignore[attr-defined]
    assert problems == []


def test_fails_when_a_capacity_block_is_given_a_group_or_a_group_and_placement_false() -> None:
    block = FleetCapacity.capacity_block("cr-0123456789abcdef0")
    _, problems = _placement(capacity=block, group_given=True, group_label="S/Pg")
    assert problems == ["placement_group"]
    _, problems = _placement(group_given=True, group_label="S/Pg", placement=False)
    assert problems == ["placement/placement_group"]


def test_fails_on_system_nested_and_repeated_mount_points() -> None:
    problems = mount_point_problems(["/fsx", "/fsx/data", "/usr", "/fsx", "relative"])
    values = [value for value, _ in problems]
    assert values[:2] == ["/usr", "relative"]
    assert any("a different mount point" in allowed for _, allowed in problems)
    assert any("/fsx contain(s)" in allowed for _, allowed in problems)
    assert mount_point_problems(["/fsx", "/shared", "/home"]) == []


def test_subnets_accept_a_selection_a_subnet_or_a_list(stack: cdk.Stack) -> None:
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0)
    subnet = vpc.isolated_subnets[0] if vpc.isolated_subnets else vpc.public_subnets[0]
    v = Validator("S/F")
    assert as_subnet_selection(v, "vpc_subnets", subnet).subnets == [subnet]  # type: ignore[union-attr]
    assert as_subnet_selection(v, "vpc_subnets", [subnet]).subnets == [subnet]  # type: ignore[union-attr]
    selection = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC)
    assert as_subnet_selection(v, "vpc_subnets", selection) is selection
    assert v.problems == []
    assert as_subnet_selection(v, "vpc_subnets", "subnet-0abc") is None
    assert [p.prop for p in v.problems] == ["vpc_subnets"]


def test_user_data_takes_commands_or_user_data_and_refuses_a_bare_string() -> None:
    v = Validator("S/F")
    data = ec2.UserData.for_linux()
    data.add_commands("echo one")
    assert user_data_commands(v, "user_data", data) == ["echo one"]
    assert user_data_commands(v, "user_data", ["echo two"]) == ["echo two"]
    assert user_data_commands(v, "user_data", "echo three") == []
    assert [p.prop for p in v.problems] == ["user_data"]


def test_a_whole_list_token_counts_as_a_token() -> None:
    from hpc_constructs.errors import is_token

    assert is_token(cdk.Token.as_list(cdk.Fn.split(",", cdk.Aws.ACCOUNT_ID)))
    assert not is_token(["10.0.0.0/16"])


def test_fails_when_placement_true_asks_a_reservation_for_a_new_group() -> None:
    reservation = FleetCapacity.capacity_reservation(reservation_id="cr-0123456789abcdef0")
    plan, problems = _placement(capacity=reservation, placement=True)
    assert problems == ["placement"]
    assert plan.reservation_without_group is False  # type: ignore[attr-defined]
