"""The ``LustreScratch`` construct: renders a :class:`~hpc_constructs.lustre.plan.LustrePlan`
into aws-cdk-lib's ``fsx.LustreFileSystem`` (L2) plus the L1 pieces the L2 cannot express."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any, cast

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
from hpc_constructs.errors import Validator, check_prop_types, is_token, warn
from hpc_constructs.lustre.options import (
    FSX_S3_SERVICE_LINKED_ROLE_PATH,
    DataRepository,
    LustreDataCompressionName,
    LustreDeploymentTypeName,
    LustreDriveCacheTypeName,
    LustreMetadataConfiguration,
    LustreReadCache,
    LustreStorageTypeName,
    LustreVersionName,
    plain,
)
from hpc_constructs.lustre.plan import (
    LUSTRE_DATA_COMPRESSION_TYPES,
    LUSTRE_DRIVE_CACHE_TYPES,
    LustrePlan,
    LustreRequest,
    RepositoryRequest,
    choice,
    plan_lustre,
)
from hpc_constructs.mounts import LUSTRE_PORTS, allow_lustre_clients, lustre_mount_commands
from hpc_constructs.nodes import SubnetsInput, subnet_selection


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


@jsii.implements(ec2.IConnectable)
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
        """Open TCP 988 and 1018-1023 between ``clients`` and the file system, both ways.

        ``clients`` is any ``ec2.IConnectable``: a security group, an instance, an
        auto scaling group, a ``Connections`` or your own jsii class implementing it.
        """
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
    are raised together as ``HpcValidationError``. The rules live in
    :mod:`hpc_constructs.lustre.plan` as pure functions; ``plan`` holds what they decided.
    Numeric props may be tokens where CloudFormation takes them (``storage_capacity_gib``,
    ``per_unit_storage_throughput``, ``throughput_capacity_mbps``, backup retention, IOPS,
    chunk size, the start times); ``target_throughput_mbps`` needs a concrete value.

    :param vpc: VPC of the file system.
    :param vpc_subnets: must select exactly one subnet (Lustre lives in one subnet), e.g.
        ``NetworkFabric``'s compute subnet selection.
    :param deployment_type: an ``fsx.LustreDeploymentType`` or its name (``"PERSISTENT_2"``).
        Default: - ``SCRATCH_2``.
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
    :param data_compression: ``fsx.LustreDataCompressionType`` or ``"LZ4"``/``"NONE"``.
        Default: - ``LZ4``.
    :param file_system_type_version: ``fsx.FileSystemTypeVersion`` or ``"2.15"``/``"2.12"``/
        ``"2.10"``. Default: - Lustre 2.15.
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

    @check_prop_types
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        vpc_subnets: SubnetsInput,
        deployment_type: fsx.LustreDeploymentType
        | LustreDeploymentTypeName = fsx.LustreDeploymentType.SCRATCH_2,
        storage_capacity_gib: int | None = None,
        target_throughput_mbps: float | None = None,
        per_unit_storage_throughput: int | None = None,
        storage_type: fsx.StorageType | LustreStorageTypeName | None = None,
        drive_cache_type: fsx.DriveCacheType | LustreDriveCacheTypeName | None = None,
        throughput_capacity_mbps: int | None = None,
        read_cache: LustreReadCache | None = None,
        data_compression: fsx.LustreDataCompressionType
        | LustreDataCompressionName = fsx.LustreDataCompressionType.LZ4,
        file_system_type_version: fsx.FileSystemTypeVersion
        | LustreVersionName = fsx.FileSystemTypeVersion.V_2_15,
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
        selection = subnet_selection(self, "vpc_subnets", vpc_subnets)
        subnets = select_subnets(vpc, selection).subnets if selection is not None else []
        request = _request(
            self,
            {k: v for k, v in locals().items() if k not in ("self", "scope", "id", "__class__")},
            len(subnets),
        )
        self.plan: LustrePlan = plan_lustre(self.node.path, request)
        """What the rules decided (plain values)."""
        plan = self.plan
        self.deployment_type = fsx.LustreDeploymentType(plan.deployment_type)
        self.storage_type = fsx.StorageType(plan.storage_type)
        self.storage_capacity_gib: int | None = plan.storage_capacity_gib
        self.per_unit_storage_throughput = plan.per_unit_storage_throughput
        self.metadata_configuration = plan.metadata
        self.automatic_backup_retention = plan.automatic_backup_retention or 0
        self.efa_enabled = plan.efa_enabled
        self.removal_policy = getattr(cdk.RemovalPolicy, plan.removal_policy)
        self.throughput_mbps: int | None = plan.throughput_mbps
        self.security_group: ec2.ISecurityGroup = self._create_security_group(vpc, security_group)
        self._connections = _LustreConnections(self.security_group)
        self.file_system = self._create_file_system(vpc, subnets[0], kms_key)
        self._remove_wide_l2_rule()
        self.cfn_file_system = cast(fsx.CfnFileSystem, self.file_system.node.default_child)
        self._override_l1(self.cfn_file_system)
        cdk.Aspects.of(self).add(_DependOnIngressRules(self))
        self.data_repository_associations: list[fsx.CfnDataRepositoryAssociation] = []
        self._create_repositories(tuple(data_repositories))
        for warning_id, message in plan.warnings:
            warn(self, warning_id, message)

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
    @check_prop_types
    def from_attributes(
        scope: Construct,
        id: str,
        *,
        file_system_id: str,
        dns_name: str,
        mount_name: str,
        security_group: ec2.ISecurityGroup,
    ) -> LustreScratchBase:
        """A Lustre file system created elsewhere, usable wherever ``LustreFileSystemLike`` is.

        ``connections`` (default port TCP 988), ``allow_clients`` and ``mount_commands`` work
        as on a created one; rules are added to ``security_group`` (import it mutable).
        """
        return _ImportedLustre(
            scope,
            id,
            file_system_id=file_system_id,
            dns_name=dns_name,
            mount_name=mount_name,
            security_group=security_group,
        )

    # --- rendering -------------------------------------------------------------------------------

    def _create_security_group(
        self, vpc: ec2.IVpc, given: ec2.ISecurityGroup | None
    ) -> ec2.ISecurityGroup:
        """Exactly TCP 988 and 1018-1023 from itself (plus all traffic from itself for EFA)."""
        group = given or ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description="FSx for Lustre: TCP 988 and 1018-1023 from itself and its clients",
            # FSx initiates LNET connections back to clients (TCP 988 on the client); the CDK
            # L2's default is allow-all egress too, and no user code runs on FSx's interfaces.
            allow_all_outbound=True,
        )
        for port in LUSTRE_PORTS:
            group.add_ingress_rule(group, port, "Lustre traffic within the file system")
        if self.plan.efa_enabled:
            # FSx rejects an EFA-enabled create unless the group allows all traffic to and
            # from itself (FSx Lustre guide, "cannot-create-fs").
            group.add_ingress_rule(
                group, ec2.Port.all_traffic(), "EFA traffic within the file system"
            )
            if not group.allow_all_outbound:
                group.add_egress_rule(
                    group, ec2.Port.all_traffic(), "EFA traffic within the file system"
                )
        return group

    def _create_file_system(
        self, vpc: ec2.IVpc, subnet: ec2.ISubnet, kms_key: kms.IKey | None
    ) -> fsx.LustreFileSystem:
        """The L2, with numbers it cannot take as tokens replaced by placeholders
        (``_override_l1`` writes the real values)."""
        plan = self.plan
        backups = plan.automatic_backup_retention
        return fsx.LustreFileSystem(
            self,
            "FileSystem",
            vpc=vpc,
            vpc_subnet=subnet,
            # The L2 needs a valid number; Intelligent-Tiering and tokens are fixed on the L1.
            storage_capacity_gib=_l2_capacity(plan),
            storage_type=fsx.StorageType(plan.storage_type) if plan.storage_type_set else None,
            file_system_type_version=cast(
                fsx.FileSystemTypeVersion,
                getattr(
                    fsx.FileSystemTypeVersion,
                    "V_" + plan.file_system_type_version.replace(".", "_"),
                ),
            ),
            security_group=self.security_group,
            kms_key=kms_key,
            removal_policy=self.removal_policy,
            lustre_configuration=fsx.LustreConfiguration(
                deployment_type=self.deployment_type,
                per_unit_storage_throughput=_l2_per_unit(plan),
                data_compression_type=fsx.LustreDataCompressionType(plan.data_compression),
                drive_cache_type=(
                    fsx.DriveCacheType(plan.drive_cache_type) if plan.drive_cache_type else None
                ),
                automatic_backup_retention=(
                    cdk.Duration.days(backups) if backups is not None else None
                ),
                daily_automatic_backup_start_time=_daily(plan.daily_automatic_backup_start_time),
                weekly_maintenance_start_time=_weekly(plan.weekly_maintenance_start_time),
            ),
        )

    def _override_l1(self, cfn: fsx.CfnFileSystem) -> None:
        """L1 escape hatch: the L2 (aws-cdk-lib 2.275) has no props for metadata configuration,
        EFA, Intelligent-Tiering throughput capacity or its read cache, and rejects tokens for
        storage capacity, per-unit throughput and the start times, which CloudFormation takes."""
        plan = self.plan
        config = "LustreConfiguration."
        if is_token(plan.storage_capacity_gib):
            cfn.add_property_override("StorageCapacity", plan.storage_capacity_gib)
        if is_token(plan.per_unit_storage_throughput):
            cfn.add_property_override(
                config + "PerUnitStorageThroughput", plan.per_unit_storage_throughput
            )
        for name, value in (
            ("DailyAutomaticBackupStartTime", plan.daily_automatic_backup_start_time),
            ("WeeklyMaintenanceStartTime", plan.weekly_maintenance_start_time),
        ):
            if is_token(value):
                cfn.add_property_override(config + name, value)
        metadata = plan.metadata
        if metadata is not None:
            cfn.add_property_override(
                config + "MetadataConfiguration",
                {"Mode": metadata.mode, **({"Iops": metadata.iops} if metadata.iops else {})},
            )
        if plan.efa_enabled:
            cfn.add_property_override(config + "EfaEnabled", True)
        if plan.tiering:
            cache = plan.read_cache or LustreReadCache.proportional_to_throughput()
            cfn.add_property_deletion_override("StorageCapacity")
            cfn.add_property_override(config + "ThroughputCapacity", plan.throughput_capacity_mbps)
            cfn.add_property_override(
                config + "DataReadCacheConfiguration",
                {
                    "SizingMode": plain(cache.sizing_mode),
                    **({"SizeGiB": cache.size_gib} if cache.size_gib is not None else {}),
                },
            )

    def _create_repositories(self, repositories: tuple[DataRepository, ...]) -> None:
        """Data repository associations (L1: the L2 only knows the legacy import path)."""
        granted: set[tuple[str, str]] = set()
        for repo, planned in zip(repositories, self.plan.repositories, strict=True):
            s3_config = fsx.CfnDataRepositoryAssociation.S3Property(
                auto_import_policy=(
                    fsx.CfnDataRepositoryAssociation.AutoImportPolicyProperty(
                        events=list(planned.import_events)
                    )
                    if planned.import_events
                    else None
                ),
                auto_export_policy=(
                    fsx.CfnDataRepositoryAssociation.AutoExportPolicyProperty(
                        events=list(planned.export_events)
                    )
                    if planned.export_events
                    else None
                ),
            )
            dra = fsx.CfnDataRepositoryAssociation(
                self,
                planned.construct_id,
                file_system_id=self.file_system.file_system_id,
                file_system_path=planned.file_system_path,
                data_repository_path=repo.data_repository_path,
                batch_import_meta_data_on_create=planned.batch_import_metadata_on_create,
                imported_file_chunk_size=planned.imported_file_chunk_size_mib,
                s3=s3_config,
            )
            dra.apply_removal_policy(self.removal_policy)
            self.data_repository_associations.append(dra)
            key = repo.bucket.encryption_key
            if key is not None and (key.node.path, repo.bucket.node.path) not in granted:
                granted.add((key.node.path, repo.bucket.node.path))
                self._grant_key_to_fsx(key, repo.bucket)

    def _remove_wide_l2_rule(self) -> None:
        # The L2 always adds a self-ingress rule for TCP 988-1023 to the group; that opens
        # 989-1017 too, so it is removed and the exact rules above stay.
        for child in list(self.security_group.node.children):
            if isinstance(child, ec2.CfnSecurityGroupIngress) and child.node.id.endswith(
                ":988-1023"
            ):
                self.security_group.node.try_remove_child(child.node.id)

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


# --- props -> request (the boundary) ----------------------------------------------------------


def _request(scope: Construct, props: dict[str, Any], subnet_count: int) -> LustreRequest:
    """Reduce ``props`` to a plain :class:`LustreRequest` (enum members to their strings).

    ``check_prop_types`` has checked the Python types of the props (and of the fields of each
    ``DataRepository``) before: the rules assume the right types.
    """
    v = Validator(scope)
    deployment = choice(
        v, "deployment_type", props["deployment_type"], limits.LUSTRE_DEPLOYMENT_TYPES
    )
    storage = props["storage_type"]
    if storage is not None:
        storage = choice(v, "storage_type", storage, limits.LUSTRE_STORAGE_TYPES)
    cache = props["drive_cache_type"]
    if cache is not None:
        cache = choice(v, "drive_cache_type", cache, LUSTRE_DRIVE_CACHE_TYPES)
    compression = choice(
        v, "data_compression", props["data_compression"], LUSTRE_DATA_COMPRESSION_TYPES
    )
    version = choice(
        v,
        "file_system_type_version",
        props["file_system_type_version"],
        limits.LUSTRE_FILE_SYSTEM_TYPE_VERSIONS,
    )
    v.raise_if_any()
    removal = props["removal_policy"]
    kms_key = props["kms_key"]
    return LustreRequest(
        deployment_type=cast(str, deployment),
        storage_type=storage,
        storage_capacity_gib=props["storage_capacity_gib"],
        target_throughput_mbps=props["target_throughput_mbps"],
        per_unit_storage_throughput=props["per_unit_storage_throughput"],
        drive_cache_type=cache,
        throughput_capacity_mbps=props["throughput_capacity_mbps"],
        read_cache=props["read_cache"],
        data_compression=cast(str, compression),
        file_system_type_version=cast(str, version),
        kms_key_path=kms_key.node.path if kms_key is not None else None,
        automatic_backup_retention=props["automatic_backup_retention"],
        daily_automatic_backup_start_time=props["daily_automatic_backup_start_time"],
        weekly_maintenance_start_time=props["weekly_maintenance_start_time"],
        metadata_configuration=props["metadata_configuration"],
        efa_enabled=props["efa_enabled"],
        repositories=tuple(_repository_request(repo) for repo in props["data_repositories"]),
        removal_policy=removal.name if isinstance(removal, enum.Enum) else removal,
        subnet_count=subnet_count,
    )


def _repository_request(repo: DataRepository) -> RepositoryRequest:
    return RepositoryRequest(
        bucket_path=repo.bucket.node.path,
        file_system_path=repo.file_system_path,
        prefix=repo.prefix,
        import_events=tuple(str(plain(e)) for e in repo.import_events),
        export_events=tuple(str(plain(e)) for e in repo.export_events),
        batch_import_metadata_on_create=repo.batch_import_metadata_on_create,
        imported_file_chunk_size_mib=repo.imported_file_chunk_size_mib,
    )


# --- L2 placeholders ----------------------------------------------------------------------------


def _l2_capacity(plan: LustrePlan) -> int:
    capacity = plan.storage_capacity_gib
    if capacity is not None and not is_token(capacity):
        return capacity
    # Any valid size (6000 and 1800 both divide 18000 for HDD); replaced on the L1.
    return 18000 if plan.storage_type == "HDD" else 1200


def _l2_per_unit(plan: LustrePlan) -> int | None:
    per_unit = plan.per_unit_storage_throughput
    if not is_token(per_unit):
        return per_unit
    return limits.LUSTRE_PER_UNIT_THROUGHPUT[(plan.deployment_type, plan.storage_type)][0]


def _daily(text: str | None) -> fsx.DailyAutomaticBackupStartTime | None:
    if text is None or is_token(text):
        return None
    hour, minute = text.split(":")
    return fsx.DailyAutomaticBackupStartTime(hour=int(hour), minute=int(minute))


def _weekly(text: str | None) -> fsx.LustreMaintenanceTime | None:
    if text is None or is_token(text):
        return None
    day, hour, minute = text.split(":")
    return fsx.LustreMaintenanceTime(
        day=list(fsx.Weekday)[int(day) - 1], hour=int(hour), minute=int(minute)
    )
