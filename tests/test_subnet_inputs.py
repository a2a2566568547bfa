"""Every construct that takes subnets accepts what a user naturally passes: a selection, one
subnet, or a list of subnets; anything else is one clear problem (construction only)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2

import hpc_constructs as hc
from hpc_constructs import HpcValidationError
from tests.harness import TEST_ENV, make_app


@pytest.fixture(scope="module")
def vpc() -> ec2.Vpc:
    stack = cdk.Stack(make_app(), "Subnets", env=TEST_ENV)
    return ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=1)


def _lustre(vpc: ec2.Vpc, id: str, subnets: Any) -> hc.LustreScratch:
    return hc.LustreScratch(cdk.Stack.of(vpc), id, vpc=vpc, vpc_subnets=subnets)


@pytest.mark.parametrize("form", ["subnet", "list", "selection"])
def test_lustre_takes_a_subnet_a_list_or_a_selection(vpc: ec2.Vpc, form: str) -> None:
    subnet = vpc.private_subnets[0]
    value = {
        "subnet": subnet,
        "list": [subnet],
        "selection": ec2.SubnetSelection(subnets=[subnet]),
    }[form]
    scratch = _lustre(vpc, f"Lustre{form.capitalize()}", value)
    assert scratch.plan.storage_capacity_gib == 1200


def test_fails_when_lustre_subnets_are_a_subnet_id_string(vpc: ec2.Vpc) -> None:
    with pytest.raises(HpcValidationError) as err:
        _lustre(vpc, "LustreBad", "subnet-0123456789abcdef0")
    [problem] = err.value.problems
    assert problem.prop == "vpc_subnets"
    assert "ec2.SubnetSelection or ec2.ISubnet or a list of ec2.ISubnet" in problem.allowed


def test_direct_connect_routes_every_subnet_of_a_list(vpc: ec2.Vpc) -> None:
    stack = cdk.Stack.of(vpc)
    hc.DataIngest(
        stack,
        "Dx",
        vpc=vpc,
        direct_connect=hc.DirectConnectOptions(
            attachment="TRANSIT_GATEWAY",
            on_premises_cidrs=["172.16.0.0/12"],
            vpc_subnets=[vpc.private_subnets[0]],
        ),
    )
    routes = [
        c
        for c in stack.node.find_all()
        if isinstance(c, ec2.CfnRoute) and c.node.path.startswith("Subnets/Dx")
    ]
    assert len(routes) == 1


def test_fails_when_direct_connect_subnets_are_a_string(vpc: ec2.Vpc) -> None:
    with pytest.raises(HpcValidationError, match=r"direct_connect\.vpc_subnets"):
        hc.DataIngest(
            cdk.Stack.of(vpc),
            "DxBad",
            vpc=vpc,
            direct_connect=hc.DirectConnectOptions(vpc_subnets="subnet-0abc"),  # type: ignore[arg-type]
        )
