"""Genomics pipeline: NFS -> S3 with DataSync, S3 -> Lustre, MPI tools on AWS Batch multi-node."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_events as events
from constructs import Construct

import hpc_constructs as hc


@dataclass(frozen=True)
class GenomicsConfig:
    """Choices for :class:`GenomicsStack`; each can be overridden with ``-c name=value``."""

    #: c5n.18xlarge: 72 vCPUs, 100 Gbps with EFA, On-Demand or reserved (Batch MNP has no Spot).
    instance_type: str = "c5n.18xlarge"
    max_nodes: int = 8
    compute_availability_zone: str = "us-east-2a"
    #: The smallest SCRATCH_2 file system: cost-conscious, 240 MB/s baseline.
    lustre_capacity_gib: int = 1200
    #: The on-premises sequencer share and the DataSync agent that reads it (activated outside
    #: CloudFormation; see the DataIngest section of the README).
    nfs_server: str = "sequencers.lab.example.com"
    nfs_export: str = "/exports/runs"
    datasync_agent_arn: str = (
        "arn:aws:datasync:us-east-2:123456789012:agent/agent-0123456789abcdef0"
    )
    #: Nightly transfer at 01:00 UTC.
    transfer_hour_utc: int = 1
    #: Image for the sample EFA smoke test (fi_pingpong between two nodes): AWS's public
    #: NCCL tests image, which ships libfabric with the EFA provider. Use your pipeline's image.
    job_image: str = "public.ecr.aws/hpc-cloud/nccl-tests:latest"


class GenomicsStack(cdk.Stack):
    """DataIngest (DataSync NFS -> S3) + LustreScratch (imports from S3) + BatchMultiNode."""

    def __init__(
        self, scope: Construct, id: str, *, config: GenomicsConfig | None = None, **kwargs: Any
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.config = config or GenomicsConfig()
        c = self.config
        self.fabric = hc.NetworkFabric(
            self, "Fabric", compute_availability_zone=c.compute_availability_zone
        )
        self.ingest = hc.DataIngest(self, "Ingest", vpc=self.fabric.vpc)
        self.transfer = self.ingest.add_task(
            "SequencerRuns",
            source=hc.DataSyncSource.nfs(
                server_hostname=c.nfs_server,
                export_path=c.nfs_export,
                agent_arns=[c.datasync_agent_arn],
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
        self.job = self.batch.add_job(
            "EfaPingPong",
            image=c.job_image,
            command=hc.BatchMultiNode.efa_pingpong_command(),
            num_nodes=2,
        )
