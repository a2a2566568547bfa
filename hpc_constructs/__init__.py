"""hpc-constructs: AWS CDK v2 constructs for high-performance computing on AWS.

Public names load on first use (PEP 562), so ``hpc_constructs.catalog``, ``limits`` and the
cfn-lint rule pack import in milliseconds without starting the jsii runtime; ``from
hpc_constructs import EfaComputeFleet`` works as usual.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from typing import TYPE_CHECKING, Any

from hpc_constructs import warning_ids  # stdlib only: the ids to acknowledge warnings by

#: The installed distribution's version: pyproject.toml's ``version`` is its only source.
__version__: str = importlib.metadata.version("hpc-constructs")

#: Public name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    "BatchMultiNode": "batch",
    "NodeRange": "batch",
    "CapacityKind": "capacity",
    "FleetCapacity": "capacity",
    "EfaInterface": "catalog",
    "InstanceCatalog": "catalog",
    "InstanceSpec": "catalog",
    "InstanceTypeCatalog": "catalog",
    "NetworkCardSpec": "catalog",
    "UnknownInstanceTypeError": "catalog",
    "efa_device_paths": "catalog",
    "offered_in": "catalog",
    "plan_efa_interfaces": "catalog",
    "supports_placement": "catalog",
    "HpcValidationError": "errors",
    "Problem": "errors",
    "EfaComputeFleet": "fleet",
    "ScratchVolume": "fleet",
    "HpcImage": "image",
    "HpcChecks": "policy",
    "BlueprintPortfolio": "portfolio",
    "BlueprintProduct": "portfolio",
    "LustreScratchVersion": "portfolio",
    "MpiClusterVersion": "portfolio",
    "ImageBase": "image",
    "Installer": "image",
    "PcsSoftware": "image",
    "DataIngest": "ingest",
    "DataSyncDestination": "ingest",
    "DataSyncSource": "ingest",
    "DataSyncTransfer": "ingest",
    "DirectConnectLink": "ingest",
    "DirectConnectOptions": "ingest",
    "HdfsNameNode": "ingest",
    "SnowballImportOptions": "ingest",
    "VirtualInterfaceOptions": "ingest",
    "DataRepository": "lustre",
    "LustreMetadataConfiguration": "lustre",
    "LustreReadCache": "lustre",
    "LustreScratch": "lustre",
    "LustreScratchBase": "lustre",
    "LustreFileSystemLike": "mounts",
    "FabricEndpoint": "network",
    "NetworkFabric": "network",
    "NodeLauncher": "nodes",
    "SharedFileSystem": "nodes",
    "ParallelCluster": "slurm",
    "ParallelClusterMonitoring": "slurm",
    "PARALLELCLUSTER_ROLE_PATH": "slurm",
    "PCS_ROLE_PATH": "slurm",
    "DEFAULT_PARALLELCLUSTER_VERSION": "slurm",
    "DEFAULT_SLURM_VERSION": "slurm",
    "PCS_SLURM_VERSIONS": "slurm",
    "DataRepositoryEvent": "lustre",
    "LustreMetadataMode": "lustre",
    "LustreReadCacheSizingMode": "lustre",
    "EfaInterfaceType": "catalog",
    "FleetPlan": "fleet",
    "BatchPlan": "batch",
    "BatchGrid": "grid",
    "GridJob": "grid",
    "GridPlan": "grid",
    "GridShare": "grid",
    "InstanceRequirements": "grid",
    "LustrePlan": "lustre",
    "PcsCluster": "slurm",
    "PcsComputeNodeGroup": "slurm",
    "SlurmComputeResource": "slurm",
    "SlurmQueue": "slurm",
    "SlurmStorage": "slurm",
    "CustomAction": "slurm",
    "CustomActions": "slurm",
    "DirectoryService": "slurm",
    "LoginNodePool": "slurm",
    "PcsAccounting": "slurm",
    "SlurmAccountingDatabase": "slurm",
    "SharedHome": "shared_home",
    "SharedHomeAccessPoint": "shared_home",
    "AlarmThresholds": "ops",
    "CostAllocationTags": "ops",
    "HpcBudget": "ops",
    "HpcDashboard": "ops",
}

__all__ = [
    "DEFAULT_PARALLELCLUSTER_VERSION",
    "DEFAULT_SLURM_VERSION",
    "PARALLELCLUSTER_ROLE_PATH",
    "PCS_ROLE_PATH",
    "PCS_SLURM_VERSIONS",
    "AlarmThresholds",
    "BatchGrid",
    "BatchMultiNode",
    "BatchPlan",
    "BlueprintPortfolio",
    "BlueprintProduct",
    "CapacityKind",
    "CostAllocationTags",
    "CustomAction",
    "CustomActions",
    "DataIngest",
    "DataRepository",
    "DataRepositoryEvent",
    "DataSyncDestination",
    "DataSyncSource",
    "DataSyncTransfer",
    "DirectConnectLink",
    "DirectConnectOptions",
    "DirectoryService",
    "EfaComputeFleet",
    "EfaInterface",
    "EfaInterfaceType",
    "FabricEndpoint",
    "FleetCapacity",
    "FleetPlan",
    "GridJob",
    "GridPlan",
    "GridShare",
    "HdfsNameNode",
    "HpcBudget",
    "HpcChecks",
    "HpcDashboard",
    "HpcImage",
    "HpcValidationError",
    "ImageBase",
    "Installer",
    "InstanceCatalog",
    "InstanceRequirements",
    "InstanceSpec",
    "InstanceTypeCatalog",
    "LoginNodePool",
    "LustreFileSystemLike",
    "LustreMetadataConfiguration",
    "LustreMetadataMode",
    "LustrePlan",
    "LustreReadCache",
    "LustreReadCacheSizingMode",
    "LustreScratch",
    "LustreScratchBase",
    "LustreScratchVersion",
    "MpiClusterVersion",
    "NetworkCardSpec",
    "NetworkFabric",
    "NodeLauncher",
    "NodeRange",
    "ParallelCluster",
    "ParallelClusterMonitoring",
    "PcsAccounting",
    "PcsCluster",
    "PcsComputeNodeGroup",
    "PcsSoftware",
    "Problem",
    "ScratchVolume",
    "SharedFileSystem",
    "SharedHome",
    "SharedHomeAccessPoint",
    "SlurmAccountingDatabase",
    "SlurmComputeResource",
    "SlurmQueue",
    "SlurmStorage",
    "SnowballImportOptions",
    "UnknownInstanceTypeError",
    "VirtualInterfaceOptions",
    "efa_device_paths",
    "offered_in",
    "plan_efa_interfaces",
    "supports_placement",
    "warning_ids",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'hpc_constructs' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"hpc_constructs.{module}"), name)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])


if TYPE_CHECKING:  # what type checkers and IDEs see; kept in step with _EXPORTS by a test
    from hpc_constructs.batch import BatchMultiNode, BatchPlan, NodeRange
    from hpc_constructs.capacity import CapacityKind, FleetCapacity
    from hpc_constructs.catalog import (
        EfaInterface,
        EfaInterfaceType,
        InstanceCatalog,
        InstanceSpec,
        InstanceTypeCatalog,
        NetworkCardSpec,
        UnknownInstanceTypeError,
        efa_device_paths,
        offered_in,
        plan_efa_interfaces,
        supports_placement,
    )
    from hpc_constructs.errors import HpcValidationError, Problem
    from hpc_constructs.fleet import EfaComputeFleet, FleetPlan, ScratchVolume
    from hpc_constructs.grid import BatchGrid, GridJob, GridPlan, GridShare, InstanceRequirements
    from hpc_constructs.image import HpcImage, ImageBase, Installer, PcsSoftware
    from hpc_constructs.ingest import (
        DataIngest,
        DataSyncDestination,
        DataSyncSource,
        DataSyncTransfer,
        DirectConnectLink,
        DirectConnectOptions,
        HdfsNameNode,
        SnowballImportOptions,
        VirtualInterfaceOptions,
    )
    from hpc_constructs.lustre import (
        DataRepository,
        DataRepositoryEvent,
        LustreMetadataConfiguration,
        LustreMetadataMode,
        LustrePlan,
        LustreReadCache,
        LustreReadCacheSizingMode,
        LustreScratch,
        LustreScratchBase,
    )
    from hpc_constructs.mounts import LustreFileSystemLike
    from hpc_constructs.network import FabricEndpoint, NetworkFabric
    from hpc_constructs.nodes import NodeLauncher, SharedFileSystem
    from hpc_constructs.ops import AlarmThresholds, CostAllocationTags, HpcBudget, HpcDashboard
    from hpc_constructs.policy import HpcChecks
    from hpc_constructs.portfolio import (
        BlueprintPortfolio,
        BlueprintProduct,
        LustreScratchVersion,
        MpiClusterVersion,
    )
    from hpc_constructs.shared_home import SharedHome, SharedHomeAccessPoint
    from hpc_constructs.slurm import (
        DEFAULT_PARALLELCLUSTER_VERSION,
        DEFAULT_SLURM_VERSION,
        PARALLELCLUSTER_ROLE_PATH,
        PCS_ROLE_PATH,
        PCS_SLURM_VERSIONS,
        CustomAction,
        CustomActions,
        DirectoryService,
        LoginNodePool,
        ParallelCluster,
        ParallelClusterMonitoring,
        PcsAccounting,
        PcsCluster,
        PcsComputeNodeGroup,
        SlurmAccountingDatabase,
        SlurmComputeResource,
        SlurmQueue,
        SlurmStorage,
    )
