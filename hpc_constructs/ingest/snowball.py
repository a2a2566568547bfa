"""Snowball import readiness: the import role and the ``create-job`` request as an output."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from hpc_constructs.ingest._facts import (
    DATASYNC_KMS_ACTIONS,
    SNOWBALL_BUCKET_ACTIONS,
    SNOWBALL_OBJECT_ACTIONS,
)
from hpc_constructs.ingest._iam import ack_object_wildcard
from hpc_constructs.ingest._plan import SnowballPlan, snowball_request


def create_snowball_role(scope: Construct, bucket: s3.IBucket, key: kms.IKey) -> iam.Role:
    """A role ``importexport.amazonaws.com`` (this account only) uses to write into ``bucket``."""
    stack = cdk.Stack.of(scope)
    role = iam.Role(
        scope,
        "SnowballImportRole",
        assumed_by=iam.ServicePrincipal(
            "importexport.amazonaws.com",
            conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
        ),
        description="Lets AWS Snowball import a device's data into the landing bucket",
    )
    object_arn = bucket.arn_for_objects("*")
    statements = [
        iam.PolicyStatement(actions=list(SNOWBALL_BUCKET_ACTIONS), resources=[bucket.bucket_arn]),
        iam.PolicyStatement(actions=list(SNOWBALL_OBJECT_ACTIONS), resources=[object_arn]),
        iam.PolicyStatement(actions=list(DATASYNC_KMS_ACTIONS), resources=[key.key_arn]),
    ]
    if bucket.encryption_key is not None and bucket.encryption_key is not key:
        statements.append(
            iam.PolicyStatement(
                actions=list(DATASYNC_KMS_ACTIONS), resources=[bucket.encryption_key.key_arn]
            )
        )
    policy = iam.Policy(scope, "SnowballImportPolicy", statements=statements, roles=[role])
    ack_object_wildcard(policy, object_arn, "Snowball import")
    return role


def create_job_request_output(
    scope: Construct, plan: SnowballPlan, bucket: s3.IBucket, key: kms.IKey, role: iam.Role
) -> cdk.CfnOutput:
    request = snowball_request(
        plan, bucket_arn=bucket.bucket_arn, key_arn=key.key_arn, role_arn=role.role_arn
    )
    return cdk.CfnOutput(
        scope,
        "SnowballCreateJobRequest",
        description=(
            "Fill the <placeholders>, then: aws snowball create-job --cli-input-json "
            "'<this value>' (ships a device; a person runs it)"
        ),
        value=cdk.Stack.of(scope).to_json_string(request),
    )
