"""FSx for Lustre for HPC: scratch or persistent, linked to S3, sized by throughput.

``LustreScratch`` wraps aws-cdk-lib's ``fsx.LustreFileSystem`` and checks every documented
FSx limit at construction; ``LustreScratch.from_attributes`` imports one created elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import aws_cdk as cdk
import jsii
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_fsx as fsx
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct, IConstruct

from hpc_constructs import limits
from hpc_constructs.compute import select_subnets
from hpc_constructs.errors import Validator, is_token, warn
from hpc_constructs.mounts import LUSTRE_PORTS, allow_lustre_clients, lustre_mount_commands

ALL_EVENTS: tuple[str, ...] = limits.LUSTRE_DRA_EVENTS
#: Role FSx uses for data repository associations (one per file system, created by FSx).
FSX_S3_SERVICE_LINKED_ROLE_PATH = "role/aws-service-role/s3.data-source.lustre.fsx.amazonaws.com/"
_WEEKLY = re.compile(r"^([1-7]):([01]\d|2[0-3]):([0-5]\d)$")
_DAILY = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_DEFAULT_PERSISTENT_BACKUP_DAYS = 7


@dataclass(frozen=True)
class DataRepository:
    """An S3 bucket (or prefix) linked to a file-system directory by a data repository association.

    :param bucket: the bucket to link.
    :param file_system_path: directory in the file system, starting with ``/`` (``/`` alone
        links the whole file system and then allows no other repository).
    :param prefix: key prefix in the bucket. Default: - the whole bucket.
    :param import_events: S3 changes imported automatically, a subset of NEW, CHANGED, DELETED.
        Default: - all three.
    :param export_events: file-system changes exported to S3 automatically, a subset of NEW,
        CHANGED, DELETED. Default: - all three, so results reach S3 without a manual task.
    :param batch_import_metadata_on_create: import the bucket's metadata when the association is
        created. Default: - True.
    :param imported_file_chunk_size_mib: stripe size for imported files, 1 to 512,000 MiB.
        Default: - FSx's default (1,024 MiB).
    """

    bucket: s3.IBucket
    file_system_path: str
    prefix: str = ""
    import_events: Sequence[str] = ALL_EVENTS
    export_events: Sequence[str] = ALL_EVENTS
    batch_import_metadata_on_create: bool = True
    imported_file_chunk_size_mib: int | None = None

    @property
    def data_repository_path(self) -> str:
        """``s3://bucket`` or ``s3://bucket/prefix/`` as FSx expects it."""
        prefix = self.prefix.strip("/")
        base = f"s3://{self.bucket.bucket_name}"
        return f"{base}/{prefix}/" if prefix else base


@dataclass(frozen=True)
class LustreMetadataConfiguration:
    """Metadata server performance of a PERSISTENT_2 file system.

    Use :meth:`automatic` (FSx scales IOPS with storage, can be switched to user-provisioned
    later) or :meth:`user_provisioned` with IOPS from ``limits.LUSTRE_METADATA_IOPS_*``.
    """

    mode: str
    iops: int | None = None

    @classmethod
    def automatic(cls) -> LustreMetadataConfiguration:
        return cls("AUTOMATIC")

    @classmethod
    def user_provisioned(cls, iops: int) -> LustreMetadataConfiguration:
        return cls("USER_PROVISIONED", iops)


@dataclass(frozen=True)
class LustreReadCache:
    """SSD read cache of an Intelligent-Tiering file system (DataReadCacheConfiguration)."""

    sizing_mode: str = "PROPORTIONAL_TO_THROUGHPUT_CAPACITY"
    size_gib: int | None = None

    @classmethod
    def proportional_to_throughput(cls) -> LustreReadCache:
        return cls("PROPORTIONAL_TO_THROUGHPUT_CAPACITY")

    @classmethod
    def user_provisioned(cls, size_gib: int) -> LustreReadCache:
        return cls("USER_PROVISIONED", size_gib)

    @classmethod
    def no_cache(cls) -> LustreReadCache:
        return cls("NO_CACHE")


class _LustreConnections(ec2.Connections):
    """Connections whose default-port helpers open exactly TCP 988 and 1018-1023.

    ``default_port`` is TCP 988 (the LNET port clients connect to): a single ``ec2.Port`` cannot
    hold 988 plus 1018-1023, and the CDK's 988-1023 range would open 989-1017 too.
    """

    def __init__(self, security_group: ec2.ISecurityGroup) -> None:
        super().__init__(security_groups=[security_group], default_port=LUSTRE_PORTS[0])

    def allow_default_port_from(
        self, other: ec2.IConnectable, description: str | None = None
    ) -> None:
        for port in LUSTRE_PORTS:
            self.allow_from(other, port, description or "Lustre client traffic")

    def allow_default_port_internally(self, description: str | None = None) -> None:
        for port in LUSTRE_PORTS:
            self.allow_internally(port, description or "Lustre traffic within the file system")


