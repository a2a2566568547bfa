"""``PcsCluster``: an AWS Parallel Computing Service (managed Slurm) cluster with compute node
groups whose launch templates carry the catalog's EFA interface layout, a cluster placement
group, IMDSv2 and the shared file-system mounts, and queues that route jobs to them.

``PcsCluster.add_node_group`` checks its props with the pure rules of
:mod:`hpc_constructs.slurm._pcs_plan`, builds a frozen ``NodeGroupPlan`` and renders it as a
:class:`PcsComputeNodeGroup`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_pcs as pcs
from constructs import Construct

from hpc_constructs.boot import (
    DEFAULT_IMDS_HOP_LIMIT,
    BootPlan,
    log_retention_rule,
    user_data_script,
)
from hpc_constructs.capacity import FleetCapacity
from hpc_constructs.compute import (
    check_offerings,
    check_private_subnets,
    check_single_subnet,
    select_subnets,
)
from hpc_constructs.efa import (
    create_efa_security_group,
    efa_launch_template,
    launch_template_interfaces,
)
from hpc_constructs.errors import Validator, check_prop_types, needs_concrete_value
from hpc_constructs.image.construct import image_facts_of
from hpc_constructs.node_telemetry import (
    DEFAULT_LOG_RETENTION,
    LogRetention,
    grant_node_telemetry,
    node_log_group,
    telemetry_step,
)
from hpc_constructs.nodes import (
    FileSystemInput,
    FileSystemsInput,
    NodeLauncher,
    SharedFileSystem,
    SubnetsInput,
    UserDataInput,
    allow_file_system_clients,
    as_subnet_selection,
    check_mount_points,
    efa_disabled,
    lazy_text,
    mount_dependables,
    mount_step,
    placement_group_facts,
    resolve_added_file_system,
    resolve_file_systems,
    ssm_node_role,
    user_data_commands,
    warn_launcher,
)
from hpc_constructs.slurm._checks import check_role_path
from hpc_constructs.slurm._pcs_plan import (
    PCS_SIZE_MAX_NODES,
    PCS_SPOT_STRATEGIES,
    NodeGroupFacts,
    NodeGroupPlan,
    PcsAccounting,
    check_pcs_accounting,
    check_pcs_name,
    check_pcs_settings,
    pcs_boot_plan,
    plan_node_group,
)

__all__ = [
    "DEFAULT_SLURM_VERSION",
    "PCS_ROLE_PATH",
    "PCS_SIZE_MAX_NODES",
    "PCS_SLURM_VERSIONS",
    "PCS_SPOT_STRATEGIES",
    "PcsAccounting",
    "PcsCluster",
    "PcsComputeNodeGroup",
]

#: Slurm versions CreateCluster accepts (PCS API reference, ``SchedulerRequest.version``,
#: botocore 1.44.8 ``pcs/2023-02-10``); 23.11 and 24.05 remain only on existing clusters.
PCS_SLURM_VERSIONS = ("24.11", "25.05", "25.11", "26.05")
DEFAULT_SLURM_VERSION = "25.11"
#: Instance roles must be under this path or named AWSPCS* (PCS User Guide, "IAM instance
#: profiles for AWS PCS").
PCS_ROLE_PATH = "/aws-pcs/"
_ROLE_RULE = (
    "PCS only launches nodes whose role is under /aws-pcs/ or named AWSPCS* (PCS User Guide, "
    '"IAM instance profiles for AWS PCS")'
)


class PcsComputeNodeGroup(NodeLauncher):
    """A PCS compute node group. Internal constructor: create node groups with
    :meth:`PcsCluster.add_node_group` (``plan`` is the checked plan it builds).

    A :class:`~hpc_constructs.nodes.NodeLauncher`: ``bucket.grant_read(group)`` grants the
    nodes' role, ``x.connections.allow_from(group, port)`` the cluster security group the nodes
    use. Attributes: ``node_group`` (the ``AWS::PCS::ComputeNodeGroup`` L1), ``launch_template``,
    ``placement_group``, ``role``, ``instance_profile``, ``interface_plan``, ``efa_enabled``,
    ``architecture``, ``instance_specs``, ``capacity``, ``name``, ``min_nodes``, ``max_nodes``,
    ``file_systems`` (this group's own, besides the cluster's), ``plan``.
    """

    def __init__(
        self,
        scope: PcsCluster,
        id: str,
        *,
        plan: NodeGroupPlan,
        subnets: Sequence[ec2.ISubnet],
        machine_image: ec2.IMachineImage,
        role: iam.IRole | None,
        placement_group: ec2.IPlacementGroup | None,
        commands: Sequence[str],
        slurm_custom_settings: Mapping[str, str] | None = None,
        login: bool = False,
    ) -> None:
        super().__init__(scope, id)
        self.cluster = scope
        #: A login node group: static, in no queue (``PcsCluster.add_login_node_group``).
        self.is_login = login
        self.slurm_custom_settings = dict(slurm_custom_settings or {})
        self.plan = plan
        self.name = plan.name
        self.instance_specs = plan.specs
        self.architecture = plan.architecture
        self.efa_enabled = plan.efa
        self.interface_plan = plan.interfaces
        self.capacity = plan.capacity
        self.min_nodes = plan.min_nodes
        self.max_nodes = plan.max_nodes
        self.machine_image = machine_image
        self.file_systems: list[SharedFileSystem] = []
        self._commands = list(commands)
        self._node_connections = scope.security_group.connections
        self._node_role = role or ssm_node_role(
            self, "Role", description=f"Compute nodes of {self.node.path}", path=PCS_ROLE_PATH
        )
        self._allow_registration(self._node_role)
        if scope.log_group is not None:
            grant_node_telemetry(self, self._node_role, scope.log_group)
        self.instance_profile = iam.InstanceProfile(
            self, "InstanceProfile", role=self._node_role, path=PCS_ROLE_PATH
        )
        self.placement_group: ec2.IPlacementGroup | None = placement_group
        if plan.placement.create_group:
            self.placement_group = ec2.PlacementGroup(
                self, "PlacementGroup", strategy=ec2.PlacementGroupStrategy.CLUSTER
            )
        self.user_data = self._multipart_user_data()
        self.launch_template = self._launch_template()
        self.node_group = self._node_group(subnets)
        for item in scope.file_systems:
            self._wait_for(item)

    # --- rendering ----------------------------------------------------------------------

    def _allow_registration(self, role: iam.IRole) -> None:
        register = iam.Policy(
            self,
            "RegisterPolicy",
            statements=[
                iam.PolicyStatement(
                    actions=["pcs:RegisterComputeNodeGroupInstance"], resources=["*"]
                )
            ],
        )
        register.attach_to_role(role)
        cdk.Validations.of(register).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions-IAM5[Resource::*]",
                reason="The PCS User Guide's required node policy: "
                "pcs:RegisterComputeNodeGroupInstance on '*' lets a node register itself with "
                "PCS and nothing else.",
            )
        )

    @property
    def boot_plan(self) -> BootPlan:
        """What every node of the group does at boot (the cluster's then the group's file
        systems; read at synth time, after every ``add_*`` call)."""
        items = [*self.cluster.file_systems, *self.file_systems]
        log_group = self.cluster.log_group
        telemetry = (
            telemetry_step(
                log_group,
                self.node.path,
                efa=self.efa_enabled,
                gpu=any(s.is_gpu for s in self.instance_specs),
                slurm=True,
            )
            if log_group is not None
            else None
        )
        return pcs_boot_plan(self.plan, [mount_step(item) for item in items], telemetry)

    def _boot_commands(self) -> list[str]:
        """The set-up, then (once) the cluster's and the group's own commands; rendered at
        synth so later ``add_*`` calls land in order."""
        return user_data_script(self.boot_plan, [*self.cluster.user_data_commands, *self._commands])

    def _multipart_user_data(self) -> ec2.MultipartUserData:
        # PCS merges its own user data with ours, so ours must be a MIME multi-part archive;
        # shell parts run after the node registers and before slurmd starts (PCS User Guide,
        # "Working with Amazon EC2 user data").
        script = ec2.UserData.for_linux()
        script.add_commands(lazy_text(lambda: "\n".join(self._boot_commands())))
        user_data = ec2.MultipartUserData()
        user_data.add_part(
            ec2.MultipartBody.from_user_data(script, 'text/x-shellscript; charset="us-ascii"')
        )
        return user_data

    def _launch_template(self) -> ec2.LaunchTemplate:
        group = self.cluster.security_group
        return efa_launch_template(
            self,
            "LaunchTemplate",
            root_volume_size_gib=self.plan.root_volume_size_gib,
            capacity=self.plan.capacity,
            interfaces=launch_template_interfaces(self.plan.interfaces, [group])
            if self.plan.uses_interface_layout
            else None,
            machine_image=self.machine_image,
            user_data=self.user_data,
            security_group=group,
            placement_group=self.placement_group,
            # PCS sets the market itself from PurchaseOption CAPACITY_BLOCK.
            market_options=False,
            imds_hop_limit=self.plan.imds_hop_limit,
        )

    def _node_group(self, subnets: Sequence[ec2.ISubnet]) -> pcs.CfnComputeNodeGroup:
        plan = self.plan
        strategy = plan.spot_allocation_strategy
        return pcs.CfnComputeNodeGroup(
            self,
            "Resource",
            cluster_id=self.cluster.cluster.attr_id,
            name=plan.name,
            iam_instance_profile_arn=self.instance_profile.instance_profile_arn,
            instance_configs=[
                pcs.CfnComputeNodeGroup.InstanceConfigProperty(instance_type=t)
                for t in plan.instance_types
            ],
            scaling_configuration=pcs.CfnComputeNodeGroup.ScalingConfigurationProperty(
                min_instance_count=plan.min_nodes, max_instance_count=plan.max_nodes
            ),
            subnet_ids=[s.subnet_id for s in subnets],
            custom_launch_template=pcs.CfnComputeNodeGroup.CustomLaunchTemplateProperty(
                template_id=self.launch_template.launch_template_id,
                version=self.launch_template.latest_version_number,
            ),
            purchase_option=plan.purchase_option,
            spot_options=pcs.CfnComputeNodeGroup.SpotOptionsProperty(allocation_strategy=strategy)
            if strategy is not None
            else None,
            slurm_configuration=pcs.CfnComputeNodeGroup.SlurmConfigurationProperty(
                slurm_custom_settings=_custom_settings(
                    pcs.CfnComputeNodeGroup.SlurmCustomSettingProperty, self.slurm_custom_settings
                )
            )
            if self.slurm_custom_settings
            else None,
        )

    def _wait_for(self, item: SharedFileSystem) -> None:
        """Nodes mount at boot: the group waits for the file system's mount targets."""
        for part in mount_dependables(item):
            self.node_group.node.add_dependency(part)

    # --- public API ---------------------------------------------------------------------

    @property
    def node_group_id(self) -> str:
        return self.node_group.attr_id

    @check_prop_types
    def add_user_data(self, *commands: str) -> None:
        """Append shell commands to this group's boot script (after the EFA check, the mounts
        and the cluster's commands; before slurmd starts)."""
        v = Validator(self)
        self._commands += user_data_commands(v, "commands", list(commands))
        v.raise_if_any()

    @check_prop_types
    def add_file_system(
        self, file_system: FileSystemInput, *, mount_point: str | None = None
    ) -> SharedFileSystem:
        """Mount a file system on this group's nodes only (use
        :meth:`PcsCluster.add_file_system` for every group): opens its ports to the cluster
        security group and mounts it at boot."""
        v = Validator(self)
        existing = [*self.cluster.file_systems, *self.file_systems]
        item = resolve_added_file_system(v, file_system, mount_point, existing)
        v.raise_if_any()
        assert item is not None
        allow_file_system_clients(item, self.cluster.security_group)
        self._wait_for(item)
        self.file_systems.append(item)
        return item


