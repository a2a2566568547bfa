"""FSx for Lustre for HPC: scratch or persistent, linked to S3, sized by throughput.

``LustreScratch`` wraps aws-cdk-lib's ``fsx.LustreFileSystem`` and checks every documented
FSx limit at construction; ``LustreScratch.from_attributes`` imports one created elsewhere.

Layout: :mod:`.options` (option groups, enums and ``Literal`` names of string props),
:mod:`.plan` (the rules as pure functions building a frozen ``LustrePlan``),
:mod:`.construct` (the construct rendering the plan).
"""

from hpc_constructs.lustre.construct import LustreScratch, LustreScratchBase
from hpc_constructs.lustre.options import (
    ALL_EVENTS,
    FSX_S3_SERVICE_LINKED_ROLE_PATH,
    DataRepository,
    DataRepositoryEvent,
    DataRepositoryEventName,
    LustreDataCompressionName,
    LustreDeploymentTypeName,
    LustreDriveCacheTypeName,
    LustreMetadataConfiguration,
    LustreMetadataMode,
    LustreMetadataModeName,
    LustreReadCache,
    LustreReadCacheSizingMode,
    LustreReadCacheSizingModeName,
    LustreStorageTypeName,
    LustreVersionName,
)
from hpc_constructs.lustre.plan import LustrePlan, LustreRequest, RepositoryPlan, plan_lustre

__all__ = [
    "ALL_EVENTS",
    "FSX_S3_SERVICE_LINKED_ROLE_PATH",
    "DataRepository",
    "DataRepositoryEvent",
    "DataRepositoryEventName",
    "LustreDataCompressionName",
    "LustreDeploymentTypeName",
    "LustreDriveCacheTypeName",
    "LustreMetadataConfiguration",
    "LustreMetadataMode",
    "LustreMetadataModeName",
    "LustrePlan",
    "LustreReadCache",
    "LustreReadCacheSizingMode",
    "LustreReadCacheSizingModeName",
    "LustreRequest",
    "LustreScratch",
    "LustreScratchBase",
    "LustreStorageTypeName",
    "LustreVersionName",
    "RepositoryPlan",
    "plan_lustre",
]
