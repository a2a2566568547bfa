"""``DataIngest``: the AWS side of the three ways data reaches an HPC environment.

Props become an ``IngestPlan`` (``_plan``: pure rules, all problems reported together); this
module renders the plan into the key, buckets, topic, endpoint, Direct Connect and Snowball.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from hpc_constructs.errors import Validator, check_prop_types
from hpc_constructs.ingest._facts import (
    DATASYNC_EXECUTION_DETAIL_TYPE,
    DATASYNC_S3_OBJECT_ACTIONS,
    DEFAULT_NOTIFY_STATES,
)
from hpc_constructs.ingest._iam import private_subnet_type, s3_location_role
from hpc_constructs.ingest._plan import EndpointPlan, IngestPlan, TaskEnds, plan_ingest, plan_task
from hpc_constructs.ingest.bucket import create_access_log_bucket, create_landing_bucket
from hpc_constructs.ingest.destinations import DataSyncDestination
from hpc_constructs.ingest.direct_connect import DirectConnectLink
from hpc_constructs.ingest.options import DirectConnectOptions, SnowballImportOptions
from hpc_constructs.ingest.schedule import schedule_expression
from hpc_constructs.ingest.snowball import create_job_request_output, create_snowball_role
from hpc_constructs.ingest.sources import DataSyncSource
from hpc_constructs.ingest.task import DataSyncTransfer


def _port(low: int, high: int) -> ec2.Port:
    return ec2.Port.tcp(low) if low == high else ec2.Port.tcp_range(low, high)


class DataIngest(Construct):
    """The AWS side of getting data in: landing bucket, DataSync, Direct Connect, Snowball.

    Args:
        vpc: The VPC used for the DataSync private endpoint, EFS destinations and Direct Connect.
            Default: - none (then those features cannot be used).
        landing_bucket: Bring your own bucket; then no bucket, log bucket or lifecycle is
            created and the bucket props below must be left unset. Default: - a new bucket:
            versioned, TLS-only, public access blocked, server access logs to a separate log
            bucket, lifecycle rules, ``RemovalPolicy.RETAIN``.
        bucket_encryption: ``"KMS"`` (the construct's key) or ``"S3_MANAGED"``. Default: - KMS.
        intelligent_tiering_after_days: Move current objects to S3 Intelligent-Tiering after this
            many days. Default: - 30.
        noncurrent_version_expiration_days: Delete non-current versions after this many days.
            Default: - 90.
        encryption_key: KMS key for the bucket, task logs, notifications topic and Snowball
            jobs. Default: - a new key with rotation enabled.
        log_retention: Retention of the DataSync task log group. Default: - one year.
        notification_target: Where DataSync task-execution state changes go.
            Default: - a new KMS-encrypted, TLS-only SNS topic (``notifications_topic``).
        notify_states: Execution states that notify. Default: - SUCCESS and ERROR.
        task_report_prefix: Where task reports go in the landing bucket.
            Default: - ``datasync-reports/``.
        private_endpoint: Create a DataSync interface VPC endpoint for agents that must stay on
            the private path (Direct Connect / VPN); requires ``vpc`` and ``agent_cidrs``.
            Default: - False (agents use the public endpoint).
        agent_cidrs: IPv4 CIDRs of the agents allowed to reach the endpoint.
            Default: - none.
        allow_support_channel: Also open TCP 22 from the agents for the AWS Support channel.
            Default: - False.
        direct_connect: Attach the VPC to Direct Connect. Default: - no Direct Connect.
        snowball: ``True`` or options to prepare a Snowball import job. Default: - False.
    """

    @check_prop_types
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc | None = None,
        landing_bucket: s3.IBucket | None = None,
        bucket_encryption: str | None = None,
        intelligent_tiering_after_days: int | None = None,
        noncurrent_version_expiration_days: int | None = None,
        encryption_key: kms.IKey | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        notification_target: events.IRuleTarget | None = None,
        notify_states: Sequence[str] = DEFAULT_NOTIFY_STATES,
        task_report_prefix: str = "datasync-reports/",
        private_endpoint: bool = False,
        agent_cidrs: Sequence[str] = (),
        allow_support_channel: bool = False,
        direct_connect: DirectConnectOptions | None = None,
        snowball: bool | SnowballImportOptions = False,
    ) -> None:
        super().__init__(scope, id)
        v = Validator(self)
        props = dict(locals())
        plan = plan_ingest(v, has_vpc=vpc is not None, props=props)
        v.raise_if_any()
        #: The resolved, validated settings (plain values).
        self.plan: IngestPlan = plan
        self.vpc = vpc
        self.task_report_prefix = plan.task_report_prefix
        self.log_retention = log_retention
        self.notify_states: tuple[str, ...] = plan.notify_states
        #: The construct's KMS key (created unless ``encryption_key`` was passed).
        self.key: kms.IKey = encryption_key or kms.Key(
            self,
            "Key",
            enable_key_rotation=True,
            description="hpc-constructs DataIngest: landing data, task logs, notifications",
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self._render_bucket(landing_bucket)
        #: DataSync transfers added with :meth:`add_task`.
        self.tasks: list[DataSyncTransfer] = []
        self._notification_target = notification_target
        #: Default notification destination (None when ``notification_target`` was passed).
        self.notifications_topic: sns.ITopic | None = None
        if notification_target is None:
            self.notifications_topic = self._create_topic()
        self.notification_rule: events.Rule | None = None
        self.log_group: logs.LogGroup | None = None
        self._log_policy: logs.ResourcePolicy | None = None
        self._report_role_: iam.Role | None = None
        self._render_connectivity(vpc, direct_connect)
        #: Snowball import role and the create-job request output (when ``snowball``).
        self.snowball_role: iam.Role | None = None
        self.snowball_job_request: cdk.CfnOutput | None = None
        if plan.snowball is not None:
            self.snowball_role = create_snowball_role(self, self.landing_bucket, self.key)
            self.snowball_job_request = create_job_request_output(
                self, plan.snowball, self.landing_bucket, self.key, self.snowball_role
            )

    # -- landing bucket -----------------------------------------------------------------------

    def _render_bucket(self, landing_bucket: s3.IBucket | None) -> None:
        bucket_plan = self.plan.bucket
        #: The server-access-log bucket (None when the landing bucket was passed in).
        self.access_log_bucket: s3.IBucket | None = None
        #: Resolved bucket settings (None when the landing bucket was passed in).
        self.bucket_encryption: str | None = None
        self.intelligent_tiering_after_days: int | None = None
        self.noncurrent_version_expiration_days: int | None = None
        if bucket_plan is not None:
            self.bucket_encryption = bucket_plan.encryption
            self.intelligent_tiering_after_days = bucket_plan.intelligent_tiering_after_days
            self.noncurrent_version_expiration_days = bucket_plan.noncurrent_version_expiration_days
            log_bucket = create_access_log_bucket(self)
            self.access_log_bucket = log_bucket
            landing_bucket = create_landing_bucket(self, bucket_plan, self.key, log_bucket)
        assert landing_bucket is not None  # passed in, or planned and created
        #: The bucket every path lands in.
        self.landing_bucket: s3.IBucket = landing_bucket

    def grant_read(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` read the landing bucket (and decrypt with its key)."""
        return self.landing_bucket.grant_read(grantee)

    def grant_write(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` write to the landing bucket (and encrypt with its key)."""
        return self.landing_bucket.grant_write(grantee)

    # -- private endpoint and Direct Connect --------------------------------------------------

    def _render_connectivity(
        self, vpc: ec2.IVpc | None, direct_connect: DirectConnectOptions | None
    ) -> None:
        #: DataSync interface endpoint and its security group (when ``private_endpoint``).
        self.private_endpoint: ec2.InterfaceVpcEndpoint | None = None
        self.endpoint_security_group: ec2.SecurityGroup | None = None
        if self.plan.endpoint is not None and vpc is not None:
            self._create_endpoint(vpc, self.plan.endpoint)
        #: Direct Connect resources (when ``direct_connect`` was given).
        self.direct_connect: DirectConnectLink | None = None
        if direct_connect is not None and vpc is not None:
            self.direct_connect = DirectConnectLink(
                self, "DirectConnect", vpc=vpc, options=direct_connect
            )

    def _create_endpoint(self, vpc: ec2.IVpc, plan: EndpointPlan) -> None:
        group = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=vpc,
            description="DataSync VPC endpoint: control and data traffic from DataSync agents",
            allow_all_outbound=False,
        )
        for cidr in plan.agent_cidrs:
            for low, high in plan.port_ranges:
                group.add_ingress_rule(ec2.Peer.ipv4(cidr), _port(low, high), "DataSync agent")
        self.endpoint_security_group = group
        self.private_endpoint = ec2.InterfaceVpcEndpoint(
            self,
            "DataSyncEndpoint",
            vpc=vpc,
            service=ec2.InterfaceVpcEndpointAwsService.DATASYNC,
            security_groups=[group],
            open=False,
            private_dns_enabled=False,
            subnets=ec2.SubnetSelection(subnet_type=private_subnet_type(vpc)),
        )

    # -- notifications and logs ---------------------------------------------------------------

    def _create_topic(self) -> sns.Topic:
        topic = sns.Topic(self, "NotificationsTopic", master_key=self.key, enforce_ssl=True)
        if isinstance(self.key, kms.Key):
            # EventBridge publishes to the encrypted topic with the key.
            self.key.add_to_resource_policy(
                iam.PolicyStatement(
                    principals=[iam.ServicePrincipal("events.amazonaws.com")],
                    actions=["kms:Decrypt", "kms:GenerateDataKey"],
                    resources=["*"],
                )
            )
        return topic

    def _ensure_log_group(self) -> logs.LogGroup:
        if self.log_group is None:
            stack = cdk.Stack.of(self)
            if isinstance(self.key, kms.Key):
                self.key.add_to_resource_policy(
                    iam.PolicyStatement(
                        principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                        actions=[
                            "kms:Encrypt",
                            "kms:Decrypt",
                            "kms:ReEncryptFrom",
                            "kms:ReEncryptTo",
                            "kms:GenerateDataKey",
                            "kms:DescribeKey",
                        ],
                        resources=["*"],
                        conditions={
                            "ArnLike": {
                                "kms:EncryptionContext:aws:logs:arn": (
                                    f"arn:{stack.partition}:logs:{stack.region}:"
                                    f"{stack.account}:log-group:*"
                                )
                            }
                        },
                    )
                )
            self.log_group = logs.LogGroup(
                self,
                "TaskLogs",
                encryption_key=self.key,
                retention=self.log_retention,
                removal_policy=cdk.RemovalPolicy.RETAIN,
            )
            # DataSync writes task logs only where a resource policy lets it.
            self._log_policy = logs.ResourcePolicy(
                self,
                "TaskLogsResourcePolicy",
                policy_statements=[
                    iam.PolicyStatement(
                        principals=[iam.ServicePrincipal("datasync.amazonaws.com")],
                        actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                        resources=[self.log_group.log_group_arn],
                        conditions={
                            "ArnLike": {
                                "aws:SourceArn": (
                                    f"arn:{stack.partition}:datasync:{stack.region}:"
                                    f"{stack.account}:task/*"
                                )
                            },
                            "StringEquals": {"aws:SourceAccount": stack.account},
                        },
                    )
                ],
            )
        return self.log_group

    def _log_policy_dependency(self) -> Construct:
        assert self._log_policy is not None
        return self._log_policy

    def _report_role(self) -> iam.Role:
        if self._report_role_ is None:
            role, _ = s3_location_role(
                self,
                "TaskReportRole",
                self.landing_bucket,
                self.task_report_prefix,
                DATASYNC_S3_OBJECT_ACTIONS,
            )
            self._report_role_ = role
        return self._report_role_

    def _notify(self, transfer: DataSyncTransfer) -> None:
        if self.notification_rule is None:
            target = self._notification_target
            if target is None:
                assert self.notifications_topic is not None
                target = targets.SnsTopic(self.notifications_topic)
            self.notification_rule = events.Rule(
                self,
                "TaskExecutionStateChange",
                description="DataSync task executions of this DataIngest changed state",
                event_pattern=events.EventPattern(
                    source=["aws.datasync"],
                    detail_type=[DATASYNC_EXECUTION_DETAIL_TYPE],
                    detail={"State": list(self.notify_states)} if self.notify_states else None,
                ),
                targets=[target],
            )
        # Execution ARNs are <task ARN>/execution/exec-...; match this construct's tasks only.
        self.notification_rule.add_event_pattern(resources=events.Match.prefix(transfer.task_arn))

    # -- DataSync tasks -----------------------------------------------------------------------

    @check_prop_types
    def add_task(
        self,
        id: str,
        *,
        source: DataSyncSource,
        destination: DataSyncDestination,
        schedule: events.Schedule | str | None = None,
        verify_mode: str = "ONLY_FILES_TRANSFERRED",
        overwrite_mode: str = "ALWAYS",
        preserve_deleted_files: str = "PRESERVE",
        transfer_mode: str = "CHANGED",
        bytes_per_second: int | None = None,
        includes: Sequence[str] = (),
        excludes: Sequence[str] = (),
        task_report: str | None = None,
        log_level: str = "BASIC",
        task_mode: str = "BASIC",
    ) -> DataSyncTransfer:
        """Add a DataSync task from ``source`` to ``destination``.

        Args:
            schedule: ``events.Schedule`` or a ``rate(...)``/``cron(...)`` string, checked as
                EventBridge does (fields and ranges) and no more often than hourly
                (DataSync). Default: - none (run on demand).
            verify_mode: Default: - ONLY_FILES_TRANSFERRED (checksums every transferred file;
                works for every destination and for Enhanced mode, unlike
                POINT_IN_TIME_CONSISTENT).
            overwrite_mode: Default: - ALWAYS.
            preserve_deleted_files: Default: - PRESERVE (files deleted at the source stay).
            transfer_mode: Default: - CHANGED (only changed data).
            bytes_per_second: Bandwidth cap; -1 or at least 1. Default: - unlimited.
            includes: SIMPLE_PATTERN filters, joined with ``|``. Default: - everything.
            excludes: SIMPLE_PATTERN filters, joined with ``|``. Default: - nothing.
            task_report: SUMMARY_ONLY or STANDARD, written to the landing bucket under
                ``task_report_prefix``. Default: - no task report.
            log_level: OFF, BASIC or TRANSFER. Default: - BASIC.
            task_mode: BASIC or ENHANCED (ENHANCED needs an S3 destination and an S3, NFS, SMB
                or object-storage source). Default: - BASIC.
        """
        v = Validator(f"{self.node.path}/{id}")
        props = dict(locals())
        schedule_text = None if schedule is None else schedule_expression(schedule)
        sources_ok = _check_ends(v, source, destination)
        if sources_ok:
            source._validate(v, "source")
            destination._validate(v, "destination", self)
        ends = TaskEnds(
            source_kind=getattr(source, "kind", "?"),
            destination_kind=getattr(destination, "kind", "?"),
            destination_storage_class=getattr(destination, "storage_class", None),
        )
        plan = plan_task(v, ends, schedule_text, props)
        v.raise_if_any()
        transfer = DataSyncTransfer(
            self, id, ingest=self, source=source, destination=destination, plan=plan
        )
        self.tasks.append(transfer)
        self._notify(transfer)
        return transfer


def _check_ends(v: Validator, source: Any, destination: Any) -> bool:
    ok = True
    if not isinstance(source, DataSyncSource):
        v.add("source", source, "a DataSyncSource (DataSyncSource.nfs(...), ...)")
        ok = False
    if not isinstance(destination, DataSyncDestination):
        v.add("destination", destination, "a DataSyncDestination (landing_bucket(), ...)")
        ok = False
    return ok
