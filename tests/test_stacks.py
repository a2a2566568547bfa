"""The sample stacks: snapshots, validators, CloudFormation limits and cross-construct wiring."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import assertions
from syrupy.assertion import SnapshotAssertion

from hpc_constructs import HpcValidationError
from stacks import add_sample_stacks
from stacks.config import from_context
from stacks.ml_training import MlTrainingConfig, MlTrainingStack
from stacks.mpi_cluster import MpiClusterConfig
from stacks.operations import add_operations
from tests.harness import (
    ROOT,
    TEST_ENV,
    Synthesized,
    assert_cfn_lint_clean,
    assert_nag_clean,
    make_app,
    mask_hashes,
    synthesize,
)

sys.path.insert(0, str(ROOT / "scripts"))
import architecture
import summarize

STACKS = [
    "AutonomousDriving",
    "FinancialRisk",
    "Genomics",
    "HpcPortfolio",
    "MlTraining",
    "MpiCluster",
    "SlurmCluster",
]


@pytest.fixture(scope="module")
def synth() -> Synthesized:
    app = make_app(
        **{"hpc-constructs:account": TEST_ENV.account, "hpc-constructs:region": TEST_ENV.region}
    )
    add_sample_stacks(app)
    return synthesize(app)


def resources(synth: Synthesized, stack: str, kind: str) -> dict[str, dict[str, Any]]:
    template = synth.template_dict(stack)["Resources"]
    return {lid: r for lid, r in template.items() if r["Type"] == kind}


def only(synth: Synthesized, stack: str, kind: str) -> tuple[str, dict[str, Any]]:
    found = resources(synth, stack, kind)
    assert len(found) == 1, f"{stack}: expected one {kind}, found {sorted(found)}"
    return next(iter(found.items()))


def test_app_has_the_seven_sample_stacks(synth: Synthesized) -> None:
    """The sample stacks, and the Service Catalog product templates HpcPortfolio writes."""
    names = synth.stack_names()
    assert [n for n in names if not n.endswith(".product")] == STACKS
    products = [n for n in names if n.endswith(".product")]
    assert products
    assert all(n.startswith("HpcPortfolio") for n in products)


@pytest.mark.parametrize("stack", STACKS)
def test_snapshot(synth: Synthesized, stack: str, snapshot_json: SnapshotAssertion) -> None:
    assert mask_hashes(synth.template_dict(stack)) == snapshot_json


@pytest.mark.parametrize("stack", STACKS)
def test_cfn_lint_clean(synth: Synthesized, stack: str) -> None:
    assert_cfn_lint_clean(synth.template_dict(stack))


def test_nag_clean(synth: Synthesized) -> None:
    assert_nag_clean(synth)


@pytest.mark.parametrize("stack", STACKS)
def test_template_within_cloudformation_limits(synth: Synthesized, stack: str) -> None:
    body = (synth.outdir / f"{stack}.template.json").read_bytes()
    assert len(body) < summarize.MAX_TEMPLATE_BYTES
    assert len(synth.template_dict(stack)["Resources"]) < summarize.MAX_RESOURCES


def _ingress_from(
    synth: Synthesized, stack: str, target_sg: str, source_sg: str
) -> set[tuple[int, int]]:
    ports: set[tuple[int, int]] = set()
    for rule in resources(synth, stack, "AWS::EC2::SecurityGroupIngress").values():
        props = rule["Properties"]
        if props.get("GroupId") == {"Fn::GetAtt": [target_sg, "GroupId"]} and props.get(
            "SourceSecurityGroupId"
        ) == {"Fn::GetAtt": [source_sg, "GroupId"]}:
            ports.add((props["FromPort"], props["ToPort"]))
    return ports


def _security_group_of(resource: dict[str, Any]) -> str:
    groups = resource["Properties"]["SecurityGroupIds"]
    return str(groups[0]["Fn::GetAtt"][0])


def _launch_template_groups(synth: Synthesized, stack: str) -> set[str]:
    groups: set[str] = set()
    for lt in resources(synth, stack, "AWS::EC2::LaunchTemplate").values():
        for itf in lt["Properties"]["LaunchTemplateData"].get("NetworkInterfaces", []):
            groups.update(g["Fn::GetAtt"][0] for g in itf["Groups"])
    return groups


@pytest.mark.parametrize("stack", ["MpiCluster", "Genomics", "MlTraining"])
def test_compute_reaches_lustre_on_exactly_the_lustre_ports(synth: Synthesized, stack: str) -> None:
    _, fs = only(synth, stack, "AWS::FSx::FileSystem")
    lustre_sg = _security_group_of(fs)
    (compute_sg,) = _launch_template_groups(synth, stack)
    assert _ingress_from(synth, stack, lustre_sg, compute_sg) == {(988, 988), (1018, 1023)}
    # ...and the file system reaches the clients on the same ports (FSx for Lustre guide).
    assert _ingress_from(synth, stack, compute_sg, lustre_sg) == {(988, 988), (1018, 1023)}


@pytest.mark.parametrize("stack", ["MpiCluster", "Genomics", "MlTraining"])
def test_compute_nodes_mount_lustre_at_boot(synth: Synthesized, stack: str) -> None:
    fs_id, _ = only(synth, stack, "AWS::FSx::FileSystem")
    user_data = [
        json.dumps(lt["Properties"]["LaunchTemplateData"].get("UserData"))
        for lt in resources(synth, stack, "AWS::EC2::LaunchTemplate").values()
    ]
    assert any(fs_id in text and "lustre" in text and "/fsx" in text for text in user_data)


def test_batch_jobs_see_the_lustre_mount(synth: Synthesized) -> None:
    _, job = only(synth, "Genomics", "AWS::Batch::JobDefinition")
    container = job["Properties"]["NodeProperties"]["NodeRangeProperties"][0]["Container"]
    paths = [m["ContainerPath"] for m in container["MountPoints"]]
    assert "/fsx" in paths
    devices = container["LinuxParameters"]["Devices"]
    assert [d["HostPath"] for d in devices] == ["/dev/infiniband/uverbs0"]  # c5n.18xlarge: 1 EFA


def test_datasync_can_write_to_the_landing_bucket(synth: Synthesized) -> None:
    bucket_id = next(
        lid
        for lid, r in resources(synth, "Genomics", "AWS::S3::Bucket").items()
        if "Ingest/LandingBucket" in r["Metadata"]["aws:cdk:path"]
    )
    _, location = only(synth, "Genomics", "AWS::DataSync::LocationS3")
    role_id = location["Properties"]["S3Config"]["BucketAccessRoleArn"]["Fn::GetAtt"][0]
    writes = []
    for policy in resources(synth, "Genomics", "AWS::IAM::Policy").values():
        if {"Ref": role_id} not in policy["Properties"]["Roles"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = (
                statement["Action"]
                if isinstance(statement["Action"], list)
                else [statement["Action"]]
            )
            if "s3:PutObject" in actions:
                writes.append(json.dumps(statement["Resource"]))
    assert writes, "the DataSync role has no s3:PutObject"
    assert all(bucket_id in text and "runs/*" in text for text in writes)


def test_ml_training_uses_32_efa_interfaces_and_a_capacity_block(synth: Synthesized) -> None:
    _, lt = only(synth, "MlTraining", "AWS::EC2::LaunchTemplate")
    data = lt["Properties"]["LaunchTemplateData"]
    efa = [i for i in data["NetworkInterfaces"] if i.get("InterfaceType") in ("efa", "efa-only")]
    assert len(efa) == 32
    assert data["InstanceMarketOptions"] == {"MarketType": "capacity-block"}
    _, asg = only(synth, "MlTraining", "AWS::AutoScaling::AutoScalingGroup")
    assert asg["Properties"]["MinSize"] == asg["Properties"]["MaxSize"] == "2"
    _, fs = only(synth, "MlTraining", "AWS::FSx::FileSystem")
    assert fs["Properties"]["LustreConfiguration"]["DeploymentType"] == "PERSISTENT_2"


def _queue_environments(synth: Synthesized, stack: str) -> list[list[dict[str, Any]]]:
    """Each job queue's compute environments' ComputeResources, in the queue's order."""
    envs = resources(synth, stack, "AWS::Batch::ComputeEnvironment")
    return [
        [
            envs[e["ComputeEnvironment"]["Fn::GetAtt"][0]]["Properties"]["ComputeResources"]
            for e in sorted(q["Properties"]["ComputeEnvironmentOrder"], key=lambda e: e["Order"])
        ]
        for q in resources(synth, stack, "AWS::Batch::JobQueue").values()
    ]


