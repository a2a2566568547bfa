"""``BatchGrid``: AWS Batch queues for loosely coupled work (array jobs, parameter sweeps, Monte
Carlo) on diversified Spot capacity across Availability Zones, with an On-Demand fallback and
an optional Fargate Spot queue for small tasks.

Props become a :class:`~hpc_constructs.grid.plan.GridPlan` (``plan.py``: pure rules, every
problem reported together); this module renders it with aws-cdk-lib's ``aws_batch`` L2s.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_batch as batch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from hpc_constructs.batch import batch_image_rule, host_volume, volume_name_rule
from hpc_constructs.boot import (
    BootPlan,
    gate_for,
    log_retention_rule,
    user_data_script,
)
from hpc_constructs.capacity import FleetCapacity
from hpc_constructs.compute import select_subnets, subnet_facts
from hpc_constructs.efa import efa_launch_template
from hpc_constructs.errors import (
    Validator,
    check_prop_types,
    nag_text,
    needs_concrete_value,
    warn,
)
from hpc_constructs.grid.job import (
    ARRAY_SIZE_VARIABLE,
    GridJob,
    ec2_container,
    fargate_container,
)
from hpc_constructs.grid.plan import (
    GridPlan,
    GridProps,
    GridShare,
    InstanceRequirements,
    JobAsk,
    JobPlan,
)
from hpc_constructs.grid.plan import plan_grid as _plan_grid
from hpc_constructs.grid.plan import plan_job as _plan_job
from hpc_constructs.image.construct import image_facts_of
from hpc_constructs.node_telemetry import (
    DEFAULT_LOG_RETENTION,
    LogRetention,
    render_node_telemetry,
    telemetry_step,
)
from hpc_constructs.nodes import (
    FileSystemInput,
    NodeLauncher,
    SharedFileSystem,
    SubnetsInput,
    UserDataInput,
    allow_file_system_clients,
    as_subnet_selection,
    check_mount_points,
    lazy_text,
    mount_dependables,
    mount_step,
    resolve_added_file_system,
    resolve_file_systems,
    stack_region,
    user_data_commands,
)

#: The EventBridge detail type of Batch job state changes (AWS Batch User Guide, "Job state
#: change events"); the grid's failure rule matches ``status: FAILED`` on its queues.
JOB_STATE_CHANGE = "Batch Job State Change"


class BatchGrid(NodeLauncher):
    """AWS Batch job queues for loosely coupled, embarrassingly parallel work on Spot.

    Creates, from a diversified pool of instance types (``instance_types``, or picked from the
    instance catalog by ``instance_requirements``):

    - a managed EC2 Spot compute environment (``spot_compute_environment``) with the
      ``SPOT_PRICE_CAPACITY_OPTIMIZED`` allocation strategy, in every subnet of
      ``vpc_subnets`` (several Availability Zones; no placement group, no EFA);
    - an On-Demand compute environment (``on_demand_compute_environment``) after it in the job
      queue's order, the fallback when Spot is short (``on_demand_fallback``);
    - a job queue (``job_queue``) over them, with a fair-share scheduling policy when
      ``shares`` are given, and an optional Fargate Spot environment and queue for small tasks
      (``fargate_job_queue``: Batch does not mix EC2 and Fargate in one queue);
    - a launch template (IMDSv2, encrypted gp3 root volume) whose boot set-up
      (:mod:`hpc_constructs.boot`) mounts the shared file systems and stripes the instance
      store, a security group (HTTPS egress, file-system ports) and the nodes' role;
    - with ``job_failure_target``, an EventBridge rule sending the queues' FAILED job events to
      it (``job_failure_rule``).

    ``add_job`` adds job definitions (array jobs up to 10,000 children) whose retry strategy
    retries Spot reclamation and fails fast on application errors. The construct is a
    :class:`~hpc_constructs.nodes.NodeLauncher` (``connections``, ``role``,
    ``grant_principal``, ``file_systems`` / ``add_file_system``, ``add_user_data``); each job is
    ``iam.IGrantable`` for its own job role.

    :param vpc: the VPC of the nodes.
    :param max_vcpus: the Spot environment's vCPU ceiling (its ``maxvCpus``; Batch may exceed
        it by one instance). With ``spot=False``, the On-Demand environment's.
    :param vpc_subnets: an ``ec2.SubnetSelection``, one ``ec2.ISubnet`` or a list of them:
        several AZs give Spot more capacity pools. Default: - the VPC's private subnets.
    :param instance_requirements: what the instance types must have; the pool is picked from
        the instance catalog (offered in the region and every subnet's AZ, sold as Spot and
        On-Demand) and diversified across families and generations. Default: - ``c``/``m``/
        ``r`` x86_64 types of 2 to 64 vCPUs and 2 to 8 GiB per vCPU, up to 12 types.
    :param instance_types: the pool, by name, instead of ``instance_requirements``. Default: -
        picked by ``instance_requirements``.
    :param min_vcpus: vCPUs the first environment keeps running when idle. Default: - 0.
    :param spot: use Spot; ``False`` makes a single On-Demand environment. Default: - True.
    :param on_demand_fallback: add the On-Demand environment after the Spot one. Default: -
        True.
    :param on_demand_max_vcpus: the fallback's ceiling. Default: - a quarter of ``max_vcpus``
        (at least the largest type's vCPUs), so a Spot drought cannot quietly move the whole
        grid to On-Demand prices.
    :param spot_bid_percentage: the most a Spot Instance may cost, in percent of On-Demand.
        Default: - none (up to the On-Demand price, as AWS recommends).
    :param fargate_max_vcpus: add a Fargate Spot environment and queue of this ceiling for
        small tasks (``add_job(fargate=True)``). Default: - none.
    :param shares: fair-share identifiers and weights for a multi-team queue (jobs are then
        submitted with ``--share-identifier``). Default: - none (first in, first out).
    :param share_decay: how long past usage counts in the fair-share calculation (up to a
        week). Default: - Batch's default (600 seconds) when ``shares`` are given.
    :param compute_reservation: percent of vCPUs kept for share identifiers not yet active
        (0-99). Default: - none.
    :param file_systems: FSx for Lustre or EFS file systems mounted on every host and passed to
        every EC2 job's container at the same path (not to Fargate tasks). Default: - none.
    :param machine_image: the ECS AMI, e.g. ``HpcImage(base=ImageBase.ECS_OPTIMIZED)
        .ecs_machine_image`` (its nodes then install nothing at boot). Default: -
        ECS-optimized Amazon Linux 2023, its NVIDIA variant for a GPU pool.
    :param user_data: commands (or an ``ec2.UserData``) each node runs once, on its first
        boot, after the mounts. Default: - none (see ``add_user_data``).
    :param root_volume_size_gib: encrypted gp3 root volume (holds container images).
        Default: - 50.
    :param security_group: the nodes' security group. Default: - a new group with HTTPS
        egress (file-system ports are added through ``connections``).
    :param role: the nodes' EC2 role. Default: - a role with AmazonEC2ContainerServiceforEC2Role.
    :param job_queue_priority: the queues' priority. Default: - 1.
    :param health_gate: keep a node whose boot set-up or ``add_user_data`` commands fail out
        of service: the ECS agent waits for the set-up and a failed node powers off, so Batch
        replaces it. ``False``: the failure is only logged. Default: - True.
    :param telemetry: the CloudWatch agent on every node (logs to ``log_group``, node metrics
        in ``HpcConstructs/Nodes``; see ``EfaComputeFleet``). Default: - ``True``.
    :param log_retention: a ``logs.RetentionDays`` or a number of days CloudWatch Logs
        accepts. Default: - 180 days.
    :param job_failure_target: where FAILED job events of the grid's queues go (an SNS topic
        target, a Lambda...). Default: - no rule (see ``add_job_failure_target``).
    """

    @check_prop_types
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        max_vcpus: int,
        vpc_subnets: SubnetsInput | None = None,
        instance_requirements: InstanceRequirements | None = None,
        instance_types: Sequence[str] | None = None,
        min_vcpus: int = 0,
        spot: bool = True,
        on_demand_fallback: bool = True,
        on_demand_max_vcpus: int | None = None,
        spot_bid_percentage: int | None = None,
        fargate_max_vcpus: int | None = None,
        shares: Sequence[GridShare] | None = None,
        share_decay: cdk.Duration | None = None,
        compute_reservation: int | None = None,
        file_systems: Sequence[FileSystemInput] | Mapping[str, FileSystemInput] | None = None,
        machine_image: batch.EcsMachineImage | None = None,
        user_data: UserDataInput | None = None,
        root_volume_size_gib: int = 50,
        security_group: ec2.ISecurityGroup | None = None,
        role: iam.IRole | None = None,
        job_queue_priority: int = 1,
        job_failure_target: events.IRuleTarget | None = None,
        health_gate: bool = True,
        telemetry: bool = True,
        log_retention: LogRetention = DEFAULT_LOG_RETENTION,
    ) -> None:
        super().__init__(scope, id)
        self._health_gate = health_gate
        v = Validator(self)
        log_retention_rule(v, log_retention if isinstance(log_retention, int) else None)
        selection = as_subnet_selection(v, "vpc_subnets", vpc_subnets) or ec2.SubnetSelection(
            subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS
        )
        commands = user_data_commands(v, "user_data", user_data)
        shared = resolve_file_systems(v, "file_systems", file_systems)
        check_mount_points(v, "file_systems", shared)
        volume_name_rule(v, "file_systems", shared)
        for prop, value in (("max_vcpus", max_vcpus), ("min_vcpus", min_vcpus)):
            needs_concrete_value(v, prop, value, "it sizes the compute environments")
        facts = subnet_facts(select_subnets(vpc, selection))
        props = GridProps(
            max_vcpus=max_vcpus,
            min_vcpus=min_vcpus,
            spot=spot,
            on_demand_fallback=on_demand_fallback,
            on_demand_max_vcpus=on_demand_max_vcpus,
            fargate_max_vcpus=fargate_max_vcpus,
            spot_bid_percentage=spot_bid_percentage,
            root_volume_size_gib=root_volume_size_gib,
            job_queue_priority=job_queue_priority,
            shares=tuple(shares or ()),
            share_decay_seconds=None if share_decay is None else int(share_decay.to_seconds()),
            compute_reservation=compute_reservation,
        )
        plan = None
        if not v.problems:
            plan = _plan_grid(
                v,
                props,
                instance_types=instance_types,
                requirements=instance_requirements,
                region=stack_region(self),
                zones=facts.subnets,
            )
        self._render_facts(v.checked(plan))
        self._render_network(vpc, security_group, shared)
        self._render_launch_template(root_volume_size_gib)
        self._render_role(role)
        self._render_telemetry(telemetry, log_retention)
        self._render_compute_environments(vpc, selection, machine_image, spot_bid_percentage)
        self._render_queues(job_queue_priority, share_decay, compute_reservation)
        self.add_user_data(*commands)
        if job_failure_target is not None:
            self.add_job_failure_target(job_failure_target)

    # --- rendering --------------------------------------------------------------------------

    def _render_telemetry(self, telemetry: bool, log_retention: LogRetention) -> None:
        #: The nodes' log group (boot, cloud-init and system logs); None without telemetry.
        self.log_group: logs.LogGroup | None = (
            render_node_telemetry(self, self.role, retention=log_retention) if telemetry else None
        )

    def _render_facts(self, plan: GridPlan) -> None:
        #: Every decision of the construct's rules, as plain values.
        self.plan = plan
        #: The pool, in the order the diversification chose it.
        self.instance_types: tuple[str, ...] = plan.instance_types
        self.max_vcpus = plan.max_vcpus
        self.on_demand_max_vcpus = plan.on_demand_max_vcpus
        #: Job definitions added with ``add_job``, in order.
        self.jobs: list[GridJob] = []
        self._ec2_containers: list[batch.EcsEc2ContainerDefinition] = []
        self._execution_role: iam.Role | None = None
        self._submitters: list[iam.IGrantable] = []
        #: The EventBridge rule for FAILED jobs (``add_job_failure_target``), else None.
        self.job_failure_rule: events.Rule | None = None
        if plan.warn_single_family:
            warn(
                self,
                "singleFamilySpotPool",
                f"The Spot pool has one instance family ({plan.families[0]}): when that "
                "family runs short in the region, every task waits or falls back to On-Demand. "
                "Add types of other families and generations (instance_requirements picks "
                "them from the catalog).",
            )

    def _render_network(
        self,
        vpc: ec2.IVpc,
        security_group: ec2.ISecurityGroup | None,
        shared: Sequence[SharedFileSystem],
    ) -> None:
        if security_group is None:
            group = ec2.SecurityGroup(
                self,
                "SecurityGroup",
                vpc=vpc,
                description="AWS Batch grid nodes: HTTPS egress and file-system clients",
                allow_all_outbound=False,
            )
            group.add_egress_rule(
                ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to AWS APIs and image registries"
            )
            security_group = group
        #: The nodes' (and Fargate tasks') security group.
        self.security_group: ec2.ISecurityGroup = security_group
        self._node_connections = ec2.Connections(security_groups=[security_group])
        #: The shared file systems, mounted on the hosts and in every EC2 job's container.
        self.file_systems: list[SharedFileSystem] = []
        for item in shared:
            allow_file_system_clients(item, self.connections)
            self.file_systems.append(item)

    def _render_launch_template(self, root_volume_size_gib: int) -> None:
        # Batch requires MIME multi-part user data in launch templates; the shell part is
        # exposed as ``user_data``. Rendered at synth time, so file systems and commands added
        # later are part of it; ``add_user_data`` commands run once, after the set-up.
        self._user_commands: list[str] = []
        self.user_data = ec2.UserData.for_linux()
        multipart = ec2.MultipartUserData()
        multipart.add_user_data_part(self.user_data, ec2.MultipartBody.SHELL_SCRIPT, True)
        self.user_data.add_commands(
            lazy_text(lambda: "\n".join(user_data_script(self.boot_plan, self._user_commands)))
        )
        self.launch_template = efa_launch_template(
            self,
            "LaunchTemplate",
            root_volume_size_gib=root_volume_size_gib,
            capacity=FleetCapacity.on_demand(),  # Batch sets each environment's market
            interfaces=None,
            user_data=multipart,
            http_endpoint=True,
        )

    @property
    def boot_plan(self) -> BootPlan:
        """What every node does at boot (read at synth time, after every ``add_*`` call): the
        instance store striped at ``/scratch/local`` when every type has one, the shared file
        systems; the ECS agent waits for them, and a node that fails them keeps the agent
        stopped and powers off (unless ``health_gate=False``), so Batch replaces it."""
        return BootPlan(
            launcher="BatchGrid",
            instance_type=f"a pool of {len(self.instance_types)} instance types",
            instance_store_disks=self.plan.instance_store_disks,
            mounts=tuple(mount_step(item) for item in self.file_systems),
            gate=gate_for("ecs", self._health_gate),
            required_by=("ecs",) if self._health_gate else (),
            image=image_facts_of(self.machine_image),
            telemetry=None
            if self.log_group is None
            else telemetry_step(
                self.log_group,
                self.node.path,
                efa=False,
                gpu=any(s.is_gpu for s in self.plan.specs),
            ),
        )

    def _render_role(self, role: iam.IRole | None) -> None:
        if role is None:
            created = iam.Role(
                self,
                "NodeRole",
                assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
                description="AWS Batch grid nodes (ECS container instances)",
                managed_policies=[
                    iam.ManagedPolicy.from_aws_managed_policy_name(
                        "service-role/AmazonEC2ContainerServiceforEC2Role"
                    )
                ],
            )
            cdk.Validations.of(created).acknowledge(
                cdk.Acknowledgment(
                    id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
                    "service-role/AmazonEC2ContainerServiceforEC2Role]",
                    reason="Batch needs the ECS instance role managed policy "
                    "(AmazonEC2ContainerServiceforEC2Role) so the ECS agent on each node can "
                    "register with the cluster, pull images and write logs",
                )
            )
            role = created
        # One role for the Spot and the On-Demand environment: grants reach every node.
        self._node_role = role

    def _ec2_environment(
        self,
        id: str,
        vpc: ec2.IVpc,
        selection: ec2.SubnetSelection,
        image: batch.EcsMachineImage,
        **props: Any,
    ) -> batch.ManagedEc2EcsComputeEnvironment:
        environment = batch.ManagedEc2EcsComputeEnvironment(
            self,
            id,
            vpc=vpc,
            vpc_subnets=selection,
            instance_types=[ec2.InstanceType(t) for t in self.instance_types],
            use_optimal_instance_classes=False,
            images=[image],
            launch_template=self.launch_template,
            security_groups=[self.security_group],
            instance_role=self._node_role,
            update_to_latest_image_version=True,
            **props,
        )
        cfn = environment.node.default_child
        assert isinstance(cfn, batch.CfnComputeEnvironment)
        # The L2 renders only the launch template id (Batch then uses $Default, fixed at
        # creation); pinning the latest version makes a boot-script change update the nodes.
        cfn.add_property_override(
            "ComputeResources.LaunchTemplate.Version", self.launch_template.latest_version_number
        )
        for item in self.file_systems:
            self._wait_for(environment, item)
        return environment

    def _render_compute_environments(
        self,
        vpc: ec2.IVpc,
        selection: ec2.SubnetSelection,
        machine_image: batch.EcsMachineImage | None,
        spot_bid_percentage: int | None,
    ) -> None:
        v = Validator(self)
        batch_image_rule(v, image_facts_of(machine_image), self.plan.specs)
        v.raise_if_any()
        image = machine_image or batch.EcsMachineImage(
            image_type=batch.EcsMachineImageType.ECS_AL2023_NVIDIA
            if self.plan.is_gpu
            else batch.EcsMachineImageType.ECS_AL2023
        )
        self.machine_image = image
        plan = self.plan
        #: The Spot environment (None with ``spot=False``).
        self.spot_compute_environment: batch.ManagedEc2EcsComputeEnvironment | None = None
        #: The On-Demand environment (the fallback, or the only one with ``spot=False``).
        self.on_demand_compute_environment: batch.ManagedEc2EcsComputeEnvironment | None = None
        if plan.spot:
            # SPOT_PRICE_CAPACITY_OPTIMIZED needs no Spot Fleet role: botocore's
            # ComputeResource.spotIamFleetRole is required only for BEST_FIT or no strategy.
            self.spot_compute_environment = self._ec2_environment(
                "SpotComputeEnvironment", vpc, selection, image,
                spot=True,
                allocation_strategy=batch.AllocationStrategy.SPOT_PRICE_CAPACITY_OPTIMIZED,
                spot_bid_percentage=spot_bid_percentage,
                maxv_cpus=plan.max_vcpus,
                minv_cpus=plan.min_vcpus,
            )  # fmt: skip
        if plan.on_demand_max_vcpus:
            self.on_demand_compute_environment = self._ec2_environment(
                "OnDemandComputeEnvironment", vpc, selection, image,
                spot=False,
                allocation_strategy=batch.AllocationStrategy.BEST_FIT_PROGRESSIVE,
                maxv_cpus=plan.on_demand_max_vcpus,
                minv_cpus=0 if plan.spot else plan.min_vcpus,
            )  # fmt: skip
        #: The Fargate Spot environment (with ``fargate_max_vcpus``), else None.
        self.fargate_compute_environment: batch.FargateComputeEnvironment | None = None
        if plan.fargate_max_vcpus:
            self.fargate_compute_environment = batch.FargateComputeEnvironment(
                self,
                "FargateSpotComputeEnvironment",
                vpc=vpc,
                vpc_subnets=selection,
                spot=True,
                maxv_cpus=plan.fargate_max_vcpus,
                security_groups=[self.security_group],
            )

    def _render_queues(
        self, priority: int, share_decay: cdk.Duration | None, compute_reservation: int | None
    ) -> None:
        #: The fair-share policy of the queues (with ``shares``), else None.
        self.scheduling_policy: batch.FairshareSchedulingPolicy | None = None
        if self.plan.shares:
            self.scheduling_policy = batch.FairshareSchedulingPolicy(
                self,
                "FairSharePolicy",
                share_decay=share_decay,
                compute_reservation=compute_reservation,
                shares=[
                    batch.Share(share_identifier=s.identifier, weight_factor=s.weight)
                    for s in self.plan.shares
                ],
            )
        ordered = [
            env
            for env in (self.spot_compute_environment, self.on_demand_compute_environment)
            if env is not None
        ]
        #: The EC2 queue: Spot first (order 1), the On-Demand fallback second.
        self.job_queue = batch.JobQueue(
            self,
            "JobQueue",
            priority=priority,
            scheduling_policy=self.scheduling_policy,
            compute_environments=[
                batch.OrderedComputeEnvironment(compute_environment=env, order=index + 1)
                for index, env in enumerate(ordered)
            ],
        )
        #: The Fargate Spot queue (with ``fargate_max_vcpus``), else None.
        self.fargate_job_queue: batch.JobQueue | None = None
        if self.fargate_compute_environment is not None:
            self.fargate_job_queue = batch.JobQueue(
                self,
                "FargateJobQueue",
                priority=priority,
                scheduling_policy=self.scheduling_policy,
                compute_environments=[
                    batch.OrderedComputeEnvironment(
                        compute_environment=self.fargate_compute_environment, order=1
                    )
                ],
            )

    @property
    def job_queues(self) -> list[batch.JobQueue]:
        """The EC2 queue, and the Fargate Spot queue when there is one."""
        return [q for q in (self.job_queue, self.fargate_job_queue) if q is not None]

    # --- failure events -----------------------------------------------------------------------

    def add_job_failure_target(self, target: events.IRuleTarget) -> events.Rule:
        """Send the grid's FAILED job events (its queues only) to ``target``: a task that ran
        out of retries, failed fast on an application error, or timed out."""
        if self.job_failure_rule is None:
            self.job_failure_rule = events.Rule(
                self,
                "JobFailedRule",
                description="AWS Batch jobs of this grid's queues that FAILED",
                event_pattern=events.EventPattern(
                    source=["aws.batch"],
                    detail_type=[JOB_STATE_CHANGE],
                    detail={
                        "status": ["FAILED"],
                        "jobQueue": [q.job_queue_arn for q in self.job_queues],
                    },
                ),
            )
        self.job_failure_rule.add_target(target)
        return self.job_failure_rule

    # --- attributes, user data and file systems -----------------------------------------------

    @property
    def mount_points(self) -> dict[str, SharedFileSystem]:
        """Mount point -> shared file system, on the hosts and in every EC2 job's container."""
        return {item.path: item for item in self.file_systems}

    @property
    def compute_environments(self) -> list[batch.IComputeEnvironment]:
        found: list[batch.IComputeEnvironment | None] = [
            self.spot_compute_environment,
            self.on_demand_compute_environment,
            self.fargate_compute_environment,
        ]
        return [env for env in found if env is not None]

    @check_prop_types
    def add_user_data(self, *commands: str) -> None:
        """Append shell commands every node runs once, on its first boot, after the set-up
        (the mounts)."""
        v = Validator(self)
        lines = user_data_commands(v, "commands", list(commands))
        v.raise_if_any()
        self._user_commands.extend(lines)

    @check_prop_types
    def add_file_system(
        self, file_system: FileSystemInput, *, mount_point: str | None = None
    ) -> SharedFileSystem:
        """Mount an FSx for Lustre or EFS file system on every node and, as a host volume at
        the same path, in every EC2 job's container (jobs added before too). ``mount_point``
        Default: - ``/fsx`` for Lustre, ``/shared`` for EFS, numbered after the first."""
        v = Validator(self)
        item = resolve_added_file_system(v, file_system, mount_point, self.file_systems)
        if item is not None:
            volume_name_rule(v, "mount_point", [*self.file_systems, item])
        v.raise_if_any()
        assert item is not None  # raise_if_any() raised otherwise
        allow_file_system_clients(item, self.connections)
        self.file_systems.append(item)
        for environment in (self.spot_compute_environment, self.on_demand_compute_environment):
            if environment is not None:
                self._wait_for(environment, item)
        for container in self._ec2_containers:
            container.add_volume(host_volume(item))
        return item

    @staticmethod
    def _wait_for(environment: Construct, item: SharedFileSystem) -> None:
        for dependable in mount_dependables(item):
            environment.node.add_dependency(dependable)

    @property
    def execution_role(self) -> iam.Role:
        """The ECS execution role of the grid's containers (image pulls from ECR, logs to
        ``/aws/batch/job``); created with the first job."""
        if self._execution_role is None:
            self._execution_role = iam.Role(
                self,
                "ExecutionRole",
                assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
                description="AWS Batch grid containers: image pulls and job logs",
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

    # --- jobs ---------------------------------------------------------------------------------

    @check_prop_types
    def add_job(
        self,
        id: str,
        *,
        image: str | ecs.ContainerImage,
        command: Sequence[str],
        array_size: int | None = None,
        vcpus: float = 1,
        memory: cdk.Size | None = None,
        gpus: int | None = None,
        environment: Mapping[str, str] | None = None,
        parameters: Mapping[str, str] | None = None,
        timeout: cdk.Duration | None = None,
        retry_attempts: int = 3,
        job_role: iam.IRole | None = None,
        scheduling_priority: int | None = None,
        share_identifier: str | None = None,
        fargate: bool = False,
        propagate_tags: bool = True,
    ) -> GridJob:
        """Add a job definition that runs on this grid's queue (each task of an array job).

        :param image: container image (a registry name or an ``ecs.ContainerImage``).
        :param command: the task's command; ``Ref::name`` placeholders take ``parameters``.
        :param array_size: child jobs per submission, 2 to 10,000 (AWS Batch); each child gets
            ``AWS_BATCH_JOB_ARRAY_INDEX`` (0 to size-1) from Batch and ``HPC_GRID_ARRAY_SIZE``
            from the definition. Used by ``submit_command``. Default: - a single job.
        :param vcpus: vCPUs per task (whole numbers on EC2; 0.25 to 32 on Fargate). Default: - 1.
        :param memory: memory per task. Default: - the task's share of the leanest type's
            memory per vCPU (it fits on every type of the pool); 2 GiB per vCPU on Fargate.
        :param gpus: GPUs per task. Default: - 1 on a GPU pool, else 0.
        :param environment: variables for the task. Default: - none.
        :param parameters: default values of ``Ref::`` placeholders in ``command``, overridable
            per submission (``--parameters``). Default: - none.
        :param timeout: per attempt (each child of an array job), at least 60 seconds; a
            timed-out task is not retried. Default: - none.
        :param retry_attempts: attempts (1-10); retries happen only when the host went away
            (Spot reclamation, ``Host EC2*``), any other failure exits. Default: - 3.
        :param job_role: the role the task's code runs as. Default: - a new role with no
            permissions (grant with ``job.grant_read(bucket, prefix)``...).
        :param scheduling_priority: priority among jobs of a fair-share queue (0-9999).
            Default: - none.
        :param share_identifier: the share identifier ``submit_command`` uses on a fair-share
            queue (one of ``shares``). Default: - the first share's identifier.
        :param fargate: run on the Fargate Spot queue (needs ``fargate_max_vcpus``; no GPUs,
            no shared file systems). Default: - False.
        :param propagate_tags: copy job tags to the ECS tasks. Default: - True.
        """
        v = Validator(f"{self.node.path}/{id}")
        ask = JobAsk(
            vcpus=vcpus,
            memory_mib=None if memory is None else int(memory.to_mebibytes()),
            gpus=gpus if gpus is not None else (1 if self.plan.is_gpu and not fargate else 0),
            array_size=array_size,
            retry_attempts=retry_attempts,
            timeout_seconds=None if timeout is None else int(timeout.to_seconds()),
            scheduling_priority=scheduling_priority,
            fargate=fargate,
        )
        share = self._share_rule(v, share_identifier)
        plan = _plan_job(v, self.plan, ask)
        v.raise_if_any()
        assert plan is not None  # raise_if_any() raised otherwise
        env = dict(environment or {})
        if plan.array_size is not None:
            env.setdefault(ARRAY_SIZE_VARIABLE, str(plan.array_size))
        queue = self.fargate_job_queue if fargate else self.job_queue
        assert queue is not None  # plan_job refused fargate without a Fargate queue
        container = self._container_factory(image, command, plan, env, fargate=fargate)
        job = GridJob(
            self, id, plan=plan, queue=queue, container_factory=container, job_role=job_role,
            parameters=parameters, timeout=timeout, scheduling_priority=scheduling_priority,
            propagate_tags=propagate_tags, share_identifier=share,
        )  # fmt: skip
        self.jobs.append(job)
        for grantee in self._submitters:
            self._grant_submit(grantee, [job.job_definition_arn])
        return job

    def _container_factory(
        self,
        image: str | ecs.ContainerImage,
        command: Sequence[str],
        plan: JobPlan,
        env: Mapping[str, str],
        *,
        fargate: bool,
    ) -> Callable[[Construct, iam.IRole], batch.IEcsContainerDefinition]:
        """How a :class:`GridJob` makes its container once it has its job role."""

        def container(scope: Construct, role: iam.IRole) -> batch.IEcsContainerDefinition:
            common: dict[str, Any] = {
                "image": image, "command": command, "plan": plan, "environment": env,
                "execution_role": self.execution_role, "job_role": role,
            }  # fmt: skip
            if fargate:
                return fargate_container(scope, **common)
            made = ec2_container(
                scope,
                volumes=self.file_systems,
                instance_store=bool(self.plan.instance_store_disks),
                **common,
            )
            self._ec2_containers.append(made)
            return made

        return container

    def _share_rule(self, v: Validator, share_identifier: str | None) -> str | None:
        shares = [s.identifier for s in self.plan.shares]
        if not shares:
            v.require(
                share_identifier is None,
                "share_identifier",
                share_identifier,
                "None: the queue has no fair-share policy (give the grid shares)",
            )
            return None
        if share_identifier is None:
            return shares[0].rstrip("*") or shares[0]
        covered = any(
            s == share_identifier or (s.endswith("*") and share_identifier.startswith(s[:-1]))
            for s in shares
        )
        v.require(covered, "share_identifier", share_identifier, f"one of {', '.join(shares)}")
        return share_identifier

    def grant_submit_job(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow ``grantee`` to submit jobs to the grid's queues with its job definitions
        (``batch:SubmitJob``, including definitions added later)."""
        self._submitters.append(grantee)
        return self._grant_submit(grantee, [j.job_definition_arn for j in self.jobs])

    def _grant_submit(self, grantee: iam.IGrantable, definitions: list[str]) -> iam.Grant:
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["batch:SubmitJob"],
            resource_arns=[*(q.job_queue_arn for q in self.job_queues), *definitions],
        )
