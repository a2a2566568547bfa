"""EfaComputeFleet and BatchMultiNode composed with other constructs the way a user does:
grants, security groups, LustreScratch.allow_clients, EFS and Lustre mounts, a shared
placement group, subnets given three ways. One app, synthesized once."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

import hpc_constructs as hc
from hpc_constructs.batch import BatchMultiNode
from hpc_constructs.fleet import EfaComputeFleet
from hpc_constructs.lustre import LustreScratch
from hpc_constructs.nodes import EFS_PORT, NodeLauncher, SharedFileSystem
from tests.harness import (
    TEST_ENV,
    Synthesized,
    assert_cfn_lint_clean,
    assert_nag_clean,
    make_app,
    synthesize,
    warning_ids,
)

IMAGE = "public.ecr.aws/amazonlinux/amazonlinux:2023"
RESERVATION = "cr-0123456789abcdef0"


def _vpc(stack: cdk.Stack) -> ec2.Vpc:
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        max_azs=2,
        nat_gateways=0,
        restrict_default_security_group=False,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="Compute", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        ],
    )
    cdk.Validations.of(vpc).acknowledge(
        cdk.Acknowledgment(id="AwsSolutions-VPC7", reason="Test VPC; NetworkFabric adds flow logs")
    )
    return vpc


def _ack_grant_wildcards(launcher: NodeLauncher, bucket: s3.Bucket) -> None:
    """``bucket.grant_read`` writes ``s3:GetObject*`` on ``bucket/*``: what reading a bucket
    is; acknowledged on the one policy that carries it."""
    policy = launcher.role.node.try_find_child("DefaultPolicy")
    assert policy is not None
    arn = cdk.Stack.of(bucket).get_logical_id(bucket.node.default_child)  # type: ignore[arg-type]
    findings = ["Action::s3:GetBucket*", "Action::s3:GetObject*", "Action::s3:List*"]
    for finding in [*findings, f"Resource::<{arn}.Arn>/*"]:
        cdk.Validations.of(policy).acknowledge(
            cdk.Acknowledgment(
                id=f"AwsSolutions-IAM5[{finding}]",
                reason="Read access to every object of the one test bucket (bucket.grant_read)",
            )
        )


@dataclass
class Composed:
    synth: Synthesized
    stack: cdk.Stack
    fleet: EfaComputeFleet
    batch: BatchMultiNode
    scratch: LustreScratch
    home: efs.FileSystem
    bastion: ec2.SecurityGroup
    added: SharedFileSystem

    @property
    def template(self) -> dict[str, Any]:
        return self.synth.template_dict(self.stack)

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: r for k, r in self.template["Resources"].items() if r["Type"] == kind}

    def ref(self, construct: Any) -> str:
        return str(self.stack.resolve(construct.node.default_child.logical_id))

    def group_id(self, group: ec2.ISecurityGroup) -> dict[str, Any]:
        return {"Fn::GetAtt": [self.ref(group), "GroupId"]}


@pytest.fixture(scope="module")
def composed() -> Composed:
    app = make_app()
    stack = cdk.Stack(app, "Compose", env=TEST_ENV)
    vpc = _vpc(stack)
    subnet = vpc.isolated_subnets[0]
    bucket = s3.Bucket(stack, "Data", enforce_ssl=True)
    cdk.Validations.of(bucket).acknowledge(
        cdk.Acknowledgment(id="AwsSolutions-S1", reason="Test bucket; holds no data")
    )
    home = efs.FileSystem(stack, "Home", vpc=vpc, removal_policy=cdk.RemovalPolicy.DESTROY)
    cdk.Validations.of(home).acknowledge(
        cdk.Acknowledgment(id="HPC-STOR1", reason="Test app: deleted with its stack on purpose")
    )
    scratch = LustreScratch(
        stack,
        "Scratch",
        vpc=vpc,
        vpc_subnets=ec2.SubnetSelection(subnets=[subnet]),
        storage_capacity_gib=1200,
    )
    cdk.Validations.of(scratch).acknowledge(
        cdk.Acknowledgment(id="hpc-constructs:scratchWithoutExport", reason="Test scratch")
    )
    # Subnets as one ISubnet (fleet) and as a list (Batch).
    fleet = EfaComputeFleet(
        stack, "Fleet", vpc=vpc, vpc_subnets=subnet, instance_types=["c5n.18xlarge"], max_nodes=4
    )
    added = fleet.add_file_system(home)
    scratch.allow_clients(fleet)
    batch = BatchMultiNode(
        stack,
        "Batch",
        vpc=vpc,
        vpc_subnets=[subnet],
        instance_type="c5n.18xlarge",
        max_nodes=4,
        placement_group=fleet.placement_group,
        file_systems={"/home/shared": home, "/scratch": scratch},
    )
    batch.add_job("Ping", image=IMAGE, command=BatchMultiNode.efa_pingpong_command(), num_nodes=2)
    bucket.grant_read(fleet)
    bucket.grant_read(batch)
    _ack_grant_wildcards(fleet, bucket)
    _ack_grant_wildcards(batch, bucket)
    bastion = ec2.SecurityGroup(stack, "Bastion", vpc=vpc, allow_all_outbound=False)
    bastion.connections.allow_to(fleet, ec2.Port.tcp(22), "SSH to the fleet")
    bastion.connections.allow_to(batch, ec2.Port.tcp(22), "SSH to the Batch nodes")
    fleet.connections.allow_from(batch, ec2.Port.tcp(8080), "Batch nodes to a fleet service")
    return Composed(synthesize(app), stack, fleet, batch, scratch, home, bastion, added)


def test_cfn_lint_clean(composed: Composed) -> None:
    assert_cfn_lint_clean(composed.template)


def test_nag_clean(composed: Composed) -> None:
    assert_nag_clean(composed.synth)


def test_bucket_grants_reach_both_node_roles(composed: Composed) -> None:
    roles = {composed.ref(composed.fleet.role), composed.ref(composed.batch.role)}
    granted = set()
    for policy in composed.of_type("AWS::IAM::Policy").values():
        actions = json.dumps(policy["Properties"]["PolicyDocument"])
        if "s3:GetObject*" in actions:
            granted.update(r["Ref"] for r in policy["Properties"]["Roles"])
    assert roles <= granted
    assert composed.batch.instance_role is composed.batch.role


def test_security_groups_compose_through_connections(composed: Composed) -> None:
    bastion = composed.group_id(composed.bastion)
    ingress = [r["Properties"] for r in composed.of_type("AWS::EC2::SecurityGroupIngress").values()]
    ssh_targets = {
        json.dumps(r["GroupId"])
        for r in ingress
        if r.get("SourceSecurityGroupId") == bastion and r.get("FromPort") == 22
    }
    assert ssh_targets == {
        json.dumps(composed.group_id(composed.fleet.security_group)),
        json.dumps(composed.group_id(composed.batch.security_group)),
    }
    assert any(
        r.get("FromPort") == 8080
        and r["GroupId"] == composed.group_id(composed.fleet.security_group)
        and r.get("SourceSecurityGroupId") == composed.group_id(composed.batch.security_group)
        for r in ingress
    )


def test_efs_opens_nfs_from_both_launchers_and_nodes_wait_for_mount_targets(
    composed: Composed,
) -> None:
    efs_sg = composed.group_id(composed.home.connections.security_groups[0])
    nfs_sources = {
        json.dumps(r["Properties"]["SourceSecurityGroupId"])
        for r in composed.of_type("AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == efs_sg and r["Properties"].get("FromPort") == EFS_PORT
    }
    assert nfs_sources == {
        json.dumps(composed.group_id(composed.fleet.security_group)),
        json.dumps(composed.group_id(composed.batch.security_group)),
    }
    targets = set(composed.of_type("AWS::EFS::MountTarget"))
    resources = composed.template["Resources"]
    asg = resources[composed.ref(composed.fleet.auto_scaling_group)]
    env = resources[composed.ref(composed.batch.compute_environment)]
    assert targets <= set(asg.get("DependsOn", []))
    assert targets <= set(env.get("DependsOn", []))


def test_efs_and_lustre_mount_on_the_hosts_and_in_the_containers(composed: Composed) -> None:
    assert (composed.added.mount_point, composed.added.kind) == ("/shared", "efs")
    fleet_boot = json.dumps(
        composed.template["Resources"][composed.ref(composed.fleet.launch_template)]
    )
    assert "amazon-efs-utils" in fleet_boot
    assert "/shared efs _netdev,tls" in fleet_boot
    batch_boot = json.dumps(composed.stack.resolve(composed.batch.user_data.render()))
    assert "/home/shared efs _netdev,tls" in batch_boot
    assert "lustre-client" in batch_boot
    (job,) = composed.of_type("AWS::Batch::JobDefinition").values()
    container = job["Properties"]["NodeProperties"]["NodeRangeProperties"][0]["Container"]
    volumes = {v["Name"]: v["Host"]["SourcePath"] for v in container["Volumes"]}
    assert volumes == {"efs-home-shared": "/home/shared", "lustre-scratch": "/scratch"}
    mounts = {m["SourceVolume"]: m["ContainerPath"] for m in container["MountPoints"]}
    assert mounts == {"efs-home-shared": "/home/shared", "lustre-scratch": "/scratch"}


def test_lustre_scratch_allows_the_fleet_as_a_client(composed: Composed) -> None:
    lustre_sg = composed.group_id(composed.scratch.connections.security_groups[0])
    ports = sorted(
        (r["Properties"]["FromPort"], r["Properties"]["ToPort"])
        for r in composed.of_type("AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == lustre_sg
        and r["Properties"].get("SourceSecurityGroupId")
        == composed.group_id(composed.fleet.security_group)
    )
    assert ports == [(988, 988), (1018, 1023)]


def test_the_fleets_placement_group_serves_batch_too(composed: Composed) -> None:
    assert composed.batch.placement_group is composed.fleet.placement_group
    assert len(composed.of_type("AWS::EC2::PlacementGroup")) == 1


# --- construction only ------------------------------------------------------------------------


@pytest.fixture
def bare() -> tuple[cdk.Stack, ec2.Vpc]:
    stack = cdk.Stack(make_app(), "Bare", env=TEST_ENV)
    return stack, _vpc(stack)


def test_a_capacity_reservation_warns_the_same_on_both(bare: tuple[cdk.Stack, ec2.Vpc]) -> None:
    stack, vpc = bare
    capacity = hc.FleetCapacity.capacity_reservation(reservation_id=RESERVATION)
    subnets = ec2.SubnetSelection(subnets=[vpc.isolated_subnets[0]])
    fleet = EfaComputeFleet(
        stack,
        "Fleet",
        vpc=vpc,
        vpc_subnets=subnets,
        instance_types=["c5n.18xlarge"],
        max_nodes=2,
        capacity=capacity,
    )
    batch = BatchMultiNode(
        stack,
        "Batch",
        vpc=vpc,
        vpc_subnets=subnets,
        instance_type="c5n.18xlarge",
        max_nodes=2,
        capacity=capacity,
    )
    warning = "hpc-constructs:reservationWithoutPlacementGroup"
    assert warning in warning_ids(fleet)
    assert warning in warning_ids(batch)
    assert fleet.placement_group is None
    assert batch.placement_group is None


def test_subnets_as_a_selection_a_subnet_or_a_list_select_the_same_subnet(
    bare: tuple[cdk.Stack, ec2.Vpc],
) -> None:
    stack, vpc = bare
    subnet = vpc.isolated_subnets[1]
    forms: list[Any] = [ec2.SubnetSelection(subnets=[subnet]), subnet, [subnet]]
    for index, form in enumerate(forms):
        fleet = EfaComputeFleet(
            stack,
            f"Fleet{index}",
            vpc=vpc,
            vpc_subnets=form,
            instance_types=["c5n.18xlarge"],
            max_nodes=2,
        )
        assert fleet.subnet is not None
        assert fleet.subnet.node.path == subnet.node.path


def test_wrong_types_give_one_problem_each(bare: tuple[cdk.Stack, ec2.Vpc]) -> None:
    stack, vpc = bare
    with pytest.raises(hc.HpcValidationError) as err:
        EfaComputeFleet(
            stack,
            "Fleet",
            vpc=vpc,
            vpc_subnets="subnet-0123",  # type: ignore[arg-type]
            instance_types="c5n.18xlarge",  # type: ignore[arg-type]
            max_nodes="4",  # type: ignore[arg-type]
        )
    assert sorted(p.prop for p in err.value.problems) == [
        "instance_types",
        "max_nodes",
        "vpc_subnets",
    ]
    with pytest.raises(hc.HpcValidationError) as err:
        BatchMultiNode(
            stack,
            "Batch",
            vpc=vpc,
            vpc_subnets=[vpc.isolated_subnets[0]],
            instance_type="c5n.18xlarge",
            max_nodes=2,
            file_systems="fs-0123",  # type: ignore[arg-type]
            user_data="echo hi",  # type: ignore[arg-type]
        )
    assert sorted(p.prop for p in err.value.problems) == ["file_systems", "user_data"]


def test_an_efa_job_on_a_type_without_efa_fails_at_add_job(
    bare: tuple[cdk.Stack, ec2.Vpc],
) -> None:
    stack, vpc = bare
    batch = BatchMultiNode(
        stack,
        "Batch",
        vpc=vpc,
        vpc_subnets=vpc.isolated_subnets[0],
        instance_type="c5.large",
        max_nodes=2,
    )
    with pytest.raises(hc.HpcValidationError, match=r"Bare/Batch/Ping: command=.*no EFA"):
        batch.add_job(
            "Ping", image=IMAGE, command=BatchMultiNode.efa_pingpong_command(), num_nodes=2
        )


def test_grants_and_connections_work_through_the_jsii_interfaces(
    bare: tuple[cdk.Stack, ec2.Vpc],
) -> None:
    stack, vpc = bare
    fleet = EfaComputeFleet(
        stack,
        "Fleet",
        vpc=vpc,
        vpc_subnets=vpc.isolated_subnets[0],
        instance_types=["c5n.18xlarge"],
        max_nodes=2,
        role=iam.Role(stack, "Given", assumed_by=iam.ServicePrincipal("ec2.amazonaws.com")),
    )
    grant = iam.Grant.add_to_principal(
        grantee=fleet, actions=["s3:ListBucket"], resource_arns=["arn:aws:s3:::b"]
    )
    assert grant.success
    assert fleet.grant_principal is fleet.role
    other = ec2.SecurityGroup(stack, "Other", vpc=vpc)
    other.connections.allow_from(fleet, ec2.Port.tcp(443))
