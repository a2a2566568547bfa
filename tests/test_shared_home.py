"""SharedHome (EFS for homes and software) mounted by the launchers, with PCS's platform props
(managed accounting, custom settings, a login node group) and a SlurmAccountingDatabase in
the same synthesized app: one synthesis, cfn-lint and cdk-nag on it."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2

from hpc_constructs import (
    HpcValidationError,
    NetworkFabric,
    PcsAccounting,
    PcsCluster,
    SharedHome,
    SharedHomeAccessPoint,
    SlurmAccountingDatabase,
)
from tests.harness import (
    TEST_ENV,
    Synthesized,
    assert_cfn_lint_clean,
    assert_nag_clean,
    make_app,
    synthesize,
)


@pytest.fixture(scope="module")
def synth() -> Synthesized:
    app = make_app()
    stack = cdk.Stack(app, "Platform", env=TEST_ENV)
    fabric = NetworkFabric(stack, "Fabric", compute_availability_zone="us-east-2b")
    home = SharedHome(
        stack,
        "Home",
        vpc=fabric.vpc,
        vpc_subnets=fabric.compute_subnets,
        access_points=[SharedHomeAccessPoint(path="/software", owner_uid=1000, owner_gid=1000)],
    )
    cluster = PcsCluster(
        stack,
        "Pcs",
        vpc=fabric.vpc,
        vpc_subnets=fabric.compute_subnet,
        machine_image=ec2.MachineImage.latest_amazon_linux2023(),
        file_systems=[home],
        accounting=PcsAccounting(default_purge_time_days=365),
        slurm_custom_settings={"Prolog": "/shared/prolog.sh"},
    )
    cpu = cluster.add_node_group(
        "Cpu", instance_types=["c7i.2xlarge"], max_nodes=4, slurm_custom_settings={"Weight": "10"}
    )
    cluster.add_queue("Work", node_groups=[cpu], slurm_custom_settings={"MaxTime": "1-00:00:00"})
    cluster.add_login_node_group("Login", instance_types=["c7i.large"], count=2)
    cluster.login_connections.allow_from(ec2.Peer.ipv4("10.0.0.0/8"), ec2.Port.tcp(22))
    SlurmAccountingDatabase(stack, "Accounting", vpc=fabric.vpc)
    return synthesize(app)


def _of_type(synth: Synthesized, type_: str) -> dict[str, Any]:
    resources = synth.template_dict("Platform")["Resources"]
    return {k: r for k, r in resources.items() if r["Type"] == type_}


def test_home_is_encrypted_backed_up_retained_with_one_mount_target_per_subnet(
    synth: Synthesized,
) -> None:
    (fs,) = _of_type(synth, "AWS::EFS::FileSystem").values()
    assert fs["Properties"]["Encrypted"] is True
    assert fs["Properties"]["BackupPolicy"] == {"Status": "ENABLED"}
    assert fs["Properties"]["ThroughputMode"] == "elastic"
    assert fs["DeletionPolicy"] == "Retain"
    assert len(_of_type(synth, "AWS::EFS::MountTarget")) == 1  # the one compute subnet
    (ap,) = _of_type(synth, "AWS::EFS::AccessPoint").values()
    assert ap["Properties"]["RootDirectory"]["Path"] == "/software"
    assert ap["Properties"]["RootDirectory"]["CreationInfo"]["OwnerUid"] == "1000"


def test_home_is_mounted_at_home_and_opened_on_nfs_only(synth: Synthesized) -> None:
    text = json.dumps(synth.template_dict("Platform"))
    assert ":/ /home efs" in text or "/home" in text
    ingress = [
        r["Properties"]
        for r in _of_type(synth, "AWS::EC2::SecurityGroupIngress").values()
        if "Home" in json.dumps(r["Properties"].get("GroupId"))
    ]
    assert ingress
    assert all(i["FromPort"] == 2049 == i["ToPort"] for i in ingress)


def test_pcs_accounting_and_custom_settings_render_per_level(synth: Synthesized) -> None:
    (cluster,) = _of_type(synth, "AWS::PCS::Cluster").values()
    config = cluster["Properties"]["SlurmConfiguration"]
    assert config["Accounting"] == {"Mode": "STANDARD", "DefaultPurgeTimeInDays": 365}
    assert config["SlurmCustomSettings"] == [
        {"ParameterName": "Prolog", "ParameterValue": "/shared/prolog.sh"}
    ]
    groups = {
        r["Properties"]["Name"]: r for r in _of_type(synth, "AWS::PCS::ComputeNodeGroup").values()
    }
    assert groups["cpu"]["Properties"]["SlurmConfiguration"]["SlurmCustomSettings"] == [
        {"ParameterName": "Weight", "ParameterValue": "10"}
    ]
    (queue,) = _of_type(synth, "AWS::PCS::Queue").values()
    assert (
        queue["Properties"]["SlurmConfiguration"]["SlurmCustomSettings"][0]["ParameterName"]
        == "MaxTime"
    )


def test_login_group_is_static_in_no_queue_with_its_own_closed_group(synth: Synthesized) -> None:
    groups = {
        r["Properties"]["Name"]: k for k, r in _of_type(synth, "AWS::PCS::ComputeNodeGroup").items()
    }
    login = _of_type(synth, "AWS::PCS::ComputeNodeGroup")[groups["login"]]["Properties"]
    assert login["ScalingConfiguration"] == {"MinInstanceCount": 2, "MaxInstanceCount": 2}
    (queue,) = _of_type(synth, "AWS::PCS::Queue").values()
    assert groups["login"] not in json.dumps(queue["Properties"])
    sgs = _of_type(synth, "AWS::EC2::SecurityGroup")
    login_sg = next(k for k in sgs if k.startswith("PcsLoginSecurityGroup"))
    rules = sgs[login_sg]["Properties"].get("SecurityGroupIngress", [])
    assert [(r["CidrIp"], r["FromPort"]) for r in rules] == [("10.0.0.0/8", 22)]


def test_accounting_database_is_serverless_v2_encrypted_retained_and_secret_only(
    synth: Synthesized,
) -> None:
    (db,) = _of_type(synth, "AWS::RDS::DBCluster").values()
    props = db["Properties"]
    assert props["Engine"] == "aurora-mysql"
    assert props["StorageEncrypted"] is True
    assert props["DeletionProtection"] is True
    assert props["ServerlessV2ScalingConfiguration"] == {"MinCapacity": 0.5, "MaxCapacity": 4}
    assert db["DeletionPolicy"] == "Retain"
    assert "resolve:secretsmanager" in json.dumps(props["MasterUserPassword"])
    (instance,) = _of_type(synth, "AWS::RDS::DBInstance").values()
    assert instance["Properties"]["DBInstanceClass"] == "db.serverless"
    (sg,) = [
        r
        for k, r in _of_type(synth, "AWS::EC2::SecurityGroup").items()
        if k.startswith("AccountingCluster")
    ]
    assert not sg["Properties"].get("SecurityGroupIngress")  # open to no one until a cluster


def test_cfn_lint_clean(synth: Synthesized) -> None:
    assert_cfn_lint_clean(synth.template_dict("Platform"))


def test_nag_clean(synth: Synthesized) -> None:
    assert_nag_clean(synth)


# --- construction-only checks ---------------------------------------------------------------


def _fabric() -> tuple[cdk.Stack, NetworkFabric]:
    stack = cdk.Stack(make_app(), "S", env=TEST_ENV)
    return stack, NetworkFabric(stack, "Fabric", compute_availability_zone="us-east-2b")


def test_fails_with_a_reserved_mount_point_and_bad_access_points_all_at_once() -> None:
    stack, fabric = _fabric()
    with pytest.raises(HpcValidationError) as err:
        SharedHome(
            stack,
            "Home",
            vpc=fabric.vpc,
            vpc_subnets=fabric.compute_subnets,
            mount_point="/opt",
            throughput_mode="provisioned",
            access_points=[
                SharedHomeAccessPoint(path="software", permissions="rwx"),
                SharedHomeAccessPoint(path="software"),
            ],
        )
    text = str(err.value)
    for expected in (
        "S/Home",
        "mount_point",
        "'/opt'",
        "throughput_mode",
        "access_points[0].path",
        "access_points[0].permissions",
        "a different path each",
    ):
        assert expected in text, text


def test_fails_with_two_mount_target_subnets_in_one_az() -> None:
    stack, fabric = _fabric()
    services = fabric.vpc.select_subnets(
        subnet_group_name="Services", availability_zones=["us-east-2b"]
    ).subnets
    with pytest.raises(HpcValidationError, match="at most one subnet per Availability Zone"):
        SharedHome(stack, "Home", vpc=fabric.vpc, vpc_subnets=[fabric.compute_subnet, *services])


def test_shared_home_is_accepted_wherever_efs_is() -> None:
    stack, fabric = _fabric()
    home = SharedHome(stack, "Home", vpc=fabric.vpc, vpc_subnets=fabric.compute_subnets)
    cluster = PcsCluster(
        stack,
        "Pcs",
        vpc=fabric.vpc,
        vpc_subnets=fabric.compute_subnet,
        machine_image=ec2.MachineImage.latest_amazon_linux2023(),
    )
    item = cluster.add_file_system(home)
    assert (item.mount_point, item.name, item.kind) == ("/home", "home", "efs")
    assert cluster.add_file_system(home, mount_point="/users").mount_point == "/users"
