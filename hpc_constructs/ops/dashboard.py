"""``HpcDashboard``: one CloudWatch dashboard and its alarms for the library's constructs."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import aws_cdk as cdk
import jsii
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_fsx as fsx
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct, IValidation

from hpc_constructs import telemetry as tm
from hpc_constructs.batch import BatchMultiNode
from hpc_constructs.errors import HpcValidationError, Problem, Validator, check_prop_types, warn
from hpc_constructs.fleet import EfaComputeFleet
from hpc_constructs.grid import BatchGrid
from hpc_constructs.ingest import DataIngest
from hpc_constructs.lustre import LustreScratch, LustreScratchBase
from hpc_constructs.nodes import NodeLauncher
from hpc_constructs.ops import facts
from hpc_constructs.ops._render import (
    LogGroupTarget,
    encrypted_topic,
    event_log,
    graph,
    metric,
    ops_key,
    rows,
    triggered,
)
from hpc_constructs.ops.plan import (
    AlarmThresholds,
    dashboard_name_rule,
    free_capacity_threshold_bytes,
    thresholds_rule,
)
from hpc_constructs.slurm import ParallelCluster, PcsCluster

#: What ``HpcDashboard.add`` accepts.
ACCEPTED = (
    "EfaComputeFleet, BatchMultiNode, BatchGrid, LustreScratch, fsx.LustreFileSystem, "
    "DataIngest, PcsCluster, ParallelCluster or another NodeLauncher"
)
LustreInput = LustreScratchBase | fsx.LustreFileSystem
BatchInput = BatchMultiNode | BatchGrid
ClusterInput = PcsCluster | ParallelCluster


def _contract(name: str, group: tuple[str, ...]) -> str:
    """A node metric name, checked against the telemetry contract when this module loads."""
    if name not in group:
        raise AssertionError(f"{name} is not a node metric of hpc_constructs.telemetry")
    return name


CPU_ACTIVE = _contract("cpu_usage_active", tm.CPU_METRICS)
MEMORY_USED = _contract("mem_used_percent", tm.MEMORY_METRICS)
GPU_UTILIZATION = _contract("nvidia_smi_utilization_gpu", tm.GPU_METRICS)
GPU_MEMORY_UTILIZATION = _contract("nvidia_smi_utilization_memory", tm.GPU_METRICS)
EFA_RX_BYTES = _contract("efa_rx_bytes", tm.EFA_METRICS)
EFA_TX_BYTES = _contract("efa_tx_bytes", tm.EFA_METRICS)
EFA_RETRANS_PKTS = _contract("efa_retrans_pkts", tm.EFA_METRICS)
EFA_RETRANS_TIMEOUTS = _contract("efa_retrans_timeout_events", tm.EFA_METRICS)


class HpcDashboard(Construct):
    """A CloudWatch dashboard with the widgets an HPC operator reads, and alarms with
    documented defaults, for any of the library's constructs: ``add(construct)`` or
    ``add_fleet``, ``add_file_system``, ``add_ingest``, ``add_batch``, ``add_cluster``,
    ``add_node_group``.

    Creates: an ``AWS::CloudWatch::Dashboard``; one KMS key (rotation on); unless
    ``alarm_topic`` or ``alarm_action`` is given, an SNS topic encrypted with it (TLS only)
    that every alarm notifies; an encrypted log group (``event_log``) receiving the events of
    the EventBridge rules the dashboard adds (Batch job states, Auto Scaling launch failures,
    DataSync executions), so the events behind every count can be read.

    :param dashboard_name: Default: - a name CloudFormation generates.
    :param alarms: create the alarms. Default: - True.
    :param alarm_thresholds: when the alarms fire. Default: - ``AlarmThresholds()``.
    :param alarm_topic: the SNS topic every alarm notifies. Default: - a new encrypted topic
        (``alarm_topic``); subscribe to it (email, chat, pager).
    :param alarm_action: a CloudWatch alarm action instead of a topic (an SSM OpsItem, a
        Lambda function...). Default: - the alarm topic.
    :param event_log_retention: how long the event log keeps events.
        Default: - one year.
    """

    @check_prop_types
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        dashboard_name: str | None = None,
        alarms: bool = True,
        alarm_thresholds: AlarmThresholds | None = None,
        alarm_topic: sns.ITopic | None = None,
        alarm_action: cw.IAlarmAction | None = None,
        event_log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
    ) -> None:
        thresholds = alarm_thresholds or AlarmThresholds()
        v = Validator(f"{scope.node.path}/{id}" if scope.node.path else id)
        dashboard_name_rule(v, dashboard_name)
        thresholds_rule(v, thresholds)
        v.require(
            alarm_topic is None or alarm_action is None,
            "alarm_action",
            "<alarm action>",
            "either alarm_topic or alarm_action, not both",
        )
        v.raise_if_any()
        super().__init__(scope, id)
        self.thresholds = thresholds
        self.alarms_enabled = alarms
        self.alarms: list[cw.Alarm] = []
        self.rules: list[events.Rule] = []
        self._retention = event_log_retention
        self._key: kms.Key | None = None
        self._event_log: tuple[logs.LogGroup, logs.ResourcePolicy] | None = None
        self._added: dict[str, Construct] = {}
        self._late_checks: list[Callable[[], str | None]] = []
        self.alarm_topic: sns.ITopic | None = alarm_topic
        if alarms and alarm_topic is None and alarm_action is None:
            self.alarm_topic = encrypted_topic(self, "AlarmTopic", self.key, "HPC alarms")
        self.alarm_action: cw.IAlarmAction | None = alarm_action or (
            cw_actions.SnsAction(self.alarm_topic) if self.alarm_topic is not None else None
        )
        self.dashboard = cw.Dashboard(
            self,
            "Dashboard",
            dashboard_name=dashboard_name,
            default_interval=cdk.Duration.hours(3),
        )
        self.node.add_validation(_LateAdditions(self._late_checks))

    # --- shared resources ---------------------------------------------------------------------

    @property
    def key(self) -> kms.Key:
        """The KMS key of the alarm topic and the event log (created on first use)."""
        if self._key is None:
            self._key = ops_key(
                self, "Key", f"Encrypts the alarm topic and event log of {self.node.path}"
            )
        return self._key

    @property
    def event_log(self) -> logs.LogGroup:
        """The log group the dashboard's EventBridge rules deliver to (created on first use)."""
        if self._event_log is None:
            self._event_log = event_log(self, self.key, self._retention)
        return self._event_log[0]

    def _rule(
        self, scope: Construct, id: str, description: str, pattern: events.EventPattern
    ) -> events.Rule:
        log_group = self.event_log
        assert self._event_log is not None
        rule = events.Rule(
            scope,
            id,
            description=description[:512],
            event_pattern=pattern,
            targets=[LogGroupTarget(log_group)],
        )
        rule.node.add_dependency(self._event_log[1])
        self.rules.append(rule)
        return rule

    def _alarm(
        self,
        scope: Construct,
        id: str,
        *,
        metric: cw.IMetric,
        threshold: float,
        description: str,
        below: bool = False,
        evaluation_periods: int = 1,
    ) -> cw.Alarm | None:
        if not self.alarms_enabled:
            return None
        alarm = cw.Alarm(
            scope,
            id,
            metric=metric,
            threshold=threshold,
            evaluation_periods=evaluation_periods,
            comparison_operator=cw.ComparisonOperator.LESS_THAN_THRESHOLD
            if below
            else cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cw.TreatMissingData.MISSING
            if below
            else cw.TreatMissingData.NOT_BREACHING,
            alarm_description=description[:1024],
        )
        if self.alarm_action is not None:
            alarm.add_alarm_action(self.alarm_action)
        self.alarms.append(alarm)
        return alarm

    def _spot_alarm(
        self, scope: Construct, rule: events.Rule, label: str, describe: Callable[[int], str]
    ) -> None:
        """``SpotInterruptions``: ``rule`` matched ``spot_interruptions`` times or more within
        ``spot_interruption_window_minutes`` (``describe(window)`` is the alarm's text)."""
        window = self.thresholds.spot_interruption_window_minutes
        self._alarm(
            scope,
            "SpotInterruptions",
            metric=triggered(rule, label, minutes=window),
            threshold=self.thresholds.spot_interruptions,
            description=describe(window),
        )

    def _begin(self, construct: Construct, prop: str) -> Construct:
        path = construct.node.path
        if path in self._added:
            raise HpcValidationError(
                [Problem(self.node.path, prop, path, "a construct not yet on this dashboard")]
            )
        scope = Construct(self, path.replace("/", "-") or "Root")
        self._added[path] = scope
        return scope

    def _show(self, title: str, widgets: Sequence[cw.IWidget]) -> None:
        self.dashboard.add_widgets(cw.TextWidget(markdown=f"### {title}", width=24, height=1))
        for row in rows(widgets):
            self.dashboard.add_widgets(*row)

    # --- what can be added --------------------------------------------------------------------

    def add(self, construct: Construct) -> None:
        """Add any of the library's constructs (dispatches to the ``add_*`` method of its kind)."""
        if isinstance(construct, EfaComputeFleet):
            self.add_fleet(construct)
        elif isinstance(construct, (LustreScratchBase, fsx.LustreFileSystem)):
            self.add_file_system(construct)
        elif isinstance(construct, DataIngest):
            self.add_ingest(construct)
        elif isinstance(construct, (BatchMultiNode, BatchGrid)):
            self.add_batch(construct)
        elif isinstance(construct, (PcsCluster, ParallelCluster)):
            self.add_cluster(construct)
        elif isinstance(construct, NodeLauncher):
            self.add_node_group(construct)
        else:
            shown = f"{type(construct).__name__} {construct.node.path}"
            raise HpcValidationError([Problem(self.node.path, "construct", shown, ACCEPTED)])

    @check_prop_types
    def add_node_group(self, launcher: NodeLauncher, *, title: str | None = None) -> None:
        """CPU, memory, GPU, EFA and boot widgets of any node launcher (from the node metrics
        of :mod:`hpc_constructs.telemetry`) and its boot-failure alarm."""
        scope = self._begin(launcher, "launcher")
        self._show(title or f"Nodes {launcher.node.path}", self._node_widgets(scope, launcher))

    def _node_widgets(self, scope: Construct, launcher: NodeLauncher) -> list[cw.IWidget]:
        dims = {tm.NODE_GROUP_DIMENSION: launcher.node.path}

        def node(name: str, statistic: str = "Average", label: str | None = None) -> cw.Metric:
            return metric(tm.NODE_METRICS_NAMESPACE, name, dims, statistic=statistic, label=label)

        efa, gpu = launcher_kind(launcher)
        failures = node(tm.BOOT_FAILURES_METRIC, "Sum", "Failed boots")
        widgets: list[cw.IWidget] = [
            graph(
                "CPU and memory (%)",
                [
                    node(CPU_ACTIVE, label="CPU, average node"),
                    node(CPU_ACTIVE, "Maximum", "CPU, busiest node"),
                    node(MEMORY_USED, label="Memory, average node"),
                ],
                unit="%",
            ),
            graph(
                "Node boots (health gate)",
                [node(tm.BOOT_SUCCESSES_METRIC, "Sum", "Successful boots"), failures],
                unit="boots",
            ),
        ]
        if gpu:
            widgets.append(
                graph(
                    "GPU utilisation (%)",
                    [
                        node(GPU_UTILIZATION, label="GPU, average"),
                        node(GPU_UTILIZATION, "Maximum", "GPU, busiest"),
                        node(GPU_MEMORY_UTILIZATION, label="GPU memory, average"),
                    ],
                    unit="%",
                )
            )
        if efa:
            widgets.append(
                graph(
                    "EFA bytes and retransmits",
                    [
                        node(EFA_RX_BYTES, "Sum", "Received bytes"),
                        node(EFA_TX_BYTES, "Sum", "Sent bytes"),
                    ],
                    right=[
                        node(EFA_RETRANS_PKTS, "Sum", "Retransmitted packets"),
                        node(EFA_RETRANS_TIMEOUTS, "Sum", "Retransmit timeouts"),
                    ],
                    unit="bytes",
                    right_unit="count",
                )
            )
        self._alarm(
            scope,
            "BootFailures",
            metric=failures,
            threshold=self.thresholds.boot_failures,
            description=f"Nodes of {launcher.node.path} failed their boot (set-up or health gate) "
            "in the last 5 minutes. Read the boot log of the failed instance "
            "(/var/log/hpc-constructs-boot.log, or its node log group).",
        )
        return widgets

    @check_prop_types
    def add_fleet(self, fleet: EfaComputeFleet) -> None:
        """Nodes in service vs desired, node metrics, launch failures and Spot interruptions
        of an :class:`EfaComputeFleet`, with their alarms."""
        scope = self._begin(fleet, "fleet")
        group_name = fleet.auto_scaling_group.auto_scaling_group_name
        dims = {facts.AUTOSCALING_DIMENSION: group_name}

        def group(name: str, label: str) -> cw.Metric:
            return metric(facts.AUTOSCALING_NAMESPACE, name, dims, label=label, minutes=1)

        widgets: list[cw.IWidget] = [
            graph(
                "Nodes in service vs desired",
                [
                    group(facts.GROUP_IN_SERVICE_INSTANCES, "In service"),
                    group(facts.GROUP_DESIRED_CAPACITY, "Desired"),
                    group(facts.GROUP_PENDING_INSTANCES, "Pending (booting, health gate)"),
                ],
                unit="nodes",
            )
        ]
        widgets += self._node_widgets(scope, fleet)
        widgets.append(self._fleet_events(scope, fleet, group_name))
        self._show(f"Fleet {fleet.node.path}", widgets)

    def _fleet_events(
        self, scope: Construct, fleet: EfaComputeFleet, group_name: str
    ) -> cw.IWidget:
        launch_rule = self._rule(
            scope,
            "LaunchFailedRule",
            f"Unsuccessful launches of the Auto Scaling group of {fleet.node.path}",
            events.EventPattern(
                source=[facts.AUTOSCALING_SOURCE],
                detail_type=[facts.LAUNCH_UNSUCCESSFUL],
                detail={"AutoScalingGroupName": [group_name]},
            ),
        )
        failed = triggered(launch_rule, "Unsuccessful launches")
        counts = [failed] + [triggered(r, _rule_label(r)) for r in fleet.interruption_rules]
        self._alarm(
            scope,
            "LaunchFailures",
            metric=failed,
            threshold=self.thresholds.launch_failures,
            description=f"The Auto Scaling group of {fleet.node.path} could not launch nodes. "
            f"Read StatusMessage in the event log {self.event_log.log_group_name} "
            "(insufficient capacity, quota, subnet or launch template errors).",
        )
        spot = next(
            (r for r in fleet.interruption_rules if r.node.id == "SpotInterruptionRule"), None
        )
        if spot is not None:
            self._spot_alarm(
                scope,
                spot,
                "Spot interruption warnings",
                lambda window: (
                    f"Repeated Spot interruption warnings within {window} minutes "
                    f"(the rule of {fleet.node.path} counts every Spot warning in the account "
                    "and Region). Consider more instance types, other AZs, or On-Demand capacity."
                ),
            )
        return graph("Launch failures and Spot interruptions", counts, unit="events")

    @check_prop_types
    def add_file_system(
        self, file_system: LustreInput, *, storage_capacity_gib: float | None = None
    ) -> None:
        """Throughput, operations and free capacity of an FSx for Lustre file system, and its
        free-capacity alarm. ``storage_capacity_gib``: the capacity, for an imported file
        system (Default: - read from the construct)."""
        scope = self._begin(file_system, "file_system")
        dims = {facts.FSX_DIMENSION: file_system.file_system_id}

        def fsx_metric(name: str, minutes: int = 5) -> cw.Metric:
            return metric(facts.FSX_NAMESPACE, name, dims, statistic="Sum", minutes=minutes)

        def per_second(name: str, label: str) -> cw.MathExpression:
            id = name[0].lower() + name[1:]  # ids must differ within a graph
            return cw.MathExpression(
                expression=f"{id} / PERIOD({id})",
                using_metrics={id: fsx_metric(name)},
                label=label,
            )

        capacity = storage_capacity_gib or lustre_capacity_gib(file_system)
        v = Validator(self)
        threshold = free_capacity_threshold_bytes(
            v, self.thresholds, capacity, "alarm_thresholds.lustre_free_capacity_gib"
        )
        v.raise_if_any()
        free = fsx_metric(facts.FREE_DATA_STORAGE_CAPACITY, minutes=1)
        free_gib = cw.MathExpression(
            expression=f"f / {facts.GIB}",
            using_metrics={"f": free},
            label="Free GiB",
            period=cdk.Duration.minutes(1),
        )
        annotation = (
            cw.HorizontalAnnotation(value=threshold / facts.GIB, label="Alarm below")
            if threshold is not None
            else None
        )
        widgets: list[cw.IWidget] = [
            graph(
                "Lustre throughput (bytes/s)",
                [
                    per_second(facts.DATA_READ_BYTES, "Read"),
                    per_second(facts.DATA_WRITE_BYTES, "Write"),
                ],
                unit="bytes/s",
            ),
            graph(
                "Lustre operations (/s)",
                [
                    per_second(facts.METADATA_OPERATIONS, "Metadata"),
                    per_second(facts.DATA_READ_OPERATIONS, "Read"),
                    per_second(facts.DATA_WRITE_OPERATIONS, "Write"),
                ],
                unit="ops/s",
            ),
            graph("Lustre free capacity (GiB)", [free_gib], unit="GiB", annotation=annotation),
        ]
        self._free_capacity_alarm(scope, file_system, free, threshold)
        self._show(f"Lustre {file_system.node.path}", widgets)

    def _free_capacity_alarm(
        self, scope: Construct, file_system: Construct, free: cw.Metric, threshold: int | None
    ) -> None:
        if not self.alarms_enabled:
            return
        if threshold is None:
            warn(
                self,
                "lustreCapacityUnknown",
                f"No free-capacity alarm for {file_system.node.path}: its storage capacity is "
                "unknown (imported). Pass add_file_system(..., storage_capacity_gib=) or "
                "AlarmThresholds(lustre_free_capacity_gib=).",
            )
            return
        self._alarm(
            scope,
            "FreeCapacity",
            metric=free,
            threshold=threshold,
            below=True,
            evaluation_periods=5,
            description=f"Lustre file system {file_system.node.path} has less than "
            f"{threshold / facts.GIB:,.0f} GiB free. Delete or export (release) data, or "
            "increase its storage capacity (persistent deployments) before writes fail.",
        )

    @check_prop_types
    def add_ingest(self, ingest: DataIngest) -> None:
        """Bytes and files transferred per DataSync task, task executions that succeeded or
        failed, and the task-failure alarm, for a :class:`DataIngest` (add it after its
        tasks: tasks added later are reported at synth)."""
        scope = self._begin(ingest, "ingest")
        tasks = list(ingest.tasks)
        self._late_checks.append(
            lambda: _late(ingest, len(ingest.tasks) - len(tasks), "DataSync task", self)
        )
        if not tasks:
            self._show(
                f"Data ingest {ingest.node.path}",
                [cw.TextWidget(markdown="No DataSync task yet.", width=24, height=1)],
            )
            return

        def task_metric(name: str, transfer: Construct, task_arn: str) -> cw.Metric:
            task_id = cdk.Fn.select(1, cdk.Fn.split("/", task_arn))
            dims = {facts.DATASYNC_DIMENSION: task_id}
            return metric(
                facts.DATASYNC_NAMESPACE, name, dims, statistic="Sum", label=transfer.node.id
            )

        prefixes = [events.Match.prefix(t.task_arn) for t in tasks]
        resources = prefixes[0] if len(prefixes) == 1 else events.Match.any_of(*prefixes)
        outcome = {}
        for state, rule_id in (
            (facts.DATASYNC_SUCCESS_STATE, "ExecutionSucceededRule"),
            (facts.DATASYNC_ERROR_STATE, "ExecutionFailedRule"),
        ):
            outcome[state] = self._rule(
                scope,
                rule_id,
                f"DataSync task executions of {ingest.node.path} that ended in {state}",
                events.EventPattern(
                    source=[facts.DATASYNC_SOURCE],
                    detail_type=[facts.DATASYNC_EXECUTION_STATE_CHANGE],
                    detail={"State": [state]},
                    resources=resources,
                ),
            )
        failed = triggered(outcome[facts.DATASYNC_ERROR_STATE], "Failed (ERROR)")
        widgets = [
            graph(
                "DataSync bytes transferred",
                [task_metric(facts.BYTES_TRANSFERRED, t, t.task_arn) for t in tasks],
                unit="bytes",
            ),
            graph(
                "DataSync files transferred",
                [task_metric(facts.FILES_TRANSFERRED, t, t.task_arn) for t in tasks],
                unit="files",
            ),
            graph(
                "DataSync task executions",
                [triggered(outcome[facts.DATASYNC_SUCCESS_STATE], "Succeeded"), failed],
                unit="executions",
            ),
        ]
        self._alarm(
            scope,
            "TaskFailures",
            metric=failed,
            threshold=self.thresholds.datasync_failures,
            description=f"DataSync task executions of {ingest.node.path} ended in ERROR. Read "
            f"the execution's event in {self.event_log.log_group_name} and the task's "
            "CloudWatch log or report, fix the source/destination and start the task again.",
        )
        self._show(f"Data ingest {ingest.node.path}", widgets)

    @check_prop_types
    def add_batch(self, batch: BatchInput) -> None:
        """Job state changes of the queues of a :class:`BatchMultiNode` or
        :class:`BatchGrid` (from their EventBridge events), node metrics and the boot alarm."""
        scope = self._begin(batch, "batch")
        queues = batch.job_queues if isinstance(batch, BatchGrid) else [batch.job_queue]
        arns = [q.job_queue_arn for q in queues]
        counts = []
        for state in facts.BATCH_EVENT_STATES:
            rule = self._rule(
                scope,
                f"Job{state.capitalize()}Rule",
                f"AWS Batch jobs of the queues of {batch.node.path} that entered {state}",
                events.EventPattern(
                    source=[facts.BATCH_SOURCE],
                    detail_type=[facts.BATCH_JOB_STATE_CHANGE],
                    detail={"jobQueue": arns, "status": [state]},
                ),
            )
            counts.append(triggered(rule, state))
        failed = counts[facts.BATCH_EVENT_STATES.index("FAILED")]
        self._alarm(
            scope,
            "JobFailures",
            metric=failed,
            threshold=self.thresholds.job_failures,
            description=f"Jobs of the queues of {batch.node.path} FAILED. Read statusReason "
            f"and the attempts of the FAILED events in the event log "
            f"{self.event_log.log_group_name}, then the job's container log in /aws/batch/job.",
        )
        widgets: list[cw.IWidget] = [graph("Batch job state changes", counts, unit="jobs")]
        if isinstance(batch, BatchGrid) and batch.spot_compute_environment is not None:
            widgets.append(self._grid_reclaims(scope, batch, arns))
        widgets += self._node_widgets(scope, batch)
        self._show(f"Batch {batch.node.path}", widgets)

    def _grid_reclaims(self, scope: Construct, grid: BatchGrid, arns: list[str]) -> cw.IWidget:
        """Tasks of a Spot grid put back in the queue because their host was reclaimed, and
        the alarm on repeated reclamation."""
        rule = self._rule(
            scope,
            "HostReclaimedRule",
            f"Jobs of the queues of {grid.node.path} requeued after their host was reclaimed",
            events.EventPattern(
                source=[facts.BATCH_SOURCE],
                detail_type=[facts.BATCH_JOB_STATE_CHANGE],
                detail={
                    "jobQueue": arns,
                    "status": ["RUNNABLE"],
                    "attempts": {"statusReason": [{"prefix": facts.BATCH_HOST_RECLAIMED_PREFIX}]},
                },
            ),
        )
        self._spot_alarm(
            scope,
            rule,
            "Tasks requeued (host reclaimed)",
            lambda window: (
                f"Tasks of {grid.node.path} were requeued repeatedly within {window} "
                "minutes because their Spot host was reclaimed. Each retry repeats the task "
                "since its last checkpoint: widen the instance pool, add AZs, checkpoint more "
                "often, or give the On-Demand fallback more vCPUs."
            ),
        )
        return graph(
            "Tasks requeued after a Spot reclaim",
            [triggered(rule, "Requeued (host reclaimed)")],
            unit="tasks",
        )

    @check_prop_types
    def add_cluster(self, cluster: ClusterInput) -> None:
        """Each node group of a :class:`PcsCluster` (add it after its node groups); for a
        :class:`ParallelCluster`, a pointer to the dashboard ParallelCluster makes itself."""
        scope = self._begin(cluster, "cluster")
        del scope
        if isinstance(cluster, ParallelCluster):
            text = (
                f"ParallelCluster **{cluster.cluster_name}** publishes its own CloudWatch "
                "dashboard, logs and alarms (its Monitoring settings): open its dashboard in "
                "the CloudWatch console."
            )
            self._show(
                f"ParallelCluster {cluster.node.path}",
                [cw.TextWidget(markdown=text, width=24, height=2)],
            )
            return
        groups = list(cluster.node_groups)
        self._late_checks.append(
            lambda: _late(cluster, len(cluster.node_groups) - len(groups), "node group", self)
        )
        for group in groups:
            self.add_node_group(group, title=f"PCS node group {group.node.path}")


