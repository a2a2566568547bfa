"""``EfaComputeFleet``: an Auto Scaling fleet for tightly coupled MPI / NCCL work that launches
every node with all the EFA interfaces its instance type supports, in one subnet and one
cluster placement group.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import aws_cdk as cdk
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from hpc_constructs import limits
from hpc_constructs.boot import (
    DEFAULT_HEARTBEAT_TIMEOUT_SECONDS,
    DEFAULT_IMDS_HOP_LIMIT,
    INSTANCE_STORE_MOUNT_POINT,
    LIFECYCLE_HOOK_NAME,
    BootPlan,
    MountStep,
    ScratchStep,
    gate_for,
    heartbeat_timeout_rule,
    imds_hop_limit_rule,
    log_retention_rule,
    user_data_script,
)
from hpc_constructs.boot.plan import ImageFacts, TelemetryStep
from hpc_constructs.capacity import FleetCapacity
from hpc_constructs.catalog import (
    DEFAULT_EFA_INTERFACE_TYPE,
    EfaInterface,
    EfaInterfaceType,
    InstanceSpec,
    efa_device_paths,
    plan_efa_interfaces,
)
from hpc_constructs.compute import (
    SubnetFacts,
    check_capacity,
    check_one_architecture,
    check_placement,
    lookup_specs,
    offering_rule,
    private_subnet_rule,
    resolve_efa,
    select_subnets,
    single_subnet_rule,
    subnet_facts,
)
from hpc_constructs.efa import (
    create_efa_security_group,
    efa_launch_template,
    launch_template_interfaces,
)
from hpc_constructs.errors import (
    TOKEN_SHOWN,
    Validator,
    check_prop_types,
    is_token,
    needs_concrete_value,
)
from hpc_constructs.image.construct import image_facts_of
from hpc_constructs.image.plan import (
    DLAMI_MIN_ROOT_GIB,
    DLAMI_PARAMETER,
    MIN_ROOT_GIB,
    image_architecture_rule,
)
from hpc_constructs.mounts import LustreFileSystemLike
from hpc_constructs.node_telemetry import (
    DEFAULT_LOG_RETENTION,
    LogRetention,
    render_node_telemetry,
    telemetry_step,
)
from hpc_constructs.nodes import (
    FileSystemInput,
    NodeLauncher,
    PlacementPlan,
    SharedFileSystem,
    SubnetsInput,
    UserDataInput,
    allow_file_system_clients,
    as_subnet_selection,
    check_mount_points,
    check_node_counts,
    efa_disabled,
    lazy_text,
    mount_dependables,
    mount_step,
    placement_group_facts,
    plan_placement,
    resolve_added_file_system,
    resolve_file_systems,
    ssm_node_role,
    stack_region,
    user_data_commands,
    warn_launcher,
)

#: The Deep Learning Base GPU AMI's SSM parameter and minimum root volume (image.plan cites them).
GPU_AMI_PARAMETER = DLAMI_PARAMETER
GPU_AMI_MIN_ROOT_GIB = DLAMI_MIN_ROOT_GIB

#: Tag on everything a fleet creates (its construct path); the health gate's policy names the
#: fleet's group by it.
FLEET_TAG = "hpc-constructs:fleet"

_ABSOLUTE_PATH = re.compile(r"^/[A-Za-z0-9._/-]*$")
_DEVICE_NAME = re.compile(r"^/dev/(sd[f-p]|xvd[f-p])$")


@dataclass(frozen=True)
class ScratchVolume:
    """An extra EBS volume per node, formatted xfs and mounted at boot; deleted with the node.

    :param size_gib: io2: 4-65,536 GiB; gp3: 1-65,536 GiB.
    :param volume_type: ``"io2"`` (Block Express) or ``"gp3"``. Default: - ``"gp3"``.
    :param iops: io2: 100-256,000 and at most 1,000 per GiB (required); gp3: 3,000-80,000
        and, above 3,000, at most 500 per GiB.
        Default: - 3,000 for gp3 (included in the price); required for io2.
    :param throughput_mibps: gp3 only, 125-2,000 MiB/s and at most 0.25 MiB/s per IOPS.
        Default: - 125 for gp3.
    :param mount_point: Default: - ``/scratch/ebs``.
    :param device_name: block-device name in the launch template. Default: - ``/dev/sdf``.
    """

    size_gib: int
    volume_type: Literal["io2", "gp3"] = "gp3"
    iops: int | None = None
    throughput_mibps: int | None = None
    mount_point: str = "/scratch/ebs"
    device_name: str = "/dev/sdf"


def _construct_id(instance_type: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]", instance_type))


#: Warning: several instance types share one cluster placement group.

_ONE_SUBNET_REASON = (
    "EFA traffic cannot cross subnets or AZs and an Auto Scaling group cannot "
    "combine a cluster placement group with several AZs"
)


# --- props and plan: plain values, no CDK objects ------------------------------------------


@dataclass(frozen=True)
class FleetProps:
    """The plain-valued props of an :class:`EfaComputeFleet` that its rules read (CDK objects
    are reduced to facts: ``group_given``, ``image_given``...)."""

    instance_types: tuple[str, ...]
    max_nodes: int
    min_nodes: int = 0
    desired_nodes: int | None = None
    capacity: FleetCapacity = dataclasses.field(default_factory=FleetCapacity.on_demand)
    efa: bool | None = None
    efa_interface_type: str = DEFAULT_EFA_INTERFACE_TYPE
    placement: bool | None = None
    group_given: bool = False
    group_strategy: str | None = None
    group_label: str | None = None
    image_given: bool = False
    #: The golden image's facts when ``machine_image`` is an ``HpcImage`` image.
    image: ImageFacts | None = None
    root_volume_size_gib: int = 100
    scratch_volume: ScratchVolume | None = None
    security_group_given: bool = False
    allow_all_outbound: bool | None = None
    health_gate: bool = True
    health_gate_timeout_seconds: int = DEFAULT_HEARTBEAT_TIMEOUT_SECONDS
    imds_hop_limit: int = DEFAULT_IMDS_HOP_LIMIT
    #: A retention given as a number of days (None: a ``logs.RetentionDays`` member).
    log_retention_days: int | None = None


@dataclass(frozen=True)
class LaunchTemplateLayout:
    """One launch template of a fleet: the types that share an interface layout, EFA device
    count and instance store; ``spec`` (the first of them) writes the boot script."""

    construct_id: str
    instance_types: tuple[str, ...]
    spec: InstanceSpec


@dataclass(frozen=True)
class FleetPlan:
    """Everything the fleet's rules decided, as plain values; the construct renders it."""

    specs: tuple[InstanceSpec, ...]
    architecture: str
    capacity: FleetCapacity
    efa_enabled: bool
    efa_interface_type: EfaInterfaceType
    interface_plans: Mapping[str, tuple[EfaInterface, ...]]
    placement: PlacementPlan
    min_nodes: int
    max_nodes: int
    desired_nodes: int | None
    gpu_default_ami: bool
    scratch_volume: ScratchVolume | None
    layouts: tuple[LaunchTemplateLayout, ...]
    warn_efa_disabled: bool
    warn_mixed_types: bool
    health_gate: bool = True
    health_gate_timeout_seconds: int = DEFAULT_HEARTBEAT_TIMEOUT_SECONDS
    imds_hop_limit: int = DEFAULT_IMDS_HOP_LIMIT
    #: The golden image the nodes run (they install nothing at boot), or None.
    image: ImageFacts | None = None

    @property
    def instance_types(self) -> tuple[str, ...]:
        return tuple(s.instance_type for s in self.specs)

    @property
    def mixed_instances(self) -> bool:
        """A MixedInstancesPolicy: Spot, or several types."""
        return self.capacity.is_spot or len(self.specs) > 1

    @property
    def install_efa(self) -> bool:
        """The DLAMI and golden images ship the EFA software; other images install it at boot."""
        return not self.gpu_default_ami and self.image is None


