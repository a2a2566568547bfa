"""AWS Batch multi-node parallel (MNP) jobs on EFA instances: one compute environment on an EFA
launch template in a cluster placement group, a job queue, and job definitions whose containers
get every EFA device, unlimited locked memory and the shared file systems (Lustre and EFS).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_batch as batch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from hpc_constructs import limits
from hpc_constructs.boot import (
    DEFAULT_IMDS_HOP_LIMIT,
    INSTANCE_STORE_MOUNT_POINT,
    BootPlan,
    MountStep,
    gate_for,
    imds_hop_limit_rule,
    log_retention_rule,
    user_data_script,
)
from hpc_constructs.boot.plan import ImageFacts, TelemetryStep
from hpc_constructs.capacity import FleetCapacity
from hpc_constructs.catalog import InstanceSpec, efa_device_paths, plan_efa_interfaces
from hpc_constructs.compute import (
    SubnetFacts,
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
from hpc_constructs.errors import Validator, check_prop_types, nag_text, needs_concrete_value
from hpc_constructs.image.construct import image_facts_of
from hpc_constructs.image.plan import image_architecture_rule
from hpc_constructs.node_telemetry import (
    DEFAULT_LOG_RETENTION,
    LogRetention,
    render_node_telemetry,
    telemetry_step,
)
from hpc_constructs.nodes import (
    DEFAULT_LUSTRE_MOUNT_POINT,
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
    stack_region,
    user_data_commands,
    warn_launcher,
)

#: Where a single Lustre file system (or the first of a sequence) is mounted on the hosts and in
#: the containers; the n-th Lustre file system of a sequence (n >= 2) goes to ``/fsx<n>``.
DEFAULT_MOUNT_POINT = DEFAULT_LUSTRE_MOUNT_POINT

#: Memory held back from a job's default size for the kernel, the OS and the ECS agent. ECS
#: registers less memory than the instance's nominal size (AWS Batch User Guide, "Compute
#: resource memory management": an m4.large with 8 GiB registers 7985 MiB), and a job asking
#: for more than the registered memory never leaves RUNNABLE. 5%, at least 512 MiB.
MEMORY_RESERVE_FRACTION = 0.05
MEMORY_RESERVE_MIN_MIB = 512

#: Default ``/dev/shm`` size as a fraction of the container memory (NCCL and MPI use shared
#: memory for intra-node transfers; Docker's default is 64 MiB).
SHARED_MEMORY_FRACTION = 0.5

#: Instance families with NVIDIA GPUs whose EFA supports GPUDirect RDMA (RDMA read), where
#: libfabric may move data straight from GPU memory: EC2 User Guide, "Elastic Fabric Adapter"
#: supported instance types (RDMA read column). ``FI_EFA_USE_DEVICE_RDMA=1`` is only set for
#: these; setting it on other GPU types (g5, g6) makes libfabric fail.
GPUDIRECT_RDMA_FAMILIES = frozenset(
    {"p4d", "p4de", "p5", "p5e", "p5en", "p6-b200", "p6-b300", "p6e-gb200"}
)

#: Batch's rule, quoted in errors: AWS Batch User Guide, "Compute environments for multi-node
#: parallel jobs".
_SPOT_REASON = (
    "AWS Batch does not run multi-node parallel jobs on Spot: 'Multi-node parallel jobs aren't "
    "supported on compute environments that use Spot Instances' (AWS Batch User Guide)"
)
_ONE_SUBNET_REASON = (
    "EFA traffic and cluster placement groups stay in one subnet / Availability Zone"
)
#: The most nodes of one compute environment this construct accepts.
MAX_NODES = 100_000

#: Commands that only work over EFA: a libfabric tool asked for the ``efa`` provider
#: (``fi_pingpong -p efa``, as in :meth:`BatchMultiNode.efa_pingpong_command`) or
#: ``FI_PROVIDER=efa``.
EFA_ONLY_COMMAND = re.compile(r"\bfi_\w+\b[^;&|]*\s-p\s*efa\b|\bFI_PROVIDER=efa\b")


# --- props and plan: plain values, no CDK objects ------------------------------------------


@dataclass(frozen=True)
class BatchProps:
    """The plain-valued props of a :class:`BatchMultiNode` that its rules read."""

    instance_type: str
    max_nodes: int
    min_nodes: int = 0
    efa: bool | None = None
    capacity: FleetCapacity = dataclasses.field(default_factory=FleetCapacity.on_demand)
    placement: bool | None = None
    group_given: bool = False
    group_strategy: str | None = None
    group_label: str | None = None
    root_volume_size_gib: int = 100
    job_queue_priority: int = 1
    install_efa_software: bool = True
    health_gate: bool = True
    imds_hop_limit: int = DEFAULT_IMDS_HOP_LIMIT
    #: A retention given as a number of days (None: a ``logs.RetentionDays`` member).
    log_retention_days: int | None = None
    #: The golden image's facts when ``machine_image`` is ``HpcImage.ecs_machine_image``.
    image: ImageFacts | None = None


@dataclass(frozen=True)
class BatchPlan:
    """Everything the rules of a :class:`BatchMultiNode` decided, as plain values."""

    spec: InstanceSpec
    capacity: FleetCapacity
    efa_enabled: bool
    placement: PlacementPlan
    min_nodes: int
    max_nodes: int
    warn_efa_disabled: bool
    install_efa_software: bool = True
    health_gate: bool = True
    imds_hop_limit: int = DEFAULT_IMDS_HOP_LIMIT
    #: The golden image the nodes run (they install nothing at boot), or None.
    image: ImageFacts | None = None

    @property
    def max_vcpus(self) -> int:
        return self.max_nodes * self.spec.vcpus

    @property
    def min_vcpus(self) -> int:
        return self.min_nodes * self.spec.vcpus


def batch_image_rule(v: Validator, image: ImageFacts | None, specs: Sequence[InstanceSpec]) -> None:
    """A golden image for Batch must carry the ECS agent (``ImageBase.ECS_OPTIMIZED``) and
    match the node type's architecture and GPU-ness."""
    if image is None or not specs:
        return
    v.require(
        image.ecs,
        "machine_image",
        image.name,
        "an HpcImage on ImageBase.ECS_OPTIMIZED (AWS Batch nodes need the ECS agent)",
    )
    image_architecture_rule(v, "machine_image", image, specs[0].architecture, specs[0].is_gpu)


