"""DataSync sources: NFS, SMB, HDFS, self-managed object storage and S3 locations."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_cdk import aws_datasync as datasync
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from hpc_constructs.errors import Validator, is_token
from hpc_constructs.ingest import _rules as rules
from hpc_constructs.ingest._facts import (
    DATASYNC_S3_OBJECT_READ_ACTIONS,
    NFS_VERSIONS,
    OBJECT_STORAGE_PROTOCOLS,
    SMB_VERSIONS,
)
from hpc_constructs.ingest._iam import s3_location_role, secret_access
from hpc_constructs.ingest.options import HdfsNameNode

if TYPE_CHECKING:
    from hpc_constructs.ingest.construct import DataIngest


def _seq(values: Sequence[Any]) -> Sequence[Any]:
    """A tuple of ``values``; a lone string stays a string so validation can name it."""
    return values if isinstance(values, str) else tuple(values)


class DataSyncSource:
    """Where a DataSync task reads from. Build one with the classmethods.

    Self-managed storage (NFS, SMB, HDFS, object storage) is reached through DataSync agents
    you deploy and activate outside CloudFormation; pass their ARNs.

    Each kind is a dataclass whose fields are the classmethod's props, so
    :meth:`DataIngest.add_task` checks their Python types as ``source.<prop>``
    (``errors.check_prop_types``).
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
        return _NfsSource(server_hostname, export_path, _seq(agent_arns), nfs_version)

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
            server_hostname, share_path, _seq(agent_arns), user, password, domain, smb_version
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
        return _HdfsSource(_seq(name_nodes), _seq(agent_arns), simple_user, subdirectory)

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
            _seq(agent_arns),
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


@dataclass(frozen=True, eq=False)
class _NfsSource(DataSyncSource):
    kind = "NFS"

    server_hostname: str
    export_path: str
    agent_arns: Sequence[str]
    nfs_version: str

    def _validate(self, v: Validator, prop: str) -> None:
        rules.check_hostname(v, f"{prop}.server_hostname", self.server_hostname)
        rules.check_path(v, f"{prop}.export_path", self.export_path)
        rules.check_agents(v, f"{prop}.agent_arns", self.agent_arns)
        v.one_of(f"{prop}.nfs_version", self.nfs_version, NFS_VERSIONS)

    def _location_arn(self, scope: Construct, ingest: DataIngest) -> str:
        location = datasync.CfnLocationNFS(
            scope,
            "SourceLocation",
            on_prem_config=datasync.CfnLocationNFS.OnPremConfigProperty(
                agent_arns=list(self.agent_arns)
            ),
            server_hostname=self.server_hostname,
            subdirectory=self.export_path,
            mount_options=datasync.CfnLocationNFS.MountOptionsProperty(version=self.nfs_version),
        )
        return location.attr_location_arn


@dataclass(frozen=True, eq=False)
class _SmbSource(DataSyncSource):
    kind = "SMB"

    server_hostname: str
    share_path: str
    agent_arns: Sequence[str]
    user: str
    password: secretsmanager.ISecret
    domain: str | None
    smb_version: str

    def _validate(self, v: Validator, prop: str) -> None:
        rules.check_hostname(v, f"{prop}.server_hostname", self.server_hostname)
        rules.check_path(v, f"{prop}.share_path", self.share_path)
        rules.check_agents(v, f"{prop}.agent_arns", self.agent_arns)
        v.one_of(f"{prop}.smb_version", self.smb_version, SMB_VERSIONS)
        v.require(
            is_token(self.user) or bool(re.match(r"^[^\x5B\x5D\\/:;|=,+*?]{1,104}$", self.user)),
            f"{prop}.user",
            self.user,
            "1-104 characters, none of [ ] \\ / : ; | = , + * ?",
        )

    def _location_arn(self, scope: Construct, ingest: DataIngest) -> str:
        secret_config, secret_policy = secret_access(scope, self.password)
        location = datasync.CfnLocationSMB(
            scope,
            "SourceLocation",
            agent_arns=list(self.agent_arns),
            authentication_type="NTLM",
            server_hostname=self.server_hostname,
            subdirectory=self.share_path,
            user=self.user,
            domain=self.domain,
            custom_secret_config=secret_config,
            mount_options=datasync.CfnLocationSMB.MountOptionsProperty(version=self.smb_version),
        )
        location.node.add_dependency(secret_policy)
        return location.attr_location_arn


