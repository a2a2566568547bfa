"""``ParallelCluster``: an AWS ParallelCluster Slurm cluster deployed by ``cdk deploy`` through
ParallelCluster's own CloudFormation custom resource, configured from typed props.

The configuration is built from the same objects the rest of the library uses (the
``NetworkFabric`` subnets, ``FleetCapacity``, ``LustreScratch``), checked with the same rules as
``EfaComputeFleet``, and is also available as YAML for the ``pcluster`` CLI.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from constructs import Construct

from hpc_constructs.capacity import CapacityKind, FleetCapacity
from hpc_constructs.catalog import InstanceSpec, plan_efa_interfaces
from hpc_constructs.compute import (
    check_capacity,
    check_offerings,
    check_one_architecture,
    check_placement,
    check_private_subnets,
    check_single_subnet,
    lookup_specs,
    resolve_efa,
    select_subnets,
    spot_strategy,
)
from hpc_constructs.errors import Validator, is_token, warn
from hpc_constructs.mounts import LustreFileSystemLike, allow_lustre_clients
from hpc_constructs.slurm._checks import (
    SlurmStorage,
    as_storage,
    check_mount_dirs,
    dependable_parts,
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
_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")

#: Default head node per architecture: a compute-optimized 8-vCPU type offered in every
#: surveyed region's AZs (slurmctld and the NFS exports need little).
DEFAULT_HEAD_NODE_TYPES = {"x86_64": "c7i.2xlarge", "arm64": "c7g.2xlarge"}

#: Provider stack published by ParallelCluster per region and version (ParallelCluster User
#: Guide, "AWS CloudFormation custom resource" / "Provider stack hosted by AWS ParallelCluster").
PROVIDER_TEMPLATE_URL = (
    "https://{region}-aws-parallelcluster.s3.{region}.{url_suffix}/parallelcluster/{version}"
    "/templates/custom_resource/cluster.yaml"
)


@dataclass(frozen=True, kw_only=True)
class SlurmComputeResource:
    """One ParallelCluster compute resource (a group of Slurm nodes of the same shape).

    :param name: lowercase letters, digits and hyphens, starting with a letter, at most 25.
    :param instance_types: one type, or several with the same vCPU and GPU counts (flexible
        instance types); all of the cluster's architecture.
    :param max_count: most nodes. :param min_count: static nodes kept running. Default: - 0.
    :param efa: Default: - on when every type supports EFA.
    :param capacity: Default: - ``FleetCapacity.on_demand()``. All compute resources of a
        queue must share ParallelCluster's capacity type (ONDEMAND — which includes capacity
        reservations —, SPOT or CAPACITY_BLOCK).
    :param placement_group: Default: - a cluster placement group for EFA resources (not for
        Capacity Blocks, which AWS places itself); none otherwise.
    """

    name: str
    instance_types: Sequence[str]
    max_count: int
    min_count: int = 0
    efa: bool | None = None
    capacity: FleetCapacity | None = None
    placement_group: bool | None = None


@dataclass(frozen=True, kw_only=True)
class SlurmQueue:
    """One Slurm queue (partition) of a :class:`ParallelCluster`.

    :param name: lowercase letters, digits and hyphens, starting with a letter, at most 25;
        not ``default``.
    :param compute_resources: 1 to 50.
    :param subnets: Default: - the cluster's ``compute_subnets``. Queues with EFA or a
        placement group need exactly one subnet.
    :param job_exclusive_allocation: one job per node. Default: - ``True`` for queues with EFA
        (tightly coupled jobs should not share nodes), ``False`` otherwise.
    """

    name: str
    compute_resources: Sequence[SlurmComputeResource]
    subnets: ec2.SubnetSelection | None = None
    job_exclusive_allocation: bool | None = None


@dataclass
class _ResolvedResource:
    spec: SlurmComputeResource
    specs: list[InstanceSpec]
    capacity: FleetCapacity
    efa: bool
    placement: bool
    extra: dict[str, Any] = field(default_factory=dict)


def _capacity_type(capacity: FleetCapacity) -> str:
    if capacity.kind is CapacityKind.SPOT:
        return "SPOT"
    if capacity.kind is CapacityKind.CAPACITY_BLOCK:
        return "CAPACITY_BLOCK"
    return "ONDEMAND"


class ParallelCluster(Construct):
    """An AWS ParallelCluster Slurm cluster, created and updated by CloudFormation.

    Two resources do the work, as ParallelCluster documents: the provider stack
    (``AWS::CloudFormation::Stack`` from the template ParallelCluster hosts for ``version`` in
    the stack's region) and a ``Custom::PclusterCluster`` whose ``ClusterConfiguration`` is
    :attr:`cluster_configuration`. Creating, updating and deleting the stack creates, updates
    and deletes the cluster (ParallelCluster then runs its own nested stack).

    A security group (:attr:`security_group`) is added to the head node and every queue
    (``AdditionalSecurityGroups``); the Lustre and EFS file systems in ``shared_storage`` are
    opened to it on their ports only.

    :param vpc: the VPC of the subnets and file systems.
    :param head_node_subnet: subnet of the head node (a private subnet with a NAT route or
        endpoints; connect with Session Manager).
    :param compute_subnets: where queues launch nodes, e.g. ``NetworkFabric.compute_subnets``.
    :param queues: 1 to 50 :class:`SlurmQueue`.
    :param shared_storage: existing file systems (:class:`SlurmStorage`, or a bare
        ``LustreScratch`` / ``efs.IFileSystem``). Default: - none.
    :param version: ParallelCluster version of the provider stack (3.6.0 or later).
        Default: - ``DEFAULT_PARALLELCLUSTER_VERSION`` (3.16.1).
    :param head_node_instance_type: Default: - ``c7i.2xlarge`` for x86_64 clusters,
        ``c7g.2xlarge`` for arm64 (ParallelCluster requires head and compute nodes to share
        an architecture).
    :param os: Default: - ``alinux2023``.
    :param key_pair: SSH key of the head node. Default: - none (Session Manager).
    :param ssm_access: attach ``AmazonSSMManagedInstanceCore`` to the head node.
        Default: - ``True``.
    :param cluster_name: ``ClusterName`` (cannot change after creation, must differ from the
        stack name). Default: - a name derived from the construct path, unique per stack.
    :param removal_policy: what deleting the stack (or this construct) does to the cluster.
        Default: - ``DESTROY`` (ParallelCluster's default, ``DeletionPolicy: Delete``): the
        head and compute nodes and their volumes are deleted; file systems in
        ``shared_storage`` are not touched. See docs/slurm.md.
    :param queue_update_strategy: ``SlurmSettings.QueueUpdateStrategy``, how ``cdk deploy``
        applies queue changes to a running cluster (the custom resource does not stop the
        fleet): ``"DRAIN"`` lets running jobs finish first, ``"TERMINATE"`` replaces nodes at
        once and also allows lowering ``max_count``. Default: - ``"DRAIN"``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        head_node_subnet: ec2.ISubnet,
        compute_subnets: ec2.SubnetSelection,
        queues: Sequence[SlurmQueue],
        shared_storage: Sequence[SlurmStorage | LustreFileSystemLike | efs.IFileSystem] = (),
        version: str = DEFAULT_PARALLELCLUSTER_VERSION,
        head_node_instance_type: str | None = None,
        os: str = "alinux2023",
        key_pair: ec2.IKeyPair | None = None,
        ssm_access: bool = True,
        cluster_name: str | None = None,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.DESTROY,
        queue_update_strategy: str = "DRAIN",
    ) -> None:
        super().__init__(scope, id)
        v = Validator(self)
        # ParallelCluster 3.16 SlurmSettings.QueueUpdateStrategy values.
        v.one_of("queue_update_strategy", queue_update_strategy, ("DRAIN", "TERMINATE"))
        self.queue_update_strategy = queue_update_strategy

        # --- version, OS, name -------------------------------------------------------------
        match = _VERSION.match(version)
        v.require(
            bool(match) and tuple(int(g) for g in match.groups()) >= MIN_PARALLELCLUSTER_VERSION,  # type: ignore[union-attr]
            "version",
            version,
            "a ParallelCluster release X.Y.Z, 3.6.0 or later (the CloudFormation custom "
            "resource appeared in 3.6.0)",
        )
        v.one_of("os", os, PARALLELCLUSTER_OSES)
        if cluster_name is not None and not is_token(cluster_name):
            v.require(
                bool(_CLUSTER_NAME.match(cluster_name)),
                "cluster_name",
                cluster_name,
                "a letter then letters, digits or hyphens, at most 60 characters",
            )
            stack_name = cdk.Stack.of(self).stack_name
            v.require(
                cluster_name != stack_name,
                "cluster_name",
                cluster_name,
                "a name different from the stack name (ParallelCluster names its own stack "
                "after the cluster)",
            )

        # --- queues and compute resources -------------------------------------------------
        queue_list = list(queues)
        v.require(
            1 <= len(queue_list) <= MAX_QUEUES,
            "queues",
            len(queue_list),
            f"1 to {MAX_QUEUES} queues",
        )
        queue_names = [q.name for q in queue_list]
        v.require(
            len(set(queue_names)) == len(queue_names), "queues", queue_names, "unique queue names"
        )
        total_resources = sum(len(q.compute_resources) for q in queue_list)
        v.require(
            total_resources <= MAX_COMPUTE_RESOURCES,
            "queues",
            total_resources,
            f"at most {MAX_COMPUTE_RESOURCES} compute resources in the cluster",
        )
        resolved: dict[str, list[_ResolvedResource]] = {}
        queue_subnets: dict[str, ec2.SelectedSubnets] = {}
        all_specs: list[InstanceSpec] = []
        for queue in queue_list:
            qp = f"queues[{queue.name}]"
            _check_name(v, f"{qp}.name", queue.name)
            resources = list(queue.compute_resources)
            v.require(
                1 <= len(resources) <= MAX_COMPUTE_RESOURCES,
                f"{qp}.compute_resources",
                len(resources),
                f"1 to {MAX_COMPUTE_RESOURCES} compute resources",
            )
            cr_names = [r.name for r in resources]
            v.require(
                len(set(cr_names)) == len(cr_names),
                f"{qp}.compute_resources",
                cr_names,
                "unique compute resource names within the queue",
            )
            selected = select_subnets(vpc, queue.subnets or compute_subnets)
            queue_subnets[queue.name] = selected
            items: list[_ResolvedResource] = []
            for res in resources:
                items.append(self._resolve_resource(v, qp, res, selected))
                all_specs.extend(items[-1].specs)
            resolved[queue.name] = items
            kinds = sorted({_capacity_type(r.capacity) for r in items})
            v.require(
                len(kinds) <= 1,
                f"{qp}.compute_resources[].capacity",
                kinds,
                "one ParallelCluster capacity type per queue (ONDEMAND, SPOT or "
                "CAPACITY_BLOCK); put other purchase options in another queue",
            )
            if any(r.efa or r.placement for r in items):
                check_single_subnet(
                    v,
                    f"{qp}.subnets",
                    selected,
                    "EFA traffic cannot cross subnets or AZs and a cluster placement group "
                    "lives in one AZ",
                )
            multi_nic = [
                s.instance_type
                for r in items
                if r.efa
                for s in r.specs
                if len(plan_efa_interfaces(s)) > 1
            ]
            check_private_subnets(v, f"{qp}.subnets", selected, multi_nic)

        # --- head node and architecture ------------------------------------------------------
        compute_arch = check_one_architecture(
            v,
            "queues[].compute_resources[].instance_types",
            all_specs,
            "ParallelCluster uses one AMI and requires head and compute nodes to share an "
            "architecture",
        )
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
        check_offerings(
            v, self, "head_node_instance_type", head_specs, [head_node_subnet], "head_node_subnet"
        )

        # --- shared storage ------------------------------------------------------------------
        storages = [as_storage(s) for s in shared_storage]
        check_mount_dirs(v, "shared_storage[].mount_dir", storages)
        storage_names = [s.name for s in storages if s.name is not None]
        for name in storage_names:
            v.require(
                bool(_STORAGE_NAME.match(name)) and name != "default",
                "shared_storage[].name",
                name,
                "1 to 30 letters, digits or + - = . _ : @ /, not 'default'",
            )
        resolved_names = [entry["Name"] for entry in _shared_storage(storages)]
        v.require(
            len(set(resolved_names)) == len(resolved_names),
            "shared_storage[].name",
            resolved_names,
            "a different name per file system (defaults are fsx, fsx2... and efs, efs2...)",
        )
        lustre_count = sum(1 for s in storages if s.is_lustre)
        v.require(
            lustre_count <= MAX_EXISTING_FILE_SYSTEMS,
            "shared_storage",
            lustre_count,
            f"at most {MAX_EXISTING_FILE_SYSTEMS} existing FSx file systems",
        )
        v.require(
            len(storages) - lustre_count <= MAX_EXISTING_FILE_SYSTEMS,
            "shared_storage",
            len(storages) - lustre_count,
            f"at most {MAX_EXISTING_FILE_SYSTEMS} existing EFS file systems",
        )
        v.raise_if_any()

        # --- resources -------------------------------------------------------------------------
        stack = cdk.Stack.of(self)
        self.version = version
        self.os = os
        self.architecture: str = compute_arch or head_specs[0].architecture
        self.head_node_instance_type: str = head_type
        self.removal_policy = removal_policy
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description=f"Shared-storage clients of {self.node.path} (head and compute nodes)",
            allow_all_outbound=False,
        )
        self.connections: ec2.Connections = self.security_group.connections
        self.shared_storage: tuple[SlurmStorage, ...] = tuple(storages)
        for storage in storages:
            fs = storage.file_system
            if storage.is_lustre:
                allow_lustre_clients(fs, self.security_group)  # type: ignore[arg-type]
            else:
                fs.connections.allow_default_port_from(self.security_group, "NFS from Slurm nodes")

        self.provider_stack = cdk.CfnStack(
            self,
            "Provider",
            template_url=PROVIDER_TEMPLATE_URL.format(
                region=stack.region, url_suffix=stack.url_suffix, version=version
            ),
        )
        self.cluster_name: str = cluster_name or cdk.Names.unique_resource_name(
            self, max_length=60, separator="-"
        )
        self.cluster_configuration: dict[str, Any] = self._configuration(
            stack,
            head_node_subnet=head_node_subnet,
            key_pair=key_pair,
            ssm_access=ssm_access,
            queues=queue_list,
            resolved=resolved,
            queue_subnets=queue_subnets,
            storages=storages,
        )
        self.cluster = cdk.CustomResource(
            self,
            "Cluster",
            service_token=self.provider_stack.get_att("Outputs.ServiceToken").to_string(),
            resource_type="Custom::PclusterCluster",
            properties={
                "ClusterName": self.cluster_name,
                "ClusterConfiguration": self.cluster_configuration,
            },
            removal_policy=removal_policy,
        )
        # File systems must accept the nodes before ParallelCluster mounts them.
        for storage in storages:
            for part in dependable_parts(storage.file_system):
                self.cluster.node.add_dependency(part)

        for items in resolved.values():
            for item in items:
                self._warn(item)

    # --- configuration --------------------------------------------------------------------

    def _resolve_resource(
        self,
        v: Validator,
        qp: str,
        res: SlurmComputeResource,
        selected: ec2.SelectedSubnets,
    ) -> _ResolvedResource:
        rp = f"{qp}.compute_resources[{res.name}]"
        _check_name(v, f"{rp}.name", res.name)
        specs = lookup_specs(v, f"{rp}.instance_types", res.instance_types)
        capacity = res.capacity or FleetCapacity.on_demand()
        efa = resolve_efa(v, f"{rp}.efa", res.efa, specs)
        v.require(res.min_count >= 0, f"{rp}.min_count", res.min_count, "0 or more")
        v.require(
            res.max_count >= max(res.min_count, 1),
            f"{rp}.max_count",
            res.max_count,
            f"at least 1 and at least min_count ({res.min_count})",
        )
        if len(specs) > 1:
            shapes = {(s.vcpus, s.gpus) for s in specs}
            v.require(
                len(shapes) == 1,
                f"{rp}.instance_types",
                {s.instance_type: f"{s.vcpus} vCPUs, {s.gpus} GPUs" for s in specs},
                "types with the same vCPU and GPU counts (ParallelCluster flexible instances)",
            )
        check_capacity(v, f"{rp}.capacity", capacity, specs)
        if capacity.is_capacity_block:
            v.require(
                res.min_count == res.max_count and res.max_count > 0,
                f"{rp}.min_count/max_count",
                (res.min_count, res.max_count),
                "equal and above 0: a Capacity Block has a fixed number of instances",
            )
            v.require(
                len(specs) <= 1,
                f"{rp}.instance_types",
                list(res.instance_types),
                "exactly one type: a Capacity Block reserves one instance type",
            )
            v.require(
                res.placement_group is not True,
                f"{rp}.placement_group",
                True,
                "False or None: AWS places a Capacity Block's instances itself",
            )
        placement = (
            res.placement_group
            if res.placement_group is not None
            else efa and not capacity.is_capacity_block
        )
        if placement:
            check_placement(v, f"{rp}.placement_group", specs)
        check_offerings(
            v, self, f"{rp}.instance_types", specs, list(selected.subnets), f"{qp}.subnets"
        )
        return _ResolvedResource(res, specs, capacity, efa, bool(placement))

    def _warn(self, item: _ResolvedResource) -> None:
        res = item.spec
        if res.efa is False and any(s.efa_supported for s in item.specs):
            warn(
                self,
                "efaDisabled",
                f"Compute resource {res.name}: efa=False on an EFA-capable instance type; "
                "MPI/NCCL traffic falls back to TCP over ENA.",
            )
        if item.placement and len(item.specs) > 1:
            warn(
                self,
                "mixedTypesInPlacementGroup",
                f"Compute resource {res.name}: {len(item.specs)} instance types share one "
                "cluster placement group; mixing makes insufficient-capacity errors more likely.",
            )

    def _configuration(
        self,
        stack: cdk.Stack,
        *,
        head_node_subnet: ec2.ISubnet,
        key_pair: ec2.IKeyPair | None,
        ssm_access: bool,
        queues: Sequence[SlurmQueue],
        resolved: dict[str, list[_ResolvedResource]],
        queue_subnets: dict[str, ec2.SelectedSubnets],
        storages: Sequence[SlurmStorage],
    ) -> dict[str, Any]:
        sg = [self.security_group.security_group_id]
        head: dict[str, Any] = {
            "InstanceType": self.head_node_instance_type,
            "Networking": {"SubnetId": head_node_subnet.subnet_id, "AdditionalSecurityGroups": sg},
            "Imds": {"Secured": True},
        }
        if key_pair is not None:
            head["Ssh"] = {"KeyName": key_pair.key_pair_name}
        if ssm_access:
            head["Iam"] = {
                "AdditionalIamPolicies": [
                    {
                        "Policy": f"arn:{stack.partition}:iam::aws:policy/"
                        "AmazonSSMManagedInstanceCore"
                    }
                ]
            }
        slurm_queues = [self._queue(q, resolved[q.name], queue_subnets[q.name], sg) for q in queues]
        config: dict[str, Any] = {
            "Region": stack.region,
            "Imds": {"ImdsSupport": "v2.0"},
            "Image": {"Os": self.os},
            "HeadNode": head,
            "Scheduling": {
                "Scheduler": "slurm",
                # The custom resource does not stop the compute fleet before an update, and
                # ParallelCluster rejects queue changes on a running fleet unless a
                # QueueUpdateStrategy is set (User Guide, "Cluster operations"): DRAIN (the
                # default) lets running jobs finish and replaces nodes afterwards.
                "SlurmSettings": {"QueueUpdateStrategy": self.queue_update_strategy},
                "SlurmQueues": slurm_queues,
            },
        }
        shared = _shared_storage(storages)
        if shared:
            config["SharedStorage"] = shared
        return config

    def _queue(
        self,
        queue: SlurmQueue,
        items: Sequence[_ResolvedResource],
        selected: ec2.SelectedSubnets,
        sg: list[str],
    ) -> dict[str, Any]:
        capacity = items[0].capacity
        out: dict[str, Any] = {"Name": queue.name, "CapacityType": _capacity_type(capacity)}
        strategy = spot_strategy(capacity)
        if strategy is not None:
            out["AllocationStrategy"] = strategy
        exclusive = queue.job_exclusive_allocation
        if exclusive is None:
            exclusive = any(i.efa for i in items)
        out["JobExclusiveAllocation"] = exclusive
        out["Networking"] = {
            "SubnetIds": [s.subnet_id for s in selected.subnets],
            "AdditionalSecurityGroups": sg,
        }
        out["ComputeResources"] = [_compute_resource(i) for i in items]
        return out

    # --- rendering ------------------------------------------------------------------------

    def resolved_configuration(self) -> dict[str, Any]:
        """:attr:`cluster_configuration` with tokens resolved; values only known at deploy
        time (subnet, security group and file system ids) become ``${LogicalId}`` or
        ``${LogicalId.Attribute}`` placeholders naming the template resource."""
        resolved = cdk.Stack.of(self).resolve(self.cluster_configuration)
        return _placeholders(resolved)  # type: ignore[no-any-return]

    def to_yaml(self) -> str:
        """The configuration as a ParallelCluster YAML file for ``pcluster create-cluster``.

        Deploy-time values are ``${...}`` placeholders (see :meth:`resolved_configuration`);
        a header lists them. The stack is the source of truth: a cluster created from this
        file is a second, independent cluster.
        """
        config = self.resolved_configuration()
        found = sorted(set(re.findall(r"\$\{([^}]+)\}", json.dumps(config))))
        header = [
            f"# AWS ParallelCluster {self.version} configuration generated by hpc-constructs "
            f"from {self.node.path}.",
        ]
        if found:
            header.append("# Replace these placeholders with the deployed values:")
            header += [f"#   ${{{name}}}" for name in found]
        return "\n".join(header) + "\n" + _yaml(config, 0) + "\n"


