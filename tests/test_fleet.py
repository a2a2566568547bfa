"""EfaComputeFleet: EFA layouts per type, placement, purchase options, storage, validation."""

from __future__ import annotations

import itertools
import json
import subprocess
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_fsx as fsx

import hpc_constructs as hc
from hpc_constructs.boot import LIFECYCLE_HOOK_NAME
from hpc_constructs.fleet import GPU_AMI_PARAMETER
from tests.harness import (
    TEST_ENV,
    Synthesized,
    assert_cfn_lint_clean,
    assert_nag_clean,
    make_app,
    synthesize,
    warning_ids,
)

WEST_ENV = cdk.Environment(account="123456789012", region="us-west-2")
RESERVATION = "cr-0123456789abcdef0"
STACKS = ("Cpu", "Gpu", "Spot", "Block", "B300")


def _vpc(stack: cdk.Stack, *, public: bool = False) -> ec2.Vpc:
    """A small VPC: one subnet per AZ (us-east-2a/b/c pinned in cdk.json)."""
    kind = ec2.SubnetType.PUBLIC if public else ec2.SubnetType.PRIVATE_ISOLATED
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        max_azs=3,
        nat_gateways=0,
        restrict_default_security_group=False,
        subnet_configuration=[ec2.SubnetConfiguration(name="Compute", subnet_type=kind)],
    )
    cdk.Validations.of(vpc).acknowledge(
        cdk.Acknowledgment(id="AwsSolutions-VPC7", reason="Test VPC; NetworkFabric adds flow logs")
    )
    return vpc


def _subnets(vpc: ec2.Vpc, az: str) -> ec2.SubnetSelection:
    subnets = vpc.public_subnets or vpc.isolated_subnets
    return ec2.SubnetSelection(subnets=[s for s in subnets if s.availability_zone == az])


@dataclass
class Scenario:
    synth: Synthesized
    fleets: dict[str, hc.EfaComputeFleet]
    stacks: dict[str, cdk.Stack]
    lustre: fsx.LustreFileSystem

    def template(self, stack: str) -> dict[str, Any]:
        return self.synth.template_dict(self.stacks[stack])

    def resources(self, stack: str, kind: str) -> dict[str, dict[str, Any]]:
        return {k: r for k, r in self.template(stack)["Resources"].items() if r["Type"] == kind}

    def logical_id(self, construct: Any) -> str:
        return str(cdk.Stack.of(construct).resolve(construct.node.default_child.logical_id))

    def props(self, stack: str, construct: Any) -> dict[str, Any]:
        props: dict[str, Any] = self.template(stack)["Resources"][self.logical_id(construct)][
            "Properties"
        ]
        return props

    def lt_data(self, stack: str, fleet: str, instance_type: str | None = None) -> dict[str, Any]:
        f = self.fleets[fleet]
        lt = f.launch_templates[instance_type] if instance_type else f.launch_template
        data: dict[str, Any] = self.props(stack, lt)["LaunchTemplateData"]
        return data

    def user_data(self, stack: str, fleet: str, instance_type: str | None = None) -> str:
        return json.dumps(self.lt_data(stack, fleet, instance_type)["UserData"])


FLEET_STACK = {
    "C5n": "Cpu",
    "Hpc7a": "Cpu",
    "Hpc6id": "Cpu",
    "Mixed": "Cpu",
    "P4d": "Gpu",
    "P5": "Gpu",
    "Spot": "Spot",
    "Block": "Block",
    "B300": "B300",
}


