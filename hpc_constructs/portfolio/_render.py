"""Rendering helpers of ``BlueprintPortfolio``: the asset bucket and the launch role's policy."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct, IConstruct

from hpc_constructs.errors import nag_text
from hpc_constructs.ingest.bucket import allow_log_delivery, create_access_log_bucket
from hpc_constructs.portfolio import launch_role as lr

_LOG_PREFIX = "asset-bucket/"
_CALLED_VIA_CLOUDFORMATION: dict[str, dict[str, object]] = {
    "ForAnyValue:StringEquals": {"aws:CalledVia": ["cloudformation.amazonaws.com"]}
}


def asset_bucket_name(account: str, region: str, addr: str) -> str:
    """``hpc-sc-assets-<account>-<region>-<8 hex of the portfolio's construct address>``:
    unique per portfolio, at most 63 characters (S3 bucket naming rules)."""
    return f"hpc-sc-assets-{account}-{region}-{addr[:8]}"


def create_asset_bucket(scope: Construct) -> s3.Bucket:
    """Where the product stacks' assets (the custom-resource code of their constructs) are
    copied, so a provisioned product's stack can read them: ``ProductStack`` needs a bucket
    whose name is known at synth time (the stack's account and region are concrete)."""
    stack = cdk.Stack.of(scope)
    logs = create_access_log_bucket(scope, "AssetAccessLogs", of="the product asset bucket")
    bucket = s3.Bucket(
        scope,
        "AssetBucket",
        bucket_name=asset_bucket_name(stack.account, stack.region, scope.node.addr),
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        versioned=True,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    # Logging on the L1, delivery by bucket policy (as the landing bucket does): given
    # server_access_logs_bucket, the L2 would pick ACL or policy delivery by feature flag.
    cfn_bucket = bucket.node.default_child
    assert isinstance(cfn_bucket, s3.CfnBucket)
    cfn_bucket.logging_configuration = s3.CfnBucket.LoggingConfigurationProperty(
        destination_bucket_name=logs.bucket_name, log_file_prefix=_LOG_PREFIX
    )
    allow_log_delivery(logs, bucket, _LOG_PREFIX)
    return bucket


@dataclass(frozen=True)
class _Grant:
    key: str
    actions: tuple[str, ...]
    conditions: dict[str, dict[str, object]]


def _grants(plan: lr.LaunchRolePlan) -> list[_Grant]:
    grants = [
        _Grant(prefix, actions, _CALLED_VIA_CLOUDFORMATION)
        for prefix, actions in plan.service_actions.items()
    ]
    if plan.run_instances:
        grants.append(
            _Grant("run-instances", lr.LAUNCH_TEMPLATE_ACTIONS, _CALLED_VIA_CLOUDFORMATION)
        )
    for service in plan.pass_role_services:
        grants.append(
            _Grant(
                f"pass-role:{service}",
                ("iam:PassRole",),
                {**_CALLED_VIA_CLOUDFORMATION, "StringEquals": {"iam:PassedToService": service}},
            )
        )
    for service in plan.service_linked_roles:
        grants.append(
            _Grant(
                f"service-linked-role:{service}",
                ("iam:CreateServiceLinkedRole",),
                {"StringEquals": {"iam:AWSServiceName": service}},
            )
        )
    return grants


def grant_launch_permissions(
    scope: Construct,
    role: iam.Role,
    plan: lr.LaunchRolePlan,
    granted: dict[str, set[str]],
    asset_bucket: s3.IBucket | None,
) -> None:
    """Add what ``plan`` allows and ``granted`` does not hold yet to the launch role's policy
    (``granted`` is updated); each wildcard acknowledged once, with its reason."""
    policy = _launch_policy(scope, role, asset_bucket)
    for grant in _grants(plan):
        new = sorted(set(grant.actions) - granted.get(grant.key, set()))
        if not new:
            continue
        granted.setdefault(grant.key, set()).update(new)
        policy.add_statements(
            iam.PolicyStatement(actions=new, resources=["*"], conditions=grant.conditions)
        )
        for action in (a for a in new if "*" in a):
            _acknowledge(
                policy,
                f"AwsSolutions-IAM5[Action::{action}]",
                f"{action} covers the API verbs CloudFormation calls to create, update, tag "
                "and delete the products' resources of this service; allowed only through "
                "CloudFormation (aws:CalledVia).",
            )


def _launch_policy(scope: Construct, role: iam.Role, asset_bucket: s3.IBucket | None) -> iam.Policy:
    existing = scope.node.try_find_child("LaunchPolicy")
    if isinstance(existing, iam.Policy):
        return existing
    stack = cdk.Stack.of(scope)
    stacks_arn = stack.format_arn(
        service="cloudformation", resource="stack", resource_name=f"{lr.STACK_NAME_PREFIX}*"
    )
    statements = [
        iam.PolicyStatement(actions=list(lr.STACK_ACTIONS), resources=[stacks_arn]),
        iam.PolicyStatement(actions=list(lr.TEMPLATE_ACTIONS), resources=["*"]),
    ]
    if asset_bucket is not None:
        statements.append(
            iam.PolicyStatement(
                actions=["s3:GetObject"], resources=[asset_bucket.arn_for_objects("*")]
            )
        )
    policy = iam.Policy(scope, "LaunchPolicy", statements=statements)
    policy.attach_to_role(role)
    _acknowledge(
        policy,
        "AwsSolutions-IAM5[Resource::*]",
        "A provisioned product's resources get names and ARNs at launch, in a stack Service "
        "Catalog creates, so no statement can name them; every statement on '*' is limited "
        "to calls CloudFormation makes (aws:CalledVia), to the service a role is passed to "
        "(iam:PassedToService) or to the service-linked role it creates (iam:AWSServiceName); "
        "GetTemplateSummary and ValidateTemplate have no resource-level permissions.",
    )
    _acknowledge(
        policy,
        f"AwsSolutions-IAM5[Resource::{nag_text(policy, stacks_arn)}]",
        "Service Catalog names each provisioned product's stack SC-<account>-pp-<id> at "
        "launch: the stack actions are limited to those names.",
    )
    if asset_bucket is not None:
        _acknowledge(
            policy,
            f"AwsSolutions-IAM5[Resource::{nag_text(policy, asset_bucket.arn_for_objects('*'))}]",
            "Read-only access to the product asset bucket's objects (the custom-resource code "
            "of the product stacks), whose keys are asset hashes.",
        )
    return policy


def _acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))


