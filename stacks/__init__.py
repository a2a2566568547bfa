"""Sample stacks composed from hpc_constructs; `app.py` instantiates them.

Each stack takes a typed config dataclass; `cdk synth -c name=value` (every stack with that
field) or `-c Stack:name=value` (one stack) overrides it, see `stacks/config.py`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import aws_cdk as cdk

from hpc_constructs.errors import HpcValidationError, Problem
from hpc_constructs.network import DEFAULT_MAX_AZS
from stacks.autonomous_driving import AutonomousDrivingConfig, AutonomousDrivingStack
from stacks.config import (
    ACCOUNT_KEY,
    REGION_KEY,
    StackSettings,
    compute_problems,
    read_settings,
    region_problems,
    remap_construct_problems,
    unknown_key_problems,
)
from stacks.financial_risk import FinancialRiskConfig, FinancialRiskStack
from stacks.genomics import GenomicsConfig, GenomicsStack
from stacks.ml_training import MlTrainingConfig, MlTrainingStack
from stacks.mpi_cluster import MpiClusterConfig, MpiClusterStack
from stacks.portfolio import HpcPortfolioConfig, HpcPortfolioStack
from stacks.slurm_stack import SlurmClusterConfig, SlurmClusterStack

__all__ = [
    "AutonomousDrivingConfig",
    "AutonomousDrivingStack",
    "FinancialRiskConfig",
    "FinancialRiskStack",
    "GenomicsConfig",
    "GenomicsStack",
    "HpcPortfolioConfig",
    "HpcPortfolioStack",
    "MlTrainingConfig",
    "MlTrainingStack",
    "MpiClusterConfig",
    "MpiClusterStack",
    "SlurmClusterConfig",
    "SlurmClusterStack",
    "add_sample_stacks",
    "sample_configs",
    "sample_environment",
]


def sample_environment(app: cdk.App) -> cdk.Environment:
    """The account/region the samples target; both are pinned in cdk.json so synth is offline."""
    account = app.node.try_get_context(ACCOUNT_KEY)
    region = app.node.try_get_context(REGION_KEY)
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
    (
        "FinancialRisk",
        FinancialRiskStack,
        FinancialRiskConfig,
        "financial risk (Monte Carlo array jobs on a diversified Spot BatchGrid)",
    ),
    (
        "AutonomousDriving",
        AutonomousDrivingStack,
        AutonomousDrivingConfig,
        "autonomous driving (drive-log ingest, Lustre, GPU simulation on Spot)",
    ),
    (
        "HpcPortfolio",
        HpcPortfolioStack,
        HpcPortfolioConfig,
        "self-service portfolio (Service Catalog products of the blueprints)",
    ),
]


def sample_configs() -> dict[str, type[Any]]:
    """Stack name -> config dataclass of every sample stack."""
    return {name: config_type for name, _, config_type, _ in _SAMPLES}


def add_sample_stacks(app: cdk.App) -> list[cdk.Stack]:
    """Add every sample stack to ``app`` with its context overrides applied.

    Every problem is reported at once, each naming the ``-c`` key behind it: unknown keys,
    bad values, an unknown region, instance types not offered there. Nothing is built from a
    configuration with problems. Problems found by the constructs themselves (e.g. a Lustre
    capacity step) are reported for every stack together too, named by their ``-c`` key.
    """
    env = sample_environment(app)
    region, account = str(env.region), str(env.account)
    problems: list[Problem] = []
    problems.extend(unknown_key_problems(app.node.get_all_context(), sample_configs()))
    problems.extend(region_problems(region, account))
    known_region = not problems or all(p.prop != "region" for p in problems)
    stack_azs = app.node.try_get_context(f"availability-zones:account={account}:region={region}")
    fabric_azs = list(stack_azs or [])[:DEFAULT_MAX_AZS]
    settings: list[StackSettings] = []
    for name, _, config_type, _ in _SAMPLES:
        found, bad = read_settings(app.node, name, config_type)
        problems.extend(bad)
        if known_region and not bad:
            az, bad_compute = compute_problems(found, region, fabric_azs)
            problems.extend(bad_compute)
            if az and hasattr(found.config, "compute_availability_zone"):
                found.config = dataclasses.replace(found.config, compute_availability_zone=az)
        settings.append(found)
    if problems:
        raise HpcValidationError(problems)
    stacks: list[cdk.Stack] = []
    for (name, stack_type, _, text), found in zip(_SAMPLES, settings, strict=True):
        try:
            stacks.append(
                stack_type(
                    app,
                    name,
                    env=env,
                    config=found.config,
                    description=f"hpc-constructs sample: {text}",
                )
            )
        except HpcValidationError as err:
            props = getattr(stack_type, "CONFIG_PROPS", {})
            problems.extend(remap_construct_problems(err.problems, found, props))
    if problems:
        raise HpcValidationError(problems)
    return stacks