def _policy_text(synth: Synthesized, stack: str, role_path: str) -> str:
    roles = [
        lid
        for lid, r in resources(synth, stack, "AWS::IAM::Role").items()
        if role_path in r["Metadata"]["aws:cdk:path"]
    ]
    return json.dumps(
        [
            p["Properties"]["PolicyDocument"]
            for p in resources(synth, stack, "AWS::IAM::Policy").values()
            if any({"Ref": r} in p["Properties"]["Roles"] for r in roles)
        ]
    )


def test_financial_risk_runs_monte_carlo_on_a_diversified_spot_pool(synth: Synthesized) -> None:
    from hpc_constructs.catalog import InstanceCatalog, offered_in

    queues = _queue_environments(synth, "FinancialRisk")
    ec2_queue = next(q for q in queues if q[0]["Type"] == "SPOT")
    assert [e["Type"] for e in ec2_queue] == ["SPOT", "EC2"]  # On-Demand after Spot
    assert ec2_queue[0]["AllocationStrategy"] == "SPOT_PRICE_CAPACITY_OPTIMIZED"
    assert len(ec2_queue[0]["Subnets"]) == 3
    pool = ec2_queue[0]["InstanceTypes"]
    assert len({t.split(".")[0] for t in pool}) == len(pool) == 12
    assert all(offered_in(InstanceCatalog.get(t), "us-east-2") for t in pool)
    assert [[e["Type"] for e in q] for q in queues if q[0]["Type"] != "SPOT"] == [["FARGATE_SPOT"]]
    jobs = {
        lid: j["Properties"]
        for lid, j in resources(synth, "FinancialRisk", "AWS::Batch::JobDefinition").items()
    }
    mc = next(j for j in jobs.values() if j["PlatformCapabilities"] == ["EC2"])
    assert mc["Parameters"] == {
        "portfolio": "inputs/portfolio.parquet",
        "paths": "100000",
        "horizon_days": "10",
    }
    assert {"Name": "HPC_GRID_ARRAY_SIZE", "Value": "1000"} in mc["ContainerProperties"][
        "Environment"
    ]
    assert mc["RetryStrategy"]["EvaluateOnExit"][0] == {
        "Action": "RETRY",
        "OnStatusReason": "Host EC2*",
    }
    job_role = _policy_text(synth, "FinancialRisk", "Grid/MonteCarlo/JobRole")
    for prefix in ("inputs/*", "results/*", "checkpoints/*"):
        assert prefix in job_role
    (budget,) = resources(synth, "FinancialRisk", "AWS::Budgets::Budget").values()
    assert budget["Properties"]["Budget"]["BudgetLimit"] == {"Amount": 5000, "Unit": "USD"}
    _, policy = only(synth, "FinancialRisk", "AWS::Batch::SchedulingPolicy")
    shares = policy["Properties"]["FairsharePolicy"]["ShareDistribution"]
    assert [s["ShareIdentifier"] for s in shares] == ["rates", "credit", "equity"]


