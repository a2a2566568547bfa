"""AWS PCS: cluster, EFA compute node groups with launch templates, queues."""

from __future__ import annotations

import inspect
import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match

from hpc_constructs import (
    EfaComputeFleet,
    FleetCapacity,
    HpcValidationError,
    LustreScratch,
    NetworkFabric,
    PcsAccounting,
    PcsCluster,
    PcsComputeNodeGroup,
    SharedFileSystem,
)
from tests.harness import (
    TEST_ENV,
    Synthesized,
    assert_cfn_lint_clean,
    assert_nag_clean,
    make_app,
    synthesize,
    warning_ids,
)

AMI = ec2.MachineImage.generic_linux({"us-east-2": "ami-0123456789abcdef0"})


RESERVATION = "cr-0123456789abcdef0"


def _fleet_counts(n: int) -> dict[str, int]:
    """EfaComputeFleet's node-count prop (max_nodes, max_capacity before the rename)."""
    params = inspect.signature(EfaComputeFleet.__init__).parameters
    return {"max_nodes": n} if "max_nodes" in params else {"max_capacity": n}


@pytest.fixture(scope="module")
def synth() -> Synthesized:
    """One PCS cluster composed with the other constructs the way a user would: Lustre and EFS
    on every group, an EfaComputeFleet's placement group shared with a node group, a Capacity
    Reservation without its group, a role passed in, grants and connections."""
    app = make_app()
    stack = cdk.Stack(app, "Slurm", env=TEST_ENV)
    fabric = NetworkFabric(stack, "Fabric", compute_availability_zone="us-east-2b")
    scratch = LustreScratch(stack, "Scratch", vpc=fabric.vpc, vpc_subnets=fabric.compute_subnets)
    cdk.Validations.of(scratch).acknowledge(
        cdk.Acknowledgment(id="hpc-constructs:scratchWithoutExport", reason="test scratch")
    )
    home = efs.FileSystem(
        stack,
        "Home",
        vpc=fabric.vpc,
        vpc_subnets=fabric.compute_subnets,
        encrypted=True,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    cluster = PcsCluster(
        stack,
        "Pcs",
        vpc=fabric.vpc,
        vpc_subnets=fabric.compute_subnet,
        machine_image=AMI,
        file_systems=[scratch],
        user_data=["echo cluster-wide"],
    )
    mpi = cluster.add_node_group("Hpc7a", instance_types=["hpc7a.96xlarge"], max_nodes=16)
    cluster.add_file_system(home)  # after the first group: it gets the mount too
    mpi.add_user_data("echo mpi-only")
    spot = cluster.add_node_group(
        "SpotC5n",
        instance_types=["c5n.18xlarge"],
        max_nodes=8,
        capacity=FleetCapacity.spot(),
    )
    fleet = EfaComputeFleet(
        stack,
        "Fleet",
        vpc=fabric.vpc,
        vpc_subnets=fabric.compute_subnets,
        instance_types=["c5n.18xlarge"],
        **_fleet_counts(2),
    )
    shared = cluster.add_node_group(
        "Shared",
        instance_types=["c5n.18xlarge"],
        max_nodes=2,
        placement_group=fleet.placement_group,
        role=iam.Role(
            stack,
            "OwnRole",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            path="/aws-pcs/",
        ),
    )
    odcr = cluster.add_node_group(
        "Odcr",
        instance_types=["c5n.18xlarge"],
        max_nodes=2,
        capacity=FleetCapacity.capacity_reservation(reservation_id=RESERVATION),
    )
    cdk.Validations.of(odcr).acknowledge(
        cdk.Acknowledgment(
            id="hpc-constructs:reservationWithoutPlacementGroup", reason="test reservation"
        )
    )
    cluster.add_queue("Mpi", node_groups=[mpi])
    cluster.add_queue("Spot", node_groups=[spot, shared, odcr])
    _grants_and_connections(stack, fabric, mpi, spot)
    return synthesize(app)


def _grants_and_connections(
    stack: cdk.Stack, fabric: NetworkFabric, mpi: PcsComputeNodeGroup, spot: PcsComputeNodeGroup
) -> None:
    """A bucket read by the MPI group and a database the Spot group connects to."""
    bucket = s3.Bucket(
        stack,
        "Inputs",
        enforce_ssl=True,
        server_access_logs_bucket=s3.Bucket(stack, "Logs", enforce_ssl=True),
    )
    bucket.grant_read(mpi)
    policy = mpi.role.node.find_child("DefaultPolicy")
    for finding in ("Action::s3:GetBucket*", "Action::s3:GetObject*", "Action::s3:List*"):
        cdk.Validations.of(policy).acknowledge(
            cdk.Acknowledgment(id=f"AwsSolutions-IAM5[{finding}]", reason="test: grant_read")
        )
    cdk.Validations.of(policy).acknowledge(
        cdk.Acknowledgment(
            id=f"AwsSolutions-IAM5[Resource::<{stack.get_logical_id(bucket.node.default_child)}"
            ".Arn>/*]",
            reason="test: grant_read on the inputs bucket",
        )
    )
    db = ec2.SecurityGroup(stack, "Db", vpc=fabric.vpc, allow_all_outbound=False)
    db.connections.allow_from(spot, ec2.Port.tcp(5432), "Postgres from the spot nodes")


def _resources(synth: Synthesized, type_: str) -> dict[str, Any]:
    return {
        k: r for k, r in synth.template_dict("Slurm")["Resources"].items() if r["Type"] == type_
    }


def test_cluster_uses_one_subnet_the_shared_group_and_slurm_version(synth: Synthesized) -> None:
    (cluster,) = _resources(synth, "AWS::PCS::Cluster").values()
    props = cluster["Properties"]
    assert props["Scheduler"] == {"Type": "SLURM", "Version": "25.11"}
    assert props["Size"] == "SMALL"
    assert len(props["Networking"]["SubnetIds"]) == 1
    assert "Name" not in props


def test_node_groups_map_capacity_scaling_and_launch_template(synth: Synthesized) -> None:
    groups = {
        r["Properties"]["Name"]: r["Properties"]
        for r in _resources(synth, "AWS::PCS::ComputeNodeGroup").values()
    }
    assert set(groups) == {"hpc7a", "spotc5n", "shared", "odcr"}
    assert groups["hpc7a"]["PurchaseOption"] == "ONDEMAND"
    assert groups["hpc7a"]["ScalingConfiguration"] == {
        "MinInstanceCount": 0,
        "MaxInstanceCount": 16,
    }
    assert groups["hpc7a"]["InstanceConfigs"] == [{"InstanceType": "hpc7a.96xlarge"}]
    assert groups["spotc5n"]["PurchaseOption"] == "SPOT"
    assert groups["spotc5n"]["SpotOptions"] == {"AllocationStrategy": "price-capacity-optimized"}
    assert "Fn::GetAtt" in groups["hpc7a"]["IamInstanceProfileArn"]
    assert set(groups["hpc7a"]["CustomLaunchTemplate"]) == {"TemplateId", "Version"}
    queues = {r["Properties"]["Name"] for r in _resources(synth, "AWS::PCS::Queue").values()}
    assert queues == {"mpi", "spot"}


def _launch_template(synth: Synthesized, prefix: str) -> dict[str, Any]:
    (lt,) = [
        r for k, r in _resources(synth, "AWS::EC2::LaunchTemplate").items() if k.startswith(prefix)
    ]
    return lt["Properties"]["LaunchTemplateData"]  # type: ignore[no-any-return]


def test_efa_launch_template_carries_the_catalog_layout(synth: Synthesized) -> None:
    data = _launch_template(synth, "PcsHpc7a")
    layout = [
        (n["NetworkCardIndex"], n["DeviceIndex"], n.get("InterfaceType", "interface"))
        for n in data["NetworkInterfaces"]
    ]
    assert layout == [(0, 0, "interface"), (0, 1, "efa-only"), (1, 0, "efa-only")]
    assert all(len(n["Groups"]) == 1 for n in data["NetworkInterfaces"])
    assert "SecurityGroupIds" not in data
    assert "GroupName" in data["Placement"]
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    assert data["BlockDeviceMappings"][0]["Ebs"]["Encrypted"] is True


def test_user_data_mounts_lustre_and_efs_then_runs_cluster_and_group_commands(
    synth: Synthesized,
) -> None:
    mpi = json.dumps(_launch_template(synth, "PcsHpc7a")["UserData"])
    assert "multipart/mixed" in mpi
    assert "text/x-shellscript" in mpi
    assert "fi_info -p efa" in mpi
    order = [mpi.index(t) for t in ("mount.lustre", "amazon-efs-utils", "cluster-wide", "mpi-only")]
    assert order == sorted(order), order
    spot = json.dumps(_launch_template(synth, "PcsSpotC5n")["UserData"])
    assert "amazon-efs-utils" in spot
    assert "cluster-wide" in spot
    assert "mpi-only" not in spot


def test_node_groups_wait_for_the_efs_mount_targets(synth: Synthesized) -> None:
    template = synth.template_dict("Slurm")
    targets = {k for k, r in template["Resources"].items() if r["Type"] == "AWS::EFS::MountTarget"}
    assert targets
    for key, group in _resources(synth, "AWS::PCS::ComputeNodeGroup").items():
        assert targets <= set(group.get("DependsOn", [])), key


def test_efs_and_lustre_accept_the_cluster_group_on_their_ports_only(synth: Synthesized) -> None:
    template = synth.template("Slurm")
    for from_port, to_port in ((988, 988), (1018, 1023), (2049, 2049)):
        template.has_resource_properties(
            "AWS::EC2::SecurityGroupIngress",
            {
                "FromPort": from_port,
                "ToPort": to_port,
                "SourceSecurityGroupId": {
                    "Fn::GetAtt": [Match.string_like_regexp("^PcsSecurityGroup"), "GroupId"]
                },
            },
        )


def test_single_card_efa_group_gets_primary_plus_efa_only(synth: Synthesized) -> None:
    data = _launch_template(synth, "PcsSpotC5n")
    # c5n.18xlarge: one network card taking several interfaces -> ENA primary + efa-only.
    layout = [(n["DeviceIndex"], n.get("InterfaceType")) for n in data["NetworkInterfaces"]]
    assert layout == [(0, None), (1, "efa-only")]


def test_a_fleets_placement_group_is_shared_not_duplicated(synth: Synthesized) -> None:
    groups = _resources(synth, "AWS::EC2::PlacementGroup")
    (fleet_group,) = [k for k in groups if k.startswith("Fleet")]
    assert not [k for k in groups if k.startswith(("PcsShared", "PcsOdcr"))]
    shared = _launch_template(synth, "PcsShared")
    assert shared["Placement"]["GroupName"] == {"Fn::GetAtt": [fleet_group, "GroupName"]}
    assert "Placement" not in _launch_template(synth, "PcsOdcr")


def test_capacity_reservation_without_group_warns() -> None:
    _stack, cluster = _cluster()
    group = cluster.add_node_group(
        "Odcr",
        instance_types=["c5n.18xlarge"],
        max_nodes=2,
        capacity=FleetCapacity.capacity_reservation(reservation_id=RESERVATION),
    )
    assert "hpc-constructs:reservationWithoutPlacementGroup" in warning_ids(group)
    assert group.placement_group is None


def test_node_role_follows_pcs_naming_rule_and_can_register(synth: Synthesized) -> None:
    template = synth.template("Slurm")
    template.has_resource_properties("AWS::IAM::Role", {"Path": "/aws-pcs/"})
    template.has_resource_properties("AWS::IAM::InstanceProfile", {"Path": "/aws-pcs/"})
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": [
                    Match.object_like(
                        {"Action": "pcs:RegisterComputeNodeGroupInstance", "Resource": "*"}
                    )
                ]
            },
            "Roles": [{"Ref": Match.string_like_regexp("^OwnRole")}],
        },
    )
    template.has_resource_properties(
        "AWS::IAM::InstanceProfile", {"Roles": [{"Ref": Match.string_like_regexp("^OwnRole")}]}
    )


