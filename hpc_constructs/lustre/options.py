"""Option groups and names of ``LustreScratch`` props: plain values, no CDK objects but the bucket.

String props accept the enum members below or their plain string values (``"NEW"``,
``"USER_PROVISIONED"``); the ``Literal`` aliases name the strings for type checkers.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from aws_cdk import aws_s3 as s3

from hpc_constructs import limits

ALL_EVENTS: tuple[str, ...] = limits.LUSTRE_DRA_EVENTS
#: Role FSx uses for data repository associations (one per file system, created by FSx).
FSX_S3_SERVICE_LINKED_ROLE_PATH = "role/aws-service-role/s3.data-source.lustre.fsx.amazonaws.com/"

LustreDeploymentTypeName = Literal["SCRATCH_1", "SCRATCH_2", "PERSISTENT_1", "PERSISTENT_2"]
LustreStorageTypeName = Literal["SSD", "HDD", "INTELLIGENT_TIERING"]
LustreDriveCacheTypeName = Literal["NONE", "READ"]
LustreDataCompressionName = Literal["NONE", "LZ4"]
LustreVersionName = Literal["2.10", "2.12", "2.15"]
DataRepositoryEventName = Literal["NEW", "CHANGED", "DELETED"]
LustreMetadataModeName = Literal["AUTOMATIC", "USER_PROVISIONED"]
LustreReadCacheSizingModeName = Literal[
    "NO_CACHE", "USER_PROVISIONED", "PROPORTIONAL_TO_THROUGHPUT_CAPACITY"
]


class DataRepositoryEvent(enum.StrEnum):
    """S3 or file-system changes a data repository association imports or exports
    (``AutoImportPolicy`` / ``AutoExportPolicy`` events)."""

    NEW = "NEW"
    CHANGED = "CHANGED"
    DELETED = "DELETED"


class LustreMetadataMode(enum.StrEnum):
    """``MetadataConfiguration.Mode`` of a PERSISTENT_2 file system."""

    AUTOMATIC = "AUTOMATIC"
    USER_PROVISIONED = "USER_PROVISIONED"


class LustreReadCacheSizingMode(enum.StrEnum):
    """``DataReadCacheConfiguration.SizingMode`` of an Intelligent-Tiering file system."""

    NO_CACHE = "NO_CACHE"
    USER_PROVISIONED = "USER_PROVISIONED"
    PROPORTIONAL_TO_THROUGHPUT_CAPACITY = "PROPORTIONAL_TO_THROUGHPUT_CAPACITY"


def plain(value: object) -> object:
    """The plain string of a str-enum member (``DataRepositoryEvent.NEW`` -> ``"NEW"``)."""
    return value.value if isinstance(value, enum.Enum) else value


@dataclass(frozen=True)
class DataRepository:
    """An S3 bucket (or prefix) linked to a file-system directory by a data repository association.

    :param bucket: the bucket to link.
    :param file_system_path: directory in the file system, starting with ``/`` (``/`` alone
        links the whole file system and then allows no other repository).
    :param prefix: key prefix in the bucket. Default: - the whole bucket.
    :param import_events: S3 changes imported automatically, a subset of NEW, CHANGED, DELETED
        (``DataRepositoryEvent`` members or strings). Default: - all three.
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
    import_events: Sequence[DataRepositoryEvent | DataRepositoryEventName | str] = ALL_EVENTS
    export_events: Sequence[DataRepositoryEvent | DataRepositoryEventName | str] = ALL_EVENTS
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

    mode: LustreMetadataMode | LustreMetadataModeName | str
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

    sizing_mode: LustreReadCacheSizingMode | LustreReadCacheSizingModeName | str = (
        "PROPORTIONAL_TO_THROUGHPUT_CAPACITY"
    )
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
