"""The rules of a ParallelCluster configuration as pure functions on plain values, building a
frozen :class:`ClusterPlan` (no CDK objects); ``ParallelCluster`` checks its props with these
and renders the plan with :mod:`hpc_constructs.slurm._pc_render`."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import aws_ec2 as ec2

from hpc_constructs.capacity import FleetCapacity
from hpc_constructs.catalog import InstanceSpec, plan_efa_interfaces
from hpc_constructs.compute import (
    check_capacity,
    check_one_architecture,
    check_placement,
    lookup_specs,
    resolve_efa,
    spot_strategy,
)
from hpc_constructs.errors import Validator, is_token, needs_concrete_value, type_problems
from hpc_constructs.nodes import (
    PlacementPlan,
    SharedFileSystem,
    SubnetsInput,
    check_node_counts,
    efa_disabled,
    placement_group_facts,
    plan_placement,
)
from hpc_constructs.slurm._checks import capacity_type
from hpc_constructs.slurm._pc_platform import (
    CustomActions,
    check_custom_actions,
    check_custom_settings,
)

#: The ParallelCluster release the configuration is written for and checked against
#: (``pcluster.schemas.cluster_schema.ClusterSchema`` of aws-parallelcluster 3.16.1).
DEFAULT_PARALLELCLUSTER_VERSION = "3.16.1"
#: The CloudFormation custom resource exists from ParallelCluster 3.6.0 on (ParallelCluster
#: User Guide, "AWS CloudFormation custom resource").
MIN_PARALLELCLUSTER_VERSION = (3, 6, 0)
#: Operating systems of ParallelCluster 3.16.1 (``pcluster.constants.SUPPORTED_OSES``).
PARALLELCLUSTER_OSES = (
    "alinux2023",
    "ubuntu2204",
    "ubuntu2404",
    "rhel8",
    "rocky8",
    "rhel9",
    "rocky9",
)
#: ParallelCluster limits (``pcluster.constants``: MAX_NUMBER_OF_QUEUES,
#: MAX_COMPUTE_RESOURCES_PER_QUEUE / _PER_CLUSTER; existing FSx and EFS file systems).
MAX_QUEUES = 50
MAX_COMPUTE_RESOURCES = 50
MAX_EXISTING_FILE_SYSTEMS = 20
#: Queue and compute-resource names (``pcluster.validators.cluster_validators.NameValidator``).
_RESOURCE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,24}$")
#: Cluster names (``pcluster.constants.PCLUSTER_NAME_REGEX`` with a 60-character maximum).
_CLUSTER_NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9-]{0,59}$")
#: SharedStorage names (``SharedStorageNameValidator``: tag-value characters, at most 30).
_STORAGE_NAME = re.compile(r"^[\w+\-=.:@/]{1,30}$")
_TYPES_WHY = "they decide EFA, placement, architecture and offerings"
_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
#: Default head node per architecture: a compute-optimized 8-vCPU type offered in every
#: surveyed region's AZs (slurmctld and the NFS exports need little).
DEFAULT_HEAD_NODE_TYPES = {"x86_64": "c7i.2xlarge", "arm64": "c7g.2xlarge"}


@dataclass(frozen=True, kw_only=True)
class SlurmComputeResource:
    """One ParallelCluster compute resource (a group of Slurm nodes of the same shape).

    :param name: lowercase letters, digits and hyphens, starting with a letter, at most 25.
    :param instance_types: one type, or several with the same vCPU and GPU counts (flexible
        instance types); all of the cluster's architecture.
    :param max_nodes: most nodes (``MaxCount``).
    :param min_nodes: static nodes kept running (``MinCount``). Default: - 0.
    :param efa: Default: - on when every type supports EFA.
    :param capacity: Default: - ``FleetCapacity.on_demand()``. All compute resources of a
        queue must share ParallelCluster's capacity type (ONDEMAND — which includes capacity
        reservations —, SPOT or CAPACITY_BLOCK).
    :param placement_group: an existing placement group (an ``EfaComputeFleet``'s, or the one
        a Capacity Reservation was made in), rendered as ``PlacementGroup.Name``.
        Default: - ParallelCluster's own cluster placement group for EFA resources; none for
        Capacity Blocks (AWS places them) and Capacity Reservations (warning
        ``reservationWithoutPlacementGroup``).
    :param placement: ``False``: no placement group; ``True``: ParallelCluster's placement
        group for a non-EFA resource. Default: - ``None`` (see ``placement_group``).
    :param custom_slurm_settings: ``NodeName`` settings (``CustomSlurmSettings``), except those
        ParallelCluster manages (CPUs, Gres, NodeAddr, NodeHostname, NodeName, State, Weight).
        Default: - none.
    """

    name: str
    instance_types: Sequence[str]
    max_nodes: int
    min_nodes: int = 0
    efa: bool | None = None
    capacity: FleetCapacity | None = None
    placement_group: ec2.IPlacementGroup | None = None
    placement: bool | None = None
    custom_slurm_settings: Mapping[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class SlurmQueue:
    """One Slurm queue (partition) of a :class:`ParallelCluster`.

    :param name: lowercase letters, digits and hyphens, starting with a letter, at most 25;
        not ``default``.
    :param compute_resources: 1 to 50.
    :param vpc_subnets: an ``ec2.SubnetSelection``, an ``ec2.ISubnet`` or a list of them.
        Default: - the cluster's ``vpc_subnets``. Queues with EFA or a placement group need
        exactly one subnet.
    :param job_exclusive_allocation: one job per node. Default: - ``True`` for queues with EFA
        (tightly coupled jobs should not share nodes), ``False`` otherwise.
    :param custom_actions: scripts the queue's nodes run at start and once configured
        (:class:`CustomActions`; ``on_node_updated`` is for the head node and login pools).
        Default: - none.
    :param custom_slurm_settings: ``PartitionName`` settings (``CustomSlurmSettings``), except
        those ParallelCluster manages (Nodes, PartitionName, ResumeTimeout, State,
        SuspendTime, OverSubscribe). Default: - none.
    :param custom_ami: the queue's ``Image.CustomAmi``: an AMI built from a ParallelCluster AMI
        (e.g. ``HpcImage(base=<the ParallelCluster AMI>).machine_image``). Default: - the
        cluster's ``custom_ami``, else ParallelCluster's official AMI for ``os``.
    """

    name: str
    compute_resources: Sequence[SlurmComputeResource]
    vpc_subnets: SubnetsInput | None = None
    job_exclusive_allocation: bool | None = None
    custom_actions: CustomActions | None = None
    custom_slurm_settings: Mapping[str, Any] | None = None
    custom_ami: ec2.IMachineImage | None = None


@dataclass(frozen=True)
class ResourcePlan:
    """A compute resource as rendered: plain values only."""

    name: str
    specs: tuple[InstanceSpec, ...]
    min_nodes: int
    max_nodes: int
    capacity: FleetCapacity
    efa: bool
    efa_disabled: bool
    placement: PlacementPlan
    placement_group_name: str | None
    placement_off: bool
    custom_slurm_settings: Mapping[str, Any] | None = None

    @property
    def instance_types(self) -> tuple[str, ...]:
        return tuple(s.instance_type for s in self.specs)

    @property
    def multi_interface_types(self) -> list[str]:
        if not self.efa:
            return []
        return [s.instance_type for s in self.specs if len(plan_efa_interfaces(s)) > 1]


@dataclass(frozen=True)
class QueuePlan:
    name: str
    resources: tuple[ResourcePlan, ...]
    job_exclusive_allocation: bool
    custom_actions: CustomActions | None = None
    custom_slurm_settings: Mapping[str, Any] | None = None

    @property
    def capacity_type(self) -> str:
        return capacity_type(self.resources[0].capacity)

    @property
    def allocation_strategy(self) -> str | None:
        return spot_strategy(self.resources[0].capacity)

    @property
    def needs_one_subnet(self) -> bool:
        return any(r.efa or r.placement.uses_group for r in self.resources)


#: ``Monitoring.Logs.CloudWatch.RetentionInDays`` values ParallelCluster 3.16.1 accepts
#: (``cluster_schema.CloudWatchLogsSchema``) and its default (``constants``).
PC_LOG_RETENTION_DAYS = (0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827,
                         3653)  # fmt: skip
PC_DEFAULT_LOG_RETENTION_DAYS = 180


@dataclass(frozen=True)
class ParallelClusterMonitoring:
    """ParallelCluster's ``Monitoring`` section, typed (ParallelCluster 3.16.1
    ``cluster_schema.MonitoringSchema``): CloudWatch logs of every node, log rotation, the
    cluster dashboard, its alarms and EC2 detailed monitoring.

    :param logs: ship the nodes' logs to CloudWatch Logs. Default: - ``True``.
    :param log_retention_days: one of ParallelCluster's values (0 keeps them forever).
        Default: - 180 (ParallelCluster's default).
    :param log_deletion_policy: ``"Retain"`` or ``"Delete"`` the log group with the cluster.
        Default: - ``"Retain"`` (logs outlive the cluster).
    :param log_rotation: rotate the logs on the nodes. Default: - ``True``.
    :param dashboard: the cluster's CloudWatch dashboard. Default: - ``True``.
    :param alarms: the cluster's CloudWatch alarms (head node health, disk). Default: - ``True``.
    :param detailed_monitoring: 1-minute EC2 metrics on compute nodes (charged).
        Default: - ``False``.
    """

    logs: bool = True
    log_retention_days: int = PC_DEFAULT_LOG_RETENTION_DAYS
    log_deletion_policy: str = "Retain"
    log_rotation: bool = True
    dashboard: bool = True
    alarms: bool = True
    detailed_monitoring: bool = False


def check_monitoring(v: Validator, monitoring: ParallelClusterMonitoring) -> None:
    v.one_of(
        "monitoring.log_retention_days",
        monitoring.log_retention_days,
        PC_LOG_RETENTION_DAYS,
        "ParallelCluster's CloudWatchLogs.RetentionInDays values",
    )
    v.one_of("monitoring.log_deletion_policy", monitoring.log_deletion_policy, ("Retain", "Delete"))


@dataclass(frozen=True)
class ClusterPlan:
    version: str
    os: str
    architecture: str
    head_node_instance_type: str
    head_specs: tuple[InstanceSpec, ...]
    queues: tuple[QueuePlan, ...]
    queue_update_strategy: str
    monitoring: ParallelClusterMonitoring = ParallelClusterMonitoring()


# --- rules ----------------------------------------------------------------------------------


def check_version(v: Validator, version: str) -> None:
    match = _VERSION.match(version)
    v.require(
        bool(match) and tuple(int(g) for g in match.groups()) >= MIN_PARALLELCLUSTER_VERSION,  # type: ignore[union-attr]
        "version",
        version,
        "a ParallelCluster release X.Y.Z, 3.6.0 or later (the CloudFormation custom "
        "resource appeared in 3.6.0)",
    )


def check_cluster_name(v: Validator, cluster_name: str | None, stack_name: str) -> None:
    if cluster_name is None or is_token(cluster_name):
        return
    v.require(
        bool(_CLUSTER_NAME.match(cluster_name)),
        "cluster_name",
        cluster_name,
        "a letter then letters, digits or hyphens, at most 60 characters",
    )
    v.require(
        cluster_name != stack_name,
        "cluster_name",
        cluster_name,
        "a name different from the stack name (ParallelCluster names its own stack after "
        "the cluster)",
    )


def check_name(v: Validator, prop: str, name: object) -> None:
    if not needs_concrete_value(v, prop, name, "it names the queue or compute resource"):
        return
    v.require(
        isinstance(name, str) and bool(_RESOURCE_NAME.match(name)) and name != "default",
        prop,
        name,
        "a lowercase letter, then lowercase letters, digits or hyphens, at most 25 characters, "
        "not 'default'",
    )


def check_queue_list(v: Validator, queues: Sequence[SlurmQueue]) -> None:
    v.require(1 <= len(queues) <= MAX_QUEUES, "queues", len(queues), f"1 to {MAX_QUEUES} queues")
    names = [q.name for q in queues]
    v.require(len(set(names)) == len(names), "queues", names, "unique queue names")
    total = sum(len(q.compute_resources) for q in queues)
    v.require(
        total <= MAX_COMPUTE_RESOURCES,
        "queues",
        total,
        f"at most {MAX_COMPUTE_RESOURCES} compute resources in the cluster",
    )


def check_flexible_types(v: Validator, prop: str, specs: Sequence[InstanceSpec]) -> None:
    if len(specs) > 1:
        v.require(
            len({(s.vcpus, s.gpus) for s in specs}) == 1,
            prop,
            {s.instance_type: f"{s.vcpus} vCPUs, {s.gpus} GPUs" for s in specs},
            "types with the same vCPU and GPU counts (ParallelCluster flexible instances)",
        )


def check_capacity_block(
    v: Validator, rp: str, res: SlurmComputeResource, specs: Sequence[InstanceSpec]
) -> None:
    v.require(
        res.min_nodes == res.max_nodes and res.max_nodes > 0,
        f"{rp}.min_nodes/max_nodes",
        (res.min_nodes, res.max_nodes),
        "equal and above 0: a Capacity Block has a fixed number of instances",
    )
    v.require(
        len(specs) <= 1,
        f"{rp}.instance_types",
        list(res.instance_types),
        "exactly one type: a Capacity Block reserves one instance type",
    )


def plan_resource(v: Validator, qp: str, res: SlurmComputeResource) -> ResourcePlan | None:
    """Every compute-resource rule; the plan, or None when one failed."""
    rp = f"{qp}.compute_resources[{getattr(res, 'name', '')}]"
    # Dataclasses do not check their fields: the same check check_prop_types applies to the
    # construct's props, for plans made without the construct.
    wrong_types = type_problems(v.path, rp, res, SlurmComputeResource)
    if wrong_types:
        v.problems += wrong_types
        return None
    before = len(v.problems)
    check_name(v, f"{rp}.name", res.name)
    if not needs_concrete_value(v, f"{rp}.instance_types", list(res.instance_types), _TYPES_WHY):
        return None
    specs = lookup_specs(v, f"{rp}.instance_types", res.instance_types)
    capacity = res.capacity or FleetCapacity.on_demand()
    efa = resolve_efa(v, f"{rp}.efa", res.efa, specs)
    check_node_counts(v, res.min_nodes, res.max_nodes, prefix=f"{rp}.")
    check_flexible_types(v, f"{rp}.instance_types", specs)
    check_capacity(v, f"{rp}.capacity", capacity, specs)
    if capacity.is_capacity_block:
        check_capacity_block(v, rp, res, specs)
    group = res.placement_group
    group_given, group_strategy, group_label = placement_group_facts(group)
    placement = plan_placement(
        v,
        capacity=capacity,
        efa_enabled=efa,
        group_given=group_given,
        group_strategy=group_strategy,
        group_label=group_label,
        placement=res.placement,
    )
    if placement.uses_group:
        check_placement(v, f"{rp}.placement_group", specs, placement.strategy or "cluster")
    check_custom_settings(
        v, f"{rp}.custom_slurm_settings", res.custom_slurm_settings, "ComputeResource"
    )
    if len(v.problems) > before:
        return None
    return ResourcePlan(
        name=res.name,
        specs=tuple(specs),
        min_nodes=res.min_nodes,
        max_nodes=res.max_nodes,
        capacity=capacity,
        efa=efa,
        efa_disabled=efa_disabled(res.efa, any(s.efa_supported for s in specs)),
        placement=placement,
        placement_group_name=None if group is None else group.placement_group_name,
        placement_off=res.placement is False,
        custom_slurm_settings=res.custom_slurm_settings,
    )


def plan_queue(v: Validator, queue: SlurmQueue) -> QueuePlan | None:
    qp = f"queues[{queue.name}]"
    check_name(v, f"{qp}.name", queue.name)
    resources = list(queue.compute_resources)
    v.require(
        1 <= len(resources) <= MAX_COMPUTE_RESOURCES,
        f"{qp}.compute_resources",
        len(resources),
        f"1 to {MAX_COMPUTE_RESOURCES} compute resources",
    )
    names = [getattr(r, "name", None) for r in resources]
    v.require(
        len(set(names)) == len(names),
        f"{qp}.compute_resources",
        names,
        "unique compute resource names within the queue",
    )
    plans = [plan_resource(v, qp, r) for r in resources]
    check_custom_actions(v, f"{qp}.custom_actions", queue.custom_actions, updated_allowed=False)
    check_custom_settings(v, f"{qp}.custom_slurm_settings", queue.custom_slurm_settings, "Queue")
    items = [p for p in plans if p is not None]
    kinds = sorted({capacity_type(r.capacity) for r in items})
    v.require(
        len(kinds) <= 1,
        f"{qp}.compute_resources[].capacity",
        kinds,
        "one ParallelCluster capacity type per queue (ONDEMAND, SPOT or CAPACITY_BLOCK); put "
        "other purchase options in another queue",
    )
    if len(items) != len(plans) or not items:
        return None
    exclusive = queue.job_exclusive_allocation
    return QueuePlan(
        name=queue.name,
        resources=tuple(items),
        job_exclusive_allocation=any(i.efa for i in items) if exclusive is None else exclusive,
        custom_actions=queue.custom_actions,
        custom_slurm_settings=queue.custom_slurm_settings,
    )


def plan_head_node(
    v: Validator, head_node_instance_type: str | None, compute_arch: str | None
) -> tuple[str, list[InstanceSpec]]:
    if not needs_concrete_value(v, "head_node_instance_type", head_node_instance_type, _TYPES_WHY):
        return "", []
    head_type = head_node_instance_type or DEFAULT_HEAD_NODE_TYPES[compute_arch or "x86_64"]
    head_specs = lookup_specs(v, "head_node_instance_type", [head_type])
    if head_specs and compute_arch is not None:
        v.require(
            head_specs[0].architecture == compute_arch,
            "head_node_instance_type",
            f"{head_type} ({head_specs[0].architecture})",
            f"an {compute_arch} type, the compute nodes' architecture "
            "(ParallelCluster requires head and compute nodes to share an architecture)",
        )
    return head_type, head_specs


def plan_cluster(
    v: Validator,
    *,
    queues: Sequence[SlurmQueue],
    version: str,
    os: str,
    head_node_instance_type: str | None,
    queue_update_strategy: str,
    monitoring: ParallelClusterMonitoring | None = None,
) -> ClusterPlan | None:
    """The cluster-wide rules: version, OS, queues, one architecture, the head node."""
    # ParallelCluster 3.16 SlurmSettings.QueueUpdateStrategy values.
    v.one_of("queue_update_strategy", queue_update_strategy, ("DRAIN", "TERMINATE"))
    monitoring = monitoring or ParallelClusterMonitoring()
    check_monitoring(v, monitoring)
    check_version(v, version)
    v.one_of("os", os, PARALLELCLUSTER_OSES)
    queue_list = list(queues)
    check_queue_list(v, queue_list)
    plans = [plan_queue(v, q) for q in queue_list]
    specs = [s for p in plans if p is not None for r in p.resources for s in r.specs]
    arch = check_one_architecture(
        v,
        "queues[].compute_resources[].instance_types",
        specs,
        "ParallelCluster uses one AMI and requires head and compute nodes to share an architecture",
    )
    head_type, head_specs = plan_head_node(v, head_node_instance_type, arch)
    if v.problems or not head_specs:
        return None
    return ClusterPlan(
        version=version,
        os=os,
        architecture=arch or head_specs[0].architecture,
        head_node_instance_type=head_type,
        head_specs=tuple(head_specs),
        queues=tuple(p for p in plans if p is not None),
        queue_update_strategy=queue_update_strategy,
        monitoring=monitoring,
    )


def check_storage(v: Validator, prop: str, items: Sequence[SharedFileSystem]) -> None:
    """ParallelCluster's SharedStorage rules: names, and at most 20 existing FSx / EFS."""
    for item in items:
        name = item.name or ""
        v.require(
            bool(_STORAGE_NAME.match(name)) and name != "default",
            f"{prop}[].name",
            name,
            "1 to 30 letters, digits or + - = . _ : @ /, not 'default'",
        )
    names = [i.name for i in items]
    v.require(
        len(set(names)) == len(names),
        f"{prop}[].name",
        names,
        "a different name per file system (defaults are fsx, fsx2... and efs, efs2...)",
    )
    for kind, label in (("lustre", "FSx"), ("efs", "EFS")):
        count = sum(1 for i in items if i.kind == kind)
        v.require(
            count <= MAX_EXISTING_FILE_SYSTEMS,
            prop,
            count,
            f"at most {MAX_EXISTING_FILE_SYSTEMS} existing {label} file systems",
        )
