"""ParallelCluster: configuration built from typed props, checked by ParallelCluster's schema."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Match

from hpc_constructs import (
    CustomAction,
    CustomActions,
    DirectoryService,
    FleetCapacity,
    HpcImage,
    HpcValidationError,
    LoginNodePool,
    LustreScratch,
    NetworkFabric,
    ParallelCluster,
    ParallelClusterMonitoring,
    SharedFileSystem,
    SharedHome,
    SlurmAccountingDatabase,
    SlurmComputeResource,
    SlurmQueue,
)
from hpc_constructs.slurm._pc_render import monitoring_config, placeholders
from tests import pcluster_venv
from tests.harness import (
    ROOT,
    TEST_ENV,
    Synthesized,
    assert_cfn_lint_clean,
    assert_nag_clean,
    make_app,
    synthesize,
    warning_ids,
)

#: Pinned ParallelCluster release whose ClusterSchema checks the generated configuration.
SCHEMA_CHECK = ROOT / "tests" / "pcluster_schema_check.py"
RESERVATION = "cr-0123456789abcdef0"
AD_SECRET = "arn:aws:secretsmanager:us-east-2:123456789012:secret:ad-read-only-AbCdEf"
DIRECTORY = DirectoryService(
    domain_name="corp.example.com",
    domain_addresses=["ldaps://corp.example.com"],
    read_only_user="cn=ReadOnly,ou=Users,ou=CORP,dc=corp,dc=example,dc=com",
    password_secret_arn=AD_SECRET,
    ldap_tls_ca_cert="/etc/pki/corp-ca.pem",
    ldap_access_filter="memberOf=cn=hpc-users,ou=Groups,dc=corp,dc=example,dc=com",
    additional_sssd_configs={"debug_level": "0x1ff"},
)


def _cpu(**kw: Any) -> SlurmComputeResource:
    return SlurmComputeResource(name="hpc7a", instance_types=["hpc7a.96xlarge"], max_nodes=4, **kw)


def _stack_and_fabric() -> tuple[cdk.Stack, NetworkFabric]:
    stack = cdk.Stack(make_app(), "S", env=TEST_ENV)
    return stack, NetworkFabric(stack, "Fabric", compute_availability_zone="us-east-2b")


def _cluster(
    stack: cdk.Stack, fabric: NetworkFabric, queues: list[SlurmQueue], **kw: Any
) -> ParallelCluster:
    return ParallelCluster(
        stack,
        "Cluster",
        vpc=fabric.vpc,
        head_node_vpc_subnets=fabric.compute_subnet,
        vpc_subnets=fabric.compute_subnets,
        queues=queues,
        **kw,
    )


def _sample(app: cdk.App) -> None:
    """The sample stack's cluster: defaults everywhere (a new compute role and group)."""
    stack = cdk.Stack(app, "Slurm", env=TEST_ENV)
    fabric = NetworkFabric(stack, "Fabric", compute_availability_zone="us-east-2b")
    scratch = LustreScratch(stack, "Scratch", vpc=fabric.vpc, vpc_subnets=fabric.compute_subnets)
    cdk.Validations.of(scratch).acknowledge(
        cdk.Acknowledgment(id="hpc-constructs:scratchWithoutExport", reason="test scratch")
    )
    ParallelCluster(
        stack,
        "ParallelCluster",
        vpc=fabric.vpc,
        head_node_vpc_subnets=fabric.compute_subnet,
        vpc_subnets=fabric.compute_subnets,
        file_systems=[scratch],
        queues=[
            SlurmQueue(name="cpu", compute_resources=[_cpu()]),
            SlurmQueue(
                name="gpu",
                compute_resources=[
                    SlurmComputeResource(name="p5", instance_types=["p5.48xlarge"], max_nodes=2)
                ],
            ),
        ],
    )


def _scenario(app: cdk.App) -> None:
    """Every new prop set, composed the way a user would: a role and a security group passed
    in, a placement group passed, Lustre and EFS, user data, grants and connections."""
    stack = cdk.Stack(app, "Scenario", env=TEST_ENV)
    fabric = NetworkFabric(stack, "Fabric", compute_availability_zone="us-east-2b")
    scratch = LustreScratch(stack, "Scratch", vpc=fabric.vpc, vpc_subnets=fabric.compute_subnets)
    cdk.Validations.of(scratch).acknowledge(
        cdk.Acknowledgment(id="hpc-constructs:scratchWithoutExport", reason="test scratch")
    )
    home = SharedHome(stack, "Home", vpc=fabric.vpc, vpc_subnets=fabric.compute_subnets)
    database = SlurmAccountingDatabase(stack, "Accounting", vpc=fabric.vpc)
    group = ec2.PlacementGroup(stack, "Group", strategy=ec2.PlacementGroupStrategy.CLUSTER)
    role = iam.Role(
        stack,
        "NodeRole",
        assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
        path="/parallelcluster/",
    )
    nodes = ec2.SecurityGroup(stack, "Nodes", vpc=fabric.vpc, allow_all_outbound=False)
    cluster = _cluster(
        stack,
        fabric,
        _scenario_queues(group),
        file_systems=[scratch],
        key_pair=ec2.KeyPair.from_key_pair_name(stack, "Key", "hpc-admin"),
        cluster_name="scenario-cluster",
        role=role,
        security_group=nodes,
        user_data=["echo configured"],
        head_node_custom_actions=CustomActions(
            on_node_configured=[CustomAction(script="s3://hpc-scripts/head/configured.sh")],
            on_node_updated=[
                CustomAction(script="https://example.com/updated.sh", args=["--quiet"])
            ],
        ),
        custom_slurm_settings=[
            {"PriorityWeightFairshare": 10000},
            {"NodeName": "burst[1-2]", "CPUs": 4, "State": "CLOUD"},
        ],
        login_nodes=[
            LoginNodePool(
                name="login",
                instance_type="c7i.2xlarge",
                count=2,
                gracetime_period_minutes=10,
                custom_actions=CustomActions(
                    on_node_start=[CustomAction(script="s3://hpc-scripts/login/start.sh")]
                ),
            )
        ],
        directory_service=DIRECTORY,
        accounting_database=database,
        monitoring=ParallelClusterMonitoring(
            log_retention_days=30, detailed_monitoring=True, log_deletion_policy="Delete"
        ),
    )
    cluster.add_file_system(home)
    cluster.add_user_data("echo second")
    for ack in ("efaDisabled", "reservationWithoutPlacementGroup"):
        cdk.Validations.of(cluster).acknowledge(
            cdk.Acknowledgment(id=f"hpc-constructs:{ack}", reason="test scenario")
        )
    table = ec2.SecurityGroup(stack, "Db", vpc=fabric.vpc, allow_all_outbound=False)
    table.connections.allow_from(cluster, ec2.Port.tcp(5432), "Postgres from compute nodes")
    queue = sqs.Queue(stack, "Events", enforce_ssl=True)
    queue.grant_send_messages(cluster)
    cdk.Validations.of(queue).acknowledge(
        cdk.Acknowledgment(id="AwsSolutions-SQS3", reason="test queue without a DLQ")
    )


