"""Genomics pipeline: NFS -> S3 with DataSync, S3 -> Lustre, MPI tools on AWS Batch multi-node."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import aws_cdk as cdk
from aws_cdk import aws_batch as batch
from aws_cdk import aws_events as events
from constructs import Construct

import hpc_constructs as hc
from stacks.config import bounded, ec2_type, pick_compute_az
from stacks.operations import OPERATIONS_CONFIG_PROPS, OperationsConfig, add_operations, budget_usd

PLACEHOLDER_AGENT = "agent-0123456789abcdef0"


@dataclass(frozen=True)
class GenomicsConfig(OperationsConfig):
    """Choices for :class:`GenomicsStack`; each can be overridden with ``-c name=value``."""

    monthly_budget_usd: int = budget_usd(10_000)

    #: c5n.18xlarge: 72 vCPUs, 100 Gbps with EFA, On-Demand or reserved (Batch MNP has no Spot).
    instance_type: str = ec2_type("c5n.18xlarge")
    max_nodes: int = bounded(8, 1)
    #: Empty: the first AZ of the region that offers ``instance_type`` (us-east-2a in us-east-2).
    compute_availability_zone: str = ""
    #: The smallest SCRATCH_2 file system: cost-conscious, 240 MB/s baseline.
    lustre_capacity_gib: int = bounded(1200, 1200)
    #: The on-premises sequencer share and the DataSync agent that reads it (activated outside
    #: CloudFormation; see the DataIngest section of the README). Empty agent ARN: a placeholder
    #: agent in the stack's own account and region (replace it before deploying).
    nfs_server: str = "sequencers.lab.example.com"
    nfs_export: str = "/exports/runs"
    datasync_agent_arn: str = ""
    #: Nightly transfer at 01:00 UTC (0 to 23).
    transfer_hour_utc: int = bounded(1, 0, 23)
    #: Image for the sample EFA smoke test (fi_pingpong between two nodes): AWS's public
    #: NCCL tests image, which ships libfabric with the EFA provider. Use your pipeline's image.
    #: The job is added only when ``instance_type`` has EFA (it tests nothing else).
    job_image: str = "public.ecr.aws/hpc-cloud/nccl-tests:latest"


class GenomicsStack(cdk.Stack):
    """DataIngest (DataSync NFS -> S3) + LustreScratch (imports from S3) + BatchMultiNode."""

    #: Construct props set from config fields ("Child/prop" -> field), for error messages.
    CONFIG_PROPS: ClassVar[dict[str, str]] = {
        **OPERATIONS_CONFIG_PROPS,
        "Batch/instance_type": "instance_type",
        "Batch/max_nodes": "max_nodes",
        "Fabric/compute_availability_zone": "compute_availability_zone",
        "Scratch/storage_capacity_gib": "lustre_capacity_gib",
        "Ingest/SequencerRuns/server_hostname": "nfs_server",
        "Ingest/SequencerRuns/export_path": "nfs_export",
        "Ingest/SequencerRuns/agent_arns": "datasync_agent_arn",
    }

    def __init__(
        self, scope: Construct, id: str, *, config: GenomicsConfig | None = None, **kwargs: Any
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.config = config or GenomicsConfig()
        c = self.config
        az = c.compute_availability_zone or pick_compute_az(
            self.region, [c.instance_type], self.availability_zones
        )
        self.fabric = hc.NetworkFabric(self, "Fabric", compute_availability_zone=az)
        agent_arn = (
            c.datasync_agent_arn
            or f"arn:aws:datasync:{self.region}:{self.account}:agent/{PLACEHOLDER_AGENT}"
        )
        self.ingest = hc.DataIngest(self, "Ingest", vpc=self.fabric.vpc)
        self.transfer = self.ingest.add_task(
            "SequencerRuns",
            source=hc.DataSyncSource.nfs(
                server_hostname=c.nfs_server,
                export_path=c.nfs_export,
                agent_arns=[agent_arn],
            ),
            destination=hc.DataSyncDestination.landing_bucket(prefix="runs/"),
            schedule=events.Schedule.cron(minute="0", hour=str(c.transfer_hour_utc)),
        )
        bucket = self.ingest.landing_bucket
        self.scratch = hc.LustreScratch(
            self,
            "Scratch",
            vpc=self.fabric.vpc,
            vpc_subnets=self.fabric.compute_subnets,
            storage_capacity_gib=c.lustre_capacity_gib,
            data_repositories=[
                # New runs appear under /fsx/runs as DataSync lands them in S3.
                hc.DataRepository(
                    bucket=bucket, file_system_path="/runs", prefix="runs/", export_events=()
                ),
                hc.DataRepository(bucket=bucket, file_system_path="/results", prefix="results/"),
            ],
        )
        self.batch = hc.BatchMultiNode(
            self,
            "Batch",
            vpc=self.fabric.vpc,
            vpc_subnets=self.fabric.compute_subnets,
            instance_type=c.instance_type,
            max_nodes=c.max_nodes,
            file_systems=[self.scratch],
        )
        # The EFA ping-pong smoke test only makes sense with EFA: without it (an instance type
        # with no EFA), the sample has no job and you add your pipeline's own.
        self.job: batch.IJobDefinition | None = None
        if self.batch.efa_enabled:
            self.job = self.batch.add_job(
                "EfaPingPong",
                image=c.job_image,
                command=hc.BatchMultiNode.efa_pingpong_command(),
                num_nodes=2,
            )
        self.operations = add_operations(
            self, c, project="genomics", watch=[self.ingest, self.scratch, self.batch]
        )