def concrete_fleet_rule(v: Validator, props: FleetProps) -> bool:
    """Instance types and sizes must be known at synth time (they pick layouts and limits)."""
    values: list[tuple[str, object]] = [
        ("instance_types", list(props.instance_types)),
        ("root_volume_size_gib", props.root_volume_size_gib),
    ]
    vol = props.scratch_volume
    if vol is not None:
        values += [
            ("scratch_volume.size_gib", vol.size_gib),
            ("scratch_volume.iops", vol.iops),
            ("scratch_volume.throughput_mibps", vol.throughput_mibps),
        ]
    concrete = [needs_concrete_value(v, prop, value) for prop, value in values]
    return all(concrete)


def capacity_block_rule(v: Validator, props: FleetProps) -> None:
    """A Capacity Block has a fixed number of instances of one type."""
    if not props.capacity.is_capacity_block:
        return
    v.require(
        props.min_nodes == props.max_nodes and props.max_nodes > 0,
        "max_nodes",
        (props.min_nodes, props.max_nodes),
        "min_nodes equal to max_nodes and above 0: a Capacity Block has a fixed number of "
        "instances",
    )
    v.require(
        len(props.instance_types) == 1,
        "instance_types",
        list(props.instance_types),
        "exactly one type: a Capacity Block reserves one instance type",
    )


def node_counts_rule(v: Validator, props: FleetProps) -> None:
    """``check_node_counts`` on plain counts. The counts may also be tokens (a
    ``CfnParameter``'s value, as in a Service Catalog product): their range is then the
    parameter's MinValue/MaxValue, not checked here; a Capacity Block refuses them."""
    counts = (props.min_nodes, props.max_nodes, props.desired_nodes)
    if not any(is_token(count) for count in counts):
        check_node_counts(v, *counts)
        return
    v.require(
        not props.capacity.is_capacity_block,
        "max_nodes",
        TOKEN_SHOWN,
        "a concrete count for a Capacity Block (a fixed number of instances)",
    )


def plan_interfaces(
    specs: Sequence[InstanceSpec], efa_enabled: bool, efa_interface_type: str
) -> dict[str, tuple[EfaInterface, ...]]:
    """Each type's network interfaces: the catalog's EFA layout, or the primary alone."""
    plan_type: EfaInterfaceType = (
        "efa" if efa_interface_type == "efa" else DEFAULT_EFA_INTERFACE_TYPE
    )
    primary_only = (EfaInterface(0, 0, "interface", is_primary=True, has_ip=True),)
    return {
        s.instance_type: plan_efa_interfaces(s, efa_interface_type=plan_type)
        if efa_enabled
        else primary_only
        for s in specs
    }


def plan_layouts(
    specs: Sequence[InstanceSpec],
    plans: Mapping[str, tuple[EfaInterface, ...]],
    efa_enabled: bool,
) -> tuple[LaunchTemplateLayout, ...]:
    """Types whose interfaces, EFA device count and instance store match share a launch
    template; the first template is ``LaunchTemplate``, the others are named by type."""
    groups: dict[tuple[object, ...], list[InstanceSpec]] = {}
    for spec in specs:
        devices = spec.max_efa_interfaces if efa_enabled else 0
        key = (plans[spec.instance_type], devices, spec.nvme_disk_count)
        groups.setdefault(key, []).append(spec)
    layouts = []
    for index, members in enumerate(groups.values()):
        first = members[0]
        lt_id = (
            "LaunchTemplate"
            if index == 0
            else f"LaunchTemplate{_construct_id(first.instance_type)}"
        )
        layouts.append(LaunchTemplateLayout(lt_id, tuple(s.instance_type for s in members), first))
    return tuple(layouts)


def root_volume_rule(v: Validator, size_gib: int, gpu_default_ami: bool) -> None:
    """The DLAMI's root snapshot is 75 GiB; other images need 8 GiB."""
    low = GPU_AMI_MIN_ROOT_GIB if gpu_default_ami else MIN_ROOT_GIB
    v.in_range("root_volume_size_gib", size_gib, low, 65_536, "GiB")


