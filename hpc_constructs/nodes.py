"""What every construct that launches nodes shares, so they compose the same way.

``EfaComputeFleet``, ``BatchMultiNode``, ``PcsComputeNodeGroup`` and ``ParallelCluster`` are
all :class:`NodeLauncher` s: ``ec2.IConnectable`` and ``iam.IGrantable`` the jsii way (so
``bucket.grant_read(fleet)`` and ``sg.connections.allow_to(fleet, port)`` work), one
``file_systems`` prop and one ``add_file_system`` method for Lustre and EFS
(:class:`SharedFileSystem`), one ``add_user_data`` method, one ``role`` prop and attribute,
one node-count vocabulary (``min_nodes`` / ``max_nodes``) and one placement-group model
(:func:`plan_placement`). The rules here are plain functions on plain values.
"""

from __future__ import annotations

import dataclasses
import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from aws_cdk import aws_iam as iam
from constructs import Construct, IConstruct, IDependable

from hpc_constructs.boot import MountStep
from hpc_constructs.capacity import CapacityKind, FleetCapacity
from hpc_constructs.compute import RESERVATION_PLACEMENT_WARNING
from hpc_constructs.errors import Validator, is_token, needs_concrete_value, warn
from hpc_constructs.mounts import (
    LustreFileSystemLike,
    allow_lustre_clients,
    lustre_mount_commands,
)

#: NFS, the one port EFS clients use (Amazon EFS User Guide, "Using VPC security groups").
EFS_PORT = 2049
#: Default mount points: the first Lustre file system at ``/fsx``, the first EFS at
#: ``/shared``; further ones get a number (``/fsx2``, ``/shared2``).
DEFAULT_LUSTRE_MOUNT_POINT = "/fsx"
DEFAULT_EFS_MOUNT_POINT = "/shared"

_ABSOLUTE_PATH = re.compile(r"^/[A-Za-z0-9._/-]*$")

#: Directories no shared file system may be mounted over: ParallelCluster refuses them
#: (``pcluster.validators.cluster_validators.SharedStorageMountDirValidator``, 3.16.1), and on
#: any node mounting over them hides the OS, Slurm or the PCS agent.
RESERVED_MOUNT_POINTS = (
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/lib",
    "/lib64",
    "/media",
    "/mnt",
    "/opt",
    "/opt/parallelcluster",
    "/opt/parallelcluster/shared",
    "/opt/parallelcluster/shared_login_nodes",
    "/opt/slurm",
    "/opt/intel",
    "/proc",
    "/root",
    "/run",
    "/sbin",
    "/srv",
    "/sys",
    "/tmp",
    "/usr",
    "/var",
)


# --- shared file systems ------------------------------------------------------------------


@dataclass(frozen=True)
class SharedFileSystem:
    """A shared file system mounted on every node of a launcher.

    :param file_system: an FSx for Lustre file system (``LustreScratch``, one imported with
        ``LustreScratch.from_attributes``, aws-cdk-lib's ``fsx.LustreFileSystem``, or any
        :class:`~hpc_constructs.mounts.LustreFileSystemLike`) or an Amazon EFS file system
        (``efs.IFileSystem``).
    :param mount_point: absolute path on the nodes (and in Batch containers). Default: -
        ``/fsx`` for the first Lustre file system, ``/shared`` for the first EFS, numbered
        after that (``/fsx2``, ``/shared2``).
    :param name: the ``SharedStorage`` name in a ParallelCluster configuration. Default: -
        ``fsx``, ``fsx2``... / ``efs``, ``efs2``...
    """

    file_system: LustreFileSystemLike | efs.IFileSystem
    mount_point: str | None = None
    name: str | None = None

    @property
    def is_lustre(self) -> bool:
        """Lustre (it has a DNS and a mount name); anything else is EFS."""
        return isinstance(self.file_system, LustreFileSystemLike)

    @property
    def path(self) -> str:
        """The resolved mount point (launchers resolve defaults before using an item)."""
        if self.mount_point is None:
            raise ValueError("unresolved SharedFileSystem: pass it through resolve_file_systems")
        return self.mount_point

    @property
    def kind(self) -> str:
        return "lustre" if self.is_lustre else "efs"


