"""CDK pieces the operations constructs share: the KMS key, the encrypted alarm topic, the
encrypted event log that EventBridge rules deliver to, and metric / layout helpers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import aws_cdk as cdk
import jsii
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk.interfaces import aws_events as events_refs
from constructs import Construct

from hpc_constructs.ops import facts

#: Services that publish to an operations topic: CloudWatch alarms and AWS Budgets need the
#: topic's key (Amazon SNS Developer Guide, "Configure AWS KMS permissions for AWS
#: services"; AWS Cost Management User Guide, "Creating an Amazon SNS topic for budget
#: notifications").
TOPIC_PUBLISHERS = ("cloudwatch.amazonaws.com", "budgets.amazonaws.com")


def ops_key(scope: Construct, id: str, description: str) -> kms.Key:
    """A KMS key (rotation on) for an operations topic and event log: the topic publishers may
    encrypt messages with it; CloudWatch Logs may use it for this account's log groups only
    (CloudWatch Logs User Guide, "Encrypt log data in CloudWatch Logs using AWS KMS")."""
    stack = cdk.Stack.of(scope)
    key = kms.Key(scope, id, description=description, enable_key_rotation=True)
    key.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal(p) for p in TOPIC_PUBLISHERS],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"],
        )
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


def encrypted_topic(scope: Construct, id: str, key: kms.IKey, display_name: str) -> sns.Topic:
    """An SNS topic encrypted with ``key`` that refuses requests without TLS."""
    return sns.Topic(scope, id, master_key=key, enforce_ssl=True, display_name=display_name)


def allow_budgets(topic: sns.ITopic) -> bool:
    """Let AWS Budgets of this account publish to ``topic`` (the topic policy of the Cost
    Management User Guide). False when the topic is imported (its policy is not ours)."""
    stack = cdk.Stack.of(topic)
    result = topic.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AWSBudgetsSNSPublishingPermissions",
            principals=[iam.ServicePrincipal("budgets.amazonaws.com")],
            actions=["SNS:Publish"],
            resources=[topic.topic_arn],
            conditions={
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnLike": {"aws:SourceArn": f"arn:{stack.partition}:budgets::{stack.account}:*"},
            },
        )
    )
    return bool(result.statement_added)


def event_log(
    scope: Construct, key: kms.IKey, retention: logs.RetentionDays
) -> tuple[logs.LogGroup, logs.ResourcePolicy]:
    """The encrypted log group the dashboard's EventBridge rules deliver their events to, and
    the resource policy that lets EventBridge write it (Amazon EventBridge User Guide,
    "CloudWatch Logs targets": events.amazonaws.com and delivery.logs.amazonaws.com). Made
    here instead of with ``targets.CloudWatchLogGroup``, which adds a custom-resource Lambda."""
    group = logs.LogGroup(
        scope,
        "EventLog",
        encryption_key=key,
        retention=retention,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    policy = logs.ResourcePolicy(
        scope,
        "EventLogPolicy",
        policy_statements=[
            iam.PolicyStatement(
                principals=[
                    iam.ServicePrincipal("events.amazonaws.com"),
                    iam.ServicePrincipal("delivery.logs.amazonaws.com"),
                ],
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[group.log_group_arn],
            )
        ],
    )
    return group, policy


@jsii.implements(events.IRuleTarget)
class LogGroupTarget:
    """An EventBridge target writing each matched event to a log group (whose resource policy
    is managed by the caller, see :func:`event_log`)."""

    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._log_group = log_group

    def bind(self, rule: events_refs.IRuleRef, id: str | None = None) -> events.RuleTargetConfig:
        stack = cdk.Stack.of(self._log_group)
        arn = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name=self._log_group.log_group_name,
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        return events.RuleTargetConfig(arn=arn)


# --- metrics and layout -------------------------------------------------------------------


def metric(
    namespace: str,
    name: str,
    dimensions: Mapping[str, str],
    *,
    statistic: str = "Average",
    label: str | None = None,
    minutes: int = 5,
) -> cw.Metric:
    return cw.Metric(
        namespace=namespace,
        metric_name=name,
        dimensions_map=dict(dimensions),
        statistic=statistic,
        label=label,
        period=cdk.Duration.minutes(minutes),
    )


def triggered(rule: events.IRule, label: str, minutes: int = 5) -> cw.Metric:
    """How many events ``rule`` matched per period (AWS/Events TriggeredRules, RuleName)."""
    return metric(
        facts.EVENTS_NAMESPACE,
        facts.TRIGGERED_RULES,
        {facts.EVENTS_DIMENSION: rule.rule_name},
        statistic="Sum",
        label=label,
        minutes=minutes,
    )


def graph(
    title: str,
    left: Sequence[cw.IMetric],
    *,
    right: Sequence[cw.IMetric] = (),
    unit: str = "",
    right_unit: str = "",
    width: int = 8,
    annotation: cw.HorizontalAnnotation | None = None,
) -> cw.GraphWidget:
    return cw.GraphWidget(
        title=title,
        left=list(left),
        right=list(right) or None,
        width=width,
        height=6,
        left_y_axis=cw.YAxisProps(min=0, label=unit or None, show_units=False),
        right_y_axis=cw.YAxisProps(min=0, label=right_unit or None, show_units=False)
        if right
        else None,
        left_annotations=[annotation] if annotation else None,
    )


def rows(widgets: Sequence[cw.IWidget], width: int = 24) -> list[list[cw.IWidget]]:
    """Widgets in rows no wider than the dashboard's 24 columns."""
    result: list[list[cw.IWidget]] = []
    current: list[cw.IWidget] = []
    used: float = 0
    for widget in widgets:
        if current and used + widget.width > width:
            result.append(current)
            current, used = [], 0.0
        current.append(widget)
        used += widget.width
    if current:
        result.append(current)
    return result
