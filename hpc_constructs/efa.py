"""Launch-template pieces every EFA construct shares: the launch template itself, its interface
list and the self-referencing security group (the boot-time EFA install and checks are
:mod:`hpc_constructs.boot`'s).

``EfaComputeFleet``, ``BatchMultiNode`` and the Slurm constructs all build their launch
templates from these, so one instance type gets one layout everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from constructs import Construct

from hpc_constructs.boot import DEFAULT_IMDS_HOP_LIMIT
from hpc_constructs.capacity import FleetCapacity
from hpc_constructs.catalog import EfaInterface


def create_efa_security_group(
    scope: Construct,
    id: str,
    *,
    vpc: ec2.IVpc,
    description: str,
    allow_all_outbound: bool = False,
) -> ec2.SecurityGroup:
    """A security group that allows all traffic to and from itself, in and out.

    EFA's OS-bypass traffic needs exactly that (EC2 User Guide, "Prepare an EFA-enabled
    security group"). With ``allow_all_outbound=False`` the group's only egress is to itself,
    plus HTTPS so nodes reach SSM, S3 and the EFA installer; callers add more through
    ``connections`` (e.g. the Lustre ports).
    """
    group = ec2.SecurityGroup(
        scope, id, vpc=vpc, description=description, allow_all_outbound=allow_all_outbound
    )
    group.connections.allow_internally(ec2.Port.all_traffic(), "EFA: all traffic within the group")
    if not allow_all_outbound:
        group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to AWS APIs and package repositories"
        )
    return group


def launch_template_interfaces(
    plan: Sequence[EfaInterface],
    security_groups: Sequence[ec2.ISecurityGroup],
    *,
    subnet_id: str | None = None,
) -> list[dict[str, Any]]:
    """The planned interfaces as CloudFormation ``LaunchTemplateData.NetworkInterfaces``.

    Every interface carries the security groups (a launch template with interfaces cannot use
    ``SecurityGroupIds``); none gets a public IP (AWS cannot auto-assign one to an instance
    with more than one interface). ``subnet_id`` is left out for Auto Scaling groups and
    Batch, which place every interface in the subnet they launch into.
    """
    group_ids = [g.security_group_id for g in security_groups]
    interfaces: list[dict[str, Any]] = []
    for itf in plan:
        entry: dict[str, Any] = {
            "NetworkCardIndex": itf.network_card_index,
            "DeviceIndex": itf.device_index,
            "Groups": group_ids,
            "DeleteOnTermination": True,
        }
        if itf.interface_type != "interface":
            entry["InterfaceType"] = itf.interface_type
        if itf.is_primary:
            entry["AssociatePublicIpAddress"] = False
        if subnet_id is not None:
            entry["SubnetId"] = subnet_id
        interfaces.append(entry)
    return interfaces


def apply_interfaces(
    launch_template: ec2.LaunchTemplate, interfaces: Sequence[dict[str, Any]]
) -> ec2.CfnLaunchTemplate:
    """Put ``interfaces`` on an L2 launch template through its L1 (the L2 has no interface
    list) and drop ``SecurityGroupIds``, which EC2 rejects next to network interfaces."""
    cfn = launch_template.node.default_child
    if not isinstance(cfn, ec2.CfnLaunchTemplate):  # pragma: no cover - L2 invariant
        raise TypeError("expected the launch template's L1 child")
    cfn.add_property_override("LaunchTemplateData.NetworkInterfaces", list(interfaces))
    cfn.add_property_deletion_override("LaunchTemplateData.SecurityGroupIds")
    return cfn


def efa_launch_template(
    scope: Construct,
    id: str,
    *,
    root_volume_size_gib: int,
    capacity: FleetCapacity,
    interfaces: Sequence[dict[str, Any]] | None = None,
    root_device_name: str = "/dev/xvda",
    extra_block_devices: Sequence[ec2.BlockDevice] = (),
    instance_type: ec2.InstanceType | None = None,
    machine_image: ec2.IMachineImage | None = None,
    user_data: ec2.UserData | None = None,
    role: iam.IRole | None = None,
    key_pair: ec2.IKeyPair | None = None,
    security_group: ec2.ISecurityGroup | None = None,
    placement_group: ec2.IPlacementGroup | None = None,
    detailed_monitoring: bool | None = None,
    http_endpoint: bool | None = None,
    market_options: bool = True,
    imds_hop_limit: int = DEFAULT_IMDS_HOP_LIMIT,
) -> ec2.LaunchTemplate:
    """The L2 launch template of EFA nodes, with the settings every construct shares.

    IMDSv2 is required with a hop limit of ``imds_hop_limit`` (default 1: a container on a
    bridge network, one hop further than the host, cannot read the node role's credentials);
    a shutdown from inside the node terminates it (a node that fails its boot checks powers
    off, and its service replaces it); the root volume is encrypted gp3, deleted with the
    instance.
    ``interfaces`` (from :func:`launch_template_interfaces`) are set with
    :func:`apply_interfaces`; ``None`` keeps the L2's single default interface. The purchase
    option's ``LaunchTemplateData`` overrides follow (reservation targeting, the Capacity Block
    market type); ``market_options=False`` leaves out ``InstanceMarketOptions`` for services
    that set the market themselves (AWS PCS).

    :param http_endpoint: render ``HttpEndpoint`` explicitly. Default: - not rendered (IMDS is
        enabled by default).
    """
    template = ec2.LaunchTemplate(
        scope,
        id,
        instance_type=instance_type,
        machine_image=machine_image,
        user_data=user_data,
        role=role,
        key_pair=key_pair,
        security_group=security_group,
        placement_group=placement_group,
        detailed_monitoring=detailed_monitoring,
        http_endpoint=http_endpoint,
        http_tokens=ec2.LaunchTemplateHttpTokens.REQUIRED,
        http_put_response_hop_limit=imds_hop_limit,
        instance_initiated_shutdown_behavior=ec2.InstanceInitiatedShutdownBehavior.TERMINATE,
        block_devices=[
            ec2.BlockDevice(
                device_name=root_device_name,
                volume=ec2.BlockDeviceVolume.ebs(
                    root_volume_size_gib,
                    encrypted=True,
                    volume_type=ec2.EbsDeviceVolumeType.GP3,
                    delete_on_termination=True,
                ),
            ),
            *extra_block_devices,
        ],
    )
    cfn = template.node.default_child
    if not isinstance(cfn, ec2.CfnLaunchTemplate):  # pragma: no cover - L2 invariant
        raise TypeError("expected the launch template's L1 child")
    if interfaces is not None:
        # The L2 has no network-interface list: set the planned EFA layout on its L1.
        apply_interfaces(template, interfaces)
    # Reservation targeting and the Capacity Block market type have no L2 props either.
    for key, value in capacity.launch_template_data_overrides().items():
        if key == "InstanceMarketOptions" and not market_options:
            continue
        cfn.add_property_override(f"LaunchTemplateData.{key}", value)
    return template
