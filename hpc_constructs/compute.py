"""Shared validation and launch-template pieces for every construct that launches EFA instances.

``EfaComputeFleet``, ``BatchMultiNode``, ``PcsCluster`` and ``ParallelCluster`` check their
instance types, purchase option, placement and subnets with these functions, so one input gets
one rule and one message everywhere: catalog lookup, one architecture, EFA support, offerings in
the region and AZ, purchase options, one subnet for EFA, no public IPs for multi-interface nodes.
The launch template itself is built by :func:`hpc_constructs.efa.efa_launch_template`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from constructs import IConstruct

from hpc_constructs.capacity import FleetCapacity
from hpc_constructs.catalog import (
    InstanceCatalog,
    InstanceSpec,
    UnknownInstanceTypeError,
    offered_in,
    supports_placement,
)
from hpc_constructs.errors import Validator, is_token

# --- instance types -------------------------------------------------------------------------


def lookup_specs(v: Validator, prop: str, instance_types: Sequence[str]) -> list[InstanceSpec]:
    """Catalog specs for ``instance_types``; unknown, duplicate or missing types are problems."""
    types = list(instance_types)
    v.require(len(types) > 0, prop, types, "one or more instance types")
    v.require(len(set(types)) == len(types), prop, types, "each type listed once")
    specs: list[InstanceSpec] = []
    for name in types:
        try:
            specs.append(InstanceCatalog.get(name))
        except UnknownInstanceTypeError as err:
            hint = ", ".join(err.suggestions)
            v.add(
                prop,
                name,
                "a type in the instance catalog (or registered with InstanceCatalog.register)",
                reason=f"unknown instance type; did you mean {hint}?"
                if hint
                else "unknown instance type",
            )
    return specs


def check_one_architecture(
    v: Validator, prop: str, specs: Sequence[InstanceSpec], why: str
) -> str | None:
    """All specs share one architecture; returns it (``None`` when there are no specs)."""
    archs = sorted({s.architecture for s in specs})
    v.require(
        len(archs) <= 1,
        prop,
        {s.instance_type: s.architecture for s in specs},
        f"types of one architecture ({why})",
    )
    return archs[0] if archs else None


def resolve_efa(v: Validator, prop: str, efa: bool | None, specs: Sequence[InstanceSpec]) -> bool:
    """``efa=None`` means on when every type supports EFA; ``True`` with a type without EFA is
    an error."""
    without = [s.instance_type for s in specs if not s.efa_supported]
    if efa is True and without:
        v.add(
            prop,
            True,
            "False, or only EFA-capable instance types",
            reason=f"{', '.join(without)} do(es) not support EFA",
        )
    if efa is None:
        return bool(specs) and not without
    return efa


# --- purchase option and placement ------------------------------------------------------------


def check_capacity(
    v: Validator, prop: str, capacity: FleetCapacity, specs: Sequence[InstanceSpec]
) -> None:
    """The purchase option must be one every type offers (Spot, Capacity Blocks)."""
    for spec in specs:
        if capacity.is_spot:
            v.require(
                "spot" in spec.usage_classes,
                prop,
                f"spot ({spec.instance_type})",
                f"a purchase option the type offers: {', '.join(spec.usage_classes)}",
            )
        if capacity.is_capacity_block:
            v.require(
                "capacity-block" in spec.usage_classes,
                prop,
                f"capacity-block ({spec.instance_type})",
                f"a purchase option the type offers: {', '.join(spec.usage_classes)}",
            )


def spot_strategy(capacity: FleetCapacity) -> str | None:
    """The Spot allocation strategy as EC2 spells it (``price-capacity-optimized``)."""
    strategy = capacity.spot_allocation_strategy
    if not capacity.is_spot or strategy is None:
        return None
    # jsii enum members expose their name; EC2 and ParallelCluster use the kebab-case value.
    return str(strategy.name if hasattr(strategy, "name") else strategy).lower().replace("_", "-")


def check_placement(
    v: Validator, prop: str, specs: Sequence[InstanceSpec], strategy: str = "cluster"
) -> None:
    """Every type supports the placement-group ``strategy`` (``cluster``, ``partition``...)."""
    for spec in specs:
        v.require(
            supports_placement(spec, strategy),
            prop,
            f"{strategy} ({spec.instance_type})",
            f"a strategy the type supports: {', '.join(spec.placement_strategies)}",
        )


# --- region, Availability Zone and subnets ----------------------------------------------------


def check_offerings(
    v: Validator,
    scope: IConstruct,
    prop: str,
    specs: Sequence[InstanceSpec],
    subnets: Sequence[ec2.ISubnet],
    subnet_prop: str,
) -> None:
    """Every type is offered in the stack's region (a problem on ``prop``) and in each
    subnet's Availability Zone (a problem on ``subnet_prop``, naming the subnet).

    Skipped for an unresolved region; zones that are tokens or not real zone names of the
    region (the ``dummy1a`` placeholders of a pending ``Vpc.from_lookup``) are not checked.
    """
    region = cdk.Stack.of(scope).region
    zones = [(s.node.path, s.availability_zone) for s in subnets]
    offering_rule(
        v, None if cdk.Token.is_unresolved(region) else region, prop, specs, zones, subnet_prop
    )


def offering_rule(
    v: Validator,
    region: str | None,
    prop: str,
    specs: Sequence[InstanceSpec],
    zones: Sequence[tuple[str, str]],
    subnet_prop: str,
) -> None:
    """:func:`check_offerings` on plain values: ``region`` (None when unknown) and
    ``(subnet path, availability zone)`` pairs."""
    if region is None:
        return
    known = [(path, az) for path, az in zones if not is_token(az) and az.startswith(region)]
    for spec in specs:
        if offered_in(spec, region) is False:
            v.add(
                prop,
                spec.instance_type,
                f"a type offered in {region}",
                reason=f"offered in {', '.join(spec.regions) or 'no surveyed region'}",
            )
            continue
        for path, az in known:
            if offered_in(spec, region, az) is False:
                v.add(
                    subnet_prop,
                    f"{path} ({az})",
                    f"a subnet in an AZ offering {spec.instance_type}: "
                    + ", ".join(spec.zones.get(region, ())),
                    reason=f"EC2 offers no {spec.instance_type} in {az}",
                )


@dataclass(frozen=True)
class SubnetFacts:
    """What the subnet rules need to know about a selection, as plain values."""

    #: ``(construct path, availability zone)`` per subnet.
    subnets: tuple[tuple[str, str], ...] = ()
    #: Paths of the subnets that are public or auto-assign public IPv4 addresses.
    public: tuple[str, ...] = ()
    has_public: bool = False
    pending_lookup: bool = False

    @property
    def count(self) -> int:
        return len(self.subnets)


def subnet_facts(selected: ec2.SelectedSubnets) -> SubnetFacts:
    """The plain facts of a selection (paths, zones, public subnets)."""
    subnets = list(selected.subnets)
    return SubnetFacts(
        subnets=tuple((s.node.path, s.availability_zone) for s in subnets),
        public=tuple(s.node.path for s in subnets if maps_public_ip(s)),
        has_public=bool(selected.has_public),
        pending_lookup=bool(selected.is_pending_lookup),
    )


def select_subnets(vpc: ec2.IVpc, selection: ec2.SubnetSelection) -> ec2.SelectedSubnets:
    """``vpc.select_subnets`` with every field of ``selection`` (the Python binding takes the
    selection's fields as keyword arguments, not the selection itself)."""
    return vpc.select_subnets(
        availability_zones=selection.availability_zones,
        one_per_az=selection.one_per_az,
        subnet_filters=selection.subnet_filters,
        subnet_group_name=selection.subnet_group_name,
        subnets=selection.subnets,
        subnet_type=selection.subnet_type,
    )


def check_single_subnet(
    v: Validator, prop: str, selected: ec2.SelectedSubnets, reason: str
) -> None:
    """EFA traffic cannot cross subnets or AZs: an EFA group launches into one subnet."""
    single_subnet_rule(v, prop, subnet_facts(selected), reason)


def single_subnet_rule(v: Validator, prop: str, facts: SubnetFacts, reason: str) -> None:
    """:func:`check_single_subnet` on plain :class:`SubnetFacts`."""
    if facts.pending_lookup:
        return
    azs = sorted({az for _, az in facts.subnets})
    v.require(
        facts.count == 1,
        prop,
        [f"{path} ({az})" for path, az in facts.subnets],
        "exactly one subnet (one Availability Zone)",
        reason=reason + (f"; the selection spans {', '.join(azs)}" if len(azs) > 1 else ""),
    )


def maps_public_ip(subnet: ec2.ISubnet) -> bool:
    """True for public subnets and subnets that auto-assign public IPv4 addresses."""
    if isinstance(subnet, ec2.PublicSubnet):
        return True
    child = subnet.node.default_child
    if isinstance(child, ec2.CfnSubnet):
        return child.map_public_ip_on_launch is True
    return False


def check_private_subnets(
    v: Validator, prop: str, selected: ec2.SelectedSubnets, multi_interface: Sequence[str]
) -> None:
    """Types that launch with several network interfaces (``multi_interface``) cannot get an
    auto-assigned public IP, so their subnets must be neither public nor auto-assign public
    IPv4 addresses."""
    if multi_interface:
        private_subnet_rule(v, prop, subnet_facts(selected), multi_interface)


def private_subnet_rule(
    v: Validator, prop: str, facts: SubnetFacts, multi_interface: Sequence[str]
) -> None:
    """:func:`check_private_subnets` on plain :class:`SubnetFacts`."""
    if not multi_interface:
        return
    if facts.has_public or facts.public:
        v.add(
            prop,
            list(facts.public) or "public subnets",
            "private or isolated subnets that do not auto-assign public IPv4 addresses",
            reason=f"{', '.join(multi_interface)} launch(es) with several network "
            "interfaces and AWS cannot auto-assign a public IP to such instances",
        )


#: Why a Capacity Reservation gets no new placement group, shared by the fleet and Batch.
RESERVATION_PLACEMENT_WARNING = (
    "An On-Demand Capacity Reservation only serves launches into the cluster placement group it "
    'was created in (EC2 User Guide, "Capacity Reservations in cluster placement groups"), so '
    "no new placement group is created for it. Pass that group as placement_group "
    "(ec2.PlacementGroup.from_placement_group_name), or acknowledge this warning if the "
    "reservation is not in a placement group."
)
