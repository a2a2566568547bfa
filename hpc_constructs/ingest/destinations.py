"""DataSync destinations: the landing bucket, FSx for Lustre and EFS locations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import aws_cdk as cdk
from aws_cdk import aws_datasync as datasync
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from constructs import Construct

from hpc_constructs.errors import Validator
from hpc_constructs.ingest import _rules as rules
from hpc_constructs.ingest._facts import DATASYNC_S3_OBJECT_ACTIONS, S3_STORAGE_CLASSES
from hpc_constructs.ingest._iam import private_subnet_type, s3_location_role, security_group_arn
from hpc_constructs.mounts import LustreFileSystemLike, allow_lustre_clients

if TYPE_CHECKING:
    from hpc_constructs.ingest.construct import DataIngest


class DataSyncDestination:
    """Where a DataSync task writes. Build one with the classmethods.

    Each kind is a dataclass whose fields are the classmethod's props, so
    :meth:`DataIngest.add_task` checks their Python types as ``destination.<prop>``
    (``errors.check_prop_types``).
    """

    kind: str = ""
    #: The S3 storage class written to (None for file systems).
    storage_class: str | None = None

    def _validate(self, v: Validator, prop: str, ingest: DataIngest) -> None:
        raise NotImplementedError

    def _location_arn(self, scope: Construct, ingest: DataIngest) -> str:
        raise NotImplementedError

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


@dataclass(frozen=True, eq=False)
class _LandingBucketDestination(DataSyncDestination):
    kind = "S3"

    prefix: str
    storage_class: str = "STANDARD"

    def _validate(self, v: Validator, prop: str, ingest: DataIngest) -> None:
        rules.check_s3_prefix(v, f"{prop}.prefix", self.prefix)
        v.one_of(f"{prop}.storage_class", self.storage_class, S3_STORAGE_CLASSES)

    def _location_arn(self, scope: Construct, ingest: DataIngest) -> str:
        bucket = ingest.landing_bucket
        role, policy = s3_location_role(
            scope, "BucketAccessRole", bucket, self.prefix, DATASYNC_S3_OBJECT_ACTIONS
        )
        location = datasync.CfnLocationS3(
            scope,
            "DestinationLocation",
            s3_bucket_arn=bucket.bucket_arn,
            s3_config=datasync.CfnLocationS3.S3ConfigProperty(bucket_access_role_arn=role.role_arn),
            s3_storage_class=self.storage_class,
            subdirectory=self.prefix or None,
        )
        location.node.add_dependency(policy)
        return location.attr_location_arn


@dataclass(frozen=True, eq=False)
class _LustreDestination(DataSyncDestination):
    kind = "FSX_LUSTRE"

    file_system: LustreFileSystemLike
    subdirectory: str

    def _validate(self, v: Validator, prop: str, ingest: DataIngest) -> None:
        rules.check_path(v, f"{prop}.subdirectory", self.subdirectory)
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
                security_group_arn(stack, sg) for sg in fs.connections.security_groups
            ],
            subdirectory=self.subdirectory,
        )
        return location.attr_location_arn


@dataclass(frozen=True, eq=False)
class _EfsDestination(DataSyncDestination):
    kind = "EFS"

    file_system: efs.IFileSystem
    subdirectory: str
    subnet: ec2.ISubnet | None
    in_transit_encryption: bool

    def _validate(self, v: Validator, prop: str, ingest: DataIngest) -> None:
        rules.check_path(v, f"{prop}.subdirectory", self.subdirectory)
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
        subnet = self.subnet or vpc.select_subnets(subnet_type=private_subnet_type(vpc)).subnets[0]
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
                security_group_arns=[security_group_arn(stack, security_group)],
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
