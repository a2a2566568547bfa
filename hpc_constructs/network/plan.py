"""The rules of ``NetworkFabric`` for a new VPC as pure functions on plain values.

``plan_new_vpc(v, stack_azs, props)`` decides AZs, NAT gateways, subnet sizes, the CIDR layout
and the compute subnet block from plain values (the stack's AZ names and the props), so every
rule can be tested without an App or a Stack; the construct renders the resulting frozen
:class:`NewVpcPlan` into ``ec2.Vpc`` and a compute ``ec2.Subnet``.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hpc_constructs.errors import (
    CONCRETE,
    TOKEN_SHOWN,
    Problem,
    Validator,
    is_token,
    needs_concrete_value,
)

#: AWS reserves the first four and the last address of every subnet (VPC User Guide,
#: "Subnet CIDR blocks").
AWS_RESERVED_ADDRESSES_PER_SUBNET = 5
#: Allowed IPv4 prefix lengths of a VPC and of a subnet (VPC User Guide, "VPC CIDR blocks").
VPC_PREFIX_RANGE = (16, 28)
SUBNET_PREFIX_RANGE = (16, 28)

DEFAULT_CIDR = "10.0.0.0/16"
DEFAULT_MAX_AZS = 3
DEFAULT_NAT_GATEWAYS = 1
#: /18 = 16,379 usable addresses: about 500 p5.48xlarge nodes with 32 EFA-with-ENA interfaces
#: each, or thousands of single-interface CPU nodes.
DEFAULT_COMPUTE_SUBNET_CIDR_MASK = 18
DEFAULT_SERVICE_SUBNET_CIDR_MASK = 22
#: Public subnets only hold NAT gateways (and perhaps a bastion or load balancer).
PUBLIC_SUBNET_CIDR_MASK = 24

#: What ``Stack.availability_zones`` returns before the CDK CLI has looked the AZs up; the CLI
#: then runs the app again with real values. aws-cdk-lib's Vpc ignores these too.
LOOKUP_PLACEHOLDER_AZS = frozenset({"dummy1a", "dummy1b", "dummy1c"})


def azs_known(azs: Sequence[str]) -> bool:
    """True when ``azs`` are real AZ names (not tokens, not lookup placeholders)."""
    return not is_token(list(azs)) and not any(az in LOOKUP_PLACEHOLDER_AZS for az in azs)


def usable_addresses(mask: int) -> int:
    return int(2 ** (32 - mask)) - AWS_RESERVED_ADDRESSES_PER_SUBNET


def compute_subnet_cidr_mask(max_compute_interfaces: int) -> int:
    """The longest prefix whose subnet holds ``max_compute_interfaces`` IP addresses.

    AWS keeps five addresses of every subnet, so a /24 holds 251, not 256.
    """
    low, high = SUBNET_PREFIX_RANGE
    for mask in range(high, low - 1, -1):
        if usable_addresses(mask) >= max_compute_interfaces:
            return mask
    raise ValueError(
        f"max_compute_interfaces={max_compute_interfaces} does not fit in a /{low} subnet"
    )


# --- new VPC rules ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SubnetGroup:
    """One ``ec2.SubnetConfiguration``: ``subnet_type`` is PUBLIC, PRIVATE_WITH_EGRESS or
    PRIVATE_ISOLATED (names of ``ec2.SubnetType``)."""

    name: str
    subnet_type: str
    cidr_mask: int


@dataclass(frozen=True)
class NewVpcPlan:
    """The layout of a VPC the fabric creates."""

    cidr: str
    availability_zones: tuple[str, ...]
    compute_availability_zone: str
    internet_access: bool
    nat_gateways: int
    compute_subnet_cidr_mask: int
    service_subnet_cidr_mask: int
    #: the compute subnet: the last block of its size in ``cidr``
    compute_subnet_cidr: str
    #: largest first, so ``ec2.Vpc`` packs them from the start of ``cidr`` without gaps
    subnet_groups: tuple[SubnetGroup, ...]
    #: AZs of the NAT gateways (compute AZ first); ``None``: one per AZ or no internet
    nat_gateway_azs: tuple[str, ...] | None


def plan_azs(
    v: Validator,
    stack_azs: Sequence[str],
    max_azs: int | None,
    availability_zones: Sequence[str] | None,
) -> list[str]:
    """The fabric's AZs: ``availability_zones``, else the first ``max_azs`` of the stack."""
    if availability_zones is None:
        count = DEFAULT_MAX_AZS if max_azs is None else max_azs
        v.require(count >= 1, "max_azs", count, "an integer of 1 or more")
        return list(stack_azs[: max(count, 1)])
    azs = list(availability_zones)
    if max_azs is not None:
        v.add("max_azs", max_azs, "unset when availability_zones is given")
    v.require(len(azs) > 0, "availability_zones", azs, "one or more AZs of the stack")
    v.require(len(set(azs)) == len(azs), "availability_zones", azs, "AZs without repeats")
    if azs_known(stack_azs):
        for az in azs:
            v.one_of("availability_zones", az, stack_azs, "not an AZ of the stack's region")
    return azs