def _scenario_queues(group: ec2.IPlacementGroup) -> list[SlurmQueue]:
    """The scenario's queues: a placed CPU queue, a Capacity Block, a Capacity Reservation
    without its group, and Spot with EFA on and off."""
    return [
        SlurmQueue(
            name="cpu",
            compute_resources=[
                _cpu(
                    min_nodes=1,
                    placement_group=group,
                    custom_slurm_settings={"Features": "hpc7a"},
                )
            ],
            custom_actions=CustomActions(
                on_node_start=[CustomAction(script="s3://hpc-scripts/cpu/start.sh", args=["x"])]
            ),
            custom_slurm_settings={"MaxTime": "2-00:00:00"},
        ),
        SlurmQueue(
            name="gpu-block",
            compute_resources=[
                SlurmComputeResource(
                    name="p5",
                    instance_types=["p5.48xlarge"],
                    min_nodes=2,
                    max_nodes=2,
                    capacity=FleetCapacity.capacity_block(RESERVATION),
                )
            ],
        ),
        SlurmQueue(
            name="odcr",
            compute_resources=[
                SlurmComputeResource(
                    name="p5",
                    instance_types=["p5.48xlarge"],
                    max_nodes=4,
                    capacity=FleetCapacity.capacity_reservation(reservation_id=RESERVATION),
                )
            ],
        ),
        SlurmQueue(
            name="spot",
            compute_resources=[
                SlurmComputeResource(
                    name="c5n",
                    instance_types=["c5n.18xlarge"],
                    max_nodes=8,
                    capacity=FleetCapacity.spot(max_price="3.5"),
                ),
                SlurmComputeResource(
                    name="c5n-tcp",
                    instance_types=["c5n.18xlarge"],
                    max_nodes=2,
                    efa=False,
                    capacity=FleetCapacity.spot(),
                ),
            ],
        ),
    ]


@pytest.fixture(scope="module")
def synth() -> Synthesized:
    app = make_app()
    _sample(app)
    _scenario(app)
    _golden(app)
    return synthesize(app)


#: A ParallelCluster AMI id of the right shape (the base a ParallelCluster HpcImage starts from).
PC_BASE_AMI = "ami-0123456789abcdef0"


def _golden(app: cdk.App) -> None:
    """A cluster whose nodes run HpcImages built on a ParallelCluster AMI: one for the cluster,
    one for its GPU queue."""
    stack = cdk.Stack(app, "Golden", env=TEST_ENV)
    fabric = NetworkFabric(stack, "Fabric", compute_availability_zone="us-east-2b")
    base = ec2.MachineImage.generic_linux({"us-east-2": PC_BASE_AMI})
    cpu = HpcImage(stack, "CpuImage", instance_types=["hpc7a.96xlarge"], vpc=fabric.vpc, base=base)
    gpu = HpcImage(stack, "GpuImage", instance_types=["p5.48xlarge"], vpc=fabric.vpc, base=base)
    ParallelCluster(
        stack,
        "Cluster",
        vpc=fabric.vpc,
        head_node_vpc_subnets=fabric.compute_subnet,
        vpc_subnets=fabric.compute_subnet,
        custom_ami=cpu.machine_image,
        queues=[
            SlurmQueue(name="cpu", compute_resources=[_cpu()]),
            SlurmQueue(
                name="gpu",
                custom_ami=gpu.machine_image,
                compute_resources=[
                    SlurmComputeResource(name="p5", instance_types=["p5.48xlarge"], max_nodes=2)
                ],
            ),
        ],
    )


def test_custom_amis_are_the_images_hpcimage_built(synth: Synthesized) -> None:
    template = synth.template_dict("Golden")
    config = _config(synth, "Golden")
    images = {
        k for k, r in template["Resources"].items() if r["Type"] == "AWS::ImageBuilder::Image"
    }
    cluster_ami = json.dumps(config["Image"]["CustomAmi"])
    gpu_ami = json.dumps(config["Scheduling"]["SlurmQueues"][1]["Image"]["CustomAmi"])
    assert any(k in cluster_ami and k.startswith("CpuImage") for k in images), cluster_ami
    assert any(k in gpu_ami and k.startswith("GpuImage") for k in images), gpu_ami
    assert "Image" not in config["Scheduling"]["SlurmQueues"][0]  # the cluster's AMI
    recipe = next(
        r for r in template["Resources"].values() if r["Type"] == "AWS::ImageBuilder::ImageRecipe"
    )
    assert recipe["Properties"]["ParentImage"] == PC_BASE_AMI


