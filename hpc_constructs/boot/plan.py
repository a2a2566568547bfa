"""What a node does at boot, as plain values: the input of the boot-script generator.

Every node launcher (``EfaComputeFleet``, ``BatchMultiNode``, ``PcsComputeNodeGroup``) turns
its props into a :class:`BootPlan`; :func:`hpc_constructs.boot.user_data_script` turns the plan
into the user data that installs the node set-up unit. No CDK objects here: the sandbox tests
build plans directly and run the scripts they produce.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from hpc_constructs.errors import Validator

#: How a node reports the end of its boot (see :mod:`hpc_constructs.boot`):
#: ``lifecycle-hook``: an Auto Scaling launch lifecycle hook (CONTINUE / ABANDON), and
#: ``set-instance-health Unhealthy`` when a later boot fails;
#: ``ecs``: the ECS agent stays stopped and the node powers off (AWS Batch);
#: ``slurmd``: slurmd is masked and the node powers off (AWS PCS);
#: ``none``: the failure is logged and the node stays as it is (opted out).
GateKind = Literal["lifecycle-hook", "ecs", "slurmd", "none"]
GATE_KINDS: tuple[GateKind, ...] = ("lifecycle-hook", "ecs", "slurmd", "none")

#: The launch lifecycle hook every fleet declares (a fixed name, so the node finds it without
#: a reference from its user data to the group: that would be a circular dependency).
LIFECYCLE_HOOK_NAME = "hpc-constructs-node-health"

#: Heartbeat timeout of the launch hook: the time a node has to finish its boot before Auto
#: Scaling abandons it (terminates and replaces it). The botocore autoscaling model documents
#: 30 to 7200 seconds for ``LifecycleHookSpecification.HeartbeatTimeout``.
HEARTBEAT_TIMEOUT_RANGE = (30, 7200)
#: Default: 30 minutes, room for the EFA installer and the Lustre client on a cold image.
DEFAULT_HEARTBEAT_TIMEOUT_SECONDS = 1800

#: ``MetadataOptions.HttpPutResponseHopLimit``: 1 to 64, default 1 (botocore ec2 model,
#: ``LaunchTemplateInstanceMetadataOptionsRequest``).
IMDS_HOP_LIMIT_RANGE = (1, 64)
DEFAULT_IMDS_HOP_LIMIT = 1

#: Where the instance store is assembled and its EBS-model filter (NVMe model strings as
#: ``lsblk`` shows them on Nitro instances).
INSTANCE_STORE_MOUNT_POINT = "/scratch/local"
INSTANCE_STORE_MODEL = "Amazon EC2 NVMe Instance Storage"
#: The md array name of the striped instance store.
INSTANCE_STORE_ARRAY = "hpc-local"

#: Options of the Lustre fstab line, after the FSx for Lustre User Guide's example ("Mounting
#: Amazon FSx file systems automatically"): mounted on first access (``x-systemd.automount``),
#: after the network (``_netdev``). The guide's example also has
#: ``x-systemd.requires=network.service``, a unit Amazon Linux 2023 does not have (it uses
#: systemd-networkd), so it is left out, as ParallelCluster's cookbook does on AL2023.
LUSTRE_FSTAB_OPTIONS = "defaults,relatime,flock,_netdev,x-systemd.automount"
#: Options of the EFS fstab line (Amazon EFS User Guide, "Automatically mounting EFS file
#: systems", with the mount helper and TLS).
EFS_FSTAB_OPTIONS = "_netdev,tls,noresvport"

#: Files the user data installs on the node.
SETUP_PATH = "/opt/hpc-constructs/node-setup"
GATE_PATH = "/opt/hpc-constructs/gate"
UNIT_NAME = "hpc-node-setup.service"
LOG_PATH = "/var/log/hpc-constructs-boot.log"
#: Written when the node set-up of this boot succeeded (``/run`` is emptied at every boot).
DONE_MARKER = "/run/hpc-constructs/setup-done"


@dataclass(frozen=True)
class MountStep:
    """A shared file system mounted at every boot through ``/etc/fstab``."""

    kind: Literal["lustre", "efs"]
    #: ``dns@tcp:/mountname`` (Lustre) or ``fs-id:/`` (EFS); may hold CloudFormation tokens.
    source: str
    mount_point: str

    @property
    def fstab_line(self) -> str:
        options = LUSTRE_FSTAB_OPTIONS if self.kind == "lustre" else EFS_FSTAB_OPTIONS
        return f"{self.source} {self.mount_point} {self.kind} {options} 0 0"


@dataclass(frozen=True)
class ScratchStep:
    """An extra EBS volume, formatted once and mounted at every boot (kept across reboots
    and stop/start, deleted with the instance)."""

    device_name: str
    mount_point: str
    description: str


@dataclass(frozen=True)
class TelemetryStep:
    """The CloudWatch agent on the node: its log group, the ``NodeGroup`` dimension of its
    metrics (the launcher's construct path) and which metric sections apply."""

    log_group: str
    node_group: str
    efa: bool = False
    gpu: bool = False
    slurm: bool = False


#: The file an :class:`~hpc_constructs.image.HpcImage` writes on its AMI: one ``name=version``
#: line per baked-in piece of software; a node on that image logs it at every boot.
IMAGE_MANIFEST_PATH = "/etc/hpc-constructs/image-versions"


@dataclass(frozen=True)
class ImageFacts:
    """What a golden image (:class:`~hpc_constructs.image.HpcImage`) has baked in, as plain
    values. A node on such an image installs nothing at boot: it verifies (EFA devices and
    provider, the Lustre module, the mounts) and fails its health gate when a piece is missing."""

    #: The image's construct path (named in the boot log and in error messages).
    name: str
    architecture: str
    gpu: bool = False
    efa: bool = True
    lustre_client: bool = True
    efs_client: bool = True
    cloudwatch_agent: bool = True
    #: ``(name, version)`` pairs pinned at build time (the manifest on the image has the
    #: versions found on it, e.g. libfabric and the kernel, too).
    versions: tuple[tuple[str, str], ...] = ()
    #: Slurm major version of the AWS PCS software on the image (None: no PCS software).
    pcs_slurm_version: str | None = None
    #: Built on the ECS-optimized AMI (the ECS agent is on it: AWS Batch can use it).
    ecs: bool = False


@dataclass(frozen=True)
class BootPlan:
    """Everything a node's boot does, in order: EFA software and devices, the instance store,
    an EBS scratch volume, shared file systems; then (first boot only) the user's commands;
    then the health gate."""

    launcher: str
    instance_type: str
    #: EFA devices the node must show (``/dev/infiniband/uverbs*``); 0: no EFA check.
    efa_devices: int = 0
    #: Install the EFA software when the image lacks it.
    install_efa: bool = False
    #: Instance-store NVMe disks to stripe at :data:`INSTANCE_STORE_MOUNT_POINT`; 0: none.
    instance_store_disks: int = 0
    scratch: ScratchStep | None = None
    mounts: tuple[MountStep, ...] = ()
    gate: GateKind = "none"
    #: systemd units that must not start unless the set-up succeeded (``ecs``, ``slurmd``).
    required_by: tuple[str, ...] = field(default=())
    #: Logs and metrics through the CloudWatch agent; None: no agent.
    telemetry: TelemetryStep | None = None
    #: The golden image the node runs (None: a stock image, software installed at boot).
    image: ImageFacts | None = None

    def __post_init__(self) -> None:
        if self.image is not None and self.install_efa:  # pragma: no cover - a launcher bug
            raise ValueError("a node on a golden image installs nothing (install_efa=True)")


def gate_for(kind: GateKind, enabled: bool) -> GateKind:
    """The gate a launcher uses, or ``none`` when the user opted out (``health_gate=False``)."""
    return kind if enabled else "none"


#: ``retentionInDays`` values CloudWatch Logs accepts (botocore logs model, ``Days``).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                      2192, 2557, 2922, 3288, 3653)  # fmt: skip
#: Default: 180 days, as ParallelCluster's CloudWatch logs.
DEFAULT_LOG_RETENTION_DAYS = 180


def log_retention_rule(v: Validator, days: object) -> None:
    """A retention given in days must be one CloudWatch Logs accepts (``logs.RetentionDays``
    members always are)."""
    if isinstance(days, int) and not isinstance(days, bool):
        v.one_of("log_retention", days, LOG_RETENTION_DAYS, "the values CloudWatch Logs accepts")


def heartbeat_timeout_rule(v: Validator, seconds: int) -> None:
    low, high = HEARTBEAT_TIMEOUT_RANGE
    v.in_range("health_gate_timeout", seconds, low, high, unit="seconds")


def imds_hop_limit_rule(v: Validator, hops: int) -> None:
    low, high = IMDS_HOP_LIMIT_RANGE
    v.in_range("imds_hop_limit", hops, low, high)
