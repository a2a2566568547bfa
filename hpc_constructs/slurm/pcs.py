"""``PcsCluster``: an AWS Parallel Computing Service (managed Slurm) cluster with compute node
groups whose launch templates carry the catalog's EFA interface layout, a cluster placement
group, IMDSv2 and the Lustre mounts, and queues that route jobs to them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_pcs as pcs
from constructs import Construct

from hpc_constructs.capacity import CapacityKind, FleetCapacity
from hpc_constructs.catalog import EfaInterface, InstanceSpec, plan_efa_interfaces
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
from hpc_constructs.efa import (
    create_efa_security_group,
    efa_boot_commands,
    efa_launch_template,
    launch_template_interfaces,
)
from hpc_constructs.errors import Validator, warn
from hpc_constructs.mounts import LustreFileSystemLike, allow_lustre_clients, lustre_mount_commands
from hpc_constructs.slurm._checks import SlurmStorage, as_storage, check_mount_dirs

#: Slurm versions CreateCluster accepts (PCS API reference, ``SchedulerRequest.version``,
#: botocore 1.44.8 ``pcs/2023-02-10``); 23.11 and 24.05 remain only on existing clusters.
PCS_SLURM_VERSIONS = ("24.11", "25.05", "25.11", "26.05")
DEFAULT_SLURM_VERSION = "25.11"
#: Cluster sizes and the compute nodes each allows (PCS API reference, ``CreateCluster.size``).
PCS_SIZE_MAX_NODES = {"SMALL": 32, "MEDIUM": 512, "LARGE": 2048}
#: Spot allocation strategies PCS accepts (``SpotOptions.allocationStrategy``).
PCS_SPOT_STRATEGIES = ("lowest-price", "capacity-optimized", "price-capacity-optimized")
#: Queue and compute node group names: 3-25 characters, a letter first, no ``pcs_`` prefix
#: (PCS API reference, ``QueueName`` / ``ComputeNodeGroupName``).
_PCS_NAME = re.compile(r"^(?!pcs_)[A-Za-z][A-Za-z0-9-]{2,24}$")
#: Instance roles must be under this path or named AWSPCS* (PCS User Guide, "IAM instance
#: profiles for AWS PCS").
PCS_ROLE_PATH = "/aws-pcs/"


class PcsComputeNodeGroup(Construct):
    """A PCS compute node group; create it with :meth:`PcsCluster.add_node_group`.

    Attributes: ``node_group`` (the ``AWS::PCS::ComputeNodeGroup`` L1), ``launch_template``,
    ``placement_group``, ``role``, ``instance_profile``, ``interface_plan``, ``efa_enabled``,
    ``architecture``, ``instance_specs``, ``capacity``, ``name``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster: PcsCluster,
        name: str,
        specs: Sequence[InstanceSpec],
        architecture: str,
        efa: bool,
        plan: tuple[EfaInterface, ...],
        subnets: Sequence[ec2.ISubnet],
        min_count: int,
        max_count: int,
        capacity: FleetCapacity,
        placement: bool,
        machine_image: ec2.IMachineImage,
        root_volume_size_gib: int,
        user_data_commands: Sequence[str],
    ) -> None:
        super().__init__(scope, id)
        self.name = name
        self.instance_specs = tuple(specs)
        self.architecture = architecture
        self.efa_enabled = efa
        self.interface_plan = plan
        self.capacity = capacity
        self.min_count = min_count
        self.max_count = max_count
        self.machine_image = machine_image

        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            path=PCS_ROLE_PATH,
            description=f"Compute nodes of {self.node.path}",
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("AmazonSSMManagedInstanceCore")
            ],
        )
        register = iam.Policy(
            self,
            "RegisterPolicy",
            statements=[
                iam.PolicyStatement(
                    actions=["pcs:RegisterComputeNodeGroupInstance"], resources=["*"]
                )
            ],
        )
        register.attach_to_role(self.role)
        cdk.Validations.of(self.role).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
                "AmazonSSMManagedInstanceCore]",
                reason="AWS's managed policy for the SSM agent (Session Manager instead of SSH "
                "keys, patching); AWS keeps its action list current and it grants no data access.",
            )
        )
        cdk.Validations.of(register).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions-IAM5[Resource::*]",
                reason="The PCS User Guide's required node policy: "
                "pcs:RegisterComputeNodeGroupInstance on '*' lets a node register itself with "
                "PCS and nothing else.",
            )
        )
        self.instance_profile = iam.InstanceProfile(
            self, "InstanceProfile", role=self.role, path=PCS_ROLE_PATH
        )

        self.placement_group: ec2.PlacementGroup | None = None
        if placement:
            self.placement_group = ec2.PlacementGroup(
                self, "PlacementGroup", strategy=ec2.PlacementGroupStrategy.CLUSTER
            )

        # PCS merges its own user data with ours, so ours must be a MIME multi-part archive;
        # shell parts run after the node registers and before slurmd starts (PCS User Guide,
        # "Working with Amazon EC2 user data").
        script = ec2.UserData.for_linux()
        commands: list[str] = ["set -euo pipefail"]
        if efa:
            fewest = min(specs, key=lambda s: s.max_efa_interfaces)
            commands += efa_boot_commands(fewest)
        for storage in cluster.shared_storage:
            commands += lustre_mount_commands(
                storage.file_system,  # type: ignore[arg-type]
                storage.resolved_mount_dir(),
            )
        commands += list(user_data_commands)
        script.add_commands(*commands)
        user_data = ec2.MultipartUserData()
        user_data.add_part(
            ec2.MultipartBody.from_user_data(script, 'text/x-shellscript; charset="us-ascii"')
        )
        self.user_data = user_data

        self.launch_template = efa_launch_template(
            self,
            "LaunchTemplate",
            root_volume_size_gib=root_volume_size_gib,
            capacity=capacity,
            interfaces=launch_template_interfaces(plan, [cluster.security_group])
            if len(plan) > 1 or efa
            else None,
            machine_image=machine_image,
            user_data=user_data,
            security_group=cluster.security_group,
            placement_group=self.placement_group,
            # PCS sets the market itself from PurchaseOption CAPACITY_BLOCK.
            market_options=False,
        )

        purchase = {
            CapacityKind.SPOT: "SPOT",
            CapacityKind.CAPACITY_BLOCK: "CAPACITY_BLOCK",
        }.get(capacity.kind, "ONDEMAND")
        spot_options = None
        strategy = spot_strategy(capacity)
        if strategy is not None:
            spot_options = pcs.CfnComputeNodeGroup.SpotOptionsProperty(allocation_strategy=strategy)
        self.node_group = pcs.CfnComputeNodeGroup(
            self,
            "Resource",
            cluster_id=cluster.cluster.attr_id,
            name=name,
            iam_instance_profile_arn=self.instance_profile.instance_profile_arn,
            instance_configs=[
                pcs.CfnComputeNodeGroup.InstanceConfigProperty(instance_type=s.instance_type)
                for s in specs
            ],
            scaling_configuration=pcs.CfnComputeNodeGroup.ScalingConfigurationProperty(
                min_instance_count=min_count, max_instance_count=max_count
            ),
            subnet_ids=[s.subnet_id for s in subnets],
            custom_launch_template=pcs.CfnComputeNodeGroup.CustomLaunchTemplateProperty(
                template_id=self.launch_template.launch_template_id,
                version=self.launch_template.latest_version_number,
            ),
            purchase_option=purchase,
            spot_options=spot_options,
        )

    @property
    def node_group_id(self) -> str:
        return self.node_group.attr_id