def test_fails_with_an_hpcimage_not_built_on_a_parallelcluster_ami() -> None:
    stack, fabric = _stack_and_fabric()
    image = HpcImage(stack, "Image", instance_types=["hpc7a.96xlarge"], vpc=fabric.vpc)
    queues = [SlurmQueue(name="cpu", compute_resources=[_cpu()])]
    with pytest.raises(HpcValidationError, match="base is a ParallelCluster AMI"):
        _cluster(stack, fabric, queues, custom_ami=image.machine_image)


def _custom_resource(template: dict[str, Any]) -> dict[str, Any]:
    found = [r for r in template["Resources"].values() if r["Type"] == "Custom::PclusterCluster"]
    assert len(found) == 1
    return found[0]


def _config(synth: Synthesized, stack: str) -> dict[str, Any]:
    return _custom_resource(synth.template_dict(stack))["Properties"]["ClusterConfiguration"]  # type: ignore[no-any-return]


def _queue(config: dict[str, Any], name: str) -> dict[str, Any]:
    return next(q for q in config["Scheduling"]["SlurmQueues"] if q["Name"] == name)


_FAKE_IDS = {
    "AWS::IAM::Role": "arn:aws:iam::123456789012:role/parallelcluster/nodes",
    "AWS::EC2::PlacementGroup": "hpc-placement-group",
    "AWS::EC2::Subnet": "subnet-0123456789abcdef0",
    "AWS::EC2::SecurityGroup": "sg-0123456789abcdef0",
    "AWS::FSx::FileSystem": "fs-0123456789abcdef0",
    "AWS::EFS::FileSystem": "fs-0fedcba9876543210",
    "AWS::EC2::VPC": "10.0.0.0/16",
    "AWS::RDS::DBCluster": "accounting.cluster-abc.us-east-2.rds.amazonaws.com",
    "AWS::SecretsManager::Secret": "arn:aws:secretsmanager:us-east-2:123456789012:secret:db-AbCdEf",
    "AWS::IAM::ManagedPolicy": "arn:aws:iam::123456789012:policy/custom-action-scripts",
    "AWS::ImageBuilder::Image": "ami-0fedcba9876543210",
}


def _with_fake_ids(config: Any, template: dict[str, Any]) -> Any:
    """Replace deploy-time ``${Logical[.Attr]}`` placeholders with ids of the right shape."""
    text = json.dumps(config)

    def fake(match: re.Match[str]) -> str:
        logical, _, attribute = match.group(1).partition(".")
        if attribute == "Endpoint.Port":
            return "3306"
        return _FAKE_IDS[template["Resources"][logical]["Type"]]

    return json.loads(re.sub(r"\$\{([^}]+)\}", fake, text))


@pytest.fixture(scope="session")
def pcluster_python() -> Path:
    """the ParallelCluster schema venv (``pcluster-venv/`` in the user cache) with aws-parallelcluster (tests/pcluster_venv.py; `make test` builds
    it next to the lint, so this usually finds it ready)."""
    try:
        return pcluster_venv.ensure()
    except RuntimeError as err:
        pytest.fail(str(err))


