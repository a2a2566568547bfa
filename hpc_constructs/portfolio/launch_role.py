"""What the portfolio's launch role may do, derived from the resource types of its products.

Service Catalog assumes the launch role to create, update and delete a provisioned product's
stack (Service Catalog Administrator Guide, "Launch constraints"): it needs the CloudFormation
stack actions on the stacks Service Catalog names ``SC-<account>-pp-<id>``, read access to the
product templates, and the permissions of every resource in them. The last part is computed
here from the resource types the product templates actually contain, one service at a time,
and allowed only through CloudFormation (``aws:CalledVia``), so the role can build exactly the
kinds of resources its products declare and nothing directly. Pure Python (no CDK).

The actions per service are the API verbs CloudFormation's handlers call for the resource
types of this library (create, describe, update, tag, delete), named as in the Service
Authorization Reference; a resource type missing here fails synthesis (``launch_role``
lets a platform team bring its own role instead).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

#: CloudFormation stack actions of a launch role (Administrator Guide, "Launch constraints",
#: the example launch-role policy), on the stacks Service Catalog creates.
STACK_ACTIONS = (
    "cloudformation:CreateStack",
    "cloudformation:DeleteStack",
    "cloudformation:DescribeStackEvents",
    "cloudformation:DescribeStacks",
    "cloudformation:SetStackPolicy",
    "cloudformation:UpdateStack",
)
#: Stack-less CloudFormation actions (no resource-level permissions).
TEMPLATE_ACTIONS = ("cloudformation:GetTemplateSummary", "cloudformation:ValidateTemplate")
#: Service Catalog names provisioned products' stacks ``SC-<account>-pp-<id>``.
STACK_NAME_PREFIX = "SC-"

_CRUD = ("Create*", "Delete*", "Describe*")
_TAGS = ("TagResource", "UntagResource")

#: CloudFormation service namespace -> (IAM prefix, actions), for the namespaces whose
#: resource types this library's constructs create. Every pattern matches actions of the
#: Service Authorization Reference (a test checks them against cfn-lint's copy of it).
SERVICE_ACTIONS: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "EC2": (
        "ec2",
        (
            *_CRUD,
            "Get*",
            "Modify*",
            "Associate*",
            "Disassociate*",
            "Attach*",
            "Detach*",
            "AuthorizeSecurityGroup*",
            "RevokeSecurityGroup*",
            "AllocateAddress",
            "ReleaseAddress",
            "ReplaceRoute",
        ),
    ),
    "AutoScaling": (
        "autoscaling",
        (*_CRUD, "Update*", "Put*", "Set*", "EnableMetricsCollection", "DisableMetricsCollection"),
    ),
    "FSx": ("fsx", (*_CRUD, "Update*", "List*", *_TAGS)),
    "IAM": (
        "iam",
        (
            "CreateRole",
            "DeleteRole",
            "GetRole",
            "TagRole",
            "UntagRole",
            "UpdateAssumeRolePolicy",
            "PutRolePolicy",
            "GetRolePolicy",
            "DeleteRolePolicy",
            "AttachRolePolicy",
            "DetachRolePolicy",
            "CreateInstanceProfile",
            "DeleteInstanceProfile",
            "GetInstanceProfile",
            "AddRoleToInstanceProfile",
            "RemoveRoleFromInstanceProfile",
        ),
    ),
    "KMS": (
        "kms",
        (
            "CreateKey",
            "DescribeKey",
            "GetKeyPolicy",
            "PutKeyPolicy",
            "GetKeyRotationStatus",
            "EnableKeyRotation",
            "ListResourceTags",
            "ScheduleKeyDeletion",
            *_TAGS,
        ),
    ),
    "SNS": (
        "sns",
        (
            "CreateTopic",
            "DeleteTopic",
            "GetTopicAttributes",
            "SetTopicAttributes",
            "Subscribe",
            "Unsubscribe",
            "GetSubscriptionAttributes",
            "ListSubscriptionsByTopic",
            "ListTagsForResource",
            *_TAGS,
        ),
    ),
    "Logs": ("logs", (*_CRUD, "Put*", "List*", "AssociateKmsKey", "DisassociateKmsKey", *_TAGS)),
    "Events": (
        "events",
        (*_CRUD[1:], "Put*", "Remove*", "List*", "EnableRule", "DisableRule", *_TAGS),
    ),
    "CloudWatch": ("cloudwatch", (*_CRUD[1:], "Put*", "Get*", "List*", *_TAGS)),
    "Budgets": ("budgets", ("ViewBudget", "ModifyBudget")),
    "Lambda": (
        "lambda",
        (
            "Create*",
            "Delete*",
            "Get*",
            "List*",
            "Update*",
            "InvokeFunction",
            "AddPermission",
            "RemovePermission",
            *_TAGS,
        ),
    ),
    "S3": ("s3", ("CreateBucket", "DeleteBucket", "GetBucket*", "PutBucket*", "ListBucket")),
    "SSM": ("ssm", ("GetParameter", "GetParameters")),
}

#: Creating an Auto Scaling group from a launch template needs the caller's
#: ``ec2:RunInstances`` (and ``iam:PassRole`` for its instance profile, ``ec2:CreateTags`` for
#: its tag specifications) (EC2 Auto Scaling User Guide, "Amazon EC2 Auto Scaling API
#: permissions").
LAUNCH_TEMPLATE_ACTIONS = ("ec2:RunInstances",)
#: Service-linked roles the first group or file system of an account creates
#: (``iam:CreateServiceLinkedRole``, limited by ``iam:AWSServiceName``); same guide, and the
#: FSx for Lustre User Guide, "Using service-linked roles for Amazon FSx".
SERVICE_LINKED_ROLES = {
    "AWS::AutoScaling::AutoScalingGroup": "autoscaling.amazonaws.com",
    "AWS::FSx::FileSystem": "fsx.amazonaws.com",
}
#: Services the product templates pass roles to (instance profiles, Lambda-backed custom
#: resources, flow logs); ``iam:PassRole`` is limited to them by ``iam:PassedToService``.
PASS_ROLE_SERVICES = {
    "AWS::EC2::LaunchTemplate": "ec2.amazonaws.com",
    "AWS::Lambda::Function": "lambda.amazonaws.com",
    "AWS::EC2::FlowLog": "vpc-flow-logs.amazonaws.com",
}


@dataclass(frozen=True)
class LaunchRolePlan:
    """The launch role's permissions, as plain values."""

    #: IAM actions per service prefix (sorted), allowed through CloudFormation only.
    service_actions: Mapping[str, tuple[str, ...]]
    pass_role_services: tuple[str, ...]
    service_linked_roles: tuple[str, ...]
    run_instances: bool
    #: Every CloudFormation resource type of the products (sorted).
    resource_types: tuple[str, ...]


