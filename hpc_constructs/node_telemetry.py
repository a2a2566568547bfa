"""The CDK side of node telemetry: each launcher's log group (KMS-encrypted with one key per
stack, retention, kept on deletion) and its nodes' permissions to write it and to publish the
node metrics (:mod:`hpc_constructs.telemetry`); the node side is :mod:`hpc_constructs.boot`."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from hpc_constructs.boot import TelemetryStep
from hpc_constructs.telemetry import NODE_METRICS_NAMESPACE

_KEY_ID = "HpcNodeLogsKey"


def node_logs_key(scope: Construct) -> kms.Key:
    """One KMS key per stack for the node log groups (rotation on). CloudWatch Logs may use
    it only for this account's and region's log groups (CloudWatch Logs User Guide, "Encrypt
    log data in CloudWatch Logs using AWS KMS": the key policy and its encryption context)."""
    stack = cdk.Stack.of(scope)
    existing = stack.node.try_find_child(_KEY_ID)
    if isinstance(existing, kms.Key):
        return existing
    key = kms.Key(
        stack,
        _KEY_ID,
        description="hpc-constructs node log groups",
        enable_key_rotation=True,
    )
    key.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=[
                "kms:Encrypt*",
                "kms:Decrypt*",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:Describe*",
            ],
            resources=["*"],
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name="*",
                        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                    )
                }
            },
        )
    )
    return key


#: What a ``log_retention`` prop takes: a ``logs.RetentionDays`` or a number of days that
#: CloudWatch Logs accepts (checked by ``boot.log_retention_rule``).
LogRetention = logs.RetentionDays | int
DEFAULT_LOG_RETENTION = logs.RetentionDays.SIX_MONTHS


def render_node_telemetry(
    scope: Construct, role: iam.IRole, *, retention: LogRetention
) -> logs.LogGroup:
    """The launcher's log group and what its nodes' ``role`` needs: write log streams to it,
    and ``cloudwatch:PutMetricData`` in the node namespace only (no managed policy)."""
    log_group = node_log_group(scope, retention=retention)
    grant_node_telemetry(scope, role, log_group)
    return log_group


def node_log_group(scope: Construct, *, retention: LogRetention) -> logs.LogGroup:
    """A node log group: KMS-encrypted with the stack's node-logs key, kept on deletion."""
    days = retention if isinstance(retention, int) else None
    member = retention if isinstance(retention, logs.RetentionDays) else logs.RetentionDays.INFINITE
    log_group = logs.LogGroup(
        scope,
        "NodeLogs",
        encryption_key=node_logs_key(scope),
        retention=member,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    if days is not None:
        # L1: the L2 takes only RetentionDays members; a checked number of days goes here.
        cfn = log_group.node.default_child
        assert isinstance(cfn, logs.CfnLogGroup)
        cfn.retention_in_days = days
    return log_group


def grant_node_telemetry(scope: Construct, role: iam.IRole, log_group: logs.ILogGroup) -> None:
    """Let the CloudWatch agent on nodes with ``role`` write ``log_group`` and publish the
    node metrics (only in their namespace)."""
    policy = iam.Policy(
        scope,
        "TelemetryPolicy",
        statements=[
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                resources=[log_group.log_group_arn],
            ),
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": NODE_METRICS_NAMESPACE}},
            ),
        ],
    )
    policy.attach_to_role(role)
    cdk.Validations.of(policy).acknowledge(
        cdk.Acknowledgment(
            id="AwsSolutions-IAM5[Resource::*]",
            reason="cloudwatch:PutMetricData has no resource-level permissions (Service "
            "Authorization Reference); the cloudwatch:namespace condition limits it to the "
            f"node metrics namespace {NODE_METRICS_NAMESPACE}.",
        )
    )


def telemetry_step(
    log_group: logs.ILogGroup, node_group: str, *, efa: bool, gpu: bool, slurm: bool = False
) -> TelemetryStep:
    return TelemetryStep(log_group.log_group_name, node_group, efa=efa, gpu=gpu, slurm=slurm)