def test_configurations_pass_parallelcluster_schema(
    synth: Synthesized, pcluster_python: Path, tmp_path: Path
) -> None:
    paths = []
    for stack, node in (
        ("Slurm", "Slurm/ParallelCluster"),
        ("Scenario", "Scenario/Cluster"),
        ("Golden", "Golden/Cluster"),
    ):
        cluster = synth.app.node.find_child(stack).node.find_child(node.split("/")[1])
        assert isinstance(cluster, ParallelCluster)
        config = _with_fake_ids(cluster.resolved_configuration(), synth.template_dict(stack))
        path = tmp_path / f"{stack}.json"
        path.write_text(json.dumps(config))
        paths.append(str(path))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    result = subprocess.run(
        [str(pcluster_python), str(SCHEMA_CHECK), *paths],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_provider_stack_and_custom_resource_follow_parallelcluster_docs(
    synth: Synthesized,
) -> None:
    template = synth.template_dict("Slurm")
    providers = [
        r for r in template["Resources"].values() if r["Type"] == "AWS::CloudFormation::Stack"
    ]
    assert len(providers) == 1
    url = json.dumps(providers[0]["Properties"]["TemplateURL"])
    assert "us-east-2-aws-parallelcluster.s3.us-east-2." in url
    assert "/parallelcluster/3.16.1/templates/custom_resource/cluster.yaml" in url
    resource = _custom_resource(template)
    assert resource["DeletionPolicy"] == "Delete"
    token = resource["Properties"]["ServiceToken"]
    assert token["Fn::GetAtt"][1] == "Outputs.ServiceToken"
    assert resource["Properties"]["ClusterName"].startswith("Slurm")


def test_queue_updates_drain_because_the_custom_resource_does_not_stop_the_fleet(
    synth: Synthesized,
) -> None:
    assert _config(synth, "Slurm")["Scheduling"]["SlurmSettings"] == {
        "QueueUpdateStrategy": "DRAIN"
    }
    assert _config(synth, "Scenario")["Scheduling"]["SlurmSettings"]["QueueUpdateStrategy"] == (
        "DRAIN"
    )


def test_efa_queues_get_efa_and_a_placement_group(synth: Synthesized) -> None:
    config = _config(synth, "Slurm")
    for name, itype in (("cpu", "hpc7a.96xlarge"), ("gpu", "p5.48xlarge")):
        queue = _queue(config, name)
        (resource,) = queue["ComputeResources"]
        assert resource["InstanceType"] == itype
        assert resource["Efa"] == {"Enabled": True}
        assert resource["Networking"] == {"PlacementGroup": {"Enabled": True}}
        assert queue["JobExclusiveAllocation"] is True
        assert len(queue["Networking"]["SubnetIds"]) == 1


def test_capacity_maps_to_parallelcluster_capacity_types(synth: Synthesized) -> None:
    config = _config(synth, "Scenario")
    spot = _queue(config, "spot")
    assert spot["CapacityType"] == "SPOT"
    assert spot["AllocationStrategy"] == "price-capacity-optimized"
    assert spot["ComputeResources"][0]["SpotPrice"] == 3.5
    tcp = spot["ComputeResources"][1]
    assert tcp["Efa"] == {"Enabled": False}
    assert "Networking" not in tcp  # no placement group without EFA
    block = _queue(config, "gpu-block")
    assert block["CapacityType"] == "CAPACITY_BLOCK"
    (p5,) = block["ComputeResources"]
    assert p5["CapacityReservationTarget"] == {"CapacityReservationId": RESERVATION}
    assert (p5["MinCount"], p5["MaxCount"]) == (2, 2)
    assert "Networking" not in p5  # AWS places a Capacity Block itself
    odcr = _queue(config, "odcr")
    assert odcr["CapacityType"] == "ONDEMAND"
    assert odcr["ComputeResources"][0]["CapacityReservationTarget"] == {
        "CapacityReservationId": RESERVATION
    }
    # No new placement group for a reservation (warning reservationWithoutPlacementGroup).
    assert odcr["ComputeResources"][0]["Networking"] == {"PlacementGroup": {"Enabled": False}}
    assert _queue(config, "cpu")["ComputeResources"][0]["MinCount"] == 1


def test_shared_storage_is_mounted_and_opened_to_the_cluster(synth: Synthesized) -> None:
    config = _config(synth, "Scenario")
    lustre, home = config["SharedStorage"]
    assert lustre["StorageType"] == "FsxLustre"
    assert lustre["MountDir"] == "/fsx"
    assert "Ref" in lustre["FsxLustreSettings"]["FileSystemId"]
    assert (home["Name"], home["MountDir"], home["StorageType"]) == ("home", "/home", "Efs")
    assert "Ref" in home["EfsSettings"]["FileSystemId"]
    # The storage clients' group, then the head node's own (the accounting database).
    storage_group, _ = config["HeadNode"]["Networking"]["AdditionalSecurityGroups"]
    for queue in config["Scheduling"]["SlurmQueues"]:
        assert queue["Networking"]["AdditionalSecurityGroups"][0] == storage_group
    assert config["HeadNode"]["Ssh"] == {"KeyName": "hpc-admin"}
    template = synth.template("Scenario")
    for from_port, to_port in ((988, 988), (1018, 1023), (2049, 2049)):
        template.has_resource_properties(
            "AWS::EC2::SecurityGroupIngress",
            {
                "FromPort": from_port,
                "ToPort": to_port,
                "SourceSecurityGroupId": {
                    "Fn::GetAtt": [Match.string_like_regexp("^ClusterSecurityGroup"), "GroupId"]
                },
            },
        )
    resources = synth.template_dict("Scenario")["Resources"]
    targets = {k for k, r in resources.items() if r["Type"] == "AWS::EFS::MountTarget"}
    (cluster,) = [r for r in resources.values() if r["Type"] == "Custom::PclusterCluster"]
    assert targets <= set(cluster["DependsOn"])


def test_compute_nodes_take_the_role_and_security_group_passed(synth: Synthesized) -> None:
    config = _config(synth, "Scenario")
    for queue in config["Scheduling"]["SlurmQueues"]:
        (role_id, attribute) = queue["Iam"]["InstanceRole"]["Fn::GetAtt"]
        assert role_id.startswith("NodeRole")
        assert attribute == "Arn"
        (_storage, nodes) = queue["Networking"]["AdditionalSecurityGroups"]
        assert nodes["Fn::GetAtt"][0].startswith("Nodes")
    template = synth.template("Scenario")
    # connections: the Db group accepts the compute nodes' group; grants: the role sends.
    template.has_resource_properties(
        "AWS::EC2::SecurityGroupIngress",
        {
            "FromPort": 5432,
            "SourceSecurityGroupId": {
                "Fn::GetAtt": [Match.string_like_regexp("^Nodes"), "GroupId"]
            },
        },
    )
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Action": Match.array_with(["sqs:SendMessage"])})]
                )
            },
            "Roles": [{"Ref": Match.string_like_regexp("^NodeRole")}],
        },
    )


def test_a_passed_placement_group_is_rendered_by_name(synth: Synthesized) -> None:
    (cpu,) = _queue(_config(synth, "Scenario"), "cpu")["ComputeResources"]
    assert cpu["Networking"]["PlacementGroup"]["Enabled"] is True
    assert cpu["Networking"]["PlacementGroup"]["Name"]["Fn::GetAtt"][1] == "GroupName"
    groups = [
        k
        for k, r in synth.template_dict("Scenario")["Resources"].items()
        if r["Type"] == "AWS::EC2::PlacementGroup"
    ]
    assert [g[: len("Group")] for g in groups] == ["Group"]


def test_user_data_becomes_on_node_configured_scripts_the_role_can_read(
    synth: Synthesized,
) -> None:
    cluster = synth.app.node.find_child("Scenario").node.find_child("Cluster")
    assert isinstance(cluster, ParallelCluster)
    for queue in cluster.resolved_configuration()["Scheduling"]["SlurmQueues"]:
        scripts = [s["Script"] for s in queue["CustomActions"]["OnNodeConfigured"]["Sequence"]]
        assert len(scripts) == 2
        for script in scripts:
            assert re.match(r"^s3://cdk-\w+-assets-123456789012-us-east-2/\w+\.sh$", script)
    template = synth.template_dict("Scenario")
    (policy,) = [
        r["Properties"]
        for k, r in template["Resources"].items()
        if k.startswith("ClusterScriptReadPolicy")
    ]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Action"] == "s3:GetObject"
    assert len(statement["Resource"]) == 2 + 1  # two user_data scripts, one queue action
    assert all(".sh" in json.dumps(r) for r in statement["Resource"])  # no wildcard
    assert policy["Roles"][0]["Ref"].startswith("NodeRole")