def security_group_rule(v: Validator, given: bool, allow_all_outbound: bool | None) -> None:
    if given and allow_all_outbound is not None:
        v.add(
            "allow_all_outbound",
            allow_all_outbound,
            "unset when security_group is given (configure egress on your group)",
        )


def subnet_rules(
    v: Validator,
    specs: Sequence[InstanceSpec],
    plans: Mapping[str, tuple[EfaInterface, ...]],
    one_subnet_needed: bool,
    subnets: SubnetFacts,
    region: str | None,
) -> None:
    """One subnet for EFA or a cluster group, private subnets for multi-interface types, and
    the types offered in the region (and in the AZ of a one-subnet fleet)."""
    if one_subnet_needed:
        single_subnet_rule(v, "vpc_subnets", subnets, _ONE_SUBNET_REASON)
    multi_interface = [t for t, p in plans.items() if len(p) > 1]
    private_subnet_rule(v, "vpc_subnets", subnets, multi_interface)
    zones = subnets.subnets if subnets.count == 1 else ()
    offering_rule(v, region, "instance_types", specs, zones, "vpc_subnets")


def plan_fleet(
    v: Validator,
    props: FleetProps,
    *,
    region: str | None = None,
    subnets: SubnetFacts | None = None,
) -> FleetPlan | None:
    """Apply every rule of the fleet to plain values; None when a problem was recorded."""
    if not concrete_fleet_rule(v, props):
        return None
    specs = lookup_specs(v, "instance_types", props.instance_types)
    architecture = check_one_architecture(v, "instance_types", specs, "one AMI serves the fleet")
    efa_enabled = resolve_efa(v, "efa", props.efa, specs)
    v.one_of("efa_interface_type", props.efa_interface_type, ("efa-only", "efa"))
    node_counts_rule(v, props)
    check_capacity(v, "capacity", props.capacity, specs)
    capacity_block_rule(v, props)
    placement = plan_placement(
        v,
        capacity=props.capacity,
        efa_enabled=efa_enabled,
        group_given=props.group_given,
        group_strategy=props.group_strategy,
        group_label=props.group_label,
        placement=props.placement,
    )
    if placement.strategy is not None:
        check_placement(v, "placement_group", specs, placement.strategy)
    plans = plan_interfaces(specs, efa_enabled, props.efa_interface_type)
    if subnets is not None:
        one_subnet = efa_enabled or placement.is_cluster
        subnet_rules(v, specs, plans, one_subnet, subnets, region)
    gpu_default_ami = not props.image_given and any(s.is_gpu for s in specs)
    root_volume_rule(v, props.root_volume_size_gib, gpu_default_ami)
    image_architecture_rule(
        v, "machine_image", props.image, architecture, any(s.is_gpu for s in specs)
    )
    if props.scratch_volume is not None:
        scratch_volume_rule(v, props.scratch_volume)
    security_group_rule(v, props.security_group_given, props.allow_all_outbound)
    heartbeat_timeout_rule(v, props.health_gate_timeout_seconds)
    imds_hop_limit_rule(v, props.imds_hop_limit)
    log_retention_rule(v, props.log_retention_days)
    if v.problems or architecture is None:
        return None
    return FleetPlan(
        specs=tuple(specs),
        architecture=architecture,
        capacity=props.capacity,
        efa_enabled=efa_enabled,
        efa_interface_type=plan_interface_type(props.efa_interface_type),
        interface_plans=plans,
        placement=placement,
        min_nodes=props.min_nodes,
        max_nodes=props.max_nodes,
        desired_nodes=props.desired_nodes,
        gpu_default_ami=gpu_default_ami,
        scratch_volume=props.scratch_volume,
        layouts=plan_layouts(specs, plans, efa_enabled),
        warn_efa_disabled=efa_disabled(props.efa, any(s.efa_supported for s in specs)),
        warn_mixed_types=placement.is_cluster and len(specs) > 1,
        health_gate=props.health_gate,
        health_gate_timeout_seconds=props.health_gate_timeout_seconds,
        imds_hop_limit=props.imds_hop_limit,
        image=props.image,
    )


def plan_interface_type(value: str) -> EfaInterfaceType:
    return "efa" if value == "efa" else "efa-only"


def fleet_boot_plan(
    plan: FleetPlan,
    spec: InstanceSpec,
    mounts: Sequence[MountStep] = (),
    telemetry: TelemetryStep | None = None,
) -> BootPlan:
    """What a fleet node of type ``spec`` does at every boot: the EFA check (and install
    unless the image ships the software), the instance store, the scratch volume, the file
    systems; then the launch lifecycle hook (unless ``health_gate=False``)."""
    vol = plan.scratch_volume
    scratch = (
        None
        if vol is None
        else ScratchStep(
            vol.device_name,
            vol.mount_point,
            f"EBS scratch volume ({vol.volume_type}, {vol.size_gib} GiB)",
        )
    )
    return BootPlan(
        launcher="EfaComputeFleet",
        instance_type=spec.instance_type,
        efa_devices=len(efa_device_paths(spec)) if plan.efa_enabled else 0,
        install_efa=plan.install_efa,
        instance_store_disks=spec.nvme_disk_count,
        scratch=scratch,
        mounts=tuple(mounts),
        gate=gate_for("lifecycle-hook", plan.health_gate),
        telemetry=telemetry,
        image=plan.image,
    )


# --- the construct: renders the plan ------------------------------------------------------


