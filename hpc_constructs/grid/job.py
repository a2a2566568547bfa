"""One job definition of a grid (``BatchGrid.add_job``): its container, its job role scoped to
S3 prefixes, and the retry strategy that retries Spot reclamation and fails fast otherwise."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import aws_cdk as cdk
import jsii
from aws_cdk import aws_batch as batch
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from hpc_constructs import limits
from hpc_constructs.batch import host_volume, instance_store_volume
from hpc_constructs.errors import nag_text
from hpc_constructs.grid.plan import JobPlan
from hpc_constructs.ingest._iam import object_pattern
from hpc_constructs.nodes import SharedFileSystem

#: The environment variable every array job's tasks get: the array size, so a task can work
#: out its slice from ``AWS_BATCH_JOB_ARRAY_INDEX`` (0 to size-1, set by Batch on each child).
ARRAY_SIZE_VARIABLE = "HPC_GRID_ARRAY_SIZE"


def retry_strategies(attempts: int) -> list[batch.RetryStrategy]:
    """Retry when the host went away (Spot reclamation: status reason ``Host EC2*``), exit on
    anything else, so an application error fails at once instead of burning attempts (AWS Batch
    User Guide, "Automated job retries": without a final EXIT entry, unmatched failures retry).
    None with a single attempt."""
    if attempts <= 1:
        return []
    return [
        batch.RetryStrategy.of(
            batch.Action.RETRY,
            batch.Reason.custom(on_status_reason=limits.BATCH_SPOT_RECLAIMED_STATUS_REASON),
        ),
        batch.RetryStrategy.of(batch.Action.EXIT, batch.Reason.custom(on_reason="*")),
    ]


@jsii.implements(iam.IGrantable)
class GridJob(Construct):
    """A job definition of a :class:`~hpc_constructs.grid.BatchGrid` and the role its
    containers run as. ``iam.IGrantable``: ``bucket.grant_read(job)`` grants to the job role
    (the containers' code), not to the nodes; prefer the prefix-scoped helpers
    (:meth:`grant_read`, :meth:`grant_put`, :meth:`grant_read_write`).

    Created by ``BatchGrid.add_job``; see it for the props.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        plan: JobPlan,
        queue: batch.IJobQueue,
        container_factory: Callable[[Construct, iam.IRole], batch.IEcsContainerDefinition],
        job_role: iam.IRole | None,
        parameters: Mapping[str, str] | None,
        timeout: cdk.Duration | None,
        scheduling_priority: int | None,
        propagate_tags: bool,
        share_identifier: str | None,
    ) -> None:
        super().__init__(scope, id)
        #: The job's resolved resources and the pool types it fits on (plain values).
        self.plan = plan
        #: Child jobs per submission (``None``: a single job).
        self.array_size = plan.array_size
        self.job_queue = queue
        self.share_identifier = share_identifier
        #: The role the containers' code runs as.
        self.role: iam.IRole = job_role or iam.Role(
            self,
            "JobRole",
            assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
            description="AWS Batch grid job: what the containers' code may do",
        )
        self._owns_role = job_role is None
        #: The container definition (``add_volume`` works on EC2 jobs).
        self.container = container_factory(self, self.role)
        #: The job definition (the L2).
        self.job_definition = batch.EcsJobDefinition(
            self,
            "Definition",
            container=self.container,
            parameters=dict(parameters) if parameters else None,
            timeout=timeout,
            retry_attempts=plan.retry_attempts,
            retry_strategies=retry_strategies(plan.retry_attempts),
            scheduling_priority=scheduling_priority,
            propagate_tags=propagate_tags,
        )

    @property
    def grant_principal(self) -> iam.IPrincipal:
        return self.role

    @property
    def job_definition_arn(self) -> str:
        return self.job_definition.job_definition_arn

    # --- S3 access scoped to prefixes ---------------------------------------------------------

    def grant_read(self, bucket: s3.IBucket, prefix: str = "") -> iam.Grant:
        """Let the containers list and get objects under ``prefix`` of ``bucket`` (and decrypt
        them with the bucket's KMS key): ``s3:ListBucket`` limited to the prefix, ``s3:GetObject``
        on its keys."""
        grant = self._grant_objects(bucket, prefix, ["s3:GetObject"], ["kms:Decrypt"])
        iam.Grant.add_to_principal(
            grantee=self,
            actions=["s3:ListBucket"],
            resource_arns=[bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": [object_pattern(prefix)]}},
        )
        return grant

    def grant_put(self, bucket: s3.IBucket, prefix: str = "") -> iam.Grant:
        """Let the containers write objects under ``prefix`` (results): ``s3:PutObject`` and
        ``s3:AbortMultipartUpload``, and the KMS calls SSE-KMS uploads need."""
        return self._grant_objects(
            bucket,
            prefix,
            ["s3:PutObject", "s3:AbortMultipartUpload"],
            ["kms:GenerateDataKey", "kms:Decrypt"],
        )

    def grant_read_write(self, bucket: s3.IBucket, prefix: str = "") -> iam.Grant:
        """Read and write under ``prefix`` (checkpoints: a retried task reads back what the
        interrupted attempt saved)."""
        self.grant_read(bucket, prefix)
        return self.grant_put(bucket, prefix)

    def _grant_objects(
        self, bucket: s3.IBucket, prefix: str, actions: Sequence[str], key_actions: Sequence[str]
    ) -> iam.Grant:
        objects = bucket.arn_for_objects(object_pattern(prefix))
        grant = iam.Grant.add_to_principal(
            grantee=self, actions=list(actions), resource_arns=[objects]
        )
        if bucket.encryption_key is not None:
            iam.Grant.add_to_principal(
                grantee=self,
                actions=list(key_actions),
                resource_arns=[bucket.encryption_key.key_arn],
            )
        self._acknowledge_object_wildcard(objects)
        return grant

    def _acknowledge_object_wildcard(self, objects: str) -> None:
        try:
            finding = f"AwsSolutions-IAM5[Resource::{nag_text(self, objects)}]"
        except ValueError:  # an ARN shape cdk-nag would print differently: leave it visible
            return
        cdk.Validations.of(self.role).acknowledge(
            cdk.Acknowledgment(
                id=finding,
                reason="Grid tasks read and write objects they cannot name in advance (one per "
                "array index); the only wildcard is the key suffix under one prefix of one "
                "bucket, and only the object actions the task needs are allowed",
            )
        )

    # --- submitting -----------------------------------------------------------------------------

    def submit_command(self, job_name: str | None = None) -> str:
        """The ``aws batch submit-job`` command line that runs this job on its queue (with the
        array size and, on a fair-share queue, a share identifier placeholder). Contains tokens:
        use it in a ``CfnOutput``."""
        parts = [
            "aws batch submit-job",
            f"--job-name {job_name or self.node.id}",
            f"--job-queue {self.job_queue.job_queue_arn}",
            f"--job-definition {self.job_definition_arn}",
        ]
        if self.array_size is not None:
            parts.append(f"--array-properties size={self.array_size}")
        if self.share_identifier is not None:
            parts.append(f"--share-identifier {self.share_identifier}")
        return " ".join(parts)


def ec2_container(
    scope: Construct,
    *,
    image: str | ecs.ContainerImage,
    command: Sequence[str],
    plan: JobPlan,
    environment: Mapping[str, str],
    execution_role: iam.IRole,
    job_role: iam.IRole,
    volumes: Sequence[SharedFileSystem],
    instance_store: bool = False,
) -> batch.EcsEc2ContainerDefinition:
    mounts = [host_volume(item) for item in volumes]
    if instance_store:  # the striped instance store, as fast local scratch
        mounts.append(instance_store_volume())
    return batch.EcsEc2ContainerDefinition(
        scope,
        "Container",
        image=ecs.ContainerImage.from_registry(image) if isinstance(image, str) else image,
        command=list(command),
        cpu=plan.vcpus,
        memory=cdk.Size.mebibytes(plan.memory_mib),
        gpu=plan.gpus or None,
        environment=dict(environment),
        volumes=mounts,
        execution_role=execution_role,
        job_role=job_role,
    )


def fargate_container(
    scope: Construct,
    *,
    image: str | ecs.ContainerImage,
    command: Sequence[str],
    plan: JobPlan,
    environment: Mapping[str, str],
    execution_role: iam.IRole,
    job_role: iam.IRole,
) -> batch.EcsFargateContainerDefinition:
    return batch.EcsFargateContainerDefinition(
        scope,
        "Container",
        image=ecs.ContainerImage.from_registry(image) if isinstance(image, str) else image,
        command=list(command),
        cpu=plan.vcpus,
        memory=cdk.Size.mebibytes(plan.memory_mib),
        environment=dict(environment),
        execution_role=execution_role,
        job_role=job_role,
        assign_public_ip=False,
    )
