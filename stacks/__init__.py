"""Sample stacks composed from hpc_constructs; `app.py` instantiates them.

Each stack takes a typed config dataclass; `cdk synth -c name=value` (every stack with that
field) or `-c Stack:name=value` (one stack) overrides it, see `stacks/config.py`.
"""

from __future__ import annotations

import aws_cdk as cdk

from stacks.config import from_context
from stacks.genomics import GenomicsConfig, GenomicsStack
from stacks.ml_training import MlTrainingConfig, MlTrainingStack
from stacks.mpi_cluster import MpiClusterConfig, MpiClusterStack
from stacks.slurm_stack import SlurmClusterConfig, SlurmClusterStack

__all__ = [
    "GenomicsConfig",
    "GenomicsStack",
    "MlTrainingConfig",
    "MlTrainingStack",
    "MpiClusterConfig",
    "MpiClusterStack",
    "SlurmClusterConfig",
    "SlurmClusterStack",
    "add_sample_stacks",
    "sample_environment",
]


def sample_environment(app: cdk.App) -> cdk.Environment:
    """The account/region the samples target; both are pinned in cdk.json so synth is offline."""
    account = app.node.try_get_context("hpc-constructs:account")
    region = app.node.try_get_context("hpc-constructs:region")
    return cdk.Environment(account=str(account), region=str(region))


def add_sample_stacks(app: cdk.App) -> list[cdk.Stack]:
    """Add every sample stack to ``app`` with its context overrides applied."""
    env = sample_environment(app)
    node = app.node
    return [
        MpiClusterStack(
            app,
            "MpiCluster",
            env=env,
            config=from_context(node, "MpiCluster", MpiClusterConfig),
            description="hpc-constructs sample: MPI cluster (EFA fleet, Lustre linked to S3)",
        ),
        GenomicsStack(
            app,
            "Genomics",
            env=env,
            config=from_context(node, "Genomics", GenomicsConfig),
            description="hpc-constructs sample: genomics (DataSync, Lustre, Batch multi-node)",
        ),
        MlTrainingStack(
            app,
            "MlTraining",
            env=env,
            config=from_context(node, "MlTraining", MlTrainingConfig),
            description="hpc-constructs sample: ML training (p5 with 32 EFA, PERSISTENT_2 Lustre)",
        ),
        SlurmClusterStack(
            app,
            "SlurmCluster",
            env=env,
            config=from_context(node, "SlurmCluster", SlurmClusterConfig),
            description="hpc-constructs sample: Slurm (AWS ParallelCluster and AWS PCS) on the fabric",
        ),
    ]