def test_the_default_compute_role_carries_parallelclusters_compute_policy(
    synth: Synthesized,
) -> None:
    resources = synth.template_dict("Slurm")["Resources"]
    (role_id,) = [k for k in resources if k.startswith("ParallelClusterComputeRole")]
    assert resources[role_id]["Properties"]["Path"] == "/parallelcluster/"
    config = _config(synth, "Slurm")
    for queue in config["Scheduling"]["SlurmQueues"]:
        assert queue["Iam"] == {"InstanceRole": {"Fn::GetAtt": [role_id, "Arn"]}}
    policy = next(
        r["Properties"]
        for k, r in resources.items()
        if k.startswith("ParallelClusterComputePolicy")
    )
    actions = [s["Action"] for s in policy["PolicyDocument"]["Statement"]]
    assert actions == [
        "ec2:DescribeInstanceAttribute",
        "s3:GetObject",
        "cloudformation:DescribeStackResource",
        ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
        "dynamodb:Query",
    ]


def test_configuration_and_yaml_are_the_same_configuration(synth: Synthesized) -> None:
    import yaml

    for stack, node in (("Slurm", "ParallelCluster"), ("Scenario", "Cluster")):
        cluster = synth.app.node.find_child(stack).node.find_child(node)
        assert isinstance(cluster, ParallelCluster)
        resolved = cluster.resolved_configuration()
        assert yaml.safe_load(cluster.to_yaml()) == resolved
        assert placeholders(_config(synth, stack)) == resolved


def test_head_node_defaults_to_the_compute_architecture_with_ssm(synth: Synthesized) -> None:
    head = _config(synth, "Slurm")["HeadNode"]
    assert head["InstanceType"] == "c7i.2xlarge"
    assert head["Iam"]["AdditionalIamPolicies"][0]["Policy"].endswith(
        "AmazonSSMManagedInstanceCore"
    )
    assert head["Imds"] == {"Secured": True}


def test_to_yaml_names_the_deploy_time_placeholders(synth: Synthesized) -> None:
    cluster = synth.app.node.find_child("Slurm").node.find_child("ParallelCluster")
    assert isinstance(cluster, ParallelCluster)
    text = cluster.to_yaml()
    assert text.startswith("# AWS ParallelCluster 3.16.1 configuration")
    assert re.search(r"^#   \$\{ScratchFileSystem\w+\}$", text, re.M)
    assert '    FsxLustreSettings:\n      FileSystemId: "${ScratchFileSystem' in text
    assert '  Scheduler: "slurm"' in text


def test_platform_props_render_into_the_configuration(synth: Synthesized) -> None:
    config = _config(synth, "Scenario")
    settings = config["Scheduling"]["SlurmSettings"]
    assert settings["CustomSlurmSettings"][0] == {"PriorityWeightFairshare": 10000}
    database = placeholders(settings["Database"])
    assert database["UserName"] == "slurm"
    assert re.fullmatch(
        r"\$\{AccountingCluster\w+\.Endpoint\.Address\}:\$\{AccountingCluster\w+\.Endpoint\.Port\}",
        database["Uri"],
    )
    assert database["PasswordSecretArn"].startswith("${AccountingPassword")
    cpu = _queue(config, "cpu")
    assert cpu["CustomSlurmSettings"] == {"MaxTime": "2-00:00:00"}
    assert cpu["ComputeResources"][0]["CustomSlurmSettings"] == {"Features": "hpc7a"}
    assert cpu["CustomActions"]["OnNodeStart"] == {
        "Script": "s3://hpc-scripts/cpu/start.sh",
        "Args": ["x"],
    }
    # The queue's user_data scripts stay OnNodeConfigured, in order.
    assert len(cpu["CustomActions"]["OnNodeConfigured"]["Sequence"]) == 2
    head = config["HeadNode"]
    assert head["CustomActions"]["OnNodeUpdated"]["Args"] == ["--quiet"]
    assert len(head["Iam"]["AdditionalIamPolicies"]) == 2
    assert len(head["Networking"]["AdditionalSecurityGroups"]) == 2
    (pool,) = config["LoginNodes"]["Pools"]
    assert (pool["Count"], pool["GracetimePeriod"]) == (2, 10)
    assert "CidrBlock" in json.dumps(pool["Ssh"]["AllowedIps"])
    directory = config["DirectoryService"]
    assert directory["PasswordSecretArn"] == AD_SECRET
    assert directory["LdapTlsReqCert"] == "hard"
    assert directory["DomainAddr"] == "ldaps://corp.example.com"
    home = next(s for s in config["SharedStorage"] if s["Name"] == "home")
    assert (home["MountDir"], home["StorageType"]) == ("/home", "Efs")


def test_the_database_admits_the_head_node_only_and_scripts_are_readable(
    synth: Synthesized,
) -> None:
    template = synth.template_dict("Scenario")
    ingress = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::EC2::SecurityGroupIngress"
        and "AccountingCluster" in json.dumps(r["Properties"]["GroupId"])
    ]
    assert len(ingress) == 1
    assert "HeadNodeSecurityGroup" in json.dumps(ingress[0]["SourceSecurityGroupId"])
    text = json.dumps(template)
    for key in ("hpc-scripts/head/configured.sh", "hpc-scripts/login/start.sh",
                "hpc-scripts/cpu/start.sh"):  # fmt: skip
        assert key in text