def test_autonomous_driving_simulates_on_spot_gpus_with_lustre_linked_to_s3(
    synth: Synthesized,
) -> None:
    from hpc_constructs.catalog import InstanceCatalog

    (queue,) = _queue_environments(synth, "AutonomousDriving")
    assert [e["Type"] for e in queue] == ["SPOT", "EC2"]
    assert queue[0]["Ec2Configuration"] == [{"ImageType": "ECS_AL2023_NVIDIA"}]
    for name in queue[0]["InstanceTypes"]:
        spec = InstanceCatalog.get(name)
        assert spec.gpus >= 1
        assert spec.gpu_memory_mib / spec.gpus >= 20 * 1024
    assert len({t.split(".")[0] for t in queue[0]["InstanceTypes"]}) >= 3
    _, job = only(synth, "AutonomousDriving", "AWS::Batch::JobDefinition")
    container = job["Properties"]["ContainerProperties"]
    assert "/fsx" in [m["ContainerPath"] for m in container["MountPoints"]]
    assert {"Type": "GPU", "Value": "1"} in container["ResourceRequirements"]
    paths = {
        a["Properties"]["FileSystemPath"]
        for a in resources(
            synth, "AutonomousDriving", "AWS::FSx::DataRepositoryAssociation"
        ).values()
    }
    assert paths == {"/drive-logs", "/scenarios", "/results"}
    assert resources(synth, "AutonomousDriving", "AWS::DataSync::Task")
    snowball = [
        r
        for r in resources(synth, "AutonomousDriving", "AWS::IAM::Role").values()
        if "SnowballImportRole" in r["Metadata"]["aws:cdk:path"]
    ]
    assert snowball


