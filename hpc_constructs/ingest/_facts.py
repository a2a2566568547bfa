"""AWS facts DataIngest relies on: ARN patterns, allowed values, IAM actions, ports, ASN ranges."""

from __future__ import annotations

import re

from aws_cdk import aws_ec2 as ec2

# --- AWS facts (sources: cfn-lint 1.58 registry schemas for AWS::DataSync::* and
# AWS::DirectConnect::*, DataSync User Guide "Providing DataSync access to S3 buckets",
# "Scheduling your task", "Network requirements", Direct Connect User Guide) ----------------

_PARTITIONS = "aws|aws-cn|aws-us-gov|aws-eusc|aws-iso|aws-iso-b"
AGENT_ARN_PATTERN = re.compile(
    rf"^arn:({_PARTITIONS}):datasync:[a-z\-0-9]+:[0-9]{{12}}:agent/agent-[0-9a-z]{{17}}$"
)
MAX_AGENTS = 8
HOSTNAME_PATTERN = re.compile(r"^(([a-zA-Z0-9\-]*[a-zA-Z0-9])\.)*([A-Za-z0-9\-]*[A-Za-z0-9])$")
#: Subdirectory of NFS, SMB, HDFS, EFS and FSx locations (``\p{Zs}`` approximated by a space).
PATH_PATTERN = re.compile(r"^[a-zA-Z0-9_\-\+\./\(\)\$ ]+$")

#: S3 location role, bucket-level actions (DataSync User Guide, create-s3-location).
DATASYNC_S3_BUCKET_ACTIONS: tuple[str, ...] = (
    "s3:GetBucketLocation",
    "s3:ListBucket",
    "s3:ListBucketMultipartUploads",
)
#: S3 location role, object-level actions for a destination (same page).
DATASYNC_S3_OBJECT_ACTIONS: tuple[str, ...] = (
    "s3:AbortMultipartUpload",
    "s3:DeleteObject",
    "s3:GetObject",
    "s3:ListMultipartUploadParts",
    "s3:GetObjectTagging",
    "s3:PutObjectTagging",
    "s3:PutObject",
)
#: The read half of the object-level actions, for an S3 bucket used as a source.
DATASYNC_S3_OBJECT_READ_ACTIONS: tuple[str, ...] = ("s3:GetObject", "s3:GetObjectTagging")
#: SSE-KMS buckets: the role also needs to use the bucket key.
DATASYNC_KMS_ACTIONS: tuple[str, ...] = ("kms:Decrypt", "kms:GenerateDataKey")

#: Snowball import-job role (Snowball Edge Developer Guide, "Role policy for creating import jobs").
SNOWBALL_BUCKET_ACTIONS: tuple[str, ...] = (
    "s3:GetBucketLocation",
    "s3:GetBucketPolicy",
    "s3:ListBucketMultipartUploads",
)
SNOWBALL_OBJECT_ACTIONS: tuple[str, ...] = (
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
    "s3:PutObject",
    "s3:PutObjectAcl",
)
SNOWBALL_SHIPPING_OPTIONS = ("SECOND_DAY", "NEXT_DAY", "EXPRESS", "STANDARD")
SNOWBALL_TYPES = (
    "STANDARD",
    "EDGE",
    "EDGE_C",
    "EDGE_CG",
    "EDGE_S",
    "SNC1_HDD",
    "SNC1_SSD",
    "V3_5C",
    "V3_5S",
    "RACK_5U_C",
)

NFS_VERSIONS = ("AUTOMATIC", "NFS3", "NFS4_0", "NFS4_1", "NFS4_2")
SMB_VERSIONS = ("AUTOMATIC", "SMB1", "SMB2_0", "SMB2", "SMB3")
OBJECT_STORAGE_PROTOCOLS = ("HTTPS", "HTTP")
S3_STORAGE_CLASSES = (
    "STANDARD",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "GLACIER_INSTANT_RETRIEVAL",
    "DEEP_ARCHIVE",
)
#: Storage classes where POINT_IN_TIME_CONSISTENT verification is not supported (DataSync API
#: reference, Options.VerifyMode).
NO_FULL_VERIFY_CLASSES = ("GLACIER", "DEEP_ARCHIVE")
VERIFY_MODES = ("POINT_IN_TIME_CONSISTENT", "ONLY_FILES_TRANSFERRED", "NONE")
OVERWRITE_MODES = ("ALWAYS", "NEVER")
PRESERVE_DELETED_FILES = ("PRESERVE", "REMOVE")
TRANSFER_MODES = ("CHANGED", "ALL")
LOG_LEVELS = ("OFF", "BASIC", "TRANSFER")
TASK_MODES = ("BASIC", "ENHANCED")
#: Source kinds an ENHANCED task can read (with an S3 destination): DataSync User Guide,
#: "Choosing a task mode" (S3, other clouds' object storage, NFS/SMB with an Enhanced agent).
ENHANCED_SOURCE_KINDS = ("S3", "NFS", "SMB", "OBJECT_STORAGE")
TASK_REPORT_OUTPUT_TYPES = ("SUMMARY_ONLY", "STANDARD")

#: Execution states a notification fires for by default (EventBridge "DataSync Task Execution
#: State Change" events carry ``detail.State``).
DEFAULT_NOTIFY_STATES: tuple[str, ...] = ("SUCCESS", "ERROR")
DATASYNC_EXECUTION_DETAIL_TYPE = "DataSync Task Execution State Change"

#: DataSync VPC endpoint: agent -> endpoint TCP 1024-1064 (control) and 443 (data, activation);
#: 22 is optional, for the AWS Support channel (DataSync User Guide, "Network requirements").
DATASYNC_ENDPOINT_PORTS: tuple[ec2.Port, ...] = (ec2.Port.tcp(443), ec2.Port.tcp_range(1024, 1064))
DATASYNC_SUPPORT_PORT = ec2.Port.tcp(22)

# Direct Connect (Direct Connect User Guide; CFN schemas).
AMAZON_ASN_RANGES: tuple[tuple[int, int], ...] = ((64512, 65534), (4_200_000_000, 4_294_967_294))
CUSTOMER_ASN_RANGE = (1, 4_294_967_294)
VLAN_RANGE = (1, 4094)  # Direct Connect docs; the CFN schema accepts 0-4095
PRIVATE_VIF_MTUS = (1500, 9001)
TRANSIT_VIF_MTUS = (1500, 8500)
CONNECTION_ID_PATTERN = re.compile(
    r"^((arn:aws[a-z-]*:directconnect:[a-z0-9-]+:[0-9]{12}:(dxcon/dxcon|dxlag/dxlag))"
    r"|dx(con|lag))-[a-z0-9A-Z]{8,21}$"
)
DX_GATEWAY_ID_PATTERN = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)
DX_ATTACHMENTS = ("VIRTUAL_PRIVATE_GATEWAY", "TRANSIT_GATEWAY")