def _check_name(v: Validator, prop: str, name: str) -> None:
    v.require(
        bool(_RESOURCE_NAME.match(name)) and name != "default",
        prop,
        name,
        "a lowercase letter, then lowercase letters, digits or hyphens, at most 25 characters, "
        "not 'default'",
    )


def _compute_resource(item: _ResolvedResource) -> dict[str, Any]:
    res = item.spec
    out: dict[str, Any] = {"Name": res.name}
    types = list(res.instance_types)
    if len(types) == 1:
        out["InstanceType"] = types[0]
    else:
        out["Instances"] = [{"InstanceType": t} for t in types]
    out["MinCount"] = res.min_count
    out["MaxCount"] = res.max_count
    if item.efa or any(s.efa_supported for s in item.specs):
        out["Efa"] = {"Enabled": item.efa}
    capacity = item.capacity
    if capacity.is_spot and capacity.spot_max_price is not None:
        out["SpotPrice"] = float(capacity.spot_max_price)
    if capacity.kind in (CapacityKind.CAPACITY_RESERVATION, CapacityKind.CAPACITY_BLOCK):
        target: dict[str, str] = {}
        if capacity.reservation_id is not None:
            target["CapacityReservationId"] = capacity.reservation_id
        if capacity.resource_group_arn is not None:
            target["CapacityReservationResourceGroupArn"] = capacity.resource_group_arn
        out["CapacityReservationTarget"] = target
    # ParallelCluster wants the placement-group choice explicit for EFA resources (except
    # Capacity Blocks, which AWS places itself).
    explicit = item.efa or item.placement or res.placement_group is False
    if explicit and (not capacity.is_capacity_block or item.placement):
        out["Networking"] = {"PlacementGroup": {"Enabled": item.placement}}
    return out


