"""``SharedHome``: an Amazon EFS file system for home directories and shared software, mounted
by every node launcher the way any EFS is (``file_systems=[home]`` / ``add_file_system(home)``),
at ``/home`` unless told otherwise.

Rules are pure functions on plain values (:func:`plan_shared_home`); the construct renders the
plan with aws-cdk-lib's ``efs.FileSystem`` (encrypted, automatic backups, RETAIN).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from aws_cdk import aws_kms as kms
from constructs import Construct

from hpc_constructs.compute import select_subnets
from hpc_constructs.errors import Validator, check_prop_types, is_token
from hpc_constructs.nodes import (
    EFS_PORT,
    SharedFileSystem,
    SubnetsInput,
    as_subnet_selection,
    mount_point_problems,
)

__all__ = ["SharedHome", "SharedHomeAccessPoint", "SharedHomePlan", "plan_shared_home"]

#: Throughput modes of ``AWS::EFS::FileSystem`` (botocore ``efs`` ``ThroughputMode``); elastic
#: suits home directories: idle most of the time, bursts at logins and builds.
THROUGHPUT_MODES = ("elastic", "bursting")
#: POSIX permissions of an access point's root directory (EFS ``CreationInfo.Permissions``:
#: an octal mode, 3 or 4 digits).
_PERMISSIONS = re.compile(r"^[0-7]{3,4}$")
#: Access point paths (EFS ``RootDirectory.Path``: absolute, at most 100 characters).
_AP_PATH = re.compile(r"^/[A-Za-z0-9._/-]{0,99}$")


@dataclass(frozen=True, kw_only=True)
class SharedHomeAccessPoint:
    """An EFS access point: a directory of the file system created with an owner and mode,
    for clients that should see only that tree (containers, Lambda, a software share).

    :param path: absolute path inside the file system (``/software``).
    :param owner_uid: owner of the directory EFS creates. Default: - 0.
    :param owner_gid: group of that directory. Default: - 0.
    :param permissions: its octal mode. Default: - ``"755"``.
    :param posix_uid: user every request through the access point acts as. Default: - the
        client's own identity.
    :param posix_gid: group that goes with ``posix_uid``. Default: - ``owner_gid`` when
        ``posix_uid`` is set.
    """

    path: str
    owner_uid: int = 0
    owner_gid: int = 0
    permissions: str = "755"
    posix_uid: int | None = None
    posix_gid: int | None = None


@dataclass(frozen=True)
class SharedHomePlan:
    """What the construct renders (plain values only)."""

    mount_point: str
    name: str
    throughput_mode: str
    access_points: tuple[SharedHomeAccessPoint, ...]
    availability_zones: tuple[str, ...]


def check_mount_targets(v: Validator, azs: Sequence[str]) -> None:
    """One mount target per AZ: EFS refuses a second one in the same AZ."""
    concrete = [az for az in azs if not is_token(az)]
    v.require(
        len(set(concrete)) == len(concrete),
        "vpc_subnets",
        list(azs),
        "at most one subnet per Availability Zone (EFS has one mount target per AZ)",
    )
    v.require(len(azs) > 0, "vpc_subnets", list(azs), "one subnet or more")


def check_access_point(v: Validator, prop: str, ap: SharedHomeAccessPoint) -> None:
    v.require(
        bool(_AP_PATH.match(ap.path)) and ap.path != "/",
        f"{prop}.path",
        ap.path,
        "an absolute path other than /, at most 100 characters (letters, digits, . _ - /)",
    )
    v.require(
        bool(_PERMISSIONS.match(ap.permissions)),
        f"{prop}.permissions",
        ap.permissions,
        "an octal mode such as 755 or 0750",
    )
    for field in ("owner_uid", "owner_gid", "posix_uid", "posix_gid"):
        value = getattr(ap, field)
        if value is not None:
            v.in_range(f"{prop}.{field}", value, 0, 4_294_967_295)


def plan_shared_home(
    v: Validator,
    *,
    mount_point: str,
    name: str,
    throughput_mode: str,
    access_points: Sequence[SharedHomeAccessPoint],
    availability_zones: Sequence[str],
) -> SharedHomePlan | None:
    """Every SharedHome rule; the plan, or None when one failed."""
    for value, allowed in mount_point_problems([mount_point]):
        v.add("mount_point", value, allowed)
    v.one_of("throughput_mode", throughput_mode, THROUGHPUT_MODES)
    check_mount_targets(v, availability_zones)
    paths = [ap.path for ap in access_points]
    v.require(len(set(paths)) == len(paths), "access_points", paths, "a different path each")
    for i, ap in enumerate(access_points):
        check_access_point(v, f"access_points[{i}]", ap)
    if v.problems:
        return None
    return SharedHomePlan(
        mount_point=mount_point,
        name=name,
        throughput_mode=throughput_mode,
        access_points=tuple(access_points),
        availability_zones=tuple(availability_zones),
    )


class SharedHome(Construct):
    """Amazon EFS for home directories and shared software, mounted on every node of the
    launchers that take it (``EfaComputeFleet``, ``BatchMultiNode``, ``PcsCluster``,
    ``ParallelCluster``: ``file_systems=[home]`` or ``add_file_system(home)``), at
    :attr:`mount_point`. Those launchers open NFS (TCP 2049) from their nodes through
    :attr:`connections`; nothing else is allowed in.

    Encrypted at rest (the EFS-managed key unless ``kms_key``), automatic backups on (AWS
    Backup's default EFS plan), ``RemovalPolicy.RETAIN``, a mount target in each subnet of
    ``vpc_subnets`` (one per AZ: the compute AZ, plus any other AZ whose clients mount it).

    :param vpc: the VPC of the mount targets.
    :param vpc_subnets: where the mount targets go, one subnet per AZ, e.g.
        ``NetworkFabric.compute_subnets`` (an ``ec2.SubnetSelection``, an ``ec2.ISubnet`` or a
        list).
    :param mount_point: where nodes mount the file system root. Default: - ``/home``.
    :param name: the ``SharedStorage`` name in a ParallelCluster configuration.
        Default: - ``home``.
    :param throughput_mode: ``"elastic"`` or ``"bursting"``. Default: - ``"elastic"``.
    :param access_points: :class:`SharedHomeAccessPoint` s (see also
        :meth:`add_access_point`). Default: - none.
    :param kms_key: customer managed key for encryption at rest. Default: - the AWS managed
        key for EFS.
    :param removal_policy: Default: - ``RemovalPolicy.RETAIN`` (users' files).
    """

    @check_prop_types
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        vpc_subnets: SubnetsInput,
        mount_point: str = "/home",
        name: str = "home",
        throughput_mode: str = "elastic",
        access_points: Sequence[SharedHomeAccessPoint] = (),
        kms_key: kms.IKey | None = None,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, id)
        v = Validator(self)
        selection = as_subnet_selection(v, "vpc_subnets", vpc_subnets)
        subnets = list(select_subnets(vpc, selection).subnets) if selection is not None else []
        plan = plan_shared_home(
            v,
            mount_point=mount_point,
            name=name,
            throughput_mode=throughput_mode,
            access_points=list(access_points),
            availability_zones=[s.availability_zone for s in subnets],
        )
        v.raise_if_any()
        assert plan is not None
        assert selection is not None
        self.plan = plan
        self.mount_point = plan.mount_point
        self.name = plan.name
        self.file_system = efs.FileSystem(
            self,
            "Resource",
            vpc=vpc,
            vpc_subnets=selection,
            encrypted=True,
            kms_key=kms_key,
            enable_automatic_backups=True,
            performance_mode=efs.PerformanceMode.GENERAL_PURPOSE,
            throughput_mode=getattr(efs.ThroughputMode, plan.throughput_mode.upper()),
            removal_policy=removal_policy,
            # Clients must mount with an identity the file system policy allows: NFS from the
            # launchers' nodes only (the security group), no anonymous access.
            allow_anonymous_access=False,
        )
        self.access_points: dict[str, efs.AccessPoint] = {}
        for ap in plan.access_points:
            self._access_point(ap)

    # --- what launchers use -------------------------------------------------------------

    @property
    def shared_file_system(self) -> SharedFileSystem:
        """This file system as launchers mount it (``nodes.resolve_file_systems`` reads it)."""
        return SharedFileSystem(self.file_system, mount_point=self.mount_point, name=self.name)

    @property
    def connections(self) -> ec2.Connections:
        """The mount targets' security group: launchers open NFS from their nodes here."""
        return self.file_system.connections

    @property
    def file_system_id(self) -> str:
        return self.file_system.file_system_id

    @property
    def file_system_arn(self) -> str:
        return self.file_system.file_system_arn

    def allow_clients(self, clients: ec2.IConnectable) -> None:
        """Open NFS (TCP 2049) from ``clients`` (launchers that mount it do this themselves)."""
        self.file_system.connections.allow_from(clients, ec2.Port.tcp(EFS_PORT), "NFS clients")

    @check_prop_types
    def add_access_point(self, access_point: SharedHomeAccessPoint) -> efs.AccessPoint:
        """Add an access point (see :class:`SharedHomeAccessPoint`) and return it."""
        v = Validator(self)
        check_access_point(v, "access_point", access_point)
        v.require(
            access_point.path not in self.access_points,
            "access_point.path",
            access_point.path,
            "a path without an access point yet",
        )
        v.raise_if_any()
        return self._access_point(access_point)

    def _access_point(self, ap: SharedHomeAccessPoint) -> efs.AccessPoint:
        posix = None
        if ap.posix_uid is not None:
            gid = ap.posix_gid if ap.posix_gid is not None else ap.owner_gid
            posix = efs.PosixUser(uid=str(ap.posix_uid), gid=str(gid))
        point = self.file_system.add_access_point(
            "AccessPoint" + re.sub(r"[^A-Za-z0-9]", "", ap.path.title()),
            path=ap.path,
            create_acl=efs.Acl(
                owner_uid=str(ap.owner_uid), owner_gid=str(ap.owner_gid), permissions=ap.permissions
            ),
            posix_user=posix,
        )
        self.access_points[ap.path] = point
        return point
