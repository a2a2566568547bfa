"""DataIngest: the AWS side of the three ways data reaches an HPC environment.

DataSync for recurring online transfers, Direct Connect for a private high-bandwidth link, and
Snowball import readiness for petabytes shipped offline, all landing in one retained S3 bucket.

Layout: ``_facts`` (AWS facts with sources), ``_rules`` and ``schedule`` (pure validation
rules), ``_plan`` (props -> frozen plan dataclasses, no CDK objects), and the renderers:
``construct`` (``DataIngest``), ``bucket``, ``sources``, ``destinations``, ``task``,
``direct_connect``, ``snowball``.
"""

from hpc_constructs.ingest._facts import (
    AGENT_ARN_PATTERN,
    AMAZON_ASN_RANGES,
    CONNECTION_ID_PATTERN,
    CUSTOMER_ASN_RANGE,
    DATASYNC_ENDPOINT_PORTS,
    DATASYNC_EXECUTION_DETAIL_TYPE,
    DATASYNC_KMS_ACTIONS,
    DATASYNC_S3_BUCKET_ACTIONS,
    DATASYNC_S3_OBJECT_ACTIONS,
    DATASYNC_S3_OBJECT_READ_ACTIONS,
    DATASYNC_SUPPORT_PORT,
    DEFAULT_NOTIFY_STATES,
    DX_ATTACHMENTS,
    DX_GATEWAY_ID_PATTERN,
    ENHANCED_SOURCE_KINDS,
    HOSTNAME_PATTERN,
    LOG_LEVELS,
    MAX_AGENTS,
    NFS_VERSIONS,
    OBJECT_STORAGE_PROTOCOLS,
    OVERWRITE_MODES,
    PATH_PATTERN,
    PRESERVE_DELETED_FILES,
    PRIVATE_VIF_MTUS,
    S3_STORAGE_CLASSES,
    SMB_VERSIONS,
    SNOWBALL_BUCKET_ACTIONS,
    SNOWBALL_OBJECT_ACTIONS,
    SNOWBALL_SHIPPING_OPTIONS,
    SNOWBALL_TYPES,
    TASK_MODES,
    TASK_REPORT_OUTPUT_TYPES,
    TRANSFER_MODES,
    TRANSIT_VIF_MTUS,
    VERIFY_MODES,
    VLAN_RANGE,
)
from hpc_constructs.ingest._plan import (
    BucketPlan,
    DirectConnectPlan,
    EndpointPlan,
    IngestPlan,
    SnowballPlan,
    TaskPlan,
    VirtualInterfacePlan,
)
from hpc_constructs.ingest.construct import DataIngest
from hpc_constructs.ingest.destinations import DataSyncDestination
from hpc_constructs.ingest.direct_connect import DirectConnectLink
from hpc_constructs.ingest.options import (
    DirectConnectOptions,
    HdfsNameNode,
    SnowballImportOptions,
    VirtualInterfaceOptions,
)
from hpc_constructs.ingest.schedule import schedule_expression, schedule_problem
from hpc_constructs.ingest.sources import DataSyncSource
from hpc_constructs.ingest.task import DataSyncTransfer

__all__ = [
    "AGENT_ARN_PATTERN",
    "AMAZON_ASN_RANGES",
    "CONNECTION_ID_PATTERN",
    "CUSTOMER_ASN_RANGE",
    "DATASYNC_ENDPOINT_PORTS",
    "DATASYNC_EXECUTION_DETAIL_TYPE",
    "DATASYNC_KMS_ACTIONS",
    "DATASYNC_S3_BUCKET_ACTIONS",
    "DATASYNC_S3_OBJECT_ACTIONS",
    "DATASYNC_S3_OBJECT_READ_ACTIONS",
    "DATASYNC_SUPPORT_PORT",
    "DEFAULT_NOTIFY_STATES",
    "DX_ATTACHMENTS",
    "DX_GATEWAY_ID_PATTERN",
    "ENHANCED_SOURCE_KINDS",
    "HOSTNAME_PATTERN",
    "LOG_LEVELS",
    "MAX_AGENTS",
    "NFS_VERSIONS",
    "OBJECT_STORAGE_PROTOCOLS",
    "OVERWRITE_MODES",
    "PATH_PATTERN",
    "PRESERVE_DELETED_FILES",
    "PRIVATE_VIF_MTUS",
    "S3_STORAGE_CLASSES",
    "SMB_VERSIONS",
    "SNOWBALL_BUCKET_ACTIONS",
    "SNOWBALL_OBJECT_ACTIONS",
    "SNOWBALL_SHIPPING_OPTIONS",
    "SNOWBALL_TYPES",
    "TASK_MODES",
    "TASK_REPORT_OUTPUT_TYPES",
    "TRANSFER_MODES",
    "TRANSIT_VIF_MTUS",
    "VERIFY_MODES",
    "VLAN_RANGE",
    "BucketPlan",
    "DataIngest",
    "DataSyncDestination",
    "DataSyncSource",
    "DataSyncTransfer",
    "DirectConnectLink",
    "DirectConnectOptions",
    "DirectConnectPlan",
    "EndpointPlan",
    "HdfsNameNode",
    "IngestPlan",
    "SnowballImportOptions",
    "SnowballPlan",
    "TaskPlan",
    "VirtualInterfaceOptions",
    "VirtualInterfacePlan",
    "schedule_expression",
    "schedule_problem",
]
