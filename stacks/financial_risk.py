"""Financial risk: a Monte Carlo array job on Spot across diversified CPU types, inputs and
results in S3, fair share between desks, failure notifications and a monthly budget."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import aws_cdk as cdk
from aws_cdk import aws_events_targets as targets
from constructs import Construct

import hpc_constructs as hc
from stacks.config import bounded, choice
from stacks.operations import OPERATIONS_CONFIG_PROPS, OperationsConfig, add_operations, budget_usd


@dataclass(frozen=True)
class FinancialRiskConfig(OperationsConfig):
    """Choices for :class:`FinancialRiskStack`; each can be overridden with ``-c name=value``."""

    #: vCPU ceiling of the Spot environment; the On-Demand fallback gets a quarter of it.
    max_vcpus: int = bounded(4096, 1)
    #: The CPU pool, picked from the instance catalog: instance sizes of 4 to 32 vCPUs, at most
    #: 4 GiB per vCPU (compute and general-purpose families), up to 12 types.
    min_instance_vcpus: int = bounded(4, 1)
    max_instance_vcpus: int = bounded(32, 1)
    max_memory_per_vcpu_gib: int = bounded(4, 2)
    architecture: str = choice("x86_64", ("x86_64", "arm64"))
    max_instance_types: int = bounded(12, 1, 50)
    #: Tasks per run (each prices ``paths_per_task`` paths) and vCPUs per task.
    array_size: int = bounded(1000, 2, 10_000)
    paths_per_task: int = bounded(100_000, 1)
    task_vcpus: int = bounded(2, 1)
    #: Per task attempt; a timed-out task is not retried.
    task_timeout_minutes: int = bounded(60, 1)
    #: Fair-share identifiers of the desks sharing the queue (comma-separated with ``-c``).
    desks: tuple[str, ...] = ("rates", "credit", "equity")
    #: Fargate Spot ceiling of the small aggregation tasks.
    fargate_max_vcpus: int = bounded(16, 1)
    monthly_budget_usd: int = budget_usd(5_000)
    #: Your risk engine's image (a placeholder: any image that reads ``INPUT_URI`` and writes
    #: ``RESULTS_URI`` works).
    job_image: str = "public.ecr.aws/my-org/risk-engine:latest"


class FinancialRiskStack(cdk.Stack):
    """NetworkFabric + DataIngest (inputs, results and checkpoints in the landing bucket) +
    BatchGrid (Spot CPU pool across three AZs, On-Demand fallback, Fargate Spot for the
    aggregation, fair share per desk) + a failure rule to the ingest topic + the operations
    dashboard, alarms and a budget of the stack's tagged spend (stacks/operations.py)."""

    #: Construct props set from config fields ("Child/prop" -> field), for error messages.
    CONFIG_PROPS: ClassVar[dict[str, str]] = {
        **OPERATIONS_CONFIG_PROPS,
        "Grid/max_vcpus": "max_vcpus",
        "Grid/instance_requirements": "max_instance_vcpus",
        "Grid/instance_requirements.max_vcpus": "max_instance_vcpus",
        "Grid/fargate_max_vcpus": "fargate_max_vcpus",
        "Grid/shares": "desks",
        "Grid/MonteCarlo/vcpus/memory/gpus": "task_vcpus",
        "Grid/MonteCarlo/array_size": "array_size",
    }

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: FinancialRiskConfig | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.config = config or FinancialRiskConfig()
        c = self.config
        self.fabric = hc.NetworkFabric(self, "Fabric")
        # The landing bucket holds market data and portfolios (inputs/), per-task results
        # (results/) and checkpoints (checkpoints/): KMS, versioned, TLS-only, logged, retained.
        self.data = hc.DataIngest(self, "Data")
        bucket = self.data.landing_bucket
        self.grid = hc.BatchGrid(
            self,
            "Grid",
            vpc=self.fabric.vpc,
            max_vcpus=c.max_vcpus,
            instance_requirements=hc.InstanceRequirements(
                min_vcpus=c.min_instance_vcpus,
                max_vcpus=c.max_instance_vcpus,
                max_memory_per_vcpu_gib=c.max_memory_per_vcpu_gib,
                architecture=c.architecture,
                max_types=c.max_instance_types,
            ),
            fargate_max_vcpus=c.fargate_max_vcpus,
            shares=[hc.GridShare(desk) for desk in c.desks],
            share_decay=cdk.Duration.hours(1),
        )
        assert self.data.notifications_topic is not None  # DataIngest made its own topic
        self.grid.add_job_failure_target(targets.SnsTopic(self.data.notifications_topic))
        uri = f"s3://{bucket.bucket_name}"
        self.monte_carlo = self.grid.add_job(
            "MonteCarlo",
            image=c.job_image,
            # Ref:: placeholders take the job definition's parameters, overridable per run
            # (aws batch submit-job ... --parameters paths=200000).
            command=[
                "risk-engine",
                "simulate",
                "--portfolio",
                "Ref::portfolio",
                "--paths",
                "Ref::paths",
                "--horizon-days",
                "Ref::horizon_days",
            ],
            parameters={
                "portfolio": "inputs/portfolio.parquet",
                "paths": str(c.paths_per_task),
                "horizon_days": "10",
            },
            array_size=c.array_size,
            vcpus=c.task_vcpus,
            environment={
                "INPUT_URI": f"{uri}/inputs/",
                "RESULTS_URI": f"{uri}/results/",
                # A retried task (Spot reclamation) resumes from its last checkpoint.
                "CHECKPOINT_URI": f"{uri}/checkpoints/",
            },
            timeout=cdk.Duration.minutes(c.task_timeout_minutes),
        )
        self.monte_carlo.grant_read(bucket, "inputs/")
        self.monte_carlo.grant_put(bucket, "results/")
        self.monte_carlo.grant_read_write(bucket, "checkpoints/")
        self.aggregate = self.grid.add_job(
            "Aggregate",
            image=c.job_image,
            command=["risk-engine", "aggregate", "--confidence", "Ref::confidence"],
            parameters={"confidence": "0.99"},
            fargate=True,
            vcpus=1,
            memory=cdk.Size.gibibytes(4),
            environment={"RESULTS_URI": f"{uri}/results/"},
            timeout=cdk.Duration.minutes(30),
        )
        self.aggregate.grant_read_write(bucket, "results/")
        for job in (self.monte_carlo, self.aggregate):
            cdk.CfnOutput(self, f"Submit{job.node.id}", value=job.submit_command())
        self.operations = add_operations(
            self, c, project="financial-risk", watch=[self.data, self.grid]
        )
