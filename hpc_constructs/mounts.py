"""What compute constructs need to know about a Lustre file system to reach and mount it.

``LustreScratch``, aws-cdk-lib's ``fsx.LustreFileSystem`` and file systems imported with
``LustreScratch.from_attributes`` all satisfy :class:`LustreFileSystemLike`, so fleets, Batch
compute environments and DataSync locations accept any of them.
"""

from __future__ import annotations

import shlex
from typing import Protocol, runtime_checkable

from aws_cdk import aws_ec2 as ec2

from hpc_constructs.boot.plan import LUSTRE_FSTAB_OPTIONS
from hpc_constructs.limits import LUSTRE_TCP_PORT_RANGES

#: Lustre client traffic: TCP 988 (LNET) and 1018-1023, per the FSx for Lustre User Guide
#: ("File system access control with Amazon VPC"). Nothing wider is opened.
LUSTRE_PORTS: tuple[ec2.Port, ...] = tuple(
    ec2.Port.tcp_range(start, end) if start != end else ec2.Port.tcp(start)
    for start, end in LUSTRE_TCP_PORT_RANGES
)


@runtime_checkable
class LustreFileSystemLike(Protocol):
    """A Lustre file system a client can mount: id, DNS name, mount name and connections."""

    @property
    def file_system_id(self) -> str: ...

    @property
    def dns_name(self) -> str: ...

    @property
    def mount_name(self) -> str: ...

    @property
    def connections(self) -> ec2.Connections: ...


def allow_lustre_clients(file_system: LustreFileSystemLike, clients: ec2.IConnectable) -> None:
    """Open exactly the Lustre ports between ``clients`` and ``file_system``, both ways.

    The FSx for Lustre User Guide ("File system access control with Amazon VPC") lists TCP 988
    and 1018-1023 inbound on the file system's group from its clients, and the same ports
    inbound on the clients' groups from the file system (Lustre servers also open connections
    to clients). ``Connections`` adds the matching egress rules where a group restricts egress.
    """
    for port in LUSTRE_PORTS:
        file_system.connections.allow_from(clients, port, "Lustre client traffic")
        clients.connections.allow_from(file_system.connections, port, "Lustre server traffic")


def lustre_mount_commands(
    file_system: LustreFileSystemLike,
    mount_point: str,
    *,
    options: str = LUSTRE_FSTAB_OPTIONS,
) -> list[str]:
    """Shell lines that install the Lustre client (Amazon Linux 2023) and mount the file
    system, for instances the library does not launch (its own launchers use
    :mod:`hpc_constructs.boot`, which also runs at every boot).

    The fstab line uses the FSx for Lustre User Guide's options (``_netdev``,
    ``x-systemd.automount``, after the network), so the mount returns after a reboot and is
    retried on access; the lines are safe to run twice (one fstab line, no second mount).
    """
    mount = shlex.quote(mount_point)
    source = f"{file_system.dns_name}@tcp:/{file_system.mount_name}"
    line = shlex.quote(f"{source} {mount_point} lustre {options} 0 0")
    return [
        "# FSx for Lustre client and mount (hpc-constructs)",
        "command -v mount.lustre >/dev/null 2>&1 || dnf install -y lustre-client",
        f"mkdir -p {mount}",
        f"grep -qxF {line} /etc/fstab || echo {line} >> /etc/fstab",
        f"for delay in 5 10 20 40 60; do findmnt -rn -t lustre -M {mount} >/dev/null "
        f"|| mount {mount} || true; findmnt -rn -t lustre -M {mount} >/dev/null && break; "
        'sleep "$delay"; done',
        f"findmnt -rn -t lustre -M {mount} >/dev/null",
    ]