def test_grants_and_connections_reach_the_node_groups(synth: Synthesized) -> None:
    template = synth.template("Slurm")
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Action": Match.array_with(["s3:GetObject*"])})]
                )
            },
            "Roles": [{"Ref": Match.string_like_regexp("^PcsHpc7aRole")}],
        },
    )
    template.has_resource_properties(
        "AWS::EC2::SecurityGroupIngress",
        {
            "FromPort": 5432,
            "GroupId": {"Fn::GetAtt": [Match.string_like_regexp("^Db"), "GroupId"]},
            "SourceSecurityGroupId": {
                "Fn::GetAtt": [Match.string_like_regexp("^PcsSecurityGroup"), "GroupId"]
            },
        },
    )


def test_cluster_group_allows_all_traffic_within_itself(synth: Synthesized) -> None:
    template = synth.template("Slurm")
    template.has_resource_properties(
        "AWS::EC2::SecurityGroupIngress",
        {
            "IpProtocol": "-1",
            "SourceSecurityGroupId": {
                "Fn::GetAtt": [Match.string_like_regexp("^PcsSecurityGroup"), "GroupId"]
            },
        },
    )
    template.has_resource_properties(
        "AWS::EC2::SecurityGroupEgress",
        {
            "IpProtocol": "-1",
            "DestinationSecurityGroupId": {
                "Fn::GetAtt": [Match.string_like_regexp("^PcsSecurityGroup"), "GroupId"]
            },
        },
    )


