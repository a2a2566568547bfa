"""IAM and ARN helpers shared by the DataSync locations, task reports and Snowball."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from hpc_constructs.errors import nag_text
from hpc_constructs.ingest._facts import DATASYNC_KMS_ACTIONS, DATASYNC_S3_BUCKET_ACTIONS


def secret_access(
    scope: Construct, secret: secretsmanager.ISecret
) -> tuple[dict[str, str], iam.Policy]:
    """``CustomSecretConfig`` for ``secret`` and the policy of the role DataSync reads it with."""
    role = iam.Role(
        scope,
        "SecretAccessRole",
        assumed_by=datasync_principal(scope),
        description="Lets DataSync read the location credential from Secrets Manager",
    )
    statements = [
        iam.PolicyStatement(
            actions=["secretsmanager:GetSecretValue"], resources=[secret.secret_arn]
        )
    ]
    if secret.encryption_key is not None:
        statements.append(
            iam.PolicyStatement(actions=["kms:Decrypt"], resources=[secret.encryption_key.key_arn])
        )
    policy = iam.Policy(scope, "SecretAccessPolicy", statements=statements, roles=[role])
    return {"secretArn": secret.secret_arn, "secretAccessRoleArn": role.role_arn}, policy


def private_subnet_type(vpc: ec2.IVpc) -> ec2.SubnetType:
    return (
        ec2.SubnetType.PRIVATE_WITH_EGRESS
        if vpc.private_subnets
        else ec2.SubnetType.PRIVATE_ISOLATED
    )


def security_group_arn(stack: cdk.Stack, group: ec2.ISecurityGroup) -> str:
    return stack.format_arn(
        service="ec2", resource="security-group", resource_name=group.security_group_id
    )


def datasync_principal(scope: Construct) -> iam.IPrincipal:
    """``datasync.amazonaws.com``, limited to this account's DataSync (confused deputy)."""
    stack = cdk.Stack.of(scope)
    return iam.ServicePrincipal(
        "datasync.amazonaws.com",
        conditions={
            "StringEquals": {"aws:SourceAccount": stack.account},
            "StringLike": {
                "aws:SourceArn": f"arn:{stack.partition}:datasync:{stack.region}:{stack.account}:*"
            },
        },
    )


def object_pattern(prefix: str) -> str:
    if not prefix:
        return "*"
    return (prefix if prefix.endswith("/") else prefix + "/") + "*"


def s3_location_role(
    scope: Construct,
    id: str,
    bucket: s3.IBucket,
    prefix: str,
    object_actions: Sequence[str],
) -> tuple[iam.Role, iam.Policy]:
    """A role DataSync assumes for one S3 location, scoped to ``bucket`` and ``prefix``."""
    role = iam.Role(
        scope,
        id,
        assumed_by=datasync_principal(scope),
        description="DataSync S3 location access, scoped to one bucket and prefix",
    )
    object_arn = bucket.arn_for_objects(object_pattern(prefix))
    statements = [
        iam.PolicyStatement(
            actions=list(DATASYNC_S3_BUCKET_ACTIONS), resources=[bucket.bucket_arn]
        ),
        iam.PolicyStatement(actions=list(object_actions), resources=[object_arn]),
    ]
    if bucket.encryption_key is not None:
        statements.append(
            iam.PolicyStatement(
                actions=list(DATASYNC_KMS_ACTIONS), resources=[bucket.encryption_key.key_arn]
            )
        )
    policy = iam.Policy(scope, f"{id}Policy", statements=statements, roles=[role])
    ack_object_wildcard(policy, object_arn, "DataSync")
    return role, policy


def ack_object_wildcard(policy: iam.Policy, object_arn: str, who: str) -> None:
    """Acknowledge the one IAM5 finding for ``object_arn`` on ``policy``, nothing wider."""
    try:
        finding = f"AwsSolutions-IAM5[Resource::{nag_text(policy, object_arn)}]"
    except ValueError:  # an ARN shape cdk-nag would print differently: leave it visible
        return
    cdk.Validations.of(policy).acknowledge(
        cdk.Acknowledgment(
            id=finding,
            reason=(
                f"{who} reads and writes objects it cannot name in advance; the only wildcard is "
                "the object-key suffix of the ARN of the one bucket and prefix this role serves."
            ),
        )
    )
