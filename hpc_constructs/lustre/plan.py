"""The rules of ``LustreScratch`` as pure functions on plain values, and the plan they build.

``plan_lustre(path, request)`` turns a :class:`LustreRequest` (props reduced to plain values:
strings, numbers, construct paths) into a frozen :class:`LustrePlan`, or raises
``HpcValidationError`` with every problem. Each rule is its own function taking a
``Validator``, so it can be tested without an App or a Stack; the construct only renders the
plan into aws-cdk-lib objects.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hpc_constructs import limits
from hpc_constructs.errors import TOKEN_SHOWN, Validator, is_token, needs_concrete_value
from hpc_constructs.lustre.options import (
    ALL_EVENTS,
    LustreMetadataConfiguration,
    LustreReadCache,
    plain,
)

_WEEKLY = re.compile(r"^([1-7]):([01]\d|2[0-3]):([0-5]\d)$")
_DAILY = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
DEFAULT_PERSISTENT_BACKUP_DAYS = 7
DEFAULT_STORAGE_CAPACITY_GIB = 1200

LUSTRE_DATA_COMPRESSION_TYPES = ("NONE", "LZ4")
LUSTRE_DRIVE_CACHE_TYPES = ("NONE", "READ")
REMOVAL_POLICIES = ("RETAIN", "DESTROY")


# --- boundary: enum members and strings ------------------------------------------------


def choice(v: Validator, prop: str, value: Any, allowed: Sequence[str]) -> str | None:
    """The CloudFormation string of an enum member or string prop, or a problem."""
    if isinstance(value, enum.Enum):
        # jsii enum members carry their names (V_2_15), plain enums their values.
        text = value.value if isinstance(value.value, str) else value.name
    else:
        text = value
    if isinstance(text, str) and text.startswith("V_") and text[2:].replace("_", "").isdigit():
        text = text[2:].replace("_", ".")
    if isinstance(text, str) and text in allowed:
        return text
    v.add(prop, text, "one of " + ", ".join(allowed))
    return None


# --- request and plan ---------------------------------------------------------------------


@dataclass(frozen=True)
class RepositoryRequest:
    """A ``DataRepository`` reduced to plain values (``bucket_path`` identifies the bucket)."""

    bucket_path: str
    file_system_path: str
    prefix: str = ""
    import_events: tuple[str, ...] = ALL_EVENTS
    export_events: tuple[str, ...] = ALL_EVENTS
    batch_import_metadata_on_create: bool = True
    imported_file_chunk_size_mib: int | None = None


@dataclass(frozen=True)
class LustreRequest:
    """``LustreScratch`` props as plain values; enum props as their CloudFormation strings."""

    deployment_type: str = "SCRATCH_2"
    storage_type: str | None = None
    storage_capacity_gib: int | None = None
    target_throughput_mbps: float | None = None
    per_unit_storage_throughput: int | None = None
    drive_cache_type: str | None = None
    throughput_capacity_mbps: int | None = None
    read_cache: LustreReadCache | None = None
    data_compression: str = "LZ4"
    file_system_type_version: str = "2.15"
    kms_key_path: str | None = None
    automatic_backup_retention: int | None = None
    daily_automatic_backup_start_time: str | None = None
    weekly_maintenance_start_time: str | None = None
    metadata_configuration: LustreMetadataConfiguration | None = None
    efa_enabled: bool = False
    repositories: tuple[RepositoryRequest, ...] = ()
    removal_policy: str | None = None
    subnet_count: int = 1


@dataclass(frozen=True)
class RepositoryPlan:
    """One data repository association to create."""

    construct_id: str
    file_system_path: str
    import_events: tuple[str, ...]
    export_events: tuple[str, ...]
    batch_import_metadata_on_create: bool
    imported_file_chunk_size_mib: int | None


@dataclass(frozen=True)
class LustrePlan:
    """Everything ``LustreScratch`` creates, decided: plain values, no CDK objects."""

    deployment_type: str
    storage_type: str
    storage_type_set: bool
    storage_capacity_gib: int | None
    per_unit_storage_throughput: int | None
    drive_cache_type: str | None
    throughput_capacity_mbps: int | None
    read_cache: LustreReadCache | None
    data_compression: str
    file_system_type_version: str
    metadata: LustreMetadataConfiguration | None
    efa_enabled: bool
    automatic_backup_retention: int | None
    daily_automatic_backup_start_time: str | None
    weekly_maintenance_start_time: str | None
    removal_policy: str
    throughput_mbps: int | None
    repositories: tuple[RepositoryPlan, ...] = ()
    #: (warning id, message) pairs the construct adds
    warnings: tuple[tuple[str, str], ...] = field(default=())

    @property
    def persistent(self) -> bool:
        return self.deployment_type.startswith("PERSISTENT")

    @property
    def tiering(self) -> bool:
        return self.storage_type == "INTELLIGENT_TIERING"


# --- rules ----------------------------------------------------------------------------------

_LIMIT_PROPS = {
    "DeploymentType": "deployment_type",
    "StorageType": "storage_type",
    "StorageCapacity": "storage_capacity_gib",
    "PerUnitStorageThroughput": "per_unit_storage_throughput",
    "DriveCacheType": "drive_cache_type",
}


def plan_capacity(v: Validator, request: LustreRequest) -> int | None:
    """Storage capacity (GiB): given, sized from the target throughput, or 1200.

    ``None`` for Intelligent-Tiering (elastic storage). A token capacity is kept as is.
    """
    deployment, capacity = request.deployment_type, request.storage_capacity_gib
    storage = request.storage_type or "SSD"
    tiering = storage == "INTELLIGENT_TIERING"
    target, per_unit = request.target_throughput_mbps, request.per_unit_storage_throughput
    if capacity is not None and target is not None:
        v.add(
            "target_throughput_mbps",
            TOKEN_SHOWN if is_token(target) else target,
            "unset when storage_capacity_gib is given",
            f"storage_capacity_gib={capacity} is given too; give one of them",
        )
    if tiering and capacity is not None:
        v.add(
            "storage_capacity_gib", capacity, "unset for INTELLIGENT_TIERING (storage is elastic)"
        )
    problems = limits.lustre_problems(
        deployment_type=deployment,
        storage_type=storage,
        storage_capacity_gib=None if is_token(capacity) else capacity,
        per_unit_storage_throughput=per_unit,
        drive_cache_type=request.drive_cache_type,
    )
    for prop, value, allowed in problems:
        v.add(_LIMIT_PROPS.get(prop, prop), value, allowed)
    if target is not None and capacity is None and not tiering:
        why = "the storage capacity is computed from it"
        concrete = needs_concrete_value(v, "target_throughput_mbps", target, why)
        concrete = (
            needs_concrete_value(v, "per_unit_storage_throughput", per_unit, why) and concrete
        )
        positive = concrete and v.require(
            target > 0, "target_throughput_mbps", target, "a positive number of MB/s"
        )
        if positive and not problems:
            capacity = limits.lustre_capacity_for_throughput(target, deployment, storage, per_unit)
    if capacity is None and not tiering:
        capacity = DEFAULT_STORAGE_CAPACITY_GIB
    return capacity


def check_tiering(v: Validator, request: LustreRequest) -> None:
    """Throughput capacity and read cache: Intelligent-Tiering only, and required there."""
    throughput, cache = request.throughput_capacity_mbps, request.read_cache
    if request.storage_type == "INTELLIGENT_TIERING":
        step = limits.LUSTRE_IT_THROUGHPUT_STEP_MBPS
        top = limits.LUSTRE_IT_MAX_THROUGHPUT_MBPS
        v.require(
            throughput is not None and 0 < throughput <= top and throughput % step == 0,
            "throughput_capacity_mbps",
            throughput,
            f"{step} or a multiple of {step} MBps up to {top:,} for INTELLIGENT_TIERING",
        )
        if cache is not None:
            check_read_cache(v, cache)
        return
    if throughput is not None:
        v.add(
            "throughput_capacity_mbps",
            throughput,
            "unset unless storage_type is INTELLIGENT_TIERING",
        )
    if cache is not None:
        v.add("read_cache", cache, "unset unless storage_type is INTELLIGENT_TIERING")


def check_read_cache(v: Validator, cache: LustreReadCache) -> None:
    mode = plain(cache.sizing_mode)
    if not v.one_of("read_cache.sizing_mode", mode, limits.LUSTRE_READ_CACHE_SIZING_MODES):
        return
    if mode == "USER_PROVISIONED":
        size = cache.size_gib
        v.require(
            size is not None and (is_token(size) or (isinstance(size, int) and size > 0)),
            "read_cache.size_gib",
            size,
            "a positive number of GiB in USER_PROVISIONED mode",
        )
    elif cache.size_gib is not None:
        v.add("read_cache.size_gib", cache.size_gib, f"unset in {mode} mode")


def plan_metadata(v: Validator, request: LustreRequest) -> LustreMetadataConfiguration | None:
    """PERSISTENT_2 metadata: given, else AUTOMATIC (SSD) or 6000 IOPS (Intelligent-Tiering)."""
    metadata = request.metadata_configuration
    tiering = request.storage_type == "INTELLIGENT_TIERING"
    if request.deployment_type != "PERSISTENT_2":
        if metadata is not None:
            v.add("metadata_configuration", plain(metadata.mode), "unset unless PERSISTENT_2")
        return None
    if metadata is None:
        metadata = (
            LustreMetadataConfiguration.user_provisioned(6000)
            if tiering
            else LustreMetadataConfiguration.automatic()
        )
    metadata = LustreMetadataConfiguration(str(plain(metadata.mode)), metadata.iops)
    check_metadata(v, metadata, tiering)
    if request.file_system_type_version != "2.15":
        v.add(
            "file_system_type_version",
            request.file_system_type_version,
            "2.15 for PERSISTENT_2 with a metadata configuration",
        )
    return metadata


def check_metadata(v: Validator, metadata: LustreMetadataConfiguration, tiering: bool) -> None:
    mode = plain(metadata.mode)
    if not v.one_of("metadata_configuration.mode", mode, limits.LUSTRE_METADATA_MODES):
        return
    allowed_iops = (
        limits.LUSTRE_METADATA_IOPS_INTELLIGENT_TIERING
        if tiering
        else limits.LUSTRE_METADATA_IOPS_SSD
    )
    if mode == "AUTOMATIC":
        if tiering:
            v.add(
                "metadata_configuration.mode",
                mode,
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


def check_efa_and_key(v: Validator, request: LustreRequest) -> None:
    """EFA needs PERSISTENT_2; a customer KMS key needs a persistent file system."""
    deployment = request.deployment_type
    if request.efa_enabled and deployment != "PERSISTENT_2":
        v.add("efa_enabled", True, f"False for {deployment} (EFA needs PERSISTENT_2)")
    if request.kms_key_path is not None and not deployment.startswith("PERSISTENT"):
        v.add(
            "kms_key",
            request.kms_key_path,
            f"unset for {deployment} (scratch file systems use FSx-managed keys)",
        )


def plan_backups(v: Validator, request: LustreRequest) -> int | None:
    """Backup retention days: given, else 7 for persistent file systems without S3 links."""
    deployment = request.deployment_type
    persistent = deployment.startswith("PERSISTENT")
    retention = request.automatic_backup_retention
    backups = retention
    if backups is None and persistent and not request.repositories:
        backups = DEFAULT_PERSISTENT_BACKUP_DAYS
    if retention is not None:
        low, high = limits.LUSTRE_BACKUP_RETENTION_DAYS
        v.in_range("automatic_backup_retention", retention, low, high, "days")
        if retention > 0 and not persistent:
            v.add(
                "automatic_backup_retention",
                retention,
                f"0 or unset for {deployment} (scratch file systems have no backups)",
            )
        if retention > 0 and request.repositories:
            v.add(
                "automatic_backup_retention",
                retention,
                "0 or unset when data_repositories are given (FSx does not back up "
                "S3-linked file systems)",
            )
    daily = request.daily_automatic_backup_start_time
    if daily is not None:
        v.require(
            is_token(daily) or bool(_DAILY.match(daily)),
            "daily_automatic_backup_start_time",
            daily,
            "HH:MM in UTC, e.g. '03:00'",
        )
        v.require(
            bool(backups),
            "daily_automatic_backup_start_time",
            daily,
            "unset when automatic backups are off (retention 0 or not allowed)",
        )
    return backups


def check_maintenance_and_removal(v: Validator, request: LustreRequest) -> str:
    """Weekly maintenance window format; removal policy RETAIN (default) or DESTROY."""
    weekly = request.weekly_maintenance_start_time
    if weekly is not None:
        v.require(
            is_token(weekly) or bool(_WEEKLY.match(weekly)),
            "weekly_maintenance_start_time",
            weekly,
            "d:HH:MM in UTC with d = 1 (Monday) to 7 (Sunday), e.g. '7:02:00'",
        )
    removal = request.removal_policy or "RETAIN"
    if removal not in REMOVAL_POLICIES:
        v.add(
            "removal_policy",
            f"RemovalPolicy.{removal}",
            "RETAIN or DESTROY (AWS::FSx::FileSystem has no Snapshot deletion policy)",
        )
    v.require(
        request.subnet_count == 1,
        "vpc_subnets",
        f"{request.subnet_count} subnets",
        "a selection resolving to exactly one subnet (FSx for Lustre lives in one subnet)",
    )
    return removal


def check_repository_set(v: Validator, request: LustreRequest) -> None:
    """Rules on the whole list of data repositories: count, deployment, storage, version."""
    repos = request.repositories
    if not repos:
        return
    shown = f"{len(repos)} repositories"
    top = limits.LUSTRE_MAX_DATA_REPOSITORY_ASSOCIATIONS
    v.require(len(repos) <= top, "data_repositories", shown, f"at most {top} per file system")
    if request.deployment_type == "SCRATCH_1":
        v.add(
            "data_repositories",
            shown,
            "none on SCRATCH_1 (use SCRATCH_2 or a persistent type)",
        )
    if request.storage_type == "INTELLIGENT_TIERING":
        # FSx API reference, DataRepositoryAssociation: DRAs are supported on 2.12 and 2.15
        # file systems "excluding Intelligent-Tiering and scratch_1 file systems".
        v.add(
            "data_repositories",
            shown,
            "none on INTELLIGENT_TIERING storage (use SSD storage to link S3)",
        )
    version = request.file_system_type_version
    if version not in limits.LUSTRE_DRA_FILE_SYSTEM_TYPE_VERSIONS:
        v.add("file_system_type_version", version, "2.12 or 2.15 when data_repositories are given")
    for index in range(len(repos)):
        check_repository(v, repos, index)


def check_repository(v: Validator, repos: Sequence[RepositoryRequest], index: int) -> None:
    """Rules on ``repos[index]``: its path, events and chunk size, and overlaps with earlier ones."""
    repo, where = repos[index], f"data_repositories[{index}]"
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
        if not set(events) <= set(ALL_EVENTS) or len(set(events)) != len(events):
            v.add(f"{where}.{name}", events, "distinct values from " + ", ".join(ALL_EVENTS))
    low, high = limits.LUSTRE_IMPORTED_FILE_CHUNK_SIZE_MIB
    chunk = repo.imported_file_chunk_size_mib
    v.in_range(f"{where}.imported_file_chunk_size_mib", chunk, low, high, "MiB")
    key = (repo.bucket_path, repo.prefix.strip("/"))
    for other_index, other in enumerate(repos[:index]):
        if (other.bucket_path, other.prefix.strip("/")) == key:
            v.add(
                f"{where}.prefix",
                repo.prefix,
                "a bucket path not linked by another repository",
                f"{repo.bucket_path} with this prefix is already linked by "
                f"data_repositories[{other_index}]",
            )
            break


def plan_repositories(repos: Sequence[RepositoryRequest]) -> tuple[RepositoryPlan, ...]:
    """One association per repository, with a construct id from its file-system path."""
    used: set[str] = set()
    planned: list[RepositoryPlan] = []
    for repo in repos:
        construct_id = "DataRepository" + pascal(repo.file_system_path)
        while construct_id in used:
            construct_id += "X"
        used.add(construct_id)
        planned.append(
            RepositoryPlan(
                construct_id=construct_id,
                file_system_path=repo.file_system_path,
                import_events=repo.import_events,
                export_events=repo.export_events,
                batch_import_metadata_on_create=repo.batch_import_metadata_on_create,
                imported_file_chunk_size_mib=repo.imported_file_chunk_size_mib,
            )
        )
    return tuple(planned)


def baseline_throughput(
    deployment: str, capacity: int | None, per_unit: int | None, throughput_capacity: int | None
) -> int | None:
    """Baseline MB/s: capacity x per-TiB throughput, or the Intelligent-Tiering capacity."""
    if capacity is None:
        return throughput_capacity
    per_tib = limits.lustre_baseline_mbps_per_tib(deployment, per_unit)
    if per_tib is None or is_token(capacity) or is_token(per_tib):
        return None
    return limits.lustre_throughput_mbps(capacity, per_tib)


def plan_warnings(
    deployment: str, repos: Sequence[RepositoryRequest], backups: int | None
) -> tuple[tuple[str, str], ...]:
    """``scratchWithoutExport`` and ``persistentWithoutBackup``, when they apply."""
    persistent = deployment.startswith("PERSISTENT")
    exporting = any({"NEW", "CHANGED"} & set(r.export_events) for r in repos)
    found: list[tuple[str, str]] = []
    if not persistent and not exporting:
        found.append(
            (
                "scratchWithoutExport",
                f"{deployment} file system has no data repository exporting to S3: its data is "
                "not replicated and is lost when the file system is deleted, replaced or a "
                "storage server fails. Add a DataRepository with export_events, or run an "
                "EXPORT_TO_REPOSITORY data repository task before deleting it.",
            )
        )
    if persistent and not repos and not backups:
        found.append(
            (
                "persistentWithoutBackup",
                "persistent file system with automatic backups disabled and no S3 link: a "
                "deleted or corrupted file system cannot be restored.",
            )
        )
    return tuple(found)


def plan_lustre(path: str, request: LustreRequest) -> LustrePlan:
    """Apply every rule to ``request``; raise ``HpcValidationError`` with all problems."""
    v = Validator(path)
    capacity = plan_capacity(v, request)
    check_tiering(v, request)
    metadata = plan_metadata(v, request)
    check_efa_and_key(v, request)
    backups = plan_backups(v, request)
    removal = check_maintenance_and_removal(v, request)
    check_repository_set(v, request)
    v.raise_if_any()
    deployment, storage = request.deployment_type, request.storage_type or "SSD"
    return LustrePlan(
        deployment_type=deployment,
        storage_type=storage,
        storage_type_set=request.storage_type is not None,
        storage_capacity_gib=capacity,
        per_unit_storage_throughput=request.per_unit_storage_throughput,
        drive_cache_type=request.drive_cache_type,
        throughput_capacity_mbps=request.throughput_capacity_mbps,
        read_cache=request.read_cache,
        data_compression=request.data_compression,
        file_system_type_version=request.file_system_type_version,
        metadata=metadata,
        efa_enabled=request.efa_enabled,
        automatic_backup_retention=backups,
        daily_automatic_backup_start_time=request.daily_automatic_backup_start_time,
        weekly_maintenance_start_time=request.weekly_maintenance_start_time,
        removal_policy=removal,
        throughput_mbps=baseline_throughput(
            deployment,
            capacity,
            request.per_unit_storage_throughput,
            request.throughput_capacity_mbps,
        ),
        repositories=plan_repositories(request.repositories),
        warnings=plan_warnings(deployment, request.repositories, backups),
    )


def pascal(path: str) -> str:
    """``/results/run-1`` -> ``ResultsRun1`` (``Root`` for ``/``)."""
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", path) if p]
    return "".join(p[:1].upper() + p[1:] for p in parts) or "Root"