def test_nodes_ship_boot_system_and_slurmd_logs_to_the_cluster_log_group(
    synth: Synthesized,
) -> None:
    """One KMS log group per cluster (kept 180 days), the agent configuration in every node
    group's user data with slurmd's log, EFA metrics on EFA groups only, and each group's own
    role may write it and publish node metrics in the node namespace only."""
    ((group_id, group),) = [
        (k, r) for k, r in _resources(synth, "AWS::Logs::LogGroup").items() if k.startswith("Pcs")
    ]
    assert group_id.startswith("PcsNodeLogs")
    assert group["Properties"]["RetentionInDays"] == 180
    assert "KmsKeyId" in group["Properties"]
    for prefix in ("PcsHpc7a", "PcsSpotC5n", "PcsShared"):  # every group here has EFA
        user_data = json.dumps(_launch_template(synth, prefix)["UserData"])
        assert "cloudwatch-agent.json" in user_data
        assert group_id in user_data
        assert "/var/log/slurmd.log" in user_data
        assert "efa_rx_bytes" in user_data
    policies = {
        k: r["Properties"] for k, r in _resources(synth, "AWS::IAM::Policy").items()
        if "TelemetryPolicy" in k and k.startswith("Pcs")
    }  # fmt: skip
    assert {k.split("TelemetryPolicy")[0] for k in policies} == {
        "PcsHpc7a", "PcsSpotC5n", "PcsShared", "PcsOdcr"
    }  # fmt: skip
    for props in policies.values():
        (put,) = [
            s for s in props["PolicyDocument"]["Statement"]
            if s["Action"] == "cloudwatch:PutMetricData"
        ]  # fmt: skip
        namespace = put["Condition"]["StringEquals"]["cloudwatch:namespace"]
        assert namespace == "HpcConstructs/Nodes"


