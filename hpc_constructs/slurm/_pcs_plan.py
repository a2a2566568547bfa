"""The rules of a PCS compute node group as pure functions on plain values, building a frozen
:class:`NodeGroupPlan` (no CDK objects): ``PcsCluster.add_node_group`` checks the props with
these, then renders the plan."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hpc_constructs.boot import (
    DEFAULT_IMDS_HOP_LIMIT,
    BootPlan,
    MountStep,
    TelemetryStep,
    gate_for,
    imds_hop_limit_rule,
)
from hpc_constructs.boot.plan import ImageFacts
from hpc_constructs.capacity import FleetCapacity
from hpc_constructs.catalog import (
    EfaInterface,
    InstanceSpec,
    efa_device_paths,
    plan_efa_interfaces,
)
from hpc_constructs.compute import (
    check_capacity,
    check_one_architecture,
    check_placement,
    lookup_specs,
    resolve_efa,
    spot_strategy,
)
from hpc_constructs.errors import Validator, needs_concrete_value
from hpc_constructs.image.plan import image_architecture_rule
from hpc_constructs.nodes import PlacementPlan, check_node_counts, plan_placement
from hpc_constructs.slurm._checks import capacity_type

#: Cluster sizes and the compute nodes each allows (PCS API reference, ``CreateCluster.size``).
PCS_SIZE_MAX_NODES = {"SMALL": 32, "MEDIUM": 512, "LARGE": 2048}
#: Spot allocation strategies PCS accepts (``SpotOptions.allocationStrategy``).
PCS_SPOT_STRATEGIES = ("lowest-price", "capacity-optimized", "price-capacity-optimized")
#: Queue and compute node group names: 3-25 characters, a letter first, no ``pcs_`` prefix
#: (PCS API reference, ``QueueName`` / ``ComputeNodeGroupName``).
PCS_NAME = re.compile(r"^(?!pcs_)[A-Za-z][A-Za-z0-9-]{2,24}$")
_TYPES_WHY = "they choose the launch template's network interfaces, EFA and architecture"
_PRIMARY_ONLY = (EfaInterface(0, 0, "interface", is_primary=True, has_ip=True),)


@dataclass(frozen=True)
class NodeGroupPlan:
    """Everything a node group renders, decided from its props (plain values only)."""

    name: str
    specs: tuple[InstanceSpec, ...]
    architecture: str
    efa: bool
    interfaces: tuple[EfaInterface, ...]
    min_nodes: int
    max_nodes: int
    capacity: FleetCapacity
    placement: PlacementPlan
    root_volume_size_gib: int
    health_gate: bool = True
    imds_hop_limit: int = DEFAULT_IMDS_HOP_LIMIT
    #: The golden image the group's nodes run (they install nothing at boot), or None.
    image: ImageFacts | None = None

    @property
    def instance_types(self) -> tuple[str, ...]:
        return tuple(s.instance_type for s in self.specs)

    @property
    def purchase_option(self) -> str:
        return capacity_type(self.capacity)

    @property
    def spot_allocation_strategy(self) -> str | None:
        return spot_strategy(self.capacity)

    @property
    def uses_interface_layout(self) -> bool:
        """Render the planned network interfaces (several, or EFA on the primary)."""
        return len(self.interfaces) > 1 or self.efa

    @property
    def efa_check_spec(self) -> InstanceSpec:
        """The type with the fewest EFA interfaces: the boot check expects at least that."""
        return min(self.specs, key=lambda s: s.max_efa_interfaces)


def check_pcs_name(v: Validator, prop: str, name: str, taken: Sequence[str], what: str) -> None:
    v.require(
        bool(PCS_NAME.match(name)),
        prop,
        name,
        "3 to 25 letters, digits or hyphens starting with a letter, not starting with pcs_",
    )
    v.require(name not in taken, prop, name, f"a name no other {what} of the cluster uses")


def check_machine_image(
    v: Validator,
    *,
    has_image: bool,
    own_image: bool,
    architecture: str | None,
    cluster_image_architecture: str | None,
    slurm_version: str,
    instance_types: Sequence[str],
) -> None:
    """An AMI on the group or the cluster; the cluster's AMI serves one architecture."""
    if not has_image:
        v.add(
            "machine_image",
            None,
            f"an AMI with the PCS agent and Slurm {slurm_version} (on the node group or the "
            "cluster)",
        )
    elif not own_image and architecture is not None:
        v.require(
            cluster_image_architecture in (None, architecture),
            "instance_types",
            f"{', '.join(instance_types)} ({architecture})",
            f"{cluster_image_architecture} types: the cluster's machine_image already serves "
            f"{cluster_image_architecture} node groups; pass a machine_image for this one",
        )