def test_summary_counts_library_warnings_apart_from_cdk_nag(tmp_path: Path) -> None:
    report = {
        "pluginReports": [
            {
                "pluginName": "Construct Annotations",
                "conclusion": "success",
                "violations": [
                    {
                        "ruleName": "Annotation::hpc-constructs:efaDisabled",
                        "severity": "warning",
                        "violatingConstructs": [{"constructPath": "Genomics/Batch"}],
                    }
                ],
            },
            {
                "pluginName": "AwsSolutions",
                "violations": [
                    {
                        "ruleName": "AwsSolutions-S1",
                        "violatingResources": [{"constructPath": "MpiCluster/Bucket/Resource"}],
                    }
                ],
            },
        ]
    }
    (tmp_path / "validation-report.json").write_text(json.dumps(report))
    nag, warnings = summarize._report_findings(tmp_path)
    assert nag == {"MpiCluster": 1}
    assert warnings == {"Genomics": ["hpc-constructs:efaDisabled"]}


def test_summary_reports_compute_lustre_and_validators(synth: Synthesized) -> None:
    text, ok = summarize.summarize(synth.outdir)
    assert ok, text
    assert (
        "hpc7a.96xlarge x 0-16 nodes; 2 EFA interfaces and 300 Gbps per node; peak 3,072 vCPUs"
        in text
    )
    assert "p5.48xlarge x 2-2 nodes; 32 EFA interfaces and 3200 Gbps per node" in text
    assert "SCRATCH_2, 4800 GiB, 960 MB/s baseline" in text
    assert "PERSISTENT_2, 4800 GiB, 4,800 MB/s baseline" in text
    assert "Batch grid queue: 12 types in 12 families (c8a.8xlarge" in text
    assert "vCPU ceiling 5,120 (Spot 4,096 + On-Demand 1,024); Spot share 80%" in text
    assert "Batch grid queue: 12 types in 4 families (g7.8xlarge" in text
    assert "Golden image: MpiCluster/Image: base amazon-linux-2023; efa-installer 1.50.0" in text
    assert (
        "Golden image: SlurmCluster/PcsImage: base amazon-linux-2023; efa-installer 1.50.0; pcs-agent 1.2.2-1; slurm 25.05.3-1"
        in text
    )
    assert text.count("cdk-nag AwsSolutions: clean") == len(synth.stack_names())

    # The README shows this output; keep it true (template sizes differ slightly between the
    # CLI, which adds metadata, and in-process synthesis, so they are not compared).
    def sizeless(value: str) -> str:
        return re.sub(r"[\d,]+ bytes", "N bytes", value)

    documented = sizeless((ROOT / "docs" / "stacks.md").read_text())
    assert sizeless(text) in documented, "update the summary in docs/stacks.md"


def test_architecture_document_is_current(synth: Synthesized) -> None:
    expected = architecture.document(synth.outdir)
    current = (ROOT / "docs" / "architecture.md").read_text()
    assert current == expected, (
        "run: python scripts/architecture.py <cdk.out> > docs/architecture.md"
    )


# --- configuration from context --------------------------------------------------------------