class PcsCluster(Construct):
    """An AWS PCS cluster (the managed Slurm controller) on an existing VPC.

    The cluster's network interface sits in ``vpc_subnets`` (one subnet) behind
    :attr:`security_group`, which allows all traffic to and from itself (PCS's documented
    self-referencing group, which also carries EFA) plus HTTPS egress. Every node group
    launches with the same group, so slurmctld (6817), slurmd (6818) and srun traffic flow
    inside it. Add compute node groups with :meth:`add_node_group`, queues with
    :meth:`add_queue`, file systems for every group with :meth:`add_file_system` and boot
    commands for every group with :meth:`add_user_data`.

    :param vpc: the VPC of the controller and the node groups.
    :param vpc_subnets: the one subnet of the controller's network interface (PCS accepts
        one): an ``ec2.SubnetSelection``, an ``ec2.ISubnet`` or a list of one, e.g.
        ``NetworkFabric.compute_subnet``; node groups default to it.
    :param slurm_version: one of ``PCS_SLURM_VERSIONS``. Default: - ``25.11``.
    :param size: ``SMALL`` (32 nodes), ``MEDIUM`` (512) or ``LARGE`` (2048); the sum of the
        node groups' ``max_nodes`` must fit. Default: - ``SMALL``.
    :param machine_image: default image of the node groups: an AMI with the PCS agent and the
        cluster's Slurm version installed (a PCS sample AMI for trials, or one built with the
        PCS installers for production). Default: - none; then every node group needs one.
    :param file_systems: FSx for Lustre and Amazon EFS file systems mounted on every node (a
        list, or a mapping of mount point to file system; ``SharedFileSystem`` for a name or
        mount point); their ports are opened to the cluster security group. Default: - none.
    :param scale_down_idle_time_seconds: idle time before PCS stops a dynamic node.
        Default: - PCS's default.
    :param security_group: bring your own group; the all-traffic self rules are added.
        Default: - a new group.
    :param user_data: boot commands of every node group (a list of shell lines or an
        ``ec2.UserData``), run after the mounts. Default: - none.
    :param accounting: PCS-managed Slurm accounting (:class:`PcsAccounting`). Default: - off
        (PCS's ``Mode: NONE``).
    :param slurm_custom_settings: cluster-level Slurm settings PCS accepts (Prolog, Epilog,
        SelectTypeParameters, AccountingStorageEnforce). Default: - none.
    :param telemetry: the CloudWatch agent on every node: boot, cloud-init, system and slurmd
        logs to ``log_group`` (KMS-encrypted), node metrics in ``HpcConstructs/Nodes`` by
        ``NodeGroup`` (each node group's path). Default: - ``True``.
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
        slurm_version: str = DEFAULT_SLURM_VERSION,
        size: str = "SMALL",
        machine_image: ec2.IMachineImage | None = None,
        file_systems: FileSystemsInput | None = None,
        scale_down_idle_time_seconds: int | None = None,
        security_group: ec2.ISecurityGroup | None = None,
        user_data: UserDataInput | None = None,
        accounting: PcsAccounting | None = None,
        slurm_custom_settings: Mapping[str, str] | None = None,
        telemetry: bool = True,
        log_retention: LogRetention = DEFAULT_LOG_RETENTION,
    ) -> None:
        super().__init__(scope, id)
        v = Validator(self)
        log_retention_rule(v, log_retention if isinstance(log_retention, int) else None)
        check_pcs_accounting(v, accounting)
        check_pcs_settings(v, "slurm_custom_settings", slurm_custom_settings, "cluster")
        v.one_of(
            "slurm_version",
            slurm_version,
            PCS_SLURM_VERSIONS,
            reason="the versions PCS CreateCluster accepts",
        )
        if needs_concrete_value(v, "size", size, "it bounds the node groups' max_nodes"):
            v.one_of("size", size, tuple(PCS_SIZE_MAX_NODES))
        if scale_down_idle_time_seconds is not None:
            v.in_range(
                "scale_down_idle_time_seconds", scale_down_idle_time_seconds, 1, 10_000_000, "s"
            )
        items = resolve_file_systems(v, "file_systems", file_systems)
        check_mount_points(v, "file_systems", items)
        commands = user_data_commands(v, "user_data", user_data)
        subnet = self._controller_subnet(v, vpc, vpc_subnets)
        v.raise_if_any()
        assert subnet is not None

        self.vpc = vpc
        self.subnet = subnet
        self.slurm_version = slurm_version
        self.size = size
        self.max_nodes = PCS_SIZE_MAX_NODES[size]
        self.machine_image = machine_image
        self.file_systems: list[SharedFileSystem] = []
        self.user_data_commands: list[str] = commands
        self.security_group = self._security_group(vpc, security_group)
        self.connections: ec2.Connections = self.security_group.connections
        self.login_security_group: ec2.SecurityGroup | None = None
        self.accounting = accounting
        self.slurm_custom_settings = dict(slurm_custom_settings or {})
        self.cluster = self._cluster(scale_down_idle_time_seconds)
        #: The log group of every node group's nodes (boot, cloud-init, system and slurmd
        #: logs); None without telemetry.
        self.log_group = node_log_group(self, retention=log_retention) if telemetry else None
        self.node_groups: list[PcsComputeNodeGroup] = []
        self.queues: list[pcs.CfnQueue] = []
        self._image_architecture: str | None = None
        self._add_file_systems(items)

    def _controller_subnet(
        self, v: Validator, vpc: ec2.IVpc, vpc_subnets: object
    ) -> ec2.ISubnet | None:
        selection = as_subnet_selection(v, "vpc_subnets", vpc_subnets)
        if selection is None:
            return None
        selected = select_subnets(vpc, selection)
        check_single_subnet(
            v,
            "vpc_subnets",
            selected,
            "PCS places the controller's network interface in one subnet",
        )
        subnets = list(selected.subnets)
        return subnets[0] if len(subnets) == 1 or selected.is_pending_lookup else None

    def _security_group(
        self, vpc: ec2.IVpc, security_group: ec2.ISecurityGroup | None
    ) -> ec2.ISecurityGroup:
        if security_group is None:
            return create_efa_security_group(
                self,
                "SecurityGroup",
                vpc=vpc,
                description=f"PCS controller and nodes of {self.node.path}: all traffic within "
                "the group (Slurm and EFA), HTTPS out",
            )
        security_group.connections.allow_internally(
            ec2.Port.all_traffic(), "PCS and EFA: all traffic within the group"
        )
        return security_group

    def _cluster(self, scale_down_idle_time_seconds: int | None) -> pcs.CfnCluster:
        slurm_config = None
        accounting = self.accounting
        if scale_down_idle_time_seconds is not None or accounting or self.slurm_custom_settings:
            slurm_config = pcs.CfnCluster.SlurmConfigurationProperty(
                scale_down_idle_time_in_seconds=scale_down_idle_time_seconds,
                accounting=pcs.CfnCluster.AccountingProperty(
                    mode="STANDARD",
                    default_purge_time_in_days=accounting.default_purge_time_days,
                )
                if accounting is not None
                else None,
                slurm_custom_settings=_custom_settings(
                    pcs.CfnCluster.SlurmCustomSettingProperty, self.slurm_custom_settings
                )
                or None,
            )
        return pcs.CfnCluster(
            self,
            "Resource",
            networking=pcs.CfnCluster.NetworkingProperty(
                subnet_ids=[self.subnet.subnet_id],
                security_group_ids=[self.security_group.security_group_id],
            ),
            scheduler=pcs.CfnCluster.SchedulerProperty(type="SLURM", version=self.slurm_version),
            size=self.size,
            slurm_configuration=slurm_config,
        )

    def _add_file_systems(self, items: Sequence[SharedFileSystem]) -> None:
        for item in items:
            allow_file_system_clients(item, self.security_group)
            for group in self.node_groups:
                group._wait_for(item)
        self.file_systems += items

    @property
    def cluster_id(self) -> str:
        return self.cluster.attr_id

    @check_prop_types
    def add_file_system(
        self, file_system: FileSystemInput, *, mount_point: str | None = None
    ) -> SharedFileSystem:
        """Mount an FSx for Lustre or EFS file system on every node group (existing and
        future), open its ports to the cluster security group and return the resolved
        :class:`~hpc_constructs.nodes.SharedFileSystem`."""
        v = Validator(self)
        # Numbered after every file system of the cluster and its groups (so a default never
        # repeats one), but checked per group: two groups' own mounts never share a node.
        group_only = [f for g in self.node_groups for f in g.file_systems]
        item = resolve_added_file_system(
            v,
            file_system,
            mount_point,
            [*self.file_systems, *group_only],
            [[*self.file_systems, *g.file_systems] for g in self.node_groups]
            or [self.file_systems],
        )
        v.raise_if_any()
        assert item is not None
        self._add_file_systems([item])
        return item

    @check_prop_types
    def add_user_data(self, *commands: str) -> None:
        """Append shell commands to every node group's boot script (existing and future),
        after the mounts and before each group's own commands."""
        v = Validator(self)
        self.user_data_commands += user_data_commands(v, "commands", list(commands))
        v.raise_if_any()

    @check_prop_types
    def add_node_group(
        self,
        id: str,
        *,
        instance_types: Sequence[str],
        max_nodes: int,
        min_nodes: int = 0,
        name: str | None = None,
        vpc_subnets: SubnetsInput | None = None,
        efa: bool | None = None,
        capacity: FleetCapacity | None = None,
        placement_group: ec2.IPlacementGroup | None = None,
        placement: bool | None = None,
        machine_image: ec2.IMachineImage | None = None,
        root_volume_size_gib: int = 64,
        role: iam.IRole | None = None,
        user_data: UserDataInput | None = None,
        health_gate: bool = True,
        imds_hop_limit: int = DEFAULT_IMDS_HOP_LIMIT,
        slurm_custom_settings: Mapping[str, str] | None = None,
    ) -> PcsComputeNodeGroup:
        """Add a compute node group.

        :param id: construct id.
        :param instance_types: catalog types of one architecture; with EFA they must share
            one network-interface layout (one launch template serves the group).
        :param max_nodes: most instances (PCS ``MaxInstanceCount``).
        :param min_nodes: instances kept running (``MinInstanceCount``). Default: - 0.
        :param name: the node group (and Slurm node) name, 3-25 characters. Default: - ``id``
            lowercased.
        :param vpc_subnets: an ``ec2.SubnetSelection``, an ``ec2.ISubnet`` or a list of them.
            Default: - the cluster's subnet. EFA groups need exactly one subnet.
        :param efa: Default: - on when every type supports EFA.
        :param capacity: ``on_demand``, ``spot`` (lowest-price, capacity-optimized or
            price-capacity-optimized), ``capacity_reservation`` (targeted in the launch
            template) or ``capacity_block``. Default: - On-Demand.
        :param placement_group: an existing group for the launch template (an
            ``EfaComputeFleet``'s, or a Capacity Reservation's). Default: - a new cluster
            group for EFA groups; none for Capacity Blocks and Capacity Reservations (warning
            ``reservationWithoutPlacementGroup``).
        :param placement: ``False``: no placement group; ``True``: a new cluster placement
            group for a non-EFA group. Default: - ``None`` (see ``placement_group``).
        :param machine_image: Default: - the cluster's ``machine_image``.
        :param root_volume_size_gib: encrypted gp3 root volume. Default: - 64.
        :param role: the nodes' IAM role; it must be under the path ``/aws-pcs/`` or named
            ``AWSPCS*`` (checked when its path and name are known). The node registration
            policy is attached to it. Default: - a new role under ``/aws-pcs/`` with
            ``AmazonSSMManagedInstanceCore``.
        :param user_data: shell lines (or an ``ec2.UserData``) run after the EFA check, the
            mounts and the cluster's commands, before slurmd starts; see also
            :meth:`PcsComputeNodeGroup.add_user_data`. Default: - none.
        :param health_gate: slurmd waits for the node set-up; a node whose set-up or commands
            fail masks slurmd and powers off. ``False``: only logged. Default: - ``True``.
        :param imds_hop_limit: IMDSv2 PUT response hop limit (1-64). Default: - 1.
        :param slurm_custom_settings: node settings PCS accepts for a node group (Weight,
            RealMemory). Default: - none.
        """
        return self._add_group(
            id, instance_types=instance_types, max_nodes=max_nodes, min_nodes=min_nodes,
            name=name, vpc_subnets=vpc_subnets, efa=efa, capacity=capacity,
            placement_group=placement_group, placement=placement, machine_image=machine_image,
            root_volume_size_gib=root_volume_size_gib, role=role, user_data=user_data,
            health_gate=health_gate, imds_hop_limit=imds_hop_limit,
            slurm_custom_settings=slurm_custom_settings,
        )  # fmt: skip

    def _add_group(self, id: str, *, login: bool = False, **p: Any) -> PcsComputeNodeGroup:
        """The checks and rendering of :meth:`add_node_group` (and login groups)."""
        v = Validator(f"{self.node.path}/{id}")
        name = p["name"] if p["name"] is not None else id.lower()
        check_pcs_settings(v, "slurm_custom_settings", p["slurm_custom_settings"], "node group")
        if login:
            queue_names = [str(q.name) for q in self.queues]
            v.require(
                name not in queue_names,
                "name",
                name,
                f"a name no queue uses ({', '.join(queue_names)}): one name, one group of nodes",
            )
        _, group_strategy, group_label = placement_group_facts(p["placement_group"])
        plan = self._plan_node_group(
            v, name=name, instance_types=p["instance_types"], min_nodes=p["min_nodes"],
            max_nodes=p["max_nodes"], efa=p["efa"], capacity=p["capacity"],
            has_own_image=p["machine_image"] is not None, group_strategy=group_strategy,
            group_label=group_label, placement=p["placement"],
            root_volume_size_gib=p["root_volume_size_gib"], health_gate=p["health_gate"],
            imds_hop_limit=p["imds_hop_limit"],
            image=image_facts_of(p["machine_image"] or self.machine_image),
        )  # fmt: skip
        subnets = self._node_group_subnets(v, p["vpc_subnets"], plan, list(p["instance_types"]))
        check_role_path(
            v, "role", p["role"], path=PCS_ROLE_PATH, name_prefix="AWSPCS", why=_ROLE_RULE
        )
        commands = user_data_commands(v, "user_data", p["user_data"])
        v.raise_if_any()
        assert plan is not None
        return self._render_node_group(
            id, plan, subnets=subnets, machine_image=p["machine_image"], role=p["role"],
            placement_group=p["placement_group"], commands=commands, efa_given=p["efa"],
            slurm_custom_settings=p["slurm_custom_settings"], login=login,
        )  # fmt: skip

    @check_prop_types
    def add_login_node_group(
        self,
        id: str,
        *,
        instance_types: Sequence[str],
        count: int = 1,
        name: str | None = None,
        vpc_subnets: SubnetsInput | None = None,
        machine_image: ec2.IMachineImage | None = None,
        root_volume_size_gib: int = 64,
        role: iam.IRole | None = None,
        user_data: UserDataInput | None = None,
        health_gate: bool = True,
    ) -> PcsComputeNodeGroup:
        """Add a login node group: a static compute node group (``count`` nodes always on)
        attached to no queue, where users log in and submit (PCS User Guide, login nodes).

        Its nodes use the cluster security group (to reach the controller and the file
        systems) and :attr:`login_security_group`, which has no rules: open what users need,
        e.g. ``cluster.login_connections.allow_from(ec2.Peer.ipv4(cidr), ec2.Port.tcp(22))``
        (Session Manager needs none). No EFA, no placement group. Its name may not be a
        queue's, and :meth:`add_queue` refuses it.

        :param count: nodes (min = max). Default: - 1.
        The other props are :meth:`add_node_group`'s.
        """
        group = self._add_group(
            id, login=True, instance_types=instance_types, max_nodes=count, min_nodes=count,
            name=name, vpc_subnets=vpc_subnets, efa=False, capacity=None, placement_group=None,
            placement=False, machine_image=machine_image,
            root_volume_size_gib=root_volume_size_gib, role=role, user_data=user_data,
            health_gate=health_gate, imds_hop_limit=DEFAULT_IMDS_HOP_LIMIT,
            slurm_custom_settings=None,
        )  # fmt: skip
        if self.login_security_group is None:
            self.login_security_group = ec2.SecurityGroup(
                self,
                "LoginSecurityGroup",
                vpc=self.vpc,
                description=f"Login nodes of {self.node.path}: no rules until opened through "
                "login_connections",
                allow_all_outbound=False,
            )
        group.launch_template.connections.add_security_group(self.login_security_group)
        return group

    @property
    def login_connections(self) -> ec2.Connections:
        """The login node groups' own group (``allow_from(peer, port)`` for user access)."""
        if self.login_security_group is None:
            raise ValueError(f"{self.node.path} has no login node group")
        return self.login_security_group.connections

    def _plan_node_group(self, v: Validator, **props: object) -> NodeGroupPlan | None:
        facts = NodeGroupFacts(
            taken_names=tuple(g.name for g in self.node_groups),
            used_nodes=sum(g.max_nodes for g in self.node_groups),
            size=self.size,
            slurm_version=self.slurm_version,
            has_cluster_image=self.machine_image is not None,
            cluster_image_architecture=self._image_architecture,
        )
        return plan_node_group(v, facts, **props)  # type: ignore[arg-type]

    def _node_group_subnets(
        self,
        v: Validator,
        vpc_subnets: object,
        plan: NodeGroupPlan | None,
        instance_types: list[str],
    ) -> list[ec2.ISubnet]:
        """The group's subnets: one for EFA or a placement group, private for several
        interfaces, in AZs offering the types."""
        selection = as_subnet_selection(v, "vpc_subnets", vpc_subnets)
        selected = select_subnets(self.vpc, selection or ec2.SubnetSelection(subnets=[self.subnet]))
        if plan is None:
            return list(selected.subnets)
        if plan.efa or plan.placement.uses_group:
            check_single_subnet(
                v,
                "vpc_subnets",
                selected,
                "EFA traffic cannot cross subnets or AZs and a cluster placement group lives "
                "in one AZ",
            )
        multi = list(plan.instance_types) if len(plan.interfaces) > 1 else []
        check_private_subnets(v, "vpc_subnets", selected, multi)
        check_offerings(
            v, self, "instance_types", plan.specs, list(selected.subnets), "vpc_subnets"
        )
        return list(selected.subnets)

    def _render_node_group(
        self,
        id: str,
        plan: NodeGroupPlan,
        *,
        efa_given: bool | None,
        **parts: object,
    ) -> PcsComputeNodeGroup:
        if parts["machine_image"] is None:
            self._image_architecture = plan.architecture
            parts["machine_image"] = self.machine_image
        group = PcsComputeNodeGroup(self, id, plan=plan, **parts)  # type: ignore[arg-type]
        warn_launcher(
            group,
            efa_disabled=efa_disabled(efa_given, any(s.efa_supported for s in plan.specs)),
            mixed_types=len(plan.specs) if plan.placement.is_cluster else 0,
            reservation_without_group=plan.placement.reservation_without_group,
        )
        self.node_groups.append(group)
        return group

    @check_prop_types
    def add_queue(
        self,
        id: str,
        *,
        node_groups: Sequence[PcsComputeNodeGroup],
        name: str | None = None,
        slurm_custom_settings: Mapping[str, str] | None = None,
    ) -> pcs.CfnQueue:
        """Add a queue (Slurm partition) that schedules jobs onto ``node_groups``.

        :param name: the partition name users pass to ``sbatch -p``, 3-25 characters; not a
            login node group's name. Default: - ``id`` lowercased.
        :param slurm_custom_settings: partition settings (``SlurmCustomSettings``); the PCS
            schema lists none for queues, PCS checks them when it creates the queue.
            Default: - none.
        """
        v = Validator(f"{self.node.path}/{id}")
        queue_name = name if name is not None else id.lower()
        check_pcs_name(v, "name", queue_name, [str(q.name) for q in self.queues], "queue")
        groups = list(node_groups)
        v.require(len(groups) > 0, "node_groups", groups, "one or more node groups")
        foreign = [g.node.path for g in groups if g not in self.node_groups]
        v.require(not foreign, "node_groups", foreign, "node groups added to this cluster")
        logins = [g.node.path for g in groups if g.is_login]
        v.require(
            not logins,
            "node_groups",
            logins,
            "compute node groups: a login node group is in no queue (PCS login nodes)",
        )
        login_names = [g.name for g in self.node_groups if g.is_login]
        v.require(
            queue_name not in login_names,
            "name",
            queue_name,
            f"a name no login node group uses ({', '.join(login_names)})",
        )
        check_pcs_settings(v, "slurm_custom_settings", slurm_custom_settings, "queue")
        v.raise_if_any()
        queue = pcs.CfnQueue(
            self,
            id,
            cluster_id=self.cluster.attr_id,
            name=queue_name,
            compute_node_group_configurations=[
                pcs.CfnQueue.ComputeNodeGroupConfigurationProperty(
                    compute_node_group_id=g.node_group.attr_id
                )
                for g in groups
            ],
            slurm_configuration=pcs.CfnQueue.SlurmConfigurationProperty(
                slurm_custom_settings=_custom_settings(
                    pcs.CfnQueue.SlurmCustomSettingProperty, slurm_custom_settings or {}
                )
            )
            if slurm_custom_settings
            else None,
        )
        self.queues.append(queue)
        return queue


def _custom_settings(kind: Any, settings: Mapping[str, str]) -> list[Any]:
    """``SlurmCustomSettings`` of a cluster, node group or queue (same shape, three L1 types)."""
    return [kind(parameter_name=k, parameter_value=val) for k, val in settings.items()]