@pytest.fixture(scope="module")
def sc() -> Scenario:
    """Every scenario in one app, synthesized (and nag-checked) once."""
    app = make_app()
    stacks = {name: cdk.Stack(app, name, env=TEST_ENV) for name in STACKS if name != "B300"}
    stacks["B300"] = cdk.Stack(app, "B300", env=WEST_ENV)
    vpcs = {name: _vpc(stack) for name, stack in stacks.items()}
    fleets: dict[str, hc.EfaComputeFleet] = {}
    cpu = vpcs["Cpu"]
    fleets["C5n"] = hc.EfaComputeFleet(
        stacks["Cpu"],
        "C5n",
        vpc=cpu,
        vpc_subnets=_subnets(cpu, "us-east-2a"),
        instance_types=["c5n.18xlarge"],
        max_nodes=8,
        scratch_volume=hc.ScratchVolume(size_gib=500, volume_type="io2", iops=64_000),
    )
    lustre = fsx.LustreFileSystem(
        stacks["Cpu"],
        "Lustre",
        vpc=cpu,
        vpc_subnet=cpu.isolated_subnets[0],
        storage_capacity_gib=1200,
        lustre_configuration=fsx.LustreConfiguration(
            deployment_type=fsx.LustreDeploymentType.SCRATCH_2
        ),
    )
    fleets["C5n"].add_lustre_mount(lustre, "/fsx")
    fleets["C5n"].add_user_data("echo user-command-runs-last")
    fleets["Hpc7a"] = hc.EfaComputeFleet(
        stacks["Cpu"],
        "Hpc7a",
        vpc=cpu,
        vpc_subnets=_subnets(cpu, "us-east-2b"),
        instance_types=["hpc7a.96xlarge"],
        max_nodes=16,
        log_retention=30,
    )
    fleets["Hpc6id"] = hc.EfaComputeFleet(
        stacks["Cpu"],
        "Hpc6id",
        vpc=cpu,
        vpc_subnets=_subnets(cpu, "us-east-2b"),
        instance_types=["hpc6id.32xlarge"],
        max_nodes=4,
        scratch_volume=hc.ScratchVolume(
            size_gib=1000, volume_type="gp3", iops=16_000, throughput_mibps=1000
        ),
    )
    fleets["Mixed"] = hc.EfaComputeFleet(
        stacks["Cpu"],
        "Mixed",
        vpc=cpu,
        vpc_subnets=_subnets(cpu, "us-east-2b"),
        instance_types=["hpc7a.96xlarge", "hpc6a.48xlarge"],
        max_nodes=4,
    )
    cdk.Validations.of(fleets["Mixed"]).acknowledge(
        cdk.Acknowledgment(
            id="hpc-constructs:mixedTypesInPlacementGroup", reason="Exercised on purpose"
        )
    )
    gpu = vpcs["Gpu"]
    fleets["P4d"] = hc.EfaComputeFleet(
        stacks["Gpu"],
        "P4d",
        vpc=gpu,
        vpc_subnets=_subnets(gpu, "us-east-2a"),
        instance_types=["p4d.24xlarge"],
        max_nodes=2,
        capacity=hc.FleetCapacity.capacity_reservation(reservation_id=RESERVATION),
        # The cluster placement group the reservation was created in.
        placement_group=ec2.PlacementGroup.from_placement_group_name(
            stacks["Gpu"], "OdcrGroup", "p4d-odcr"
        ),
    )
    fleets["P5"] = hc.EfaComputeFleet(
        stacks["Gpu"],
        "P5",
        vpc=gpu,
        vpc_subnets=_subnets(gpu, "us-east-2a"),
        instance_types=["p5.48xlarge"],
        max_nodes=2,
    )
    spot = vpcs["Spot"]
    fleets["Spot"] = hc.EfaComputeFleet(
        stacks["Spot"],
        "Spot",
        vpc=spot,
        vpc_subnets=_subnets(spot, "us-east-2a"),
        instance_types=["c5n.18xlarge"],
        max_nodes=8,
        capacity=hc.FleetCapacity.spot(max_price="3.50"),
        # The documented opt-outs, exercised here.
        health_gate=False,
        imds_hop_limit=2,
        telemetry=False,
    )
    block = vpcs["Block"]
    fleets["Block"] = hc.EfaComputeFleet(
        stacks["Block"],
        "Block",
        vpc=block,
        vpc_subnets=_subnets(block, "us-east-2a"),
        instance_types=["p5.48xlarge"],
        min_nodes=2,
        max_nodes=2,
        capacity=hc.FleetCapacity.capacity_block(RESERVATION),
    )
    west = vpcs["B300"]
    fleets["B300"] = hc.EfaComputeFleet(
        stacks["B300"],
        "B300",
        vpc=west,
        vpc_subnets=_subnets(west, "us-west-2a"),
        instance_types=["p6-b300.48xlarge"],
        max_nodes=2,
    )
    return Scenario(synthesize(app), fleets, stacks, lustre)


# --- EFA interface layout ---------------------------------------------------------------------


def _expected(cards: list[tuple[int, int, str | None]]) -> list[tuple[int, int, str | None]]:
    return cards


LAYOUTS = {
    "C5n": [(0, 0, None), (0, 1, "efa-only")],
    "Hpc7a": [(0, 0, None), (0, 1, "efa-only"), (1, 0, "efa-only")],
    # hpc6id's card 0 takes a single interface, so the primary is itself EFA-with-ENA.
    "Hpc6id": [(0, 0, "efa"), (1, 0, "efa-only")],
    "P4d": [(0, 0, None), (0, 1, "efa-only"), *[(c, 0, "efa-only") for c in (1, 2, 3)]],
    "P5": [(0, 0, None), (0, 1, "efa-only"), *[(c, 0, "efa-only") for c in range(1, 32)]],
    # p6-b300: 17 cards, card 0 has no EFA, 16 EFA interfaces on cards 1-16.
    "B300": [(0, 0, None), *[(c, 0, "efa-only") for c in range(1, 17)]],
}


@pytest.mark.parametrize("fleet", sorted(LAYOUTS))
def test_one_efa_interface_per_efa_capable_network_card(sc: Scenario, fleet: str) -> None:
    stack = FLEET_STACK[fleet]
    data = sc.lt_data(stack, fleet)
    interfaces = data["NetworkInterfaces"]
    got = [(i["NetworkCardIndex"], i["DeviceIndex"], i.get("InterfaceType")) for i in interfaces]
    assert got == LAYOUTS[fleet]
    sg = sc.logical_id(sc.fleets[fleet].security_group)
    for itf in interfaces:
        assert itf["Groups"] == [{"Fn::GetAtt": [sg, "GroupId"]}]
        assert "SubnetId" not in itf
    assert interfaces[0]["AssociatePublicIpAddress"] is False
    assert "SecurityGroupIds" not in data
    efa = sum(1 for _, _, t in got if t in ("efa", "efa-only"))
    assert efa == sc.fleets[fleet].efa_interface_count