def test_telemetry_opt_out_and_fails_on_a_retention_the_logs_api_rejects() -> None:
    _, cluster = _cluster(telemetry=False)
    assert cluster.log_group is None
    group = cluster.add_node_group("Cpu", instance_types=["c5n.18xlarge"], max_nodes=2)
    assert group.boot_plan.telemetry is None
    with pytest.raises(HpcValidationError, match=r"S/Pcs: log_retention=200 is not valid"):
        _cluster(log_retention=200)
    _, on = _cluster()
    step = on.add_node_group("Cpu", instance_types=["c5n.18xlarge"], max_nodes=2).boot_plan
    assert step.telemetry is not None
    assert (step.telemetry.slurm, step.telemetry.node_group) == (True, "S/Pcs/Cpu")
    assert step.telemetry.efa
    # no EFA metrics on a type without EFA
    plain = on.add_node_group("Plain", instance_types=["c7i.2xlarge"], max_nodes=2).boot_plan
    assert plain.telemetry is not None
    assert not plain.telemetry.efa
    assert not plain.telemetry.gpu


def test_cfn_lint_clean(synth: Synthesized) -> None:
    assert_cfn_lint_clean(synth.template_dict("Slurm"))


def test_nag_clean(synth: Synthesized) -> None:
    assert_nag_clean(synth)


# --- construction-only checks ---------------------------------------------------------------


def _cluster(az: str = "us-east-2b", **kw: Any) -> tuple[cdk.Stack, PcsCluster]:
    stack = cdk.Stack(make_app(), "S", env=TEST_ENV)
    fabric = NetworkFabric(stack, "Fabric", compute_availability_zone=az)
    kw.setdefault("machine_image", AMI)
    return stack, PcsCluster(stack, "Pcs", vpc=fabric.vpc, vpc_subnets=fabric.compute_subnet, **kw)


