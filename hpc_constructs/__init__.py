"""hpc-constructs: AWS CDK v2 constructs for high-performance computing on AWS."""

from hpc_constructs.batch import BatchMultiNode, NodeRange
from hpc_constructs.capacity import CapacityKind, FleetCapacity
from hpc_constructs.catalog import (
    EfaInterface,
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
from hpc_constructs.errors import HpcValidationError, Problem, Validator
from hpc_constructs.fleet import EfaComputeFleet, ScratchVolume
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
    LustreMetadataConfiguration,
    LustreReadCache,
    LustreScratch,
    LustreScratchBase,
)
from hpc_constructs.network import FabricEndpoint, NetworkFabric
from hpc_constructs.slurm import (
    ParallelCluster,
    PcsCluster,
    PcsComputeNodeGroup,
    SlurmComputeResource,
    SlurmQueue,
    SlurmStorage,
)

__all__ = [
    "BatchMultiNode",
    "CapacityKind",
    "DataIngest",
    "DataRepository",
    "DataSyncDestination",
    "DataSyncSource",
    "DataSyncTransfer",
    "DirectConnectLink",
    "DirectConnectOptions",
    "EfaComputeFleet",
    "EfaInterface",
    "FabricEndpoint",
    "FleetCapacity",
    "HdfsNameNode",
    "HpcValidationError",
    "InstanceCatalog",
    "InstanceSpec",
    "InstanceTypeCatalog",
    "LustreMetadataConfiguration",
    "LustreReadCache",
    "LustreScratch",
    "LustreScratchBase",
    "NetworkCardSpec",
    "NetworkFabric",
    "NodeRange",
    "ParallelCluster",
    "PcsCluster",
    "PcsComputeNodeGroup",
    "Problem",
    "ScratchVolume",
    "SlurmComputeResource",
    "SlurmQueue",
    "SlurmStorage",
    "SnowballImportOptions",
    "UnknownInstanceTypeError",
    "Validator",
    "VirtualInterfaceOptions",
    "efa_device_paths",
    "offered_in",
    "plan_efa_interfaces",
    "supports_placement",
]