def namespace(resource_type: str) -> str:
    """``FSx`` of ``AWS::FSx::FileSystem``; ``Lambda`` for ``Custom::...`` resources, which a
    Lambda function backs."""
    if (
        resource_type.startswith("Custom::")
        or resource_type == "AWS::CloudFormation::CustomResource"
    ):
        return "Lambda"
    parts = resource_type.split("::")
    return parts[1] if len(parts) == 3 and parts[0] == "AWS" else resource_type


def unknown_resource_types(resource_types: Iterable[str]) -> list[str]:
    """Resource types whose service has no entry in :data:`SERVICE_ACTIONS`."""
    return sorted({t for t in resource_types if namespace(t) not in SERVICE_ACTIONS})


def plan_launch_role(resource_types: Iterable[str]) -> LaunchRolePlan:
    """The permissions for the given resource types (callers check
    :func:`unknown_resource_types` first)."""
    types = tuple(sorted(set(resource_types)))
    actions: dict[str, set[str]] = {}
    for resource_type in types:
        prefix, verbs = SERVICE_ACTIONS[namespace(resource_type)]
        actions.setdefault(prefix, set()).update(f"{prefix}:{verb}" for verb in verbs)
    # Instance profiles and passed roles are IAM work even when the templates declare no role.
    passed = sorted({PASS_ROLE_SERVICES[t] for t in types if t in PASS_ROLE_SERVICES})
    return LaunchRolePlan(
        service_actions={prefix: tuple(sorted(found)) for prefix, found in sorted(actions.items())},
        pass_role_services=tuple(passed),
        service_linked_roles=tuple(
            sorted({SERVICE_LINKED_ROLES[t] for t in types if t in SERVICE_LINKED_ROLES})
        ),
        run_instances="AWS::AutoScaling::AutoScalingGroup" in types,
        resource_types=types,
    )
