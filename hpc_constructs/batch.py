"""AWS Batch multi-node parallel (MNP) jobs on EFA instances: one compute environment on an EFA
launch template in a cluster placement group, a job queue, and job definitions whose containers
get every EFA device, unlimited locked memory and the shared Lustre mounts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_batch as batch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from hpc_constructs import limits
from hpc_constructs.capacity import FleetCapacity
from hpc_constructs.catalog import efa_device_paths, plan_efa_interfaces, supports_placement
from hpc_constructs.compute import (
    RESERVATION_PLACEMENT_WARNING,
    check_offerings,
    check_private_subnets,
    lookup_specs,
    reservation_needs_its_placement_group,
    select_subnets,
)
from hpc_constructs.efa import (
    create_efa_security_group,
    efa_boot_commands,
    efa_launch_template,
    launch_template_interfaces,
)
from hpc_constructs.errors import Validator, warn
from hpc_constructs.mounts import LustreFileSystemLike, allow_lustre_clients, lustre_mount_commands

#: Where a single Lustre file system (or the first of a sequence) is mounted on the hosts and in
#: the containers; the n-th file system of a sequence (n >= 2) goes to ``/fsx<n>``.
DEFAULT_MOUNT_POINT = "/fsx"

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
_MOUNT_PATH = re.compile(r"^/[A-Za-z0-9._/-]+$")


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


class BatchMultiNode(Construct):
    """AWS Batch multi-node parallel jobs with EFA, a cluster placement group and shared Lustre.

    Creates a managed EC2 compute environment (``compute_environment``) of one instance type on
    a launch template (``launch_template``) whose network interfaces are the instance type's EFA
    layout, a security group that allows all traffic to and from itself (``security_group``,
    ``connections``), a cluster placement group (``placement_group``) and a job queue
    (``job_queue``). ``add_job`` adds ``batch.MultiNodeJobDefinition`` s wired for EFA.

    :param vpc: the VPC to launch the nodes in.
    :param vpc_subnets: must select exactly one subnet: EFA traffic does not cross subnets or
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
    :param placement_group: the placement group of the nodes. Default: - a new cluster placement
        group; none for a Capacity Block (AWS places it) or a Capacity Reservation (pass the
        group the reservation was created in; without it this warns
        ``hpc-constructs:reservationWithoutPlacementGroup``).
    :param capacity: On-Demand, a Capacity Reservation or a Capacity Block (targeted through the
        launch template). Spot is an error. Default: - ``FleetCapacity.on_demand()``.
    :param file_systems: Lustre file systems mounted on every host at boot and passed to every
        container as host volumes at the same path: a sequence (the first at ``/fsx``, the
        n-th at ``/fsx<n>``) or a mapping of mount point to file system. Default: - none.
    :param machine_image: the ECS AMI of the nodes. Default: - ECS-optimized Amazon Linux 2023
        (``ECS_AL2023``), or its NVIDIA variant (``ECS_AL2023_NVIDIA``) for GPU types.
    :param install_efa_software: install the EFA software at boot when the AMI lacks it (the
        ECS-optimized AMIs do not ship it), then verify the devices either way.
        Default: - True.
    :param root_volume_size_gib: encrypted gp3 root volume, which also holds container images.
        Default: - 100.
    :param security_group: the nodes' security group; with EFA, rules allowing all traffic to
        and from itself are added to it. Default: - a new group that has them (plus HTTPS
        egress).
    :param instance_role: the nodes' EC2 role. Default: - a role with the
        AmazonEC2ContainerServiceforEC2Role managed policy (created by the Batch L2).
    :param job_queue_priority: priority of the job queue (higher runs first among queues that
        share compute environments). Default: - 1.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        vpc_subnets: ec2.SubnetSelection,
        instance_type: str,
        max_nodes: int,
        min_nodes: int = 0,
        efa: bool | None = None,
        placement_group: ec2.IPlacementGroup | None = None,
        capacity: FleetCapacity | None = None,
        file_systems: Sequence[LustreFileSystemLike] | Mapping[str, LustreFileSystemLike] = (),
        machine_image: batch.EcsMachineImage | None = None,
        install_efa_software: bool = True,
        root_volume_size_gib: int = 100,
        security_group: ec2.ISecurityGroup | None = None,
        instance_role: iam.IRole | None = None,
        job_queue_priority: int = 1,
    ) -> None:
        super().__init__(scope, id)
        capacity = capacity if capacity is not None else FleetCapacity.on_demand()
        v = Validator(self)

        specs = lookup_specs(v, "instance_type", [instance_type])
        spec = specs[0] if specs else None

        selected = select_subnets(vpc, vpc_subnets)
        subnets = selected.subnets
        if spec is not None and spec.efa_supported and efa is not False:
            check_private_subnets(v, "vpc_subnets", selected, [instance_type])
        if placement_group is not None and placement_group.strategy is not None:
            v.require(
                placement_group.strategy == ec2.PlacementGroupStrategy.CLUSTER,
                "placement_group",
                f"{placement_group.node.path} ({placement_group.strategy.name})",
                "a CLUSTER placement group (AWS Batch: all instances that use EFA must be in "
                "the same cluster placement group)",
            )
        v.require(
            len(subnets) == 1,
            "vpc_subnets",
            f"{len(subnets)} subnets",
            "a selection of exactly one subnet (EFA traffic and cluster placement groups stay "
            "in one subnet / Availability Zone)",
        )
        v.in_range("max_nodes", max_nodes, 1, 100_000)
        v.require(
            isinstance(min_nodes, int) and 0 <= min_nodes <= max_nodes,
            "min_nodes",
            min_nodes,
            f"0 to max_nodes ({max_nodes})",
        )
        v.require(
            not capacity.is_spot,
            "capacity",
            "FleetCapacity.spot()",
            "on_demand(), capacity_reservation(...) or capacity_block(...)",
            _SPOT_REASON,
        )
        if capacity.is_capacity_block:
            v.require(
                placement_group is None,
                "placement_group",
                "a placement group",
                "none with a Capacity Block (AWS places the block's instances itself)",
            )
        v.in_range("root_volume_size_gib", root_volume_size_gib, 30, 16_384, "GiB")
        v.in_range("job_queue_priority", job_queue_priority, 0, 1000)

        mounts = _mount_table(file_systems)
        for path in mounts:
            v.require(
                bool(_MOUNT_PATH.match(path)) and path != "/" and "//" not in path,
                "file_systems",
                path,
                "absolute mount points such as /fsx (letters, digits, . _ - /)",
            )

        if spec is not None:
            efa_supported = spec.efa_supported and spec.max_efa_interfaces > 0
            if efa is True:
                v.require(
                    efa_supported,
                    "efa",
                    True,
                    "False or None for an instance type without EFA",
                    f"{instance_type} does not support EFA",
                )
            v.require(
                capacity.usage_class in spec.usage_classes,
                "instance_type",
                instance_type,
                f"a type sold as {capacity.usage_class}",
            )
            if placement_group is None and not capacity.is_capacity_block:
                v.require(
                    supports_placement(spec, "cluster"),
                    "instance_type",
                    instance_type,
                    "a type that supports cluster placement groups (or pass placement_group)",
                )
            check_offerings(v, self, "instance_type", specs, subnets, "vpc_subnets")
        v.raise_if_any()
        assert spec is not None  # raise_if_any() raised otherwise

        #: The catalog facts of ``instance_type``.
        self.instance_spec = spec
        self.instance_type = instance_type
        self.max_nodes = max_nodes
        self.min_nodes = min_nodes
        self.capacity = capacity
        #: Mount point -> Lustre file system, on the hosts and in every container.
        self.mount_points: dict[str, LustreFileSystemLike] = mounts
        #: Whether the nodes get EFA interfaces (resolved default).
        self.efa_enabled = bool(spec.efa_supported and spec.max_efa_interfaces > 0)
        if efa is False and self.efa_enabled:
            warn(
                self,
                "efaDisabled",
                f"{instance_type} supports EFA but efa=False: MPI/NCCL traffic between nodes "
                "will use TCP.",
            )
            self.efa_enabled = False
        #: Compute environment vCPU bounds (resolved from the node counts).
        self.max_vcpus = max_nodes * spec.vcpus
        self.min_vcpus = min_nodes * spec.vcpus

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
        self.connections = ec2.Connections(security_groups=[self.security_group])
        for fs in mounts.values():
            allow_lustre_clients(fs, self.connections)

        if reservation_needs_its_placement_group(capacity, placement_group, self.efa_enabled):
            warn(self, "reservationWithoutPlacementGroup", RESERVATION_PLACEMENT_WARNING)
        elif placement_group is None and not capacity.is_capacity_block:
            placement_group = ec2.PlacementGroup(
                self, "PlacementGroup", strategy=ec2.PlacementGroupStrategy.CLUSTER
            )
        #: The nodes' placement group (None for a Capacity Block).
        self.placement_group: ec2.IPlacementGroup | None = placement_group

        # Batch requires MIME multi-part user data in launch templates; the shell part is
        # exposed as ``user_data`` so callers can add their own boot commands.
        self.user_data = ec2.UserData.for_linux()
        multipart = ec2.MultipartUserData()
        multipart.add_user_data_part(self.user_data, ec2.MultipartBody.SHELL_SCRIPT, True)
        # The ECS agent starts after cloud-init whether or not this script succeeds: on any
        # failed step (Lustre mount, EFA check) stop it from registering, so Batch does not
        # place jobs on a node without its file systems or EFA devices.
        self.user_data.add_commands(
            "set -eo pipefail",
            'trap \'rc=$?; if [ "$rc" -ne 0 ]; then echo "hpc-constructs boot failed ($rc): '
            "ECS agent disabled\" >&2; systemctl disable --now --no-block ecs; fi' EXIT",
        )
        for path, fs in mounts.items():
            self.user_data.add_commands(*lustre_mount_commands(fs, path))
        if self.efa_enabled:
            self.user_data.add_commands(*efa_boot_commands(spec, install=install_efa_software))

        self.launch_template = efa_launch_template(
            self,
            "LaunchTemplate",
            # Root device of the ECS-optimized Amazon Linux 2023 AMIs (the default).
            root_volume_size_gib=root_volume_size_gib,
            capacity=capacity,
            interfaces=launch_template_interfaces(plan_efa_interfaces(spec), [self.security_group])
            if self.efa_enabled
            else None,
            user_data=multipart,
            http_endpoint=True,
        )

        if machine_image is None:
            machine_image = batch.EcsMachineImage(
                image_type=(
                    batch.EcsMachineImageType.ECS_AL2023_NVIDIA
                    if spec.is_gpu
                    else batch.EcsMachineImageType.ECS_AL2023
                )
            )
        self.machine_image = machine_image

        self.compute_environment = batch.ManagedEc2EcsComputeEnvironment(
            self,
            "ComputeEnvironment",
            vpc=vpc,
            vpc_subnets=vpc_subnets,
            instance_types=[ec2.InstanceType(instance_type)],
            use_optimal_instance_classes=False,
            images=[machine_image],
            maxv_cpus=self.max_vcpus,
            minv_cpus=self.min_vcpus,
            spot=False,
            allocation_strategy=batch.AllocationStrategy.BEST_FIT_PROGRESSIVE,
            launch_template=self.launch_template,
            placement_group=placement_group,
            security_groups=[self.security_group],
            instance_role=instance_role,
            update_to_latest_image_version=True,
        )
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
        #: The nodes' EC2 role.
        self.instance_role: iam.IRole | None = self.compute_environment.instance_role
        if instance_role is None and self.instance_role is not None:
            cdk.Validations.of(self.instance_role).acknowledge(
                cdk.Acknowledgment(
                    id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
                    "service-role/AmazonEC2ContainerServiceforEC2Role]",
                    reason="Batch needs the ECS instance role managed policy "
                    "(AmazonEC2ContainerServiceforEC2Role) so the ECS agent on each node can "
                    "register with the cluster, pull images and write logs",
                )
            )

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
        #: Job definitions added with ``add_job``, in order.
        self.jobs: list[batch.MultiNodeJobDefinition] = []
        self._execution_role: iam.Role | None = None
        self._submitters: list[iam.IGrantable] = []

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
                    id=f"AwsSolutions-IAM5[Resource::{_nag_text(self, job_logs.log_group_arn)}]",
                    reason="Batch names each job's log stream at run time; the only wildcard is "
                    "the stream name inside the one log group Batch writes to (/aws/batch/job), "
                    "and only CreateLogStream/PutLogEvents are allowed",
                )
            )
        return self._execution_role

    # --- jobs -------------------------------------------------------------------------------

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
        ``shared_memory_size``, the Lustre mounts and :attr:`efa_environment`.

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
        limit = min(self.max_nodes, limits.BATCH_MAX_NODES)
        v.require(
            1 <= num_nodes <= limit,
            "num_nodes",
            num_nodes,
            f"1 to {limit} (max_nodes of {self.node.path} is {self.max_nodes}; Batch allows "
            f"at most {limits.BATCH_MAX_NODES} nodes per job)",
        )
        ranges = list(node_ranges) if node_ranges is not None else [NodeRange(0, num_nodes - 1)]
        for problem in limits.node_range_problems(
            max(num_nodes, 1), main_node, [r.target_nodes for r in ranges]
        ):
            if problem.startswith("NumNodes"):
                continue  # reported above with the construct's own limit
            if problem.startswith("MainNode"):
                v.add("main_node", main_node, f"0 to {num_nodes - 1} (below num_nodes)", problem)
            else:
                v.add(
                    "node_ranges",
                    [r.target_nodes for r in ranges],
                    f"1 to {limits.BATCH_MAX_NODE_RANGES} ranges 'start:end' that together cover "
                    f"nodes 0:{num_nodes - 1}",
                    problem,
                )
        self._check_resources(v, "", vcpus, memory, gpus, shared_memory_size)
        for r in ranges:
            self._check_resources(v, f"node_ranges[{r.target_nodes}].", r.vcpus, r.memory, r.gpus)
        v.in_range("retry_attempts", retry_attempts, 1, 10)
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
                image=r.image if r.image is not None else image,
                command=r.command if r.command is not None else command,
                environment={**(environment or {}), **(r.environment or {})},
                vcpus=r.vcpus if r.vcpus is not None else vcpus,
                memory=r.memory if r.memory is not None else memory,
                gpus=r.gpus if r.gpus is not None else gpus,
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
        *,
        image: str | ecs.ContainerImage,
        command: Sequence[str],
        environment: Mapping[str, str],
        vcpus: int | None,
        memory: cdk.Size | None,
        gpus: int | None,
        shared_memory_size: cdk.Size | None,
        job_role: iam.IRole | None,
    ) -> batch.EcsEc2ContainerDefinition:
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
        return batch.EcsEc2ContainerDefinition(
            scope,
            id,
            image=ecs.ContainerImage.from_registry(image) if isinstance(image, str) else image,
            command=list(command),
            cpu=vcpus if vcpus is not None else spec.vcpus,
            memory=node_memory,
            gpu=gpu_count or None,
            environment={**self.efa_environment, **environment},
            # EFA registers (pins) buffers with the device: locked memory must be unlimited.
            ulimits=[batch.Ulimit(name=batch.UlimitName.MEMLOCK, soft_limit=-1, hard_limit=-1)],
            linux_parameters=linux,
            volumes=[
                batch.EcsVolume.host(
                    name=_volume_name(path), host_path=path, container_path=path, readonly=False
                )
                for path in self.mount_points
            ],
            execution_role=self.execution_role,
            job_role=job_role,
        )

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