def check_cluster_size(v: Validator, max_nodes: int, used: int, size: str) -> None:
    most = PCS_SIZE_MAX_NODES[size]
    v.require(
        used + max_nodes <= most,
        "max_nodes",
        max_nodes,
        f"at most {most - used}: a {size} cluster runs at most {most} compute nodes and "
        f"other node groups take {used}",
    )


def check_pcs_capacity(
    v: Validator, capacity: FleetCapacity, specs: Sequence[InstanceSpec]
) -> None:
    """Offered purchase options, PCS's Spot strategies, no Spot price, one Capacity Block type."""
    check_capacity(v, "capacity", capacity, specs)
    strategy = spot_strategy(capacity)
    if strategy is not None:
        v.one_of("capacity.allocation_strategy", strategy, PCS_SPOT_STRATEGIES)
    # PCS SpotOptions has an allocation strategy only: a price cap would be dropped silently.
    v.require(
        not capacity.is_spot or capacity.spot_max_price is None,
        "capacity.max_price",
        capacity.spot_max_price,
        "None: PCS has no Spot maximum price (SpotOptions only sets the allocation strategy)",
    )
    if capacity.is_capacity_block:
        v.require(
            len(specs) <= 1,
            "instance_types",
            [s.instance_type for s in specs],
            "exactly one type: a Capacity Block reserves one instance type",
        )


def interface_layout(
    v: Validator, specs: Sequence[InstanceSpec], efa: bool
) -> tuple[EfaInterface, ...]:
    """The one network-interface layout the group's launch template carries."""
    if not efa:
        return _PRIMARY_ONLY
    plans = {s.instance_type: plan_efa_interfaces(s) for s in specs}
    layouts = set(plans.values())
    v.require(
        len(layouts) <= 1,
        "instance_types",
        {t: len(p) for t, p in plans.items()},
        "types with the same EFA interface layout (one launch template serves the group)",
    )
    return next(iter(layouts)) if layouts else _PRIMARY_ONLY


@dataclass(frozen=True)
class NodeGroupFacts:
    """What the cluster knows when a group is added (plain values)."""

    taken_names: tuple[str, ...] = ()
    used_nodes: int = 0
    size: str = "SMALL"
    slurm_version: str = "25.11"
    has_cluster_image: bool = True
    cluster_image_architecture: str | None = None


def plan_node_group(
    v: Validator,
    facts: NodeGroupFacts,
    *,
    name: str,
    instance_types: Sequence[str],
    min_nodes: int,
    max_nodes: int,
    efa: bool | None = None,
    capacity: FleetCapacity | None = None,
    has_own_image: bool = False,
    group_strategy: str | None = None,
    group_label: object = None,
    placement: bool | None = None,
    root_volume_size_gib: int = 64,
    health_gate: bool = True,
    imds_hop_limit: int = DEFAULT_IMDS_HOP_LIMIT,
    image: ImageFacts | None = None,
) -> NodeGroupPlan | None:
    """Apply every node-group rule, recording problems on ``v``; the plan, or None when a
    rule failed. ``group_label`` is the placement group passed (None: none passed)."""
    check_pcs_name(v, "name", name, facts.taken_names, "node group")
    if not needs_concrete_value(v, "instance_types", list(instance_types), _TYPES_WHY):
        return None
    specs = lookup_specs(v, "instance_types", instance_types)
    arch = check_one_architecture(v, "instance_types", specs, "one AMI serves the group")
    check_machine_image(
        v,
        has_image=has_own_image or facts.has_cluster_image,
        own_image=has_own_image,
        architecture=arch,
        cluster_image_architecture=facts.cluster_image_architecture,
        slurm_version=facts.slurm_version,
        instance_types=[s.instance_type for s in specs],
    )
    pcs_image_rule(v, image, arch, any(s.is_gpu for s in specs), facts.slurm_version)
    efa_on = resolve_efa(v, "efa", efa, specs)
    capacity = capacity or FleetCapacity.on_demand()
    before = len(v.problems)
    check_node_counts(v, min_nodes, max_nodes)
    if len(v.problems) == before and facts.size in PCS_SIZE_MAX_NODES:
        check_cluster_size(v, max_nodes, facts.used_nodes, facts.size)
    check_pcs_capacity(v, capacity, specs)
    placement_plan = plan_placement(
        v,
        capacity=capacity,
        efa_enabled=efa_on,
        group_given=group_label is not None,
        group_strategy=group_strategy,
        group_label=group_label,
        placement=placement,
    )
    if placement_plan.uses_group:
        check_placement(v, "placement_group", specs, placement_plan.strategy or "cluster")
    interfaces = interface_layout(v, specs, efa_on)
    v.in_range("root_volume_size_gib", root_volume_size_gib, 8, 65_536, "GiB")
    imds_hop_limit_rule(v, imds_hop_limit)
    if v.problems or arch is None:
        return None
    return NodeGroupPlan(
        name=name,
        specs=tuple(specs),
        architecture=arch,
        efa=efa_on,
        interfaces=interfaces,
        min_nodes=min_nodes,
        max_nodes=max_nodes,
        capacity=capacity,
        placement=placement_plan,
        root_volume_size_gib=root_volume_size_gib,
        health_gate=health_gate,
        imds_hop_limit=imds_hop_limit,
        image=image,
    )


