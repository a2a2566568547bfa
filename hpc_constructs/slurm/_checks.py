"""Slurm-only pieces shared by ``PcsCluster`` and ``ParallelCluster``: the deprecated
``SlurmStorage`` alias, the capacity type both services name, and the rules for a node role
passed in. Mount points, subnets, node counts, placement, user data and synth-time rendering
follow :mod:`hpc_constructs.nodes`; field types follow :mod:`hpc_constructs.errors`; the
instance-type, placement and subnet checks every EFA construct applies live in
:mod:`hpc_constructs.compute`.
"""

from __future__ import annotations

import warnings

from aws_cdk import aws_efs as efs
from aws_cdk import aws_iam as iam

from hpc_constructs.capacity import CapacityKind, FleetCapacity
from hpc_constructs.errors import Validator, is_token
from hpc_constructs.mounts import LustreFileSystemLike
from hpc_constructs.nodes import SharedFileSystem


def SlurmStorage(
    file_system: LustreFileSystemLike | efs.IFileSystem,
    mount_dir: str | None = None,
    name: str | None = None,
) -> SharedFileSystem:
    """Deprecated: use :class:`hpc_constructs.nodes.SharedFileSystem` (``mount_point``) in a
    ``file_systems`` prop, or ``add_file_system``. Returns that ``SharedFileSystem``.

    Note the default EFS mount point is now ``/shared`` (it was ``/home``): pass
    ``mount_dir="/home"`` to keep a shared home directory.
    """
    warnings.warn(
        "SlurmStorage is deprecated: use SharedFileSystem(file_system, mount_point=...) in "
        "file_systems, or add_file_system()",
        DeprecationWarning,
        stacklevel=2,
    )
    return SharedFileSystem(file_system, mount_point=mount_dir, name=name)


def role_path_and_name(role: iam.IRole) -> tuple[str | None, str | None]:
    """The IAM path and name of ``role`` when known at synth time: from the ``AWS::IAM::Role``
    of a role defined in the app, or from a concrete ARN of an imported one."""
    child = getattr(getattr(role, "node", None), "default_child", None)
    if isinstance(child, iam.CfnRole):
        path = child.path if child.path is not None else "/"
        name = child.role_name
        return (None if is_token(path) else path, None if is_token(name) else name)
    arn = role.role_arn
    if is_token(arn) or ":role/" not in arn:
        return None, None
    resource = arn.split(":role/", 1)[1]
    path, _, name = resource.rpartition("/")
    return "/" + path + "/" if path else "/", name


def check_role_path(
    v: Validator, prop: str, role: iam.IRole | None, *, path: str, name_prefix: str | None, why: str
) -> None:
    """A role passed in must live under ``path`` (or be named ``name_prefix``*) when its path
    and name are known; unknown ones (tokens) pass and the rule is documented."""
    if role is None:
        return
    role_path, role_name = role_path_and_name(role)
    if role_path is None:
        return
    ok = role_path.startswith(path) or bool(
        name_prefix and role_name and role_name.startswith(name_prefix)
    )
    named = f" or named {name_prefix}*" if name_prefix else ""
    v.require(
        ok,
        prop,
        f"{role_name or '<generated name>'} (path {role_path})",
        f"a role under the path {path}{named}",
        reason=why,
    )


def capacity_type(capacity: FleetCapacity) -> str:
    """The purchase option as PCS (``purchaseOption``) and ParallelCluster (``CapacityType``)
    both name it: ``ONDEMAND`` (Capacity Reservations included), ``SPOT`` or
    ``CAPACITY_BLOCK``."""
    if capacity.kind is CapacityKind.SPOT:
        return "SPOT"
    if capacity.kind is CapacityKind.CAPACITY_BLOCK:
        return "CAPACITY_BLOCK"
    return "ONDEMAND"