#: What a launcher's ``file_systems`` prop accepts per item.
FileSystemInput = SharedFileSystem | LustreFileSystemLike | efs.IFileSystem
#: What a launcher's ``file_systems`` prop accepts: a list, or a mapping of mount point to
#: file system.
FileSystemsInput = Sequence[FileSystemInput] | Mapping[str, FileSystemInput]


def is_file_system(item: object) -> bool:
    """True for a Lustre-like or an EFS file system. jsii interfaces cannot be checked with
    ``isinstance``, so EFS is recognised by the members of ``efs.IFileSystem`` that other file
    systems (FSx for ONTAP or OpenZFS) lack."""
    if isinstance(item, LustreFileSystemLike):
        return True
    return all(
        hasattr(item, member)
        for member in (
            "file_system_id",
            "file_system_arn",
            "connections",
            "mount_targets_available",
        )
    )


def resolve_file_systems(
    v: Validator,
    prop: str,
    items: Sequence[FileSystemInput] | Mapping[str, FileSystemInput] | None,
    existing: Sequence[SharedFileSystem] = (),
) -> list[SharedFileSystem]:
    """Normalize ``items`` (a sequence, or a mapping of mount point to file system) into
    :class:`SharedFileSystem` s with their mount points and names resolved, after
    ``existing``; every problem is recorded on ``prop``."""
    if items is None:
        return []
    if isinstance(items, (str, bytes)) or not isinstance(items, (Sequence, Mapping)):
        v.add(
            prop,
            items,
            "a list of file systems (or SharedFileSystem), or a mapping of "
            "mount point to file system",
        )
        return []
    raw: list[SharedFileSystem] = []
    pairs: list[tuple[str | None, Any]] = (
        list(items.items()) if isinstance(items, Mapping) else [(None, i) for i in items]
    )
    for mount_point, item in pairs:
        # A construct that knows how it is mounted (``SharedHome``) gives its own item.
        item = getattr(item, "shared_file_system", item)
        if isinstance(item, SharedFileSystem):
            raw.append(item if mount_point is None else _with(item, mount_point=mount_point))
        elif is_file_system(item):
            raw.append(SharedFileSystem(item, mount_point=mount_point))
        else:
            v.add(prop, item, "an FSx for Lustre or EFS file system, or a SharedFileSystem")
    return _with_defaults([*existing, *raw])[len(existing) :]


def _with(
    item: SharedFileSystem, *, mount_point: str | None, name: str | None = None
) -> SharedFileSystem:
    return dataclasses.replace(item, mount_point=mount_point, name=name or item.name)


def _with_defaults(items: Sequence[SharedFileSystem]) -> list[SharedFileSystem]:
    """Fill in default mount points and names, numbering each kind in order."""
    counts = {"lustre": 0, "efs": 0}
    out: list[SharedFileSystem] = []
    for item in items:
        counts[item.kind] += 1
        n = counts[item.kind]
        suffix = "" if n == 1 else str(n)
        base = DEFAULT_LUSTRE_MOUNT_POINT if item.is_lustre else DEFAULT_EFS_MOUNT_POINT
        mount = item.mount_point.rstrip("/") or "/" if item.mount_point else base + suffix
        name = item.name or ("fsx" if item.is_lustre else "efs") + suffix
        out.append(_with(item, mount_point=mount, name=name))
    return out


def mount_point_problems(mount_points: Sequence[str]) -> list[tuple[str, str]]:
    """(value, allowed) for each bad mount point: not absolute, a system directory, used
    twice, or inside another mount point. Plain strings in, plain strings out."""
    problems: list[tuple[str, str]] = []
    for d in mount_points:
        if not (_ABSOLUTE_PATH.match(d) and d != "/" and "//" not in d) or (
            d.rstrip("/") in RESERVED_MOUNT_POINTS
        ):
            problems.append(
                (
                    d,
                    "an absolute path other than / (letters, digits, . _ - /), not a system "
                    f"directory ({', '.join(RESERVED_MOUNT_POINTS)})",
                )
            )
    if len(set(mount_points)) != len(mount_points):
        problems.append((", ".join(mount_points), "a different mount point per file system"))
    parts = [tuple(p for p in d.split("/") if p) for d in mount_points]
    nested = sorted(
        {
            mount_points[i]
            for i, a in enumerate(parts)
            for j, b in enumerate(parts)
            if i != j and a != b and b[: len(a)] == a
        }
    )
    if nested:
        problems.append(
            (
                ", ".join(mount_points),
                f"mount points that do not contain one another ({', '.join(nested)} "
                "contain(s) another file system's mount point)",
            )
        )
    return problems