def _group_fails(*expected: str, cluster: PcsCluster | None = None, **kw: Any) -> None:
    pcs_cluster = cluster or _cluster()[1]
    kw.setdefault("instance_types", ["c5n.18xlarge"])
    kw.setdefault("max_nodes", 4)
    with pytest.raises(HpcValidationError) as err:
        pcs_cluster.add_node_group("Group", **kw)
    for text in expected:
        assert text in str(err.value), str(err.value)


def test_fails_with_an_unsupported_slurm_version_and_size() -> None:
    with pytest.raises(HpcValidationError) as err:
        _cluster(slurm_version="23.02", size="HUGE")
    assert "slurm_version='23.02'" in str(err.value)
    assert "'24.11', '25.05', '25.11', '26.05'" in str(err.value)
    assert "size='HUGE'" in str(err.value)


def test_fails_when_min_nodes_exceeds_max_nodes() -> None:
    _group_fails("S/Pcs/Group: max_nodes=2", "at least min_nodes (3)", min_nodes=3, max_nodes=2)


def test_fails_when_node_groups_exceed_the_cluster_size() -> None:
    _stack, cluster = _cluster()
    cluster.add_node_group("First", instance_types=["c5n.18xlarge"], max_nodes=30)
    _group_fails("max_nodes=4", "at most 2", "SMALL cluster runs at most 32", cluster=cluster)


def test_fails_when_efa_is_requested_on_a_type_without_efa() -> None:
    _group_fails(
        "efa=True", "c7i.2xlarge do(es) not support EFA", instance_types=["c7i.2xlarge"], efa=True
    )


def test_fails_when_architectures_are_mixed() -> None:
    _group_fails(
        "types of one architecture", instance_types=["c5n.18xlarge", "c6gn.16xlarge"], efa=False
    )


def test_fails_when_an_efa_group_spans_azs() -> None:
    stack, cluster = _cluster()
    fabric = stack.node.find_child("Fabric")
    assert isinstance(fabric, NetworkFabric)
    _group_fails(
        "vpc_subnets=", "exactly one subnet", cluster=cluster, vpc_subnets=fabric.service_subnets
    )


def test_fails_when_spot_is_not_offered() -> None:
    _group_fails(
        "capacity='spot (hpc7a.96xlarge)'",
        instance_types=["hpc7a.96xlarge"],
        capacity=FleetCapacity.spot(),
    )


def test_fails_when_the_type_is_not_offered_in_the_az() -> None:
    _group_fails(
        "hpc7a.96xlarge in us-east-2a",
        cluster=_cluster("us-east-2a")[1],
        instance_types=["hpc7a.96xlarge"],
    )


def test_fails_without_a_machine_image() -> None:
    _group_fails(
        "machine_image=None", "PCS agent and Slurm 25.11", cluster=_cluster(machine_image=None)[1]
    )


def test_fails_with_a_bad_name_and_spot_strategy() -> None:
    from aws_cdk import aws_autoscaling as autoscaling

    _group_fails(
        "name='pcs_x'",
        "capacity.allocation_strategy='capacity-optimized-prioritized'",
        name="pcs_x",
        capacity=FleetCapacity.spot(
            allocation_strategy=autoscaling.SpotAllocationStrategy.CAPACITY_OPTIMIZED_PRIORITIZED
        ),
    )


def test_fails_when_spot_sets_a_max_price_pcs_cannot_apply() -> None:
    _group_fails(
        "capacity.max_price='2.5'",
        "PCS has no Spot maximum price",
        capacity=FleetCapacity.spot(max_price="2.5"),
    )