class EfaComputeFleet(NodeLauncher):
    """An Auto Scaling group of CPU or GPU instances for tightly coupled MPI / NCCL work.

    Every node gets one EFA interface per EFA-capable network card (the catalog's layout:
    32 on p5.48xlarge, 2 on hpc7a.96xlarge, 1 on c5n.18xlarge), all in the one subnet of
    ``vpc_subnets``, in one cluster placement group, behind a security group that allows all
    traffic to and from itself. IMDSv2 is required (hop limit 1), detailed monitoring is on,
    root and scratch volumes are encrypted, and no node gets a public IP.

    Every boot runs the node set-up (:mod:`hpc_constructs.boot`, installed as
    ``hpc-node-setup.service``): EFA devices and provider, the instance store striped at
    ``/scratch/local`` (re-created after a stop/start), the scratch volume, the file systems.
    A launch lifecycle hook keeps each new node out of service until the set-up and the user
    commands succeed (CONTINUE); a node that fails is abandoned and replaced, and a node whose
    set-up fails on a later boot marks itself Unhealthy.

    The fleet is ``ec2.IConnectable`` and ``iam.IGrantable``: ``bucket.grant_read(fleet)``,
    ``fleet.connections.allow_from(other, port)``, ``LustreScratch.allow_clients(fleet)``.

    :param vpc: the VPC.
    :param vpc_subnets: where nodes launch: an ``ec2.SubnetSelection``, one ``ec2.ISubnet`` or
        a list of them. With EFA or a cluster placement group this must resolve to exactly
        one subnet (EFA traffic cannot cross subnets or AZs; an Auto Scaling group cannot
        combine a cluster placement group with several AZs).
    :param instance_types: one or more catalog instance types of one architecture; listed
        first is preferred (On-Demand ``prioritized`` order).
    :param max_nodes: the most nodes (the group's ``MaxSize``). Counts may be tokens (a
        ``CfnParameter``): CloudFormation then enforces the parameter's MinValue/MaxValue
        instead of the library's count rules.
    :param min_nodes: the fewest nodes (``MinSize``). Default: - 0.
    :param desired_nodes: Default: - none (the group starts at ``min_nodes``; set it from
        your scheduler).
    :param capacity: Default: - ``FleetCapacity.on_demand()``.
    :param efa: Default: - on when every type supports EFA; ``False`` on an EFA type warns
        ``hpc-constructs:efaDisabled``.
    :param efa_interface_type: type of the non-primary EFA interfaces, ``"efa-only"`` (no IP
        address) or ``"efa"`` (EFA with ENA). Default: - ``"efa-only"``.
    :param placement_group: bring your own placement group. Default: - a new cluster
        placement group for EFA fleets; none for Capacity Blocks (AWS places the block), for
        non-EFA fleets, and for Capacity Reservations (pass the group the reservation was
        created in; without it the fleet warns ``hpc-constructs:reservationWithoutPlacementGroup``).
    :param placement: ``False`` launches without a placement group, ``True`` asks for a new
        cluster placement group on a non-EFA fleet. Default: - ``None`` (see
        ``placement_group``).
    :param file_systems: FSx for Lustre or EFS file systems mounted on every node at boot: a
        list (Lustre at ``/fsx``, EFS at ``/shared``, numbered after the first), a mapping of
        mount point to file system, or :class:`~hpc_constructs.nodes.SharedFileSystem` s.
        Default: - none (see ``add_file_system``).
    :param machine_image: Default: - the latest Amazon Linux 2023 for the architecture (public
        SSM parameter, resolved at deploy time) with the EFA software installed at boot; for
        GPU types the Deep Learning Base OSS Nvidia Driver GPU AMI (Amazon Linux 2023), which
        ships it. EFA is verified at boot either way.
    :param user_data: commands (or an ``ec2.UserData``) run after the fleet's own boot steps.
        Default: - none (see ``add_user_data``).
    :param role: the nodes' role. Default: - a new role with ``AmazonSSMManagedInstanceCore``.
    :param key_pair: Default: - none (connect with Session Manager).
    :param security_group: bring your own group; the EFA self rules are added to it.
        Default: - a new group allowing all traffic to and from itself plus HTTPS egress.
    :param allow_all_outbound: only with the default group. Default: - ``False``.
    :param root_volume_size_gib: encrypted gp3 root volume. Default: - 100.
    :param root_device_name: Default: - ``/dev/xvda`` (Amazon Linux 2023 and the DLAMI).
    :param scratch_volume: Default: - none.
    :param interruption_target: where Spot interruption warnings and rebalance
        recommendations go. Default: - the fleet's notification topic (Spot fleets only).
    :param notification_topic: scaling notifications. Default: - a new SNS topic encrypted
        with a new KMS key (rotation on), TLS-only.
    :param update_policy: Default: - none: a deploy never replaces running nodes; new
        launch-template versions apply to nodes launched afterwards (run an instance refresh
        between jobs).
    :param termination_policies: Default: - ``OLDEST_LAUNCH_TEMPLATE`` then
        ``NEWEST_INSTANCE``: scale-in first removes nodes on an outdated configuration, then
        the newest nodes, which are the least likely to be running long jobs.
    :param health_gate: keep new nodes out of service until their boot checks pass (a launch
        lifecycle hook). ``False``: no hook; a failed boot is only logged and the node stays
        in service. Default: - ``True``.
    :param health_gate_timeout: how long a node may take to boot before Auto Scaling
        abandons it (30 seconds to 2 hours). Default: - 30 minutes.
    :param imds_hop_limit: IMDSv2 PUT response hop limit (1-64). Raise it to 2 only when a
        container on a bridge network must read this node's instance metadata and role.
        Default: - 1.
    :param telemetry: the CloudWatch agent on every node: boot, cloud-init and system logs to
        ``log_group`` (KMS-encrypted), CPU, memory, disk, EFA and GPU metrics in
        ``HpcConstructs/Nodes`` by ``NodeGroup`` (this construct's path). Default: - ``True``.
    :param log_retention: a ``logs.RetentionDays`` or a number of days CloudWatch Logs
        accepts. Default: - 180 days.
    """

    @check_prop_types
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        vpc_subnets: SubnetsInput,
        instance_types: Sequence[str],
        max_nodes: int,
        min_nodes: int = 0,
        desired_nodes: int | None = None,
        capacity: FleetCapacity | None = None,
        efa: bool | None = None,
        efa_interface_type: EfaInterfaceType = DEFAULT_EFA_INTERFACE_TYPE,
        placement_group: ec2.IPlacementGroup | None = None,
        placement: bool | None = None,
        file_systems: Sequence[FileSystemInput] | Mapping[str, FileSystemInput] | None = None,
        machine_image: ec2.IMachineImage | None = None,
        user_data: UserDataInput | None = None,
        role: iam.IRole | None = None,
        key_pair: ec2.IKeyPair | None = None,
        security_group: ec2.ISecurityGroup | None = None,
        allow_all_outbound: bool | None = None,
        root_volume_size_gib: int = 100,
        root_device_name: str = "/dev/xvda",
        scratch_volume: ScratchVolume | None = None,
        interruption_target: events.IRuleTarget | None = None,
        notification_topic: sns.ITopic | None = None,
        update_policy: autoscaling.UpdatePolicy | None = None,
        termination_policies: Sequence[autoscaling.TerminationPolicy] | None = None,
        health_gate: bool = True,
        health_gate_timeout: cdk.Duration | None = None,
        imds_hop_limit: int = DEFAULT_IMDS_HOP_LIMIT,
        telemetry: bool = True,
        log_retention: LogRetention = DEFAULT_LOG_RETENTION,
    ) -> None:
        super().__init__(scope, id)
        v = Validator(self)
        selection = as_subnet_selection(v, "vpc_subnets", vpc_subnets)
        selected = select_subnets(vpc, selection) if selection is not None else None
        self._user_commands: list[str] = user_data_commands(v, "user_data", user_data)
        shared = resolve_file_systems(v, "file_systems", file_systems)
        check_mount_points(v, "file_systems", shared)
        group_given, group_strategy, group_label = placement_group_facts(placement_group)
        props = FleetProps(
            instance_types=tuple(instance_types), max_nodes=max_nodes, min_nodes=min_nodes,
            desired_nodes=desired_nodes,
            capacity=capacity if capacity is not None else FleetCapacity.on_demand(),
            efa=efa, efa_interface_type=efa_interface_type, placement=placement,
            group_given=group_given, group_strategy=group_strategy, group_label=group_label,
            image_given=machine_image is not None, image=image_facts_of(machine_image),
            root_volume_size_gib=root_volume_size_gib, scratch_volume=scratch_volume,
            security_group_given=security_group is not None, allow_all_outbound=allow_all_outbound,
            health_gate=health_gate, health_gate_timeout_seconds=_seconds(health_gate_timeout),
            imds_hop_limit=imds_hop_limit,
            log_retention_days=log_retention if isinstance(log_retention, int) else None,
        )  # fmt: skip
        facts = subnet_facts(selected) if selected is not None else None
        plan = v.checked(plan_fleet(v, props, region=stack_region(self), subnets=facts))
        selection = v.checked(selection)
        self._render_facts(plan, selected)
        self._render_network(vpc, security_group, allow_all_outbound, role, placement_group)
        self._render_telemetry(telemetry, log_retention)
        self._render_image(machine_image)
        self._render_launch_templates(root_volume_size_gib, root_device_name, key_pair)
        self._render_notifications(notification_topic)
        self._render_group(vpc, selection, update_policy, termination_policies)
        self._render_health_gate()
        self._render_interruption_rules(interruption_target)
        for item in shared:
            self._attach_file_system(item)

    # --- rendering ------------------------------------------------------------------------

    def _render_facts(self, plan: FleetPlan, selected: ec2.SelectedSubnets | None) -> None:
        #: The fleet's plan: every decision of its rules, as plain values.
        self.plan = plan
        self.instance_specs: tuple[InstanceSpec, ...] = plan.specs
        self.capacity = plan.capacity
        self.efa_enabled: bool = plan.efa_enabled
        self.efa_interface_type: EfaInterfaceType = plan.efa_interface_type
        self.interface_plans: dict[str, tuple[EfaInterface, ...]] = dict(plan.interface_plans)
        self.interface_plan: tuple[EfaInterface, ...] = plan.interface_plans[plan.instance_types[0]]
        self.efa_interface_count: int = (
            min(s.max_efa_interfaces for s in plan.specs) if plan.efa_enabled else 0
        )
        self.network_gbps: float = min(s.network_gbps for s in plan.specs)
        self.architecture: str = plan.architecture
        self.min_nodes: int = plan.min_nodes
        self.max_nodes: int = plan.max_nodes
        self.desired_nodes: int | None = plan.desired_nodes
        subnets = list(selected.subnets) if selected is not None else []
        self.subnet: ec2.ISubnet | None = subnets[0] if len(subnets) == 1 else None
        self.file_systems: list[SharedFileSystem] = []
        self._mounts: list[MountStep] = []
        warn_launcher(
            self,
            efa_disabled=plan.warn_efa_disabled,
            mixed_types=len(plan.specs) if plan.warn_mixed_types else 0,
            reservation_without_group=plan.placement.reservation_without_group,
        )

    def _render_network(
        self,
        vpc: ec2.IVpc,
        security_group: ec2.ISecurityGroup | None,
        allow_all_outbound: bool | None,
        role: iam.IRole | None,
        placement_group: ec2.IPlacementGroup | None,
    ) -> None:
        if security_group is None:
            self.security_group: ec2.ISecurityGroup = create_efa_security_group(
                self,
                "SecurityGroup",
                vpc=vpc,
                description=f"EFA fleet {self.node.path}: all traffic within the group",
                allow_all_outbound=bool(allow_all_outbound),
            )
        else:
            self.security_group = security_group
            security_group.connections.allow_internally(
                ec2.Port.all_traffic(), "EFA: all traffic within the group"
            )
        self._node_connections = self.security_group.connections
        self._node_role = (
            role
            if role is not None
            else ssm_node_role(self, "Role", description=f"Nodes of {self.node.path}")
        )
        self.placement_group: ec2.IPlacementGroup | None = placement_group
        if self.plan.placement.create_group:
            self.placement_group = ec2.PlacementGroup(
                self, "PlacementGroup", strategy=ec2.PlacementGroupStrategy.CLUSTER
            )

    def _render_telemetry(self, telemetry: bool, log_retention: LogRetention) -> None:
        #: The nodes' log group (boot, cloud-init and system logs); None without telemetry.
        self.log_group: logs.LogGroup | None = (
            render_node_telemetry(self, self.role, retention=log_retention) if telemetry else None
        )

    def _render_image(self, machine_image: ec2.IMachineImage | None) -> None:
        arm = self.architecture == "arm64"
        if machine_image is not None:
            self.machine_image: ec2.IMachineImage = machine_image
        elif self.plan.gpu_default_ami:
            self.machine_image = ec2.MachineImage.from_ssm_parameter(
                GPU_AMI_PARAMETER.format(arch="arm64" if arm else "x86_64"),
                os=ec2.OperatingSystemType.LINUX,
            )
        else:
            self.machine_image = ec2.MachineImage.latest_amazon_linux2023(
                cpu_type=ec2.AmazonLinuxCpuType.ARM_64 if arm else ec2.AmazonLinuxCpuType.X86_64
            )

    def _render_launch_templates(
        self, root_volume_size_gib: int, root_device_name: str, key_pair: ec2.IKeyPair | None
    ) -> None:
        """One launch template per layout (:func:`plan_layouts`); the other types reference
        theirs from the mixed instances policy."""
        scratch = self._scratch_devices()
        self.launch_templates: dict[str, ec2.LaunchTemplate] = {}
        for layout in self.plan.layouts:
            boot = ec2.UserData.custom(lazy_text(functools.partial(self._boot_script, layout.spec)))
            template = efa_launch_template(
                self,
                layout.construct_id,
                root_volume_size_gib=root_volume_size_gib,
                root_device_name=root_device_name,
                extra_block_devices=scratch,
                capacity=self.capacity,
                interfaces=launch_template_interfaces(
                    self.interface_plans[layout.spec.instance_type], [self.security_group]
                ),
                instance_type=ec2.InstanceType(layout.spec.instance_type),
                machine_image=self.machine_image,
                user_data=boot,
                role=self.role,
                key_pair=key_pair,
                placement_group=self.placement_group,
                detailed_monitoring=True,
                imds_hop_limit=self.plan.imds_hop_limit,
            )
            for instance_type in layout.instance_types:
                self.launch_templates[instance_type] = template
        self.launch_template: ec2.LaunchTemplate = self.launch_templates[
            self.plan.instance_types[0]
        ]

    def _scratch_devices(self) -> list[ec2.BlockDevice]:
        vol = self.plan.scratch_volume
        if vol is None:
            return []
        return [
            ec2.BlockDevice(
                device_name=vol.device_name,
                volume=ec2.BlockDeviceVolume.ebs(
                    vol.size_gib,
                    encrypted=True,
                    delete_on_termination=True,
                    volume_type=ec2.EbsDeviceVolumeType.IO2
                    if vol.volume_type == "io2"
                    else ec2.EbsDeviceVolumeType.GP3,
                    iops=vol.iops,
                    throughput=vol.throughput_mibps,
                ),
            )
        ]

    def _render_notifications(self, notification_topic: sns.ITopic | None) -> None:
        self.notification_key: kms.Key | None = None
        if notification_topic is None:
            self.notification_key = _notification_key(self)
            notification_topic = sns.Topic(
                self, "NotificationTopic", master_key=self.notification_key, enforce_ssl=True
            )
        self.notification_topic: sns.ITopic = notification_topic

    def _mixed_instances_policy(self) -> autoscaling.MixedInstancesPolicy | None:
        capacity = self.capacity
        if not self.plan.mixed_instances:
            return None
        if capacity.is_spot:
            distribution = autoscaling.InstancesDistribution(
                on_demand_base_capacity=0,
                on_demand_percentage_above_base_capacity=0,
                spot_allocation_strategy=capacity.spot_allocation_strategy,
                spot_max_price=capacity.spot_max_price,
            )
        else:
            distribution = autoscaling.InstancesDistribution(
                on_demand_base_capacity=0,
                on_demand_percentage_above_base_capacity=100,
                on_demand_allocation_strategy=autoscaling.OnDemandAllocationStrategy.PRIORITIZED,
            )
        return autoscaling.MixedInstancesPolicy(
            launch_template=self.launch_template,
            instances_distribution=distribution,
            launch_template_overrides=[
                autoscaling.LaunchTemplateOverrides(
                    instance_type=ec2.InstanceType(t),
                    launch_template=None
                    if self.launch_templates[t] is self.launch_template
                    else self.launch_templates[t],
                )
                for t in self.plan.instance_types
            ],
        )

    def _render_group(
        self,
        vpc: ec2.IVpc,
        selection: ec2.SubnetSelection,
        update_policy: autoscaling.UpdatePolicy | None,
        termination_policies: Sequence[autoscaling.TerminationPolicy] | None,
    ) -> None:
        mixed = self._mixed_instances_policy()
        capacity = self.capacity
        self.auto_scaling_group = autoscaling.AutoScalingGroup(
            self,
            "AutoScalingGroup",
            vpc=vpc,
            vpc_subnets=selection,
            launch_template=None if mixed is not None else self.launch_template,
            mixed_instances_policy=mixed,
            min_capacity=self.min_nodes,
            max_capacity=self.max_nodes,
            desired_capacity=self.desired_nodes,
            capacity_rebalance=capacity.capacity_rebalance if capacity.is_spot else None,
            health_checks=autoscaling.HealthChecks.ec2(grace_period=cdk.Duration.minutes(10)),
            update_policy=update_policy,
            termination_policies=list(termination_policies)
            if termination_policies is not None
            else [
                autoscaling.TerminationPolicy.OLDEST_LAUNCH_TEMPLATE,
                autoscaling.TerminationPolicy.NEWEST_INSTANCE,
            ],
            group_metrics=[autoscaling.GroupMetrics.all()],
            notifications=[autoscaling.NotificationConfiguration(topic=self.notification_topic)],
        )
        if mixed is not None:
            cdk.Validations.of(self.cfn_auto_scaling_group).acknowledge(
                cdk.Acknowledgment(
                    id="AwsSolutions-EC26",
                    reason="cdk-nag 3's EC26 reads only the group's LaunchTemplate property and "
                    "fails on a MixedInstancesPolicy; every launch template of this fleet "
                    "encrypts all of its EBS volumes (root and scratch, Encrypted: true).",
                )
            )
        cdk.Tags.of(self).add(FLEET_TAG, self.node.path)

    def _render_health_gate(self) -> None:
        """The launch lifecycle hook that keeps a node out of service until its boot checks
        pass, and the node's permission to end it (or mark itself Unhealthy later)."""
        self.lifecycle_hook_name: str | None = None
        if not self.plan.health_gate:
            return
        self.lifecycle_hook_name = LIFECYCLE_HOOK_NAME
        # L1: the L2's add_lifecycle_hook() makes a separate AWS::AutoScaling::LifecycleHook,
        # which does not exist yet for the nodes the group launches when it is created.
        self.cfn_auto_scaling_group.lifecycle_hook_specification_list = [
            autoscaling.CfnAutoScalingGroup.LifecycleHookSpecificationProperty(
                lifecycle_hook_name=LIFECYCLE_HOOK_NAME,
                lifecycle_transition="autoscaling:EC2_INSTANCE_LAUNCHING",
                heartbeat_timeout=self.plan.health_gate_timeout_seconds,
                default_result="ABANDON",
            )
        ]
        # The node finds its group by describing itself (no reference from the user data to
        # the group: the group depends on the launch template); the group is named by its
        # tag, so the role needs no reference to it either.
        policy = iam.Policy(
            self,
            "HealthGatePolicy",
            statements=[
                iam.PolicyStatement(
                    actions=["autoscaling:DescribeAutoScalingInstances"], resources=["*"]
                ),
                iam.PolicyStatement(
                    actions=[
                        "autoscaling:CompleteLifecycleAction",
                        "autoscaling:SetInstanceHealth",
                    ],
                    resources=["*"],
                    conditions={
                        "StringEquals": {f"autoscaling:ResourceTag/{FLEET_TAG}": self.node.path}
                    },
                ),
            ],
        )
        policy.attach_to_role(self.role)
        cdk.Validations.of(policy).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions-IAM5[Resource::*]",
                reason="Health gate: DescribeAutoScalingInstances has no resource-level "
                "permissions (Service Authorization Reference); CompleteLifecycleAction and "
                "SetInstanceHealth are limited by an autoscaling:ResourceTag condition to "
                "this fleet's own group (the EC2 Auto Scaling guide's 'Tags for security' "
                "pattern), which the role cannot name without a circular reference.",
            )
        )

    def _render_interruption_rules(self, interruption_target: events.IRuleTarget | None) -> None:
        self.interruption_rules: list[events.Rule] = []
        if not self.capacity.is_spot:
            return
        target = interruption_target or targets.SnsTopic(self.notification_topic)
        for rule_id, detail_type in (
            ("SpotInterruptionRule", "EC2 Spot Instance Interruption Warning"),
            ("RebalanceRecommendationRule", "EC2 Instance Rebalance Recommendation"),
        ):
            self.interruption_rules.append(
                events.Rule(
                    self,
                    rule_id,
                    description=f"{detail_type} (for {self.node.path})",
                    event_pattern=events.EventPattern(
                        source=["aws.ec2"], detail_type=[detail_type]
                    ),
                    targets=[target],
                )
            )

    # --- attributes -------------------------------------------------------------------------

    @property
    def cfn_auto_scaling_group(self) -> autoscaling.CfnAutoScalingGroup:
        """The L1 escape hatch of the Auto Scaling group."""
        child = self.auto_scaling_group.node.default_child
        assert isinstance(child, autoscaling.CfnAutoScalingGroup)
        return child

    @property
    def min_capacity(self) -> int:
        """Deprecated alias of ``min_nodes`` (read-only)."""
        return self.min_nodes

    @property
    def max_capacity(self) -> int:
        """Deprecated alias of ``max_nodes`` (read-only)."""
        return self.max_nodes

    @property
    def desired_capacity(self) -> int | None:
        """Deprecated alias of ``desired_nodes`` (read-only)."""
        return self.desired_nodes

    # --- user data and file systems ---------------------------------------------------------

    @check_prop_types
    def add_user_data(self, *commands: str) -> None:
        """Append shell commands to every node's boot script (after the fleet's own steps)."""
        v = Validator(self)
        lines = user_data_commands(v, "commands", list(commands))
        v.raise_if_any()
        self._user_commands.extend(lines)

    @check_prop_types
    def add_file_system(
        self, file_system: FileSystemInput, *, mount_point: str | None = None
    ) -> SharedFileSystem:
        """Mount an FSx for Lustre or EFS file system on every node (``mount_point``; Default:
        - ``/fsx`` for Lustre, ``/shared`` for EFS, numbered after the first).

        Opens exactly the client ports (Lustre TCP 988 and 1018-1023 both ways, EFS NFS 2049
        from the nodes), makes the group wait for EFS mount targets and adds the client
        install and mount to the boot script, before any user commands.
        """
        v = Validator(self)
        item = resolve_added_file_system(v, file_system, mount_point, self.file_systems)
        v.raise_if_any()
        assert item is not None  # raise_if_any() raised otherwise
        self._attach_file_system(item)
        return item

    @check_prop_types
    def add_lustre_mount(self, file_system: LustreFileSystemLike, mount_point: str) -> None:
        """Alias of ``add_file_system(file_system, mount_point=mount_point)``."""
        self.add_file_system(file_system, mount_point=mount_point)

    def _attach_file_system(self, item: SharedFileSystem) -> None:
        allow_file_system_clients(item, self.connections)
        self._mounts.append(mount_step(item))
        self.file_systems.append(item)
        for dependable in mount_dependables(item):
            self.auto_scaling_group.node.add_dependency(dependable)

    def _telemetry_step(self, spec: InstanceSpec) -> TelemetryStep | None:
        if self.log_group is None:
            return None
        return telemetry_step(self.log_group, self.node.path, efa=self.efa_enabled, gpu=spec.is_gpu)

    def _boot_script(self, spec: InstanceSpec) -> str:
        plan = fleet_boot_plan(self.plan, spec, self._mounts, self._telemetry_step(spec))
        return "\n".join(["#!/bin/bash", *user_data_script(plan, self._user_commands)]) + "\n"

    @property
    def boot_plans(self) -> dict[str, BootPlan]:
        """The boot plan of each launch template's first instance type (read at synth time,
        after every ``add_file_system``)."""
        return {
            layout.spec.instance_type: fleet_boot_plan(
                self.plan, layout.spec, self._mounts, self._telemetry_step(layout.spec)
            )
            for layout in self.plan.layouts
        }


