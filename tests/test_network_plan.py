"""NetworkFabric rules on plain values (no App, no Stack) and boundary errors."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest

from hpc_constructs import HpcValidationError, NetworkFabric
from hpc_constructs.errors import Validator
from hpc_constructs.network.plan import (
    SubnetGroup,
    check_cidr,
    compute_subnet_block,
    nat_gateway_azs,
    plan_azs,
    plan_compute_az,
    plan_nat_gateways,
    plan_new_vpc,
    plan_subnet_masks,
    subnet_groups,
)
from tests.harness import TEST_ENV, make_app

AZS = ["us-east-2a", "us-east-2b", "us-east-2c"]


def _v() -> Validator:
    return Validator("Plan")


def test_az_rules() -> None:
    v = _v()
    assert plan_azs(v, AZS, None, None) == AZS
    assert plan_azs(v, AZS, 2, None) == AZS[:2]
    assert plan_azs(v, AZS, None, ["us-east-2c"]) == ["us-east-2c"]
    assert plan_compute_az(v, AZS, None) == "us-east-2a"
    assert v.problems == []
    plan_azs(v, AZS, None, ["us-east-2a", "us-east-2a"])
    plan_compute_az(v, AZS[:2], "us-east-2c")
    assert {p.prop for p in v.problems} == {"availability_zones", "compute_availability_zone"}


def test_nat_and_mask_rules() -> None:
    v = _v()
    assert plan_nat_gateways(v, True, 3, None) == 1
    assert plan_nat_gateways(v, False, 3, None) == 0
    assert plan_subnet_masks(v, 1000, None) == (22, 22, True)
    assert v.problems == []
    plan_nat_gateways(v, True, 2, 3)
    assert [p.prop for p in v.problems] == ["nat_gateways"]


def test_cidr_layout_rules() -> None:
    assert compute_subnet_block("10.0.0.0/16", 18) == "10.0.192.0/18"
    assert subnet_groups(True, 22) == (
        SubnetGroup("Services", "PRIVATE_WITH_EGRESS", 22),
        SubnetGroup("Public", "PUBLIC", 24),
    )
    assert subnet_groups(False, 26) == (SubnetGroup("Services", "PRIVATE_ISOLATED", 26),)
    assert nat_gateway_azs(True, AZS, "us-east-2b", 2) == ("us-east-2b", "us-east-2a")
    assert nat_gateway_azs(True, AZS, "us-east-2b", 3) is None
    assert nat_gateway_azs(False, AZS, "us-east-2b", 0) is None
    v = _v()
    assert not check_cidr(v, "10.0.0.0/20", 3, True, 18, 22)
    assert "need 20224 addresses" in str(v.problems[0])


def test_new_vpc_plan_is_plain_and_frozen() -> None:
    v = _v()
    plan = plan_new_vpc(v, AZS, {"compute_availability_zone": "us-east-2b", "nat_gateways": 2})
    assert plan is not None
    assert plan.compute_subnet_cidr == "10.0.192.0/18"
    assert plan.nat_gateway_azs == ("us-east-2b", "us-east-2a")
    with pytest.raises(AttributeError):
        plan.cidr = "10.1.0.0/16"  # type: ignore[misc]


def _stack() -> cdk.Stack:
    return cdk.Stack(make_app(), "Stack", env=TEST_ENV)


@pytest.mark.parametrize(
    ("props", "prop", "allowed"),
    [
        ({"max_azs": "2"}, "max_azs", "(got str); allowed: int"),
        (
            {"availability_zones": "us-east-2a"},
            "availability_zones",
            "(got str); allowed: a list of str",
        ),
        ({"compute_availability_zone": 1}, "compute_availability_zone", "(got int); allowed: str"),
        ({"cidr": 10}, "cidr", "(got int); allowed: str"),
        ({"nat_gateways": 1.5}, "nat_gateways", "(got float); allowed: int"),
        ({"internet_access": "no"}, "internet_access", "(got str); allowed: bool"),
        ({"max_compute_interfaces": "1000"}, "max_compute_interfaces", "(got str); allowed: int"),
    ],
)
def test_fails_wrong_python_type_is_one_problem_naming_the_prop(
    props: dict[str, Any], prop: str, allowed: str
) -> None:
    with pytest.raises(HpcValidationError) as err:
        NetworkFabric(_stack(), "Fabric", **props)
    assert [p.prop for p in err.value.problems] == [prop]
    assert allowed in str(err.value)
    assert "Stack/Fabric" in str(err.value)


def test_fails_single_endpoint_instead_of_a_list() -> None:
    from hpc_constructs import FabricEndpoint

    with pytest.raises(HpcValidationError, match=r"endpoints=.*a list of FabricEndpoint"):
        NetworkFabric(_stack(), "Fabric", endpoints=FabricEndpoint.SSM)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "prop", ["max_azs", "nat_gateways", "max_compute_interfaces", "service_subnet_cidr_mask"]
)
def test_fails_token_where_a_concrete_value_is_needed(prop: str) -> None:
    stack = _stack()
    token = cdk.CfnParameter(stack, "N", type="Number").value_as_number
    with pytest.raises(HpcValidationError) as err:
        NetworkFabric(stack, "Fabric", **{prop: token})
    assert [p.prop for p in err.value.problems] == [prop]
    assert f"{prop}='<unresolved token>'" in str(err.value)
    assert "needs a concrete value at synth time" in str(err.value)


def test_fails_token_compute_az_and_cidr_need_concrete_values() -> None:
    stack = _stack()
    az = cdk.CfnParameter(stack, "Az").value_as_string
    with pytest.raises(HpcValidationError, match="needs a concrete value at synth time"):
        NetworkFabric(stack, "Fabric", compute_availability_zone=az)
    cidr = cdk.CfnParameter(stack, "Cidr").value_as_string
    with pytest.raises(HpcValidationError, match=r"cidr=.*needs a concrete value at synth time"):
        NetworkFabric(stack, "Fabric2", cidr=cidr)


def test_cfn_properties_expose_the_main_l1s() -> None:
    fabric = NetworkFabric(_stack(), "Fabric", endpoints=[])
    assert fabric.cfn_vpc is not None
    assert fabric.cfn_compute_subnet is not None
    assert fabric.cfn_compute_subnet.cidr_block == "10.0.192.0/18"
    assert fabric.cfn_s3_endpoint is not None
    assert fabric.cfn_flow_log is not None
    assert fabric.cfn_log_group is not None
    assert fabric.cfn_endpoint_security_group is None
    assert fabric.plan is not None