def test_resolved_attributes_describe_the_node(sc: Scenario) -> None:
    p5 = sc.fleets["P5"]
    assert p5.efa_enabled
    assert p5.efa_interface_count == 32
    assert p5.network_gbps == 3200
    assert [s.instance_type for s in p5.instance_specs] == ["p5.48xlarge"]
    assert len(p5.interface_plan) == 33
    mixed = sc.fleets["Mixed"]
    assert mixed.efa_interface_count == 1  # min over hpc7a (2) and hpc6a (1)
    assert mixed.network_gbps == 100


# --- security group, placement, subnets, metadata ---------------------------------------------


def test_security_group_allows_all_traffic_to_and_from_itself(sc: Scenario) -> None:
    sg = {"Fn::GetAtt": [sc.logical_id(sc.fleets["Hpc7a"].security_group), "GroupId"]}
    ingress = sc.resources("Cpu", "AWS::EC2::SecurityGroupIngress").values()
    egress = sc.resources("Cpu", "AWS::EC2::SecurityGroupEgress").values()
    assert any(
        r["Properties"]["GroupId"] == sg
        and r["Properties"]["SourceSecurityGroupId"] == sg
        and r["Properties"]["IpProtocol"] == "-1"
        for r in ingress
    )
    assert any(
        r["Properties"]["GroupId"] == sg
        and r["Properties"].get("DestinationSecurityGroupId") == sg
        and r["Properties"]["IpProtocol"] == "-1"
        for r in egress
    )
    inline = sc.props("Cpu", sc.fleets["Hpc7a"].security_group)["SecurityGroupEgress"]
    assert [(e["CidrIp"], e["FromPort"]) for e in inline] == [("0.0.0.0/0", 443)]


def test_efa_fleet_launches_into_a_new_cluster_placement_group(sc: Scenario) -> None:
    fleet = sc.fleets["Hpc7a"]
    assert fleet.placement_group is not None
    group = sc.logical_id(fleet.placement_group)
    assert sc.template("Cpu")["Resources"][group]["Properties"]["Strategy"] == "cluster"
    placement = sc.lt_data("Cpu", "Hpc7a")["Placement"]
    assert placement == {"GroupName": {"Fn::GetAtt": [group, "GroupName"]}}


def test_fleet_uses_one_subnet(sc: Scenario) -> None:
    asg = sc.props("Cpu", sc.fleets["Hpc7a"].auto_scaling_group)
    assert len(asg["VPCZoneIdentifier"]) == 1
    assert sc.fleets["Hpc7a"].subnet is not None
    assert sc.fleets["Hpc7a"].subnet.availability_zone == "us-east-2b"


def test_imdsv2_required_with_hop_limit_1_and_detailed_monitoring(sc: Scenario) -> None:
    data = sc.lt_data("Cpu", "C5n")
    assert data["MetadataOptions"] == {"HttpPutResponseHopLimit": 1, "HttpTokens": "required"}
    assert data["Monitoring"] == {"Enabled": True}
    asg = sc.props("Cpu", sc.fleets["C5n"].auto_scaling_group)
    assert asg["MetricsCollection"] == [{"Granularity": "1Minute"}]
    assert asg["TerminationPolicies"] == ["OldestLaunchTemplate", "NewestInstance"]
    assert asg["NotificationConfigurations"][0]["TopicARN"]
    assert {"Key": "hpc-constructs:fleet", "PropagateAtLaunch": True, "Value": "Cpu/C5n"} in asg[
        "Tags"
    ]


def test_root_volume_is_encrypted_gp3(sc: Scenario) -> None:
    root = sc.lt_data("Cpu", "Hpc7a")["BlockDeviceMappings"][0]
    assert root["DeviceName"] == "/dev/xvda"
    assert root["Ebs"] == {
        "DeleteOnTermination": True,
        "Encrypted": True,
        "VolumeSize": 100,
        "VolumeType": "gp3",
    }


# --- purchase options -------------------------------------------------------------------------


def test_spot_fleet_uses_mixed_instances_policy_rebalancing_and_interruption_rules(
    sc: Scenario,
) -> None:
    asg = sc.props("Spot", sc.fleets["Spot"].auto_scaling_group)
    assert asg["CapacityRebalance"] is True
    distribution = asg["MixedInstancesPolicy"]["InstancesDistribution"]
    assert distribution["OnDemandPercentageAboveBaseCapacity"] == 0
    assert distribution["SpotAllocationStrategy"] == "price-capacity-optimized"
    assert distribution["SpotMaxPrice"] == "3.50"
    rules = sc.resources("Spot", "AWS::Events::Rule").values()
    detail_types = sorted(r["Properties"]["EventPattern"]["detail-type"][0] for r in rules)
    assert detail_types == [
        "EC2 Instance Rebalance Recommendation",
        "EC2 Spot Instance Interruption Warning",
    ]
    topic = sc.logical_id(sc.fleets["Spot"].notification_topic)
    for rule in rules:
        assert rule["Properties"]["EventPattern"]["source"] == ["aws.ec2"]
        assert rule["Properties"]["Targets"][0]["Arn"] == {"Ref": topic}
    topic_props = sc.template("Spot")["Resources"][topic]["Properties"]
    assert "KmsMasterKeyId" in topic_props
    assert len(sc.fleets["Spot"].interruption_rules) == 2


