"""BatchGrid: AWS Batch array-job queues for loosely coupled work on diversified Spot capacity.

Layout: ``plan`` (pure rules on plain values: instance pools from the catalog, vCPU ceilings,
fair share, job fit and Batch's limits), ``construct`` (``BatchGrid``: compute environments,
queues, launch template, failure events) and ``job`` (``GridJob``: a job definition, its
prefix-scoped job role and its retry strategy).
"""

from hpc_constructs.grid.construct import JOB_STATE_CHANGE, BatchGrid
from hpc_constructs.grid.job import ARRAY_SIZE_VARIABLE, GridJob, retry_strategies
from hpc_constructs.grid.plan import (
    CPU_CLASSES,
    DEFAULT_EXCLUDED_FAMILIES,
    DEFAULT_MAX_TYPES,
    GPU_CLASSES,
    GridPlan,
    GridProps,
    GridShare,
    InstanceRequirements,
    JobAsk,
    JobPlan,
    diverse_family_order,
    diversify,
    family_of,
    generation_of,
    plan_grid,
    plan_job,
    select_pool,
    usable_memory_mib,
)

__all__ = [
    "ARRAY_SIZE_VARIABLE",
    "CPU_CLASSES",
    "DEFAULT_EXCLUDED_FAMILIES",
    "DEFAULT_MAX_TYPES",
    "GPU_CLASSES",
    "JOB_STATE_CHANGE",
    "BatchGrid",
    "GridJob",
    "GridPlan",
    "GridProps",
    "GridShare",
    "InstanceRequirements",
    "JobAsk",
    "JobPlan",
    "diverse_family_order",
    "diversify",
    "family_of",
    "generation_of",
    "plan_grid",
    "plan_job",
    "retry_strategies",
    "select_pool",
    "usable_memory_mib",
]