def check_mount_points(v: Validator, prop: str, items: Sequence[SharedFileSystem]) -> None:
    for value, allowed in mount_point_problems([i.mount_point or "" for i in items]):
        v.add(prop, value, allowed)


def allow_file_system_clients(item: SharedFileSystem, clients: ec2.IConnectable) -> None:
    """Open exactly the ports the file system's clients need: Lustre TCP 988 and 1018-1023
    both ways, EFS NFS 2049 from the clients."""
    if item.is_lustre:
        assert isinstance(item.file_system, LustreFileSystemLike)
        allow_lustre_clients(item.file_system, clients)
    else:
        item.file_system.connections.allow_from(
            clients, ec2.Port.tcp(EFS_PORT), "NFS from EFS clients"
        )


def mount_step(item: SharedFileSystem) -> MountStep:
    """What the boot set-up mounts for ``item``: the fstab source and mount point (the client
    install, fstab options, retries and checks are :mod:`hpc_constructs.boot`'s)."""
    fs = item.file_system
    if item.is_lustre:
        assert isinstance(fs, LustreFileSystemLike)
        return MountStep("lustre", f"{fs.dns_name}@tcp:/{fs.mount_name}", item.path)
    return MountStep("efs", f"{fs.file_system_id}:/", item.path)


def mount_commands(item: SharedFileSystem) -> list[str]:
    """One-shot shell lines that install the client and mount ``item`` (fstab with
    ``_netdev``, so the mount returns after a reboot), for nodes without the boot set-up of
    :mod:`hpc_constructs.boot` (which launchers use: it checks and mounts at every boot)."""
    fs = item.file_system
    if item.is_lustre:
        assert isinstance(fs, LustreFileSystemLike)
        return lustre_mount_commands(fs, item.path)
    step = mount_step(item)
    mount = shlex.quote(step.mount_point)
    line = shlex.quote(step.fstab_line)
    return [
        "# Amazon EFS client and mount (hpc-constructs)",
        "command -v mount.efs >/dev/null 2>&1 || dnf install -y amazon-efs-utils",
        f"mkdir -p {mount}",
        f"grep -qxF {line} /etc/fstab || echo {line} >> /etc/fstab",
        f"for delay in 5 10 20 40 60; do mountpoint -q {mount} || mount {mount} || true; "
        f'mountpoint -q {mount} && break; sleep "$delay"; done',
        f"mountpoint -q {mount}",
    ]


def mount_dependables(item: SharedFileSystem) -> list[IDependable]:
    """What nodes must wait for before mounting: an EFS file system's mount targets."""
    fs = item.file_system
    if isinstance(fs, efs.FileSystem):
        return [fs.mount_targets_available]
    if isinstance(fs, Construct):
        return [c for c in fs.node.find_all() if isinstance(c, efs.CfnMountTarget)]
    return []


# --- subnets ------------------------------------------------------------------------------

#: What a ``vpc_subnets`` prop accepts: a selection, one subnet, or a list of subnets.
SubnetsInput = ec2.SubnetSelection | ec2.ISubnet | Sequence[ec2.ISubnet]


def as_subnet_selection(v: Validator, prop: str, value: object) -> ec2.SubnetSelection | None:
    """``value`` as an ``ec2.SubnetSelection``; a wrong type is one problem on ``prop``."""
    if value is None:
        return None
    if isinstance(value, ec2.SubnetSelection):
        return value
    if _is_subnet(value):
        return ec2.SubnetSelection(subnets=[value])  # type: ignore[list-item]
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        items = list(value)
        if items and all(_is_subnet(s) for s in items):
            return ec2.SubnetSelection(subnets=items)
    v.add(
        prop,
        value,
        "an ec2.SubnetSelection, an ec2.ISubnet, or a list of ec2.ISubnet",
    )
    return None


