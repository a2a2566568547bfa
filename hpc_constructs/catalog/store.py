"""The instance catalog: the committed DescribeInstanceTypes snapshot plus user-described types.

The snapshot is read once per process, on the first lookup, never at import; refresh it with
``scripts/refresh_instance_catalog.py`` (see docs/catalog.md).
"""

from __future__ import annotations

import difflib
import gzip
import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from hpc_constructs.catalog.spec import (
    ARCHITECTURES,
    PLACEMENT_STRATEGIES,
    InstanceSpec,
    NetworkCardSpec,
    derive_card_efa_support,
)
from hpc_constructs.errors import HpcValidationError, Problem, Validator

#: The committed snapshot, written by ``scripts/refresh_instance_catalog.py``.
DATA_FILE: Final = Path(__file__).with_name("instance_types.json.gz")
#: Version of the data file layout; the refresh script writes it and the loader checks it.
SCHEMA_VERSION: Final = 1


class UnknownInstanceTypeError(HpcValidationError):
    """The instance type is neither in the snapshot nor registered.

    ``suggestions`` holds close names from the catalog (typos such as ``p5.48xl``).
    """

    def __init__(self, instance_type: str, suggestions: Sequence[str]) -> None:
        self.instance_type = instance_type
        self.suggestions: tuple[str, ...] = tuple(suggestions)
        hint = f"did you mean {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(
            [
                Problem(
                    "InstanceCatalog",
                    "instance_type",
                    instance_type,
                    "a type in the catalog snapshot, or one described with "
                    "InstanceCatalog.register(...) / InstanceCatalog.describe(...)",
                    reason=hint or "unknown instance type",
                )
            ]
        )


@dataclass(frozen=True)
class _Snapshot:
    source: str
    generated_at: str
    regions: tuple[str, ...]
    raw: Mapping[str, Mapping[str, Any]]


def _read_snapshot(path: Path) -> _Snapshot:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        data = json.load(handle)
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ValueError(
            f"{path}: schema_version {version!r} is not {SCHEMA_VERSION}; "
            "regenerate it with scripts/refresh_instance_catalog.py"
        )
    return _Snapshot(
        source=str(data["source"]),
        generated_at=str(data["generated_at"]),
        regions=tuple(data["regions"]),
        raw=data["instance_types"],
    )