def spot_rule(v: Validator, capacity: FleetCapacity) -> None:
    v.require(
        not capacity.is_spot,
        "capacity",
        "FleetCapacity.spot()",
        "on_demand(), capacity_reservation(...) or capacity_block(...)",
        _SPOT_REASON,
    )


def usage_class_rule(v: Validator, spec: InstanceSpec, capacity: FleetCapacity) -> None:
    v.require(
        capacity.usage_class in spec.usage_classes,
        "instance_type",
        spec.instance_type,
        f"a type sold as {capacity.usage_class}",
    )


def cluster_group_rule(v: Validator, strategy: str | None, label: str | None) -> None:
    """AWS Batch: all instances that use EFA must be in the same cluster placement group."""
    if strategy is None:
        return
    v.require(
        strategy == "cluster",
        "placement_group",
        f"{label} ({strategy.upper()})",
        "a CLUSTER placement group (AWS Batch: all instances that use EFA must be in "
        "the same cluster placement group)",
    )


def batch_subnet_rules(
    v: Validator, spec: InstanceSpec, efa_enabled: bool, subnets: SubnetFacts, region: str | None
) -> None:
    """One subnet always (a cluster group and EFA stay in one AZ), private subnets for EFA
    layouts, and the type offered in the region and the subnet's AZ."""
    single_subnet_rule(v, "vpc_subnets", subnets, _ONE_SUBNET_REASON)
    if efa_enabled:
        private_subnet_rule(v, "vpc_subnets", subnets, [spec.instance_type])
    offering_rule(v, region, "instance_type", [spec], subnets.subnets, "vpc_subnets")


def plan_batch(
    v: Validator,
    props: BatchProps,
    *,
    region: str | None = None,
    subnets: SubnetFacts | None = None,
) -> BatchPlan | None:
    """Apply every rule of :class:`BatchMultiNode` to plain values; None on a problem."""
    if not needs_concrete_value(v, "instance_type", props.instance_type):
        return None
    needs_concrete_value(v, "root_volume_size_gib", props.root_volume_size_gib)
    specs = lookup_specs(v, "instance_type", [props.instance_type])
    efa_enabled = resolve_efa(v, "efa", props.efa, specs)
    check_node_counts(v, props.min_nodes, props.max_nodes, most=MAX_NODES)
    spot_rule(v, props.capacity)
    cluster_group_rule(v, props.group_strategy, props.group_label)
    placement = plan_placement(
        v,
        capacity=props.capacity,
        efa_enabled=efa_enabled,
        group_given=props.group_given,
        group_strategy=props.group_strategy,
        group_label=props.group_label,
        placement=props.placement,
        default_on=True,
    )
    v.in_range("root_volume_size_gib", props.root_volume_size_gib, 30, 16_384, "GiB")
    v.in_range("job_queue_priority", props.job_queue_priority, 0, 1000)
    imds_hop_limit_rule(v, props.imds_hop_limit)
    log_retention_rule(v, props.log_retention_days)
    batch_image_rule(v, props.image, specs)
    if not specs:
        return None
    spec = specs[0]
    usage_class_rule(v, spec, props.capacity)
    if placement.create_group:
        check_placement(v, "instance_type", specs, "cluster")
    if subnets is not None:
        batch_subnet_rules(v, spec, efa_enabled, subnets, region)
    if v.problems:
        return None
    return BatchPlan(
        spec=spec,
        capacity=props.capacity,
        efa_enabled=efa_enabled,
        placement=placement,
        min_nodes=props.min_nodes,
        max_nodes=props.max_nodes,
        warn_efa_disabled=efa_disabled(props.efa, spec.efa_supported),
        install_efa_software=props.install_efa_software and props.image is None,
        health_gate=props.health_gate,
        imds_hop_limit=props.imds_hop_limit,
        image=props.image,
    )


def batch_boot_plan(
    plan: BatchPlan, mounts: Sequence[MountStep] = (), telemetry: TelemetryStep | None = None
) -> BootPlan:
    """What a Batch node does at every boot: the EFA check (and install), the file systems;
    the ECS agent waits for them (a drop-in on ``ecs.service``) and a node that fails them
    keeps the agent stopped and powers off (unless ``health_gate=False``)."""
    return BootPlan(
        launcher="BatchMultiNode",
        instance_type=plan.spec.instance_type,
        efa_devices=len(efa_device_paths(plan.spec)) if plan.efa_enabled else 0,
        install_efa=plan.install_efa_software,
        instance_store_disks=plan.spec.nvme_disk_count,
        mounts=tuple(mounts),
        gate=gate_for("ecs", plan.health_gate),
        required_by=("ecs",) if plan.health_gate else (),
        telemetry=telemetry,
        image=plan.image,
    )


