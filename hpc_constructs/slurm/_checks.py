"""Instance-type and subnet checks shared by the Slurm constructs.

The same rules ``EfaComputeFleet`` applies (catalog lookup, one architecture, EFA support,
offerings in the region and AZ, purchase options, one subnet for EFA), written as small
functions so they can move to a shared module later.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from constructs import Construct, IConstruct

from hpc_constructs.capacity import FleetCapacity
from hpc_constructs.catalog import (
    InstanceCatalog,
    InstanceSpec,
    UnknownInstanceTypeError,
    offered_in,
)
from hpc_constructs.errors import Validator
from hpc_constructs.mounts import LustreFileSystemLike

_ABSOLUTE_PATH = re.compile(r"^/[A-Za-z0-9._/-]*$")


@dataclass(frozen=True)
class SlurmStorage:
    """An existing shared file system mounted on every node of a Slurm cluster.

    :param file_system: an FSx for Lustre file system (``LustreScratch``, an imported one, or
        any ``LustreFileSystemLike``) or an Amazon EFS file system (``efs.IFileSystem``;
        ParallelCluster only).
    :param mount_dir: absolute path on the nodes. Default: - ``/fsx`` for Lustre, ``/home``
        for EFS (a shared home directory that survives head-node replacement).
    :param name: the ``SharedStorage`` name in the ParallelCluster configuration.
        Default: - ``fsx``, ``fsx2``... / ``efs``, ``efs2``...
    """

    file_system: LustreFileSystemLike | efs.IFileSystem
    mount_dir: str | None = None
    name: str | None = None

    @property
    def is_lustre(self) -> bool:
        """Lustre (it has a mount name); anything else is treated as EFS."""
        return isinstance(self.file_system, LustreFileSystemLike)

    def resolved_mount_dir(self) -> str:
        if self.mount_dir is not None:
            return self.mount_dir
        return "/fsx" if self.is_lustre else "/home"


def as_storage(item: SlurmStorage | LustreFileSystemLike | efs.IFileSystem) -> SlurmStorage:
    """Accept a bare file system where a :class:`SlurmStorage` is expected."""
    return item if isinstance(item, SlurmStorage) else SlurmStorage(file_system=item)


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


def check_offerings(
    v: Validator,
    scope: IConstruct,
    prop: str,
    specs: Sequence[InstanceSpec],
    subnets: Sequence[ec2.ISubnet],
) -> None:
    """Every type is offered in the stack's region and in each subnet's AZ (when known)."""
    region = cdk.Stack.of(scope).region
    if cdk.Token.is_unresolved(region):
        return
    azs = sorted(
        {s.availability_zone for s in subnets if not cdk.Token.is_unresolved(s.availability_zone)}
    )
    for spec in specs:
        if offered_in(spec, region) is False:
            v.add(
                prop,
                spec.instance_type,
                f"a type offered in {region}",
                reason=f"offered in {', '.join(spec.regions) or 'no surveyed region'}",
            )
            continue
        for az in azs:
            if offered_in(spec, region, az) is False:
                v.add(
                    prop,
                    f"{spec.instance_type} in {az}",
                    f"an Availability Zone offering {spec.instance_type}: "
                    + ", ".join(spec.zones.get(region, ())),
                )


def select(vpc: ec2.IVpc, selection: ec2.SubnetSelection) -> ec2.SelectedSubnets:
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
    if selected.is_pending_lookup:
        return
    subnets = list(selected.subnets)
    azs = sorted({s.availability_zone for s in subnets})
    v.require(
        len(subnets) == 1,
        prop,
        [f"{s.node.path} ({s.availability_zone})" for s in subnets],
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


def check_mount_dirs(v: Validator, prop: str, storages: Sequence[SlurmStorage]) -> None:
    dirs = [s.resolved_mount_dir() for s in storages]
    for d in dirs:
        v.require(
            bool(_ABSOLUTE_PATH.match(d)) and d != "/",
            prop,
            d,
            "an absolute path other than / (letters, digits, . _ - /)",
        )
    v.require(len(set(dirs)) == len(dirs), prop, dirs, "a different mount_dir per file system")


def spot_strategy(capacity: FleetCapacity) -> str | None:
    """The Spot allocation strategy as EC2 spells it (``price-capacity-optimized``)."""
    strategy = capacity.spot_allocation_strategy
    if not capacity.is_spot or strategy is None:
        return None
    # jsii enum members expose their name; EC2 and ParallelCluster use the kebab-case value.
    return str(strategy.name if hasattr(strategy, "name") else strategy).lower().replace("_", "-")


def dependable_parts(file_system: object) -> list[Construct]:
    """What a cluster must wait for besides the file system id it references: EFS mount
    targets (a Lustre file system already waits for its own ingress rules)."""
    if not isinstance(file_system, Construct):
        return []
    return [c for c in file_system.node.find_all() if isinstance(c, efs.CfnMountTarget)]