class LustreScratchBase(Construct):
    """What every Lustre file system of this library offers: the ``LustreFileSystemLike``
    protocol (``file_system_id``, ``dns_name``, ``mount_name``, ``connections``) plus helpers."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)

    @property
    def file_system_id(self) -> str:
        raise NotImplementedError

    @property
    def dns_name(self) -> str:
        raise NotImplementedError

    @property
    def mount_name(self) -> str:
        raise NotImplementedError

    @property
    def connections(self) -> ec2.Connections:
        raise NotImplementedError

    def allow_clients(self, clients: ec2.IConnectable) -> None:
        """Open TCP 988 and 1018-1023 from ``clients`` (and nothing wider)."""
        allow_lustre_clients(self, clients)

    def mount_commands(self, mount_point: str) -> list[str]:
        """Shell lines (Amazon Linux 2023) that install the client and mount at ``mount_point``."""
        return lustre_mount_commands(self, mount_point)


class _ImportedLustre(LustreScratchBase):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        file_system_id: str,
        dns_name: str,
        mount_name: str,
        security_group: ec2.ISecurityGroup,
    ) -> None:
        super().__init__(scope, id)
        self._file_system_id = file_system_id
        self._dns_name = dns_name
        self._mount_name = mount_name
        self.security_group = security_group
        self._connections = _LustreConnections(security_group)

    @property
    def file_system_id(self) -> str:
        return self._file_system_id

    @property
    def dns_name(self) -> str:
        return self._dns_name

    @property
    def mount_name(self) -> str:
        return self._mount_name

    @property
    def connections(self) -> ec2.Connections:
        return self._connections


@jsii.implements(cdk.IAspect)
class _DependOnIngressRules:
    """Make the file system wait for every ingress rule of its security group.

    FSx checks the group's rules while it creates the file system; rules that are separate
    ``AWS::EC2::SecurityGroupIngress`` resources are otherwise created in parallel (a known race
    that fails the create). Runs as an aspect so rules added after construction count too.
    """

    def __init__(self, owner: LustreScratch) -> None:
        self._owner = owner

    def visit(self, node: IConstruct) -> None:
        if node is not self._owner:
            return
        stack = cdk.Stack.of(self._owner)
        for child in self._owner.security_group.node.find_all():
            if isinstance(child, ec2.CfnSecurityGroupIngress) and cdk.Stack.of(child) is stack:
                self._owner.cfn_file_system.node.add_dependency(child)


class LustreScratch(LustreScratchBase):
    """FSx for Lustre file system in one subnet, optionally linked to S3 buckets.

    Every documented FSx limit (capacity steps, per-unit throughput, storage types, metadata
    IOPS, EFA, backups, data repository associations) is checked at construction; all problems
    are raised together as ``HpcValidationError``.

    :param vpc: VPC of the file system.
    :param vpc_subnets: must select exactly one subnet (Lustre lives in one subnet), e.g.
        ``NetworkFabric``'s compute subnet selection.
    :param deployment_type: Default: - ``SCRATCH_2``.
    :param storage_capacity_gib: provisioned storage. Default: - 1200 GiB, or the smallest valid
        capacity reaching ``target_throughput_mbps`` when that is given (giving both is an
        error); not set for ``INTELLIGENT_TIERING`` (elastic storage).
    :param target_throughput_mbps: baseline MB/s the file system must deliver; sizes
        ``storage_capacity_gib`` with :meth:`capacity_for_throughput`. Default: - not used.
    :param per_unit_storage_throughput: MB/s/TiB, required for PERSISTENT_1 (SSD 50/100/200,
        HDD 12/40) and PERSISTENT_2 SSD (125/250/500/1000). Default: - none (SCRATCH).
    :param storage_type: Default: - ``SSD``. HDD needs PERSISTENT_1; INTELLIGENT_TIERING needs
        PERSISTENT_2 and ``throughput_capacity_mbps``.
    :param drive_cache_type: PERSISTENT_1 HDD only. Default: - ``NONE`` for HDD, unset otherwise.
    :param throughput_capacity_mbps: INTELLIGENT_TIERING only: 4000 or a multiple of 4000 up to
        2,000,000. Default: - none.
    :param read_cache: INTELLIGENT_TIERING only. Default: - proportional to throughput capacity.
    :param data_compression: Default: - ``LZ4``.
    :param file_system_type_version: Default: - Lustre 2.15.
    :param security_group: bring your own group; rules for TCP 988 and 1018-1023 from itself
        are added to it. Default: - a new group allowing exactly those ports from itself.
    :param kms_key: encryption key, persistent file systems only (scratch uses FSx-managed
        keys). Default: - the AWS managed key for FSx.
    :param automatic_backup_retention: days, 0 to 90; persistent file systems without data
        repositories only. Default: - 7 days for those, unset (no backups) otherwise.
    :param daily_automatic_backup_start_time: ``HH:MM`` UTC; needs a non-zero retention.
        Default: - chosen by FSx.
    :param weekly_maintenance_start_time: ``d:HH:MM`` UTC, d = 1 (Monday) to 7 (Sunday).
        Default: - chosen by FSx.
    :param metadata_configuration: PERSISTENT_2 only. Default: - ``AUTOMATIC`` on SSD (can be
        switched to user-provisioned later), ``user_provisioned(6000)`` on INTELLIGENT_TIERING
        (which has no automatic mode).
    :param efa_enabled: EFA and GPUDirect Storage; PERSISTENT_2 only, adds an all-traffic
        self-ingress rule to the security group as FSx requires. Default: - False.
    :param data_repositories: up to 8 S3 links (not on SCRATCH_1 or INTELLIGENT_TIERING, not
        with backups). Default: - none.
    :param removal_policy: ``RETAIN`` or ``DESTROY`` (FSx has no snapshot deletion policy).
        Default: - ``RETAIN`` for every deployment type (see docs/lustre.md).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        vpc_subnets: ec2.SubnetSelection,
        deployment_type: fsx.LustreDeploymentType = fsx.LustreDeploymentType.SCRATCH_2,
        storage_capacity_gib: int | None = None,
        target_throughput_mbps: float | None = None,
        per_unit_storage_throughput: int | None = None,
        storage_type: fsx.StorageType | None = None,
        drive_cache_type: fsx.DriveCacheType | None = None,
        throughput_capacity_mbps: int | None = None,
        read_cache: LustreReadCache | None = None,
        data_compression: fsx.LustreDataCompressionType = fsx.LustreDataCompressionType.LZ4,
        file_system_type_version: fsx.FileSystemTypeVersion = fsx.FileSystemTypeVersion.V_2_15,
        security_group: ec2.ISecurityGroup | None = None,
        kms_key: kms.IKey | None = None,
        automatic_backup_retention: int | None = None,
        daily_automatic_backup_start_time: str | None = None,
        weekly_maintenance_start_time: str | None = None,
        metadata_configuration: LustreMetadataConfiguration | None = None,
        efa_enabled: bool = False,
        data_repositories: Sequence[DataRepository] = (),
        removal_policy: cdk.RemovalPolicy | None = None,
    ) -> None:
        super().__init__(scope, id)
        deployment = deployment_type.value
        storage = (storage_type or fsx.StorageType.SSD).value
        persistent = deployment.startswith("PERSISTENT")
        tiering = storage == "INTELLIGENT_TIERING"
        repos = tuple(data_repositories)
        v = Validator(self)

        # --- sizing ---------------------------------------------------------------------------
        if storage_capacity_gib is not None and target_throughput_mbps is not None:
            v.add(
                "target_throughput_mbps",
                target_throughput_mbps,
                "unset when storage_capacity_gib is given",
                f"storage_capacity_gib={storage_capacity_gib} is given too; give one of them",
            )
        if tiering and storage_capacity_gib is not None:
            v.add(
                "storage_capacity_gib",
                storage_capacity_gib,
                "unset for INTELLIGENT_TIERING (storage is elastic)",
            )
        capacity = storage_capacity_gib
        problems = limits.lustre_problems(
            deployment_type=deployment,
            storage_type=storage,
            storage_capacity_gib=None if is_token(capacity) else capacity,
            per_unit_storage_throughput=per_unit_storage_throughput,
            drive_cache_type=drive_cache_type.value if drive_cache_type else None,
        )
        names = {
            "DeploymentType": "deployment_type",
            "StorageType": "storage_type",
            "StorageCapacity": "storage_capacity_gib",
            "PerUnitStorageThroughput": "per_unit_storage_throughput",
            "DriveCacheType": "drive_cache_type",
        }
        for prop, value, allowed in problems:
            v.add(names.get(prop, prop), value, allowed)
        sizing_ok = not problems
        if target_throughput_mbps is not None and capacity is None and not tiering:
            if not v.require(
                target_throughput_mbps > 0,
                "target_throughput_mbps",
                target_throughput_mbps,
                "a positive number of MB/s",
            ):
                sizing_ok = False
            elif sizing_ok:
                capacity = limits.lustre_capacity_for_throughput(
                    target_throughput_mbps, deployment, storage, per_unit_storage_throughput
                )
        if capacity is None and not tiering:
            capacity = 1200

        # --- Intelligent-Tiering ---------------------------------------------------------------
        if tiering:
            step = limits.LUSTRE_IT_THROUGHPUT_STEP_MBPS
            top = limits.LUSTRE_IT_MAX_THROUGHPUT_MBPS
            v.require(
                throughput_capacity_mbps is not None
                and 0 < throughput_capacity_mbps <= top
                and throughput_capacity_mbps % step == 0,
                "throughput_capacity_mbps",
                throughput_capacity_mbps,
                f"{step} or a multiple of {step} MBps up to {top:,} for INTELLIGENT_TIERING",
            )
            if read_cache is not None:
                self._validate_read_cache(v, read_cache)
        else:
            if throughput_capacity_mbps is not None:
                v.add(
                    "throughput_capacity_mbps",
                    throughput_capacity_mbps,
                    "unset unless storage_type is INTELLIGENT_TIERING",
                )
            if read_cache is not None:
                v.add("read_cache", read_cache, "unset unless storage_type is INTELLIGENT_TIERING")

        # --- version, metadata, EFA ------------------------------------------------------------
        # jsii enum members carry their names (V_2_15), not the CloudFormation value.
        version = file_system_type_version.name.removeprefix("V_").replace("_", ".")
        metadata = metadata_configuration
        if deployment == "PERSISTENT_2":
            if metadata is None:
                metadata = (
                    LustreMetadataConfiguration.user_provisioned(6000)
                    if tiering
                    else LustreMetadataConfiguration.automatic()
                )
            self._validate_metadata(v, metadata, tiering)
            if version != "2.15":
                v.add(
                    "file_system_type_version",
                    version,
                    "2.15 for PERSISTENT_2 with a metadata configuration",
                )
        elif metadata is not None:
            v.add("metadata_configuration", metadata.mode, "unset unless PERSISTENT_2")
        if efa_enabled and deployment != "PERSISTENT_2":
            v.add("efa_enabled", efa_enabled, f"False for {deployment} (EFA needs PERSISTENT_2)")

        # --- encryption, backups, maintenance, removal ----------------------------------------
        if kms_key is not None and not persistent:
            v.add(
                "kms_key",
                kms_key.node.path,
                f"unset for {deployment} (scratch file systems use FSx-managed keys)",
            )
        backups = automatic_backup_retention
        if backups is None and persistent and not repos:
            backups = _DEFAULT_PERSISTENT_BACKUP_DAYS
        if automatic_backup_retention is not None:
            low, high = limits.LUSTRE_BACKUP_RETENTION_DAYS
            v.in_range("automatic_backup_retention", automatic_backup_retention, low, high, "days")
            if automatic_backup_retention > 0 and not persistent:
                v.add(
                    "automatic_backup_retention",
                    automatic_backup_retention,
                    f"0 or unset for {deployment} (scratch file systems have no backups)",
                )
            if automatic_backup_retention > 0 and repos:
                v.add(
                    "automatic_backup_retention",
                    automatic_backup_retention,
                    "0 or unset when data_repositories are given (FSx does not back up "
                    "S3-linked file systems)",
                )
        if daily_automatic_backup_start_time is not None:
            v.require(
                bool(_DAILY.match(daily_automatic_backup_start_time)),
                "daily_automatic_backup_start_time",
                daily_automatic_backup_start_time,
                "HH:MM in UTC, e.g. '03:00'",
            )
            v.require(
                bool(backups),
                "daily_automatic_backup_start_time",
                daily_automatic_backup_start_time,
                "unset when automatic backups are off (retention 0 or not allowed)",
            )
        if weekly_maintenance_start_time is not None:
            v.require(
                bool(_WEEKLY.match(weekly_maintenance_start_time)),
                "weekly_maintenance_start_time",
                weekly_maintenance_start_time,
                "d:HH:MM in UTC with d = 1 (Monday) to 7 (Sunday), e.g. '7:02:00'",
            )
        if removal_policy is not None and removal_policy not in (
            cdk.RemovalPolicy.RETAIN,
            cdk.RemovalPolicy.DESTROY,
        ):
            v.add(
                "removal_policy",
                str(removal_policy),
                "RETAIN or DESTROY (AWS::FSx::FileSystem has no Snapshot deletion policy)",
            )

        # --- network and data repositories ----------------------------------------------------
        subnets = select_subnets(vpc, vpc_subnets).subnets
        v.require(
            len(subnets) == 1,
            "vpc_subnets",
            f"{len(subnets)} subnets",
            "a selection resolving to exactly one subnet (FSx for Lustre lives in one subnet)",
        )
        self._validate_repositories(v, repos, deployment, version, storage)
        v.raise_if_any()

        # --- resolved values ------------------------------------------------------------------
        self.deployment_type = deployment_type
        self.storage_type = storage_type or fsx.StorageType.SSD
        self.storage_capacity_gib: int | None = capacity
        self.per_unit_storage_throughput = per_unit_storage_throughput
        self.metadata_configuration = metadata
        self.automatic_backup_retention = backups or 0
        self.efa_enabled = efa_enabled
        self.removal_policy = removal_policy or cdk.RemovalPolicy.RETAIN
        self.throughput_mbps: int | None = self._baseline(
            deployment, capacity, per_unit_storage_throughput, throughput_capacity_mbps
        )

        # --- security group: exactly TCP 988 and 1018-1023 from itself -------------------------
        self.security_group: ec2.ISecurityGroup = security_group or ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description="FSx for Lustre: TCP 988 and 1018-1023 from itself and its clients",
            # FSx initiates LNET connections back to clients (TCP 988 on the client); the CDK
            # L2's default is allow-all egress too, and no user code runs on FSx's interfaces.
            allow_all_outbound=True,
        )
        for port in LUSTRE_PORTS:
            self.security_group.add_ingress_rule(
                self.security_group, port, "Lustre traffic within the file system"
            )
        if efa_enabled:
            # FSx rejects an EFA-enabled create unless the group allows all traffic to and
            # from itself (FSx Lustre guide, "cannot-create-fs").
            self.security_group.add_ingress_rule(
                self.security_group, ec2.Port.all_traffic(), "EFA traffic within the file system"
            )
            if not self.security_group.allow_all_outbound:
                self.security_group.add_egress_rule(
                    self.security_group,
                    ec2.Port.all_traffic(),
                    "EFA traffic within the file system",
                )
        self._connections = _LustreConnections(self.security_group)

        # --- the file system (L2) ---------------------------------------------------------------
        daily = None
        if daily_automatic_backup_start_time is not None:
            hour, minute = daily_automatic_backup_start_time.split(":")
            daily = fsx.DailyAutomaticBackupStartTime(hour=int(hour), minute=int(minute))
        weekly = None
        if weekly_maintenance_start_time is not None:
            day, hour, minute = weekly_maintenance_start_time.split(":")
            weekly = fsx.LustreMaintenanceTime(
                day=list(fsx.Weekday)[int(day) - 1], hour=int(hour), minute=int(minute)
            )
        self.file_system = fsx.LustreFileSystem(
            self,
            "FileSystem",
            vpc=vpc,
            vpc_subnet=subnets[0],
            # The L2 needs a number; for Intelligent-Tiering it is removed below.
            storage_capacity_gib=capacity if capacity is not None else 1200,
            storage_type=storage_type,
            file_system_type_version=file_system_type_version,
            security_group=self.security_group,
            kms_key=kms_key,
            removal_policy=self.removal_policy,
            lustre_configuration=fsx.LustreConfiguration(
                deployment_type=deployment_type,
                per_unit_storage_throughput=per_unit_storage_throughput,
                data_compression_type=data_compression,
                drive_cache_type=drive_cache_type,
                automatic_backup_retention=(
                    cdk.Duration.days(backups) if backups is not None else None
                ),
                daily_automatic_backup_start_time=daily,
                weekly_maintenance_start_time=weekly,
            ),
        )
        self._remove_wide_l2_rule()
        self.cfn_file_system = cast(fsx.CfnFileSystem, self.file_system.node.default_child)
        # L1 escape hatch: the L2 (aws-cdk-lib 2.275) has no props for metadata configuration,
        # EFA, Intelligent-Tiering throughput capacity or its read cache.
        cfn = self.cfn_file_system
        if metadata is not None:
            cfn.add_property_override(
                "LustreConfiguration.MetadataConfiguration",
                {"Mode": metadata.mode, **({"Iops": metadata.iops} if metadata.iops else {})},
            )
        if efa_enabled:
            cfn.add_property_override("LustreConfiguration.EfaEnabled", True)
        if tiering:
            cache = read_cache or LustreReadCache.proportional_to_throughput()
            cfn.add_property_deletion_override("StorageCapacity")
            cfn.add_property_override(
                "LustreConfiguration.ThroughputCapacity", throughput_capacity_mbps
            )
            cfn.add_property_override(
                "LustreConfiguration.DataReadCacheConfiguration",
                {
                    "SizingMode": cache.sizing_mode,
                    **({"SizeGiB": cache.size_gib} if cache.size_gib is not None else {}),
                },
            )
        cdk.Aspects.of(self).add(_DependOnIngressRules(self))

        # --- data repository associations (L1: the L2 only knows the legacy import path) -------
        self.data_repository_associations: list[fsx.CfnDataRepositoryAssociation] = []
        used_ids: set[str] = set()
        granted: set[tuple[str, str]] = set()
        for repo in repos:
            dra_id = "DataRepository" + _pascal(repo.file_system_path)
            while dra_id in used_ids:
                dra_id += "X"
            used_ids.add(dra_id)
            s3_config = fsx.CfnDataRepositoryAssociation.S3Property(
                auto_import_policy=(
                    fsx.CfnDataRepositoryAssociation.AutoImportPolicyProperty(
                        events=list(repo.import_events)
                    )
                    if repo.import_events
                    else None
                ),
                auto_export_policy=(
                    fsx.CfnDataRepositoryAssociation.AutoExportPolicyProperty(
                        events=list(repo.export_events)
                    )
                    if repo.export_events
                    else None
                ),
            )
            dra = fsx.CfnDataRepositoryAssociation(
                self,
                dra_id,
                file_system_id=self.file_system.file_system_id,
                file_system_path=repo.file_system_path,
                data_repository_path=repo.data_repository_path,
                batch_import_meta_data_on_create=repo.batch_import_metadata_on_create,
                imported_file_chunk_size=repo.imported_file_chunk_size_mib,
                s3=s3_config,
            )
            dra.apply_removal_policy(self.removal_policy)
            self.data_repository_associations.append(dra)
            key = repo.bucket.encryption_key
            if key is not None and (key.node.path, repo.bucket.node.path) not in granted:
                granted.add((key.node.path, repo.bucket.node.path))
                self._grant_key_to_fsx(key, repo.bucket)

        # --- warnings ---------------------------------------------------------------------------
        exporting = any({"NEW", "CHANGED"} & set(r.export_events) for r in repos)
        if not persistent and not exporting:
            warn(
                self,
                "scratchWithoutExport",
                f"{deployment} file system has no data repository exporting to S3: its data is "
                "not replicated and is lost when the file system is deleted, replaced or a "
                "storage server fails. Add a DataRepository with export_events, or run an "
                "EXPORT_TO_REPOSITORY data repository task before deleting it.",
            )
        if persistent and not repos and not backups:
            warn(
                self,
                "persistentWithoutBackup",
                "persistent file system with automatic backups disabled and no S3 link: a "
                "deleted or corrupted file system cannot be restored.",
            )

    # --- public API ------------------------------------------------------------------------------

    @property
    def file_system_id(self) -> str:
        return self.file_system.file_system_id

    @property
    def dns_name(self) -> str:
        return self.file_system.dns_name

    @property
    def mount_name(self) -> str:
        return self.file_system.mount_name

    @property
    def connections(self) -> ec2.Connections:
        return self._connections

    @staticmethod
    def capacity_for_throughput(
        target_mbps: float,
        deployment_type: fsx.LustreDeploymentType = fsx.LustreDeploymentType.SCRATCH_2,
        per_unit_storage_throughput: int | None = None,
        storage_type: fsx.StorageType = fsx.StorageType.SSD,
    ) -> int:
        """Smallest valid storage capacity (GiB) with at least ``target_mbps`` baseline MB/s.

        Baseline MB/s = capacity (TiB) x per-unit throughput (MB/s/TiB); SCRATCH file systems
        have a 200 MB/s/TiB baseline (FSx for Lustre User Guide, "Performance"). Raises
        ``HpcValidationError`` for an invalid type/throughput combination.
        """
        v = Validator("LustreScratch.capacity_for_throughput")
        v.require(target_mbps > 0, "target_mbps", target_mbps, "a positive number of MB/s")
        for prop, value, allowed in limits.lustre_problems(
            deployment_type=deployment_type.value,
            storage_type=storage_type.value,
            storage_capacity_gib=None,
            per_unit_storage_throughput=per_unit_storage_throughput,
        ):
            v.add(prop, value, allowed)
        if storage_type == fsx.StorageType.INTELLIGENT_TIERING:
            v.add(
                "storage_type",
                storage_type.value,
                "SSD or HDD (Intelligent-Tiering is "
                "sized by throughput_capacity_mbps, not capacity)",
            )
        v.raise_if_any()
        return limits.lustre_capacity_for_throughput(
            target_mbps, deployment_type.value, storage_type.value, per_unit_storage_throughput
        )

    @staticmethod
    def from_attributes(
        scope: Construct,
        id: str,
        *,
        file_system_id: str,
        dns_name: str,
        mount_name: str,
        security_group: ec2.ISecurityGroup,
    ) -> LustreScratchBase:
        """A Lustre file system created elsewhere, usable wherever ``LustreFileSystemLike`` is."""
        return _ImportedLustre(
            scope,
            id,
            file_system_id=file_system_id,
            dns_name=dns_name,
            mount_name=mount_name,
            security_group=security_group,
        )

    # --- helpers ---------------------------------------------------------------------------------

    @staticmethod
    def _baseline(
        deployment: str,
        capacity: int | None,
        per_unit: int | None,
        throughput_capacity: int | None,
    ) -> int | None:
        if capacity is None:
            return throughput_capacity
        per_tib = limits.lustre_baseline_mbps_per_tib(deployment, per_unit)
        if per_tib is None or is_token(capacity):
            return None
        return limits.lustre_throughput_mbps(capacity, per_tib)

    def _remove_wide_l2_rule(self) -> None:
        # The L2 always adds a self-ingress rule for TCP 988-1023 to the group; that opens
        # 989-1017 too, so it is removed and the exact rules above stay.
        for child in list(self.security_group.node.children):
            if isinstance(child, ec2.CfnSecurityGroupIngress) and child.node.id.endswith(
                ":988-1023"
            ):
                self.security_group.node.try_remove_child(child.node.id)

    @staticmethod
    def _validate_metadata(
        v: Validator, metadata: LustreMetadataConfiguration, tiering: bool
    ) -> None:
        if not v.one_of("metadata_configuration.mode", metadata.mode, limits.LUSTRE_METADATA_MODES):
            return
        allowed_iops = (
            limits.LUSTRE_METADATA_IOPS_INTELLIGENT_TIERING
            if tiering
            else limits.LUSTRE_METADATA_IOPS_SSD
        )
        if metadata.mode == "AUTOMATIC":
            if tiering:
                v.add(
                    "metadata_configuration.mode",
                    metadata.mode,
                    "USER_PROVISIONED for INTELLIGENT_TIERING (AUTOMATIC is SSD only)",
                )
            if metadata.iops is not None:
                v.add("metadata_configuration.iops", metadata.iops, "unset in AUTOMATIC mode")
        elif metadata.iops not in allowed_iops and not is_token(metadata.iops):
            kind = "INTELLIGENT_TIERING" if tiering else "SSD"
            shown = (
                ", ".join(str(i) for i in allowed_iops)
                if tiering
                else "1500, 3000, 6000, 12000, or a multiple of 12000 up to 192000"
            )
            v.add("metadata_configuration.iops", metadata.iops, f"{shown} for {kind}")

    @staticmethod
    def _validate_read_cache(v: Validator, cache: LustreReadCache) -> None:
        if not v.one_of(
            "read_cache.sizing_mode", cache.sizing_mode, limits.LUSTRE_READ_CACHE_SIZING_MODES
        ):
            return
        if cache.sizing_mode == "USER_PROVISIONED":
            v.require(
                cache.size_gib is not None and cache.size_gib > 0,
                "read_cache.size_gib",
                cache.size_gib,
                "a positive number of GiB in USER_PROVISIONED mode",
            )
        elif cache.size_gib is not None:
            v.add("read_cache.size_gib", cache.size_gib, f"unset in {cache.sizing_mode} mode")

    @staticmethod
    def _validate_repositories(
        v: Validator,
        repos: tuple[DataRepository, ...],
        deployment: str,
        version: str,
        storage: str = "SSD",
    ) -> None:
        if not repos:
            return
        top = limits.LUSTRE_MAX_DATA_REPOSITORY_ASSOCIATIONS
        v.require(
            len(repos) <= top,
            "data_repositories",
            f"{len(repos)} repositories",
            f"at most {top} per file system",
        )
        if deployment == "SCRATCH_1":
            v.add(
                "data_repositories",
                f"{len(repos)} repositories",
                "none on SCRATCH_1 (use SCRATCH_2 or a persistent type)",
            )
        if storage == "INTELLIGENT_TIERING":
            # FSx API reference, DataRepositoryAssociation: DRAs are supported on 2.12 and 2.15
            # file systems "excluding Intelligent-Tiering and scratch_1 file systems".
            v.add(
                "data_repositories",
                f"{len(repos)} repositories",
                "none on INTELLIGENT_TIERING storage (use SSD storage to link S3)",
            )
        if version not in limits.LUSTRE_DRA_FILE_SYSTEM_TYPE_VERSIONS:
            v.add(
                "file_system_type_version",
                version,
                "2.12 or 2.15 when data_repositories are given",
            )
        low, high = limits.LUSTRE_IMPORTED_FILE_CHUNK_SIZE_MIB
        seen_buckets: dict[tuple[str, str], str] = {}
        for index, repo in enumerate(repos):
            where = f"data_repositories[{index}]"
            path = repo.file_system_path
            if not is_token(path):
                v.require(
                    path.startswith("/") and len(path) <= 4096,
                    f"{where}.file_system_path",
                    path,
                    "an absolute path starting with '/' (at most 4096 characters)",
                )
                for other_index, other in enumerate(repos[:index]):
                    if not is_token(other.file_system_path) and limits.lustre_paths_overlap(
                        path, other.file_system_path
                    ):
                        v.add(
                            f"{where}.file_system_path",
                            path,
                            "a path that does not overlap another repository's path",
                            f"overlaps data_repositories[{other_index}].file_system_path="
                            f"{other.file_system_path!r}",
                        )
            for name, events in (
                ("import_events", repo.import_events),
                ("export_events", repo.export_events),
            ):
                if (
                    isinstance(events, str)
                    or not set(events) <= set(ALL_EVENTS)
                    or len(set(events)) != len(tuple(events))
                ):
                    v.add(
                        f"{where}.{name}",
                        events,
                        "distinct values from " + ", ".join(ALL_EVENTS),
                    )
            v.in_range(
                f"{where}.imported_file_chunk_size_mib",
                repo.imported_file_chunk_size_mib,
                low,
                high,
                "MiB",
            )
            bucket_key = (repo.bucket.node.path, repo.prefix.strip("/"))
            if bucket_key in seen_buckets:
                v.add(
                    f"{where}.prefix",
                    repo.prefix,
                    "a bucket path not linked by another repository",
                    f"{repo.bucket.node.path} with this prefix is already linked by "
                    f"{seen_buckets[bucket_key]}",
                )
            else:
                seen_buckets[bucket_key] = where

    def _grant_key_to_fsx(self, key: kms.IKey, bucket: s3.IBucket) -> None:
        """Let FSx's per-file-system S3 role use the bucket's KMS key, through S3 only.

        FSx reads and writes the bucket with the service-linked role
        ``AWSServiceRoleForFSxS3Access_<file-system-id>``, which FSx creates with the
        association; a key policy cannot name a role that does not exist yet, so the role is
        matched by ``aws:PrincipalArn`` (any FSx S3 role of this account), and use is limited to
        calls made through S3 in this region (FSx Lustre guide, "Working with server-side
        encrypted Amazon S3 buckets"). The guide also narrows by the bucket ARN in the encryption
        context; that would make the key depend on the bucket that depends on the key (a
        cycle), so it is left out.
        """
        stack = cdk.Stack.of(self)
        role_arn = (
            f"arn:{stack.partition}:iam::{stack.account}:{FSX_S3_SERVICE_LINKED_ROLE_PATH}"
            "AWSServiceRoleForFSxS3Access_*"
        )
        result = key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowFsxLustreDataRepositoryViaS3",
                principals=[iam.AnyPrincipal()],
                actions=[
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:DescribeKey",
                ],
                resources=["*"],
                conditions={
                    "ArnLike": {"aws:PrincipalArn": role_arn},
                    "StringEquals": {
                        "kms:CallerAccount": stack.account,
                        "kms:ViaService": f"s3.{stack.region}.amazonaws.com",
                    },
                },
            )
        )
        if not result.statement_added:
            warn(
                self,
                "dataRepositoryKeyNotGranted",
                f"bucket {bucket.node.path} is encrypted with an imported KMS key whose policy "
                "this app cannot change: allow the role AWSServiceRoleForFSxS3Access_<fs-id> "
                "kms:Encrypt/Decrypt/ReEncrypt*/GenerateDataKey*/DescribeKey via S3, or FSx "
                "cannot import or export.",
            )


def _pascal(path: str) -> str:
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", path) if p]
    return "".join(p[:1].upper() + p[1:] for p in parts) or "Root"
