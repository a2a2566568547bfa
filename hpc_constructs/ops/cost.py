"""Cost attribution: ``CostAllocationTags`` (an aspect tagging everything a scope creates) and
``HpcBudget`` (a monthly AWS Budgets cost budget filtered by those tags)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import aws_cdk as cdk
import jsii
from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_sns as sns
from constructs import Construct, IConstruct

from hpc_constructs.errors import Validator, check_prop_types, warn
from hpc_constructs.nodes import NodeLauncher
from hpc_constructs.ops._render import allow_budgets
from hpc_constructs.ops.plan import BudgetPlan, plan_budget, tag_rule

#: The default tag keys (prefix ``hpc:``): a Cost Explorer / Budgets user sees them as
#: ``user:hpc:project`` once activated.
DEFAULT_KEY_PREFIX = "hpc:"


@jsii.implements(cdk.IAspect)
class CostAllocationTags:
    """Cost-allocation tags on every taggable resource under a scope (an App or a Stack):
    ``<prefix>project``, ``<prefix>owner`` (when given), ``<prefix>stack`` (the stack name)
    and, on everything a node launcher creates (fleet, Batch, PCS node group,
    ParallelCluster), ``<prefix>node-group`` (the launcher's construct path, the same value
    as the ``NodeGroup`` dimension of the node metrics). Launch templates carry the tags into
    the instances and volumes they launch; Auto Scaling groups propagate them at launch.

    Apply with ``CostAllocationTags.apply(app, project="cfd", owner="hpc-team")``.
    Tags only show up in Cost Explorer and Budgets once activated as cost-allocation tags in
    the Billing console (not a CloudFormation resource).

    :param project: the project's name (a tag value: up to 256 letters, digits, spaces or
        ``_ . : / = + - @``).
    :param owner: who answers for the spend (an email address or team). Default: - no tag.
    :param key_prefix: prefix of the tag keys. Default: - ``hpc:``.
    """

    def __init__(
        self, *, project: str, owner: str | None = None, key_prefix: str = DEFAULT_KEY_PREFIX
    ) -> None:
        v = Validator("CostAllocationTags")
        for prop, value in (("project", project), ("owner", owner)):
            if value is not None:
                tag_rule(v, f"{key_prefix}{prop}", value, key_prop="key_prefix", value_prop=prop)
        v.require(bool(project), "project", project, "a non-empty project name")
        v.raise_if_any()
        self.project = project
        self.owner = owner
        self.project_key = f"{key_prefix}project"
        self.owner_key = f"{key_prefix}owner"
        self.stack_key = f"{key_prefix}stack"
        self.node_group_key = f"{key_prefix}node-group"

    @classmethod
    def apply(
        cls,
        scope: IConstruct,
        *,
        project: str,
        owner: str | None = None,
        key_prefix: str = DEFAULT_KEY_PREFIX,
    ) -> CostAllocationTags:
        """Tag everything under ``scope`` (an App or a Stack); returns the aspect."""
        aspect = cls(project=project, owner=owner, key_prefix=key_prefix)
        cdk.Aspects.of(scope).add(aspect)
        return aspect

    @property
    def budget_filter(self) -> dict[str, str]:
        """The tags an :class:`HpcBudget` filters by to track this project: ``tags=``."""
        return {self.project_key: self.project}

    def tags_for(self, node: IConstruct) -> dict[str, str]:
        """The tags a construct gets (plain values; the aspect applies them)."""
        tags = {self.project_key: self.project, self.stack_key: cdk.Stack.of(node).stack_name}
        if self.owner:
            tags[self.owner_key] = self.owner
        launcher = next(
            (s for s in reversed(node.node.scopes) if isinstance(s, NodeLauncher)), None
        )
        if launcher is not None:
            tags[self.node_group_key] = launcher.node.path[:256]
        return tags

    def visit(self, node: IConstruct) -> None:
        if not (cdk.TagManager.is_taggable(node) or cdk.TagManager.is_taggable_v2(node)):
            return
        for key, value in self.tags_for(node).items():
            # cdk.Tag is the aspect cdk.Tags.of() adds; visiting with it here tags this node
            # without adding an aspect from inside an aspect.
            cdk.Tag(key, value).visit(node)


class HpcBudget(Construct):
    """A monthly AWS Budgets cost budget with actual and forecast notifications, filtered by
    cost-allocation tags (``CostAllocationTags.budget_filter``).

    Budgets track the payer view: in an AWS Organizations member account a budget sees that
    account's spend, and tag filters see only tags activated for cost allocation in the
    Billing console of the management (payer) account.

    :param monthly_limit_usd: the monthly limit in USD, more than 0.
    :param notify_emails: up to 10 email addresses. Default: - none (then ``notify_topic``).
    :param notify_topic: an SNS topic in this account; its policy gets a statement letting AWS
        Budgets publish (an imported topic's policy cannot: a warning), and an encrypted
        topic's key must let budgets.amazonaws.com use it (the ``HpcDashboard`` alarm topic
        does). Default: - none (then ``notify_emails``).
    :param tags: only spend on resources with all these tags. Default: - all spend.
    :param actual_threshold_percent: notify when actual spend exceeds this share of the
        limit, 0.1-1,000. Default: - 80.
    :param forecast_threshold_percent: notify when forecast spend exceeds this share,
        0.1-1,000. Default: - 100.
    :param budget_name: Default: - a name CloudFormation generates.
    """

    @check_prop_types
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        monthly_limit_usd: float,
        notify_emails: Sequence[str] = (),
        notify_topic: sns.ITopic | None = None,
        tags: Mapping[str, str] | None = None,
        actual_threshold_percent: float = 80.0,
        forecast_threshold_percent: float = 100.0,
        budget_name: str | None = None,
    ) -> None:
        v = Validator(f"{scope.node.path}/{id}" if scope.node.path else id)
        plan = plan_budget(
            v,
            monthly_limit_usd=monthly_limit_usd,
            notify_emails=list(notify_emails),
            has_topic=notify_topic is not None,
            actual_threshold_percent=actual_threshold_percent,
            forecast_threshold_percent=forecast_threshold_percent,
            tags=dict(tags or {}),
            budget_name=budget_name,
        )
        v.raise_if_any()
        super().__init__(scope, id)
        self.plan = plan
        self.notify_topic = notify_topic
        if notify_topic is not None and not allow_budgets(notify_topic):
            warn(
                self,
                "budgetTopicPolicyNotAdded",
                f"The policy of the imported topic {notify_topic.node.path} was not changed: "
                "let budgets.amazonaws.com publish to it (SNS:Publish) or budget "
                "notifications will not arrive.",
            )
        # L1: aws-cdk-lib has no L2 for AWS Budgets.
        self.cfn_budget = budgets.CfnBudget(
            self,
            "Budget",
            budget=budget_data(plan),
            notifications_with_subscribers=self._notifications(plan),
        )

    def _notifications(
        self, plan: BudgetPlan
    ) -> list[budgets.CfnBudget.NotificationWithSubscribersProperty]:
        subscribers = [
            budgets.CfnBudget.SubscriberProperty(subscription_type="EMAIL", address=email)
            for email in plan.emails
        ]
        if self.notify_topic is not None:
            subscribers.append(
                budgets.CfnBudget.SubscriberProperty(
                    subscription_type="SNS", address=self.notify_topic.topic_arn
                )
            )
        return [
            budgets.CfnBudget.NotificationWithSubscribersProperty(
                notification=budgets.CfnBudget.NotificationProperty(
                    notification_type=kind,
                    comparison_operator="GREATER_THAN",
                    threshold=threshold,
                    threshold_type="PERCENTAGE",
                ),
                subscribers=subscribers,
            )
            for kind, threshold in (
                ("ACTUAL", plan.actual_threshold_percent),
                ("FORECASTED", plan.forecast_threshold_percent),
            )
        ]


def budget_data(plan: BudgetPlan) -> budgets.CfnBudget.BudgetDataProperty:
    """A monthly COST budget in USD; tags as a FilterExpression (an ``And`` of one ``Tags``
    expression per tag, AWS Budgets API ``Expression``; ``And`` needs two or more)."""
    expressions = [
        budgets.CfnBudget.ExpressionProperty(
            tags=budgets.CfnBudget.TagValuesProperty(
                key=key, values=[value], match_options=["EQUALS"]
            )
        )
        for key, value in plan.tags
    ]
    filter_expression = None
    if len(expressions) == 1:
        filter_expression = expressions[0]
    elif expressions:
        filter_expression = budgets.CfnBudget.ExpressionProperty(and_=expressions)
    return budgets.CfnBudget.BudgetDataProperty(
        budget_type="COST",
        time_unit="MONTHLY",
        budget_limit=budgets.CfnBudget.SpendProperty(amount=plan.monthly_limit_usd, unit="USD"),
        budget_name=plan.budget_name,
        filter_expression=filter_expression,
    )