def plan_compute_az(v: Validator, azs: Sequence[str], compute_availability_zone: str | None) -> str:
    """The compute AZ: given (one of the fabric's AZs), else the first AZ."""
    if compute_availability_zone is None:
        return azs[0] if azs else ""
    if azs_known(azs):
        v.one_of(
            "compute_availability_zone",
            compute_availability_zone,
            azs,
            "the compute subnet must be in one of the fabric's AZs",
        )
    return compute_availability_zone


def plan_nat_gateways(v: Validator, internet: bool, az_count: int, nat_gateways: int | None) -> int:
    """NAT gateways follow internet access: 1 by default, 1 to one per AZ; 0 without."""
    if nat_gateways is None:
        return DEFAULT_NAT_GATEWAYS if internet else 0
    if internet:
        v.require(
            1 <= nat_gateways <= max(az_count, 1),
            "nat_gateways",
            nat_gateways,
            f"1 to {az_count} (at most one per AZ); use internet_access=False for no NAT",
        )
    else:
        v.require(
            nat_gateways == 0, "nat_gateways", nat_gateways, "0 or unset when internet_access=False"
        )
    return nat_gateways


def plan_subnet_masks(
    v: Validator, max_compute_interfaces: int | None, service_subnet_cidr_mask: int | None
) -> tuple[int, int, bool]:
    """(compute mask, service mask, service mask valid) from the props."""
    compute_mask = DEFAULT_COMPUTE_SUBNET_CIDR_MASK
    if max_compute_interfaces is not None:
        limit = usable_addresses(SUBNET_PREFIX_RANGE[0])
        if v.in_range("max_compute_interfaces", max_compute_interfaces, 1, limit, "addresses"):
            compute_mask = compute_subnet_cidr_mask(max_compute_interfaces)
    service_mask = (
        DEFAULT_SERVICE_SUBNET_CIDR_MASK
        if service_subnet_cidr_mask is None
        else service_subnet_cidr_mask
    )
    service_ok = v.in_range("service_subnet_cidr_mask", service_mask, *SUBNET_PREFIX_RANGE)
    return compute_mask, service_mask, service_ok


def check_cidr(
    v: Validator,
    cidr: str,
    az_count: int,
    internet: bool,
    compute_mask: int,
    service_mask: int | None,
) -> bool:
    """The CIDR is a concrete /16-/28 network with room for every subnet (``service_mask``
    ``None``: the service mask is invalid, skip the size check)."""
    if is_token(cidr):
        v.problems.append(
            Problem(
                v.path,
                "cidr",
                TOKEN_SHOWN,
                "a concrete IPv4 CIDR such as 10.0.0.0/16",
                f"{CONCRETE}: the fabric carves its subnets from it",
            )
        )
        return False
    try:
        network = ipaddress.IPv4Network(cidr, strict=True)
    except ValueError as err:
        v.add("cidr", cidr, "an IPv4 network such as 10.0.0.0/16", str(err))
        return False
    low, high = VPC_PREFIX_RANGE
    if not v.require(
        low <= network.prefixlen <= high,
        "cidr",
        cidr,
        f"a prefix length of /{low} to /{high}",
        "AWS VPC limit",
    ):
        return False
    if service_mask is None:
        return True
    public = 2 ** (32 - PUBLIC_SUBNET_CIDR_MASK) if internet else 0
    needed = 2 ** (32 - compute_mask) + az_count * (2 ** (32 - service_mask) + public)
    if needed <= network.num_addresses:
        return True
    prefix = 32 - math.ceil(math.log2(needed))
    v.add(
        "cidr",
        cidr,
        f"a /{prefix} or larger network, or a smaller compute subnet "
        "(max_compute_interfaces) or fewer AZs",
        f"the /{compute_mask} compute subnet and {az_count} AZs of service"
        f"{' and public' if internet else ''} subnets need {needed} "
        f"addresses, the CIDR has {network.num_addresses}",
    )
    return False


