"""Launch-template pieces every EFA construct shares: the launch template itself, its interface
list, the self-referencing security group and the boot-time install/verification of the EFA
software.

``EfaComputeFleet``, ``BatchMultiNode`` and the Slurm constructs all build their launch
templates from these, so one instance type gets one layout everywhere.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import Any

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from constructs import Construct

from hpc_constructs.capacity import FleetCapacity
from hpc_constructs.catalog import EfaInterface, InstanceSpec, efa_device_paths

#: Where the EFA installer is published (EC2 User Guide, "Get started with EFA and MPI", step 3).
EFA_INSTALLER_URL = "https://efa-installer.amazonaws.com/aws-efa-installer-latest.tar.gz"


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
) -> ec2.LaunchTemplate:
    """The L2 launch template of EFA nodes, with the settings every construct shares.

    IMDSv2 is required with a hop limit of 2 (containers reach IMDS through the Docker bridge,
    one hop more than the host); the root volume is encrypted gp3, deleted with the instance.
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
        http_put_response_hop_limit=2,
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


def efa_boot_commands(spec: InstanceSpec, *, install: bool = True) -> list[str]:
    """Shell lines that install (optional) and verify the EFA software at boot.

    Verification fails the boot script when libfabric does not see the EFA provider or when
    fewer ``/dev/infiniband/uverbs*`` devices exist than the instance type has EFA interfaces,
    so a mis-built node is visible in its console log instead of silently falling back to TCP.
    """
    expected = len(efa_device_paths(spec))
    lines = ["# Elastic Fabric Adapter software (hpc-constructs)"]
    if install:
        lines += [
            "if [ ! -x /opt/amazon/efa/bin/fi_info ]; then",
            '  work=$(mktemp -d) && cd "$work"',
            f"  curl -fsSL --retry 5 -o efa.tar.gz {shlex.quote(EFA_INSTALLER_URL)}",
            "  tar -xzf efa.tar.gz && cd aws-efa-installer && ./efa_installer.sh -y",
            '  cd / && rm -rf "$work"',
            "fi",
        ]
    lines += [
        "/opt/amazon/efa/bin/fi_info -p efa -t FI_EP_RDM >/dev/null "
        "|| { echo 'EFA provider not available' >&2; exit 1; }",
        # `|| true`: under `set -o pipefail` a failing `ls` (no devices at all) would otherwise
        # end the script here, without the message below.
        f"found=$( (ls /dev/infiniband/uverbs* 2>/dev/null || true) | wc -l); "
        f'if [ "$found" -lt {expected} ]; '
        f'then echo "expected {expected} EFA devices, found $found" >&2; exit 1; fi',
    ]
    return lines
