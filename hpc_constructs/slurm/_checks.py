"""Slurm-only pieces shared by ``PcsCluster`` and ``ParallelCluster``: the shared-storage
option and its checks. The instance-type, placement and subnet checks every EFA construct
applies live in :mod:`hpc_constructs.compute`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import aws_efs as efs
from constructs import Construct

from hpc_constructs.errors import Validator
from hpc_constructs.mounts import LustreFileSystemLike

_ABSOLUTE_PATH = re.compile(r"^/[A-Za-z0-9._/-]*$")
#: Directories ParallelCluster refuses as shared-storage mount points
#: (``pcluster.validators.cluster_validators.SharedStorageMountDirValidator``, 3.16.1); mounting
#: over them would also hide the OS, Slurm or the PCS agent on a PCS node.
RESERVED_MOUNT_DIRS = (
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


@dataclass(frozen=True)
class SlurmStorage:
    """An existing shared file system mounted on every node of a Slurm cluster.

    :param file_system: an FSx for Lustre file system (``LustreScratch``, an imported one, or
        any ``LustreFileSystemLike``) or an Amazon EFS file system (``efs.IFileSystem``;
        ParallelCluster only).
    :param mount_dir: absolute path on the nodes. Default: - ``/fsx`` for Lustre, ``/home``
        for EFS (a shared home directory that survives head-node replacement).
    :param name: the ``SharedStorage`` name in the ParallelCluster configuration.
        Default: - ``fsx``, ``fsx2``... / ``efs``, ``efs2``...
    """

    file_system: LustreFileSystemLike | efs.IFileSystem
    mount_dir: str | None = None
    name: str | None = None

    @property
    def is_lustre(self) -> bool:
        """Lustre (it has a mount name); anything else is treated as EFS."""
        return isinstance(self.file_system, LustreFileSystemLike)

    def resolved_mount_dir(self) -> str:
        if self.mount_dir is not None:
            return self.mount_dir
        return "/fsx" if self.is_lustre else "/home"


def as_storage(item: SlurmStorage | LustreFileSystemLike | efs.IFileSystem) -> SlurmStorage:
    """Accept a bare file system where a :class:`SlurmStorage` is expected."""
    return item if isinstance(item, SlurmStorage) else SlurmStorage(file_system=item)


def check_mount_dirs(v: Validator, prop: str, storages: Sequence[SlurmStorage]) -> None:
    dirs = [s.resolved_mount_dir() for s in storages]
    for d in dirs:
        v.require(
            bool(_ABSOLUTE_PATH.match(d)) and d != "/" and d.rstrip("/") not in RESERVED_MOUNT_DIRS,
            prop,
            d,
            "an absolute path other than / (letters, digits, . _ - /), not a system directory "
            f"({', '.join(RESERVED_MOUNT_DIRS)})",
        )
    v.require(len(set(dirs)) == len(dirs), prop, dirs, "a different mount_dir per file system")
    # ParallelCluster's OverlappingMountDirValidator: one mount must not sit inside another.
    parts = [tuple(p for p in d.split("/") if p) for d in dirs]
    nested = sorted(
        {
            dirs[i]
            for i, a in enumerate(parts)
            for j, b in enumerate(parts)
            if i != j and a != b and b[: len(a)] == a
        }
    )
    v.require(
        not nested,
        prop,
        dirs,
        f"mount directories that do not contain one another ({', '.join(nested)} contain(s) "
        "another file system's mount_dir)",
    )


def dependable_parts(file_system: object) -> list[Construct]:
    """What a cluster must wait for besides the file system id it references: EFS mount
    targets (a Lustre file system already waits for its own ingress rules)."""
    if not isinstance(file_system, Construct):
        return []
    return [c for c in file_system.node.find_all() if isinstance(c, efs.CfnMountTarget)]