def _is_subnet(value: object) -> bool:
    return hasattr(value, "subnet_id") and hasattr(value, "availability_zone")


# --- node counts --------------------------------------------------------------------------


def check_node_counts(
    v: Validator,
    min_nodes: object,
    max_nodes: object,
    desired_nodes: object = None,
    *,
    most: int | None = None,
    prefix: str = "",
) -> None:
    """The library's one rule for node counts, on the props ``min_nodes``, ``max_nodes`` and
    ``desired_nodes`` (``prefix`` names the option group, e.g. ``queues[0].``): integers,
    ``0 <= min <= max``, ``max >= 1``, ``min <= desired <= max``, ``max <= most``. Tokens are
    refused: the counts size subnets, vCPU limits and summaries at synth time."""
    values = {"min_nodes": min_nodes, "max_nodes": max_nodes, "desired_nodes": desired_nodes}
    ok = True
    for prop, value in values.items():
        if value is None and prop == "desired_nodes":
            continue
        if is_token(value):
            needs_concrete_value(v, prefix + prop, value, "it sizes the plan")
            ok = False
        elif isinstance(value, bool) or not isinstance(value, int):
            v.add(prefix + prop, value, "an integer")
            ok = False
    if not ok:
        return
    assert isinstance(min_nodes, int)
    assert isinstance(max_nodes, int)
    v.require(min_nodes >= 0, prefix + "min_nodes", min_nodes, "0 or more")
    high = f" and at most {most}" if most is not None else ""
    v.require(
        max_nodes >= max(min_nodes, 1) and (most is None or max_nodes <= most),
        prefix + "max_nodes",
        max_nodes,
        f"at least 1 and at least min_nodes ({min_nodes}){high}",
    )
    if isinstance(desired_nodes, int):
        v.require(
            min_nodes <= desired_nodes <= max_nodes,
            prefix + "desired_nodes",
            desired_nodes,
            f"between min_nodes ({min_nodes}) and max_nodes ({max_nodes})",
        )


# --- placement ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PlacementPlan:
    """Where a launcher's nodes go: ``create_group`` a new cluster placement group, or use
    the one passed (``strategy`` is its strategy, lower case), or none;
    ``reservation_without_group`` means warn ``hpc-constructs:reservationWithoutPlacementGroup``.
    """

    create_group: bool
    uses_group: bool
    strategy: str | None
    reservation_without_group: bool

    @property
    def is_cluster(self) -> bool:
        return self.uses_group and self.strategy in (None, "cluster")


def plan_placement(
    v: Validator,
    *,
    capacity: FleetCapacity,
    efa_enabled: bool,
    group_given: bool,
    group_strategy: str | None,
    group_label: object,
    placement: bool | None,
    default_on: bool | None = None,
) -> PlacementPlan:
    """The one placement-group rule of every launcher.

    - a group passed is used (with ``placement=False`` it is an error);
    - a Capacity Block takes no group (AWS places the block);
    - a Capacity Reservation gets no new group: it serves only launches into the group it
      was made in (EC2 User Guide, "Capacity Reservations in cluster placement groups"), so
      ``placement=True`` without that group is an error;
    - otherwise a new cluster group when ``placement`` is True, or when it is None and
      ``default_on`` (which defaults to ``efa_enabled``).
    """
    wanted_by_default = efa_enabled if default_on is None else default_on
    if group_given and placement is False:
        v.add(
            "placement/placement_group",
            (False, group_label),
            "either a placement_group or placement=False, not both",
        )
    if capacity.is_capacity_block and (group_given or placement is True):
        v.add(
            "placement_group",
            group_label if group_given else placement,
            "none: AWS places a Capacity Block's instances itself",
        )
    if capacity.kind is CapacityKind.CAPACITY_RESERVATION and not group_given and placement:
        v.add(
            "placement",
            True,
            "the placement_group the Capacity Reservation was created in, or placement=None",
            reason="a new placement group cannot use the reservation: it serves only launches "
            "into its own group",
        )
    reservation_without_group = (
        capacity.kind is CapacityKind.CAPACITY_RESERVATION
        and not group_given
        and placement is None
        and wanted_by_default
    )
    create = (
        not group_given
        and not capacity.is_capacity_block
        and (placement is True or (placement is None and wanted_by_default))
        and not reservation_without_group
    )
    strategy = "cluster" if create else group_strategy
    return PlacementPlan(
        create_group=create,
        uses_group=create or group_given,
        strategy=strategy,
        reservation_without_group=reservation_without_group,
    )