def _seconds(duration: cdk.Duration | None) -> int:
    if duration is None:
        return DEFAULT_HEARTBEAT_TIMEOUT_SECONDS
    return int(duration.to_seconds())


def _notification_key(scope: Construct) -> kms.Key:
    """The key of the default notification topic. EventBridge and the Auto Scaling
    service-linked role publish to the topic and need it; the role is named in a condition,
    not as a principal, because a key policy may not name a role that does not exist yet."""
    stack = cdk.Stack.of(scope)
    topic_key = kms.Key(
        scope,
        "NotificationKey",
        description=f"Encrypts the notification topic of {scope.node.path}",
        enable_key_rotation=True,
    )
    topic_key.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal("events.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"],
            conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
        )
    )
    topic_key.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.AnyPrincipal()],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"],
            conditions={
                "ArnEquals": {
                    "aws:PrincipalArn": stack.format_arn(
                        service="iam",
                        region="",
                        resource="role",
                        resource_name="aws-service-role/autoscaling.amazonaws.com/"
                        "AWSServiceRoleForAutoScaling",
                    )
                },
                "StringEquals": {"kms:CallerAccount": stack.account},
            },
        )
    )
    return topic_key


def scratch_volume_rule(v: Validator, vol: ScratchVolume) -> None:
    """The EBS limits of the scratch volume's type, its mount point and device name."""
    if v.one_of("scratch_volume.volume_type", vol.volume_type, ("io2", "gp3")):
        if vol.volume_type == "io2":
            _io2_rule(v, vol)
        else:
            _gp3_rule(v, vol)
    v.require(
        bool(_ABSOLUTE_PATH.match(vol.mount_point)),
        "scratch_volume.mount_point",
        vol.mount_point,
        "an absolute path such as /scratch/ebs",
    )
    v.require(
        vol.mount_point != INSTANCE_STORE_MOUNT_POINT,
        "scratch_volume.mount_point",
        vol.mount_point,
        f"a path other than {INSTANCE_STORE_MOUNT_POINT} (the instance store's)",
    )
    v.require(
        bool(_DEVICE_NAME.match(vol.device_name)),
        "scratch_volume.device_name",
        vol.device_name,
        "/dev/sdf to /dev/sdp (or /dev/xvdf to /dev/xvdp)",
    )