def test_on_demand_fleet_has_no_interruption_rules(sc: Scenario) -> None:
    assert sc.resources("Cpu", "AWS::Events::Rule") == {}
    assert "MixedInstancesPolicy" not in sc.props("Cpu", sc.fleets["C5n"].auto_scaling_group)


def test_capacity_block_fleet_is_fixed_size_without_placement_group(sc: Scenario) -> None:
    data = sc.lt_data("Block", "Block")
    assert data["InstanceMarketOptions"] == {"MarketType": "capacity-block"}
    assert data["CapacityReservationSpecification"] == {
        "CapacityReservationTarget": {"CapacityReservationId": RESERVATION}
    }
    assert "Placement" not in data
    assert sc.resources("Block", "AWS::EC2::PlacementGroup") == {}
    asg = sc.props("Block", sc.fleets["Block"].auto_scaling_group)
    assert asg["MinSize"] == asg["MaxSize"] == "2"
    assert sc.fleets["Block"].placement_group is None


def test_capacity_reservation_fleet_targets_the_reservation(sc: Scenario) -> None:
    data = sc.lt_data("Gpu", "P4d")
    assert data["CapacityReservationSpecification"] == {
        "CapacityReservationTarget": {"CapacityReservationId": RESERVATION}
    }
    assert "InstanceMarketOptions" not in data
    assert data["Placement"] == {"GroupName": "p4d-odcr"}


def test_capacity_reservation_without_its_placement_group_warns_and_creates_none() -> None:
    stack = cdk.Stack(make_app(), "Odcr", env=TEST_ENV)
    vpc = _vpc(stack)
    fleet = hc.EfaComputeFleet(
        stack,
        "Fleet",
        vpc=vpc,
        vpc_subnets=ec2.SubnetSelection(subnets=[vpc.isolated_subnets[0]]),
        instance_types=["c5n.18xlarge"],
        max_nodes=2,
        capacity=hc.FleetCapacity.capacity_reservation(reservation_id=RESERVATION),
    )
    assert "hpc-constructs:reservationWithoutPlacementGroup" in warning_ids(fleet)
    assert fleet.placement_group is None


def test_mixed_layouts_get_one_launch_template_per_type(sc: Scenario) -> None:
    fleet = sc.fleets["Mixed"]
    first = fleet.launch_templates["hpc7a.96xlarge"]
    second = fleet.launch_templates["hpc6a.48xlarge"]
    assert first is fleet.launch_template
    assert second is not first
    assert len(sc.lt_data("Cpu", "Mixed", "hpc6a.48xlarge")["NetworkInterfaces"]) == 2
    assert len(sc.lt_data("Cpu", "Mixed", "hpc7a.96xlarge")["NetworkInterfaces"]) == 3
    policy = sc.props("Cpu", fleet.auto_scaling_group)["MixedInstancesPolicy"]
    overrides = policy["LaunchTemplate"]["Overrides"]
    assert [o["InstanceType"] for o in overrides] == ["hpc7a.96xlarge", "hpc6a.48xlarge"]
    assert "LaunchTemplateSpecification" not in overrides[0]
    assert overrides[1]["LaunchTemplateSpecification"]["LaunchTemplateId"] == {
        "Ref": sc.logical_id(second)
    }
    assert policy["InstancesDistribution"]["OnDemandAllocationStrategy"] == "prioritized"
    assert policy["InstancesDistribution"]["OnDemandPercentageAboveBaseCapacity"] == 100


# --- storage and boot script ------------------------------------------------------------------


def test_io2_scratch_volume_is_mapped_and_mounted(sc: Scenario) -> None:
    scratch = sc.lt_data("Cpu", "C5n")["BlockDeviceMappings"][1]
    assert scratch == {
        "DeviceName": "/dev/sdf",
        "Ebs": {
            "DeleteOnTermination": True,
            "Encrypted": True,
            "Iops": 64000,
            "VolumeSize": 500,
            "VolumeType": "io2",
        },
    }
    script = sc.user_data("Cpu", "C5n")
    assert "scratch volume: $dev ($why) mounted at $mount" in script
    assert "/scratch/ebs" in script


def test_gp3_scratch_volume_carries_iops_and_throughput(sc: Scenario) -> None:
    ebs = sc.lt_data("Cpu", "Hpc6id")["BlockDeviceMappings"][1]["Ebs"]
    assert (ebs["VolumeType"], ebs["Iops"], ebs["Throughput"]) == ("gp3", 16000, 1000)


def test_hpc6id_assembles_its_four_nvme_disks_as_raid0(sc: Scenario) -> None:
    script = sc.user_data("Cpu", "Hpc6id")
    assert "Amazon EC2 NVMe Instance Storage" in script
    assert "mdadm --create /dev/md/hpc-local --name=hpc-local --run --level=0" in script
    assert "expected 4 NVMe instance-store disks" in script
    assert "mkfs.xfs -f" in script
    assert "/scratch/local" in script
    assert "expected 2 EFA devices" in script
    assert "mdadm" not in sc.user_data("Cpu", "Hpc7a")