#: (stack, project tag, budget in USD, alarms the stack's constructs get by default)
OPERATIONS = [
    ("AutonomousDriving", "autonomous-driving", 30_000, {"FreeCapacity", "BootFailures",
     "JobFailures", "SpotInterruptions", "TaskFailures"}),
    ("FinancialRisk", "financial-risk", 5_000, {"BootFailures", "JobFailures",
     "SpotInterruptions"}),
    ("Genomics", "genomics", 10_000, {"FreeCapacity", "BootFailures", "JobFailures",
     "TaskFailures"}),
    ("MlTraining", "ml-training", 100_000, {"FreeCapacity", "BootFailures", "LaunchFailures"}),
    ("MpiCluster", "mpi-cluster", 20_000, {"FreeCapacity", "BootFailures", "LaunchFailures"}),
    ("SlurmCluster", "slurm-cluster", 20_000, {"FreeCapacity", "BootFailures"}),
]  # fmt: skip


ALARM_KINDS = (
    "FreeCapacity",
    "BootFailures",
    "JobFailures",
    "LaunchFailures",
    "SpotInterruptions",
    "TaskFailures",
)


@pytest.mark.parametrize(("stack", "project", "usd", "alarms"), OPERATIONS)
def test_every_sample_has_a_dashboard_alarms_and_a_budget_of_its_tagged_spend(
    synth: Synthesized, stack: str, project: str, usd: int, alarms: set[str]
) -> None:
    _, dashboard = only(synth, stack, "AWS::CloudWatch::Dashboard")
    assert dashboard["Properties"]["DashboardName"] == f"hpc-{stack}"
    found = resources(synth, stack, "AWS::CloudWatch::Alarm")
    kinds = [[k for k in ALARM_KINDS if re.search(f"{k}[0-9A-F]{{8}}$", lid)] for lid in found]
    assert all(len(k) == 1 for k in kinds), sorted(found)
    assert {k for (k,) in kinds} == alarms
    (topic_id,) = [
        lid for lid in resources(synth, stack, "AWS::SNS::Topic") if lid.startswith("Operations")
    ]
    for alarm in found.values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}]
    _, budget = only(synth, stack, "AWS::Budgets::Budget")
    data = budget["Properties"]["Budget"]
    assert data["BudgetLimit"] == {"Amount": usd, "Unit": "USD"}
    assert data["FilterExpression"] == {
        "Tags": {"Key": "hpc:project", "Values": [project], "MatchOptions": ["EQUALS"]}
    }
    subscribers = [n["Subscribers"] for n in budget["Properties"]["NotificationsWithSubscribers"]]
    assert subscribers == [[{"SubscriptionType": "SNS", "Address": {"Ref": topic_id}}]] * 2
    # the aspect tagged what the stack creates, node groups with their launcher's path
    tagged = [
        {t["Key"]: t["Value"] for t in r["Properties"].get("Tags", [])}
        for r in synth.template_dict(stack)["Resources"].values()
        if isinstance(r.get("Properties", {}).get("Tags"), list)
    ]
    assert tagged
    assert all(t.get("hpc:project") == project and t.get("hpc:stack") == stack for t in tagged)
    assert any("hpc:node-group" in t for t in tagged)


def test_alert_emails_subscribe_to_the_alarm_topic() -> None:
    app = cdk.App(context={"MpiCluster:alert_emails": "ops@example.com,oncall@example.com"})
    config = from_context(app.node, "MpiCluster", MpiClusterConfig)
    assert config.alert_emails == ("ops@example.com", "oncall@example.com")
    stack = cdk.Stack(make_app(), "Ops", env=TEST_ENV)
    add_operations(stack, config, project="p", watch=[])
    template = assertions.Template.from_stack(stack)
    for email in config.alert_emails:
        template.has_resource_properties(
            "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": email}
        )
    template.resource_count_is("AWS::SNS::Subscription", 2)


def test_fails_on_a_bad_budget_or_alert_email_naming_the_key() -> None:
    problems = _problems(
        **{"monthly_budget_usd": "0", "Genomics:alert_emails": "ops@example.com,not-an-email"}
    )
    text = "\n".join(problems)
    assert "-c monthly_budget_usd: monthly_budget_usd=0 is not valid; allowed: 1 to 1000000000" in (
        text
    )
    assert (
        "-c Genomics:alert_emails: alert_emails='not-an-email' is not valid; allowed: an email "
        "address (name@domain.tld)" in text
    )


