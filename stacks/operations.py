"""What every sample stack gets for day 2: cost-allocation tags, a dashboard with alarms and a
monthly budget (hpc_constructs.ops), from the config fields ``monthly_budget_usd`` and
``alert_emails`` that every sample config has."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

import hpc_constructs as hc

#: The owner tag of the samples: replace it with the team that answers for the spend.
SAMPLE_OWNER = "hpc-platform-team"
#: Construct props set from the operations config fields, for the stacks' CONFIG_PROPS.
OPERATIONS_CONFIG_PROPS = {"Budget/monthly_limit_usd": "monthly_budget_usd"}


@dataclass(frozen=True)
class SampleOperations:
    """The operations constructs of one sample stack."""

    tags: hc.CostAllocationTags
    dashboard: hc.HpcDashboard
    budget: hc.HpcBudget


def add_operations(
    stack: cdk.Stack,
    *,
    project: str,
    monthly_budget_usd: int,
    alert_emails: Sequence[str],
    watch: Sequence[Construct | None],
) -> SampleOperations:
    """Tag everything in ``stack`` for cost allocation (project, owner, stack, node group),
    put ``watch`` on one dashboard with its alarms, and add a monthly budget of the project's
    tagged spend; alarms and budget notifications go to the dashboard's encrypted topic, which
    each of ``alert_emails`` subscribes to (SNS asks each address to confirm)."""
    tags = hc.CostAllocationTags.apply(stack, project=project, owner=SAMPLE_OWNER)
    dashboard = hc.HpcDashboard(stack, "Operations", dashboard_name=f"hpc-{stack.stack_name}")
    for construct in watch:
        if construct is not None:  # a sample's optional part (MlTraining: fleet or Batch)
            dashboard.add(construct)
    topic = dashboard.alarm_topic
    assert topic is not None  # alarms on and no topic given: the dashboard made its own
    for email in alert_emails:
        topic.add_subscription(subscriptions.EmailSubscription(email))
    budget = hc.HpcBudget(
        stack,
        "Budget",
        monthly_limit_usd=monthly_budget_usd,
        notify_topic=topic,
        tags=tags.budget_filter,
    )
    return SampleOperations(tags=tags, dashboard=dashboard, budget=budget)