class InstanceTypeCatalog:
    """Instance-type facts for synth time: a snapshot file plus types registered at runtime.

    Use the process-wide :data:`InstanceCatalog`; build your own only to read another snapshot
    (``InstanceTypeCatalog(path)``).
    """

    def __init__(self, path: Path | str = DATA_FILE) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._snapshot: _Snapshot | None = None
        self._parsed: dict[str, InstanceSpec] = {}
        self._registered: dict[str, InstanceSpec] = {}

    # --- snapshot ------------------------------------------------------------------------

    def _data(self) -> _Snapshot:
        snapshot = self._snapshot
        if snapshot is None:
            with self._lock:
                if self._snapshot is None:
                    self._snapshot = _read_snapshot(self.path)
                snapshot = self._snapshot
        return snapshot

    @property
    def source(self) -> str:
        """Where the snapshot's facts come from (API and, for recorded data, the recorder)."""
        return self._data().source

    @property
    def generated_at(self) -> str:
        """Date (ISO 8601) the snapshot was generated."""
        return self._data().generated_at

    @property
    def surveyed_regions(self) -> tuple[str, ...]:
        """Regions whose offerings the snapshot recorded."""
        return self._data().regions

    # --- lookup --------------------------------------------------------------------------

    def find(self, instance_type: str) -> InstanceSpec | None:
        """The spec for ``instance_type``, or ``None`` when neither snapshot nor user knows it."""
        registered = self._registered.get(instance_type)
        if registered is not None:
            return registered
        parsed = self._parsed.get(instance_type)
        if parsed is not None:
            return parsed
        snapshot = self._data()
        item = snapshot.raw.get(instance_type)
        if item is None:
            return None
        spec = InstanceSpec.from_describe_instance_types(
            {"InstanceType": instance_type, **item},
            zones=item.get("Offerings", {}),
            surveyed_regions=snapshot.regions,
        )
        self._parsed[instance_type] = spec
        return spec

    def get(self, instance_type: str) -> InstanceSpec:
        """The spec for ``instance_type``; raises :class:`UnknownInstanceTypeError` otherwise."""
        spec = self.find(instance_type)
        if spec is None:
            close = difflib.get_close_matches(instance_type, self.names(), n=3, cutoff=0.6)
            raise UnknownInstanceTypeError(instance_type, close)
        return spec

    def names(self) -> tuple[str, ...]:
        """Every known instance type name (snapshot and registered), sorted."""
        return tuple(sorted({*self._data().raw, *self._registered}))

    def all(self) -> tuple[InstanceSpec, ...]:
        """Every known spec, sorted by name (parses the whole snapshot on first call)."""
        return tuple(self.get(name) for name in self.names())

    # --- user-described types ------------------------------------------------------------

    def register(self, spec: InstanceSpec, *, replace: bool = False) -> InstanceSpec:
        """Make ``spec`` known to every later lookup in this process.

        Use it for types newer than the snapshot. A name the catalog already knows needs
        ``replace=True`` (the registered spec then wins over the snapshot). The spec is checked
        for consistency; all problems are reported together as ``HpcValidationError``.
        """
        v = Validator(f"InstanceCatalog/{spec.instance_type}")
        if not replace and self.find(spec.instance_type) is not None:
            v.add(
                "instance_type",
                spec.instance_type,
                "a name the catalog does not know yet",
                "already known; pass replace=True to override it",
            )
        _check_spec(v, spec)
        v.raise_if_any()
        with self._lock:
            self._registered[spec.instance_type] = spec
        return spec

    def unregister(self, instance_type: str) -> None:
        """Forget a registered type (the snapshot's entry, if any, applies again)."""
        with self._lock:
            self._registered.pop(instance_type, None)

    def describe(
        self,
        instance_type: str,
        *,
        vcpus: int,
        architecture: str = "x86_64",
        memory_mib: int = 0,
        default_cores: int = 0,
        threads_per_core: int = 2,
        max_network_cards: int = 1,
        interfaces_per_card: int = 2,
        baseline_gbps_per_card: float = 0.0,
        max_efa_interfaces: int = 0,
        gpus: int = 0,
        gpu_model: str | None = None,
        gpu_manufacturer: str | None = None,
        gpu_memory_mib: int = 0,
        neuron_devices: int = 0,
        nvme_disk_count: int = 0,
        nvme_disk_size_gb: int = 0,
        placement_strategies: Sequence[str] = PLACEMENT_STRATEGIES,
        usage_classes: Sequence[str] = ("on-demand", "spot"),
        zones: Mapping[str, Sequence[str]] | None = None,
        replace: bool = False,
    ) -> InstanceSpec:
        """Build and register a spec from the figures on the instance type's launch page.

        Network cards are uniform (``interfaces_per_card`` each); which cards support EFA
        follows the same inference as for snapshot data without ``InterfaceTypes``. For full
        control build an :class:`InstanceSpec` (or parse ``aws ec2 describe-instance-types``
        output with ``InstanceSpec.from_describe_instance_types``) and call :meth:`register`.
        """
        efa_cards = derive_card_efa_support(max_efa_interfaces, max_network_cards)
        cards = tuple(
            NetworkCardSpec(
                index=i,
                max_interfaces=interfaces_per_card,
                baseline_gbps=baseline_gbps_per_card,
                peak_gbps=baseline_gbps_per_card,
                efa_supported=efa,
                interface_types=("interface", "efa", "efa-only") if efa else ("interface",),
            )
            for i, efa in enumerate(efa_cards)
        )
        spec = InstanceSpec(
            instance_type=instance_type,
            architecture=architecture,
            vcpus=vcpus,
            default_cores=default_cores,
            threads_per_core=threads_per_core,
            memory_mib=memory_mib,
            gpus=gpus,
            gpu_model=gpu_model,
            gpu_manufacturer=gpu_manufacturer,
            gpu_memory_mib=gpu_memory_mib,
            neuron_devices=neuron_devices,
            efa_supported=max_efa_interfaces > 0,
            max_efa_interfaces=max_efa_interfaces,
            max_network_cards=max_network_cards,
            network_cards=cards,
            nvme_disk_count=nvme_disk_count,
            nvme_disk_size_gb=nvme_disk_size_gb,
            instance_storage_gb=nvme_disk_count * nvme_disk_size_gb,
            placement_strategies=tuple(placement_strategies),
            usage_classes=tuple(usage_classes),
            zones={region: tuple(azs) for region, azs in (zones or {}).items()},
            surveyed_regions=tuple(zones or ()),
        )
        return self.register(spec, replace=replace)


def _check_spec(v: Validator, spec: InstanceSpec) -> None:
    v.one_of("architecture", spec.architecture, ARCHITECTURES)
    v.require(spec.vcpus >= 1, "vcpus", spec.vcpus, "1 or more")
    v.require(
        len(spec.network_cards) == spec.max_network_cards,
        "network_cards",
        len(spec.network_cards),
        f"one entry per network card (max_network_cards={spec.max_network_cards})",
    )
    v.require(
        sorted(c.index for c in spec.network_cards) == list(range(len(spec.network_cards))),
        "network_cards",
        [c.index for c in spec.network_cards],
        "indexes 0..N-1, each once",
    )
    v.require(
        spec.efa_supported == (spec.max_efa_interfaces > 0),
        "max_efa_interfaces",
        spec.max_efa_interfaces,
        "1 or more exactly when efa_supported is true",
    )
    efa_cards = sum(1 for c in spec.network_cards if c.efa_supported)
    v.require(
        spec.max_efa_interfaces <= efa_cards,
        "max_efa_interfaces",
        spec.max_efa_interfaces,
        f"at most the number of EFA-capable network cards ({efa_cards}); one EFA per card",
    )
    for strategy in spec.placement_strategies:
        v.one_of("placement_strategies", strategy, PLACEMENT_STRATEGIES)


#: The process-wide catalog every construct reads.
InstanceCatalog: Final = InstanceTypeCatalog()