def _shared_storage(storages: Sequence[SlurmStorage]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    counts = {"fsx": 0, "efs": 0}
    for storage in storages:
        kind = "fsx" if storage.is_lustre else "efs"
        counts[kind] += 1
        name = storage.name or (kind if counts[kind] == 1 else f"{kind}{counts[kind]}")
        fs = storage.file_system
        if storage.is_lustre:
            out.append(
                {
                    "Name": name,
                    "MountDir": storage.resolved_mount_dir(),
                    "StorageType": "FsxLustre",
                    "FsxLustreSettings": {"FileSystemId": fs.file_system_id},
                }
            )
        else:
            out.append(
                {
                    "Name": name,
                    "MountDir": storage.resolved_mount_dir(),
                    "StorageType": "Efs",
                    "EfsSettings": {"FileSystemId": fs.file_system_id},
                }
            )
    return out


def _placeholders(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref" and isinstance(arg, str):
                return f"${{{arg}}}"
            if key == "Fn::GetAtt" and isinstance(arg, list):
                return "${" + ".".join(str(a) for a in arg) + "}"
            if key == "Fn::Join" and isinstance(arg, list) and len(arg) == 2:
                return str(arg[0]).join(str(_placeholders(p)) for p in arg[1])
        return {k: _placeholders(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_placeholders(v) for v in value]
    return value


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    return json.dumps(str(value))  # a JSON string is a valid YAML double-quoted scalar


def _yaml(value: Any, indent: int) -> str:
    """A small block-style YAML writer for dicts, lists and scalars (no PyYAML at runtime)."""
    pad = "  " * indent
    if isinstance(value, dict):
        if not value:
            return pad + "{}"
        lines = []
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}{key}:")
                lines.append(_yaml(item, indent + 1))
            else:
                rendered = "[]" if item == [] else "{}" if item == {} else _scalar(item)
                lines.append(f"{pad}{key}: {rendered}")
        return "\n".join(lines)
    if isinstance(value, list):
        lines = []
        for item in value:
            if isinstance(item, (dict, list)) and item:
                body = _yaml(item, indent + 1).lstrip()
                lines.append(f"{pad}- {body}")
            else:
                lines.append(f"{pad}- {_scalar(item)}")
        return "\n".join(lines)
    return pad + _scalar(value)
