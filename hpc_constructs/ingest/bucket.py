"""The landing bucket and its server-access-log bucket, rendered from a ``BucketPlan``."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from hpc_constructs.ingest._plan import BucketPlan


def create_access_log_bucket(
    scope: Construct, id: str = "AccessLogBucket", *, of: str = "the landing bucket"
) -> s3.Bucket:
    """The server-access-log destination of a bucket (``of`` names it in the acknowledgment):
    SSE-S3 (the only encryption log delivery supports), TLS only, private, versioned, kept."""
    bucket = s3.Bucket(
        scope,
        id,
        # Server access logs can only be delivered to SSE-S3 buckets.
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        versioned=True,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    cdk.Validations.of(bucket).acknowledge(
        cdk.Acknowledgment(
            id="AwsSolutions-S1",
            reason=(
                f"This is the server-access-log destination of {of}; logging "
                "it to itself or to another bucket would only move the finding."
            ),
        )
    )
    return bucket


def allow_log_delivery(log_bucket: s3.Bucket, source: s3.Bucket, prefix: str) -> None:
    """Let S3 server access logging write ``source``'s logs under ``prefix``, by bucket policy.

    The statement the L2 writes when ``@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy`` is on;
    written here so the template does not depend on the app's feature flags (with the flag off
    the L2 would switch the log bucket to the ``LogDeliveryWrite`` ACL: cfn-lint W3045).
    """
    log_bucket.add_to_resource_policy(
        iam.PolicyStatement(
            effect=iam.Effect.ALLOW,
            principals=[iam.ServicePrincipal("logging.s3.amazonaws.com")],
            actions=["s3:PutObject"],
            resources=[log_bucket.arn_for_objects(f"{prefix}*")],
            conditions={
                "ArnLike": {"aws:SourceArn": source.bucket_arn},
                "StringEquals": {"aws:SourceAccount": cdk.Stack.of(source).account},
            },
        )
    )


def create_landing_bucket(
    scope: Construct, plan: BucketPlan, key: kms.IKey, log_bucket: s3.Bucket
) -> s3.Bucket:
    kms_encrypted = plan.encryption == "KMS"
    bucket = s3.Bucket(
        scope,
        "LandingBucket",
        encryption=(s3.BucketEncryption.KMS if kms_encrypted else s3.BucketEncryption.S3_MANAGED),
        encryption_key=key if kms_encrypted else None,
        bucket_key_enabled=True if kms_encrypted else None,
        enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        versioned=True,
        lifecycle_rules=[
            s3.LifecycleRule(
                id="IntelligentTiering",
                transitions=[
                    s3.Transition(
                        storage_class=s3.StorageClass.INTELLIGENT_TIERING,
                        transition_after=cdk.Duration.days(plan.intelligent_tiering_after_days),
                    )
                ],
                noncurrent_version_expiration=cdk.Duration.days(
                    plan.noncurrent_version_expiration_days
                ),
                abort_incomplete_multipart_upload_after=cdk.Duration.days(
                    plan.abort_incomplete_multipart_upload_days
                ),
            )
        ],
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    # Logging is set on the L1 and delivery granted by bucket policy (allow_log_delivery): given
    # server_access_logs_bucket, the L2 would pick ACL or policy delivery by feature flag.
    cfn_bucket = bucket.node.default_child
    assert isinstance(cfn_bucket, s3.CfnBucket)
    cfn_bucket.logging_configuration = s3.CfnBucket.LoggingConfigurationProperty(
        destination_bucket_name=log_bucket.bucket_name, log_file_prefix=plan.access_log_prefix
    )
    allow_log_delivery(log_bucket, bucket, plan.access_log_prefix)
    return bucket