@dataclass(frozen=True, eq=False)
class _HdfsSource(DataSyncSource):
    kind = "HDFS"

    name_nodes: Sequence[HdfsNameNode]
    agent_arns: Sequence[str]
    simple_user: str
    subdirectory: str

    def _validate(self, v: Validator, prop: str) -> None:
        v.require(len(self.name_nodes) >= 1, f"{prop}.name_nodes", [], "at least one HdfsNameNode")
        for node in self.name_nodes:
            rules.check_hostname(v, f"{prop}.name_nodes.hostname", node.hostname)
            v.in_range(f"{prop}.name_nodes.port", node.port, 1, 65535)
        rules.check_agents(v, f"{prop}.agent_arns", self.agent_arns)
        rules.check_path(v, f"{prop}.subdirectory", self.subdirectory)
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
            agent_arns=list(self.agent_arns),
            authentication_type="SIMPLE",
            simple_user=self.simple_user,
            name_nodes=[
                datasync.CfnLocationHDFS.NameNodeProperty(hostname=n.hostname, port=n.port)
                for n in self.name_nodes
            ],
            subdirectory=self.subdirectory,
        )
        return location.attr_location_arn


@dataclass(frozen=True, eq=False)
class _ObjectStorageSource(DataSyncSource):
    kind = "OBJECT_STORAGE"

    server_hostname: str
    bucket_name: str
    agent_arns: Sequence[str]
    access_key: str
    secret_key: secretsmanager.ISecret
    server_port: int
    server_protocol: str
    subdirectory: str

    def _validate(self, v: Validator, prop: str) -> None:
        rules.check_hostname(v, f"{prop}.server_hostname", self.server_hostname)
        v.require(
            is_token(self.bucket_name) or 3 <= len(self.bucket_name) <= 63,
            f"{prop}.bucket_name",
            self.bucket_name,
            "a bucket name of 3-63 characters",
        )
        rules.check_agents(v, f"{prop}.agent_arns", self.agent_arns)
        v.require(
            is_token(self.access_key) or 1 <= len(self.access_key) <= 200,
            f"{prop}.access_key",
            self.access_key,
            "1-200 characters",
        )
        v.in_range(f"{prop}.server_port", self.server_port, 1, 65535)
        v.one_of(f"{prop}.server_protocol", self.server_protocol, OBJECT_STORAGE_PROTOCOLS)
        rules.check_path(v, f"{prop}.subdirectory", self.subdirectory)

    def _location_arn(self, scope: Construct, ingest: DataIngest) -> str:
        secret_config, secret_policy = secret_access(scope, self.secret_key)
        location = datasync.CfnLocationObjectStorage(
            scope,
            "SourceLocation",
            agent_arns=list(self.agent_arns),
            server_hostname=self.server_hostname,
            bucket_name=self.bucket_name,
            access_key=self.access_key,
            custom_secret_config=secret_config,
            server_port=self.server_port,
            server_protocol=self.server_protocol,
            subdirectory=self.subdirectory,
        )
        location.node.add_dependency(secret_policy)
        return location.attr_location_arn


@dataclass(frozen=True, eq=False)
class _S3Source(DataSyncSource):
    kind = "S3"

    bucket: s3.IBucket
    prefix: str

    def _validate(self, v: Validator, prop: str) -> None:
        rules.check_s3_prefix(v, f"{prop}.prefix", self.prefix)

    def _location_arn(self, scope: Construct, ingest: DataIngest) -> str:
        role, policy = s3_location_role(
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
