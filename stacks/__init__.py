"""Sample stacks composed from hpc_constructs; `app.py` instantiates them.

Each stack takes a typed config dataclass; `cdk synth -c name=value` (every stack with that
field) or `-c Stack:name=value` (one stack) overrides it, see `stacks/config.py`.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk

from hpc_constructs.errors import HpcValidationError, Problem
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


#: Stack id, class, config type and description of every sample stack, in deployment order.
_SAMPLES: list[tuple[str, type[Any], type[Any], str]] = [
    (
        "MpiCluster",
        MpiClusterStack,
        MpiClusterConfig,
        "MPI cluster (EFA fleet, Lustre linked to S3)",
    ),
    ("Genomics", GenomicsStack, GenomicsConfig, "genomics (DataSync, Lustre, Batch multi-node)"),
    (
        "MlTraining",
        MlTrainingStack,
        MlTrainingConfig,
        "ML training (p5 with 32 EFA, PERSISTENT_2 Lustre)",
    ),
    (
        "SlurmCluster",
        SlurmClusterStack,
        SlurmClusterConfig,
        "Slurm (AWS ParallelCluster and AWS PCS) on the fabric",
    ),
]


def add_sample_stacks(app: cdk.App) -> list[cdk.Stack]:
    """Add every sample stack to ``app`` with its context overrides applied.

    Bad overrides for all stacks are reported together, before any stack is built.
    """
    env = sample_environment(app)
    configs: list[Any] = []
    problems: list[Problem] = []
    for name, _, config_type, _ in _SAMPLES:
        try:
            configs.append(from_context(app.node, name, config_type))
        except HpcValidationError as err:
            problems.extend(err.problems)
    if problems:
        raise HpcValidationError(problems)
    return [
        stack_type(app, name, env=env, config=config, description=f"hpc-constructs sample: {text}")
        for (name, stack_type, _, text), config in zip(_SAMPLES, configs, strict=True)
    ]