def test_context_overrides_every_stack_and_one_stack() -> None:
    app = cdk.App(context={"max_nodes": "4", "MpiCluster:instance_type": "c5n.18xlarge"})
    config = from_context(app.node, "MpiCluster", MpiClusterConfig)
    assert config.max_nodes == 4
    assert config.instance_type == "c5n.18xlarge"
    ml = from_context(app.node, "MlTraining", MlTrainingConfig)
    assert ml.instance_type == "p5.48xlarge"


def test_fails_when_context_values_have_the_wrong_type() -> None:
    app = cdk.App(context={"max_nodes": "many", "MlTraining:nodes": "two"})
    with pytest.raises(
        Exception, match=r"-c max_nodes: max_nodes='many' is not valid; allowed: an integer"
    ):
        from_context(app.node, "MpiCluster", MpiClusterConfig)
    with pytest.raises(Exception, match="MlTraining:nodes"):
        from_context(app.node, "MlTraining", MlTrainingConfig)


def test_fails_when_ml_orchestrator_is_unknown() -> None:
    app = make_app()
    with pytest.raises(Exception, match=r"orchestrator='slurm' is not valid.*'fleet', 'batch'"):
        MlTrainingStack(
            app, "MlTraining", env=TEST_ENV, config=MlTrainingConfig(orchestrator="slurm")
        )


def test_app_reports_bad_context_clearly() -> None:
    env = dict(os.environ)
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    context["MpiCluster:instance_type"] = "hpc7a.96xlarg"
    env["CDK_CONTEXT_JSON"] = json.dumps(context)
    env["CDK_OUTDIR"] = str(Path(make_app().outdir))
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py")],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 1
    assert "Invalid configuration" in result.stderr
    assert "hpc7a.96xlarge" in result.stderr  # the close-name suggestion


def test_ml_training_on_a_reservation_launches_into_the_reservations_placement_group() -> None:
    app = make_app()
    config = MlTrainingConfig(capacity="capacity-reservation", placement_group_name="p5-odcr")
    MlTrainingStack(app, "MlTraining", env=TEST_ENV, config=config)
    synth = synthesize(app)
    assert_nag_clean(synth)  # no reservationWithoutPlacementGroup warning
    _, lt = only(synth, "MlTraining", "AWS::EC2::LaunchTemplate")
    data = lt["Properties"]["LaunchTemplateData"]
    assert data["Placement"] == {"GroupName": "p5-odcr"}
    assert data["CapacityReservationSpecification"] == {
        "CapacityReservationTarget": {"CapacityReservationId": "cr-0123456789abcdef0"}
    }
    assert not resources(synth, "MlTraining", "AWS::EC2::PlacementGroup")


def test_fails_with_every_bad_override_of_every_stack_at_once() -> None:
    app = make_app(**{"MpiCluster:max_nodes": "many", "Genomics:max_nodes": "few"})
    with pytest.raises(HpcValidationError) as err:
        add_sample_stacks(app)
    assert {p.path for p in err.value.problems} == {
        "-c MpiCluster:max_nodes",
        "-c Genomics:max_nodes",
    }
    assert app.node.children == []  # nothing was built from a half-valid configuration


def _problems(built: bool = False, **context: Any) -> list[str]:
    app = make_app(**context)
    with pytest.raises(HpcValidationError) as err:
        add_sample_stacks(app)
    assert bool(app.node.children) == built  # config problems stop the app before building
    return [str(p) for p in err.value.problems]


def test_fails_on_misspelt_and_wrongly_cased_keys_naming_the_closest_key() -> None:
    problems = _problems(
        max_node="4",
        **{"mpicluster:max_nodes": "3", "MpiCluster:max_node": "2", "hpc-constructs:regoin": "x"},
    )
    assert len(problems) == 4, problems
    text = "\n".join(problems)
    assert "-c max_node: key='max_node' is not valid (did you mean max_nodes?)" in text
    assert "-c mpicluster:max_nodes: " in text
    assert "did you mean MpiCluster:max_nodes?" in text
    assert "did you mean MpiCluster:max_nodes?" in text.split("-c MpiCluster:max_node:")[1]
    assert "did you mean hpc-constructs:region?" in text


