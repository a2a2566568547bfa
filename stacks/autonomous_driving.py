"""Autonomous-driving simulation: drive logs land in S3 (DataSync from the garage, Snowball for
bulk), scenario data on Lustre linked to the bucket, GPU simulation array jobs on Spot."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from constructs import Construct

import hpc_constructs as hc
from stacks.config import bounded
from stacks.operations import OPERATIONS_CONFIG_PROPS, OperationsConfig, add_operations, budget_usd

PLACEHOLDER_AGENT = "agent-0123456789abcdef0"


@dataclass(frozen=True)
class AutonomousDrivingConfig(OperationsConfig):
    """Choices for :class:`AutonomousDrivingStack`; each can be overridden with ``-c``."""

    monthly_budget_usd: int = budget_usd(30_000)

    #: vCPU ceiling of the Spot GPU environment; the On-Demand fallback gets a quarter of it.
    max_vcpus: int = bounded(1024, 1)
    #: The GPU pool, picked from the instance catalog: NVIDIA g-family types with at least one
    #: GPU of 20 GiB or more, 4 to 32 vCPUs, up to 12 types.
    gpus_per_instance: int = bounded(1, 1)
    min_gpu_memory_gib: int = bounded(20, 0)
    min_instance_vcpus: int = bounded(4, 1)
    max_instance_vcpus: int = bounded(32, 1)
    max_instance_types: int = bounded(12, 1, 50)
    #: Scenarios per run (one GPU task each) and the task's vCPUs.
    array_size: int = bounded(500, 2, 10_000)
    task_vcpus: int = bounded(4, 1)
    task_timeout_minutes: int = bounded(120, 1)
    #: SCRATCH_2 Lustre: 2400 GiB gives 480 MB/s baseline for scenario reads.
    lustre_capacity_gib: int = bounded(2400, 1200)
    #: The garage's NAS share of drive logs and the DataSync agent that reads it (activated
    #: outside CloudFormation). Empty agent ARN: a placeholder agent in the stack's account.
    nfs_server: str = "drive-logs.garage.example.com"
    nfs_export: str = "/exports/drive-logs"
    datasync_agent_arn: str = ""
    #: Hourly transfer of new drive logs (minute past the hour, 0 to 59).
    transfer_minute: int = bounded(15, 0, 59)
    #: Your simulator's image (a placeholder; it reads ``SCENARIO_ROOT`` and writes
    #: ``RESULTS_DIR``).
    job_image: str = "public.ecr.aws/my-org/av-simulator:latest"


class AutonomousDrivingStack(cdk.Stack):
    """NetworkFabric + DataIngest (DataSync NFS -> S3, Snowball import role) + LustreScratch
    (drive logs and scenarios imported from S3, results exported) + a GPU BatchGrid on Spot
    across three AZs mounting the Lustre file system."""

    #: Construct props set from config fields ("Child/prop" -> field), for error messages.
    CONFIG_PROPS: ClassVar[dict[str, str]] = {
        **OPERATIONS_CONFIG_PROPS,
        "Grid/max_vcpus": "max_vcpus",
        "Grid/instance_requirements": "min_gpu_memory_gib",
        "Grid/Simulate/vcpus/memory/gpus": "task_vcpus",
        "Grid/Simulate/array_size": "array_size",
        "Scratch/storage_capacity_gib": "lustre_capacity_gib",
        "Ingest/DriveLogs/server_hostname": "nfs_server",
        "Ingest/DriveLogs/export_path": "nfs_export",
        "Ingest/DriveLogs/agent_arns": "datasync_agent_arn",
    }

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: AutonomousDrivingConfig | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.config = config or AutonomousDrivingConfig()
        c = self.config
        self.fabric = hc.NetworkFabric(self, "Fabric")
        agent_arn = (
            c.datasync_agent_arn
            or f"arn:aws:datasync:{self.region}:{self.account}:agent/{PLACEHOLDER_AGENT}"
        )
        # Drive logs: hourly DataSync from the garage NAS, Snowball for the fleet's bulk uploads.
        self.ingest = hc.DataIngest(self, "Ingest", vpc=self.fabric.vpc, snowball=True)
        self.transfer = self.ingest.add_task(
            "DriveLogs",
            source=hc.DataSyncSource.nfs(
                server_hostname=c.nfs_server, export_path=c.nfs_export, agent_arns=[agent_arn]
            ),
            destination=hc.DataSyncDestination.landing_bucket(prefix="drive-logs/"),
            schedule=events.Schedule.cron(minute=str(c.transfer_minute)),
        )
        bucket = self.ingest.landing_bucket
        self.scratch = hc.LustreScratch(
            self,
            "Scratch",
            vpc=self.fabric.vpc,
            vpc_subnets=self.fabric.compute_subnets,
            storage_capacity_gib=c.lustre_capacity_gib,
            data_repositories=[
                hc.DataRepository(
                    bucket=bucket,
                    file_system_path="/drive-logs",
                    prefix="drive-logs/",
                    export_events=(),
                ),
                hc.DataRepository(
                    bucket=bucket,
                    file_system_path="/scenarios",
                    prefix="scenarios/",
                    export_events=(),
                ),
                hc.DataRepository(bucket=bucket, file_system_path="/results", prefix="results/"),
            ],
        )
        # GPU nodes in every AZ of the fabric (more Spot pools); the Lustre file system lives
        # in the compute AZ and nodes elsewhere mount it across AZs.
        self.grid = hc.BatchGrid(
            self,
            "Grid",
            vpc=self.fabric.vpc,
            max_vcpus=c.max_vcpus,
            instance_requirements=hc.InstanceRequirements(
                gpus=c.gpus_per_instance,
                min_gpu_memory_gib=c.min_gpu_memory_gib,
                min_vcpus=c.min_instance_vcpus,
                max_vcpus=c.max_instance_vcpus,
                max_memory_per_vcpu_gib=None,
                max_types=c.max_instance_types,
            ),
            file_systems=[self.scratch],
        )
        assert self.ingest.notifications_topic is not None  # DataIngest made its own topic
        self.grid.add_job_failure_target(targets.SnsTopic(self.ingest.notifications_topic))
        self.simulate = self.grid.add_job(
            "Simulate",
            image=c.job_image,
            # Each child simulates one scenario of the set: AWS_BATCH_JOB_ARRAY_INDEX picks it.
            command=["av-sim", "run", "--scenario-set", "Ref::scenario_set"],
            parameters={"scenario_set": "highway-merge"},
            array_size=c.array_size,
            vcpus=c.task_vcpus,
            gpus=1,
            environment={
                "SCENARIO_ROOT": "/fsx/scenarios",
                "DRIVE_LOGS": "/fsx/drive-logs",
                "RESULTS_DIR": "/fsx/results",  # exported to s3://<landing>/results/
                "CHECKPOINT_URI": f"s3://{bucket.bucket_name}/checkpoints/",
            },
            timeout=cdk.Duration.minutes(c.task_timeout_minutes),
        )
        self.simulate.grant_read_write(bucket, "checkpoints/")
        cdk.CfnOutput(self, "SubmitSimulate", value=self.simulate.submit_command())
        self.operations = add_operations(
            self, c, project="autonomous-driving", watch=[self.ingest, self.scratch, self.grid]
        )
