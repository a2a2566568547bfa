"""AWS limits the constructs and the cfn-lint rule pack both enforce, as pure functions.

This module imports nothing but the standard library, so the cfn-lint rules in
``hpc_constructs/cfn_lint_rules`` can load it without starting the CDK. Each function returns a
list of problem descriptions (empty when the input is valid). Sources are named per rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# --- FSx for Lustre -------------------------------------------------------------------------
# Source: botocore fsx service model (CreateFileSystemRequest.StorageCapacity,
# CreateFileSystemLustreConfiguration.PerUnitStorageThroughput/DeploymentType/DriveCacheType),
# FSx for Lustre User Guide "Performance"; cross-checked against aws-cdk-lib 2.275
# LustreFileSystem validation and ParallelCluster 3.16 fsx_validators.

LUSTRE_DEPLOYMENT_TYPES = ("SCRATCH_1", "SCRATCH_2", "PERSISTENT_1", "PERSISTENT_2")
LUSTRE_STORAGE_TYPES = ("SSD", "HDD", "INTELLIGENT_TIERING")

#: Valid PerUnitStorageThroughput (MB/s/TiB) per (deployment type, storage type).
LUSTRE_PER_UNIT_THROUGHPUT: Mapping[tuple[str, str], tuple[int, ...]] = {
    ("PERSISTENT_1", "SSD"): (50, 100, 200),
    ("PERSISTENT_1", "HDD"): (12, 40),
    ("PERSISTENT_2", "SSD"): (125, 250, 500, 1000),
}

#: Baseline throughput per TiB of SCRATCH file systems (MB/s/TiB), FSx Lustre User Guide.
LUSTRE_SCRATCH_BASELINE_PER_TIB = {"SCRATCH_1": 200, "SCRATCH_2": 200}

#: Metadata IOPS a PERSISTENT_2 SSD file system may provision (USER_PROVISIONED mode):
#: 1500, 3000, 6000, 12000, then multiples of 12000 up to 192000 (botocore fsx model).
LUSTRE_METADATA_IOPS_SSD: tuple[int, ...] = (1500, 3000, 6000, *range(12000, 192001, 12000))
#: Intelligent-Tiering file systems: 6000 or 12000 (FSx API reference).
LUSTRE_METADATA_IOPS_INTELLIGENT_TIERING: tuple[int, ...] = (6000, 12000)

LUSTRE_MAX_DATA_REPOSITORY_ASSOCIATIONS = 8
LUSTRE_BACKUP_RETENTION_DAYS = (0, 90)
LUSTRE_IMPORTED_FILE_CHUNK_SIZE_MIB = (1, 512_000)


def lustre_capacity_rule(deployment_type: str, storage_type: str, per_unit: int | None) -> str:
    """Human-readable rule for valid StorageCapacity (GiB) of a deployment/storage type."""
    if storage_type == "HDD":
        if per_unit == 12:
            return "a multiple of 6000 GiB for HDD at 12 MB/s/TiB"
        return "a multiple of 1800 GiB for HDD at 40 MB/s/TiB"
    if deployment_type == "SCRATCH_1":
        return "1200, 2400, or a multiple of 3600 GiB"
    return "1200, 2400, or a multiple of 2400 GiB"


def lustre_capacity_ok(
    deployment_type: str, storage_type: str, capacity: int, per_unit: int | None
) -> bool:
    if capacity <= 0:
        return False
    if storage_type == "HDD":
        step = 6000 if per_unit == 12 else 1800
        return capacity % step == 0
    if storage_type == "INTELLIGENT_TIERING":
        return True  # elastic storage: capacity is not provisioned
    if capacity in (1200, 2400):
        return True
    step = 3600 if deployment_type == "SCRATCH_1" else 2400
    return capacity % step == 0


def lustre_valid_capacities(
    deployment_type: str, storage_type: str, per_unit: int | None, up_to: int
) -> list[int]:
    """Every valid capacity (GiB) up to ``up_to``, smallest first."""
    if storage_type == "HDD":
        step = 6000 if per_unit == 12 else 1800
        return list(range(step, up_to + 1, step))
    step = 3600 if deployment_type == "SCRATCH_1" else 2400
    values = {1200, 2400, *range(step, up_to + 1, step)}
    return sorted(v for v in values if v <= up_to)


def lustre_problems(
    *,
    deployment_type: str | None,
    storage_type: str | None,
    storage_capacity_gib: int | None,
    per_unit_storage_throughput: int | None,
    drive_cache_type: str | None = None,
) -> list[tuple[str, Any, str]]:
    """Problems as ``(property, value, allowed)`` for a Lustre file system's sizing props.

    ``None`` means "not set" (CloudFormation's default applies: SCRATCH_1 and SSD).
    """
    problems: list[tuple[str, Any, str]] = []
    deployment = deployment_type or "SCRATCH_1"
    storage = storage_type or "SSD"
    if deployment not in LUSTRE_DEPLOYMENT_TYPES:
        problems.append(
            ("DeploymentType", deployment, "one of " + ", ".join(LUSTRE_DEPLOYMENT_TYPES))
        )
        return problems
    if storage not in LUSTRE_STORAGE_TYPES:
        problems.append(("StorageType", storage, "one of " + ", ".join(LUSTRE_STORAGE_TYPES)))
        return problems
    if storage == "HDD" and deployment != "PERSISTENT_1":
        problems.append(
            ("StorageType", storage, "SSD for " + deployment + " (HDD needs PERSISTENT_1)")
        )
    if storage == "INTELLIGENT_TIERING" and deployment != "PERSISTENT_2":
        problems.append(
            (
                "StorageType",
                storage,
                "SSD for " + deployment + " (INTELLIGENT_TIERING needs PERSISTENT_2)",
            )
        )
    if drive_cache_type is not None and storage != "HDD":
        problems.append(("DriveCacheType", drive_cache_type, "unset unless StorageType is HDD"))
    if deployment.startswith("SCRATCH"):
        if per_unit_storage_throughput is not None:
            problems.append(
                ("PerUnitStorageThroughput", per_unit_storage_throughput, f"unset for {deployment}")
            )
    elif storage != "INTELLIGENT_TIERING":
        allowed = LUSTRE_PER_UNIT_THROUGHPUT.get((deployment, storage), ())
        if per_unit_storage_throughput not in allowed:
            problems.append(
                (
                    "PerUnitStorageThroughput",
                    per_unit_storage_throughput,
                    f"one of {', '.join(str(a) for a in allowed)} MB/s/TiB for {deployment} {storage}",
                )
            )
    if (
        storage_capacity_gib is not None
        and storage != "INTELLIGENT_TIERING"
        and not lustre_capacity_ok(
            deployment, storage, storage_capacity_gib, per_unit_storage_throughput
        )
    ):
        problems.append(
            (
                "StorageCapacity",
                storage_capacity_gib,
                lustre_capacity_rule(deployment, storage, per_unit_storage_throughput)
                + f" for {deployment}",
            )
        )
    return problems


#: Lustre versions FSx accepts (FileSystemTypeVersion), botocore fsx model.
LUSTRE_FILE_SYSTEM_TYPE_VERSIONS = ("2.10", "2.12", "2.15")
#: Data repository associations need Lustre 2.12 or 2.15 and are not offered on SCRATCH_1 or
#: on INTELLIGENT_TIERING storage (FSx API reference, DataRepositoryAssociation).
LUSTRE_DRA_FILE_SYSTEM_TYPE_VERSIONS = ("2.12", "2.15")
LUSTRE_DRA_EVENTS = ("NEW", "CHANGED", "DELETED")
#: Intelligent-Tiering ThroughputCapacity (MBps): 4000 or a multiple of 4000 (CloudFormation
#: AWS::FSx::FileSystem LustreConfiguration doc; botocore shape minimum 4000), up to 2,000,000.
LUSTRE_IT_THROUGHPUT_STEP_MBPS = 4000
LUSTRE_IT_MAX_THROUGHPUT_MBPS = 2_000_000
LUSTRE_READ_CACHE_SIZING_MODES = (
    "NO_CACHE",
    "USER_PROVISIONED",
    "PROPORTIONAL_TO_THROUGHPUT_CAPACITY",
)
LUSTRE_METADATA_MODES = ("AUTOMATIC", "USER_PROVISIONED")


def lustre_baseline_mbps_per_tib(deployment_type: str, per_unit: int | None) -> int | None:
    """Baseline disk throughput per TiB: PerUnitStorageThroughput, or 200 for SCRATCH."""
    if deployment_type in LUSTRE_SCRATCH_BASELINE_PER_TIB:
        return LUSTRE_SCRATCH_BASELINE_PER_TIB[deployment_type]
    return per_unit


def lustre_throughput_mbps(capacity_gib: int, per_tib: int) -> int:
    """Baseline MB/s = capacity (TiB) x per-unit throughput, with 1 TiB counted as 1000 GiB as
    in the FSx API's own example (2.4 TiB x 50 MB/s/TiB = 120 MB/s for 2400 GiB)."""
    return capacity_gib * per_tib // 1000


def lustre_capacity_for_throughput(
    target_mbps: float, deployment_type: str, storage_type: str, per_unit: int | None
) -> int:
    """Smallest valid StorageCapacity (GiB) whose baseline throughput is at least ``target_mbps``.

    Raises ``ValueError`` when the deployment/storage type has no fixed per-TiB throughput.
    """
    per_tib = lustre_baseline_mbps_per_tib(deployment_type, per_unit)
    if not per_tib or per_tib <= 0:
        raise ValueError(f"no baseline throughput per TiB for {deployment_type} {storage_type}")
    needed = -(-round(target_mbps * 1000) // per_tib)  # ceil(target * 1000 / per_tib)
    if storage_type == "HDD":
        step = 6000 if per_unit == 12 else 1800
        return max(step, -(-needed // step) * step)
    for small in (1200, 2400):
        if needed <= small:
            return small
    step = 3600 if deployment_type == "SCRATCH_1" else 2400
    return -(-needed // step) * step


def lustre_paths_overlap(first: str, second: str) -> bool:
    """True when two file-system paths are equal or one contains the other (/a and /a/b)."""
    a = first.rstrip("/") or "/"
    b = second.rstrip("/") or "/"
    if a == b or a == "/" or b == "/":
        return True
    return a.startswith(b + "/") or b.startswith(a + "/")


# --- EFA network interfaces -----------------------------------------------------------------
# Source: EC2 User Guide "Maximize network bandwidth on accelerated instances"
# (efa-acc-inst-types), CloudFormation AWS::EC2::LaunchTemplate NetworkInterface docs, botocore
# ec2 LaunchTemplateInstanceNetworkInterfaceSpecificationRequest.

EFA_INTERFACE_TYPES = ("interface", "efa", "efa-only")


@dataclass(frozen=True)
class InterfaceView:
    """The fields of one launch-template network interface that the EFA rules look at."""

    network_card_index: int
    device_index: int
    interface_type: str
    has_ip_settings: bool = False


def efa_layout_problems(interfaces: Sequence[InterfaceView]) -> list[str]:
    """Problems in a launch template's network-interface list under AWS's EFA rules."""
    problems: list[str] = []
    seen: set[tuple[int, int]] = set()
    efa_per_card: dict[int, int] = {}
    for itf in interfaces:
        where = f"card {itf.network_card_index} device {itf.device_index}"
        if itf.interface_type not in EFA_INTERFACE_TYPES:
            problems.append(
                f"{where}: InterfaceType {itf.interface_type!r} is not one of {', '.join(EFA_INTERFACE_TYPES)}"
            )
        key = (itf.network_card_index, itf.device_index)
        if key in seen:
            problems.append(f"{where}: two interfaces use the same network card and device index")
        seen.add(key)
        if itf.interface_type in ("efa", "efa-only"):
            efa_per_card[itf.network_card_index] = efa_per_card.get(itf.network_card_index, 0) + 1
        if itf.interface_type == "efa-only":
            if key == (0, 0):
                problems.append(f"{where}: the primary interface cannot be efa-only")
            if itf.has_ip_settings:
                problems.append(f"{where}: an efa-only interface cannot carry IP addresses")
    for card, count in sorted(efa_per_card.items()):
        if count > 1:
            problems.append(
                f"card {card}: {count} EFA interfaces; at most one EFA per network card"
            )
    if interfaces and (0, 0) not in seen:
        problems.append("no primary interface at network card 0, device index 0")
    return problems


# --- AWS Batch multi-node parallel jobs -----------------------------------------------------
# Source: botocore batch model NodeProperties / NodeRangeProperty; AWS Batch User Guide
# "Multi-node parallel jobs" (up to five node groups; ranges must account for all nodes).

BATCH_MAX_NODE_RANGES = 5
BATCH_MAX_NODES = 1000


def parse_target_nodes(target: str, num_nodes: int) -> tuple[int, int] | None:
    """Parse ``"a:b"`` / ``":b"`` / ``"a:"`` / ``"a"`` into an inclusive range, or None."""
    text = target.strip()
    if ":" not in text:
        return (int(text), int(text)) if text.isdigit() else None
    start_text, end_text = text.split(":", 1)
    if (start_text and not start_text.isdigit()) or (end_text and not end_text.isdigit()):
        return None
    start = int(start_text) if start_text else 0
    end = int(end_text) if end_text else num_nodes - 1
    return (start, end)


def node_range_problems(num_nodes: int, main_node: int, target_nodes: Iterable[str]) -> list[str]:
    """Problems with a multi-node job's node count, main node and node ranges."""
    problems: list[str] = []
    targets = list(target_nodes)
    if not 1 <= num_nodes <= BATCH_MAX_NODES:
        problems.append(f"NumNodes {num_nodes} must be 1 to {BATCH_MAX_NODES}")
    if not 0 <= main_node < max(num_nodes, 1):
        problems.append(f"MainNode {main_node} must be less than NumNodes {num_nodes}")
    if not targets:
        problems.append("at least one node range is required")
    if len(targets) > BATCH_MAX_NODE_RANGES:
        problems.append(f"{len(targets)} node ranges; at most {BATCH_MAX_NODE_RANGES} are allowed")
    covered: set[int] = set()
    for target in targets:
        parsed = parse_target_nodes(target, num_nodes)
        if parsed is None:
            problems.append(f"TargetNodes {target!r} is not a range like '0:3', ':3' or '4:'")
            continue
        start, end = parsed
        if start > end or end >= num_nodes:
            problems.append(f"TargetNodes {target!r} is outside nodes 0:{num_nodes - 1}")
            continue
        covered.update(range(start, end + 1))
    missing = sorted(set(range(num_nodes)) - covered)
    if targets and missing and len(missing) < num_nodes + 1:
        shown = ", ".join(str(m) for m in missing[:10]) + (" ..." if len(missing) > 10 else "")
        problems.append(f"node ranges leave nodes {shown} without a container")
    return problems


# --- EBS volumes ------------------------------------------------------------------------------
# Source: botocore ec2 model CreateVolumeRequest.Size/Iops/Throughput and
# LaunchTemplateEbsBlockDeviceRequest (API limits current as of botocore 1.44.8); EBS User Guide
# "Provisioned IOPS SSD volumes" (io2 Block Express, 1,000 IOPS per GiB) and "General Purpose
# SSD volumes" (gp3: 0.25 MiB/s per provisioned IOPS).

EBS_IO2_SIZE_GIB = (4, 65_536)
EBS_IO2_IOPS = (100, 256_000)
EBS_IO2_MAX_IOPS_PER_GIB = 1_000
EBS_GP3_SIZE_GIB = (1, 65_536)
EBS_GP3_IOPS = (3_000, 80_000)
#: gp3 IOPS may be at most 500 times the size in GiB (EBS User Guide, "General Purpose SSD
#: volumes"); the 3,000 baseline IOPS apply at any size.
EBS_GP3_MAX_IOPS_PER_GIB = 500
EBS_GP3_THROUGHPUT_MIBPS = (125, 2_000)
EBS_GP3_MAX_MIBPS_PER_IOPS = 0.25


# --- AWS Batch array jobs, retries, queues and fair share -----------------------------------
# Source: botocore batch service model 2016-08-10 (shipped with the pinned botocore):
# SubmitJobRequest.arrayProperties ("The array size can be between 2 and 10,000"),
# RetryStrategy.attempts ("between 1 and 10 attempts") and .evaluateOnExit ("up to 5 objects"),
# RegisterJobDefinitionRequest.timeout ("The minimum value for the timeout is 60 seconds"; "If
# a job is terminated due to a timeout, it isn't retried") and .schedulingPriority (0 to 9999),
# CreateJobQueueRequest.computeEnvironmentOrder ("up to three compute environments"; EC2 and
# Fargate environments can't be mixed; one architecture per queue), FairsharePolicy
# (computeReservation 0 to 99, shareDecaySeconds up to 604800), ShareAttributes (weightFactor
# 0.0001 to 999.9999; shareIdentifier up to 255 alphanumeric characters, optionally ending in
# "*"; at most 500 share identifiers active in a job queue) and ResourceRequirement (the
# Fargate VCPU/MEMORY pairs below).

BATCH_ARRAY_SIZE = (2, 10_000)
BATCH_RETRY_ATTEMPTS = (1, 10)
BATCH_MAX_EVALUATE_ON_EXIT = 5
BATCH_MIN_TIMEOUT_SECONDS = 60
BATCH_MAX_COMPUTE_ENVIRONMENTS_PER_QUEUE = 3
BATCH_SCHEDULING_PRIORITY = (0, 9_999)
BATCH_FAIRSHARE_COMPUTE_RESERVATION = (0, 99)
BATCH_FAIRSHARE_MAX_SHARE_DECAY_SECONDS = 604_800
BATCH_FAIRSHARE_WEIGHT_FACTOR = (0.0001, 999.9999)
BATCH_FAIRSHARE_MAX_SHARES = 500
BATCH_SHARE_IDENTIFIER_MAX_CHARS = 255
#: The status reason Batch gives a job whose Spot Instance was reclaimed (AWS Batch User Guide,
#: "Automated job retries"; aws-cdk-lib's ``batch.Reason.SPOT_INSTANCE_RECLAIMED`` matches it).
BATCH_SPOT_RECLAIMED_STATUS_REASON = "Host EC2*"

#: Fargate memory (MiB) Batch accepts per vCPU value (botocore ResourceRequirement.value).
BATCH_FARGATE_MEMORY_MIB: Mapping[float, tuple[int, ...]] = {
    0.25: (512, 1024, 2048),
    0.5: tuple(range(1024, 4097, 1024)),
    1: tuple(range(2048, 8193, 1024)),
    2: tuple(range(4096, 16385, 1024)),
    4: tuple(range(8192, 30721, 1024)),
    8: tuple(range(16384, 61441, 4096)),
    16: tuple(range(32768, 122881, 8192)),
    32: (61440, 122880, 249856),
}


def share_identifier_ok(identifier: str) -> bool:
    """A fair-share identifier: 1 to 255 letters and digits, optionally ending in ``*``."""
    body = identifier[:-1] if identifier.endswith("*") else identifier
    return 0 < len(body) <= BATCH_SHARE_IDENTIFIER_MAX_CHARS and body.isascii() and body.isalnum()


def overlapping_share_identifiers(identifiers: Sequence[str]) -> list[tuple[str, str]]:
    """Pairs of identifiers a fair-share policy may not hold together: a prefix (``teamA*``)
    covering another identifier (``teamA1``), or the same identifier twice."""
    pairs: list[tuple[str, str]] = []
    for i, first in enumerate(identifiers):
        for second in identifiers[i + 1 :]:
            a, b = first.rstrip("*"), second.rstrip("*")
            if (
                a == b
                or (first.endswith("*") and b.startswith(a))
                or (second.endswith("*") and a.startswith(b))
            ):
                pairs.append((first, second))
    return pairs


# --- CloudFormation-shaped inputs -----------------------------------------------------------
# The cfn-lint rule pack (``cfn_lint_rules/HpcRules.py``) and the cdk-nag pack
# (``hpc_constructs/policy``) both read template-shaped property dicts; these helpers turn
# them into the plain values the rules above take. A value computed at deploy time (``Ref``,
# ``Fn::If`` ...) makes a helper return ``None``: the rule does not apply rather than guess.


def literal_int(value: Any) -> int | None:
    """An integer written literally in a template (``5`` or ``"5"``), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def literal_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def lustre_resource_problems(props: Mapping[str, Any]) -> list[tuple[str, Any, str]] | None:
    """:func:`lustre_problems` for an ``AWS::FSx::FileSystem``'s Properties; None when it is
    not Lustre or a sizing value is computed at deploy time."""
    if props.get("FileSystemType") != "LUSTRE":
        return None
    lustre = props.get("LustreConfiguration") or {}
    if not isinstance(lustre, Mapping):
        return None
    raw = {
        "DeploymentType": lustre.get("DeploymentType"),
        "StorageType": props.get("StorageType"),
        "StorageCapacity": props.get("StorageCapacity"),
        "PerUnitStorageThroughput": lustre.get("PerUnitStorageThroughput"),
        "DriveCacheType": lustre.get("DriveCacheType"),
    }
    if any(isinstance(v, (dict, list)) for v in raw.values()):
        return None
    return lustre_problems(
        deployment_type=literal_str(raw["DeploymentType"]),
        storage_type=literal_str(raw["StorageType"]),
        storage_capacity_gib=literal_int(raw["StorageCapacity"]),
        per_unit_storage_throughput=literal_int(raw["PerUnitStorageThroughput"]),
        drive_cache_type=literal_str(raw["DriveCacheType"]),
    )


#: Interface keys that give a network interface an IP address (an efa-only one takes none).
INTERFACE_IP_KEYS = (
    "PrivateIpAddress",
    "PrivateIpAddresses",
    "SecondaryPrivateIpAddressCount",
    "Ipv6AddressCount",
    "Ipv6Addresses",
    "AssociatePublicIpAddress",
)


def interface_views(interfaces: Any) -> list[InterfaceView] | None:
    """A launch template's (or instance's) ``NetworkInterfaces`` as :class:`InterfaceView`;
    None when absent, empty or computed at deploy time."""
    if not isinstance(interfaces, list) or not interfaces:
        return None
    views: list[InterfaceView] = []
    for itf in interfaces:
        if not isinstance(itf, Mapping):
            return None
        card = literal_int(itf.get("NetworkCardIndex", 0))
        device = literal_int(itf.get("DeviceIndex", 0))
        kind = itf.get("InterfaceType", "interface")
        if card is None or device is None or not isinstance(kind, str):
            return None
        has_ip = any(itf.get(k) not in (None, False, 0, []) for k in INTERFACE_IP_KEYS)
        views.append(InterfaceView(card, device, kind, has_ip))
    return views


def efa_cards(views: Sequence[InterfaceView]) -> set[int]:
    """The network cards that carry an EFA (``efa`` or ``efa-only``) interface."""
    return {v.network_card_index for v in views if v.interface_type in ("efa", "efa-only")}


def efa_card_coverage_problems(
    instance_type: str, used_cards: Iterable[int], capable_cards: Iterable[int]
) -> list[str]:
    """An EFA instance needs an EFA interface on every EFA-capable network card (the cards
    ``hpc_constructs.catalog.plan_efa_interfaces`` lays out) to get its full bandwidth."""
    missing = sorted(set(capable_cards) - set(used_cards))
    if not missing:
        return []
    shown = ", ".join(str(c) for c in missing[:8]) + (" ..." if len(missing) > 8 else "")
    return [f"{instance_type}: no EFA interface on EFA-capable network card(s) {shown}"]


def multinode_problems(props: Mapping[str, Any]) -> list[str] | None:
    """:func:`node_range_problems` for an ``AWS::Batch::JobDefinition``'s Properties; None
    when it is not a multinode job or its node properties are computed at deploy time."""
    if str(props.get("Type", "")).lower() != "multinode":
        return None
    node_props = props.get("NodeProperties") or {}
    if not isinstance(node_props, Mapping):
        return None
    num = literal_int(node_props.get("NumNodes"))
    main = literal_int(node_props.get("MainNode", 0))
    ranges = node_props.get("NodeRangeProperties")
    if num is None or main is None or not isinstance(ranges, list):
        return None
    targets = [r.get("TargetNodes") for r in ranges if isinstance(r, Mapping)]
    if not all(isinstance(t, str) for t in targets):
        return None
    return node_range_problems(num, main, [str(t) for t in targets])


# --- Lustre client ports ----------------------------------------------------------------------
# Source: FSx for Lustre User Guide, "File system access control with Amazon VPC": inbound
# TCP 988 and TCP 1018-1023 on the file system's security group, from the clients and from
# the group itself. ``hpc_constructs.mounts.LUSTRE_PORTS`` opens exactly these.

LUSTRE_TCP_PORT_RANGES: tuple[tuple[int, int], ...] = ((988, 988), (1018, 1023))


def lustre_ingress_problems(rules: Sequence[tuple[str, int | None, int | None]]) -> list[str]:
    """Problems with a Lustre file system group's inbound rules, each ``(IpProtocol,
    FromPort, ToPort)``: every rule opens exactly TCP 988 or TCP 1018-1023, and both are open."""
    problems: list[str] = []
    opened: set[tuple[int, int]] = set()
    allowed = " or ".join(
        f"tcp {a}" if a == b else f"tcp {a}-{b}" for a, b in LUSTRE_TCP_PORT_RANGES
    )
    for protocol, start, end in rules:
        proto = str(protocol).lower()
        span = (start, end)
        if proto in ("tcp", "6") and span in LUSTRE_TCP_PORT_RANGES:
            opened.add((start, end))  # type: ignore[arg-type]
            continue
        shown = "all traffic" if proto == "-1" else f"{proto} {start}-{end}"
        problems.append(f"inbound rule {shown} is not exactly {allowed}")
    for span in LUSTRE_TCP_PORT_RANGES:
        if span not in opened:
            problems.append(f"no inbound rule opens tcp {span[0]}-{span[1]}")
    return problems


# --- Data-bearing resources -----------------------------------------------------------------
# Source: CloudFormation User Guide, "DeletionPolicy attribute" (Retain, RetainExceptOnCreate,
# and Snapshot for the types that support snapshots). The library keeps data-bearing
# resources by default (ARCHITECTURE.md, "Constraints every change keeps").

DATA_BEARING_RESOURCE_TYPES = (
    "AWS::EC2::Volume",
    "AWS::EFS::FileSystem",
    "AWS::FSx::FileSystem",
    "AWS::S3::Bucket",
    "AWS::RDS::DBCluster",
    "AWS::RDS::DBInstance",
)
#: Deletion policies that keep the data (``Snapshot`` only where CloudFormation supports it).
KEEPING_DELETION_POLICIES: Mapping[str, tuple[str, ...]] = {
    "AWS::EC2::Volume": ("Retain", "RetainExceptOnCreate", "Snapshot"),
    "AWS::RDS::DBCluster": ("Retain", "RetainExceptOnCreate", "Snapshot"),
    "AWS::RDS::DBInstance": ("Retain", "RetainExceptOnCreate", "Snapshot"),
}
DEFAULT_KEEPING_DELETION_POLICIES = ("Retain", "RetainExceptOnCreate")


def deletion_policy_problems(resource_type: str, deletion_policy: Any) -> list[str] | None:
    """None for a resource type that holds no data; else a problem when its DeletionPolicy
    (None: CloudFormation's default, Delete) would delete the data with the stack."""
    if resource_type not in DATA_BEARING_RESOURCE_TYPES:
        return None
    keeping = KEEPING_DELETION_POLICIES.get(resource_type, DEFAULT_KEEPING_DELETION_POLICIES)
    if deletion_policy in keeping:
        return []
    return [
        f"{resource_type} DeletionPolicy {deletion_policy or 'Delete (default)'} deletes its "
        f"data with the stack; allowed: {', '.join(keeping)}"
    ]