def test_cfn_lint_clean(synth: Synthesized) -> None:
    assert_cfn_lint_clean(synth.template_dict("Slurm"))
    assert_cfn_lint_clean(synth.template_dict("Scenario"))


def test_nag_clean(synth: Synthesized) -> None:
    assert_nag_clean(synth)


# --- construction-only checks ---------------------------------------------------------------


def _fails(queues: list[SlurmQueue], *expected: str, **kw: Any) -> HpcValidationError:
    stack, fabric = _stack_and_fabric()
    with pytest.raises(HpcValidationError) as err:
        _cluster(stack, fabric, queues, **kw)
    for text in expected:
        assert text in str(err.value), str(err.value)
    return err.value


def test_fails_when_efa_is_requested_on_a_type_without_efa() -> None:
    _fails(
        [
            SlurmQueue(
                name="q",
                compute_resources=[
                    SlurmComputeResource(
                        name="c", instance_types=["c7i.2xlarge"], max_nodes=2, efa=True
                    )
                ],
            )
        ],
        "S/Cluster: queues[q].compute_resources[c].efa=True",
        "c7i.2xlarge do(es) not support EFA",
    )


def test_fails_when_an_efa_queue_spans_subnets_in_different_azs() -> None:
    stack = cdk.Stack(make_app(), "S", env=TEST_ENV)
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        max_azs=2,
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="p", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        ],
    )
    queue = SlurmQueue(
        name="q",
        compute_resources=[
            SlurmComputeResource(name="c", instance_types=["c5n.18xlarge"], max_nodes=2)
        ],
    )
    with pytest.raises(HpcValidationError) as err:
        ParallelCluster(
            stack,
            "Cluster",
            vpc=vpc,
            head_node_vpc_subnets=vpc.isolated_subnets[0],
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            queues=[queue],
        )
    assert "queues[q].vpc_subnets" in str(err.value)
    assert "exactly one subnet (one Availability Zone)" in str(err.value)
    assert "the selection spans us-east-2a, us-east-2b" in str(err.value)


def test_fails_when_architectures_are_mixed() -> None:
    _fails(
        [
            SlurmQueue(name="x86", compute_resources=[_cpu()]),
            SlurmQueue(
                name="arm",
                compute_resources=[
                    SlurmComputeResource(name="g", instance_types=["c6gn.16xlarge"], max_nodes=2)
                ],
            ),
        ],
        "queues[].compute_resources[].instance_types",
        "types of one architecture",
    )


def test_fails_when_the_head_node_architecture_differs() -> None:
    _fails(
        [SlurmQueue(name="q", compute_resources=[_cpu()])],
        "head_node_instance_type='c7g.2xlarge (arm64)'",
        head_node_instance_type="c7g.2xlarge",
    )


def test_fails_when_spot_is_not_offered_for_the_type() -> None:
    _fails(
        [SlurmQueue(name="q", compute_resources=[_cpu(capacity=FleetCapacity.spot())])],
        "queues[q].compute_resources[hpc7a].capacity='spot (hpc7a.96xlarge)'",
        "a purchase option the type offers: on-demand",
    )


def test_fails_when_the_type_is_not_offered_in_the_subnet_az() -> None:
    stack = cdk.Stack(make_app(), "S", env=TEST_ENV)
    fabric = NetworkFabric(stack, "Fabric", compute_availability_zone="us-east-2a")
    with pytest.raises(HpcValidationError) as err:
        _cluster(stack, fabric, [SlurmQueue(name="q", compute_resources=[_cpu()])])
    assert "hpc7a.96xlarge in us-east-2a" in str(err.value)
    assert "us-east-2b" in str(err.value)


def test_fails_when_min_nodes_exceeds_max_nodes() -> None:
    _fails(
        [SlurmQueue(name="q", compute_resources=[_cpu(min_nodes=8)])],
        "queues[q].compute_resources[hpc7a].max_nodes=4",
        "at least min_nodes (8)",
    )


def test_fails_when_a_capacity_block_is_not_fixed_size() -> None:
    cr = SlurmComputeResource(
        name="p5",
        instance_types=["p5.48xlarge"],
        max_nodes=2,
        capacity=FleetCapacity.capacity_block(RESERVATION),
    )
    _fails([SlurmQueue(name="q", compute_resources=[cr])], "min_nodes/max_nodes=(0, 2)")


def test_fails_when_a_queue_mixes_capacity_types() -> None:
    spot = SlurmComputeResource(
        name="s", instance_types=["c5n.18xlarge"], max_nodes=2, capacity=FleetCapacity.spot()
    )
    od = SlurmComputeResource(name="o", instance_types=["c5n.18xlarge"], max_nodes=2)
    _fails(
        [SlurmQueue(name="q", compute_resources=[spot, od])],
        "one ParallelCluster capacity type per queue",
    )


def test_fails_with_bad_names_version_and_os_all_at_once() -> None:
    err = _fails(
        [SlurmQueue(name="Default_Q", compute_resources=[_cpu()])],
        "queues[Default_Q].name='Default_Q'",
        "version='3.5.0'",
        "os='centos7'",
        version="3.5.0",
        os="centos7",
    )
    assert len(err.problems) == 3


def test_fails_when_flexible_types_differ_in_shape() -> None:
    cr = SlurmComputeResource(
        name="mix", instance_types=["c5n.18xlarge", "c5n.9xlarge"], max_nodes=2, efa=False
    )
    _fails(
        [SlurmQueue(name="q", compute_resources=[cr])], "types with the same vCPU and GPU counts"
    )


def test_warns_when_efa_is_disabled_on_an_efa_type() -> None:
    stack, fabric = _stack_and_fabric()
    cluster = _cluster(stack, fabric, [SlurmQueue(name="q", compute_resources=[_cpu(efa=False)])])
    assert "hpc-constructs:efaDisabled" in warning_ids(cluster)