def launcher_kind(launcher: NodeLauncher) -> tuple[bool, bool]:
    """(EFA enabled, GPU instance types) of a launcher, from its plan or attributes."""
    plan = getattr(launcher, "plan", None)
    specs = (
        getattr(plan, "specs", None)
        or getattr(launcher, "instance_specs", None)
        or [s for s in (getattr(launcher, "instance_spec", None),) if s is not None]
    )
    efa = bool(getattr(launcher, "efa_enabled", False) or getattr(plan, "efa_enabled", False))
    return efa, any(getattr(s, "gpus", 0) > 0 for s in specs)


def lustre_capacity_gib(file_system: Construct) -> float | None:
    """The storage capacity of a Lustre construct when known at synth time."""
    capacity: float | None
    if isinstance(file_system, LustreScratch):
        capacity = file_system.storage_capacity_gib
    elif isinstance(file_system, fsx.LustreFileSystem):
        child = file_system.node.default_child
        capacity = child.storage_capacity if isinstance(child, fsx.CfnFileSystem) else None
    else:
        return None
    if capacity is None or cdk.Token.is_unresolved(capacity):
        return None
    return float(capacity)


def _rule_label(rule: events.Rule) -> str:
    return {
        "SpotInterruptionRule": "Spot interruption warnings",
        "RebalanceRecommendationRule": "Rebalance recommendations",
    }.get(rule.node.id, rule.node.id)


def _late(construct: Construct, missing: int, what: str, dashboard: Construct) -> str | None:
    if missing <= 0:
        return None
    return (
        f"{construct.node.path}: {missing} {what}(s) added after it was added to "
        f"{dashboard.node.path} are not on the dashboard; add it after its {what}s"
    )


@jsii.implements(IValidation)
class _LateAdditions:
    """Reports parts added to a construct after the dashboard took it (at synth)."""

    def __init__(self, checks: list[Callable[[], str | None]]) -> None:
        self._checks = checks

    def validate(self) -> list[str]:
        return [m for m in (check() for check in self._checks) if m]