def efa_only_command_rule(
    v: Validator,
    prop: str,
    command: Sequence[str] | None,
    environment: Mapping[str, str] | None,
    instance_type: str,
) -> None:
    """A job that needs EFA (``fi_pingpong -p efa``, ``FI_PROVIDER=efa``) on nodes without
    EFA can never run: refuse it when the job is added."""
    text = " ".join(command or ())
    if EFA_ONLY_COMMAND.search(text):
        v.add(
            f"{prop}command",
            list(command or ()),
            "a command that does not need EFA (or an instance type with EFA and efa not False)",
            reason=f"the command uses the EFA provider, and the nodes ({instance_type}) have "
            "no EFA",
        )
    if (environment or {}).get("FI_PROVIDER") == "efa":
        v.add(
            f"{prop}environment",
            {"FI_PROVIDER": "efa"},
            "no FI_PROVIDER=efa on nodes without EFA",
            reason=f"the nodes ({instance_type}) have no EFA",
        )


def volume_name(item: SharedFileSystem) -> str:
    """A Batch volume name (letters, digits, hyphens, underscores) for a mount point."""
    path = item.path
    return ("lustre" if item.is_lustre else "efs") + re.sub(r"[^A-Za-z0-9]+", "-", path).rstrip("-")


def volume_name_rule(v: Validator, prop: str, items: Sequence[SharedFileSystem]) -> None:
    """Batch volume names must differ within a container, and ``volume_name`` maps ``.``,
    ``_`` and ``-`` alike (``/data.x`` and ``/data_x`` would collide at deploy time)."""
    names = [volume_name(i) for i in items]
    clashing = sorted({i.mount_point or "" for i in items if names.count(volume_name(i)) > 1})
    v.require(
        not clashing,
        prop,
        clashing,
        "mount points whose Batch volume names differ (letters and digits; '.', '_' and '-' "
        "read alike)",
    )


def node_range_rule(v: Validator, num_nodes: int, main_node: int, targets: Sequence[str]) -> None:
    """Batch's node-range rules (the node count itself is checked against ``max_nodes``)."""
    for problem in limits.node_range_problems(max(num_nodes, 1), main_node, list(targets)):
        if problem.startswith("NumNodes"):
            continue  # reported with the construct's own limit
        if problem.startswith("MainNode"):
            v.add("main_node", main_node, f"0 to {num_nodes - 1} (below num_nodes)", problem)
        else:
            v.add(
                "node_ranges",
                list(targets),
                f"1 to {limits.BATCH_MAX_NODE_RANGES} ranges 'start:end' that together cover "
                f"nodes 0:{num_nodes - 1}",
                problem,
            )


def _merged(base: NodeRange, r: NodeRange) -> NodeRange:
    """A node range's values over the job's (``base``); environments are merged."""
    return NodeRange(
        r.start,
        r.end,
        image=r.image if r.image is not None else base.image,
        command=r.command if r.command is not None else base.command,
        environment={**(base.environment or {}), **(r.environment or {})},
        vcpus=r.vcpus if r.vcpus is not None else base.vcpus,
        memory=r.memory if r.memory is not None else base.memory,
        gpus=r.gpus if r.gpus is not None else base.gpus,
    )


def host_volume(item: SharedFileSystem) -> batch.EcsVolume:
    """The file system mounted on the host, passed to the container at the same path."""
    return batch.EcsVolume.host(
        name=volume_name(item), host_path=item.path, container_path=item.path, readonly=False
    )


def instance_store_volume() -> batch.EcsVolume:
    """The striped instance store the node set-up mounts at ``/scratch/local`` (mode 1777,
    re-created empty at every start), passed to the container at the same path."""
    path = INSTANCE_STORE_MOUNT_POINT
    return batch.EcsVolume.host(
        name="instance-store", host_path=path, container_path=path, readonly=False
    )


@dataclass(frozen=True)
class NodeRange:
    """One node group of a multi-node job: nodes ``start`` to ``end`` (inclusive) and what
    differs for them from the job's defaults (``None`` keeps the job's value).

    Ranges may nest (``0:7`` and ``0:0``): Batch applies the narrower one.
    """

    start: int
    end: int
    image: str | ecs.ContainerImage | None = None
    command: Sequence[str] | None = None
    environment: Mapping[str, str] | None = None
    vcpus: int | None = None
    memory: cdk.Size | None = None
    gpus: int | None = None

    @property
    def target_nodes(self) -> str:
        return f"{self.start}:{self.end}"