def pcs_image_rule(
    v: Validator, image: ImageFacts | None, arch: str | None, gpu: bool, slurm_version: str
) -> None:
    """A golden image for PCS carries the PCS agent and the cluster's Slurm version."""
    if image is None:
        return
    v.require(
        image.pcs_slurm_version == slurm_version,
        "machine_image",
        image.name,
        f"an HpcImage with pcs=PcsSoftware(slurm_version={slurm_version!r}), the cluster's "
        f"Slurm (the image has {image.pcs_slurm_version or 'no PCS software'})",
    )
    image_architecture_rule(v, "machine_image", image, arch, gpu)


def pcs_boot_plan(
    plan: NodeGroupPlan, mounts: Sequence[MountStep] = (), telemetry: TelemetryStep | None = None
) -> BootPlan:
    """What a PCS node does at every boot, before slurmd starts: the EFA check (and the
    install when the image lacks the software), the instance store, the cluster's and the group's file systems.
    slurmd waits for the set-up (a drop-in on ``slurmd.service``); a node that fails it
    masks slurmd and powers off, so it never registers (unless ``health_gate=False``)."""
    return BootPlan(
        launcher="PcsComputeNodeGroup",
        instance_type=plan.efa_check_spec.instance_type,
        efa_devices=len(efa_device_paths(plan.efa_check_spec)) if plan.efa else 0,
        install_efa=plan.image is None,
        instance_store_disks=min(s.nvme_disk_count for s in plan.specs),
        mounts=tuple(mounts),
        gate=gate_for("slurmd", plan.health_gate),
        required_by=("slurmd",) if plan.health_gate else (),
        telemetry=telemetry,
        image=plan.image,
    )


# --- accounting, custom settings, login nodes ------------------------------------------------

#: Custom Slurm settings PCS documents per level. Cluster: Prolog, Epilog, SelectTypeParameters
#: (cfn-lint's ``AWS::PCS::Cluster`` schema, ``SlurmCustomSetting.ParameterName``) and
#: AccountingStorageEnforce (CloudFormation template reference, same property). Node groups:
#: Weight, RealMemory (``AWS::PCS::ComputeNodeGroup`` schema). Queues: the schema names none
#: (``AWS::PCS::Queue``); PCS checks them when the queue is created.
PCS_SLURM_SETTINGS: dict[str, tuple[str, ...]] = {
    "cluster": ("Prolog", "Epilog", "SelectTypeParameters", "AccountingStorageEnforce"),
    "node group": ("Weight", "RealMemory"),
}
#: ``Accounting.DefaultPurgeTimeInDays``: -1 (never purge) or 1 to 10000; 0 is refused
#: (botocore ``pcs`` ``AccountingRequest``).
PCS_PURGE_DAYS = (-1, 10_000)


@dataclass(frozen=True, kw_only=True)
class PcsAccounting:
    """PCS-managed Slurm accounting (``SlurmConfiguration.Accounting`` with ``Mode:
    STANDARD``): PCS runs slurmdbd and its database; ``sacct`` and fair share work.

    :param default_purge_time_days: days before accounting records are purged; -1 keeps them
        as long as the cluster exists. Default: - -1.
    """

    default_purge_time_days: int = -1


def check_pcs_accounting(v: Validator, accounting: PcsAccounting | None) -> None:
    if accounting is None:
        return
    days = accounting.default_purge_time_days
    high = PCS_PURGE_DAYS[1]
    v.require(
        days == -1 or 1 <= days <= high,
        "accounting.default_purge_time_days",
        days,
        f"-1 (keep) or 1 to {high} days (0 is not valid)",
    )


def check_pcs_settings(v: Validator, prop: str, settings: object, level: str) -> None:
    """Names a level accepts (case-insensitive, as Slurm reads them), string values."""
    if settings is None:
        return
    if not isinstance(settings, Mapping) or not all(
        isinstance(k, str) and isinstance(val, str) for k, val in settings.items()
    ):
        v.add(prop, settings, "a mapping of Slurm parameter name to string value")
        return
    allowed = PCS_SLURM_SETTINGS.get(level)
    if allowed is None:
        return
    lower = {a.lower() for a in allowed}
    bad = sorted(k for k in settings if k.lower() not in lower)
    v.require(
        not bad,
        prop,
        bad,
        f"the settings PCS accepts for a {level}: {', '.join(allowed)} (PCS User Guide, "
        '"Configuring custom Slurm settings in PCS"; cfn-lint AWS::PCS schema)',
    )
