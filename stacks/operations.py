"""What every sample stack gets for day 2: cost-allocation tags, a dashboard with alarms and a
monthly budget (hpc_constructs.ops), steered by the fields of :class:`OperationsConfig`, which
every sample config extends."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

import hpc_constructs as hc
from hpc_constructs.ops.facts import BUDGET_MAX_LIMIT_USD
from stacks.config import bounded, emails

#: The owner tag of the samples: replace it with the team that answers for the spend.
SAMPLE_OWNER = "hpc-platform-team"
#: Construct props set from the operations config fields, for the stacks' CONFIG_PROPS.
OPERATIONS_CONFIG_PROPS = {"Budget/monthly_limit_usd": "monthly_budget_usd"}


def budget_usd(default: int) -> Any:
    """The ``monthly_budget_usd`` field with a stack's own default (1 USD to the Budgets
    maximum)."""
    return bounded(default, 1, int(BUDGET_MAX_LIMIT_USD))


@dataclass(frozen=True)
class OperationsConfig:
    """Config fields every sample stack has (each can be overridden with ``-c``)."""

    #: Monthly cost budget (USD) of the stack's tagged spend: notified at 80% actual and 100%
    #: forecast spend, on the alarm topic. Each stack redeclares it with its own default.
    monthly_budget_usd: int = budget_usd(10_000)
    #: Subscribed to the alarm topic (alarms and budget notifications); comma-separated.
    alert_emails: tuple[str, ...] = emails()


@dataclass(frozen=True)
class SampleOperations:
    """The operations constructs of one sample stack."""

    tags: hc.CostAllocationTags
    dashboard: hc.HpcDashboard
    budget: hc.HpcBudget


def add_operations(
    stack: cdk.Stack,
    config: OperationsConfig,
    *,
    project: str,
    watch: Sequence[Construct | None],
) -> SampleOperations:
    """Tag everything in ``stack`` for cost allocation (project, owner, stack, node group),
    put ``watch`` on one dashboard with its alarms, and add a monthly budget of the project's
    tagged spend; alarms and budget notifications go to the dashboard's encrypted topic, which
    each of ``config.alert_emails`` subscribes to (SNS asks each address to confirm)."""
    tags = hc.CostAllocationTags.apply(stack, project=project, owner=SAMPLE_OWNER)
    dashboard = hc.HpcDashboard(stack, "Operations", dashboard_name=f"hpc-{stack.stack_name}")
    for construct in watch:
        if construct is not None:  # a sample's optional part (MlTraining: fleet or Batch)
            dashboard.add(construct)
    topic = dashboard.alarm_topic
    assert topic is not None  # alarms on and no topic given: the dashboard made its own
    for email in config.alert_emails:
        topic.add_subscription(subscriptions.EmailSubscription(email))
    budget = hc.HpcBudget(
        stack,
        "Budget",
        monthly_limit_usd=config.monthly_budget_usd,
        notify_topic=topic,
        tags=tags.budget_filter,
    )
    return SampleOperations(tags=tags, dashboard=dashboard, budget=budget)