def test_cpu_fleet_installs_efa_and_gpu_fleet_only_verifies(sc: Scenario) -> None:
    assert "efa_installer.sh" in sc.user_data("Cpu", "Hpc7a")
    p5 = sc.user_data("Gpu", "P5")
    assert "efa_installer.sh" not in p5
    assert "expected 32 EFA devices" in p5
    assert "fi_info -p efa" in p5


def test_gpu_fleet_defaults_to_the_deep_learning_base_ami(sc: Scenario) -> None:
    parameters = sc.template("Gpu")["Parameters"]
    defaults = [p.get("Default") for p in parameters.values()]
    assert GPU_AMI_PARAMETER.format(arch="x86_64") in defaults
    assert (
        GPU_AMI_PARAMETER.format(arch="x86_64")
        == "/aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver-gpu-amazon-linux-2023/"
        "latest/ami-id"
    )
    cpu_defaults = [p.get("Default") for p in sc.template("Cpu")["Parameters"].values()]
    assert any("al2023-ami-kernel" in str(d) and "x86_64" in str(d) for d in cpu_defaults)


def test_lustre_mount_opens_only_lustre_ports_and_mounts_before_user_commands(
    sc: Scenario,
) -> None:
    fleet_sg = {"Fn::GetAtt": [sc.logical_id(sc.fleets["C5n"].security_group), "GroupId"]}
    lustre_sg = sc.lustre.connections.security_groups[0]
    fs_sg = {"Fn::GetAtt": [sc.logical_id(lustre_sg), "GroupId"]}
    ingress = [
        r["Properties"]
        for r in sc.resources("Cpu", "AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == fs_sg
        and r["Properties"].get("SourceSecurityGroupId") == fleet_sg
    ]
    egress = [
        r["Properties"]
        for r in sc.resources("Cpu", "AWS::EC2::SecurityGroupEgress").values()
        if r["Properties"]["GroupId"] == fleet_sg
        and r["Properties"].get("DestinationSecurityGroupId") == fs_sg
    ]
    expected = [(988, 988), (1018, 1023)]
    assert sorted((r["FromPort"], r["ToPort"]) for r in ingress) == expected
    assert sorted((r["FromPort"], r["ToPort"]) for r in egress) == expected
    script = sc.user_data("Cpu", "C5n")
    assert "lustre-client" in script
    assert "/fsx" in script
    assert script.index("mount.lustre") < script.index("user-command-runs-last")


def test_new_nodes_enter_service_through_the_launch_hook(sc: Scenario) -> None:
    group = sc.props("Cpu", sc.fleets["C5n"].auto_scaling_group)
    (hook,) = group["LifecycleHookSpecificationList"]
    assert hook == {
        "LifecycleHookName": LIFECYCLE_HOOK_NAME,
        "LifecycleTransition": "autoscaling:EC2_INSTANCE_LAUNCHING",
        "HeartbeatTimeout": 1800,
        "DefaultResult": "ABANDON",
    }
    script = sc.user_data("Cpu", "C5n")
    assert "--lifecycle-hook-name " + LIFECYCLE_HOOK_NAME in script
    assert "--health-status Unhealthy" in script
    # The role may end only its own group's hook: the group is named by its tag.
    policy = next(
        r["Properties"]["PolicyDocument"]["Statement"]
        for lid, r in sc.resources("Cpu", "AWS::IAM::Policy").items()
        if lid.startswith("C5nHealthGatePolicy")
    )
    assert policy[1]["Action"] == [
        "autoscaling:CompleteLifecycleAction",
        "autoscaling:SetInstanceHealth",
    ]
    assert policy[1]["Condition"] == {
        "StringEquals": {"autoscaling:ResourceTag/hpc-constructs:fleet": "Cpu/C5n"}
    }
    data = sc.lt_data("Cpu", "C5n")
    assert data["MetadataOptions"]["HttpPutResponseHopLimit"] == 1
    assert data["InstanceInitiatedShutdownBehavior"] == "terminate"


def test_nodes_ship_logs_and_metrics_through_the_cloudwatch_agent(sc: Scenario) -> None:
    fleet = sc.fleets["C5n"]
    assert fleet.log_group is not None
    group = sc.props("Cpu", fleet.log_group)
    assert group["RetentionInDays"] == 180
    assert "KmsKeyId" in group
    assert sc.props("Cpu", sc.fleets["Hpc7a"].log_group)["RetentionInDays"] == 30
    keys = sc.resources("Cpu", "AWS::KMS::Key")
    node_keys = [k for k in keys if k.startswith("HpcNodeLogsKey")]
    assert len(node_keys) == 1  # one key per stack, shared by every launcher's log group
    assert keys[node_keys[0]]["Properties"]["EnableKeyRotation"] is True
    statements = next(
        r["Properties"]["PolicyDocument"]["Statement"]
        for lid, r in sc.resources("Cpu", "AWS::IAM::Policy").items()
        if lid.startswith("C5nTelemetryPolicy")
    )
    assert statements[1]["Action"] == "cloudwatch:PutMetricData"
    assert statements[1]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": "HpcConstructs/Nodes"}
    }
    script = sc.user_data("Cpu", "C5n")
    assert "/opt/hpc-constructs/cloudwatch-agent.json" in script
    assert sc.logical_id(fleet.log_group) in script  # the agent writes to this group
    assert '\\"efa\\"' in script or '"efa"' in script.replace('\\"', '"')
    plans = fleet.boot_plans
    assert plans["c5n.18xlarge"].telemetry is not None
    assert plans["c5n.18xlarge"].telemetry.node_group == "Cpu/C5n"