def placement_strategy(group: ec2.IPlacementGroup | None) -> str | None:
    """A placement group's strategy in lower case (``cluster``), None when unknown."""
    if group is None or group.strategy is None:
        return None
    return str(group.strategy.value).lower()


# --- user data ----------------------------------------------------------------------------

UserDataInput = ec2.UserData | Sequence[str]


def user_data_commands(v: Validator, prop: str, value: object) -> list[str]:
    """Shell lines from an ``ec2.UserData`` (its shebang dropped) or a list of commands; a
    bare string is one problem (pass ``[script]`` or ``script.splitlines()``)."""
    if value is None:
        return []
    if isinstance(value, ec2.UserData):
        lines = value.render().splitlines()
        return lines[1:] if lines and lines[0].startswith("#!") else lines
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        v.add(prop, value, "a list of shell commands or an ec2.UserData")
        return []
    bad = [c for c in value if not isinstance(c, str)]
    if bad:
        v.add(prop, bad, "shell commands as strings")
        return []
    return list(value)


# --- the launcher base --------------------------------------------------------------------


@jsii.implements(ec2.IConnectable, iam.IGrantable)
class NodeLauncher(Construct):
    """Base of every construct that launches nodes: connectable and grantable the jsii way.

    Subclasses set ``self._node_connections`` and ``self._node_role`` while they render,
    and implement :meth:`add_user_data` and :meth:`add_file_system`.
    """

    _node_connections: ec2.Connections
    _node_role: iam.IRole

    @property
    def connections(self) -> ec2.Connections:
        """The nodes' security groups: ``x.connections.allow_from(launcher, port)``."""
        return self._node_connections

    @property
    def role(self) -> iam.IRole:
        """The nodes' IAM role (passed as ``role`` or created)."""
        return self._node_role

    @property
    def grant_principal(self) -> iam.IPrincipal:
        """The nodes' principal: ``bucket.grant_read(launcher)``."""
        return self._node_role

    def add_user_data(self, *commands: str) -> None:
        """Append shell commands to every node's boot, after the construct's own steps."""
        raise NotImplementedError

    def add_file_system(
        self, file_system: FileSystemInput, *, mount_point: str | None = None
    ) -> SharedFileSystem:
        """Mount an FSx for Lustre or EFS file system on every node, open its ports and
        return the resolved :class:`SharedFileSystem`."""
        raise NotImplementedError


def ssm_node_role(
    scope: Construct, id: str, *, description: str, path: str | None = None
) -> iam.Role:
    """A new EC2 node role with ``AmazonSSMManagedInstanceCore`` (Session Manager instead of
    SSH keys), its cdk-nag finding acknowledged with the reason."""
    role = iam.Role(
        scope,
        id,
        assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
        path=path,
        description=description,
        managed_policies=[
            iam.ManagedPolicy.from_aws_managed_policy_name("AmazonSSMManagedInstanceCore")
        ],
    )
    cdk.Validations.of(role).acknowledge(
        cdk.Acknowledgment(
            id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
            "AmazonSSMManagedInstanceCore]",
            reason="AWS's managed policy for the SSM agent (Session Manager instead of SSH "
            "keys, patching); AWS keeps its action list current and it grants no data access.",
        )
    )
    return role


def node_launcher_path(scope: IConstruct, id: str) -> str:
    """The path a construct will have, for problems found before ``super().__init__``."""
    parent = scope.node.path
    return f"{parent}/{id}" if parent else id


def stack_region(scope: IConstruct) -> str | None:
    region = cdk.Stack.of(scope).region
    return None if cdk.Token.is_unresolved(region) else region


# --- warnings shared by every launcher ----------------------------------------------------