def test_fails_when_a_lustre_mount_dir_is_a_system_directory() -> None:
    stack = cdk.Stack(make_app(), "S", env=TEST_ENV)
    fabric = NetworkFabric(stack, "Fabric", compute_availability_zone="us-east-2b")
    lustre = LustreScratch.from_attributes(
        stack,
        "Fs",
        file_system_id="fs-0123456789abcdef0",
        dns_name="fs-0123456789abcdef0.fsx.us-east-2.amazonaws.com",
        mount_name="abcdefgh",
        security_group=ec2.SecurityGroup(stack, "FsGroup", vpc=fabric.vpc),
    )
    with pytest.raises(HpcValidationError) as err:
        PcsCluster(
            stack,
            "Pcs",
            vpc=fabric.vpc,
            vpc_subnets=fabric.compute_subnet,
            machine_image=AMI,
            file_systems=[SharedFileSystem(lustre, mount_point="/opt")],
        )
    assert "S/Pcs: file_systems='/opt'" in str(err.value), str(err.value)
    assert "not a system directory" in str(err.value)


def test_fails_when_a_queue_uses_another_clusters_group() -> None:
    _stack, one = _cluster()
    _stack2, two = _cluster()
    group = two.add_node_group("Group1", instance_types=["c5n.18xlarge"], max_nodes=2)
    with pytest.raises(HpcValidationError, match="node groups added to this cluster"):
        one.add_queue("Queue1", node_groups=[group])


def test_warns_when_efa_is_disabled_on_an_efa_type() -> None:
    _stack, cluster = _cluster()
    group = cluster.add_node_group("Tcp", instance_types=["c5n.18xlarge"], max_nodes=2, efa=False)
    assert "hpc-constructs:efaDisabled" in warning_ids(group)
    assert group.placement_group is None


def test_user_data_decodes_as_multipart() -> None:
    _stack, cluster = _cluster()
    group = cluster.add_node_group("Group", instance_types=["c5n.18xlarge"], max_nodes=2)
    rendered = group.user_data.render()
    assert rendered.startswith("Content-Type: multipart/mixed")


def test_slurmd_waits_for_the_node_set_up_and_a_failed_node_never_registers() -> None:
    stack, cluster = _cluster()
    group = cluster.add_node_group("Group", instance_types=["hpc6id.32xlarge"], max_nodes=2)
    plan = group.boot_plan
    assert (plan.gate, plan.required_by) == ("slurmd", ("slurmd",))
    # hpc6id.32xlarge: two EFA network cards and four instance-store disks (catalog).
    assert (plan.efa_devices, plan.instance_store_disks) == (2, 4)
    boot = str(stack.resolve(group.user_data.render()))
    assert "/etc/systemd/system/slurmd.service.d/10-hpc-node-setup.conf" in boot
    assert "systemctl mask --now --no-block slurmd" in boot
    opted_out = cluster.add_node_group(
        "Open", instance_types=["c5n.18xlarge"], max_nodes=2, health_gate=False, imds_hop_limit=2
    )
    assert opted_out.boot_plan.gate == "none"
    assert opted_out.boot_plan.required_by == ()
    _group_fails("imds_hop_limit=0", "1 to 64", imds_hop_limit=0)


def test_fails_with_wrong_prop_types_at_the_boundary() -> None:
    stack = cdk.Stack(make_app(), "S", env=TEST_ENV)
    fabric = NetworkFabric(stack, "Fabric", compute_availability_zone="us-east-2b")
    with pytest.raises(HpcValidationError) as err:
        PcsCluster(stack, "Pcs", vpc=fabric.vpc, vpc_subnets="subnet-123", machine_image=AMI)
    assert "S/Pcs: vpc_subnets='subnet-123'" in str(err.value)
    _group_fails("max_nodes='4'", max_nodes="4")
    _group_fails("user_data='echo hi'", "ec2.UserData or a list of str", user_data="echo hi")


def test_controller_takes_exactly_one_subnet() -> None:
    stack = cdk.Stack(make_app(), "S", env=TEST_ENV)
    fabric = NetworkFabric(stack, "Fabric", compute_availability_zone="us-east-2b")
    with pytest.raises(HpcValidationError, match=r"vpc_subnets=.*exactly one subnet"):
        PcsCluster(
            stack, "Pcs", vpc=fabric.vpc, vpc_subnets=fabric.service_subnets, machine_image=AMI
        )


