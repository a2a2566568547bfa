"""``EfaComputeFleet``: an Auto Scaling fleet for tightly coupled MPI / NCCL work that launches
every node with all the EFA interfaces its instance type supports, in one subnet and one
cluster placement group.
"""

from __future__ import annotations

import functools
import re
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import aws_cdk as cdk
import jsii
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from hpc_constructs import limits
from hpc_constructs.capacity import FleetCapacity
from hpc_constructs.catalog import (
    DEFAULT_EFA_INTERFACE_TYPE,
    EfaInterface,
    EfaInterfaceType,
    InstanceSpec,
    plan_efa_interfaces,
)
from hpc_constructs.compute import (
    RESERVATION_PLACEMENT_WARNING,
    check_capacity,
    check_offerings,
    check_one_architecture,
    check_placement,
    check_private_subnets,
    check_single_subnet,
    lookup_specs,
    reservation_needs_its_placement_group,
    resolve_efa,
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

#: Deep Learning Base OSS Nvidia Driver GPU AMI (Amazon Linux 2023): NVIDIA driver, CUDA, EFA,
#: NCCL and aws-ofi-nccl preinstalled. Public SSM parameter per architecture (DLAMI developer
#: guide, "DLAMI release notes" / "Retrieve the AMI ID with SSM").
GPU_AMI_PARAMETER = "/aws/service/deeplearning/ami/{arch}/base-oss-nvidia-driver-gpu-amazon-linux-2023/latest/ami-id"
#: The DLAMI's root snapshot is 75 GiB; a smaller root volume fails to launch.
GPU_AMI_MIN_ROOT_GIB = 75
#: Where the NVMe instance store is assembled and mounted.
INSTANCE_STORE_MOUNT_POINT = "/scratch/local"
#: Model string EC2 reports for NVMe instance-store devices (EBS volumes report
#: "Amazon Elastic Block Store"), EC2 User Guide "Instance store volumes / NVMe".
INSTANCE_STORE_MODEL = "Amazon EC2 NVMe Instance Storage"

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


@jsii.implements(cdk.IStableStringProducer)
class _Producer:
    """Renders a boot script when the template is synthesized, so commands added later
    (``add_lustre_mount``) still run before the user's own commands."""

    def __init__(self, render: Callable[[], str]) -> None:
        self._render = render

    def produce(self) -> str | None:
        return self._render()


def _construct_id(instance_type: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]", instance_type))


class EfaComputeFleet(Construct):
    """An Auto Scaling group of CPU or GPU instances for tightly coupled MPI / NCCL work.

    Every node gets one EFA interface per EFA-capable network card (the catalog's layout:
    32 on p5.48xlarge, 2 on hpc7a.96xlarge, 1 on c5n.18xlarge), all in the one subnet of
    ``vpc_subnets``, in one cluster placement group, behind a security group that allows all
    traffic to and from itself. IMDSv2 is required (hop limit 2 so containers reach it),
    detailed monitoring is on, root and scratch volumes are encrypted, and no node gets a
    public IP.

    :param vpc: the VPC.
    :param vpc_subnets: where nodes launch. With EFA or a cluster placement group this must
        resolve to exactly one subnet (EFA traffic cannot cross subnets or AZs; an Auto
        Scaling group cannot combine a cluster placement group with several AZs).
    :param instance_types: one or more catalog instance types of one architecture; listed
        first is preferred (On-Demand ``prioritized`` order).
    :param max_capacity: the most nodes.
    :param min_capacity: Default: - 0.
    :param desired_capacity: Default: - none (the group starts at ``min_capacity``; set it
        from your scheduler).
    :param capacity: Default: - ``FleetCapacity.on_demand()``.
    :param efa: Default: - on when every type supports EFA.
    :param efa_interface_type: type of the non-primary EFA interfaces, ``"efa-only"`` (no IP
        address) or ``"efa"`` (EFA with ENA). Default: - ``"efa-only"``.
    :param placement_group: bring your own placement group. Default: - a new cluster
        placement group for EFA fleets; none for Capacity Blocks (AWS places the block), for
        non-EFA fleets, and for Capacity Reservations (pass the group the reservation was
        created in; without it the fleet warns ``hpc-constructs:reservationWithoutPlacementGroup``).
    :param placement: ``False`` launches without a placement group, ``True`` asks for a new
        cluster placement group on a non-EFA fleet. Default: - ``None`` (see
        ``placement_group``).
    :param machine_image: Default: - the latest Amazon Linux 2023 for the architecture (public
        SSM parameter, resolved at deploy time) with the EFA software installed at boot; for
        GPU types the Deep Learning Base OSS Nvidia Driver GPU AMI (Amazon Linux 2023), which
        ships it. EFA is verified at boot either way.
    :param user_data: commands (or an ``ec2.UserData``) run after the fleet's own boot steps.
        Default: - none.
    :param role: Default: - a new role with ``AmazonSSMManagedInstanceCore``.
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
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        vpc_subnets: ec2.SubnetSelection,
        instance_types: Sequence[str],
        max_capacity: int,
        min_capacity: int = 0,
        desired_capacity: int | None = None,
        capacity: FleetCapacity | None = None,
        efa: bool | None = None,
        efa_interface_type: EfaInterfaceType = DEFAULT_EFA_INTERFACE_TYPE,
        placement_group: ec2.IPlacementGroup | None = None,
        placement: bool | None = None,
        machine_image: ec2.IMachineImage | None = None,
        user_data: ec2.UserData | Sequence[str] | None = None,
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
    ) -> None:
        super().__init__(scope, id)
        capacity = capacity if capacity is not None else FleetCapacity.on_demand()
        v = Validator(self)

        # --- instance types ------------------------------------------------------------
        types = list(instance_types)
        specs = lookup_specs(v, "instance_types", types)
        architecture = check_one_architecture(
            v, "instance_types", specs, "one AMI serves the fleet"
        )

        # --- EFA -----------------------------------------------------------------------
        efa_enabled = resolve_efa(v, "efa", efa, specs)
        v.one_of("efa_interface_type", efa_interface_type, ("efa-only", "efa"))

        # --- sizes ---------------------------------------------------------------------
        v.require(min_capacity >= 0, "min_capacity", min_capacity, "0 or more")
        v.require(
            max_capacity >= max(min_capacity, 1),
            "max_capacity",
            max_capacity,
            f"at least 1 and at least min_capacity ({min_capacity})",
        )
        if desired_capacity is not None:
            v.require(
                min_capacity <= desired_capacity <= max_capacity,
                "desired_capacity",
                desired_capacity,
                f"between min_capacity ({min_capacity}) and max_capacity ({max_capacity})",
            )

        # --- purchase option -----------------------------------------------------------
        check_capacity(v, "capacity", capacity, specs)
        if capacity.is_capacity_block:
            v.require(
                min_capacity == max_capacity and max_capacity > 0,
                "min_capacity/max_capacity",
                (min_capacity, max_capacity),
                "equal and above 0: a Capacity Block has a fixed number of instances",
            )
            v.require(
                len(types) == 1,
                "instance_types",
                types,
                "exactly one type: a Capacity Block reserves one instance type",
            )
            v.require(
                placement_group is None and placement is not True,
                "placement_group",
                placement_group.node.path if placement_group is not None else placement,
                "none: AWS places a Capacity Block's instances itself",
            )

        # --- placement group -----------------------------------------------------------
        if placement_group is not None and placement is False:
            v.add(
                "placement/placement_group",
                (False, placement_group.node.path),
                "either a placement_group or placement=False, not both",
            )
        # A reservation serves only the placement group it was created in: never a new one.
        reservation_without_group = placement is None and reservation_needs_its_placement_group(
            capacity, placement_group, efa_enabled
        )
        create_group = (
            placement_group is None
            and not capacity.is_capacity_block
            and (placement is True or (placement is None and efa_enabled))
            and not reservation_without_group
        )
        strategy: str | None = None
        if create_group:
            strategy = "cluster"
        elif placement_group is not None and placement_group.strategy is not None:
            strategy = str(placement_group.strategy.value).lower()
        if strategy is not None:
            check_placement(v, "placement_group", specs, strategy)
        uses_group = create_group or placement_group is not None
        cluster_group = uses_group and strategy in (None, "cluster")

        # --- subnets -------------------------------------------------------------------
        selected = select_subnets(vpc, vpc_subnets)
        subnets = list(selected.subnets)
        if efa_enabled or cluster_group:
            check_single_subnet(
                v,
                "vpc_subnets",
                selected,
                "EFA traffic cannot cross subnets or AZs and an Auto Scaling group cannot "
                "combine a cluster placement group with several AZs",
            )
        plan_type: EfaInterfaceType = (
            efa_interface_type
            if efa_interface_type in ("efa", "efa-only")
            else DEFAULT_EFA_INTERFACE_TYPE
        )
        primary_only = (EfaInterface(0, 0, "interface", is_primary=True, has_ip=True),)
        plans = {
            s.instance_type: plan_efa_interfaces(s, efa_interface_type=plan_type)
            if efa_enabled
            else primary_only
            for s in specs
        }
        multi_interface = [t for t, p in plans.items() if len(p) > 1]
        check_private_subnets(v, "vpc_subnets", selected, multi_interface)

        # --- regional offering ---------------------------------------------------------
        # The AZ is checked when the fleet has one subnet (an EFA or cluster-placement fleet).
        check_offerings(
            v,
            self,
            "instance_types",
            specs,
            subnets if len(subnets) == 1 else [],
            "vpc_subnets",
        )

        # --- storage, identity ---------------------------------------------------------
        gpu_default_ami = machine_image is None and any(s.is_gpu for s in specs)
        low_root = GPU_AMI_MIN_ROOT_GIB if gpu_default_ami else 8
        v.in_range("root_volume_size_gib", root_volume_size_gib, low_root, 65_536, "GiB")
        if scratch_volume is not None:
            _validate_scratch(v, scratch_volume)
        if security_group is not None and allow_all_outbound is not None:
            v.add(
                "allow_all_outbound",
                allow_all_outbound,
                "unset when security_group is given (configure egress on your group)",
            )
        v.raise_if_any()

        # --- resolved facts --------------------------------------------------------------
        self.instance_specs: tuple[InstanceSpec, ...] = tuple(specs)
        self.capacity = capacity
        self.efa_enabled: bool = efa_enabled
        self.efa_interface_type: EfaInterfaceType = efa_interface_type
        self.interface_plans: dict[str, tuple[EfaInterface, ...]] = plans
        self.interface_plan: tuple[EfaInterface, ...] = plans[types[0]]
        self.efa_interface_count: int = (
            min(s.max_efa_interfaces for s in specs) if efa_enabled else 0
        )
        self.network_gbps: float = min(s.network_gbps for s in specs)
        assert architecture is not None  # raise_if_any() raised otherwise
        self.architecture: str = architecture
        self.subnet: ec2.ISubnet | None = subnets[0] if len(subnets) == 1 else None
        if efa is False and any(s.efa_supported for s in specs):
            warn(
                self,
                "efaDisabled",
                "efa=False on an EFA-capable instance type: MPI/NCCL traffic falls back to "
                "TCP over ENA, at a fraction of the type's bandwidth and with higher latency.",
            )
        if reservation_without_group:
            warn(self, "reservationWithoutPlacementGroup", RESERVATION_PLACEMENT_WARNING)
        if cluster_group and len(types) > 1:
            warn(
                self,
                "mixedTypesInPlacementGroup",
                f"{len(types)} instance types share one cluster placement group; AWS "
                "recommends one type per group, as mixing makes insufficient-capacity errors "
                "more likely.",
            )

        # --- security group, role, placement group ---------------------------------------
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
        self.connections: ec2.Connections = self.security_group.connections

        if role is None:
            new_role = iam.Role(
                self,
                "Role",
                assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
                description=f"Nodes of {self.node.path}",
                managed_policies=[
                    iam.ManagedPolicy.from_aws_managed_policy_name("AmazonSSMManagedInstanceCore")
                ],
            )
            cdk.Validations.of(new_role).acknowledge(
                cdk.Acknowledgment(
                    id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
                    "AmazonSSMManagedInstanceCore]",
                    reason="AWS's managed policy for the SSM agent (Session Manager instead of "
                    "SSH keys, patching); AWS keeps its action list current and it grants no "
                    "data access.",
                )
            )
            self.role: iam.IRole = new_role
        else:
            self.role = role

        self.placement_group: ec2.IPlacementGroup | None = placement_group
        if create_group:
            self.placement_group = ec2.PlacementGroup(
                self, "PlacementGroup", strategy=ec2.PlacementGroupStrategy.CLUSTER
            )

        # --- image and boot script -----------------------------------------------------
        arm = self.architecture == "arm64"
        if machine_image is not None:
            self.machine_image: ec2.IMachineImage = machine_image
        elif gpu_default_ami:
            self.machine_image = ec2.MachineImage.from_ssm_parameter(
                GPU_AMI_PARAMETER.format(arch="arm64" if arm else "x86_64"),
                os=ec2.OperatingSystemType.LINUX,
            )
        else:
            self.machine_image = ec2.MachineImage.latest_amazon_linux2023(
                cpu_type=ec2.AmazonLinuxCpuType.ARM_64 if arm else ec2.AmazonLinuxCpuType.X86_64
            )
        self._install_efa = not gpu_default_ami
        self._scratch = scratch_volume
        self._mount_commands: list[str] = []
        self._user_commands: list[str] = []
        if isinstance(user_data, ec2.UserData):
            rendered = user_data.render()
            lines = rendered.splitlines()
            if lines and lines[0].startswith("#!"):
                lines = lines[1:]
            self._user_commands.extend(lines)
        elif user_data is not None:
            self._user_commands.extend(user_data)

        scratch_devices: list[ec2.BlockDevice] = []
        if scratch_volume is not None:
            scratch_devices.append(
                ec2.BlockDevice(
                    device_name=scratch_volume.device_name,
                    volume=ec2.BlockDeviceVolume.ebs(
                        scratch_volume.size_gib,
                        encrypted=True,
                        delete_on_termination=True,
                        volume_type=ec2.EbsDeviceVolumeType.IO2
                        if scratch_volume.volume_type == "io2"
                        else ec2.EbsDeviceVolumeType.GP3,
                        iops=scratch_volume.iops,
                        throughput=scratch_volume.throughput_mibps,
                    ),
                )
            )

        # --- launch templates: one per distinct layout -----------------------------------
        # Types whose interface plan, EFA device count and instance store match share a
        # template; the others get their own, referenced from the mixed instances policy.
        self.launch_templates: dict[str, ec2.LaunchTemplate] = {}
        by_layout: dict[tuple[object, ...], ec2.LaunchTemplate] = {}
        for index, spec in enumerate(specs):
            key = (plans[spec.instance_type], self._efa_devices(spec), spec.nvme_disk_count)
            if key not in by_layout:
                lt_id = (
                    "LaunchTemplate"
                    if index == 0
                    else f"LaunchTemplate{_construct_id(spec.instance_type)}"
                )
                boot = ec2.UserData.custom(
                    cdk.Lazy.string(_Producer(functools.partial(self._boot_script, spec)))
                )
                by_layout[key] = efa_launch_template(
                    self,
                    lt_id,
                    root_volume_size_gib=root_volume_size_gib,
                    root_device_name=root_device_name,
                    extra_block_devices=scratch_devices,
                    capacity=capacity,
                    interfaces=launch_template_interfaces(
                        plans[spec.instance_type], [self.security_group]
                    ),
                    instance_type=ec2.InstanceType(spec.instance_type),
                    machine_image=self.machine_image,
                    user_data=boot,
                    role=self.role,
                    key_pair=key_pair,
                    placement_group=self.placement_group,
                    detailed_monitoring=True,
                )
            self.launch_templates[spec.instance_type] = by_layout[key]
        self.launch_template: ec2.LaunchTemplate = self.launch_templates[types[0]]

        # --- notifications -------------------------------------------------------------
        self.notification_key: kms.Key | None = None
        if notification_topic is None:
            stack = cdk.Stack.of(self)
            topic_key = kms.Key(
                self,
                "NotificationKey",
                description=f"Encrypts the notification topic of {self.node.path}",
                enable_key_rotation=True,
            )
            # EventBridge and the Auto Scaling service-linked role publish to the topic and
            # need the key. The role is named in a condition, not as a principal, because a
            # key policy may not name a role that does not exist yet (new accounts).
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
            self.notification_key = topic_key
            notification_topic = sns.Topic(
                self, "NotificationTopic", master_key=topic_key, enforce_ssl=True
            )
        self.notification_topic: sns.ITopic = notification_topic

        # --- Auto Scaling group --------------------------------------------------------
        mixed: autoscaling.MixedInstancesPolicy | None = None
        if capacity.is_spot or len(types) > 1:
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
            mixed = autoscaling.MixedInstancesPolicy(
                launch_template=self.launch_template,
                instances_distribution=distribution,
                launch_template_overrides=[
                    autoscaling.LaunchTemplateOverrides(
                        instance_type=ec2.InstanceType(t),
                        launch_template=None
                        if self.launch_templates[t] is self.launch_template
                        else self.launch_templates[t],
                    )
                    for t in types
                ],
            )
        self.auto_scaling_group = autoscaling.AutoScalingGroup(
            self,
            "AutoScalingGroup",
            vpc=vpc,
            vpc_subnets=vpc_subnets,
            launch_template=None if mixed is not None else self.launch_template,
            mixed_instances_policy=mixed,
            min_capacity=min_capacity,
            max_capacity=max_capacity,
            desired_capacity=desired_capacity,
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
            notifications=[autoscaling.NotificationConfiguration(topic=notification_topic)],
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
        cdk.Tags.of(self).add("hpc-constructs:fleet", self.node.path)

        # --- Spot interruption events ----------------------------------------------------
        self.interruption_rules: list[events.Rule] = []
        if capacity.is_spot:
            target = interruption_target or targets.SnsTopic(notification_topic)
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

    @property
    def cfn_auto_scaling_group(self) -> autoscaling.CfnAutoScalingGroup:
        """The L1 escape hatch of the Auto Scaling group."""
        child = self.auto_scaling_group.node.default_child
        assert isinstance(child, autoscaling.CfnAutoScalingGroup)
        return child

    def add_user_data(self, *commands: str) -> None:
        """Append shell commands to every node's boot script (after the fleet's own steps)."""
        self._user_commands.extend(commands)

    def add_lustre_mount(self, file_system: LustreFileSystemLike, mount_point: str) -> None:
        """Mount an FSx for Lustre file system on every node at ``mount_point``.

        Opens TCP 988 and 1018-1023 from the fleet to the file system (ingress on the file
        system's group, egress on the fleet's) and adds the client install and mount to the
        boot script, before any user commands.
        """
        v = Validator(self)
        v.require(
            bool(_ABSOLUTE_PATH.match(mount_point)),
            "mount_point",
            mount_point,
            "an absolute path such as /fsx",
        )
        v.raise_if_any()
        allow_lustre_clients(file_system, self.connections)
        self._mount_commands.extend(lustre_mount_commands(file_system, mount_point))

    # --- boot script -----------------------------------------------------------------------

    def _efa_devices(self, spec: InstanceSpec) -> int:
        return spec.max_efa_interfaces if self.efa_enabled else 0

    def _boot_script(self, spec: InstanceSpec) -> str:
        lines = [
            "#!/bin/bash",
            f"# hpc-constructs EfaComputeFleet boot script ({spec.instance_type})",
            # Stop at the first failed step (a failed Lustre mount, RAID or EFA check) instead
            # of running the user's commands on a half-built node.
            "set -eo pipefail",
            "exec > >(tee -a /var/log/hpc-constructs-boot.log) 2>&1",
        ]
        if self.efa_enabled:
            lines += efa_boot_commands(spec, install=self._install_efa)
        if spec.nvme_disk_count > 0:
            lines += _instance_store_commands(spec.nvme_disk_count)
        if self._scratch is not None:
            lines += _scratch_volume_commands(self._scratch)
        lines += self._mount_commands
        lines += self._user_commands
        return "\n".join(lines) + "\n"


def _validate_scratch(v: Validator, vol: ScratchVolume) -> None:
    if not v.one_of("scratch_volume.volume_type", vol.volume_type, ("io2", "gp3")):
        return
    if vol.volume_type == "io2":
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
    else:
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


def _instance_store_commands(disks: int) -> list[str]:
    """Find the instance-store NVMe devices by model (EBS volumes are NVMe too on Nitro and
    device numbering is not stable), RAID 0 them when there are several, xfs, mount."""
    mount = INSTANCE_STORE_MOUNT_POINT
    lines = [
        f"# NVMe instance store ({disks} disk(s)) at {mount}: lost when the node stops or "
        "terminates",
        "disks=()",
        "for i in $(seq 1 60); do",
        "  mapfile -t disks < <(lsblk -dpno NAME,MODEL "
        f"| awk '/{INSTANCE_STORE_MODEL}/ {{print $1}}' | sort)",
        f'  [ "${{#disks[@]}}" -ge {disks} ] && break; sleep 2',
        "done",
        f'if [ "${{#disks[@]}}" -lt {disks} ]; then echo "expected {disks} instance-store '
        'NVMe devices, found ${#disks[@]}" >&2; exit 1; fi',
        # Some images assemble the instance store themselves (the Deep Learning AMIs mount it
        # at /opt/dlami/nvme): a disk that is mounted or held by an md/dm device is left alone.
        "in_use=0",
        'for d in "${disks[@]}"; do',
        '  if findmnt -rn -S "$d" >/dev/null || [ -n "$(ls -A "/sys/class/block/${d##*/}/holders" '
        '2>/dev/null)" ]; then in_use=1; fi',
        "done",
        'if [ "$in_use" = 1 ]; then',
        '  echo "instance store already in use by the image; not assembling it at ' + mount + '"',
        "else",
    ]
    body: list[str] = []
    if disks > 1:
        body += [
            "command -v mdadm >/dev/null 2>&1 || dnf install -y mdadm",
            f'mdadm --create /dev/md/hpc-local --run --level=0 --raid-devices={disks} "${{disks[@]}}"',
            "mdadm --detail --scan >> /etc/mdadm.conf",
            "local_dev=/dev/md/hpc-local",
        ]
    else:
        body.append('local_dev="${disks[0]}"')
    body += [
        'mkfs.xfs -f "$local_dev"',
        f"mkdir -p {mount}",
        f'mount -o noatime "$local_dev" {mount}',
        f'echo "UUID=$(blkid -s UUID -o value "$local_dev") {mount} xfs '
        'defaults,noatime,nofail 0 2" >> /etc/fstab',
        f"chmod 1777 {mount}",
    ]
    lines += [f"  {line}" for line in body]
    lines.append("fi")
    return lines


def _scratch_volume_commands(vol: ScratchVolume) -> list[str]:
    """Wait for the EBS volume's udev symlink (amazon-ec2-utils maps /dev/sdX to its NVMe
    device), format it once and mount it."""
    mount = shlex.quote(vol.mount_point)
    alias = vol.device_name.replace("/dev/sd", "/dev/xvd")
    return [
        f"# EBS scratch volume ({vol.volume_type}, {vol.size_gib} GiB) at {vol.mount_point}",
        'ebs_dev=""',
        "for i in $(seq 1 60); do",
        f"  for d in {vol.device_name} {alias}; do [ -e $d ] && ebs_dev=$(readlink -f $d); done",
        '  [ -n "$ebs_dev" ] && break; sleep 2',
        "done",
        f'[ -n "$ebs_dev" ] || {{ echo "scratch volume {vol.device_name} not found" >&2; exit 1; }}',
        'blkid "$ebs_dev" >/dev/null 2>&1 || mkfs.xfs "$ebs_dev"',
        f"mkdir -p {mount}",
        f'mount -o noatime "$ebs_dev" {mount}',
        f'echo "UUID=$(blkid -s UUID -o value "$ebs_dev") {vol.mount_point} xfs '
        'defaults,noatime,nofail 0 2" >> /etc/fstab',
        f"chmod 1777 {mount}",
    ]