def test_leaves_cdk_and_foreign_context_keys_alone() -> None:
    app = make_app(
        **{"@aws-cdk/core:newFlag": True, "my-team:owner": "hpc", "colour": "blue"},
        **{"availability-zones:account=1:region=x": ["xa"], "aws:cdk:something": 1},
    )
    assert len(add_sample_stacks(app)) == len(STACKS)


def test_mpi_cluster_image_choice_golden_by_default_or_boot_time_installs() -> None:
    from stacks.mpi_cluster import MpiClusterConfig, MpiClusterStack

    app = make_app()
    for image, golden in (("golden", True), ("boot", False)):
        config = MpiClusterConfig(image=image)
        mpi = MpiClusterStack(app, f"Mpi{image}", config=config, env=TEST_ENV)
        (plan,) = mpi.fleet.boot_plans.values()
        assert (mpi.image is not None) is golden
        assert (plan.image is not None) is golden
        assert plan.install_efa is not golden
    assert MpiClusterConfig().image == "golden"
    assert "image" in "\n".join(_problems(**{"MpiCluster:image": "gold"}))


def test_fails_on_bad_values_of_every_stack_at_once_naming_the_typed_keys() -> None:
    problems = _problems(
        **{"Genomics:transfer_hour_utc": "25", "MlTraining:nodes": "0", "min_nodes": "-1"},
        **{"SlurmCluster:flavour": "slurm", "MlTraining:lustre_per_unit_throughput": "300"},
    )
    text = "\n".join(problems)
    assert "-c Genomics:transfer_hour_utc: transfer_hour_utc=25 is not valid; allowed: 0 to 23" in (
        text
    )
    assert "-c MlTraining:nodes: nodes=0" in text
    assert "-c min_nodes: min_nodes=-1" in text
    assert "-c SlurmCluster:flavour: flavour='slurm'" in text
    assert "-c MlTraining:lustre_per_unit_throughput: lustre_per_unit_throughput=300" in text


def test_fails_on_an_unknown_region_with_the_closest_one() -> None:
    (problem,) = _problems(**{"hpc-constructs:region": "us-west-3"})
    assert problem.startswith("-c hpc-constructs:region: region='us-west-3' is not valid")
    assert "did you mean" in problem
    assert "us-west-2" in problem


def test_fails_when_a_type_is_not_offered_in_the_region_naming_its_key() -> None:
    problems = _problems(**{"hpc-constructs:region": "us-west-2"})
    assert len(problems) == 2, problems
    text = "\n".join(problems)
    assert "-c MpiCluster:instance_type (default): instance_type='hpc7a.96xlarge'" in text
    assert "-c SlurmCluster:instance_type (default)" in text
    assert "not offered in us-west-2" in text


def test_construct_problems_name_the_context_key() -> None:
    problems = _problems(True, **{"MpiCluster:lustre_capacity_gib": "3600"})
    text = "\n".join(problems)
    assert "-c MpiCluster:lustre_capacity_gib (MpiCluster/Scratch)" in text, text


def test_genomics_drops_the_efa_job_when_the_type_has_no_efa() -> None:
    app = make_app(**{"Genomics:instance_type": "c5.18xlarge"})
    stacks = {s.stack_name: s for s in add_sample_stacks(app)}
    genomics = stacks["Genomics"]
    assert genomics.job is None
    kinds = [
        c.cfn_resource_type for c in genomics.node.find_all() if isinstance(c, cdk.CfnResource)
    ]
    assert "AWS::Batch::JobDefinition" not in kinds


def test_default_compute_azs_offer_every_instance_type() -> None:
    from hpc_constructs.catalog import InstanceCatalog
    from stacks.config import compute_types

    app = make_app()
    for stack in add_sample_stacks(app):
        if not hasattr(stack, "fabric"):
            continue  # HpcPortfolio: its products' fabrics are per product version
        az = stack.fabric.compute_availability_zone
        for name in compute_types(stack.config).values():  # type: ignore[attr-defined]
            assert az in InstanceCatalog.get(name).zones["us-east-2"], (stack.stack_name, name)