def compute_subnet_block(cidr: str, mask: int) -> str:
    """The last aligned block of prefix ``mask`` in ``cidr``."""
    network = ipaddress.IPv4Network(cidr)
    size = 2 ** (32 - mask)
    return str(ipaddress.IPv4Network((int(network.broadcast_address) + 1 - size, mask)))


def subnet_groups(internet: bool, service_mask: int) -> tuple[SubnetGroup, ...]:
    """Service subnets (private with egress, or isolated) and, with internet, public ones,
    largest first: ``ec2.Vpc`` allocates them one after the other from the start of the CIDR."""
    groups = [
        SubnetGroup(
            "Services", "PRIVATE_WITH_EGRESS" if internet else "PRIVATE_ISOLATED", service_mask
        )
    ]
    if internet:
        groups.append(SubnetGroup("Public", "PUBLIC", PUBLIC_SUBNET_CIDR_MASK))
    return tuple(sorted(groups, key=lambda group: group.cidr_mask))


def nat_gateway_azs(
    internet: bool, azs: Sequence[str], compute_az: str, nat_gateways: int
) -> tuple[str, ...] | None:
    """Put the first NAT gateway in the compute AZ so compute egress stays in its AZ."""
    if not internet or nat_gateways >= len(azs) or compute_az not in azs:
        return None
    others = [az for az in azs if az != compute_az]
    return (compute_az, *others[: nat_gateways - 1])


#: Props the subnet layout is computed from: they need concrete values at synth time.
_LAYOUT_PROPS = (
    "max_azs",
    "availability_zones",
    "compute_availability_zone",
    "nat_gateways",
    "max_compute_interfaces",
    "service_subnet_cidr_mask",
)


def plan_new_vpc(
    v: Validator, stack_azs: Sequence[str], props: Mapping[str, Any]
) -> NewVpcPlan | None:
    """Every rule for a new VPC; ``None`` when a problem was recorded in ``v``."""
    internet = True if props.get("internet_access") is None else bool(props["internet_access"])
    why = "the fabric lays out its subnets from it"
    concrete = [needs_concrete_value(v, prop, props.get(prop), why) for prop in _LAYOUT_PROPS]
    if not all(concrete):
        check_cidr(v, props.get("cidr") or DEFAULT_CIDR, 1, internet, 28, None)
        return None
    azs = plan_azs(v, stack_azs, props.get("max_azs"), props.get("availability_zones"))
    compute_az = plan_compute_az(v, azs, props.get("compute_availability_zone"))
    nat = plan_nat_gateways(v, internet, len(azs), props.get("nat_gateways"))
    compute_mask, service_mask, service_ok = plan_subnet_masks(
        v, props.get("max_compute_interfaces"), props.get("service_subnet_cidr_mask")
    )
    cidr = DEFAULT_CIDR if props.get("cidr") is None else props["cidr"]
    check_cidr(v, cidr, len(azs), internet, compute_mask, service_mask if service_ok else None)
    if v.problems:
        return None
    return NewVpcPlan(
        cidr=cidr,
        availability_zones=tuple(azs),
        compute_availability_zone=compute_az,
        internet_access=internet,
        nat_gateways=nat,
        compute_subnet_cidr_mask=compute_mask,
        service_subnet_cidr_mask=service_mask,
        compute_subnet_cidr=compute_subnet_block(cidr, compute_mask),
        subnet_groups=subnet_groups(internet, service_mask),
        nat_gateway_azs=nat_gateway_azs(internet, azs, compute_az, nat),
    )
