"""HpcDashboard, its alarms, CostAllocationTags and HpcBudget: one composed stack (NetworkFabric,
a Spot EfaComputeFleet, LustreScratch, an fsx.LustreFileSystem, DataIngest, BatchMultiNode,
BatchGrid) synthesized once; rules and bad input on plain values, without synthesis."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_fsx as fsx
from aws_cdk import aws_sns as sns

import hpc_constructs as hc
from hpc_constructs import telemetry as tm
from hpc_constructs.errors import HpcValidationError, Validator
from hpc_constructs.ops import facts
from hpc_constructs.ops.plan import (
    AlarmThresholds,
    free_capacity_threshold_bytes,
    plan_budget,
    thresholds_rule,
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

IMAGE = "public.ecr.aws/amazonlinux/amazonlinux:2023"
AGENT = "arn:aws:datasync:us-east-2:123456789012:agent/agent-0123456789abcdef0"


@dataclass
class Ops:
    synth: Synthesized
    stack: cdk.Stack
    fleet: hc.EfaComputeFleet
    scratch: hc.LustreScratch
    plain: fsx.LustreFileSystem
    ingest: hc.DataIngest
    batch: hc.BatchMultiNode
    grid: hc.BatchGrid
    dashboard: hc.HpcDashboard
    budget: hc.HpcBudget

    @property
    def template(self) -> dict[str, Any]:
        return self.synth.template_dict(self.stack)

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: r for k, r in self.template["Resources"].items() if r["Type"] == kind}

    def ref(self, construct: Any) -> str:
        node = construct.node.default_child or construct
        return str(self.stack.resolve(node.logical_id))

    def props(self, construct: Any) -> dict[str, Any]:
        props: dict[str, Any] = self.template["Resources"][self.ref(construct)]["Properties"]
        return props


def _stack(app: cdk.App) -> tuple[cdk.Stack, dict[str, Any]]:
    stack = cdk.Stack(app, "Ops", env=TEST_ENV)
    fabric = hc.NetworkFabric(stack, "Fabric", compute_availability_zone="us-east-2b")
    subnets = fabric.compute_subnets
    fleet = hc.EfaComputeFleet(
        stack,
        "Fleet",
        vpc=fabric.vpc,
        vpc_subnets=subnets,
        instance_types=["p4d.24xlarge"],
        max_nodes=4,
        capacity=hc.FleetCapacity.spot(),
    )
    scratch = hc.LustreScratch(
        stack, "Scratch", vpc=fabric.vpc, vpc_subnets=subnets, storage_capacity_gib=1200
    )
    cdk.Validations.of(scratch).acknowledge(
        cdk.Acknowledgment(id=hc.warning_ids.SCRATCH_WITHOUT_EXPORT, reason="Test scratch")
    )
    plain = fsx.LustreFileSystem(
        stack,
        "Plain",
        vpc=fabric.vpc,
        vpc_subnet=fabric.compute_subnet,
        storage_capacity_gib=2400,
        lustre_configuration=fsx.LustreConfiguration(
            deployment_type=fsx.LustreDeploymentType.SCRATCH_2
        ),
    )
    ingest = hc.DataIngest(stack, "Ingest", vpc=fabric.vpc)
    ingest.add_task(
        "Genomes",
        source=hc.DataSyncSource.nfs(
            server_hostname="nas.corp.example.com", export_path="/exports", agent_arns=[AGENT]
        ),
        destination=hc.DataSyncDestination.landing_bucket(prefix="genomes/"),
    )
    batch = hc.BatchMultiNode(
        stack,
        "Batch",
        vpc=fabric.vpc,
        vpc_subnets=subnets,
        instance_type="c5n.18xlarge",
        max_nodes=4,
        file_systems={"/scratch": scratch},
    )
    batch.add_job(
        "Ping", image=IMAGE, command=hc.BatchMultiNode.efa_pingpong_command(), num_nodes=2
    )
    grid = hc.BatchGrid(
        stack,
        "Grid",
        vpc=fabric.vpc,
        vpc_subnets=subnets,
        instance_types=["c6i.4xlarge", "m6i.4xlarge"],
        max_vcpus=256,
    )
    return stack, {
        "fleet": fleet,
        "scratch": scratch,
        "plain": plain,
        "ingest": ingest,
        "batch": batch,
        "grid": grid,
    }


@pytest.fixture(scope="module")
def ops() -> Ops:
    app = make_app()
    stack, parts = _stack(app)
    dashboard = hc.HpcDashboard(stack, "Operations", dashboard_name="hpc-ops")
    for part in parts.values():
        dashboard.add(part)
    assert dashboard.alarm_topic is not None
    tags = hc.CostAllocationTags.apply(app, project="cfd", owner="hpc-team@example.com")
    budget = hc.HpcBudget(
        stack,
        "Budget",
        monthly_limit_usd=25_000,
        notify_emails=["hpc-team@example.com"],
        notify_topic=dashboard.alarm_topic,
        tags=tags.budget_filter,
    )
    return Ops(synthesize(app), stack, dashboard=dashboard, budget=budget, **parts)


def test_cfn_lint_clean(ops: Ops) -> None:
    assert_cfn_lint_clean(ops.template)


def test_nag_clean(ops: Ops) -> None:
    assert_nag_clean(ops.synth)


# --- the dashboard body --------------------------------------------------------------------


def _body(ops: Ops) -> dict[str, Any]:
    """The DashboardBody with each CloudFormation token replaced by ``TOKEN<n>`` and the tokens
    kept in ``body["tokens"]``."""
    body = ops.props(ops.dashboard.dashboard)["DashboardBody"]
    parts = body["Fn::Join"][1] if isinstance(body, dict) else [body]
    tokens: dict[str, Any] = {}
    text = ""
    for part in parts:
        if isinstance(part, str):
            text += part
        else:
            name = f"TOKEN{len(tokens)}"
            tokens[name] = part
            text += name
    parsed: dict[str, Any] = json.loads(text)
    parsed["tokens"] = tokens
    return parsed


def _metrics(ops: Ops) -> list[tuple[str, str, dict[str, Any]]]:
    """(namespace, metric, dimensions) of every metric on the dashboard, tokens resolved."""
    body = _body(ops)
    found = []
    for widget in body["widgets"]:
        for row in widget.get("properties", {}).get("metrics", []):
            names = [x for x in row if not isinstance(x, dict)]
            if len(names) < 2 or names[0] == ".":
                continue
            dims = dict(zip(names[2::2], names[3::2], strict=True))
            found.append(
                (names[0], names[1], {k: body["tokens"].get(v, v) for k, v in dims.items()})
            )
    return found


def _has(ops: Ops, namespace: str, name: str, dims: dict[str, Any]) -> bool:
    return (namespace, name, dims) in _metrics(ops)


def test_fleet_widgets_reference_its_group_and_node_group(ops: Ops) -> None:
    group = {facts.AUTOSCALING_DIMENSION: {"Ref": ops.ref(ops.fleet.auto_scaling_group)}}
    for name in (facts.GROUP_IN_SERVICE_INSTANCES, facts.GROUP_DESIRED_CAPACITY):
        assert _has(ops, facts.AUTOSCALING_NAMESPACE, name, group)
    node_group = {tm.NODE_GROUP_DIMENSION: "Ops/Fleet"}
    # p4d: GPU and EFA metrics; every node metric is one of the telemetry contract.
    for name in ("cpu_usage_active", "mem_used_percent", "nvidia_smi_utilization_gpu"):
        assert _has(ops, tm.NODE_METRICS_NAMESPACE, name, node_group)
    for name in ("efa_rx_bytes", "efa_tx_bytes", "efa_retrans_pkts"):
        assert _has(ops, tm.NODE_METRICS_NAMESPACE, name, node_group)
    for name in (tm.BOOT_FAILURES_METRIC, tm.BOOT_SUCCESSES_METRIC):
        assert _has(ops, tm.NODE_METRICS_NAMESPACE, name, node_group)
    contract = {
        *tm.CPU_METRICS,
        *tm.MEMORY_METRICS,
        *tm.DISK_METRICS,
        *tm.EFA_METRICS,
        *tm.GPU_METRICS,
        tm.BOOT_FAILURES_METRIC,
        tm.BOOT_SUCCESSES_METRIC,
    }
    node_metrics = [m for m in _metrics(ops) if m[0] == tm.NODE_METRICS_NAMESPACE]
    assert node_metrics
    assert all(
        name in contract and set(dims) == {tm.NODE_GROUP_DIMENSION}
        for _, name, dims in node_metrics
    )


def test_spot_interruptions_and_launch_failures_count_rule_matches(ops: Ops) -> None:
    assert ops.fleet.interruption_rules
    for rule in ops.fleet.interruption_rules:
        assert _has(
            ops, facts.EVENTS_NAMESPACE, facts.TRIGGERED_RULES, {"RuleName": {"Ref": ops.ref(rule)}}
        )
    launch = next(r for r in ops.dashboard.rules if r.node.id == "LaunchFailedRule")
    pattern = ops.props(launch)["EventPattern"]
    assert pattern["source"] == ["aws.autoscaling"]
    assert pattern["detail-type"] == ["EC2 Instance Launch Unsuccessful"]
    assert pattern["detail"]["AutoScalingGroupName"] == [
        {"Ref": ops.ref(ops.fleet.auto_scaling_group)}
    ]
    assert _has(
        ops, facts.EVENTS_NAMESPACE, facts.TRIGGERED_RULES, {"RuleName": {"Ref": ops.ref(launch)}}
    )


def test_lustre_widgets_reference_each_file_system(ops: Ops) -> None:
    for file_system in (ops.scratch.file_system, ops.plain):
        dims = {facts.FSX_DIMENSION: {"Ref": ops.ref(file_system)}}
        for name in (
            facts.DATA_READ_BYTES,
            facts.DATA_WRITE_BYTES,
            facts.METADATA_OPERATIONS,
            facts.FREE_DATA_STORAGE_CAPACITY,
        ):
            assert _has(ops, facts.FSX_NAMESPACE, name, dims), (file_system, name)


def test_datasync_widgets_use_the_task_id(ops: Ops) -> None:
    task = ops.ingest.tasks[0]
    task_id = {
        "Fn::Select": [1, {"Fn::Split": ["/", {"Fn::GetAtt": [ops.ref(task.task), "TaskArn"]}]}]
    }
    for name in (facts.BYTES_TRANSFERRED, facts.FILES_TRANSFERRED):
        assert _has(ops, facts.DATASYNC_NAMESPACE, name, {facts.DATASYNC_DIMENSION: task_id})
    failed = next(r for r in ops.dashboard.rules if r.node.id == "ExecutionFailedRule")
    pattern = ops.props(failed)["EventPattern"]
    assert pattern["detail"] == {"State": ["ERROR"]}
    assert pattern["resources"] == [{"prefix": {"Fn::GetAtt": [ops.ref(task.task), "TaskArn"]}}]


def test_batch_job_states_come_from_one_rule_per_state_on_its_queues(ops: Ops) -> None:
    for launcher, queues in ((ops.batch, [ops.batch.job_queue]), (ops.grid, ops.grid.job_queues)):
        scope = next(
            c
            for c in ops.dashboard.node.children
            if c.node.id == launcher.node.path.replace("/", "-")
        )
        rules = [
            r
            for r in ops.dashboard.rules
            if r.node.scope is scope and r.node.id != "HostReclaimedRule"
        ]
        assert len(rules) == len(facts.BATCH_EVENT_STATES)
        states = set()
        for rule in rules:
            pattern = ops.props(rule)["EventPattern"]
            assert pattern["detail-type"] == ["Batch Job State Change"]
            assert pattern["detail"]["jobQueue"] == [
                {"Fn::GetAtt": [ops.ref(q), "JobQueueArn"]} for q in queues
            ]
            states.update(pattern["detail"]["status"])
            dims = {"RuleName": {"Ref": ops.ref(rule)}}
            assert _has(ops, facts.EVENTS_NAMESPACE, facts.TRIGGERED_RULES, dims)
        assert states == set(facts.BATCH_EVENT_STATES)
        assert _has(
            ops, tm.NODE_METRICS_NAMESPACE, "cpu_usage_active", {"NodeGroup": launcher.node.path}
        )


def test_every_rule_delivers_to_the_encrypted_event_log(ops: Ops) -> None:
    log = ops.props(ops.dashboard.event_log)
    assert "KmsKeyId" in log
    assert log["RetentionInDays"] == 365
    assert ops.template["Resources"][ops.ref(ops.dashboard.event_log)]["DeletionPolicy"] == "Retain"
    for rule in ops.dashboard.rules:
        targets = ops.props(rule)["Targets"]
        assert len(targets) == 1
        assert "log-group:" in json.dumps(targets[0]["Arn"])
    policies = json.dumps(list(ops.of_type("AWS::Logs::ResourcePolicy").values()))
    assert "events.amazonaws.com" in policies


def test_spot_grid_counts_tasks_requeued_after_a_reclaim_and_alarms_on_job_failures(
    ops: Ops,
) -> None:
    """A Spot grid: a rule on RUNNABLE events of its queues whose attempts ended with the
    Batch host-reclaimed reason, a SpotInterruptions alarm on it; every Batch construct: a
    JobFailures alarm on its FAILED rule."""
    (reclaimed,) = [r for r in ops.dashboard.rules if r.node.id == "HostReclaimedRule"]
    assert reclaimed.node.scope is not None
    assert reclaimed.node.scope.node.id == ops.grid.node.path.replace("/", "-")
    pattern = ops.props(reclaimed)["EventPattern"]
    assert pattern["detail"]["status"] == ["RUNNABLE"]
    assert pattern["detail"]["attempts"] == {"statusReason": [{"prefix": "Host EC2"}]}
    assert pattern["detail"]["jobQueue"] == [
        {"Fn::GetAtt": [ops.ref(q), "JobQueueArn"]} for q in ops.grid.job_queues
    ]
    alarms = {a.node.path: ops.props(a) for a in ops.dashboard.alarms}
    (spot,) = [a for p, a in alarms.items() if p.endswith("-Grid/SpotInterruptions")]
    assert spot["Threshold"] == 3
    assert (spot.get("Period") or spot["Metrics"][0]["MetricStat"]["Period"]) == 3600
    failures = [a for p, a in alarms.items() if p.endswith("/JobFailures")]
    assert len(failures) == 2  # the BatchMultiNode and the grid
    assert all(a["Threshold"] == 1 for a in failures)


# --- alarms, topic, budget and tags -------------------------------------------------------------


def test_alarms_have_documented_defaults_and_notify_the_encrypted_topic(ops: Ops) -> None:
    alarms = {a.node.path.split("/")[-1]: a for a in ops.dashboard.alarms}
    topic = {"Ref": ops.ref(ops.dashboard.alarm_topic)}
    for alarm in ops.dashboard.alarms:
        assert ops.props(alarm)["AlarmActions"] == [topic]
    kinds = sorted(alarm.node.id for alarm in ops.dashboard.alarms)
    assert kinds.count("BootFailures") == 3  # fleet, Batch, grid
    assert kinds.count("FreeCapacity") == 2
    assert {"LaunchFailures", "SpotInterruptions", "TaskFailures"} <= set(kinds)
    free = [ops.props(a) for a in ops.dashboard.alarms if a.node.id == "FreeCapacity"]
    assert sorted(p["Threshold"] for p in free) == [1200 * 2**30 * 0.1, 2400 * 2**30 * 0.1]
    assert all(p["ComparisonOperator"] == "LessThanThreshold" for p in free)
    spot = ops.props(alarms["SpotInterruptions"])
    assert spot["Threshold"] == 3
    assert (spot.get("Period") or spot["Metrics"][0]["MetricStat"]["Period"]) == 3600
    assert ops.props(alarms["BootFailures"])["Threshold"] == 1
    topic_props = ops.props(ops.dashboard.alarm_topic)
    assert "KmsMasterKeyId" in topic_props
    key = ops.props(ops.dashboard.key)
    assert key["EnableKeyRotation"] is True
    assert "budgets.amazonaws.com" in json.dumps(key["KeyPolicy"])


def test_budget_filters_by_the_project_tag_and_notifies(ops: Ops) -> None:
    budget = ops.props(ops.budget.cfn_budget)
    data = budget["Budget"]
    assert data["BudgetType"] == "COST"
    assert data["TimeUnit"] == "MONTHLY"
    assert data["BudgetLimit"] == {"Amount": 25000, "Unit": "USD"}
    assert data["FilterExpression"] == {
        "Tags": {"Key": "hpc:project", "Values": ["cfd"], "MatchOptions": ["EQUALS"]}
    }
    kinds = {
        n["Notification"]["NotificationType"]: n for n in budget["NotificationsWithSubscribers"]
    }
    assert kinds["ACTUAL"]["Notification"]["Threshold"] == 80
    assert kinds["FORECASTED"]["Notification"]["Threshold"] == 100
    assert kinds["ACTUAL"]["Subscribers"] == [
        {"SubscriptionType": "EMAIL", "Address": "hpc-team@example.com"},
        {"SubscriptionType": "SNS", "Address": {"Ref": ops.ref(ops.dashboard.alarm_topic)}},
    ]
    policies = json.dumps(list(ops.of_type("AWS::SNS::TopicPolicy").values()))
    assert "budgets.amazonaws.com" in policies
    assert "arn:aws:budgets::123456789012:*" in policies


def _tags(props: dict[str, Any]) -> dict[str, Any]:
    return {t["Key"]: t["Value"] for t in props.get("Tags", [])}


def test_cost_allocation_tags_reach_every_taggable_resource(ops: Ops) -> None:
    asg = ops.props(ops.fleet.auto_scaling_group)
    tags = {t["Key"]: t for t in asg["Tags"]}
    assert tags["hpc:node-group"]["Value"] == "Ops/Fleet"
    assert tags["hpc:project"]["PropagateAtLaunch"] is True
    assert _tags(ops.props(ops.scratch.file_system)) == {
        "hpc:project": "cfd",
        "hpc:owner": "hpc-team@example.com",
        "hpc:stack": "Ops",
    }
    lt = ops.props(ops.batch.launch_template)["LaunchTemplateData"]
    instance = next(s for s in lt["TagSpecifications"] if s["ResourceType"] == "instance")
    assert {"Key": "hpc:node-group", "Value": "Ops/Batch"} in instance["Tags"]
    for resource in ops.template["Resources"].values():
        tags = resource["Properties"].get("Tags") if "Properties" in resource else None
        if isinstance(tags, list) and tags and "Key" in tags[0]:
            assert any(t["Key"] == "hpc:project" for t in tags), resource["Type"]


# --- rules and bad input, without synthesis ------------------------------------------------------


def _problems(call: Any) -> str:
    with pytest.raises(HpcValidationError) as err:
        call()
    return str(err.value)


def _budget(**kwargs: Any) -> Any:
    v = Validator("Stack/Budget")
    args: dict[str, Any] = {
        "monthly_limit_usd": 100.0,
        "notify_emails": ["a@example.com"],
        "has_topic": False,
        "actual_threshold_percent": 80.0,
        "forecast_threshold_percent": 100.0,
        "tags": {},
        "budget_name": None,
    }
    args.update(kwargs)
    plan = plan_budget(v, **args)
    v.raise_if_any()
    return plan


def test_fails_negative_budget() -> None:
    message = _problems(lambda: _budget(monthly_limit_usd=-5.0))
    assert "Stack/Budget: monthly_limit_usd=-5.0 is not valid" in message
    assert "more than 0" in message


def test_fails_budget_without_subscriber_or_with_bad_emails() -> None:
    assert "at least one email address, or a notify_topic" in _problems(
        lambda: _budget(notify_emails=[])
    )
    assert "notify_emails='not-an-email'" in _problems(
        lambda: _budget(notify_emails=["not-an-email"])
    )
    many = [f"u{i}@example.com" for i in range(11)]
    assert "at most 10 email addresses" in _problems(lambda: _budget(notify_emails=many))


def test_fails_budget_thresholds_name_and_tags() -> None:
    message = _problems(
        lambda: _budget(
            actual_threshold_percent=0.0,
            forecast_threshold_percent=5000.0,
            budget_name="a:b",
            tags={"aws:project": "x", "hpc:project": "bad{value}"},
        )
    )
    assert "actual_threshold_percent=0.0" in message
    assert "0.1 to 1000 %" in message
    assert "forecast_threshold_percent=5000.0" in message
    assert "budget_name='a:b'" in message
    assert "tags key='aws:project'" not in message
    assert "tags='aws:project'" in message
    assert "tags['hpc:project']='bad{value}'" in message


def test_fails_thresholds_out_of_range() -> None:
    v = Validator("Stack/Ops")
    thresholds_rule(
        v,
        AlarmThresholds(
            lustre_free_capacity_percent=0,
            lustre_free_capacity_gib=0.5,
            boot_failures=0,
            job_failures=0,
            spot_interruptions=5000,
            spot_interruption_window_minutes=2,
        ),
    )
    message = str(HpcValidationError(v.problems))
    assert (
        "alarm_thresholds.lustre_free_capacity_percent=0 is not valid; allowed: 1 to 99 %"
        in message
    )
    assert "alarm_thresholds.lustre_free_capacity_gib=0.5" in message
    assert "alarm_thresholds.boot_failures=0" in message
    assert "alarm_thresholds.job_failures=0 is not valid; allowed: 1 to 1000" in message
    assert "alarm_thresholds.spot_interruptions=5000" in message
    assert "alarm_thresholds.spot_interruption_window_minutes=2" in message
    assert "5 to 1440 minutes" in message


def test_free_capacity_threshold_in_bytes() -> None:
    v = Validator("x")
    assert free_capacity_threshold_bytes(v, AlarmThresholds(), 1200, "p") == int(1200 * 2**30 * 0.1)
    assert free_capacity_threshold_bytes(v, AlarmThresholds(), None, "p") is None
    gib = AlarmThresholds(lustre_free_capacity_gib=100)
    assert free_capacity_threshold_bytes(v, gib, None, "p") == 100 * 2**30
    assert not v.problems
    free_capacity_threshold_bytes(v, AlarmThresholds(lustre_free_capacity_gib=5000), 1200, "p")
    assert "less than the file system's 1200 GiB" in str(HpcValidationError(v.problems))


def _bare() -> tuple[cdk.Stack, ec2.Vpc]:
    stack = cdk.Stack(make_app(), "Bare", env=TEST_ENV)
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        max_azs=1,
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="C", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        ],
    )
    return stack, vpc


def test_fails_bad_dashboard_props() -> None:
    stack, _ = _bare()
    topic = sns.Topic(stack, "Topic")
    message = _problems(
        lambda: hc.HpcDashboard(
            stack,
            "Ops",
            dashboard_name="has space",
            alarm_topic=topic,
            alarm_action=cdk.aws_cloudwatch_actions.SnsAction(topic),
            alarm_thresholds=AlarmThresholds(launch_failures=0),
        )
    )
    assert "Bare/Ops: dashboard_name='has space'" in message
    assert "either alarm_topic or alarm_action" in message
    assert "alarm_thresholds.launch_failures=0" in message


def test_fails_adding_an_unknown_construct_or_twice() -> None:
    stack, vpc = _bare()
    dashboard = hc.HpcDashboard(stack, "Ops", alarms=False)
    assert dashboard.alarm_topic is None
    message = _problems(lambda: dashboard.add(vpc))
    assert "construct='Vpc Bare/Vpc'" in message
    assert "EfaComputeFleet" in message
    imported = hc.LustreScratch.from_attributes(
        stack,
        "Imported",
        file_system_id="fs-0123456789abcdef0",
        dns_name="fs-0123456789abcdef0.fsx.us-east-2.amazonaws.com",
        mount_name="abcdefgh",
        security_group=ec2.SecurityGroup(stack, "Sg", vpc=vpc),
    )
    dashboard.add(imported)
    assert "a construct not yet on this dashboard" in _problems(lambda: dashboard.add(imported))


def test_imported_lustre_warns_without_a_capacity() -> None:
    stack, vpc = _bare()
    group = ec2.SecurityGroup(stack, "Sg", vpc=vpc)
    imported = [
        hc.LustreScratch.from_attributes(
            stack,
            f"Imported{i}",
            file_system_id="fs-0123456789abcdef0",
            dns_name="fs-0123456789abcdef0.fsx.us-east-2.amazonaws.com",
            mount_name="abcdefgh",
            security_group=group,
        )
        for i in range(2)
    ]
    dashboard = hc.HpcDashboard(stack, "Ops")
    dashboard.add_file_system(imported[0])
    assert hc.warning_ids.LUSTRE_CAPACITY_UNKNOWN in warning_ids(dashboard)
    dashboard.add_file_system(imported[1], storage_capacity_gib=1200)
    assert [a.node.id for a in dashboard.alarms] == ["FreeCapacity"]


def test_tasks_added_after_the_ingest_are_reported() -> None:
    stack, vpc = _bare()
    ingest = hc.DataIngest(stack, "Ingest", vpc=vpc)
    dashboard = hc.HpcDashboard(stack, "Ops")
    dashboard.add_ingest(ingest)
    assert dashboard.node.validate() == []
    ingest.add_task(
        "Late",
        source=hc.DataSyncSource.nfs(
            server_hostname="nas.example.com", export_path="/x", agent_arns=[AGENT]
        ),
        destination=hc.DataSyncDestination.landing_bucket(),
    )
    assert dashboard.node.validate() == [
        "Bare/Ingest: 1 DataSync task(s) added after it was added to Bare/Ops are not on the "
        "dashboard; add it after its DataSync tasks"
    ]


def test_fails_bad_cost_allocation_tags() -> None:
    message = _problems(lambda: hc.CostAllocationTags(project="", owner="x" * 300))
    assert "project=''" in message
    assert "owner='xxx" in message
    assert "key_prefix" in _problems(lambda: hc.CostAllocationTags(project="p", key_prefix="aws:"))