def placement_group_facts(
    group: ec2.IPlacementGroup | None,
) -> tuple[bool, str | None, str | None]:
    """``(given, strategy, label)`` of a placement-group prop, the plain values
    :func:`plan_placement` takes."""
    if group is None:
        return False, None, None
    return True, placement_strategy(group), group.node.path


def efa_disabled(efa: bool | None, efa_capable: bool) -> bool:
    """True when ``efa=False`` turns EFA off on an EFA-capable type (warn
    :data:`hpc_constructs.warning_ids.EFA_DISABLED`)."""
    return efa is False and efa_capable


def resolve_added_file_system(
    v: Validator,
    file_system: object,
    mount_point: str | None,
    existing: Sequence[SharedFileSystem],
    mounted_together: Sequence[Sequence[SharedFileSystem]] | None = None,
) -> SharedFileSystem | None:
    """The argument of an ``add_file_system`` call as a :class:`SharedFileSystem` numbered
    after ``existing``, its mount point checked against each list of ``mounted_together``
    (the file systems that share nodes with it; default: ``existing``); None when a problem
    was recorded."""
    items: Sequence[Any] | Mapping[str, Any]
    if isinstance(file_system, SharedFileSystem):
        items = [
            file_system if mount_point is None else _with(file_system, mount_point=mount_point)
        ]
    else:
        items = [file_system] if mount_point is None else {mount_point: file_system}
    resolved = resolve_file_systems(v, "file_system", items, existing)
    for together in [existing] if mounted_together is None else mounted_together:
        if resolved:
            check_mount_points(v, "mount_point", [*together, *resolved])
    return resolved[0] if resolved and not v.problems else None


@jsii.implements(cdk.IStableStringProducer)
class _TextProducer:
    def __init__(self, render: Callable[[], str]) -> None:
        self._render = render

    def produce(self) -> str | None:
        return self._render()


def lazy_text(render: Callable[[], str]) -> str:
    """A string token rendered at synth time, so a boot script picks up file systems and
    commands added after the launch template was built."""
    return cdk.Lazy.string(_TextProducer(render))


@jsii.implements(cdk.IStableAnyProducer)
class _AnyProducer:
    def __init__(self, render: Callable[[], Any]) -> None:
        self._render = render

    def produce(self) -> Any:
        return self._render()


def lazy_any(render: Callable[[], Any]) -> Any:
    """Any value (a dict, a list) rendered at synth time, so a configuration picks up file
    systems and commands added after the resource that carries it was built."""
    return cdk.Lazy.any(_AnyProducer(render))


def warn_launcher(
    scope: IConstruct,
    *,
    efa_disabled: bool,
    mixed_types: int,
    reservation_without_group: bool,
    where: str = "",
) -> None:
    """The warnings every launcher gives for the same facts, with one message each:
    ``efaDisabled``, ``mixedTypesInPlacementGroup`` (``mixed_types`` is the number of types
    sharing one cluster group; 0 or 1 is no warning) and ``reservationWithoutPlacementGroup``.
    ``where`` prefixes the message (``Compute resource cpu/c7: ``) when one construct warns
    for several node groups."""
    if efa_disabled:
        warn(
            scope,
            "efaDisabled",
            f"{where}efa=False on an EFA-capable instance type: MPI/NCCL traffic falls back to "
            "TCP over ENA, at a fraction of the type's bandwidth and with higher latency.",
        )
    if mixed_types > 1:
        warn(
            scope,
            "mixedTypesInPlacementGroup",
            f"{where}{mixed_types} instance types share one cluster placement group; AWS "
            "recommends one type per group, as mixing makes insufficient-capacity errors more "
            "likely.",
        )
    if reservation_without_group:
        warn(scope, "reservationWithoutPlacementGroup", where + RESERVATION_PLACEMENT_WARNING)


def subnet_selection(scope: IConstruct, prop: str, value: object) -> ec2.SubnetSelection | None:
    """:func:`as_subnet_selection` for a construct that needs the selection before its other
    rules run: a value that is not a selection, a subnet or a list of subnets raises at once."""
    v = Validator(scope)
    selection = as_subnet_selection(v, prop, value)
    v.raise_if_any()
    return selection