def test_health_gate_and_hop_limit_opt_outs(sc: Scenario) -> None:
    group = sc.props("Spot", sc.fleets["Spot"].auto_scaling_group)
    assert "LifecycleHookSpecificationList" not in group
    assert sc.fleets["Spot"].lifecycle_hook_name is None
    assert not any(
        lid.startswith("SpotHealthGate") for lid in sc.resources("Spot", "AWS::IAM::Policy")
    )
    script = sc.user_data("Spot", "Spot")
    assert "health gate off" in script
    assert "complete-lifecycle-action" not in script
    assert sc.lt_data("Spot", "Spot")["MetadataOptions"]["HttpPutResponseHopLimit"] == 2
    assert sc.fleets["Spot"].log_group is None
    assert not sc.resources("Spot", "AWS::Logs::LogGroup")
    assert "cloudwatch-agent.json" not in script


@pytest.mark.parametrize(
    ("props", "prop", "allowed"),
    [
        ({"health_gate_timeout": cdk.Duration.seconds(10)}, "health_gate_timeout", "30 to 7200"),
        ({"health_gate_timeout": cdk.Duration.hours(3)}, "health_gate_timeout", "30 to 7200"),
        ({"imds_hop_limit": 0}, "imds_hop_limit", "1 to 64"),
        ({"imds_hop_limit": 65}, "imds_hop_limit", "1 to 64"),
        ({"log_retention": 200}, "log_retention", "180"),
    ],
)
def test_fails_on_health_gate_timeout_or_hop_limit_out_of_range(
    props: dict[str, Any], prop: str, allowed: str
) -> None:
    stack = cdk.Stack(make_app(), "Bad", env=TEST_ENV)
    vpc = _vpc(stack)
    with pytest.raises(hc.HpcValidationError) as err:
        hc.EfaComputeFleet(
            stack, "Fleet", vpc=vpc, vpc_subnets=_subnets(vpc, "us-east-2a"),
            instance_types=["c5n.18xlarge"], max_nodes=2, **props,
        )  # fmt: skip
    message = str(err.value)
    assert "Bad/Fleet" in message
    assert prop in message
    assert allowed in message


# --- compliance -------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_cfn_lint_clean(sc: Scenario, stack: str) -> None:
    regions = ["us-west-2"] if stack == "B300" else None
    assert_cfn_lint_clean(sc.template(stack), regions)


def test_nag_clean(sc: Scenario) -> None:
    assert_nag_clean(sc.synth)


# --- validation (construction only) -----------------------------------------------------------

_ids = itertools.count()


@dataclass
class Scratch:
    stack: cdk.Stack
    vpc: ec2.Vpc
    public_vpc: ec2.Vpc


@pytest.fixture(scope="module")
def scratch() -> Scratch:
    app = make_app()
    stack = cdk.Stack(app, "Scratch", env=TEST_ENV)
    public_stack = cdk.Stack(app, "Public", env=TEST_ENV)
    return Scratch(stack, _vpc(stack), _vpc(public_stack, public=True))


def _fleet(s: Scratch, az: str = "us-east-2b", **kwargs: Any) -> hc.EfaComputeFleet:
    props: dict[str, Any] = {
        "vpc": s.vpc,
        "vpc_subnets": _subnets(s.vpc, az),
        "instance_types": ["c5n.18xlarge"],
        "max_nodes": 2,
    }
    props.update(kwargs)
    return hc.EfaComputeFleet(s.stack, f"Fleet{next(_ids)}", **props)


def _fails(s: Scratch, *needles: str, **kwargs: Any) -> str:
    with pytest.raises(hc.HpcValidationError) as err:
        _fleet(s, **kwargs)
    message = str(err.value)
    assert "Scratch/Fleet" in message
    for needle in needles:
        assert needle in message, message
    return message


def test_fails_when_efa_is_forced_on_a_type_without_efa(scratch: Scratch) -> None:
    _fails(scratch, "efa=True", "m5.large do(es) not support EFA", efa=True,
           instance_types=["m5.large"])  # fmt: skip


def test_fails_when_architectures_are_mixed(scratch: Scratch) -> None:
    _fails(
        scratch,
        "instance_types=",
        "arm64",
        "x86_64",
        "one architecture",
        instance_types=["c5n.18xlarge", "c7gn.16xlarge"],
    )


def test_fails_when_efa_fleet_spans_several_subnets(scratch: Scratch) -> None:
    _fails(
        scratch,
        "vpc_subnets=",
        "exactly one subnet",
        "us-east-2a, us-east-2b",
        vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
    )


def test_fails_when_multi_interface_nodes_use_a_public_subnet(scratch: Scratch) -> None:
    _fails(
        scratch,
        "vpc_subnets=",
        "cannot auto-assign a public IP",
        "private or isolated subnets",
        vpc=scratch.public_vpc,
        vpc_subnets=_subnets(scratch.public_vpc, "us-east-2a"),
    )


