"""BatchGrid: Spot array-job queues, synthesized once, plus construction-only error tests."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_ssm as ssm

from hpc_constructs import (
    BatchGrid,
    GridShare,
    HpcValidationError,
    InstanceRequirements,
    LustreScratch,
    warning_ids,
)
from hpc_constructs.catalog import InstanceCatalog, offered_in
from hpc_constructs.grid import ARRAY_SIZE_VARIABLE, family_of
from tests.harness import (
    TEST_ENV,
    Synthesized,
    assert_cfn_lint_clean,
    assert_nag_clean,
    make_app,
    synthesize,
)
from tests.harness import warning_ids as ids_of

IMAGE = "public.ecr.aws/amazonlinux/amazonlinux:2023"


def network(stack: cdk.Stack) -> ec2.Vpc:
    return ec2.Vpc(
        stack,
        "Vpc",
        max_azs=3,
        nat_gateways=1,
        flow_logs={"All": ec2.FlowLogOptions()},
        # The default-SG custom resource trips cfn-lint W3005 inside aws-cdk-lib's own code.
        restrict_default_security_group=False,
    )


def data_bucket(stack: cdk.Stack) -> s3.Bucket:
    logs_bucket = s3.Bucket(
        stack,
        "AccessLogs",
        enforce_ssl=True,
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
    )
    cdk.Validations.of(logs_bucket).acknowledge(
        cdk.Acknowledgment(id="AwsSolutions-S1", reason="The access-log bucket of the test")
    )
    return s3.Bucket(
        stack,
        "Data",
        enforce_ssl=True,
        encryption=s3.BucketEncryption.KMS,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        server_access_logs_bucket=logs_bucket,
    )


class Scenario:
    """A CPU grid (Lustre, fair share, Fargate Spot, failure topic, S3 grants) and a GPU grid
    (instance store, EFS added later, explicit single-family pool acknowledged)."""

    def __init__(self) -> None:
        app = make_app()
        self.stack = cdk.Stack(app, "Grid", env=TEST_ENV)
        vpc = network(self.stack)
        self.scratch = LustreScratch(
            self.stack,
            "Scratch",
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnets=[vpc.private_subnets[0]]),
            storage_capacity_gib=1200,
        )
        cdk.Validations.of(self.scratch).acknowledge(
            cdk.Acknowledgment(
                id=warning_ids.SCRATCH_WITHOUT_EXPORT, reason="Test scratch: nothing to keep"
            )
        )
        key = kms.Key(self.stack, "TopicKey", enable_key_rotation=True)
        self.topic = sns.Topic(self.stack, "Failures", master_key=key, enforce_ssl=True)
        self.bucket = data_bucket(self.stack)
        self.cpu = BatchGrid(
            self.stack,
            "Risk",
            vpc=vpc,
            max_vcpus=2048,
            instance_requirements=InstanceRequirements(max_vcpus=32, max_memory_per_vcpu_gib=4),
            fargate_max_vcpus=64,
            shares=[GridShare("rates"), GridShare("credit", 0.5), GridShare("desk*", 2)],
            share_decay=cdk.Duration.hours(1),
            compute_reservation=10,
            file_systems=[self.scratch],
            user_data=["echo grid > /etc/motd"],
            job_failure_target=targets.SnsTopic(self.topic),
        )
        self.mc = self.cpu.add_job(
            "MonteCarlo",
            image=IMAGE,
            command=["/opt/risk/run", "--paths", "Ref::paths"],
            array_size=5000,
            vcpus=2,
            parameters={"paths": "100000"},
            timeout=cdk.Duration.hours(2),
            scheduling_priority=10,
            share_identifier="credit",
        )
        self.mc.grant_read(self.bucket, "inputs/")
        self.mc.grant_read_write(self.bucket, "results/")
        self.reduce = self.cpu.add_job(
            "Reduce",
            image=IMAGE,
            command=["/opt/risk/reduce"],
            fargate=True,
            vcpus=0.5,
            memory=cdk.Size.gibibytes(1),
            retry_attempts=1,
        )
        self.submitter = iam.Role(self.stack, "Submitter", assumed_by=iam.AccountRootPrincipal())
        self.cpu.grant_submit_job(self.submitter)
        self.settings = ssm.StringParameter(self.stack, "Settings", string_value="seed=42")
        self.settings.grant_read(self.cpu)  # to the nodes' role
        self.peer = ec2.SecurityGroup(self.stack, "Peer", vpc=vpc, allow_all_outbound=False)
        self.peer.connections.allow_to(self.cpu, ec2.Port.tcp(8080), "to a service on the nodes")
        self.home = efs.FileSystem(
            self.stack, "Home", vpc=vpc, encrypted=True, removal_policy=cdk.RemovalPolicy.DESTROY
        )
        cdk.Validations.of(self.home).acknowledge(
            cdk.Acknowledgment(id="HPC-STOR1", reason="Test app: deleted with its stack on purpose")
        )
        self.gpu = BatchGrid(
            self.stack,
            "Sim",
            vpc=vpc,
            max_vcpus=512,
            instance_types=["g6.4xlarge", "g6.8xlarge"],
            on_demand_fallback=False,
        )
        cdk.Validations.of(self.gpu).acknowledge(
            cdk.Acknowledgment(id=warning_ids.SINGLE_FAMILY_SPOT_POOL, reason="Test: one family")
        )
        self.sim = self.gpu.add_job("Scenario", image=IMAGE, command=["sim"], array_size=100)
        self.gpu.add_file_system(self.home, mount_point="/home/shared")  # after the job
        self.synth = synthesize(app)

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        found = self.synth.template_dict(self.stack)["Resources"]
        return {lid: r for lid, r in found.items() if r["Type"] == kind}

    def logical_id(self, construct: Any) -> str:
        return str(self.stack.get_logical_id(construct.node.default_child))


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return Scenario()


@pytest.fixture(scope="module")
def synth(scenario: Scenario) -> Synthesized:
    return scenario.synth


def test_cfn_lint_clean(scenario: Scenario) -> None:
    assert_cfn_lint_clean(scenario.synth.template_dict(scenario.stack))


def test_nag_clean(synth: Synthesized) -> None:
    assert_nag_clean(synth)


# --- compute environments and queues ---------------------------------------------------------


def test_spot_environment_comes_before_the_on_demand_fallback(scenario: Scenario) -> None:
    envs = scenario.resources("AWS::Batch::ComputeEnvironment")
    spot_id = scenario.logical_id(scenario.cpu.spot_compute_environment)
    od_id = scenario.logical_id(scenario.cpu.on_demand_compute_environment)
    spot = envs[spot_id]["Properties"]["ComputeResources"]
    od = envs[od_id]["Properties"]["ComputeResources"]
    assert spot["Type"] == "SPOT"
    assert spot["AllocationStrategy"] == "SPOT_PRICE_CAPACITY_OPTIMIZED"
    assert "SpotIamFleetRole" not in spot  # not needed with price-capacity-optimized
    assert spot["MaxvCpus"] == 2048
    assert od["Type"] == "EC2"
    assert od["AllocationStrategy"] == "BEST_FIT_PROGRESSIVE"
    assert od["MaxvCpus"] == 512  # a quarter of the Spot ceiling
    assert spot["InstanceTypes"] == od["InstanceTypes"] == list(scenario.cpu.instance_types)
    queue = scenario.resources("AWS::Batch::JobQueue")[scenario.logical_id(scenario.cpu.job_queue)]
    order = [
        (e["Order"], e["ComputeEnvironment"]["Fn::GetAtt"][0])
        for e in queue["Properties"]["ComputeEnvironmentOrder"]
    ]
    assert order == [(1, spot_id), (2, od_id)]


def test_environments_span_every_private_subnet_without_placement_or_efa(
    scenario: Scenario,
) -> None:
    for env in scenario.resources("AWS::Batch::ComputeEnvironment").values():
        resources = env["Properties"]["ComputeResources"]
        assert len(resources["Subnets"]) == 3  # three AZs
        assert "PlacementGroup" not in resources
    for lt in scenario.resources("AWS::EC2::LaunchTemplate").values():
        data = lt["Properties"]["LaunchTemplateData"]
        assert "NetworkInterfaces" not in data  # no EFA layout
        assert data["MetadataOptions"]["HttpTokens"] == "required"
        assert data["BlockDeviceMappings"][0]["Ebs"]["Encrypted"] is True


def test_pool_is_diversified_and_offered_in_the_region(scenario: Scenario) -> None:
    types = scenario.cpu.instance_types
    families = {family_of(t) for t in types}
    assert len(types) == 12
    assert len(families) == 12
    assert {f[0] for f in families} == {"c", "m"}  # at most 4 GiB per vCPU
    for name in types:
        spec = InstanceCatalog.get(name)
        assert offered_in(spec, "us-east-2") is True
        assert {"spot", "on-demand"} <= set(spec.usage_classes)
        assert spec.vcpus <= 32


def test_fargate_spot_gets_its_own_queue(scenario: Scenario) -> None:
    fargate_id = scenario.logical_id(scenario.cpu.fargate_compute_environment)
    env = scenario.resources("AWS::Batch::ComputeEnvironment")[fargate_id]
    assert env["Properties"]["ComputeResources"]["Type"] == "FARGATE_SPOT"
    queue = scenario.resources("AWS::Batch::JobQueue")[
        scenario.logical_id(scenario.cpu.fargate_job_queue)
    ]
    (only,) = queue["Properties"]["ComputeEnvironmentOrder"]
    assert only["ComputeEnvironment"]["Fn::GetAtt"][0] == fargate_id


def test_fair_share_policy_on_both_queues(scenario: Scenario) -> None:
    (policy_id, policy), *_ = scenario.resources("AWS::Batch::SchedulingPolicy").items()
    fair = policy["Properties"]["FairsharePolicy"]
    assert fair["ShareDecaySeconds"] == 3600
    assert fair["ComputeReservation"] == 10
    assert [s["ShareIdentifier"] for s in fair["ShareDistribution"]] == ["rates", "credit", "desk*"]
    cpu_queues = [scenario.cpu.job_queue, scenario.cpu.fargate_job_queue]
    for queue in cpu_queues:
        props = scenario.resources("AWS::Batch::JobQueue")[scenario.logical_id(queue)]
        assert props["Properties"]["SchedulingPolicyArn"] == {"Fn::GetAtt": [policy_id, "Arn"]}


def test_gpu_pool_uses_the_nvidia_image_and_no_fallback(scenario: Scenario) -> None:
    assert scenario.gpu.on_demand_compute_environment is None
    env = scenario.resources("AWS::Batch::ComputeEnvironment")[
        scenario.logical_id(scenario.gpu.spot_compute_environment)
    ]
    resources = env["Properties"]["ComputeResources"]
    assert resources["Ec2Configuration"] == [{"ImageType": "ECS_AL2023_NVIDIA"}]
    assert scenario.gpu.plan.spot_share == 1.0


# --- jobs -------------------------------------------------------------------------------------


def definition(scenario: Scenario, job: Any) -> dict[str, Any]:
    return scenario.resources("AWS::Batch::JobDefinition")[scenario.logical_id(job.job_definition)][
        "Properties"
    ]


def test_retry_strategy_retries_spot_reclamation_and_exits_on_anything_else(
    scenario: Scenario,
) -> None:
    props = definition(scenario, scenario.mc)
    assert props["RetryStrategy"] == {
        "Attempts": 3,
        "EvaluateOnExit": [
            {"Action": "RETRY", "OnStatusReason": "Host EC2*"},
            {"Action": "EXIT", "OnReason": "*"},
        ],
    }
    assert props["Timeout"] == {"AttemptDurationSeconds": 7200}
    assert props["Parameters"] == {"paths": "100000"}
    assert props["SchedulingPriority"] == 10
    single = definition(scenario, scenario.reduce)
    assert single["RetryStrategy"].get("EvaluateOnExit") is None  # one attempt: no retries


def test_array_job_environment_and_resources(scenario: Scenario) -> None:
    container = definition(scenario, scenario.mc)["ContainerProperties"]
    assert {"Name": ARRAY_SIZE_VARIABLE, "Value": "5000"} in container["Environment"]
    resources = {r["Type"]: r["Value"] for r in container["ResourceRequirements"]}
    assert resources["VCPU"] == "2"
    assert int(resources["MEMORY"]) == scenario.mc.plan.memory_mib
    assert set(scenario.mc.plan.fits_on) == set(scenario.cpu.instance_types)
    command = scenario.mc.submit_command()
    assert "--array-properties size=5000" in command
    assert "--share-identifier credit" in command


def test_jobs_see_the_lustre_mount_and_file_systems_added_later(scenario: Scenario) -> None:
    container = definition(scenario, scenario.mc)["ContainerProperties"]
    assert [m["ContainerPath"] for m in container["MountPoints"]] == ["/fsx"]
    sim = definition(scenario, scenario.sim)["ContainerProperties"]
    # g6 has NVMe instance storage: striped at boot and passed to the containers too.
    assert scenario.gpu.plan.instance_store_disks == 1
    assert [m["ContainerPath"] for m in sim["MountPoints"]] == ["/scratch/local", "/home/shared"]
    resources = {r["Type"]: r["Value"] for r in sim["ResourceRequirements"]}
    assert resources["GPU"] == "1"  # the default on a GPU pool
    reduce = definition(scenario, scenario.reduce)
    assert reduce["PlatformCapabilities"] == ["FARGATE"]


def test_nodes_mount_lustre_at_boot_and_reach_it_on_the_lustre_ports(scenario: Scenario) -> None:
    fs_id = scenario.logical_id(scenario.scratch.file_system)
    lt = scenario.resources("AWS::EC2::LaunchTemplate")[
        scenario.logical_id(scenario.cpu.launch_template)
    ]
    user_data = json.dumps(lt["Properties"]["LaunchTemplateData"]["UserData"])
    assert fs_id in user_data
    assert "/fsx" in user_data
    assert "lustre" in user_data
    assert "echo grid > /etc/motd" in user_data
    grid_sg = scenario.logical_id(scenario.cpu.security_group)
    ports = {
        (r["Properties"]["FromPort"], r["Properties"]["ToPort"])
        for r in scenario.resources("AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"].get("SourceSecurityGroupId") == {"Fn::GetAtt": [grid_sg, "GroupId"]}
    }
    assert {(988, 988), (1018, 1023)} <= ports


def test_job_role_is_scoped_to_the_s3_prefixes(scenario: Scenario) -> None:
    role_id = scenario.logical_id(scenario.mc.role)
    statements = [
        s
        for p in scenario.resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    text = json.dumps(statements)
    assert "inputs/*" in text
    assert "results/*" in text
    assert "s3:GetObject*" not in text
    assert "s3:*" not in text
    actions = {
        a
        for s in statements
        for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }
    assert actions == {
        "s3:GetObject",
        "s3:ListBucket",
        "s3:PutObject",
        "s3:AbortMultipartUpload",
        "kms:Decrypt",
        "kms:GenerateDataKey",
    }


def test_grants_and_connections_reach_the_nodes(scenario: Scenario) -> None:
    node_role = scenario.logical_id(scenario.cpu.role)
    policies = [
        p for p in scenario.resources("AWS::IAM::Policy").values()
        if {"Ref": node_role} in p["Properties"]["Roles"]
    ]  # fmt: skip
    assert "ssm:GetParameter" in json.dumps(policies)
    grid_sg = scenario.logical_id(scenario.cpu.security_group)
    assert any(
        r["Properties"]["GroupId"] == {"Fn::GetAtt": [grid_sg, "GroupId"]}
        and r["Properties"]["FromPort"] == 8080
        for r in scenario.resources("AWS::EC2::SecurityGroupIngress").values()
    )
    submit = json.dumps(
        [
            p for p in scenario.resources("AWS::IAM::Policy").values()
            if {"Ref": scenario.logical_id(scenario.submitter)} in p["Properties"]["Roles"]
        ]
    )  # fmt: skip
    assert "batch:SubmitJob" in submit
    assert scenario.logical_id(scenario.mc.job_definition) in submit


def test_failed_jobs_of_the_grid_queues_go_to_the_topic(scenario: Scenario) -> None:
    rule = scenario.resources("AWS::Events::Rule")[
        scenario.logical_id(scenario.cpu.job_failure_rule)
    ]["Properties"]
    pattern = rule["EventPattern"]
    assert pattern["source"] == ["aws.batch"]
    assert pattern["detail-type"] == ["Batch Job State Change"]
    assert pattern["detail"]["status"] == ["FAILED"]
    assert len(pattern["detail"]["jobQueue"]) == 2
    assert rule["Targets"][0]["Arn"] == {"Ref": scenario.logical_id(scenario.topic)}


# --- construction only: errors and warnings ---------------------------------------------------


def bare() -> tuple[cdk.Stack, ec2.Vpc]:
    stack = cdk.Stack(make_app(), "Bad", env=TEST_ENV)
    return stack, ec2.Vpc(stack, "Vpc", max_azs=3)


def test_fails_on_an_array_size_over_the_limit() -> None:
    stack, vpc = bare()
    grid = BatchGrid(stack, "Grid", vpc=vpc, max_vcpus=256)
    with pytest.raises(HpcValidationError) as err:
        grid.add_job("Sweep", image=IMAGE, command=["run"], array_size=20_000)
    assert str(err.value) == (
        "Bad/Grid/Sweep: array_size=20000 is not valid; allowed: 2 to 10,000 child jobs "
        "(AWS Batch SubmitJob arrayProperties.size), or None for a single job"
    )


def test_fails_on_a_job_larger_than_every_instance_in_the_pool() -> None:
    stack, vpc = bare()
    grid = BatchGrid(
        stack, "Grid", vpc=vpc, max_vcpus=256, instance_types=["c6i.2xlarge", "m6a.2xlarge"]
    )
    with pytest.raises(HpcValidationError) as err:
        grid.add_job("Big", image=IMAGE, command=["run"], vcpus=16)
    message = str(err.value)
    assert message.startswith("Bad/Grid/Big: vcpus/memory/gpus='16 vCPUs")
    assert "larger than every instance type of the grid's pool" in message
    assert "with 8 vCPUs" in message


def test_fails_on_gpus_asked_on_a_cpu_only_pool() -> None:
    stack, vpc = bare()
    grid = BatchGrid(stack, "Grid", vpc=vpc, max_vcpus=256)
    with pytest.raises(HpcValidationError, match=r"Bad/Grid/Render: gpus=1 is not valid; "
                       r"allowed: 0: the pool has no GPUs"):  # fmt: skip
        grid.add_job("Render", image=IMAGE, command=["render"], gpus=1)


def test_single_family_spot_pool_is_a_registered_warning() -> None:
    stack, vpc = bare()
    grid = BatchGrid(
        stack, "Grid", vpc=vpc, max_vcpus=256, instance_types=["c6i.xlarge", "c6i.2xlarge"]
    )
    assert warning_ids.SINGLE_FAMILY_SPOT_POOL in warning_ids.ALL
    assert ids_of(grid) == {warning_ids.SINGLE_FAMILY_SPOT_POOL}
    diverse = BatchGrid(stack, "Diverse", vpc=vpc, max_vcpus=256)
    assert ids_of(diverse) == set()


def test_fails_on_every_bad_prop_at_once_naming_the_construct() -> None:
    stack, vpc = bare()
    with pytest.raises(HpcValidationError) as err:
        BatchGrid(
            stack,
            "Grid",
            vpc=vpc,
            max_vcpus=0,
            instance_types=["c6i.xlarge", "c7g.xlarge"],
            shares=[GridShare("team a")],
        )
    text = str(err.value)
    assert "3 invalid properties" in text
    assert "Bad/Grid: max_vcpus=0" in text
    assert "one architecture" in text
    assert "shares[0].identifier='team a'" in text


def test_fails_on_a_share_identifier_the_queue_does_not_have() -> None:
    stack, vpc = bare()
    grid = BatchGrid(stack, "Grid", vpc=vpc, max_vcpus=64, shares=[GridShare("rates")])
    with pytest.raises(HpcValidationError, match=r"share_identifier='fx'.*one of rates"):
        grid.add_job("Job", image=IMAGE, command=["x"], share_identifier="fx")
    plain = BatchGrid(stack, "Plain", vpc=vpc, max_vcpus=64)
    with pytest.raises(HpcValidationError, match="no fair-share policy"):
        plain.add_job("Job", image=IMAGE, command=["x"], share_identifier="fx")


def test_bucket_grant_to_the_grid_goes_to_the_nodes_role() -> None:
    stack, vpc = bare()
    grid = BatchGrid(stack, "Grid", vpc=vpc, max_vcpus=64)
    bucket = s3.Bucket(stack, "Bucket")
    grant = bucket.grant_read(grid)
    assert grant.principal_statements or grant.success
    assert grid.grant_principal is grid.role


def test_nodes_ship_logs_and_metrics_gpu_metrics_on_the_gpu_pool(scenario: Scenario) -> None:
    """Telemetry on by default: a KMS log group kept 180 days, the agent configuration in the
    user data naming that group, GPU metrics only where the pool has GPUs, and the node role
    may publish metrics in the node namespace only."""
    for grid, gpu in ((scenario.cpu, False), (scenario.gpu, True)):
        assert grid.log_group is not None
        group = scenario.resources("AWS::Logs::LogGroup")[scenario.logical_id(grid.log_group)]
        assert group["Properties"]["RetentionInDays"] == 180
        assert "KmsKeyId" in group["Properties"]
        step = grid.boot_plan.telemetry
        assert step is not None
        assert (step.gpu, step.efa, step.slurm) == (gpu, False, False)
        assert step.node_group == grid.node.path
        lt = scenario.resources("AWS::EC2::LaunchTemplate")[
            scenario.logical_id(grid.launch_template)
        ]
        user_data = json.dumps(lt["Properties"]["LaunchTemplateData"]["UserData"])
        assert "cloudwatch-agent.json" in user_data
        assert scenario.logical_id(grid.log_group) in user_data
        assert ("nvidia_gpu" in user_data) is gpu
    statements = [
        s
        for lid, r in scenario.resources("AWS::IAM::Policy").items()
        if lid.startswith("RiskTelemetryPolicy")
        for s in r["Properties"]["PolicyDocument"]["Statement"]
    ]
    (put,) = [s for s in statements if s["Action"] == "cloudwatch:PutMetricData"]
    assert put["Condition"] == {"StringEquals": {"cloudwatch:namespace": "HpcConstructs/Nodes"}}


def test_telemetry_opt_out_and_fails_on_a_retention_the_logs_api_rejects() -> None:
    stack, vpc = bare()
    off = BatchGrid(stack, "Off", vpc=vpc, max_vcpus=256, telemetry=False)
    assert off.log_group is None
    assert off.boot_plan.telemetry is None
    with pytest.raises(HpcValidationError, match=r"Bad/Grid: log_retention=200 is not valid"):
        BatchGrid(stack, "Grid", vpc=vpc, max_vcpus=256, log_retention=200)