def _mount_table(
    file_systems: Sequence[LustreFileSystemLike] | Mapping[str, LustreFileSystemLike],
) -> dict[str, LustreFileSystemLike]:
    if isinstance(file_systems, Mapping):
        return {path.rstrip("/") or "/": fs for path, fs in file_systems.items()}
    table: dict[str, LustreFileSystemLike] = {}
    for index, fs in enumerate(file_systems):
        table[DEFAULT_MOUNT_POINT if index == 0 else f"{DEFAULT_MOUNT_POINT}{index + 1}"] = fs
    return table


def _nag_text(scope: Construct, value: str) -> str:
    """``value`` as cdk-nag prints it inside a finding id (``<AWS::Region>``, ``<Id.Attr>``)."""

    def text(part: Any) -> str:
        if isinstance(part, str):
            return part
        if isinstance(part, dict) and "Ref" in part:
            return f"<{part['Ref']}>"
        if isinstance(part, dict) and "Fn::GetAtt" in part:
            return "<{}.{}>".format(*part["Fn::GetAtt"])
        if isinstance(part, dict) and "Fn::Join" in part:
            return str(part["Fn::Join"][0]).join(text(p) for p in part["Fn::Join"][1])
        return str(part)

    return text(cdk.Stack.of(scope).resolve(value))


def _volume_name(path: str) -> str:
    """A Batch volume name (letters, digits, hyphens, underscores) for a mount point."""
    return "lustre" + re.sub(r"[^A-Za-z0-9]+", "-", path).rstrip("-")


__all__ = ["BatchMultiNode", "NodeRange"]
