"""Slurm clusters on the library's fabric: AWS ParallelCluster through its CloudFormation custom
resource (``ParallelCluster``) and AWS PCS, managed Slurm (``PcsCluster``).
"""

from hpc_constructs.slurm._checks import SlurmStorage
from hpc_constructs.slurm._pc_platform import (
    CustomAction,
    CustomActions,
    DirectoryService,
    LoginNodePool,
)
from hpc_constructs.slurm.accounting import SlurmAccountingDatabase
from hpc_constructs.slurm.parallelcluster import (
    DEFAULT_PARALLELCLUSTER_VERSION,
    PARALLELCLUSTER_ROLE_PATH,
    ParallelCluster,
    ParallelClusterMonitoring,
    SlurmComputeResource,
    SlurmQueue,
)
from hpc_constructs.slurm.pcs import (
    DEFAULT_SLURM_VERSION,
    PCS_ROLE_PATH,
    PCS_SLURM_VERSIONS,
    PcsAccounting,
    PcsCluster,
    PcsComputeNodeGroup,
)

__all__ = [
    "DEFAULT_PARALLELCLUSTER_VERSION",
    "DEFAULT_SLURM_VERSION",
    "PARALLELCLUSTER_ROLE_PATH",
    "PCS_ROLE_PATH",
    "PCS_SLURM_VERSIONS",
    "CustomAction",
    "CustomActions",
    "DirectoryService",
    "LoginNodePool",
    "ParallelCluster",
    "ParallelClusterMonitoring",
    "PcsAccounting",
    "PcsCluster",
    "PcsComputeNodeGroup",
    "SlurmAccountingDatabase",
    "SlurmComputeResource",
    "SlurmQueue",
    "SlurmStorage",
]
