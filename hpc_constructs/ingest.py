"""DataIngest: the AWS side of the three ways data reaches an HPC environment.

DataSync for recurring online transfers, Direct Connect for a private high-bandwidth link, and
Snowball import readiness for petabytes shipped offline, all landing in one retained S3 bucket.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_datasync as datasync
from aws_cdk import aws_directconnect as directconnect
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from constructs import Construct

from hpc_constructs.errors import Validator, is_token
from hpc_constructs.mounts import LustreFileSystemLike, allow_lustre_clients

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
_NO_FULL_VERIFY_CLASSES = ("GLACIER", "DEEP_ARCHIVE")
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

_SCHEDULE_EXPRESSION = re.compile(r"^(rate|cron)\((.*)\)$")
_RATE = re.compile(r"^(\d+)\s+(minute|minutes|hour|hours|day|days)$")


# --- small validation helpers ---------------------------------------------------------------


def _amazon_asn_ok(asn: int) -> bool:
    return any(low <= asn <= high for low, high in AMAZON_ASN_RANGES)


def _is_ipv4_cidr(value: str) -> bool:
    try:
        ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        return False
    return "/" in value


def _s3_prefix_problem(prefix: str) -> str | None:
    if is_token(prefix):
        return None
    if prefix.startswith("/"):
        return "begins with /"
    for bad in ("//", "/./", "/../"):
        if bad in prefix:
            return f"contains {bad}"
    if prefix in (".", "..") or prefix.startswith(("./", "../")):
        return "is a relative path"
    return None


def _check_s3_prefix(v: Validator, prop: str, prefix: str) -> None:
    problem = _s3_prefix_problem(prefix)
    v.require(
        problem is None,
        prop,
        prefix,
        "an S3 prefix that does not begin with / and does not contain //, /./ or /../",
        problem or "",
    )


def _check_path(v: Validator, prop: str, path: str) -> None:
    v.require(
        is_token(path) or bool(PATH_PATTERN.match(path)),
        prop,
        path,
        "a path of letters, digits, spaces and _ - + . / ( ) $",
    )


def _check_hostname(v: Validator, prop: str, hostname: str) -> None:
    v.require(
        is_token(hostname) or (bool(hostname) and bool(HOSTNAME_PATTERN.match(hostname))),
        prop,
        hostname,
        "a non-empty DNS name or IPv4 address",
    )


def _check_agents(v: Validator, prop: str, agent_arns: Sequence[str]) -> None:
    v.require(
        1 <= len(agent_arns) <= MAX_AGENTS,
        prop,
        list(agent_arns),
        f"1 to {MAX_AGENTS} agent ARNs",
    )
    for arn in agent_arns:
        v.require(
            is_token(arn) or bool(AGENT_ARN_PATTERN.match(arn)),
            prop,
            arn,
            "arn:<partition>:datasync:<region>:<account>:agent/agent-<17 lowercase letters/digits>",
        )


def schedule_expression(schedule: events.Schedule | str) -> str:
    """The ``rate(...)``/``cron(...)`` text of ``schedule``."""
    return schedule if isinstance(schedule, str) else schedule.expression_string


def schedule_problem(expression: str) -> str | None:
    """Why ``expression`` can't be a DataSync schedule (None when it can).

    DataSync runs a task at most once an hour ("Scheduling your task": the minimum interval is
    one hour, also for cron expressions), so a rate must be at least 60 minutes and a cron
    expression's minute field must name one fixed minute.
    """
    match = _SCHEDULE_EXPRESSION.match(expression.strip())
    if not match:
        return "not a rate(...) or cron(...) expression"
    kind, body = match.group(1), match.group(2).strip()
    if kind == "rate":
        rate = _RATE.match(body)
        if not rate:
            return "rate must be 'N minutes', 'N hours' or 'N days'"
        value, unit = int(rate.group(1)), rate.group(2)
        if value < 1:
            return "rate must be at least 1"
        if unit.startswith("minute") and value < 60:
            return "runs more often than once an hour"
        return None
    fields = body.split()
    if len(fields) != 6:
        return "cron needs 6 fields: minutes hours day-of-month month day-of-week year"
    minute = fields[0]
    if not minute.isdigit() or not 0 <= int(minute) <= 59:
        return "the minute field must be one fixed minute (0-59), or it runs more than hourly"
    return None


# --- sources ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HdfsNameNode:
    """One HDFS NameNode: host name or IP and RPC port (Hadoop's default is 8020)."""

    hostname: str
    port: int = 8020


class DataSyncSource:
    """Where a DataSync task reads from. Build one with the classmethods.

    Self-managed storage (NFS, SMB, HDFS, object storage) is reached through DataSync agents
    you deploy and activate outside CloudFormation; pass their ARNs.
    """

    kind: str = ""

    def _validate(self, v: Validator, prop: str) -> None:
        raise NotImplementedError

    def _location_arn(self, scope: Construct, ingest: DataIngest) -> str:
        raise NotImplementedError

    @property
    def storage_class(self) -> str | None:
        return None

    @classmethod
    def nfs(
        cls,
        *,
        server_hostname: str,
        export_path: str,
        agent_arns: Sequence[str],
        nfs_version: str = "AUTOMATIC",
    ) -> DataSyncSource:
        """An NFS export. ``nfs_version``: one of ``NFS_VERSIONS``. Default: - AUTOMATIC."""
        return _NfsSource(server_hostname, export_path, tuple(agent_arns), nfs_version)

    @classmethod
    def smb(
        cls,
        *,
        server_hostname: str,
        share_path: str,
        agent_arns: Sequence[str],
        user: str,
        password: secretsmanager.ISecret,
        domain: str | None = None,
        smb_version: str = "AUTOMATIC",
    ) -> DataSyncSource:
        """An SMB share, authenticated with NTLM.

        ``password`` is a Secrets Manager secret whose plain-text value is the password.
        DataSync reads it itself through ``CustomSecretConfig`` with a role this construct
        creates, so the password never appears in the template or in CloudFormation.
        ``domain``: Default: - none (workgroup). ``smb_version``: Default: - AUTOMATIC.
        """
        return _SmbSource(
            server_hostname, share_path, tuple(agent_arns), user, password, domain, smb_version
        )

    @classmethod
    def hdfs(
        cls,
        *,
        name_nodes: Sequence[HdfsNameNode],
        agent_arns: Sequence[str],
        simple_user: str,
        subdirectory: str = "/",
    ) -> DataSyncSource:
        """An HDFS cluster with SIMPLE authentication (Kerberos: use the L1 escape hatch).

        ``subdirectory``: Default: - ``/``.
        """
        return _HdfsSource(tuple(name_nodes), tuple(agent_arns), simple_user, subdirectory)

    @classmethod
    def object_storage(
        cls,
        *,
        server_hostname: str,
        bucket_name: str,
        agent_arns: Sequence[str],
        access_key: str,
        secret_key: secretsmanager.ISecret,
        server_port: int = 443,
        server_protocol: str = "HTTPS",
        subdirectory: str = "/",
    ) -> DataSyncSource:
        """A self-managed S3-compatible object store.

        ``secret_key`` is a Secrets Manager secret whose plain-text value is the secret key,
        read by DataSync through ``CustomSecretConfig``. ``server_port``: Default: - 443.
        ``server_protocol``: Default: - HTTPS. ``subdirectory``: Default: - ``/``.
        """
        return _ObjectStorageSource(
            server_hostname,
            bucket_name,
            tuple(agent_arns),
            access_key,
            secret_key,
            server_port,
            server_protocol,
            subdirectory,
        )

    @classmethod
    def s3(cls, bucket: s3.IBucket, prefix: str = "") -> DataSyncSource:
        """Another S3 bucket (no agent). The role gets read access to ``prefix`` only.

        ``prefix``: Default: - the whole bucket.
        """
        return _S3Source(bucket, prefix)


def _secret_access(
    scope: Construct, secret: secretsmanager.ISecret
) -> tuple[dict[str, str], iam.Policy]:
    """``CustomSecretConfig`` for ``secret`` and the policy of the role DataSync reads it with."""
    role = iam.Role(
        scope,
        "SecretAccessRole",
        assumed_by=_datasync_principal(scope),
        description="Lets DataSync read the location credential from Secrets Manager",
    )
    statements = [
        iam.PolicyStatement(
            actions=["secretsmanager:GetSecretValue"], resources=[secret.secret_arn]
        )
    ]
    if secret.encryption_key is not None:
        statements.append(
            iam.PolicyStatement(actions=["kms:Decrypt"], resources=[secret.encryption_key.key_arn])
        )
    policy = iam.Policy(scope, "SecretAccessPolicy", statements=statements, roles=[role])
    return {"secretArn": secret.secret_arn, "secretAccessRoleArn": role.role_arn}, policy


class _NfsSource(DataSyncSource):
    kind = "NFS"

    def __init__(
        self, hostname: str, export_path: str, agents: tuple[str, ...], version: str
    ) -> None:
        self.hostname, self.export_path, self.agents, self.version = (
            hostname,
            export_path,
            agents,
            version,
        )

    def _validate(self, v: Validator, prop: str) -> None:
        _check_hostname(v, f"{prop}.server_hostname", self.hostname)
        _check_path(v, f"{prop}.export_path", self.export_path)
        _check_agents(v, f"{prop}.agent_arns", self.agents)
        v.one_of(f"{prop}.nfs_version", self.version, NFS_VERSIONS)

    def _location_arn(self, scope: Construct, ingest: DataIngest) -> str:
        location = datasync.CfnLocationNFS(
            scope,
            "SourceLocation",
            on_prem_config=datasync.CfnLocationNFS.OnPremConfigProperty(
                agent_arns=list(self.agents)
            ),
            server_hostname=self.hostname,
            subdirectory=self.export_path,
            mount_options=datasync.CfnLocationNFS.MountOptionsProperty(version=self.version),
        )
        return location.attr_location_arn


class _SmbSource(DataSyncSource):
    kind = "SMB"

    def __init__(
        self,
        hostname: str,
        share_path: str,
        agents: tuple[str, ...],
        user: str,
        password: secretsmanager.ISecret,
        domain: str | None,
        version: str,
    ) -> None:
        self.hostname, self.share_path, self.agents = hostname, share_path, agents
        self.user, self.password, self.domain, self.version = user, password, domain, version

    def _validate(self, v: Validator, prop: str) -> None:
        _check_hostname(v, f"{prop}.server_hostname", self.hostname)
        _check_path(v, f"{prop}.share_path", self.share_path)
        _check_agents(v, f"{prop}.agent_arns", self.agents)
        v.one_of(f"{prop}.smb_version", self.version, SMB_VERSIONS)
        v.require(
            is_token(self.user) or bool(re.match(r"^[^\x5B\x5D\\/:;|=,+*?]{1,104}$", self.user)),
            f"{prop}.user",
            self.user,
            "1-104 characters, none of [ ] \\ / : ; | = , + * ?",
        )

    def _location_arn(self, scope: Construct, ingest: DataIngest) -> str:
        secret_config, secret_policy = _secret_access(scope, self.password)
        location = datasync.CfnLocationSMB(
            scope,
            "SourceLocation",
            agent_arns=list(self.agents),
            authentication_type="NTLM",
            server_hostname=self.hostname,
            subdirectory=self.share_path,
            user=self.user,
            domain=self.domain,
            custom_secret_config=secret_config,
            mount_options=datasync.CfnLocationSMB.MountOptionsProperty(version=self.version),
        )
        location.node.add_dependency(secret_policy)
        return location.attr_location_arn


class _HdfsSource(DataSyncSource):
    kind = "HDFS"

    def __init__(
        self,
        name_nodes: tuple[HdfsNameNode, ...],
        agents: tuple[str, ...],
        simple_user: str,
        subdirectory: str,
    ) -> None:
        self.name_nodes, self.agents = name_nodes, agents
        self.simple_user, self.subdirectory = simple_user, subdirectory

    def _validate(self, v: Validator, prop: str) -> None:
        v.require(len(self.name_nodes) >= 1, f"{prop}.name_nodes", [], "at least one HdfsNameNode")
        for node in self.name_nodes:
            _check_hostname(v, f"{prop}.name_nodes.hostname", node.hostname)
            v.in_range(f"{prop}.name_nodes.port", node.port, 1, 65535)
        _check_agents(v, f"{prop}.agent_arns", self.agents)
        _check_path(v, f"{prop}.subdirectory", self.subdirectory)
        v.require(
            is_token(self.simple_user)
            or bool(re.match(r"^[_.A-Za-z0-9][-_.A-Za-z0-9]{0,255}$", self.simple_user)),
            f"{prop}.simple_user",
            self.simple_user,
            "a user name of letters, digits, - _ . (1-256 characters)",
        )

    def _location_arn(self, scope: Construct, ingest: DataIngest) -> str:
        location = datasync.CfnLocationHDFS(
            scope,
            "SourceLocation",
            agent_arns=list(self.agents),
            authentication_type="SIMPLE",
            simple_user=self.simple_user,
            name_nodes=[
                datasync.CfnLocationHDFS.NameNodeProperty(hostname=n.hostname, port=n.port)
                for n in self.name_nodes
            ],
            subdirectory=self.subdirectory,
        )
        return location.attr_location_arn


class _ObjectStorageSource(DataSyncSource):
    kind = "OBJECT_STORAGE"

    def __init__(
        self,
        hostname: str,
        bucket_name: str,
        agents: tuple[str, ...],
        access_key: str,
        secret_key: secretsmanager.ISecret,
        port: int,
        protocol: str,
        subdirectory: str,
    ) -> None:
        self.hostname, self.bucket_name, self.agents = hostname, bucket_name, agents
        self.access_key, self.secret_key = access_key, secret_key
        self.port, self.protocol, self.subdirectory = port, protocol, subdirectory

    def _validate(self, v: Validator, prop: str) -> None:
        _check_hostname(v, f"{prop}.server_hostname", self.hostname)
        v.require(
            is_token(self.bucket_name) or 3 <= len(self.bucket_name) <= 63,
            f"{prop}.bucket_name",
            self.bucket_name,
            "a bucket name of 3-63 characters",
        )
        _check_agents(v, f"{prop}.agent_arns", self.agents)
        v.require(
            is_token(self.access_key) or 1 <= len(self.access_key) <= 200,
            f"{prop}.access_key",
            self.access_key,
            "1-200 characters",
        )
        v.in_range(f"{prop}.server_port", self.port, 1, 65535)
        v.one_of(f"{prop}.server_protocol", self.protocol, OBJECT_STORAGE_PROTOCOLS)
        _check_path(v, f"{prop}.subdirectory", self.subdirectory)

    def _location_arn(self, scope: Construct, ingest: DataIngest) -> str:
        secret_config, secret_policy = _secret_access(scope, self.secret_key)
        location = datasync.CfnLocationObjectStorage(
            scope,
            "SourceLocation",
            agent_arns=list(self.agents),
            server_hostname=self.hostname,
            bucket_name=self.bucket_name,
            access_key=self.access_key,
            custom_secret_config=secret_config,
            server_port=self.port,
            server_protocol=self.protocol,
            subdirectory=self.subdirectory,
        )
        location.node.add_dependency(secret_policy)
        return location.attr_location_arn


class _S3Source(DataSyncSource):
    kind = "S3"

    def __init__(self, bucket: s3.IBucket, prefix: str) -> None:
        self.bucket, self.prefix = bucket, prefix

    def _validate(self, v: Validator, prop: str) -> None:
        _check_s3_prefix(v, f"{prop}.prefix", self.prefix)

    def _location_arn(self, scope: Construct, ingest: DataIngest) -> str:
        role, policy = _s3_location_role(
            scope,
            "SourceBucketRole",
            self.bucket,
            self.prefix,
            DATASYNC_S3_OBJECT_READ_ACTIONS,
        )
        location = datasync.CfnLocationS3(
            scope,
            "SourceLocation",
            s3_bucket_arn=self.bucket.bucket_arn,
            s3_config=datasync.CfnLocationS3.S3ConfigProperty(bucket_access_role_arn=role.role_arn),
            subdirectory=self.prefix or None,
        )
        location.node.add_dependency(policy)
        return location.attr_location_arn


# --- destinations -----------------------------------------------------------------------------


class DataSyncDestination:
    """Where a DataSync task writes. Build one with the classmethods."""

    kind: str = ""

    def _validate(self, v: Validator, prop: str, ingest: DataIngest) -> None:
        raise NotImplementedError

    def _location_arn(self, scope: Construct, ingest: DataIngest) -> str:
        raise NotImplementedError

    @property
    def storage_class(self) -> str | None:
        return None

    @classmethod
    def landing_bucket(
        cls, *, prefix: str = "", storage_class: str = "STANDARD"
    ) -> DataSyncDestination:
        """The construct's landing bucket, under ``prefix``.

        DataSync assumes a role trusted by ``datasync.amazonaws.com`` (``aws:SourceAccount`` and
        ``aws:SourceArn`` conditions) allowed exactly the documented S3 actions on this bucket
        and prefix, plus ``kms:Decrypt``/``kms:GenerateDataKey`` when the bucket uses SSE-KMS.
        ``prefix``: Default: - the bucket root. ``storage_class``: Default: - STANDARD (the
        landing bucket's lifecycle rule moves objects to Intelligent-Tiering later).
        """
        return _LandingBucketDestination(prefix, storage_class)

    @classmethod
    def lustre(
        cls, file_system: LustreFileSystemLike, *, subdirectory: str = "/"
    ) -> DataSyncDestination:
        """An FSx for Lustre file system (``LustreScratch``, ``fsx.LustreFileSystem`` ...).

        DataSync attaches its network interfaces to the file system's own security groups; this
        construct opens the Lustre ports (TCP 988, 1018-1023) from those groups to themselves
        (``mounts.allow_lustre_clients``). ``subdirectory``: Default: - ``/``.
        """
        return _LustreDestination(file_system, subdirectory)

    @classmethod
    def efs(
        cls,
        file_system: efs.IFileSystem,
        *,
        subdirectory: str = "/",
        subnet: ec2.ISubnet | None = None,
        in_transit_encryption: bool = True,
    ) -> DataSyncDestination:
        """An EFS file system, reached from a new security group through NFS (TCP 2049).

        ``subnet`` must be in an Availability Zone where the file system has a mount target.
        Default: - the first private subnet of the ``DataIngest`` VPC (``vpc`` is required).
        ``in_transit_encryption``: Default: - True (TLS 1.2).
        """
        return _EfsDestination(file_system, subdirectory, subnet, in_transit_encryption)


class _LandingBucketDestination(DataSyncDestination):
    kind = "S3"

    def __init__(self, prefix: str, storage_class: str) -> None:
        self.prefix, self._storage_class = prefix, storage_class

    @property
    def storage_class(self) -> str | None:
        return self._storage_class

    def _validate(self, v: Validator, prop: str, ingest: DataIngest) -> None:
        _check_s3_prefix(v, f"{prop}.prefix", self.prefix)
        v.one_of(f"{prop}.storage_class", self._storage_class, S3_STORAGE_CLASSES)

    def _location_arn(self, scope: Construct, ingest: DataIngest) -> str:
        bucket = ingest.landing_bucket
        role, policy = _s3_location_role(
            scope, "BucketAccessRole", bucket, self.prefix, DATASYNC_S3_OBJECT_ACTIONS
        )
        location = datasync.CfnLocationS3(
            scope,
            "DestinationLocation",
            s3_bucket_arn=bucket.bucket_arn,
            s3_config=datasync.CfnLocationS3.S3ConfigProperty(bucket_access_role_arn=role.role_arn),
            s3_storage_class=self._storage_class,
            subdirectory=self.prefix or None,
        )
        location.node.add_dependency(policy)
        return location.attr_location_arn


class _LustreDestination(DataSyncDestination):
    kind = "FSX_LUSTRE"

    def __init__(self, file_system: LustreFileSystemLike, subdirectory: str) -> None:
        self.file_system, self.subdirectory = file_system, subdirectory

    def _validate(self, v: Validator, prop: str, ingest: DataIngest) -> None:
        _check_path(v, f"{prop}.subdirectory", self.subdirectory)
        groups = self.file_system.connections.security_groups
        v.require(
            1 <= len(groups) <= 5,
            f"{prop}.file_system.connections.security_groups",
            len(groups),
            "1 to 5 security groups (DataSync uses the file system's own groups)",
        )

    def _location_arn(self, scope: Construct, ingest: DataIngest) -> str:
        stack = cdk.Stack.of(scope)
        fs = self.file_system
        # DataSync's network interfaces use these groups, so they must admit Lustre from
        # themselves; fsx.LustreFileSystem already does, imported groups may not.
        allow_lustre_clients(fs, fs.connections)
        location = datasync.CfnLocationFSxLustre(
            scope,
            "DestinationLocation",
            fsx_filesystem_arn=stack.format_arn(
                service="fsx", resource="file-system", resource_name=fs.file_system_id
            ),
            security_group_arns=[
                _security_group_arn(stack, sg) for sg in fs.connections.security_groups
            ],
            subdirectory=self.subdirectory,
        )
        return location.attr_location_arn


class _EfsDestination(DataSyncDestination):
    kind = "EFS"

    def __init__(
        self,
        file_system: efs.IFileSystem,
        subdirectory: str,
        subnet: ec2.ISubnet | None,
        in_transit_encryption: bool,
    ) -> None:
        self.file_system, self.subdirectory, self.subnet = file_system, subdirectory, subnet
        self.in_transit_encryption = in_transit_encryption

    def _validate(self, v: Validator, prop: str, ingest: DataIngest) -> None:
        _check_path(v, f"{prop}.subdirectory", self.subdirectory)
        v.require(
            ingest.vpc is not None,
            "vpc",
            None,
            "a VPC on the DataIngest for an EFS destination",
            "DataSync's EFS network interface needs a subnet and a security group in the VPC",
        )

    def _location_arn(self, scope: Construct, ingest: DataIngest) -> str:
        stack = cdk.Stack.of(scope)
        vpc = ingest.vpc
        assert vpc is not None  # validated
        subnet = self.subnet or vpc.select_subnets(subnet_type=_private_subnet_type(vpc)).subnets[0]
        security_group = ec2.SecurityGroup(
            scope,
            "EfsAccessSecurityGroup",
            vpc=vpc,
            description="DataSync network interfaces that write to EFS (NFS 2049)",
            allow_all_outbound=False,
        )
        self.file_system.connections.allow_default_port_from(security_group, "DataSync to EFS")
        security_group.connections.allow_to(self.file_system, ec2.Port.tcp(2049), "DataSync to EFS")
        location = datasync.CfnLocationEFS(
            scope,
            "DestinationLocation",
            efs_filesystem_arn=self.file_system.file_system_arn,
            ec2_config=datasync.CfnLocationEFS.Ec2ConfigProperty(
                security_group_arns=[_security_group_arn(stack, security_group)],
                subnet_arn=stack.format_arn(
                    service="ec2", resource="subnet", resource_name=subnet.subnet_id
                ),
            ),
            in_transit_encryption="TLS1_2" if self.in_transit_encryption else "NONE",
            subdirectory=self.subdirectory,
        )
        # The mount targets must accept NFS from the group before DataSync validates the location.
        for group in self.file_system.connections.security_groups:
            location.node.add_dependency(group)
        return location.attr_location_arn


def _private_subnet_type(vpc: ec2.IVpc) -> ec2.SubnetType:
    return (
        ec2.SubnetType.PRIVATE_WITH_EGRESS
        if vpc.private_subnets
        else ec2.SubnetType.PRIVATE_ISOLATED
    )


def _security_group_arn(stack: cdk.Stack, group: ec2.ISecurityGroup) -> str:
    return stack.format_arn(
        service="ec2", resource="security-group", resource_name=group.security_group_id
    )


def _datasync_principal(scope: Construct) -> iam.IPrincipal:
    """``datasync.amazonaws.com``, limited to this account's DataSync (confused deputy)."""
    stack = cdk.Stack.of(scope)
    return iam.ServicePrincipal(
        "datasync.amazonaws.com",
        conditions={
            "StringEquals": {"aws:SourceAccount": stack.account},
            "StringLike": {
                "aws:SourceArn": f"arn:{stack.partition}:datasync:{stack.region}:{stack.account}:*"
            },
        },
    )


def _object_pattern(prefix: str) -> str:
    if not prefix:
        return "*"
    return (prefix if prefix.endswith("/") else prefix + "/") + "*"


def _s3_location_role(
    scope: Construct,
    id: str,
    bucket: s3.IBucket,
    prefix: str,
    object_actions: Sequence[str],
) -> tuple[iam.Role, iam.Policy]:
    """A role DataSync assumes for one S3 location, scoped to ``bucket`` and ``prefix``."""
    role = iam.Role(
        scope,
        id,
        assumed_by=_datasync_principal(scope),
        description="DataSync S3 location access, scoped to one bucket and prefix",
    )
    object_arn = bucket.arn_for_objects(_object_pattern(prefix))
    statements = [
        iam.PolicyStatement(
            actions=list(DATASYNC_S3_BUCKET_ACTIONS), resources=[bucket.bucket_arn]
        ),
        iam.PolicyStatement(actions=list(object_actions), resources=[object_arn]),
    ]
    if bucket.encryption_key is not None:
        statements.append(
            iam.PolicyStatement(
                actions=list(DATASYNC_KMS_ACTIONS), resources=[bucket.encryption_key.key_arn]
            )
        )
    policy = iam.Policy(scope, f"{id}Policy", statements=statements, roles=[role])
    _ack_object_wildcard(policy, object_arn, "DataSync")
    return role, policy


def _nag_rendering(scope: Construct, value: str) -> str:
    """``value`` as cdk-nag prints it in a finding id (``<LogicalId.Arn>/prefix/*``)."""

    def render(part: Any) -> str:
        if isinstance(part, str):
            return part
        if isinstance(part, dict) and "Fn::GetAtt" in part:
            logical_id, attribute = part["Fn::GetAtt"]
            return f"<{logical_id}.{attribute}>"
        if isinstance(part, dict) and "Ref" in part:
            return f"<{part['Ref']}>"
        if isinstance(part, dict) and "Fn::Join" in part:
            separator, parts = part["Fn::Join"]
            return str(separator).join(render(p) for p in parts)
        raise ValueError(part)

    return render(cdk.Stack.of(scope).resolve(value))


def _ack_object_wildcard(policy: iam.Policy, object_arn: str, who: str) -> None:
    """Acknowledge the one IAM5 finding for ``object_arn`` on ``policy``, nothing wider."""
    try:
        finding = f"AwsSolutions-IAM5[Resource::{_nag_rendering(policy, object_arn)}]"
    except ValueError:  # an ARN shape cdk-nag would print differently: leave it visible
        return
    cdk.Validations.of(policy).acknowledge(
        cdk.Acknowledgment(
            id=finding,
            reason=(
                f"{who} reads and writes objects it cannot name in advance; the only wildcard is "
                "the object-key suffix of the ARN of the one bucket and prefix this role serves."
            ),
        )
    )


# --- Direct Connect and Snowball option types -------------------------------------------------


@dataclass(frozen=True)
class VirtualInterfaceOptions:
    """A Direct Connect virtual interface on a connection (or LAG) you own.

    Private VIF on the virtual-private-gateway path, transit VIF on the transit-gateway path;
    both attach to the Direct Connect gateway.
    """

    #: ``dxcon-...`` or ``dxlag-...`` (or its ARN).
    connection_id: str
    #: 802.1Q VLAN id, 1-4094, agreed with your provider.
    vlan: int
    #: Your router's BGP ASN, 1-4294967294.
    customer_asn: int
    #: BGP MD5 key. Default: - none; AWS generates one (see the virtual interface's console page).
    auth_key: secretsmanager.ISecret | None = None
    #: 1500, or jumbo frames: 9001 (private VIF) / 8500 (transit VIF). Default: - 1500.
    mtu: int = 1500
    #: Amazon-side peer address with prefix length. Default: - assigned by AWS.
    amazon_address: str | None = None
    #: Your-side peer address with prefix length. Default: - assigned by AWS.
    customer_address: str | None = None
    #: Default: - a name derived from the construct path.
    name: str | None = None


@dataclass(frozen=True)
class DirectConnectOptions:
    """How the VPC reaches a Direct Connect gateway."""

    #: ``VIRTUAL_PRIVATE_GATEWAY`` (one VPC) or ``TRANSIT_GATEWAY`` (hub for many VPCs).
    #: Default: - VIRTUAL_PRIVATE_GATEWAY.
    attachment: str = "VIRTUAL_PRIVATE_GATEWAY"
    #: Existing Direct Connect gateway id (UUID). Default: - a new Direct Connect gateway.
    direct_connect_gateway_id: str | None = None
    #: Amazon-side ASN of a new Direct Connect gateway. Default: - 64512.
    direct_connect_gateway_asn: int = 64512
    #: Amazon-side ASN of the new virtual private gateway or transit gateway; must differ from
    #: the Direct Connect gateway's for a transit gateway. Default: - 64512 for a virtual
    #: private gateway, 64513 for a transit gateway.
    gateway_asn: int | None = None
    #: Prefixes advertised to on premises (required for a transit gateway association).
    #: Default: - the VPC CIDR for a transit gateway; for a virtual private gateway, the VPC CIDR
    #: as AWS decides.
    allowed_prefixes: Sequence[str] = ()
    #: On-premises CIDRs to route through the transit gateway (a VGW propagates BGP routes
    #: instead). Default: - none.
    on_premises_cidrs: Sequence[str] = ()
    #: Subnets whose route tables learn on-premises routes / host the TGW attachment.
    #: Default: - the VPC's private subnets (isolated ones when there are no private subnets).
    subnets: ec2.SubnetSelection | None = None
    #: A virtual interface to create. Default: - none (you or your provider create it).
    virtual_interface: VirtualInterfaceOptions | None = None


@dataclass(frozen=True)
class SnowballImportOptions:
    """Values written into the Snowball ``create-job`` request; unset ones stay placeholders."""

    #: Default: - placeholder (create one with ``aws snowball create-address``).
    address_id: str | None = None
    #: One of SECOND_DAY, NEXT_DAY, EXPRESS, STANDARD. Default: - placeholder.
    shipping_option: str | None = None
    #: Device type, e.g. EDGE_S. Default: - placeholder.
    snowball_type: str | None = None
    #: Default: - "hpc-constructs import into <bucket>".
    description: str | None = None


# --- the task construct -----------------------------------------------------------------------


class DataSyncTransfer(Construct):
    """One DataSync task (``AWS::DataSync::Task``) with its source and destination locations.

    Created by :meth:`DataIngest.add_task`. ``task`` is the L1 (escape hatch): DataSync has no
    L2 in aws-cdk-lib.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        ingest: DataIngest,
        source: DataSyncSource,
        destination: DataSyncDestination,
        schedule: str | None,
        options: datasync.CfnTask.OptionsProperty,
        includes: Sequence[str],
        excludes: Sequence[str],
        task_report: str | None,
        task_mode: str,
    ) -> None:
        super().__init__(scope, id)
        self.source = source
        self.destination = destination
        self.source_location_arn = source._location_arn(self, ingest)
        self.destination_location_arn = destination._location_arn(self, ingest)
        report_config = None
        if task_report is not None:
            role = ingest._report_role()
            report_config = datasync.CfnTask.TaskReportConfigProperty(
                destination=datasync.CfnTask.DestinationProperty(
                    s3=datasync.CfnTask.S3Property(
                        s3_bucket_arn=ingest.landing_bucket.bucket_arn,
                        bucket_access_role_arn=role.role_arn,
                        subdirectory=ingest.task_report_prefix,
                    )
                ),
                output_type=task_report,
            )
        log_group = ingest._ensure_log_group()
        # L1: aws-cdk-lib has no DataSync L2.
        self.task = datasync.CfnTask(
            self,
            "Task",
            source_location_arn=self.source_location_arn,
            destination_location_arn=self.destination_location_arn,
            cloud_watch_log_group_arn=log_group.log_group_arn,
            options=options,
            schedule=(
                datasync.CfnTask.TaskScheduleProperty(
                    schedule_expression=schedule, status="ENABLED"
                )
                if schedule
                else None
            ),
            includes=(
                [
                    datasync.CfnTask.FilterRuleProperty(
                        filter_type="SIMPLE_PATTERN", value="|".join(includes)
                    )
                ]
                if includes
                else None
            ),
            excludes=(
                [
                    datasync.CfnTask.FilterRuleProperty(
                        filter_type="SIMPLE_PATTERN", value="|".join(excludes)
                    )
                ]
                if excludes
                else None
            ),
            task_report_config=report_config,
            task_mode=task_mode,
        )
        self.task.node.add_dependency(ingest._log_policy_dependency())
        #: The task ARN (``Fn::GetAtt TaskArn``).
        self.task_arn: str = self.task.attr_task_arn


# --- DataIngest -------------------------------------------------------------------------------


class DataIngest(Construct):
    """The AWS side of getting data in: landing bucket, DataSync, Direct Connect, Snowball.

    Args:
        vpc: The VPC used for the DataSync private endpoint, EFS destinations and Direct Connect.
            Default: - none (then those features cannot be used).
        landing_bucket: Bring your own bucket; then no bucket, log bucket or lifecycle is
            created and the bucket props below must be left unset. Default: - a new bucket:
            versioned, TLS-only, public access blocked, server access logs to a separate log
            bucket, lifecycle rules, ``RemovalPolicy.RETAIN``.
        bucket_encryption: ``"KMS"`` (the construct's key) or ``"S3_MANAGED"``. Default: - KMS.
        intelligent_tiering_after_days: Move current objects to S3 Intelligent-Tiering after this
            many days. Default: - 30.
        noncurrent_version_expiration_days: Delete non-current versions after this many days.
            Default: - 90.
        encryption_key: KMS key for the bucket, task logs, notifications topic and Snowball
            jobs. Default: - a new key with rotation enabled.
        log_retention: Retention of the DataSync task log group. Default: - one year.
        notification_target: Where DataSync task-execution state changes go.
            Default: - a new KMS-encrypted, TLS-only SNS topic (``notifications_topic``).
        notify_states: Execution states that notify. Default: - SUCCESS and ERROR.
        task_report_prefix: Where task reports go in the landing bucket.
            Default: - ``datasync-reports/``.
        private_endpoint: Create a DataSync interface VPC endpoint for agents that must stay on
            the private path (Direct Connect / VPN); requires ``vpc`` and ``agent_cidrs``.
            Default: - False (agents use the public endpoint).
        agent_cidrs: IPv4 CIDRs of the agents allowed to reach the endpoint.
            Default: - none.
        allow_support_channel: Also open TCP 22 from the agents for the AWS Support channel.
            Default: - False.
        direct_connect: Attach the VPC to Direct Connect. Default: - no Direct Connect.
        snowball: ``True`` or options to prepare a Snowball import job. Default: - False.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc | None = None,
        landing_bucket: s3.IBucket | None = None,
        bucket_encryption: str | None = None,
        intelligent_tiering_after_days: int | None = None,
        noncurrent_version_expiration_days: int | None = None,
        encryption_key: kms.IKey | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        notification_target: events.IRuleTarget | None = None,
        notify_states: Sequence[str] = DEFAULT_NOTIFY_STATES,
        task_report_prefix: str = "datasync-reports/",
        private_endpoint: bool = False,
        agent_cidrs: Sequence[str] = (),
        allow_support_channel: bool = False,
        direct_connect: DirectConnectOptions | None = None,
        snowball: bool | SnowballImportOptions = False,
    ) -> None:
        super().__init__(scope, id)
        v = Validator(self)
        if landing_bucket is not None:
            for prop, value in (
                ("bucket_encryption", bucket_encryption),
                ("intelligent_tiering_after_days", intelligent_tiering_after_days),
                ("noncurrent_version_expiration_days", noncurrent_version_expiration_days),
            ):
                v.require(
                    value is None,
                    prop,
                    value,
                    "unset when landing_bucket is passed",
                    "these props configure a bucket the construct would create",
                )
        v.one_of("bucket_encryption", bucket_encryption or "KMS", ("KMS", "S3_MANAGED"))
        v.in_range("intelligent_tiering_after_days", intelligent_tiering_after_days, 0, 36500)
        v.in_range(
            "noncurrent_version_expiration_days", noncurrent_version_expiration_days, 1, 36500
        )
        _check_s3_prefix(v, "task_report_prefix", task_report_prefix)
        if private_endpoint:
            v.require(vpc is not None, "vpc", None, "a VPC when private_endpoint=True")
            v.require(
                len(agent_cidrs) > 0,
                "agent_cidrs",
                list(agent_cidrs),
                "at least one agent CIDR when private_endpoint=True",
            )
        for cidr in agent_cidrs:
            v.require(
                is_token(cidr) or _is_ipv4_cidr(cidr),
                "agent_cidrs",
                cidr,
                "IPv4 CIDRs such as 10.20.0.0/24",
            )
        if direct_connect is not None:
            v.require(vpc is not None, "vpc", None, "a VPC when direct_connect is set")
            _validate_direct_connect(v, direct_connect)
        if isinstance(snowball, SnowballImportOptions):
            if snowball.shipping_option is not None:
                v.one_of(
                    "snowball.shipping_option", snowball.shipping_option, SNOWBALL_SHIPPING_OPTIONS
                )
            if snowball.snowball_type is not None:
                v.one_of("snowball.snowball_type", snowball.snowball_type, SNOWBALL_TYPES)
        v.raise_if_any()

        self.vpc = vpc
        self.task_report_prefix = task_report_prefix
        self.log_retention = log_retention
        self.notify_states: tuple[str, ...] = tuple(notify_states)
        #: The construct's KMS key (created unless ``encryption_key`` was passed).
        self.key: kms.IKey = encryption_key or kms.Key(
            self,
            "Key",
            enable_key_rotation=True,
            description="hpc-constructs DataIngest: landing data, task logs, notifications",
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        #: The server-access-log bucket (None when the landing bucket was passed in).
        self.access_log_bucket: s3.IBucket | None = None
        #: Resolved bucket settings (None when the landing bucket was passed in).
        self.bucket_encryption: str | None = None
        self.intelligent_tiering_after_days: int | None = None
        self.noncurrent_version_expiration_days: int | None = None
        if landing_bucket is None:
            self.bucket_encryption = bucket_encryption or "KMS"
            self.intelligent_tiering_after_days = (
                30 if intelligent_tiering_after_days is None else intelligent_tiering_after_days
            )
            self.noncurrent_version_expiration_days = (
                90
                if noncurrent_version_expiration_days is None
                else noncurrent_version_expiration_days
            )
            landing_bucket = self._create_bucket()
        #: The bucket every path lands in.
        self.landing_bucket: s3.IBucket = landing_bucket
        #: DataSync transfers added with :meth:`add_task`.
        self.tasks: list[DataSyncTransfer] = []

        self._notification_target = notification_target
        #: Default notification destination (None when ``notification_target`` was passed).
        self.notifications_topic: sns.ITopic | None = None
        if notification_target is None:
            self.notifications_topic = self._create_topic()
        self.notification_rule: events.Rule | None = None
        self.log_group: logs.LogGroup | None = None
        self._log_policy: logs.ResourcePolicy | None = None
        self._report_role_: iam.Role | None = None

        #: DataSync interface endpoint and its security group (when ``private_endpoint``).
        self.private_endpoint: ec2.InterfaceVpcEndpoint | None = None
        self.endpoint_security_group: ec2.SecurityGroup | None = None
        if private_endpoint and vpc is not None:
            self._create_endpoint(vpc, agent_cidrs, allow_support_channel)

        #: Direct Connect resources (when ``direct_connect`` was given).
        self.direct_connect: DirectConnectLink | None = None
        if direct_connect is not None and vpc is not None:
            self.direct_connect = DirectConnectLink(
                self, "DirectConnect", vpc=vpc, options=direct_connect
            )

        #: Snowball import role and the create-job request output (when ``snowball``).
        self.snowball_role: iam.Role | None = None
        self.snowball_job_request: cdk.CfnOutput | None = None
        if snowball:
            self._prepare_snowball(
                snowball if isinstance(snowball, SnowballImportOptions) else SnowballImportOptions()
            )

    # -- landing bucket -----------------------------------------------------------------------

    def _create_bucket(self) -> s3.Bucket:
        self.access_log_bucket = s3.Bucket(
            self,
            "AccessLogBucket",
            # Server access logs can only be delivered to SSE-S3 buckets.
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            versioned=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        cdk.Validations.of(self.access_log_bucket).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions-S1",
                reason=(
                    "This is the server-access-log destination of the landing bucket; logging "
                    "it to itself or to another bucket would only move the finding."
                ),
            )
        )
        kms_encrypted = self.bucket_encryption == "KMS"
        bucket = s3.Bucket(
            self,
            "LandingBucket",
            encryption=(
                s3.BucketEncryption.KMS if kms_encrypted else s3.BucketEncryption.S3_MANAGED
            ),
            encryption_key=self.key if kms_encrypted else None,
            bucket_key_enabled=True if kms_encrypted else None,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            server_access_logs_bucket=self.access_log_bucket,
            server_access_logs_prefix="landing/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="IntelligentTiering",
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.INTELLIGENT_TIERING,
                            transition_after=cdk.Duration.days(
                                self.intelligent_tiering_after_days or 0
                            ),
                        )
                    ],
                    noncurrent_version_expiration=cdk.Duration.days(
                        self.noncurrent_version_expiration_days or 1
                    ),
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(7),
                )
            ],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        return bucket

    def grant_read(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` read the landing bucket (and decrypt with its key)."""
        return self.landing_bucket.grant_read(grantee)

    def grant_write(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` write to the landing bucket (and encrypt with its key)."""
        return self.landing_bucket.grant_write(grantee)

    # -- notifications and logs ---------------------------------------------------------------

    def _create_topic(self) -> sns.Topic:
        topic = sns.Topic(self, "NotificationsTopic", master_key=self.key, enforce_ssl=True)
        if isinstance(self.key, kms.Key):
            # EventBridge publishes to the encrypted topic with the key.
            self.key.add_to_resource_policy(
                iam.PolicyStatement(
                    principals=[iam.ServicePrincipal("events.amazonaws.com")],
                    actions=["kms:Decrypt", "kms:GenerateDataKey"],
                    resources=["*"],
                )
            )
        return topic

    def _ensure_log_group(self) -> logs.LogGroup:
        if self.log_group is None:
            stack = cdk.Stack.of(self)
            if isinstance(self.key, kms.Key):
                self.key.add_to_resource_policy(
                    iam.PolicyStatement(
                        principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                        actions=[
                            "kms:Encrypt",
                            "kms:Decrypt",
                            "kms:ReEncryptFrom",
                            "kms:ReEncryptTo",
                            "kms:GenerateDataKey",
                            "kms:DescribeKey",
                        ],
                        resources=["*"],
                        conditions={
                            "ArnLike": {
                                "kms:EncryptionContext:aws:logs:arn": (
                                    f"arn:{stack.partition}:logs:{stack.region}:"
                                    f"{stack.account}:log-group:*"
                                )
                            }
                        },
                    )
                )
            self.log_group = logs.LogGroup(
                self,
                "TaskLogs",
                encryption_key=self.key,
                retention=self.log_retention,
                removal_policy=cdk.RemovalPolicy.RETAIN,
            )
            # DataSync writes task logs only where a resource policy lets it.
            self._log_policy = logs.ResourcePolicy(
                self,
                "TaskLogsResourcePolicy",
                policy_statements=[
                    iam.PolicyStatement(
                        principals=[iam.ServicePrincipal("datasync.amazonaws.com")],
                        actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                        resources=[self.log_group.log_group_arn],
                        conditions={
                            "ArnLike": {
                                "aws:SourceArn": (
                                    f"arn:{stack.partition}:datasync:{stack.region}:"
                                    f"{stack.account}:task/*"
                                )
                            },
                            "StringEquals": {"aws:SourceAccount": stack.account},
                        },
                    )
                ],
            )
        return self.log_group

    def _log_policy_dependency(self) -> Construct:
        assert self._log_policy is not None
        return self._log_policy

    def _report_role(self) -> iam.Role:
        if self._report_role_ is None:
            role, _ = _s3_location_role(
                self,
                "TaskReportRole",
                self.landing_bucket,
                self.task_report_prefix,
                DATASYNC_S3_OBJECT_ACTIONS,
            )
            self._report_role_ = role
        return self._report_role_

    def _notify(self, transfer: DataSyncTransfer) -> None:
        if self.notification_rule is None:
            target = self._notification_target
            if target is None:
                assert self.notifications_topic is not None
                target = targets.SnsTopic(self.notifications_topic)
            self.notification_rule = events.Rule(
                self,
                "TaskExecutionStateChange",
                description="DataSync task executions of this DataIngest changed state",
                event_pattern=events.EventPattern(
                    source=["aws.datasync"],
                    detail_type=[DATASYNC_EXECUTION_DETAIL_TYPE],
                    detail={"State": list(self.notify_states)} if self.notify_states else None,
                ),
                targets=[target],
            )
        # Execution ARNs are <task ARN>/execution/exec-...; match this construct's tasks only.
        self.notification_rule.add_event_pattern(resources=events.Match.prefix(transfer.task_arn))

    # -- DataSync tasks -----------------------------------------------------------------------

    def add_task(
        self,
        id: str,
        *,
        source: DataSyncSource,
        destination: DataSyncDestination,
        schedule: events.Schedule | str | None = None,
        verify_mode: str = "ONLY_FILES_TRANSFERRED",
        overwrite_mode: str = "ALWAYS",
        preserve_deleted_files: str = "PRESERVE",
        transfer_mode: str = "CHANGED",
        bytes_per_second: int | None = None,
        includes: Sequence[str] = (),
        excludes: Sequence[str] = (),
        task_report: str | None = None,
        log_level: str = "BASIC",
        task_mode: str = "BASIC",
    ) -> DataSyncTransfer:
        """Add a DataSync task from ``source`` to ``destination``.

        Args:
            schedule: ``events.Schedule`` or a ``rate(...)``/``cron(...)`` string, no more often
                than hourly. Default: - none (run on demand).
            verify_mode: Default: - ONLY_FILES_TRANSFERRED (checksums every transferred file;
                works for every destination and for Enhanced mode, unlike
                POINT_IN_TIME_CONSISTENT).
            overwrite_mode: Default: - ALWAYS.
            preserve_deleted_files: Default: - PRESERVE (files deleted at the source stay).
            transfer_mode: Default: - CHANGED (only changed data).
            bytes_per_second: Bandwidth cap; -1 or at least 1. Default: - unlimited.
            includes: SIMPLE_PATTERN filters, joined with ``|``. Default: - everything.
            excludes: SIMPLE_PATTERN filters, joined with ``|``. Default: - nothing.
            task_report: SUMMARY_ONLY or STANDARD, written to the landing bucket under
                ``task_report_prefix``. Default: - no task report.
            log_level: OFF, BASIC or TRANSFER. Default: - BASIC.
            task_mode: BASIC or ENHANCED (ENHANCED needs an S3 destination and an S3, NFS, SMB
                or object-storage source). Default: - BASIC.
        """
        v = Validator(f"{self.node.path}/{id}")
        source._validate(v, "source")
        destination._validate(v, "destination", self)
        expression = schedule_expression(schedule) if schedule is not None else None
        if expression is not None and not is_token(expression):
            problem = schedule_problem(expression)
            v.require(
                problem is None,
                "schedule",
                expression,
                "rate(N hours|days) or rate(>=60 minutes), or cron with one fixed minute",
                problem or "",
            )
        v.one_of("verify_mode", verify_mode, VERIFY_MODES)
        if verify_mode == "POINT_IN_TIME_CONSISTENT":
            v.require(
                task_mode != "ENHANCED",
                "verify_mode",
                verify_mode,
                "ONLY_FILES_TRANSFERRED or NONE for ENHANCED tasks",
            )
            v.require(
                destination.storage_class not in _NO_FULL_VERIFY_CLASSES,
                "verify_mode",
                verify_mode,
                "ONLY_FILES_TRANSFERRED or NONE for GLACIER / DEEP_ARCHIVE destinations",
            )
        v.one_of("overwrite_mode", overwrite_mode, OVERWRITE_MODES)
        v.one_of("preserve_deleted_files", preserve_deleted_files, PRESERVE_DELETED_FILES)
        v.one_of("transfer_mode", transfer_mode, TRANSFER_MODES)
        if preserve_deleted_files == "REMOVE":
            v.require(
                transfer_mode != "ALL",
                "preserve_deleted_files",
                preserve_deleted_files,
                "PRESERVE when transfer_mode is ALL",
            )
        if bytes_per_second is not None:
            v.require(
                bytes_per_second == -1 or bytes_per_second >= 1,
                "bytes_per_second",
                bytes_per_second,
                "-1 (unlimited) or an integer of at least 1",
            )
        for prop, patterns in (("includes", includes), ("excludes", excludes)):
            for pattern in patterns:
                v.require(
                    bool(pattern) and "|" not in pattern and "\x00" not in pattern,
                    prop,
                    pattern,
                    "non-empty patterns without | (the construct joins them with |)",
                )
        if task_report is not None:
            v.one_of("task_report", task_report, TASK_REPORT_OUTPUT_TYPES)
        v.one_of("log_level", log_level, LOG_LEVELS)
        v.one_of("task_mode", task_mode, TASK_MODES)
        if task_mode == "ENHANCED":
            # DataSync User Guide, "Choosing a task mode": Enhanced mode transfers only to or
            # from Amazon S3 (S3 to S3, other clouds to S3, NFS/SMB to S3); CreateTask rejects
            # Lustre or EFS locations and HDFS sources in Enhanced mode.
            v.require(
                destination.kind == "S3" and source.kind in ENHANCED_SOURCE_KINDS,
                "task_mode",
                task_mode,
                "BASIC unless the destination is an S3 bucket and the source is S3, NFS, SMB "
                "or object storage",
                f"source is {source.kind}, destination is {destination.kind}",
            )
        v.raise_if_any()

        options = datasync.CfnTask.OptionsProperty(
            verify_mode=verify_mode,
            overwrite_mode=overwrite_mode,
            preserve_deleted_files=preserve_deleted_files,
            transfer_mode=transfer_mode,
            bytes_per_second=bytes_per_second,
            log_level=log_level,
        )
        transfer = DataSyncTransfer(
            self,
            id,
            ingest=self,
            source=source,
            destination=destination,
            schedule=expression,
            options=options,
            includes=includes,
            excludes=excludes,
            task_report=task_report,
            task_mode=task_mode,
        )
        self.tasks.append(transfer)
        self._notify(transfer)
        return transfer

    # -- private endpoint ---------------------------------------------------------------------

    def _create_endpoint(
        self, vpc: ec2.IVpc, agent_cidrs: Sequence[str], allow_support_channel: bool
    ) -> None:
        group = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=vpc,
            description="DataSync VPC endpoint: control and data traffic from DataSync agents",
            allow_all_outbound=False,
        )
        ports = list(DATASYNC_ENDPOINT_PORTS)
        if allow_support_channel:
            ports.append(DATASYNC_SUPPORT_PORT)
        for cidr in agent_cidrs:
            for port in ports:
                group.add_ingress_rule(ec2.Peer.ipv4(cidr), port, "DataSync agent")
        self.endpoint_security_group = group
        self.private_endpoint = ec2.InterfaceVpcEndpoint(
            self,
            "DataSyncEndpoint",
            vpc=vpc,
            service=ec2.InterfaceVpcEndpointAwsService.DATASYNC,
            security_groups=[group],
            open=False,
            private_dns_enabled=False,
            subnets=ec2.SubnetSelection(subnet_type=_private_subnet_type(vpc)),
        )

    # -- Snowball -----------------------------------------------------------------------------

    def _prepare_snowball(self, options: SnowballImportOptions) -> None:
        stack = cdk.Stack.of(self)
        role = iam.Role(
            self,
            "SnowballImportRole",
            assumed_by=iam.ServicePrincipal(
                "importexport.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            ),
            description="Lets AWS Snowball import a device's data into the landing bucket",
        )
        bucket = self.landing_bucket
        object_arn = bucket.arn_for_objects("*")
        statements = [
            iam.PolicyStatement(
                actions=list(SNOWBALL_BUCKET_ACTIONS), resources=[bucket.bucket_arn]
            ),
            iam.PolicyStatement(actions=list(SNOWBALL_OBJECT_ACTIONS), resources=[object_arn]),
            iam.PolicyStatement(actions=list(DATASYNC_KMS_ACTIONS), resources=[self.key.key_arn]),
        ]
        if bucket.encryption_key is not None and bucket.encryption_key is not self.key:
            statements.append(
                iam.PolicyStatement(
                    actions=list(DATASYNC_KMS_ACTIONS), resources=[bucket.encryption_key.key_arn]
                )
            )
        policy = iam.Policy(self, "SnowballImportPolicy", statements=statements, roles=[role])
        _ack_object_wildcard(policy, object_arn, "Snowball import")
        self.snowball_role = role
        request = {
            "JobType": "IMPORT",
            "Resources": {"S3Resources": [{"BucketArn": bucket.bucket_arn}]},
            "Description": options.description or "hpc-constructs import into landing bucket",
            "KmsKeyARN": self.key.key_arn,
            "RoleARN": role.role_arn,
            "AddressId": options.address_id or "<AddressId from aws snowball create-address>",
            "ShippingOption": options.shipping_option
            or "<" + " | ".join(SNOWBALL_SHIPPING_OPTIONS) + ">",
            "SnowballType": options.snowball_type or "<device type, e.g. EDGE_S>",
        }
        self.snowball_job_request = cdk.CfnOutput(
            self,
            "SnowballCreateJobRequest",
            description=(
                "Fill the <placeholders>, then: aws snowball create-job --cli-input-json "
                "'<this value>' (ships a device; a person runs it)"
            ),
            value=stack.to_json_string(request),
        )


# --- Direct Connect ---------------------------------------------------------------------------


def _validate_direct_connect(v: Validator, options: DirectConnectOptions) -> None:
    p = "direct_connect"
    v.one_of(f"{p}.attachment", options.attachment, DX_ATTACHMENTS)
    transit = options.attachment == "TRANSIT_GATEWAY"
    if options.direct_connect_gateway_id is not None:
        v.require(
            is_token(options.direct_connect_gateway_id)
            or bool(DX_GATEWAY_ID_PATTERN.match(options.direct_connect_gateway_id)),
            f"{p}.direct_connect_gateway_id",
            options.direct_connect_gateway_id,
            "a Direct Connect gateway id (UUID, e.g. 5f294f92-bafb-4011-916d-9b0bexample)",
        )
    else:
        v.require(
            _amazon_asn_ok(options.direct_connect_gateway_asn),
            f"{p}.direct_connect_gateway_asn",
            options.direct_connect_gateway_asn,
            "a private ASN: 64512-65534 or 4200000000-4294967294",
        )
    if options.gateway_asn is not None:
        v.require(
            _amazon_asn_ok(options.gateway_asn),
            f"{p}.gateway_asn",
            options.gateway_asn,
            "a private ASN: 64512-65534 or 4200000000-4294967294",
        )
    if transit and options.direct_connect_gateway_id is None:
        v.require(
            _gateway_asn(options) != options.direct_connect_gateway_asn,
            f"{p}.gateway_asn",
            _gateway_asn(options),
            f"an ASN other than the Direct Connect gateway's ({options.direct_connect_gateway_asn})",
            "a transit gateway and its Direct Connect gateway need different ASNs",
        )
    for prop, cidrs in (
        ("allowed_prefixes", options.allowed_prefixes),
        ("on_premises_cidrs", options.on_premises_cidrs),
    ):
        for cidr in cidrs:
            v.require(
                is_token(cidr) or _is_ipv4_cidr(cidr),
                f"{p}.{prop}",
                cidr,
                "IPv4 CIDRs such as 10.0.0.0/16 (network address, no host bits)",
            )
    if not transit:
        v.require(
            not options.on_premises_cidrs,
            f"{p}.on_premises_cidrs",
            list(options.on_premises_cidrs),
            "empty for a virtual private gateway (BGP routes are propagated)",
        )
    vif = options.virtual_interface
    if vif is not None:
        q = f"{p}.virtual_interface"
        v.require(
            is_token(vif.connection_id) or bool(CONNECTION_ID_PATTERN.match(vif.connection_id)),
            f"{q}.connection_id",
            vif.connection_id,
            "dxcon-xxxxxxxx or dxlag-xxxxxxxx (or the connection/LAG ARN)",
        )
        v.in_range(f"{q}.vlan", vif.vlan, *VLAN_RANGE)
        v.in_range(f"{q}.customer_asn", vif.customer_asn, *CUSTOMER_ASN_RANGE)
        mtus = TRANSIT_VIF_MTUS if transit else PRIVATE_VIF_MTUS
        v.one_of(f"{q}.mtu", vif.mtu, mtus, "transit VIF" if transit else "private VIF")
        for prop, address in (
            ("amazon_address", vif.amazon_address),
            ("customer_address", vif.customer_address),
        ):
            if address is not None:
                v.require(
                    is_token(address) or _is_interface_cidr(address),
                    f"{q}.{prop}",
                    address,
                    "an IPv4 address with prefix length, e.g. 169.254.10.1/30",
                )
        v.require(
            (vif.amazon_address is None) == (vif.customer_address is None),
            f"{q}.customer_address",
            vif.customer_address,
            "set together with amazon_address (or both unset)",
        )
        if vif.name is not None:
            v.require(
                bool(re.match(r"^[\w \-_,\/]{1,100}$", vif.name)),
                f"{q}.name",
                vif.name,
                "1-100 letters, digits, spaces and - _ , /",
            )


def _is_interface_cidr(value: str) -> bool:
    try:
        ipaddress.IPv4Interface(value)
    except ValueError:
        return False
    return "/" in value


def _gateway_asn(options: DirectConnectOptions) -> int:
    if options.gateway_asn is not None:
        return options.gateway_asn
    return 64513 if options.attachment == "TRANSIT_GATEWAY" else 64512


class DirectConnectLink(Construct):
    """The VPC side of Direct Connect: gateway, association and optional virtual interface.

    CloudFormation's ``AWS::DirectConnect::*`` types have no aws-cdk-lib L2, so these are L1s;
    the VPC-side gateways are L1s too because ``ec2.IVpc`` (imported VPCs) has no L2 for them.
    """

    def __init__(
        self, scope: Construct, id: str, *, vpc: ec2.IVpc, options: DirectConnectOptions
    ) -> None:
        super().__init__(scope, id)
        self.options = options
        transit = options.attachment == "TRANSIT_GATEWAY"
        selection = options.subnets or ec2.SubnetSelection(subnet_type=_private_subnet_type(vpc))

        def select(one_per_az: bool | None) -> list[ec2.ISubnet]:
            return vpc.select_subnets(
                subnet_type=selection.subnet_type,
                subnet_group_name=selection.subnet_group_name,
                subnets=selection.subnets,
                availability_zones=selection.availability_zones,
                one_per_az=one_per_az,
            ).subnets

        subnets = select(selection.one_per_az)
        # Every selected subnet's route table learns the on-premises routes; the transit gateway
        # attachment itself takes at most one subnet per AZ (EC2 API).
        attachment_subnets = select(True) if transit else subnets
        route_table_ids = sorted(
            {s.route_table.route_table_id for s in subnets}, key=lambda r: str(r)
        )

        #: The new Direct Connect gateway (None when an existing id was given).
        self.direct_connect_gateway: directconnect.CfnDirectConnectGateway | None = None
        if options.direct_connect_gateway_id is None:
            self.direct_connect_gateway = directconnect.CfnDirectConnectGateway(
                self,
                "Gateway",
                direct_connect_gateway_name=cdk.Names.unique_id(self)[-100:],
                amazon_side_asn=str(options.direct_connect_gateway_asn),
            )
            gateway_id = self.direct_connect_gateway.attr_direct_connect_gateway_id
        else:
            gateway_id = options.direct_connect_gateway_id
        #: The Direct Connect gateway id in use.
        self.direct_connect_gateway_id: str = gateway_id
        #: Resolved Amazon-side ASN of the VGW / TGW.
        self.gateway_asn = _gateway_asn(options)

        self.vpn_gateway: ec2.CfnVPNGateway | None = None
        self.transit_gateway: ec2.CfnTransitGateway | None = None
        self.transit_gateway_attachment: ec2.CfnTransitGatewayAttachment | None = None
        allowed = list(options.allowed_prefixes)
        if transit:
            self.transit_gateway = ec2.CfnTransitGateway(
                self,
                "TransitGateway",
                amazon_side_asn=self.gateway_asn,
                description="hpc-constructs DataIngest Direct Connect hub",
                auto_accept_shared_attachments="disable",
                default_route_table_association="enable",
                default_route_table_propagation="enable",
                dns_support="enable",
            )
            self.transit_gateway_attachment = ec2.CfnTransitGatewayAttachment(
                self,
                "VpcAttachment",
                transit_gateway_id=self.transit_gateway.ref,
                vpc_id=vpc.vpc_id,
                subnet_ids=[s.subnet_id for s in attachment_subnets],
            )
            for i, route_table_id in enumerate(route_table_ids):
                for j, cidr in enumerate(options.on_premises_cidrs):
                    route = ec2.CfnRoute(
                        self,
                        f"OnPremRoute{i}x{j}",
                        route_table_id=route_table_id,
                        destination_cidr_block=cidr,
                        transit_gateway_id=self.transit_gateway.ref,
                    )
                    route.add_dependency(self.transit_gateway_attachment)
            associated = self.transit_gateway.ref
            if not allowed:
                allowed = [vpc.vpc_cidr_block]
        else:
            self.vpn_gateway = ec2.CfnVPNGateway(
                self, "VpnGateway", type="ipsec.1", amazon_side_asn=self.gateway_asn
            )
            attachment = ec2.CfnVPCGatewayAttachment(
                self, "VpcAttachment", vpc_id=vpc.vpc_id, vpn_gateway_id=self.vpn_gateway.ref
            )
            propagation = ec2.CfnVPNGatewayRoutePropagation(
                self,
                "RoutePropagation",
                route_table_ids=route_table_ids,
                vpn_gateway_id=self.vpn_gateway.ref,
            )
            # The VGW must be attached to the VPC before it can propagate into its route tables.
            propagation.add_dependency(attachment)
            self.vpc_gateway_attachment = attachment
            associated = self.vpn_gateway.ref
        self.association = directconnect.CfnDirectConnectGatewayAssociation(
            self,
            "Association",
            direct_connect_gateway_id=gateway_id,
            associated_gateway_id=associated,
            allowed_prefixes_to_direct_connect_gateway=allowed or None,
        )
        if self.vpn_gateway is not None:
            # The VGW must be attached to a VPC before it can be associated.
            self.association.add_dependency(self.vpc_gateway_attachment)

        self.virtual_interface: (
            directconnect.CfnPrivateVirtualInterface
            | directconnect.CfnTransitVirtualInterface
            | None
        ) = None
        vif = options.virtual_interface
        if vif is not None:
            peer: dict[str, Any] = {
                "address_family": "ipv4",
                "asn": str(vif.customer_asn),
            }
            if vif.auth_key is not None:
                # A {{resolve:secretsmanager:...}} dynamic reference: CloudFormation reads the
                # key at deploy time, the template only names the secret.
                peer["auth_key"] = vif.auth_key.secret_value.unsafe_unwrap()
            if vif.amazon_address is not None:
                peer["amazon_address"] = vif.amazon_address
                peer["customer_address"] = vif.customer_address
            name = vif.name or cdk.Names.unique_id(self)[-100:]
            if transit:
                self.virtual_interface = directconnect.CfnTransitVirtualInterface(
                    self,
                    "VirtualInterface",
                    connection_id=vif.connection_id,
                    direct_connect_gateway_id=gateway_id,
                    vlan=vif.vlan,
                    virtual_interface_name=name,
                    mtu=vif.mtu,
                    bgp_peers=[directconnect.CfnTransitVirtualInterface.BgpPeerProperty(**peer)],
                )
            else:
                self.virtual_interface = directconnect.CfnPrivateVirtualInterface(
                    self,
                    "VirtualInterface",
                    connection_id=vif.connection_id,
                    direct_connect_gateway_id=gateway_id,
                    vlan=vif.vlan,
                    virtual_interface_name=name,
                    mtu=vif.mtu,
                    bgp_peers=[directconnect.CfnPrivateVirtualInterface.BgpPeerProperty(**peer)],
                )