@pytest.mark.parametrize(
    ("volume", "needles"),
    [
        (hc.ScratchVolume(500, "io2", iops=300_000), ("scratch_volume.iops=300000", "100 to 256000")),
        (hc.ScratchVolume(100, "io2", iops=100_001), ("scratch_volume.iops=100001", "at most 100000", "1000 IOPS per GiB")),
        (hc.ScratchVolume(70_000, "io2", iops=10_000), ("scratch_volume.size_gib=70000", "4 to 65536 GiB")),
        (hc.ScratchVolume(2, "io2", iops=100), ("scratch_volume.size_gib=2", "4 to 65536 GiB")),
        (hc.ScratchVolume(100, "io2"), ("scratch_volume.iops=None", "required")),
        (hc.ScratchVolume(100, "io2", iops=1000, throughput_mibps=500), ("scratch_volume.throughput_mibps=500", "gp3 only")),
        (hc.ScratchVolume(70_000, "gp3"), ("scratch_volume.size_gib=70000", "1 to 65536 GiB")),
        (hc.ScratchVolume(100, "gp3", iops=90_000), ("scratch_volume.iops=90000", "3000 to 80000")),
        (hc.ScratchVolume(100, "gp3", iops=2_000), ("scratch_volume.iops=2000", "3000 to 80000")),
        (hc.ScratchVolume(100, "gp3", iops=80_000, throughput_mibps=2_500), ("scratch_volume.throughput_mibps=2500", "125 to 2000 MiB/s")),
        (hc.ScratchVolume(100, "gp3", throughput_mibps=1_000), ("scratch_volume.throughput_mibps=1000", "at most 750 MiB/s at 3000 IOPS")),
        (hc.ScratchVolume(100, "st1"), ("scratch_volume.volume_type='st1'", "'io2', 'gp3'")),  # type: ignore[arg-type]
        (hc.ScratchVolume(100, mount_point="scratch"), ("scratch_volume.mount_point='scratch'", "absolute path")),
    ],
    ids=[
        "io2-iops-over-256000",
        "io2-over-1000-iops-per-gib",
        "io2-size-over-65536",
        "io2-size-under-4",
        "io2-without-iops",
        "io2-with-throughput",
        "gp3-size-over-65536",
        "gp3-iops-over-80000",
        "gp3-iops-under-3000",
        "gp3-throughput-over-2000",
        "gp3-throughput-over-quarter-mib-per-iops",
        "unsupported-volume-type",
        "relative-mount-point",
    ],
)  # fmt: skip
def test_fails_on_scratch_volume_limits(
    scratch: Scratch, volume: hc.ScratchVolume, needles: tuple[str, ...]
) -> None:
    _fails(scratch, *needles, scratch_volume=volume)


def test_fails_when_capacity_block_is_not_fixed_size(scratch: Scratch) -> None:
    _fails(
        scratch,
        "max_nodes=(1, 2)",
        "min_nodes equal to max_nodes and above 0",
        az="us-east-2a",
        instance_types=["p5.48xlarge"],
        min_nodes=1,
        max_nodes=2,
        capacity=hc.FleetCapacity.capacity_block(RESERVATION),
    )


def test_fails_when_capacity_block_gets_a_placement_group(scratch: Scratch) -> None:
    group = ec2.PlacementGroup(scratch.stack, f"Group{next(_ids)}")
    _fails(
        scratch,
        "placement_group=",
        "AWS places a Capacity Block",
        az="us-east-2a",
        instance_types=["p5.48xlarge"],
        min_nodes=2,
        max_nodes=2,
        capacity=hc.FleetCapacity.capacity_block(RESERVATION),
        placement_group=group,
    )


def test_fails_when_capacity_block_type_is_not_sold_as_a_block(scratch: Scratch) -> None:
    _fails(
        scratch,
        "capacity='capacity-block (c5n.18xlarge)'",
        "on-demand, spot",
        min_nodes=2,
        max_nodes=2,
        capacity=hc.FleetCapacity.capacity_block(RESERVATION),
    )


def test_fails_when_spot_type_is_not_offered_as_spot(scratch: Scratch) -> None:
    _fails(
        scratch,
        "capacity='spot (hpc7a.96xlarge)'",
        "a purchase option the type offers: on-demand",
        instance_types=["hpc7a.96xlarge"],
        capacity=hc.FleetCapacity.spot(),
    )


def test_fails_when_min_exceeds_max(scratch: Scratch) -> None:
    _fails(scratch, "max_nodes=2", "at least min_nodes (3)", min_nodes=3)


def test_fails_when_desired_is_outside_min_and_max(scratch: Scratch) -> None:
    _fails(scratch, "desired_nodes=5", "between min_nodes (0) and max_nodes (2)",
           desired_nodes=5)  # fmt: skip


def test_fails_when_min_is_negative(scratch: Scratch) -> None:
    _fails(scratch, "min_nodes=-1", "0 or more", min_nodes=-1)


def test_fails_when_type_is_not_offered_in_the_subnets_az(scratch: Scratch) -> None:
    _fails(
        scratch,
        "vpc_subnets=",
        "(us-east-2a)",
        "offering hpc7a.96xlarge: us-east-2b",
        az="us-east-2a",
        instance_types=["hpc7a.96xlarge"],
    )