#: aws-cdk-lib's singleton behind ``ProductStack`` assets (``BucketDeployment``).
_BUCKET_DEPLOYMENT_PREFIX = "Custom::CDKBucketDeployment"
_BUCKET_DEPLOYMENT_REASONS = {
    "AwsSolutions-IAM4": "aws-cdk-lib's BucketDeployment handler (copies the product stacks' "
    "assets from the CDK bootstrap bucket to the product asset bucket at deploy time) logs "
    "with AWSLambdaBasicExecutionRole; aws-cdk-lib creates the role.",
    "AwsSolutions-IAM5": "aws-cdk-lib's BucketDeployment handler reads the CDK bootstrap "
    "bucket's asset objects and writes the product asset bucket's objects (s3:GetObject*, "
    "s3:List*, s3:DeleteObject*, s3:Abort* on those two buckets only), as aws-cdk-lib grants it.",
    "AwsSolutions-L1": "The BucketDeployment handler's runtime is pinned by aws-cdk-lib "
    "(2.275), which bundles its code for that runtime; it runs only at deploy time.",
}


def adjust_bucket_deployment(stack: cdk.Stack, acknowledged: set[str]) -> None:
    """Acknowledge aws-cdk-lib's ``BucketDeployment`` singleton findings (it exists once a
    product stack has assets; ``acknowledged`` holds the ids done) and drop its handler's
    ``DependsOn`` on its role (cfn-lint W3005: the ``GetAtt`` of the role orders them)."""
    for child in stack.node.children:
        if not child.node.id.startswith(_BUCKET_DEPLOYMENT_PREFIX):
            continue
        handler = child.node.default_child
        role = child.node.try_find_child("ServiceRole")
        policy = role.node.try_find_child("DefaultPolicy") if role is not None else None
        cfn_policy = policy.node.default_child if policy is not None else None
        if isinstance(handler, cdk.CfnResource) and isinstance(cfn_policy, cdk.CfnResource):
            # The handler must still wait for its policy; the role is ordered by its GetAtt.
            handler.add_override("DependsOn", [cfn_policy.logical_id])
        for rule in _finding_ids(child, policy):
            if rule not in acknowledged:
                acknowledged.add(rule)
                _acknowledge(child, rule, _BUCKET_DEPLOYMENT_REASONS[rule.split("[")[0]])


def _finding_ids(handler: IConstruct, policy: IConstruct | None) -> list[str]:
    """The cdk-nag ids of the handler's managed policy, wildcard actions and resources."""
    ids = [
        "AwsSolutions-L1",
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
        "AWSLambdaBasicExecutionRole]",
    ]
    if not isinstance(policy, iam.Policy):
        return ids
    document = cdk.Stack.of(handler).resolve(policy.document)
    for statement in document.get("Statement", []):
        for field, kind in (("Action", "Action"), ("Resource", "Resource")):
            values = statement.get(field, [])
            for value in values if isinstance(values, list) else [values]:
                text = value if isinstance(value, str) else nag_text(handler, value)
                if "*" in text:
                    ids.append(f"AwsSolutions-IAM5[{kind}::{text}]")
    return ids