def _imported_lustre(stack: cdk.Stack, fabric: NetworkFabric, id: str) -> Any:
    group = ec2.SecurityGroup(stack, f"{id}Group", vpc=fabric.vpc)
    return LustreScratch.from_attributes(
        stack,
        id,
        file_system_id="fs-0123456789abcdef0",
        dns_name="fs-0123456789abcdef0.fsx.us-east-2.amazonaws.com",
        mount_name="abcdefgh",
        security_group=group,
    )


def test_fails_when_a_mount_point_is_reserved_or_nested() -> None:
    stack, fabric = _stack_and_fabric()
    items = [
        SharedFileSystem(_imported_lustre(stack, fabric, "A"), mount_point="/opt"),
        SharedFileSystem(_imported_lustre(stack, fabric, "B"), mount_point="/fsx"),
        SharedFileSystem(_imported_lustre(stack, fabric, "C"), mount_point="/fsx/data"),
    ]
    with pytest.raises(HpcValidationError) as err:
        _cluster(
            stack,
            fabric,
            [SlurmQueue(name="q", compute_resources=[_cpu()])],
            file_systems=items,
        )
    text = str(err.value)
    assert "S/Cluster: file_systems='/opt'" in text, text
    assert "not a system directory" in text
    assert "file_systems='/opt, /fsx, /fsx/data'" in text
    assert "/fsx contain(s) another file system's mount point" in text


def test_fails_with_a_bad_or_duplicate_storage_name() -> None:
    stack, fabric = _stack_and_fabric()
    items = [
        SharedFileSystem(_imported_lustre(stack, fabric, "A"), name="default"),
        SharedFileSystem(_imported_lustre(stack, fabric, "B"), mount_point="/b"),
        SharedFileSystem(_imported_lustre(stack, fabric, "C"), name="fsx2", mount_point="/c"),
        SharedFileSystem(_imported_lustre(stack, fabric, "D"), name="x" * 31, mount_point="/d"),
    ]
    with pytest.raises(HpcValidationError) as err:
        _cluster(
            stack,
            fabric,
            [SlurmQueue(name="q", compute_resources=[_cpu()])],
            file_systems=items,
        )
    text = str(err.value)
    assert "S/Cluster: file_systems[].name='default'" in text, text
    assert f"file_systems[].name='{'x' * 31}'" in text
    assert "1 to 30 letters, digits" in text
    assert "file_systems[].name=['default', 'fsx2', 'fsx2', " in text
    assert "a different name per file system" in text