class PcsCluster(Construct):
    """An AWS PCS cluster (the managed Slurm controller) on an existing VPC.

    The cluster's network interface sits in ``subnet`` behind :attr:`security_group`, which
    allows all traffic to and from itself (PCS's documented self-referencing group, which also
    carries EFA) plus HTTPS egress. Every node group launches with the same group, so
    slurmctld (6817), slurmd (6818) and srun traffic flow inside it. Add compute node groups
    with :meth:`add_node_group` and queues with :meth:`add_queue`.

    :param vpc: the VPC of ``subnet`` and the node groups.
    :param subnet: the one subnet of the controller's network interface (PCS accepts one),
        e.g. ``NetworkFabric.compute_subnet``; node groups default to it.
    :param slurm_version: one of ``PCS_SLURM_VERSIONS``. Default: - ``25.11``.
    :param size: ``SMALL`` (32 nodes), ``MEDIUM`` (512) or ``LARGE`` (2048); the sum of the
        node groups' ``max_count`` must fit. Default: - ``SMALL``.
    :param machine_image: default image of the node groups: an AMI with the PCS agent and the
        cluster's Slurm version installed (a PCS sample AMI for trials, or one built with the
        PCS installers for production). Default: - none; then every node group needs one.
    :param shared_storage: existing Lustre file systems mounted on every node (the mount runs
        in the node's user data). Default: - none.
    :param scale_down_idle_time_seconds: idle time before PCS stops a dynamic node.
        Default: - PCS's default.
    :param security_group: bring your own group; the all-traffic self rules are added.
        Default: - a new group.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        subnet: ec2.ISubnet,
        slurm_version: str = DEFAULT_SLURM_VERSION,
        size: str = "SMALL",
        machine_image: ec2.IMachineImage | None = None,
        shared_storage: Sequence[SlurmStorage | LustreFileSystemLike] = (),
        scale_down_idle_time_seconds: int | None = None,
        security_group: ec2.ISecurityGroup | None = None,
    ) -> None:
        super().__init__(scope, id)
        v = Validator(self)
        v.one_of(
            "slurm_version",
            slurm_version,
            PCS_SLURM_VERSIONS,
            reason="the versions PCS CreateCluster accepts",
        )
        v.one_of("size", size, tuple(PCS_SIZE_MAX_NODES))
        if scale_down_idle_time_seconds is not None:
            v.in_range(
                "scale_down_idle_time_seconds", scale_down_idle_time_seconds, 1, 10_000_000, "s"
            )
        storages = [as_storage(s) for s in shared_storage]
        for storage in storages:
            v.require(
                storage.is_lustre,
                "shared_storage",
                storage.file_system.node.path
                if isinstance(storage.file_system, Construct)
                else storage.file_system,
                "FSx for Lustre file systems (mount EFS from your own user_data_commands)",
            )
        check_mount_dirs(v, "shared_storage[].mount_dir", storages)
        v.raise_if_any()

        self.vpc = vpc
        self.subnet = subnet
        self.slurm_version = slurm_version
        self.size = size
        self.max_nodes = PCS_SIZE_MAX_NODES[size]
        self.machine_image = machine_image
        self.shared_storage: tuple[SlurmStorage, ...] = tuple(storages)
        if security_group is None:
            self.security_group: ec2.ISecurityGroup = create_efa_security_group(
                self,
                "SecurityGroup",
                vpc=vpc,
                description=f"PCS controller and nodes of {self.node.path}: all traffic within "
                "the group (Slurm and EFA), HTTPS out",
            )
        else:
            self.security_group = security_group
            security_group.connections.allow_internally(
                ec2.Port.all_traffic(), "PCS and EFA: all traffic within the group"
            )
        self.connections: ec2.Connections = self.security_group.connections
        for storage in storages:
            allow_lustre_clients(storage.file_system, self.security_group)  # type: ignore[arg-type]

        slurm_config = None
        if scale_down_idle_time_seconds is not None:
            slurm_config = pcs.CfnCluster.SlurmConfigurationProperty(
                scale_down_idle_time_in_seconds=scale_down_idle_time_seconds
            )
        self.cluster = pcs.CfnCluster(
            self,
            "Resource",
            networking=pcs.CfnCluster.NetworkingProperty(
                subnet_ids=[subnet.subnet_id],
                security_group_ids=[self.security_group.security_group_id],
            ),
            scheduler=pcs.CfnCluster.SchedulerProperty(type="SLURM", version=slurm_version),
            size=size,
            slurm_configuration=slurm_config,
        )
        self.node_groups: list[PcsComputeNodeGroup] = []
        self.queues: list[pcs.CfnQueue] = []
        self._image_architecture: str | None = None

    @property
    def cluster_id(self) -> str:
        return self.cluster.attr_id

    def add_node_group(
        self,
        id: str,
        *,
        instance_types: Sequence[str],
        max_count: int,
        min_count: int = 0,
        name: str | None = None,
        subnets: ec2.SubnetSelection | None = None,
        efa: bool | None = None,
        capacity: FleetCapacity | None = None,
        placement_group: bool | None = None,
        machine_image: ec2.IMachineImage | None = None,
        root_volume_size_gib: int = 64,
        user_data_commands: Sequence[str] = (),
    ) -> PcsComputeNodeGroup:
        """Add a compute node group.

        :param id: construct id.
        :param instance_types: catalog types of one architecture; with EFA they must share
            one network-interface layout (one launch template serves the group).
        :param max_count: most instances (PCS ``MaxInstanceCount``).
        :param min_count: instances kept running. Default: - 0.
        :param name: the node group (and Slurm node) name, 3-25 characters. Default: - ``id``
            lowercased.
        :param subnets: Default: - the cluster's subnet. EFA groups need exactly one subnet.
        :param efa: Default: - on when every type supports EFA.
        :param capacity: ``on_demand``, ``spot`` (lowest-price, capacity-optimized or
            price-capacity-optimized), ``capacity_reservation`` (targeted in the launch
            template) or ``capacity_block``. Default: - On-Demand.
        :param placement_group: Default: - a new cluster placement group for EFA groups (not
            for Capacity Blocks); none otherwise.
        :param machine_image: Default: - the cluster's ``machine_image``.
        :param root_volume_size_gib: encrypted gp3 root volume. Default: - 64.
        :param user_data_commands: shell lines run after the EFA check and Lustre mounts,
            before slurmd starts. Default: - none.
        """
        v = Validator(f"{self.node.path}/{id}")
        group_name = name if name is not None else id.lower()
        v.require(
            bool(_PCS_NAME.match(group_name)),
            "name",
            group_name,
            "3 to 25 letters, digits or hyphens starting with a letter, not starting with pcs_",
        )
        v.require(
            group_name not in {g.name for g in self.node_groups},
            "name",
            group_name,
            "a name no other node group of the cluster uses",
        )
        specs = lookup_specs(v, "instance_types", instance_types)
        arch = check_one_architecture(v, "instance_types", specs, "one AMI serves the group")
        image = machine_image or self.machine_image
        if image is None:
            v.add(
                "machine_image",
                None,
                "an AMI with the PCS agent and Slurm "
                f"{self.slurm_version} (on the node group or the cluster)",
            )
        elif machine_image is None and arch is not None:
            v.require(
                self._image_architecture in (None, arch),
                "instance_types",
                f"{', '.join(s.instance_type for s in specs)} ({arch})",
                f"{self._image_architecture} types: the cluster's machine_image already serves "
                f"{self._image_architecture} node groups; pass a machine_image for this one",
            )
        efa_on = resolve_efa(v, "efa", efa, specs)
        capacity = capacity or FleetCapacity.on_demand()
        v.require(min_count >= 0, "min_count", min_count, "0 or more")
        v.require(
            max_count >= max(min_count, 1),
            "max_count",
            max_count,
            f"at least 1 and at least min_count ({min_count})",
        )
        used = sum(g.max_count for g in self.node_groups)
        v.require(
            used + max_count <= self.max_nodes,
            "max_count",
            max_count,
            f"at most {self.max_nodes - used}: a {self.size} cluster runs at most "
            f"{self.max_nodes} compute nodes and other node groups take {used}",
        )
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
                list(instance_types),
                "exactly one type: a Capacity Block reserves one instance type",
            )
            v.require(
                placement_group is not True,
                "placement_group",
                True,
                "False or None: AWS places a Capacity Block's instances itself",
            )
        placement = (
            placement_group
            if placement_group is not None
            else efa_on and not capacity.is_capacity_block
        )
        if placement:
            check_placement(v, "placement_group", specs)
        selection = subnets or ec2.SubnetSelection(subnets=[self.subnet])
        selected = select_subnets(self.vpc, selection)
        if efa_on or placement:
            check_single_subnet(
                v,
                "subnets",
                selected,
                "EFA traffic cannot cross subnets or AZs and a cluster placement group lives "
                "in one AZ",
            )
        plans = {s.instance_type: plan_efa_interfaces(s) for s in specs} if efa_on else {}
        layouts = set(plans.values())
        v.require(
            len(layouts) <= 1,
            "instance_types",
            {t: len(p) for t, p in plans.items()},
            "types with the same EFA interface layout (one launch template serves the group)",
        )
        plan = (
            next(iter(layouts))
            if layouts
            else (EfaInterface(0, 0, "interface", is_primary=True, has_ip=True),)
        )
        check_private_subnets(
            v, "subnets", selected, [s.instance_type for s in specs] if len(plan) > 1 else []
        )
        check_offerings(v, self, "instance_types", specs, list(selected.subnets), "subnets")
        v.in_range("root_volume_size_gib", root_volume_size_gib, 8, 65_536, "GiB")
        v.raise_if_any()

        assert image is not None
        assert arch is not None
        if machine_image is None:
            self._image_architecture = arch
        group = PcsComputeNodeGroup(
            self,
            id,
            cluster=self,
            name=group_name,
            specs=specs,
            architecture=arch,
            efa=efa_on,
            plan=plan,
            subnets=list(selected.subnets),
            min_count=min_count,
            max_count=max_count,
            capacity=capacity,
            placement=bool(placement),
            machine_image=image,
            root_volume_size_gib=root_volume_size_gib,
            user_data_commands=user_data_commands,
        )
        if efa is False and any(s.efa_supported for s in specs):
            warn(
                group,
                "efaDisabled",
                "efa=False on an EFA-capable instance type: MPI/NCCL traffic falls back to TCP "
                "over ENA.",
            )
        if placement and len(specs) > 1:
            warn(
                group,
                "mixedTypesInPlacementGroup",
                f"{len(specs)} instance types share one cluster placement group; mixing makes "
                "insufficient-capacity errors more likely.",
            )
        self.node_groups.append(group)
        return group

    def add_queue(
        self,
        id: str,
        *,
        node_groups: Sequence[PcsComputeNodeGroup],
        name: str | None = None,
    ) -> pcs.CfnQueue:
        """Add a queue (Slurm partition) that schedules jobs onto ``node_groups``.

        :param name: the partition name users pass to ``sbatch -p``, 3-25 characters.
            Default: - ``id`` lowercased.
        """
        v = Validator(f"{self.node.path}/{id}")
        queue_name = name if name is not None else id.lower()
        v.require(
            bool(_PCS_NAME.match(queue_name)),
            "name",
            queue_name,
            "3 to 25 letters, digits or hyphens starting with a letter, not starting with pcs_",
        )
        v.require(
            queue_name not in {str(q.name) for q in self.queues},
            "name",
            queue_name,
            "a name no other queue of the cluster uses",
        )
        groups = list(node_groups)
        v.require(len(groups) > 0, "node_groups", groups, "one or more node groups")
        foreign = [g.node.path for g in groups if g not in self.node_groups]
        v.require(not foreign, "node_groups", foreign, "node groups added to this cluster")
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
        )
        self.queues.append(queue)
        return queue