def test_fails_when_a_passed_role_breaks_the_pcs_path_rule() -> None:
    stack, cluster = _cluster()
    role = iam.Role(stack, "Plain", assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"))
    _group_fails("role=", "under the path /aws-pcs/ or named AWSPCS*", cluster=cluster, role=role)
    named = iam.Role.from_role_arn(stack, "Named", "arn:aws:iam::123456789012:role/AWSPCS-nodes")
    group = cluster.add_node_group("Okay", instance_types=["c5n.18xlarge"], max_nodes=2, role=named)
    assert group.role is named
    assert group.grant_principal is named


def test_fails_when_an_added_file_system_reuses_a_mount_point() -> None:
    stack, cluster = _cluster()
    fabric = stack.node.find_child("Fabric")
    assert isinstance(fabric, NetworkFabric)
    home = efs.FileSystem(stack, "Home", vpc=fabric.vpc)
    cluster.add_file_system(home, mount_point="/data")
    with pytest.raises(HpcValidationError, match="a different mount point per file system"):
        cluster.add_file_system(efs.FileSystem(stack, "Other", vpc=fabric.vpc), mount_point="/data")


def test_a_node_group_is_a_lustre_client_and_a_grantee() -> None:
    stack, cluster = _cluster()
    fabric = stack.node.find_child("Fabric")
    assert isinstance(fabric, NetworkFabric)
    scratch = LustreScratch(stack, "Scratch", vpc=fabric.vpc, vpc_subnets=fabric.compute_subnets)
    group = cluster.add_node_group("Group", instance_types=["c5n.18xlarge"], max_nodes=2)
    scratch.allow_clients(group)
    grant = s3.Bucket(stack, "Bucket").grant_read(group)
    assert grant.success
    assert group.connections.security_groups == [cluster.security_group]
    assert group.grant_principal is group.role


def test_groups_may_mount_their_own_file_systems_at_the_same_point() -> None:
    stack, cluster = _cluster()
    vpc = stack.node.find_child("Fabric").vpc  # type: ignore[attr-defined]
    first = cluster.add_node_group("First", instance_types=["c5n.18xlarge"], max_nodes=2)
    second = cluster.add_node_group("Second", instance_types=["c5n.18xlarge"], max_nodes=2)
    first.add_file_system(efs.FileSystem(stack, "FirstData", vpc=vpc), mount_point="/data")
    second.add_file_system(efs.FileSystem(stack, "SecondData", vpc=vpc), mount_point="/data")
    shared = cluster.add_file_system(efs.FileSystem(stack, "Shared", vpc=vpc))
    assert shared.mount_point not in ("/data",)
    with pytest.raises(HpcValidationError, match="a different mount point per file system"):
        cluster.add_file_system(efs.FileSystem(stack, "Clash", vpc=vpc), mount_point="/data")


# --- platform props: bad input --------------------------------------------------------------


def test_fails_on_custom_settings_pcs_does_not_accept_and_bad_accounting() -> None:
    stack = cdk.Stack(make_app(), "S", env=TEST_ENV)
    fabric = NetworkFabric(stack, "Fabric", compute_availability_zone="us-east-2b")
    with pytest.raises(HpcValidationError) as err:
        PcsCluster(
            stack,
            "Pcs",
            vpc=fabric.vpc,
            vpc_subnets=fabric.compute_subnet,
            slurm_custom_settings={"SlurmctldHost": "x", "Epilog": "/e.sh"},
            accounting=PcsAccounting(default_purge_time_days=0),
        )
    for text in ("slurm_custom_settings", "['SlurmctldHost']", "Prolog, Epilog", "0 is not valid"):
        assert text in str(err.value), str(err.value)
    _, cluster = _cluster()
    _group_fails(
        "slurm_custom_settings",
        "['CPUs']",
        "Weight, RealMemory",
        cluster=cluster,
        slurm_custom_settings={"CPUs": "4"},
    )


def test_fails_when_a_login_group_joins_a_queue_or_shares_a_queue_name() -> None:
    _, cluster = _cluster()
    login = cluster.add_login_node_group("Login", instance_types=["c7i.large"])
    with pytest.raises(HpcValidationError, match="a login node group is in no queue"):
        cluster.add_queue("Q", node_groups=[login])
    cpu = cluster.add_node_group("Cpu", instance_types=["c7i.large"], max_nodes=2)
    with pytest.raises(HpcValidationError, match="a name no login node group uses"):
        cluster.add_queue("Login", node_groups=[cpu])
    cluster.add_queue("Work", node_groups=[cpu])
    with pytest.raises(HpcValidationError, match=r"a name no queue uses \(work\)"):
        cluster.add_login_node_group("Work", instance_types=["c7i.large"])