class BatchMultiNode(NodeLauncher):
    """AWS Batch multi-node parallel jobs with EFA, a cluster placement group and shared
    file systems (FSx for Lustre and EFS).

    Creates a managed EC2 compute environment (``compute_environment``) of one instance type on
    a launch template (``launch_template``) whose network interfaces are the instance type's EFA
    layout, a security group that allows all traffic to and from itself (``security_group``,
    ``connections``), a cluster placement group (``placement_group``) and a job queue
    (``job_queue``). ``add_job`` adds ``batch.MultiNodeJobDefinition`` s wired for EFA.

    The construct is ``ec2.IConnectable`` and ``iam.IGrantable`` (its ``role`` is the nodes'
    EC2 role): ``bucket.grant_read(mnp)``, ``mnp.connections.allow_from(other, port)``.

    :param vpc: the VPC to launch the nodes in.
    :param vpc_subnets: an ``ec2.SubnetSelection``, one ``ec2.ISubnet`` or a list of them;
        it must resolve to exactly one subnet: EFA traffic does not cross subnets or
        Availability Zones, and a cluster placement group lives in one zone.
    :param instance_type: the one instance type of every node (multi-node jobs use one type),
        looked up in the instance catalog.
    :param max_nodes: nodes the compute environment may run at once; its ``maxvCpus`` is
        ``max_nodes`` times the type's vCPUs. With BEST_FIT_PROGRESSIVE Batch may exceed
        ``maxvCpus`` by one instance.
    :param min_nodes: nodes kept running when idle (``minvCpus``). Default: - 0.
    :param efa: attach the instance type's EFA interfaces. Default: - on when the type supports
        EFA; True on a type without EFA is an error; False on an EFA type warns
        ``hpc-constructs:efaDisabled``.
    :param placement_group: the placement group of the nodes (a CLUSTER one). Default: - a new
        cluster placement group; none for a Capacity Block (AWS places it) or a Capacity
        Reservation (pass the group the reservation was created in; without it this warns
        ``hpc-constructs:reservationWithoutPlacementGroup``).
    :param placement: ``False`` launches without a placement group; ``True`` insists on a new
        one. Default: - ``None`` (see ``placement_group``).
    :param capacity: On-Demand, a Capacity Reservation or a Capacity Block (targeted through the
        launch template). Spot is an error. Default: - ``FleetCapacity.on_demand()``.
    :param file_systems: FSx for Lustre or EFS file systems mounted on every host at boot and
        passed to every container as host volumes at the same path: a list (Lustre at
        ``/fsx``, EFS at ``/shared``, numbered after the first), a mapping of mount point to
        file system, or :class:`~hpc_constructs.nodes.SharedFileSystem` s. Default: - none
        (see ``add_file_system``).
    :param machine_image: the ECS AMI of the nodes. Default: - ECS-optimized Amazon Linux 2023
        (``ECS_AL2023``), or its NVIDIA variant (``ECS_AL2023_NVIDIA``) for GPU types.
    :param user_data: commands (or an ``ec2.UserData``) run after the construct's own boot
        steps. Default: - none (see ``add_user_data``).
    :param install_efa_software: install the EFA software at boot when the AMI lacks it (the
        ECS-optimized AMIs do not ship it), then verify the devices either way.
        Default: - True.
    :param root_volume_size_gib: encrypted gp3 root volume, which also holds container images.
        Default: - 100.
    :param health_gate: keep a node whose boot set-up or ``add_user_data`` commands fail
        out of service: the ECS agent waits for the set-up (``ecs.service`` requires
        ``hpc-node-setup.service``) and a failed node masks it and powers off (the launch
        template terminates on shutdown), so Batch replaces it. ``False``: the failure is
        only logged. Default: - ``True``.
    :param imds_hop_limit: IMDSv2 PUT response hop limit (1-64). Jobs get their job role from
        the ECS agent, not from instance metadata, so 1 suffices. Default: - 1.
    :param telemetry: the CloudWatch agent on every node (logs to ``log_group``, node metrics
        in ``HpcConstructs/Nodes``; see ``EfaComputeFleet``). Default: - ``True``.
    :param log_retention: a ``logs.RetentionDays`` or a number of days CloudWatch Logs
        accepts. Default: - 180 days.
    :param security_group: the nodes' security group; with EFA, rules allowing all traffic to
        and from itself are added to it. Default: - a new group that has them (plus HTTPS
        egress).
    :param role: the nodes' EC2 role. Default: - a role with the
        AmazonEC2ContainerServiceforEC2Role managed policy (created by the Batch L2).
    :param job_queue_priority: priority of the job queue (higher runs first among queues that
        share compute environments). Default: - 1.
    """

    @check_prop_types
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        vpc_subnets: SubnetsInput,
        instance_type: str,
        max_nodes: int,
        min_nodes: int = 0,
        efa: bool | None = None,
        placement_group: ec2.IPlacementGroup | None = None,
        placement: bool | None = None,
        capacity: FleetCapacity | None = None,
        file_systems: Sequence[FileSystemInput] | Mapping[str, FileSystemInput] | None = None,
        machine_image: batch.EcsMachineImage | None = None,
        user_data: UserDataInput | None = None,
        install_efa_software: bool = True,
        root_volume_size_gib: int = 100,
        security_group: ec2.ISecurityGroup | None = None,
        role: iam.IRole | None = None,
        job_queue_priority: int = 1,
        health_gate: bool = True,
        imds_hop_limit: int = DEFAULT_IMDS_HOP_LIMIT,
        telemetry: bool = True,
        log_retention: LogRetention = DEFAULT_LOG_RETENTION,
    ) -> None:
        super().__init__(scope, id)
        v = Validator(self)
        selection = as_subnet_selection(v, "vpc_subnets", vpc_subnets)
        selected = select_subnets(vpc, selection) if selection is not None else None
        commands = user_data_commands(v, "user_data", user_data)
        shared = resolve_file_systems(v, "file_systems", file_systems)
        check_mount_points(v, "file_systems", shared)
        volume_name_rule(v, "file_systems", shared)
        group_given, group_strategy, group_label = placement_group_facts(placement_group)
        props = BatchProps(
            instance_type=instance_type,
            max_nodes=max_nodes,
            min_nodes=min_nodes,
            efa=efa,
            capacity=capacity if capacity is not None else FleetCapacity.on_demand(),
            placement=placement,
            group_given=group_given,
            group_strategy=group_strategy,
            group_label=group_label,
            root_volume_size_gib=root_volume_size_gib,
            job_queue_priority=job_queue_priority,
            install_efa_software=install_efa_software,
            health_gate=health_gate,
            imds_hop_limit=imds_hop_limit,
            log_retention_days=log_retention if isinstance(log_retention, int) else None,
            image=image_facts_of(machine_image),
        )
        facts = subnet_facts(selected) if selected is not None else None
        plan = plan_batch(v, props, region=stack_region(self), subnets=facts)
        v.raise_if_any()
        assert plan is not None  # raise_if_any() raised otherwise
        assert selection is not None
        self._render_facts(plan)
        self._render_network(vpc, security_group, placement_group, shared)
        self._render_launch_template(root_volume_size_gib)
        self._render_compute_environment(vpc, selection, machine_image, role)
        #: The nodes' log group (boot, cloud-init and system logs); None without telemetry.
        self.log_group: logs.LogGroup | None = (
            render_node_telemetry(self, self.role, retention=log_retention) if telemetry else None
        )
        self._render_queue(job_queue_priority)
        for item in shared:
            self._wait_for(item)
        self.add_user_data(*commands)

    # --- rendering --------------------------------------------------------------------------

    def _render_facts(self, plan: BatchPlan) -> None:
        #: Every decision of the construct's rules, as plain values.
        self.plan = plan
        #: The catalog facts of ``instance_type``.
        self.instance_spec = plan.spec
        self.instance_type = plan.spec.instance_type
        self.max_nodes = plan.max_nodes
        self.min_nodes = plan.min_nodes
        self.capacity = plan.capacity
        #: Whether the nodes get EFA interfaces (resolved default).
        self.efa_enabled = plan.efa_enabled
        #: Compute environment vCPU bounds (resolved from the node counts).
        self.max_vcpus = plan.max_vcpus
        self.min_vcpus = plan.min_vcpus
        #: Job definitions added with ``add_job``, in order.
        self.jobs: list[batch.MultiNodeJobDefinition] = []
        self._containers: list[batch.EcsEc2ContainerDefinition] = []
        self._execution_role: iam.Role | None = None
        self._submitters: list[iam.IGrantable] = []
        warn_launcher(
            self,
            efa_disabled=plan.warn_efa_disabled,
            mixed_types=1,
            reservation_without_group=plan.placement.reservation_without_group,
        )

    def _render_network(
        self,
        vpc: ec2.IVpc,
        security_group: ec2.ISecurityGroup | None,
        placement_group: ec2.IPlacementGroup | None,
        shared: Sequence[SharedFileSystem],
    ) -> None:
        self.security_group: ec2.ISecurityGroup = security_group or create_efa_security_group(
            self,
            "SecurityGroup",
            vpc=vpc,
            description="AWS Batch multi-node nodes: all traffic within the group (EFA, MPI)",
        )
        if security_group is not None and self.efa_enabled:
            # EFA needs all traffic to and from the group itself (as the default group has).
            security_group.connections.allow_internally(
                ec2.Port.all_traffic(), "EFA: all traffic within the group"
            )
        self._node_connections = ec2.Connections(security_groups=[self.security_group])
        #: The shared file systems, mounted on the hosts and in every container.
        self.file_systems: list[SharedFileSystem] = []
        for item in shared:
            allow_file_system_clients(item, self.connections)
            self.file_systems.append(item)
        if self.plan.placement.create_group:
            placement_group = ec2.PlacementGroup(
                self, "PlacementGroup", strategy=ec2.PlacementGroupStrategy.CLUSTER
            )
        #: The nodes' placement group (None for a Capacity Block or ``placement=False``).
        self.placement_group: ec2.IPlacementGroup | None = placement_group

    def _render_launch_template(self, root_volume_size_gib: int) -> None:
        # Batch requires MIME multi-part user data in launch templates; the shell part is
        # exposed as ``user_data``. Rendered at synth time, so file systems and commands added
        # later are part of it; ``add_user_data`` commands run once, after the set-up.
        self._user_commands: list[str] = []
        self.user_data = ec2.UserData.for_linux()
        multipart = ec2.MultipartUserData()
        multipart.add_user_data_part(self.user_data, ec2.MultipartBody.SHELL_SCRIPT, True)
        self.user_data.add_commands(lazy_text(lambda: "\n".join(self._boot_lines())))
        spec = self.instance_spec
        self.launch_template = efa_launch_template(
            self,
            "LaunchTemplate",
            # Root device of the ECS-optimized Amazon Linux 2023 AMIs (the default).
            root_volume_size_gib=root_volume_size_gib,
            capacity=self.capacity,
            interfaces=launch_template_interfaces(plan_efa_interfaces(spec), [self.security_group])
            if self.efa_enabled
            else None,
            user_data=multipart,
            http_endpoint=True,
            imds_hop_limit=self.plan.imds_hop_limit,
        )

    @property
    def boot_plan(self) -> BootPlan:
        """What every node does at boot (read at synth time, after every ``add_*`` call)."""
        step = (
            telemetry_step(
                self.log_group, self.node.path, efa=self.efa_enabled, gpu=self.instance_spec.is_gpu
            )
            if self.log_group is not None
            else None
        )
        return batch_boot_plan(self.plan, [mount_step(item) for item in self.file_systems], step)

    def _boot_lines(self) -> list[str]:
        return user_data_script(self.boot_plan, self._user_commands)

    def _render_compute_environment(
        self,
        vpc: ec2.IVpc,
        selection: ec2.SubnetSelection,
        machine_image: batch.EcsMachineImage | None,
        role: iam.IRole | None,
    ) -> None:
        if machine_image is None:
            machine_image = batch.EcsMachineImage(
                image_type=(
                    batch.EcsMachineImageType.ECS_AL2023_NVIDIA
                    if self.instance_spec.is_gpu
                    else batch.EcsMachineImageType.ECS_AL2023
                )
            )
        self.machine_image = machine_image
        self.compute_environment = batch.ManagedEc2EcsComputeEnvironment(
            self,
            "ComputeEnvironment",
            vpc=vpc,
            vpc_subnets=selection,
            instance_types=[ec2.InstanceType(self.instance_type)],
            use_optimal_instance_classes=False,
            images=[machine_image],
            maxv_cpus=self.max_vcpus,
            minv_cpus=self.min_vcpus,
            spot=False,
            allocation_strategy=batch.AllocationStrategy.BEST_FIT_PROGRESSIVE,
            launch_template=self.launch_template,
            placement_group=self.placement_group,
            security_groups=[self.security_group],
            instance_role=role,
            update_to_latest_image_version=True,
        )
        self._render_compute_environment_overrides()
        node_role = self.compute_environment.instance_role
        assert node_role is not None  # the L2 creates one when none is passed
        self._node_role = node_role
        if role is None:
            cdk.Validations.of(node_role).acknowledge(
                cdk.Acknowledgment(
                    id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
                    "service-role/AmazonEC2ContainerServiceforEC2Role]",
                    reason="Batch needs the ECS instance role managed policy "
                    "(AmazonEC2ContainerServiceforEC2Role) so the ECS agent on each node can "
                    "register with the cluster, pull images and write logs",
                )
            )

    def _render_compute_environment_overrides(self) -> None:
        cfn_env = self.compute_environment.node.default_child
        assert isinstance(cfn_env, batch.CfnComputeEnvironment)
        #: The L1 compute environment (escape hatch).
        self.cfn_compute_environment = cfn_env
        # The L2 renders only the launch template id (Batch then uses $Default, fixed at creation).
        # Pinning the latest version makes a launch-template change update the environment.
        cfn_env.add_property_override(
            "ComputeResources.LaunchTemplate.Version", self.launch_template.latest_version_number
        )
        if self.efa_enabled:
            # The security groups sit on the launch template's network interfaces, and Batch
            # rejects a compute environment that also names SecurityGroupIds; the L2 always
            # renders them, so delete them on the L1.
            cfn_env.add_property_deletion_override("ComputeResources.SecurityGroupIds")

    def _render_queue(self, job_queue_priority: int) -> None:
        self.job_queue = batch.JobQueue(
            self,
            "JobQueue",
            priority=job_queue_priority,
            compute_environments=[
                batch.OrderedComputeEnvironment(
                    compute_environment=self.compute_environment, order=1
                )
            ],
        )

    # --- attributes, user data and file systems ---------------------------------------------

    @property
    def instance_role(self) -> iam.IRole:
        """Alias of ``role`` (read-only): the nodes' EC2 role."""
        return self.role

    @property
    def mount_points(self) -> dict[str, SharedFileSystem]:
        """Mount point -> shared file system, on the hosts and in every container."""
        return {item.path: item for item in self.file_systems}

    @check_prop_types
    def add_user_data(self, *commands: str) -> None:
        """Append shell commands to every node's first boot: they run once, after the set-up
        succeeded, and a failure keeps the node out of service like a failed set-up
        (``user_data.add_commands`` appends raw lines after the set-up, without the gate)."""
        v = Validator(self)
        lines = user_data_commands(v, "commands", list(commands))
        v.raise_if_any()
        self._user_commands.extend(lines)

    @check_prop_types
    def add_file_system(
        self, file_system: FileSystemInput, *, mount_point: str | None = None
    ) -> SharedFileSystem:
        """Mount an FSx for Lustre or EFS file system on every host and, as a host volume at
        the same path, in every container (jobs added before too). ``mount_point`` Default: -
        ``/fsx`` for Lustre, ``/shared`` for EFS, numbered after the first."""
        v = Validator(self)
        item = resolve_added_file_system(v, file_system, mount_point, self.file_systems)
        if item is not None:
            volume_name_rule(v, "mount_point", [*self.file_systems, item])
        v.raise_if_any()
        assert item is not None  # raise_if_any() raised otherwise
        allow_file_system_clients(item, self.connections)
        self.file_systems.append(item)
        self._wait_for(item)
        for container in self._containers:
            container.add_volume(host_volume(item))
        return item

    def _wait_for(self, item: SharedFileSystem) -> None:
        for dependable in mount_dependables(item):
            self.compute_environment.node.add_dependency(dependable)

    # --- defaults ---------------------------------------------------------------------------

    @property
    def memory_reserve_mib(self) -> int:
        """MiB of the instance's memory that jobs leave to the OS and the ECS agent."""
        total = self.instance_spec.memory_mib
        return max(MEMORY_RESERVE_MIN_MIB, int(total * MEMORY_RESERVE_FRACTION))

    @property
    def max_job_memory_mib(self) -> int:
        """The most memory one node's container may ask for (and the default)."""
        return self.instance_spec.memory_mib - self.memory_reserve_mib

    @property
    def efa_environment(self) -> dict[str, str]:
        """The libfabric/NCCL variables every container gets when EFA is on (callers' values
        win): ``FI_PROVIDER=efa`` so libfabric fails instead of silently using TCP, and
        ``FI_EFA_USE_DEVICE_RDMA=1`` on GPUDirect RDMA types (``GPUDIRECT_RDMA_FAMILIES``)."""
        if not self.efa_enabled:
            return {}
        env = {"FI_PROVIDER": "efa"}
        family = self.instance_type.split(".", 1)[0]
        if self.instance_spec.is_gpu and family in GPUDIRECT_RDMA_FAMILIES:
            env["FI_EFA_USE_DEVICE_RDMA"] = "1"
        return env

    @property
    def execution_role(self) -> iam.Role:
        """The ECS execution role shared by this construct's containers (image pulls from ECR,
        logs to ``/aws/batch/job``); created with the first job."""
        if self._execution_role is None:
            self._execution_role = iam.Role(
                self,
                "ExecutionRole",
                assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
                description="AWS Batch multi-node containers: image pulls and job logs",
            )
            job_logs = logs.LogGroup.from_log_group_name(self, "JobLogGroup", "/aws/batch/job")
            job_logs.grant_write(self._execution_role)
            cdk.Validations.of(self._execution_role).acknowledge(
                cdk.Acknowledgment(
                    id=f"AwsSolutions-IAM5[Resource::{nag_text(self, job_logs.log_group_arn)}]",
                    reason="Batch names each job's log stream at run time; the only wildcard is "
                    "the stream name inside the one log group Batch writes to (/aws/batch/job), "
                    "and only CreateLogStream/PutLogEvents are allowed",
                )
            )
        return self._execution_role

    # --- jobs -------------------------------------------------------------------------------

    @check_prop_types
    def add_job(
        self,
        id: str,
        *,
        image: str | ecs.ContainerImage,
        command: Sequence[str],
        num_nodes: int,
        main_node: int = 0,
        vcpus: int | None = None,
        memory: cdk.Size | None = None,
        gpus: int | None = None,
        environment: Mapping[str, str] | None = None,
        node_ranges: Sequence[NodeRange] | None = None,
        shared_memory_size: cdk.Size | None = None,
        timeout: cdk.Duration | None = None,
        retry_attempts: int | None = None,
        job_role: iam.IRole | None = None,
        propagate_tags: bool = True,
    ) -> batch.MultiNodeJobDefinition:
        """Add a multi-node parallel job definition that runs on this queue's nodes.

        Every container gets every ``/dev/infiniband/uverbsN`` device of the instance type
        (read, write, mknod), an unlimited ``memlock`` ulimit, ``/dev/shm`` of
        ``shared_memory_size``, the shared file systems and :attr:`efa_environment`. A job
        that needs EFA (``efa_pingpong_command``, ``FI_PROVIDER=efa``) on nodes without EFA is
        an error.

        :param image: container image (a registry name or an ``ecs.ContainerImage``).
        :param command: the command every node runs (Batch sets ``AWS_BATCH_JOB_*`` variables).
        :param num_nodes: nodes of the job, 1 to ``max_nodes`` (and at most 1000).
        :param main_node: index of the main node. Default: - 0.
        :param vcpus: vCPUs per node. Default: - all of the instance's vCPUs.
        :param memory: memory per node. Default: - the instance memory minus
            :attr:`memory_reserve_mib` (5%, at least 512 MiB).
        :param gpus: GPUs per node. Default: - all of the instance's GPUs (none on CPU types).
        :param environment: extra variables; they override the EFA defaults. Default: - none.
        :param node_ranges: up to five node groups covering nodes 0 to num_nodes-1, each with
            its own overrides. Default: - one group ``0:num_nodes-1``.
        :param shared_memory_size: ``/dev/shm`` size. Default: - half of the node memory.
        :param timeout: job timeout. Default: - none.
        :param retry_attempts: attempts (1-10); Batch retries only when the main node fails.
            Default: - no retries.
        :param job_role: the role the containers' code runs as. Default: - none (no AWS
            credentials in the containers).
        :param propagate_tags: copy job tags to the ECS tasks. Default: - True.
        """
        v = Validator(f"{self.node.path}/{id}")
        base = NodeRange(0, 0, image, command, environment, vcpus, memory, gpus)
        ranges = self._job_rules(
            v, num_nodes, main_node, node_ranges, retry_attempts, base, shared_memory_size
        )
        v.raise_if_any()
        job = batch.MultiNodeJobDefinition(
            self,
            id,
            instance_type=ec2.InstanceType(self.instance_type),
            main_node=main_node,
            timeout=timeout,
            retry_attempts=retry_attempts,
            propagate_tags=propagate_tags,
        )
        for index, r in enumerate(ranges):
            container = self._container(
                job,
                f"Container{index}" if len(ranges) > 1 else "Container",
                _merged(base, r),
                shared_memory_size=shared_memory_size,
                job_role=job_role,
            )
            job.add_container(container=container, start_node=r.start, end_node=r.end)
        cfn_job = job.node.default_child
        assert isinstance(cfn_job, batch.CfnJobDefinition)
        # The L2 sums the range lengths, which over-counts nested ranges: state it explicitly.
        cfn_job.add_property_override("NodeProperties.NumNodes", num_nodes)
        self.jobs.append(job)
        for grantee in self._submitters:
            self._grant_submit(grantee, [job.job_definition_arn])
        return job

    def _job_rules(
        self,
        v: Validator,
        num_nodes: int,
        main_node: int,
        node_ranges: Sequence[NodeRange] | None,
        retry_attempts: int | None,
        base: NodeRange,
        shared_memory_size: cdk.Size | None,
    ) -> list[NodeRange]:
        """Every rule of one job; returns its node ranges (``base`` carries the job-wide
        command, environment and resources)."""
        if not needs_concrete_value(v, "num_nodes", num_nodes):
            return []
        limit = min(self.max_nodes, limits.BATCH_MAX_NODES)
        v.require(
            1 <= num_nodes <= limit,
            "num_nodes",
            num_nodes,
            f"1 to {limit} (max_nodes of {self.node.path} is {self.max_nodes}; Batch allows "
            f"at most {limits.BATCH_MAX_NODES} nodes per job)",
        )
        ranges = list(node_ranges) if node_ranges is not None else [NodeRange(0, num_nodes - 1)]
        node_range_rule(v, num_nodes, main_node, [r.target_nodes for r in ranges])
        self._check_resources(v, "", base.vcpus, base.memory, base.gpus, shared_memory_size)
        for r in ranges:
            self._check_resources(v, f"node_ranges[{r.target_nodes}].", r.vcpus, r.memory, r.gpus)
        v.in_range("retry_attempts", retry_attempts, 1, 10)
        if not self.efa_enabled:
            efa_only_command_rule(v, "", base.command, base.environment, self.instance_type)
            for r in ranges:
                efa_only_command_rule(
                    v, f"node_ranges[{r.target_nodes}].", r.command, r.environment,
                    self.instance_type,
                )  # fmt: skip
        return ranges

    def grant_submit_job(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow ``grantee`` to submit jobs to this queue with this construct's job definitions
        (``batch:SubmitJob`` on the queue and on each definition, including ones added later)."""
        self._submitters.append(grantee)
        return self._grant_submit(grantee, [j.job_definition_arn for j in self.jobs])

    def _grant_submit(self, grantee: iam.IGrantable, definitions: list[str]) -> iam.Grant:
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["batch:SubmitJob"],
            resource_arns=[self.job_queue.job_queue_arn, *definitions],
        )

    # --- helpers ----------------------------------------------------------------------------

    def _check_resources(
        self,
        v: Validator,
        prefix: str,
        vcpus: int | None,
        memory: cdk.Size | None,
        gpus: int | None,
        shared_memory_size: cdk.Size | None = None,
    ) -> None:
        spec = self.instance_spec
        what = f"on {self.instance_type}"
        v.in_range(f"{prefix}vcpus", vcpus, 1, spec.vcpus, f"vCPUs {what}")
        if memory is not None and not memory.is_unresolved():
            mib = memory.to_mebibytes()
            v.require(
                1 <= mib <= self.max_job_memory_mib,
                f"{prefix}memory",
                f"{mib:g} MiB",
                f"1 to {self.max_job_memory_mib} MiB ({spec.memory_mib} MiB {what} minus "
                f"{self.memory_reserve_mib} MiB for the OS and the ECS agent)",
            )
        v.in_range(f"{prefix}gpus", gpus, 0, spec.gpus, f"GPUs {what}")
        if shared_memory_size is not None and not shared_memory_size.is_unresolved():
            node_mib = memory.to_mebibytes() if memory is not None else self.max_job_memory_mib
            v.require(
                shared_memory_size.to_mebibytes() <= node_mib,
                f"{prefix}shared_memory_size",
                f"{shared_memory_size.to_mebibytes():g} MiB",
                f"at most the node memory ({node_mib:g} MiB)",
            )

    def _container(
        self,
        scope: Construct,
        id: str,
        node: NodeRange,
        *,
        shared_memory_size: cdk.Size | None,
        job_role: iam.IRole | None,
    ) -> batch.EcsEc2ContainerDefinition:
        image, command, memory, gpus, vcpus = (
            node.image,
            node.command,
            node.memory,
            node.gpus,
            node.vcpus,
        )
        assert image is not None  # add_job's image is required
        environment = node.environment or {}
        spec = self.instance_spec
        node_memory = memory if memory is not None else cdk.Size.mebibytes(self.max_job_memory_mib)
        shm = shared_memory_size or cdk.Size.mebibytes(
            int(node_memory.to_mebibytes() * SHARED_MEMORY_FRACTION)
        )
        linux = batch.LinuxParameters(scope, f"{id}LinuxParameters", shared_memory_size=shm)
        if self.efa_enabled:
            for path in efa_device_paths(spec):
                linux.add_devices(
                    batch.Device(
                        host_path=path,
                        container_path=path,
                        permissions=[
                            batch.DevicePermission.READ,
                            batch.DevicePermission.WRITE,
                            batch.DevicePermission.MKNOD,
                        ],
                    )
                )
        gpu_count = gpus if gpus is not None else spec.gpus
        container = batch.EcsEc2ContainerDefinition(
            scope,
            id,
            image=ecs.ContainerImage.from_registry(image) if isinstance(image, str) else image,
            command=list(command or ()),
            cpu=vcpus if vcpus is not None else spec.vcpus,
            memory=node_memory,
            gpu=gpu_count or None,
            environment={**self.efa_environment, **environment},
            # EFA registers (pins) buffers with the device: locked memory must be unlimited.
            ulimits=[batch.Ulimit(name=batch.UlimitName.MEMLOCK, soft_limit=-1, hard_limit=-1)],
            linux_parameters=linux,
            volumes=self._volumes(),
            execution_role=self.execution_role,
            job_role=job_role,
        )
        self._containers.append(container)
        return container

    def _volumes(self) -> list[batch.EcsVolume]:
        """Host volumes of every container: the shared file systems and, on instance types
        with NVMe instance storage, the striped instance store."""
        volumes = [host_volume(item) for item in self.file_systems]
        if self.plan.spec.nvme_disk_count:
            volumes.append(instance_store_volume())
        return volumes

    @staticmethod
    def efa_pingpong_command(iterations: int = 1000) -> list[str]:
        """A two-node smoke test of EFA between Batch nodes, without SSH or MPI.

        The main node runs libfabric's ``fi_pingpong`` server over the EFA provider; the other
        node connects to ``AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS`` (retrying while the
        server starts). The image needs libfabric with the EFA provider (``fi_pingpong`` on the
        PATH or in ``/opt/amazon/efa/bin``). Use it with ``num_nodes=2``.
        """
        ping = f"fi_pingpong -p efa -e rdm -I {int(iterations)}"
        script = (
            'export PATH="/opt/amazon/efa/bin:$PATH"; '
            'echo "node $AWS_BATCH_JOB_NODE_INDEX of $AWS_BATCH_JOB_NUM_NODES"; '
            'if [ "$AWS_BATCH_JOB_NODE_INDEX" = "$AWS_BATCH_JOB_MAIN_NODE_INDEX" ]; then '
            f"exec {ping}; "
            "else "
            "for attempt in $(seq 1 30); do "
            f'{ping} "$AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS" && exit 0; sleep 2; '
            "done; exit 1; "
            "fi"
        )
        return ["/bin/sh", "-c", script]


__all__ = [
    "BatchMultiNode",
    "BatchPlan",
    "BatchProps",
    "NodeRange",
    "plan_batch",
]