def test_fails_when_type_is_not_offered_in_the_region(scratch: Scratch) -> None:
    _fails(
        scratch,
        "instance_types='p6-b300.48xlarge'",
        "a type offered in us-east-2",
        "us-west-2",
        instance_types=["p6-b300.48xlarge"],
    )


def test_fails_on_unknown_type_with_suggestion(scratch: Scratch) -> None:
    _fails(
        scratch, "instance_types='p5.48xl'", "did you mean p5.48xlarge", instance_types=["p5.48xl"]
    )


def test_fails_when_placement_is_off_and_a_group_is_given(scratch: Scratch) -> None:
    group = ec2.PlacementGroup(scratch.stack, f"Group{next(_ids)}")
    _fails(scratch, "placement/placement_group", "not both", placement=False, placement_group=group)


def test_fails_when_brought_security_group_comes_with_allow_all_outbound(scratch: Scratch) -> None:
    group = ec2.SecurityGroup(scratch.stack, f"Sg{next(_ids)}", vpc=scratch.vpc)
    _fails(scratch, "allow_all_outbound=True", "unset when security_group is given",
           security_group=group, allow_all_outbound=True)  # fmt: skip


def test_fails_when_gpu_root_volume_is_smaller_than_the_dlami_snapshot(scratch: Scratch) -> None:
    _fails(scratch, "root_volume_size_gib=50", "75 to 65536 GiB", az="us-east-2a",
           instance_types=["p5.48xlarge"], root_volume_size_gib=50)  # fmt: skip


def test_reports_all_problems_together(scratch: Scratch) -> None:
    message = _fails(scratch, "invalid properties", min_nodes=-1, instance_types=["p5.48xl"])
    assert "min_nodes" in message
    assert "p5.48xl" in message


# --- warnings and opt-outs (construction only) -------------------------------------------------


def test_efa_disabled_on_capable_type_warns_and_uses_one_interface(scratch: Scratch) -> None:
    fleet = _fleet(scratch, efa=False)
    assert "hpc-constructs:efaDisabled" in warning_ids(fleet)
    assert not fleet.efa_enabled
    assert fleet.efa_interface_count == 0
    assert len(fleet.interface_plan) == 1
    assert fleet.placement_group is None


def test_non_efa_fleet_has_no_placement_group_unless_asked(scratch: Scratch) -> None:
    plain = _fleet(scratch, instance_types=["m5.large"])
    assert not plain.efa_enabled
    assert plain.placement_group is None
    asked = _fleet(scratch, instance_types=["m5.large"], placement=True)
    assert isinstance(asked.placement_group, ec2.PlacementGroup)
    off = _fleet(scratch, placement=False)
    assert off.efa_enabled
    assert off.placement_group is None


def test_brought_placement_group_and_security_group_are_used(scratch: Scratch) -> None:
    group = ec2.PlacementGroup(
        scratch.stack, f"Group{next(_ids)}", strategy=ec2.PlacementGroupStrategy.CLUSTER
    )
    sg = ec2.SecurityGroup(scratch.stack, f"Sg{next(_ids)}", vpc=scratch.vpc)
    fleet = _fleet(scratch, placement_group=group, security_group=sg)
    assert fleet.placement_group is group
    assert fleet.security_group is sg
    assert fleet.node.try_find_child("SecurityGroup") is None
    assert fleet.node.try_find_child("PlacementGroup") is None


def test_several_types_in_one_cluster_placement_group_warn(scratch: Scratch) -> None:
    fleet = _fleet(scratch, instance_types=["hpc7a.96xlarge", "hpc6a.48xlarge"])
    assert "hpc-constructs:mixedTypesInPlacementGroup" in warning_ids(fleet)
    assert "hpc-constructs:mixedTypesInPlacementGroup" not in warning_ids(
        _fleet(scratch, instance_types=["hpc7a.96xlarge"])
    )


def test_fails_when_gp3_iops_exceed_500_per_gib(scratch: Scratch) -> None:
    vol = hc.ScratchVolume(10, "gp3", iops=16_000)
    _fails(scratch, "scratch_volume.iops=16000", "at most 5000 for 10 GiB of gp3",
           "500 IOPS per GiB", scratch_volume=vol)  # fmt: skip
    # The 3,000 baseline IOPS apply at any size.
    _fleet(scratch, scratch_volume=hc.ScratchVolume(1, "gp3", iops=3_000))


# --- boot script behaviour (bash) --------------------------------------------------------------


def test_boot_scripts_are_valid_bash_and_stop_at_the_first_failed_step(sc: Scenario) -> None:
    for name in ("C5n", "Hpc6id", "P5"):
        fleet = sc.fleets[name]
        script = fleet._boot_script(fleet.instance_specs[0])
        subprocess.run(["bash", "-n"], input=script, text=True, check=True)
        lines = script.splitlines()
        # Strict mode comes before any step, so a failed mount or check ends the script
        # before the user's commands.
        first_step = next(i for i, line in enumerate(lines) if line and not line.startswith("#"))
        assert lines[first_step] == "set -eo pipefail"