def test_fails_when_a_passed_role_is_outside_the_parallelcluster_path() -> None:
    stack, fabric = _stack_and_fabric()
    role = iam.Role(stack, "Plain", assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"))
    with pytest.raises(HpcValidationError, match=r"role=.*under the path /parallelcluster/"):
        _cluster(stack, fabric, [SlurmQueue(name="q", compute_resources=[_cpu()])], role=role)


def test_fails_with_wrong_prop_types_at_the_boundary() -> None:
    _fails(
        [SlurmQueue(name="q", compute_resources=[_cpu()])],
        "S/Cluster: user_data='echo hi'",
        "ec2.UserData or a list of str",
        user_data="echo hi",
    )
    stack, fabric = _stack_and_fabric()
    with pytest.raises(HpcValidationError, match=r"head_node_vpc_subnets='subnet-1'"):
        ParallelCluster(
            stack,
            "Cluster",
            vpc=fabric.vpc,
            head_node_vpc_subnets="subnet-1",
            vpc_subnets=fabric.compute_subnets,
            queues=[SlurmQueue(name="q", compute_resources=[_cpu()])],
        )


def test_warns_when_a_capacity_reservation_has_no_placement_group() -> None:
    stack, fabric = _stack_and_fabric()
    odcr = SlurmComputeResource(
        name="c",
        instance_types=["c5n.18xlarge"],
        max_nodes=2,
        capacity=FleetCapacity.capacity_reservation(reservation_id=RESERVATION),
    )
    cluster = _cluster(stack, fabric, [SlurmQueue(name="q", compute_resources=[odcr])])
    assert "hpc-constructs:reservationWithoutPlacementGroup" in warning_ids(cluster)
    placement = cluster.cluster_configuration["Scheduling"]["SlurmQueues"][0]["ComputeResources"]
    assert placement[0]["Networking"] == {"PlacementGroup": {"Enabled": False}}


def test_queue_update_strategy_can_terminate() -> None:
    stack, fabric = _stack_and_fabric()
    cluster = _cluster(
        stack,
        fabric,
        [SlurmQueue(name="q", compute_resources=[_cpu()])],
        queue_update_strategy="TERMINATE",
    )
    settings = cluster.cluster_configuration["Scheduling"]["SlurmSettings"]
    assert settings == {"QueueUpdateStrategy": "TERMINATE"}


def test_fails_on_monitoring_values_parallelcluster_refuses() -> None:
    _fails(
        [SlurmQueue(name="cpu", compute_resources=[_cpu()])],
        "monitoring.log_retention_days=200",
        "ParallelCluster's CloudWatchLogs.RetentionInDays values",
        "monitoring.log_deletion_policy='Snapshot'",
        monitoring=ParallelClusterMonitoring(
            log_retention_days=200, log_deletion_policy="Snapshot"
        ),
    )


def test_monitoring_renders_parallelclusters_section_with_logs_kept_by_default() -> None:
    assert monitoring_config(ParallelClusterMonitoring()) == {
        "DetailedMonitoring": False,
        "Logs": {
            "CloudWatch": {"Enabled": True, "RetentionInDays": 180, "DeletionPolicy": "Retain"},
            "Rotation": {"Enabled": True},
        },
        "Dashboards": {"CloudWatch": {"Enabled": True}},
        "Alarms": {"Enabled": True},
    }


def test_fails_on_an_unknown_queue_update_strategy() -> None:
    stack, fabric = _stack_and_fabric()
    with pytest.raises(
        HpcValidationError, match=r"S/Cluster: queue_update_strategy='STOP'.*'DRAIN', 'TERMINATE'"
    ):
        _cluster(
            stack,
            fabric,
            [SlurmQueue(name="q", compute_resources=[_cpu()])],
            queue_update_strategy="STOP",
        )


def test_the_schema_venv_checks_the_version_the_construct_deploys() -> None:
    from hpc_constructs.slurm import DEFAULT_PARALLELCLUSTER_VERSION

    assert pcluster_venv.VERSION == DEFAULT_PARALLELCLUSTER_VERSION


# --- platform props: bad input --------------------------------------------------------------


def test_fails_when_a_login_pool_takes_a_queue_name() -> None:
    _fails(
        [SlurmQueue(name="cpu", compute_resources=[_cpu()])],
        "login_nodes[cpu].name",
        "a name no queue uses (cpu)",
        login_nodes=[LoginNodePool(name="cpu", instance_type="c7i.large")],
    )


def test_fails_on_a_plain_text_password_without_showing_it() -> None:
    err = _fails(
        [SlurmQueue(name="cpu", compute_resources=[_cpu()])],
        "directory_service.password_secret_arn",
        "never the password itself",
        directory_service=DirectoryService(
            domain_name="corp.example.com",
            domain_addresses=["ldaps://corp.example.com"],
            read_only_user="cn=ReadOnly,dc=corp,dc=example,dc=com",
            password_secret_arn="Hunter2!",
        ),
    )
    assert "Hunter2" not in str(err)


def test_fails_when_the_accounting_database_is_in_another_vpc() -> None:
    stack, fabric = _stack_and_fabric()
    other = ec2.Vpc(stack, "Other", max_azs=2)
    database = SlurmAccountingDatabase(stack, "Accounting", vpc=other)
    with pytest.raises(HpcValidationError) as err:
        _cluster(
            stack,
            fabric,
            [SlurmQueue(name="cpu", compute_resources=[_cpu()])],
            accounting_database=database,
        )
    for text in ("accounting_database", "S/Accounting (VPC S/Other)", "the cluster's VPC"):
        assert text in str(err.value), str(err.value)


def test_fails_on_custom_settings_parallelcluster_manages_at_every_level() -> None:
    stack, fabric = _stack_and_fabric()
    database = SlurmAccountingDatabase(stack, "Accounting", vpc=fabric.vpc)
    queue = SlurmQueue(
        name="cpu",
        compute_resources=[_cpu(custom_slurm_settings={"Weight": 5})],
        custom_slurm_settings={"PartitionName": "x"},
    )
    with pytest.raises(HpcValidationError) as err:
        _cluster(
            stack,
            fabric,
            [queue],
            custom_slurm_settings=[{"SuspendTime": 60}, {"AccountingStorageHost": "db"},
                                   {"NodeName": "c-st-1", "CPUs": 2}],
            accounting_database=database,
        )  # fmt: skip
    for text in (
        "custom_slurm_settings[0]",
        "['SuspendTime']",
        "['AccountingStorageHost']",
        "custom_slurm_settings[2].NodeName",
        "queues[cpu].custom_slurm_settings",
        "['PartitionName']",
        "queues[cpu].compute_resources[hpc7a].custom_slurm_settings",
        "['Weight']",
        "SLURM_SETTINGS_DENY_LIST",
    ):
        assert text in str(err.value), str(err.value)


def test_fails_on_bad_custom_actions() -> None:
    queue = SlurmQueue(
        name="cpu",
        compute_resources=[_cpu()],
        custom_actions=CustomActions(
            on_node_updated=[CustomAction(script="https://example.com/x.sh")],
            on_node_start=[CustomAction(script="ftp://example.com/x.sh")],
        ),
    )
    _fails(
        [queue],
        "queues[cpu].custom_actions.on_node_updated",
        "queues[cpu].custom_actions.on_node_start[0].script",
        "an s3://bucket/key or https:// URL",
    )


def test_custom_action_from_commands_is_an_asset_script_the_nodes_may_read() -> None:
    stack = cdk.Stack(make_app(), "S", env=TEST_ENV)
    action = CustomAction.from_commands(stack, "Motd", ["echo hi > /etc/motd"], args=["-v"])
    asset = stack.node.find_child("Motd")
    assert isinstance(asset, s3_assets.Asset)
    assert action.args == ("-v",)
    assert action.s3_object == (asset.s3_bucket_name, asset.s3_object_key)
    assert action.script == asset.s3_object_url
    outdir = cdk.Stage.of(stack).outdir  # type: ignore[union-attr]
    script = Path(outdir) / asset.asset_path  # staged into the cloud assembly
    assert script.read_text() == "#!/bin/bash\nset -eo pipefail\necho hi > /etc/motd\n"


def test_warns_on_a_directory_without_certificate_checks() -> None:
    stack, fabric = _stack_and_fabric()
    cluster = _cluster(
        stack,
        fabric,
        [SlurmQueue(name="cpu", compute_resources=[_cpu()])],
        directory_service=DirectoryService(
            domain_name="DC=corp,DC=example,DC=com",
            domain_addresses=["ldap://10.0.0.10"],
            read_only_user="cn=ReadOnly,dc=corp,dc=example,dc=com",
            password_secret_arn=AD_SECRET,
            ldap_tls_req_cert="never",
        ),
    )
    assert "hpc-constructs:directoryServiceInsecure" in warning_ids(cluster)
