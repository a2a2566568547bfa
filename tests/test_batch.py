"""BatchMultiNode: AWS Batch multi-node parallel jobs on EFA launch templates."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam

from hpc_constructs import BatchMultiNode, FleetCapacity, HpcValidationError, NodeRange
from hpc_constructs.lustre import LustreScratch
from tests.harness import (
    TEST_ENV,
    assert_cfn_lint_clean,
    assert_nag_clean,
    make_app,
    synthesize,
    warning_ids,
)

IMAGE = "public.ecr.aws/amazonlinux/amazonlinux:2023"


def network(stack: cdk.Stack) -> ec2.Vpc:
    return ec2.Vpc(
        stack,
        "Vpc",
        max_azs=2,
        nat_gateways=1,
        flow_logs={"All": ec2.FlowLogOptions()},
        # The default-SG custom resource trips cfn-lint W3005 inside aws-cdk-lib's own code.
        restrict_default_security_group=False,
    )


def one_subnet(vpc: ec2.Vpc, index: int = 0) -> ec2.SubnetSelection:
    return ec2.SubnetSelection(subnets=[vpc.private_subnets[index]])


# --- one synthesized scenario: c5n with Lustre, p4d on a Capacity Block, p5 with node ranges --


class Scenario:
    def __init__(self) -> None:
        app = make_app()
        self.stack = cdk.Stack(app, "Batch", env=TEST_ENV)
        vpc = network(self.stack)
        self.scratch = LustreScratch(
            self.stack, "Scratch", vpc=vpc, vpc_subnets=one_subnet(vpc), storage_capacity_gib=1200
        )
        cdk.Validations.of(self.scratch).acknowledge(
            cdk.Acknowledgment(
                id="hpc-constructs:scratchWithoutExport",
                reason="Test scratch space for the Batch scenario; it holds no data to keep",
            )
        )
        self.c5n = BatchMultiNode(
            self.stack,
            "Cfd",
            vpc=vpc,
            vpc_subnets=one_subnet(vpc),
            instance_type="c5n.18xlarge",
            max_nodes=8,
            min_nodes=1,
            capacity=FleetCapacity.capacity_reservation(reservation_id="cr-0123456789abcdef0"),
            # The cluster placement group the reservation was created in.
            placement_group=ec2.PlacementGroup.from_placement_group_name(
                self.stack, "OdcrGroup", "cfd-odcr"
            ),
            file_systems=[self.scratch],
        )
        self.c5n_job = self.c5n.add_job(
            "Solver",
            image=IMAGE,
            command=BatchMultiNode.efa_pingpong_command(),
            num_nodes=4,
            environment={"OMP_NUM_THREADS": "1"},
            retry_attempts=2,
            timeout=cdk.Duration.hours(2),
        )
        self.submitter = iam.Role(self.stack, "Submitter", assumed_by=iam.AccountRootPrincipal())
        self.c5n.grant_submit_job(self.submitter)
        # Added after the grant: still covered.
        self.c5n_second_job = self.c5n.add_job(
            "Mesher",
            image=IMAGE,
            command=["true"],
            num_nodes=2,
            vcpus=36,
            memory=cdk.Size.gibibytes(64),
        )
        self.p4d = BatchMultiNode(
            self.stack,
            "Training",
            vpc=vpc,
            vpc_subnets=one_subnet(vpc, 1),
            instance_type="p4d.24xlarge",
            max_nodes=4,
            capacity=FleetCapacity.capacity_block("cr-0fedcba9876543210"),
        )
        self.p4d_job = self.p4d.add_job("Nccl", image=IMAGE, command=["nccl-tests"], num_nodes=4)
        self.p5 = BatchMultiNode(
            self.stack,
            "Llm",
            vpc=vpc,
            vpc_subnets=one_subnet(vpc),
            instance_type="p5.48xlarge",
            max_nodes=16,
        )
        self.p5_job = self.p5.add_job(
            "Train",
            image=IMAGE,
            command=["torchrun"],
            num_nodes=16,
            node_ranges=[
                NodeRange(0, 15),
                NodeRange(0, 0, command=["torchrun", "--main"], environment={"ROLE": "main"}),
            ],
        )
        self.synth = synthesize(app)
        self.template = self.synth.template(self.stack)
        self.resources: dict[str, Any] = self.synth.template_dict(self.stack)["Resources"]

    def resource(self, construct: cdk.Resource | ec2.LaunchTemplate) -> dict[str, Any]:
        child = construct.node.default_child
        assert isinstance(child, cdk.CfnElement)
        logical_id = self.stack.get_logical_id(child)
        props: dict[str, Any] = self.resources[logical_id]["Properties"]
        return props


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return Scenario()


def node_containers(scenario: Scenario, job: cdk.Resource) -> list[dict[str, Any]]:
    ranges = scenario.resource(job)["NodeProperties"]["NodeRangeProperties"]
    return [r["Container"] for r in ranges]


def test_cfn_lint_clean_including_hpc_rules(scenario: Scenario) -> None:
    assert_cfn_lint_clean(scenario.synth.template_dict(scenario.stack))


def test_nag_clean(scenario: Scenario) -> None:
    assert_nag_clean(scenario.synth)


@pytest.mark.parametrize(("name", "count"), [("c5n", 1), ("p4d", 4), ("p5", 32)])
def test_job_containers_get_every_uverbs_device(scenario: Scenario, name: str, count: int) -> None:
    job = {"c5n": scenario.c5n_job, "p4d": scenario.p4d_job, "p5": scenario.p5_job}[name]
    for container in node_containers(scenario, job):
        devices = container["LinuxParameters"]["Devices"]
        assert [d["HostPath"] for d in devices] == [
            f"/dev/infiniband/uverbs{i}" for i in range(count)
        ]
        assert all(d["ContainerPath"] == d["HostPath"] for d in devices)
        assert all(d["Permissions"] == ["read", "write", "mknod"] for d in devices)


def test_p5_launch_template_has_one_efa_per_network_card(scenario: Scenario) -> None:
    data = scenario.resource(scenario.p5.launch_template)["LaunchTemplateData"]
    interfaces = data["NetworkInterfaces"]
    assert len(interfaces) == 33
    assert interfaces[0]["DeviceIndex"] == 0
    assert "InterfaceType" not in interfaces[0]
    efa = [i for i in interfaces if i.get("InterfaceType") == "efa-only"]
    assert sorted(i["NetworkCardIndex"] for i in efa) == list(range(32))
    assert all("SubnetId" not in i for i in interfaces)  # Batch places interfaces itself
    assert "SecurityGroupIds" not in data


def test_compute_environment_carries_no_security_group_ids_next_to_interfaces(
    scenario: Scenario,
) -> None:
    for mnp in (scenario.c5n, scenario.p4d, scenario.p5):
        resources = scenario.resource(mnp.compute_environment)["ComputeResources"]
        assert "SecurityGroupIds" not in resources
        interfaces = scenario.resource(mnp.launch_template)["LaunchTemplateData"][
            "NetworkInterfaces"
        ]
        group = scenario.stack.resolve(mnp.security_group.security_group_id)
        assert all(i["Groups"] == [group] for i in interfaces)


def test_security_group_allows_all_traffic_within_itself(scenario: Scenario) -> None:
    group = scenario.stack.resolve(scenario.c5n.security_group.security_group_id)
    scenario.template.has_resource_properties(
        "AWS::EC2::SecurityGroupIngress",
        {"IpProtocol": "-1", "SourceSecurityGroupId": group, "GroupId": group},
    )
    scenario.template.has_resource_properties(
        "AWS::EC2::SecurityGroupEgress",
        {"IpProtocol": "-1", "DestinationSecurityGroupId": group, "GroupId": group},
    )


def test_compute_environment_sizes_and_strategy(scenario: Scenario) -> None:
    resources = scenario.resource(scenario.c5n.compute_environment)["ComputeResources"]
    assert resources["MaxvCpus"] == 8 * 72 == scenario.c5n.max_vcpus
    assert resources["MinvCpus"] == 72
    assert resources["Type"] == "EC2"
    assert resources["AllocationStrategy"] == "BEST_FIT_PROGRESSIVE"
    assert resources["InstanceTypes"] == ["c5n.18xlarge"]
    assert resources["Ec2Configuration"] == [{"ImageType": "ECS_AL2023"}]
    assert (
        scenario.resource(scenario.p5.compute_environment)["ComputeResources"]["MaxvCpus"]
        == 16 * 192
    )


def test_gpu_types_use_the_nvidia_ecs_image(scenario: Scenario) -> None:
    resources = scenario.resource(scenario.p5.compute_environment)["ComputeResources"]
    assert resources["Ec2Configuration"] == [{"ImageType": "ECS_AL2023_NVIDIA"}]


def test_compute_environment_pins_the_latest_launch_template_version(scenario: Scenario) -> None:
    template_ref = scenario.resource(scenario.c5n.compute_environment)["ComputeResources"][
        "LaunchTemplate"
    ]
    logical_id = template_ref["LaunchTemplateId"]["Ref"]
    assert template_ref["Version"] == {"Fn::GetAtt": [logical_id, "LatestVersionNumber"]}


def test_cluster_placement_group_on_the_compute_environment(scenario: Scenario) -> None:
    resources = scenario.resource(scenario.p5.compute_environment)["ComputeResources"]
    assert isinstance(scenario.p5.placement_group, ec2.PlacementGroup)
    assert resources["PlacementGroup"] == scenario.stack.resolve(
        scenario.p5.placement_group.placement_group_name
    )
    scenario.template.has_resource_properties("AWS::EC2::PlacementGroup", {"Strategy": "cluster"})


def test_capacity_reservation_uses_the_reservations_placement_group(scenario: Scenario) -> None:
    resources = scenario.resource(scenario.c5n.compute_environment)["ComputeResources"]
    assert resources["PlacementGroup"] == "cfd-odcr"


def test_capacity_block_has_no_placement_group_and_targets_the_block(scenario: Scenario) -> None:
    assert scenario.p4d.placement_group is None
    resources = scenario.resource(scenario.p4d.compute_environment)["ComputeResources"]
    assert "PlacementGroup" not in resources
    data = scenario.resource(scenario.p4d.launch_template)["LaunchTemplateData"]
    assert data["InstanceMarketOptions"] == {"MarketType": "capacity-block"}
    assert data["CapacityReservationSpecification"] == {
        "CapacityReservationTarget": {"CapacityReservationId": "cr-0fedcba9876543210"}
    }


def test_capacity_reservation_in_the_launch_template(scenario: Scenario) -> None:
    data = scenario.resource(scenario.c5n.launch_template)["LaunchTemplateData"]
    assert data["CapacityReservationSpecification"] == {
        "CapacityReservationTarget": {"CapacityReservationId": "cr-0123456789abcdef0"}
    }
    assert "InstanceMarketOptions" not in data


def test_launch_template_requires_imdsv2_with_hop_limit_1(scenario: Scenario) -> None:
    data = scenario.resource(scenario.c5n.launch_template)["LaunchTemplateData"]
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    # Jobs get their role from the ECS agent; containers cannot reach the node's role.
    assert data["MetadataOptions"]["HttpPutResponseHopLimit"] == 1
    assert data["InstanceInitiatedShutdownBehavior"] == "terminate"
    root = data["BlockDeviceMappings"][0]
    assert root["Ebs"]["Encrypted"] is True
    assert root["Ebs"]["VolumeType"] == "gp3"


def test_user_data_is_multipart_and_mounts_lustre_and_checks_efa(scenario: Scenario) -> None:
    rendered = scenario.c5n.launch_template.user_data
    assert rendered is not None
    text = scenario.stack.resolve(rendered.render())
    assert "multipart/mixed" in str(text)
    # The construct's own steps render at synth time (file systems added later still mount).
    commands = str(scenario.stack.resolve(scenario.c5n.user_data.render()))
    assert "mount_fs Lustre" in commands
    assert "/fsx" in commands
    assert "efa_installer.sh" in commands
    assert "expected 1 EFA devices" in commands
    # The ECS agent waits for the set-up at every boot; a failed node masks it and powers off.
    assert "/etc/systemd/system/ecs.service.d/10-hpc-node-setup.conf" in commands
    assert "Requires=hpc-node-setup.service" in commands
    assert "systemctl mask --now --no-block ecs" in commands
    # The CloudWatch agent ships the boot log to the construct's encrypted log group.
    assert scenario.c5n.log_group is not None
    assert "/opt/hpc-constructs/cloudwatch-agent.json" in commands
    assert scenario.c5n.boot_plan.telemetry is not None


def test_memlock_is_unlimited_and_shared_memory_is_sized(scenario: Scenario) -> None:
    for container in node_containers(scenario, scenario.p5_job):
        assert container["Ulimits"] == [{"Name": "memlock", "SoftLimit": -1, "HardLimit": -1}]
    (c5n,) = node_containers(scenario, scenario.c5n_job)
    memory = int(next(r["Value"] for r in c5n["ResourceRequirements"] if r["Type"] == "MEMORY"))
    assert memory == scenario.c5n.max_job_memory_mib == 196608 - 9830
    assert c5n["LinuxParameters"]["SharedMemorySize"] == memory // 2


def test_defaults_take_the_whole_instance(scenario: Scenario) -> None:
    (c5n,) = node_containers(scenario, scenario.c5n_job)
    requirements = {r["Type"]: r["Value"] for r in c5n["ResourceRequirements"]}
    assert requirements["VCPU"] == "72"
    assert "GPU" not in requirements
    (p4d,) = node_containers(scenario, scenario.p4d_job)
    requirements = {r["Type"]: r["Value"] for r in p4d["ResourceRequirements"]}
    assert requirements["GPU"] == "8"
    assert requirements["VCPU"] == "96"
    (mesher,) = node_containers(scenario, scenario.c5n_second_job)
    requirements = {r["Type"]: r["Value"] for r in mesher["ResourceRequirements"]}
    assert requirements["VCPU"] == "36"
    assert requirements["MEMORY"] == "65536"


def test_lustre_is_a_host_volume_mounted_at_the_same_path(scenario: Scenario) -> None:
    (container,) = node_containers(scenario, scenario.c5n_job)
    assert container["Volumes"] == [{"Name": "lustre-fsx", "Host": {"SourcePath": "/fsx"}}]
    assert container["MountPoints"] == [
        {"ContainerPath": "/fsx", "ReadOnly": False, "SourceVolume": "lustre-fsx"}
    ]
    group = scenario.stack.resolve(scenario.c5n.security_group.security_group_id)
    scenario.template.has_resource_properties(
        "AWS::EC2::SecurityGroupEgress",
        {"IpProtocol": "tcp", "FromPort": 988, "ToPort": 988, "GroupId": group},
    )


def test_instance_store_is_striped_at_boot_and_passed_to_the_containers(
    scenario: Scenario,
) -> None:
    """p4d has 8 NVMe instance-store disks: the set-up stripes them at /scratch/local (every
    boot) and every container gets it; c5n has none and gets no such volume."""
    assert scenario.p4d.boot_plan.instance_store_disks == 8
    assert scenario.c5n.boot_plan.instance_store_disks == 0
    (container,) = node_containers(scenario, scenario.p4d_job)
    assert {"Name": "instance-store", "Host": {"SourcePath": "/scratch/local"}} in container[
        "Volumes"
    ]
    assert {
        "ContainerPath": "/scratch/local",
        "ReadOnly": False,
        "SourceVolume": "instance-store",
    } in container["MountPoints"]
    (c5n,) = node_containers(scenario, scenario.c5n_job)
    assert all(v["Name"] != "instance-store" for v in c5n["Volumes"])


def env(container: dict[str, Any]) -> dict[str, str]:
    return {e["Name"]: e["Value"] for e in container.get("Environment", [])}


def test_efa_environment(scenario: Scenario) -> None:
    (c5n,) = node_containers(scenario, scenario.c5n_job)
    assert env(c5n) == {"FI_PROVIDER": "efa", "OMP_NUM_THREADS": "1"}
    (p4d,) = node_containers(scenario, scenario.p4d_job)
    assert env(p4d) == {"FI_PROVIDER": "efa", "FI_EFA_USE_DEVICE_RDMA": "1"}


def test_node_ranges_override_per_group_and_num_nodes_is_explicit(scenario: Scenario) -> None:
    props = scenario.resource(scenario.p5_job)["NodeProperties"]
    assert props["NumNodes"] == 16
    assert props["MainNode"] == 0
    ranges = props["NodeRangeProperties"]
    assert [r["TargetNodes"] for r in ranges] == ["0:15", "0:0"]
    assert ranges[1]["Container"]["Command"] == ["torchrun", "--main"]
    assert env(ranges[1]["Container"])["ROLE"] == "main"
    assert all(r["Container"]["InstanceType"] == "p5.48xlarge" for r in ranges)


def test_job_definition_retry_and_timeout(scenario: Scenario) -> None:
    props = scenario.resource(scenario.c5n_job)
    assert props["RetryStrategy"] == {"Attempts": 2}
    assert props["Timeout"] == {"AttemptDurationSeconds": 7200}
    assert props["Type"] == "multinode"


def test_grant_submit_job_covers_the_queue_and_every_definition(scenario: Scenario) -> None:
    resolve = scenario.stack.resolve
    policy = scenario.submitter.node.find_child("DefaultPolicy").node.default_child
    assert isinstance(policy, cdk.CfnElement)
    statements = scenario.resources[scenario.stack.get_logical_id(policy)]["Properties"][
        "PolicyDocument"
    ]["Statement"]
    assert [s["Action"] for s in statements] == ["batch:SubmitJob"]
    assert sorted(map(str, statements[0]["Resource"])) == sorted(
        str(resolve(arn))
        for arn in (
            scenario.c5n.job_queue.job_queue_arn,
            scenario.c5n_job.job_definition_arn,
            scenario.c5n_second_job.job_definition_arn,
        )
    )


def test_job_queue_priority_default(scenario: Scenario) -> None:
    assert scenario.resource(scenario.c5n.job_queue)["Priority"] == 1


# --- construction-only: errors and warnings -------------------------------------------------


def new_stack() -> tuple[cdk.Stack, ec2.Vpc]:
    stack = cdk.Stack(make_app(), "Batch", env=TEST_ENV)
    return stack, network(stack)


@pytest.fixture(scope="module")
def c5n() -> BatchMultiNode:
    stack, vpc = new_stack()
    return BatchMultiNode(
        stack,
        "Mnp",
        vpc=vpc,
        vpc_subnets=one_subnet(vpc),
        instance_type="c5n.18xlarge",
        max_nodes=4,
    )


@pytest.fixture(scope="module")
def p4d() -> BatchMultiNode:
    stack, vpc = new_stack()
    return BatchMultiNode(
        stack,
        "Mnp",
        vpc=vpc,
        vpc_subnets=one_subnet(vpc),
        instance_type="p4d.24xlarge",
        max_nodes=4,
    )


def problems_of(err: pytest.ExceptionInfo[HpcValidationError]) -> dict[str, str]:
    return {p.prop: str(p) for p in err.value.problems}


def test_fails_on_spot_because_batch_does_not_run_multi_node_jobs_on_spot() -> None:
    stack, vpc = new_stack()
    with pytest.raises(HpcValidationError) as err:
        BatchMultiNode(
            stack,
            "Mnp",
            vpc=vpc,
            vpc_subnets=one_subnet(vpc),
            instance_type="c5n.18xlarge",
            max_nodes=4,
            capacity=FleetCapacity.spot(),
        )
    message = str(err.value)
    assert "Batch/Mnp: capacity=" in message
    assert (
        "Multi-node parallel jobs aren't supported on compute environments that use Spot" in message
    )


def test_fails_when_subnets_span_more_than_one_subnet() -> None:
    stack, vpc = new_stack()
    with pytest.raises(
        HpcValidationError,
        match=r"vpc_subnets=\[.*PrivateSubnet1.*PrivateSubnet2.*exactly one subnet",
    ):
        BatchMultiNode(
            stack,
            "Mnp",
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            instance_type="c5n.18xlarge",
            max_nodes=4,
        )


def test_fails_when_efa_is_forced_on_a_type_without_efa() -> None:
    stack, vpc = new_stack()
    with pytest.raises(HpcValidationError, match=r"efa=True.*c5\.large do\(es\) not support EFA"):
        BatchMultiNode(
            stack,
            "Mnp",
            vpc=vpc,
            vpc_subnets=one_subnet(vpc),
            instance_type="c5.large",
            max_nodes=2,
            efa=True,
        )


def test_fails_on_unknown_instance_type_and_bad_node_counts_together() -> None:
    stack, vpc = new_stack()
    with pytest.raises(HpcValidationError) as err:
        BatchMultiNode(
            stack,
            "Mnp",
            vpc=vpc,
            vpc_subnets=one_subnet(vpc),
            instance_type="c5n.19xlarge",
            max_nodes=0,
            min_nodes=3,
        )
    props = problems_of(err)
    assert {"instance_type", "max_nodes"} <= set(props)
    # min > max is always blamed on max_nodes (nodes.check_node_counts).
    assert "at least 1 and at least min_nodes (3)" in props["max_nodes"]


def test_fails_with_a_placement_group_on_a_capacity_block() -> None:
    stack, vpc = new_stack()
    group = ec2.PlacementGroup(stack, "Group", strategy=ec2.PlacementGroupStrategy.CLUSTER)
    with pytest.raises(
        HpcValidationError, match=r"placement_group=.*none: AWS places a Capacity Block"
    ):
        BatchMultiNode(
            stack,
            "Mnp",
            vpc=vpc,
            vpc_subnets=one_subnet(vpc),
            instance_type="p5.48xlarge",
            max_nodes=2,
            capacity=FleetCapacity.capacity_block("cr-0123456789abcdef0"),
            placement_group=group,
        )


def test_efa_disabled_on_an_efa_type_warns_and_keeps_security_group_ids() -> None:
    stack, vpc = new_stack()
    mnp = BatchMultiNode(
        stack,
        "Mnp",
        vpc=vpc,
        vpc_subnets=one_subnet(vpc),
        instance_type="c5n.18xlarge",
        max_nodes=2,
        efa=False,
    )
    assert "hpc-constructs:efaDisabled" in warning_ids(mnp)
    assert not mnp.efa_enabled
    assert mnp.efa_environment == {}
    job = mnp.add_job("Job", image=IMAGE, command=["true"], num_nodes=2)
    (container,) = stack.resolve(job.node.default_child.node_properties)["nodeRangeProperties"]  # type: ignore[union-attr]
    assert not container["container"]["linuxParameters"].get("devices")


def test_non_efa_type_has_no_efa_and_no_warning() -> None:
    stack, vpc = new_stack()
    mnp = BatchMultiNode(
        stack, "Mnp", vpc=vpc, vpc_subnets=one_subnet(vpc), instance_type="c5.large", max_nodes=2
    )
    assert not mnp.efa_enabled
    assert "hpc-constructs:efaDisabled" not in warning_ids(mnp)


def test_fails_when_main_node_is_not_below_num_nodes(c5n: BatchMultiNode) -> None:
    with pytest.raises(HpcValidationError) as err:
        c5n.add_job("Bad1", image=IMAGE, command=["true"], num_nodes=2, main_node=2)
    message = problems_of(err)["main_node"]
    assert "Batch/Mnp/Bad1: main_node=2" in message
    assert "MainNode 2 must be less than NumNodes 2" in message


def test_fails_with_more_than_five_node_ranges(c5n: BatchMultiNode) -> None:
    ranges = [NodeRange(i, i) for i in range(4)] + [NodeRange(0, 0), NodeRange(1, 1)]
    with pytest.raises(HpcValidationError) as err:
        c5n.add_job("Bad2", image=IMAGE, command=["true"], num_nodes=4, node_ranges=ranges)
    assert "6 node ranges; at most 5 are allowed" in problems_of(err)["node_ranges"]


def test_fails_when_node_ranges_leave_a_gap(c5n: BatchMultiNode) -> None:
    with pytest.raises(HpcValidationError) as err:
        c5n.add_job(
            "Bad3",
            image=IMAGE,
            command=["true"],
            num_nodes=4,
            node_ranges=[NodeRange(0, 1), NodeRange(3, 3)],
        )
    message = problems_of(err)["node_ranges"]
    assert "node ranges leave nodes 2 without a container" in message
    assert "cover nodes 0:3" in message


def test_fails_when_a_node_range_is_outside_the_job(c5n: BatchMultiNode) -> None:
    with pytest.raises(HpcValidationError, match=r"TargetNodes '0:4' is outside nodes 0:3"):
        c5n.add_job(
            "Bad4", image=IMAGE, command=["true"], num_nodes=4, node_ranges=[NodeRange(0, 4)]
        )


def test_fails_when_num_nodes_exceeds_max_nodes(c5n: BatchMultiNode) -> None:
    with pytest.raises(HpcValidationError) as err:
        c5n.add_job("Bad5", image=IMAGE, command=["true"], num_nodes=5)
    message = problems_of(err)["num_nodes"]
    assert "num_nodes=5" in message
    assert "1 to 4" in message
    assert "max_nodes" in message


def test_fails_when_vcpus_memory_and_gpus_exceed_the_instance(c5n: BatchMultiNode) -> None:
    with pytest.raises(HpcValidationError) as err:
        c5n.add_job(
            "Bad6",
            image=IMAGE,
            command=["true"],
            num_nodes=2,
            vcpus=73,
            memory=cdk.Size.gibibytes(192),
            gpus=1,
            node_ranges=[NodeRange(0, 1, vcpus=0)],
        )
    props = problems_of(err)
    assert "vcpus=73" in props["vcpus"]
    assert "1 to 72 vCPUs on c5n.18xlarge" in props["vcpus"]
    assert "memory='196608 MiB'" in props["memory"]
    assert "1 to 186778 MiB (196608 MiB on c5n.18xlarge minus 9830 MiB" in props["memory"]
    assert "0 to 0 GPUs on c5n.18xlarge" in props["gpus"]
    assert "node_ranges[0:1].vcpus" in props


def test_fails_when_shared_memory_exceeds_node_memory(p4d: BatchMultiNode) -> None:
    with pytest.raises(
        HpcValidationError,
        match=r"shared_memory_size='4096 MiB'.*at most the node memory \(2048 MiB\)",
    ):
        p4d.add_job(
            "Bad7",
            image=IMAGE,
            command=["true"],
            num_nodes=2,
            memory=cdk.Size.gibibytes(2),
            shared_memory_size=cdk.Size.gibibytes(4),
        )


def test_fails_when_gpus_exceed_the_instance(p4d: BatchMultiNode) -> None:
    with pytest.raises(
        HpcValidationError, match=r"gpus=9 is not valid; allowed: 0 to 8 GPUs on p4d.24xlarge"
    ):
        p4d.add_job("Bad8", image=IMAGE, command=["true"], num_nodes=2, gpus=9)


def test_resolved_defaults_are_readable(p4d: BatchMultiNode) -> None:
    assert p4d.max_vcpus == 4 * 96
    assert p4d.min_vcpus == 0
    assert p4d.efa_environment == {"FI_PROVIDER": "efa", "FI_EFA_USE_DEVICE_RDMA": "1"}
    assert p4d.instance_spec.gpus == 8
    assert isinstance(p4d.placement_group, ec2.PlacementGroup)


def test_pingpong_command_uses_the_batch_node_variables() -> None:
    command = BatchMultiNode.efa_pingpong_command(iterations=10)
    assert command[:2] == ["/bin/sh", "-c"]
    assert "$AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS" in command[2]
    assert "fi_pingpong -p efa -e rdm -I 10" in command[2]


def test_file_systems_as_a_mapping_use_the_given_paths() -> None:
    stack, vpc = new_stack()
    scratch = LustreScratch(
        stack, "Scratch", vpc=vpc, vpc_subnets=one_subnet(vpc), storage_capacity_gib=1200
    )
    mnp = BatchMultiNode(
        stack,
        "Mnp",
        vpc=vpc,
        vpc_subnets=one_subnet(vpc),
        instance_type="c5n.18xlarge",
        max_nodes=2,
        file_systems={"/scratch/": scratch},
    )
    assert list(mnp.mount_points) == ["/scratch"]
    with pytest.raises(HpcValidationError, match=r"file_systems='relative'"):
        BatchMultiNode(
            stack,
            "Mnp2",
            vpc=vpc,
            vpc_subnets=one_subnet(vpc),
            instance_type="c5n.18xlarge",
            max_nodes=2,
            file_systems={"relative": scratch},
        )


def test_fails_when_the_type_is_not_offered_in_the_region() -> None:
    stack, vpc = new_stack()
    with pytest.raises(
        HpcValidationError, match=r"instance_type='hpc7g.16xlarge'.*offered in us-east-2"
    ):
        BatchMultiNode(
            stack,
            "Mnp",
            vpc=vpc,
            vpc_subnets=one_subnet(vpc),
            instance_type="hpc7g.16xlarge",
            max_nodes=2,
        )


def test_health_gate_opt_out_and_hop_limit() -> None:
    stack, vpc = new_stack()
    mnp = BatchMultiNode(
        stack, "Mnp", vpc=vpc, vpc_subnets=one_subnet(vpc), instance_type="c5n.18xlarge",
        max_nodes=2, health_gate=False, imds_hop_limit=2, telemetry=False,
    )  # fmt: skip
    assert mnp.log_group is None
    assert mnp.boot_plan.gate == "none"
    assert mnp.boot_plan.required_by == ()
    boot = str(stack.resolve(mnp.user_data.render()))
    assert "health gate off" in boot
    assert "ecs.service.d" not in boot
    with pytest.raises(HpcValidationError, match=r"imds_hop_limit.*1 to 64"):
        BatchMultiNode(
            stack, "Bad", vpc=vpc, vpc_subnets=one_subnet(vpc), instance_type="c5n.18xlarge",
            max_nodes=2, imds_hop_limit=0,
        )  # fmt: skip


def test_own_security_group_gets_the_efa_self_rules() -> None:
    stack, vpc = new_stack()
    sg = ec2.SecurityGroup(stack, "Own", vpc=vpc, allow_all_outbound=False)
    BatchMultiNode(
        stack, "Mnp", vpc=vpc, vpc_subnets=one_subnet(vpc), instance_type="c5n.18xlarge",
        max_nodes=2, security_group=sg,
    )  # fmt: skip
    own = {"Fn::GetAtt": [stack.resolve(sg.node.default_child.logical_id), "GroupId"]}  # type: ignore[union-attr]
    template = cdk.assertions.Template.from_stack(stack).to_json()
    kinds = {"AWS::EC2::SecurityGroupIngress": "SourceSecurityGroupId",
             "AWS::EC2::SecurityGroupEgress": "DestinationSecurityGroupId"}  # fmt: skip
    for kind, peer in kinds.items():
        rules = [
            r["Properties"]
            for r in template["Resources"].values()
            if r["Type"] == kind
            and r["Properties"]["GroupId"] == own
            and r["Properties"].get(peer) == own
        ]
        assert [r["IpProtocol"] for r in rules] == ["-1"], kind


def test_capacity_reservation_without_its_placement_group_warns_and_creates_none() -> None:
    stack, vpc = new_stack()
    mnp = BatchMultiNode(
        stack,
        "Mnp",
        vpc=vpc,
        vpc_subnets=one_subnet(vpc),
        instance_type="c5n.18xlarge",
        max_nodes=2,
        capacity=FleetCapacity.capacity_reservation(reservation_id="cr-0123456789abcdef0"),
    )
    assert "hpc-constructs:reservationWithoutPlacementGroup" in warning_ids(mnp)
    assert mnp.placement_group is None


def test_fails_on_a_public_subnet_for_a_multi_interface_type() -> None:
    stack, vpc = new_stack()
    with pytest.raises(HpcValidationError) as err:
        BatchMultiNode(
            stack,
            "Mnp",
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnets=[vpc.public_subnets[0]]),
            instance_type="c5n.18xlarge",
            max_nodes=2,
        )
    assert "cannot auto-assign a public IP" in problems_of(err)["vpc_subnets"]


def test_fails_on_a_placement_group_that_is_not_cluster() -> None:
    stack, vpc = new_stack()
    spread = ec2.PlacementGroup(stack, "Spread", strategy=ec2.PlacementGroupStrategy.SPREAD)
    with pytest.raises(
        HpcValidationError, match=r"placement_group=.*SPREAD.*a CLUSTER placement group"
    ):
        BatchMultiNode(
            stack,
            "Mnp",
            vpc=vpc,
            vpc_subnets=one_subnet(vpc),
            instance_type="c5n.18xlarge",
            max_nodes=2,
            placement_group=spread,
        )


def test_a_file_system_added_after_a_job_reaches_its_containers() -> None:
    from aws_cdk import aws_efs as efs

    stack, vpc = new_stack()
    mnp = BatchMultiNode(
        stack, "Mnp", vpc=vpc, vpc_subnets=vpc.private_subnets[0], instance_type="c5n.18xlarge",
        max_nodes=2, user_data=["echo from-props"],
    )  # fmt: skip
    job = mnp.add_job("Job", image=IMAGE, command=["true"], num_nodes=2)
    home = efs.FileSystem(stack, "Home", vpc=vpc)
    added = mnp.add_file_system(home)
    mnp.add_user_data("echo added-later")
    assert added.mount_point == "/shared"
    (node,) = stack.resolve(job.node.default_child.node_properties)["nodeRangeProperties"]  # type: ignore[union-attr]
    assert [v["host"]["sourcePath"] for v in node["container"]["volumes"]] == ["/shared"]
    boot = str(stack.resolve(mnp.user_data.render()))
    assert boot.index("/shared efs") < boot.index("from-props") < boot.index("added-later")
    with pytest.raises(
        HpcValidationError, match=r"mount_point='/shared, /shared'.*a different mount point"
    ):
        mnp.add_file_system(home, mount_point="/shared")