def _io2_rule(v: Validator, vol: ScratchVolume) -> None:
    v.in_range("scratch_volume.size_gib", vol.size_gib, *limits.EBS_IO2_SIZE_GIB, "GiB")
    if vol.iops is None:
        v.add("scratch_volume.iops", None, "100 to 256000 for io2 (required)")
    else:
        v.in_range("scratch_volume.iops", vol.iops, *limits.EBS_IO2_IOPS)
        most = vol.size_gib * limits.EBS_IO2_MAX_IOPS_PER_GIB
        v.require(
            vol.iops <= most,
            "scratch_volume.iops",
            vol.iops,
            f"at most {most} for {vol.size_gib} GiB of io2 "
            f"({limits.EBS_IO2_MAX_IOPS_PER_GIB} IOPS per GiB)",
        )
    v.require(
        vol.throughput_mibps is None,
        "scratch_volume.throughput_mibps",
        vol.throughput_mibps,
        "unset for io2 (throughput is provisioned for gp3 only)",
    )


def _gp3_rule(v: Validator, vol: ScratchVolume) -> None:
    v.in_range("scratch_volume.size_gib", vol.size_gib, *limits.EBS_GP3_SIZE_GIB, "GiB")
    v.in_range("scratch_volume.iops", vol.iops, *limits.EBS_GP3_IOPS)
    v.in_range(
        "scratch_volume.throughput_mibps",
        vol.throughput_mibps,
        *limits.EBS_GP3_THROUGHPUT_MIBPS,
        "MiB/s",
    )
    iops = vol.iops if vol.iops is not None else limits.EBS_GP3_IOPS[0]
    if vol.iops is not None and vol.iops > limits.EBS_GP3_IOPS[0]:
        most_iops = max(limits.EBS_GP3_IOPS[0], vol.size_gib * limits.EBS_GP3_MAX_IOPS_PER_GIB)
        v.require(
            vol.iops <= most_iops,
            "scratch_volume.iops",
            vol.iops,
            f"at most {most_iops} for {vol.size_gib} GiB of gp3 "
            f"({limits.EBS_GP3_MAX_IOPS_PER_GIB} IOPS per GiB above the 3000 baseline)",
        )
    if vol.throughput_mibps is not None:
        max_mibps = iops * limits.EBS_GP3_MAX_MIBPS_PER_IOPS
        v.require(
            vol.throughput_mibps <= max_mibps,
            "scratch_volume.throughput_mibps",
            vol.throughput_mibps,
            f"at most {max_mibps:g} MiB/s at {iops:g} IOPS "
            f"({limits.EBS_GP3_MAX_MIBPS_PER_IOPS} MiB/s per IOPS)",
        )


__all__ = [
    "EfaComputeFleet",
    "FleetPlan",
    "FleetProps",
    "LaunchTemplateLayout",
    "ScratchVolume",
    "fleet_boot_plan",
    "plan_fleet",
]
