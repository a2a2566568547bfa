"""Typed facts about one EC2 instance type, parsed from DescribeInstanceTypes-shaped data.

The shape is EC2's own (``NetworkInfo.NetworkCards``, ``VCpuInfo.DefaultCores`` ...), so the
committed snapshot and a user's ``aws ec2 describe-instance-types`` output parse the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

ARCHITECTURES = ("x86_64", "arm64")
PLACEMENT_STRATEGIES = ("cluster", "partition", "spread")
EFA_CAPABLE_TYPES = ("efa", "efa-only")


@dataclass(frozen=True)
class NetworkCardSpec:
    """One network card: how many interfaces it takes, its bandwidth and whether it does EFA.

    ``efa_supported`` comes from the card's ``InterfaceTypes`` when EC2 reports them; otherwise
    it is derived from the instance's counts (see :func:`derive_card_efa_support`).
    """

    index: int
    max_interfaces: int
    baseline_gbps: float = 0.0
    peak_gbps: float = 0.0
    efa_supported: bool = False
    interface_types: tuple[str, ...] = ("interface",)
    network_performance: str = ""


def _frozen_zones(zones: Mapping[str, Sequence[str]]) -> Mapping[str, tuple[str, ...]]:
    return MappingProxyType({region: tuple(azs) for region, azs in sorted(zones.items())})


@dataclass(frozen=True)
class InstanceSpec:
    """What hpc-constructs knows about an instance type at synth time.

    Counts are EC2's defaults (``vcpus`` = DefaultVCpus, ``default_cores`` = DefaultCores).
    ``zones`` maps each region the type is offered in to its Availability Zones (an empty tuple
    when only the region-level offering is known); ``surveyed_regions`` are the regions whose
    offerings were recorded, so a region there but absent from ``zones`` means "not offered".
    """

    instance_type: str
    architecture: str
    vcpus: int
    default_cores: int = 0
    threads_per_core: int = 1
    memory_mib: int = 0
    gpus: int = 0
    gpu_model: str | None = None
    gpu_manufacturer: str | None = None
    gpu_memory_mib: int = 0
    neuron_devices: int = 0
    efa_supported: bool = False
    max_efa_interfaces: int = 0
    max_network_cards: int = 1
    max_network_interfaces: int = 0
    network_cards: tuple[NetworkCardSpec, ...] = field(default=(), repr=False)
    network_performance: str = ""
    nvme_disk_count: int = 0
    nvme_disk_size_gb: int = 0
    instance_storage_gb: int = 0
    placement_strategies: tuple[str, ...] = PLACEMENT_STRATEGIES
    usage_classes: tuple[str, ...] = ("on-demand",)
    current_generation: bool = True
    burstable: bool = False
    supported_architectures: tuple[str, ...] = ()
    zones: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({}), hash=False, repr=False
    )
    surveyed_regions: tuple[str, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        # Accept any mapping of sequences; store a read-only, sorted copy.
        object.__setattr__(self, "zones", _frozen_zones(self.zones))
        if not self.default_cores:
            object.__setattr__(self, "default_cores", self.vcpus // max(self.threads_per_core, 1))
        if not self.supported_architectures:
            object.__setattr__(self, "supported_architectures", (self.architecture,))
        if not self.max_network_interfaces:
            total = sum(card.max_interfaces for card in self.network_cards)
            object.__setattr__(self, "max_network_interfaces", total)

    @property
    def is_gpu(self) -> bool:
        return self.gpus > 0

    @property
    def network_gbps(self) -> float:
        """Sum of the network cards' baseline bandwidth, in Gbps."""
        return float(sum(card.baseline_gbps for card in self.network_cards))

    @property
    def regions(self) -> tuple[str, ...]:
        """Regions the type is offered in (among the surveyed ones), sorted."""
        return tuple(self.zones)

    @property
    def efa_network_cards(self) -> tuple[NetworkCardSpec, ...]:
        """The cards that carry an EFA interface, at most ``max_efa_interfaces`` of them."""
        if not self.efa_supported:
            return ()
        return tuple(card for card in self.network_cards if card.efa_supported)[
            : self.max_efa_interfaces
        ]

    @classmethod
    def from_describe_instance_types(
        cls,
        item: Mapping[str, Any],
        *,
        zones: Mapping[str, Sequence[str]] | None = None,
        surveyed_regions: Sequence[str] = (),
    ) -> InstanceSpec:
        """Parse one entry of EC2 DescribeInstanceTypes' ``InstanceTypes`` list.

        Works on a full API/CLI response entry as well as on the trimmed entries of the
        committed snapshot. ``zones`` and ``surveyed_regions`` come from
        DescribeInstanceTypeOfferings (see :class:`InstanceSpec`).
        """
        vcpu = item.get("VCpuInfo", {})
        network = item.get("NetworkInfo", {})
        storage = item.get("InstanceStorageInfo", {})
        gpu_info = item.get("GpuInfo", {})
        gpus = gpu_info.get("Gpus", [])
        archs = tuple(item.get("ProcessorInfo", {}).get("SupportedArchitectures", ()))
        efa_supported = bool(network.get("EfaSupported", False))
        max_efa = int(network.get("EfaInfo", {}).get("MaximumEfaInterfaces", 0))
        if efa_supported and not max_efa:
            max_efa = 1  # older responses without EfaInfo: one EFA per instance
        max_cards = int(network.get("MaximumNetworkCards", 1))
        cards = _parse_cards(network, max_efa=max_efa, max_cards=max_cards)
        nvme = storage.get("NvmeSupport", "unsupported") != "unsupported"
        disks = storage.get("Disks", [])
        return cls(
            instance_type=str(item["InstanceType"]),
            architecture=normalize_architecture(archs),
            supported_architectures=archs,
            vcpus=int(vcpu.get("DefaultVCpus", 0)),
            default_cores=int(vcpu.get("DefaultCores", 0)),
            threads_per_core=int(vcpu.get("DefaultThreadsPerCore", 1)),
            memory_mib=int(item.get("MemoryInfo", {}).get("SizeInMiB", 0)),
            gpus=sum(int(g.get("Count", 0)) for g in gpus),
            gpu_model=str(gpus[0]["Name"]) if gpus else None,
            gpu_manufacturer=str(gpus[0]["Manufacturer"]) if gpus else None,
            gpu_memory_mib=int(
                gpu_info.get(
                    "TotalGpuMemoryInMiB",
                    sum(
                        int(g.get("Count", 0)) * int(g.get("MemoryInfo", {}).get("SizeInMiB", 0))
                        for g in gpus
                    ),
                )
            ),
            neuron_devices=sum(
                int(d.get("Count", 0)) for d in item.get("NeuronInfo", {}).get("NeuronDevices", [])
            ),
            efa_supported=efa_supported,
            max_efa_interfaces=max_efa if efa_supported else 0,
            max_network_cards=max_cards,
            max_network_interfaces=int(network.get("MaximumNetworkInterfaces", 0)),
            network_cards=cards,
            network_performance=str(network.get("NetworkPerformance", "")),
            nvme_disk_count=sum(int(d.get("Count", 0)) for d in disks) if nvme else 0,
            nvme_disk_size_gb=int(disks[0].get("SizeInGB", 0)) if nvme and disks else 0,
            instance_storage_gb=int(storage.get("TotalSizeInGB", 0)),
            placement_strategies=tuple(
                item.get("PlacementGroupInfo", {}).get("SupportedStrategies", ())
            ),
            usage_classes=tuple(item.get("SupportedUsageClasses", ())),
            current_generation=bool(item.get("CurrentGeneration", False)),
            burstable=bool(item.get("BurstablePerformanceSupported", False)),
            zones={region: tuple(azs) for region, azs in (zones or {}).items()},
            surveyed_regions=tuple(surveyed_regions),
        )


def normalize_architecture(supported: Sequence[str]) -> str:
    """``"arm64"`` or ``"x86_64"`` from EC2's SupportedArchitectures (i386, *_mac variants)."""
    return "arm64" if any(a.startswith("arm64") for a in supported) else "x86_64"


def derive_card_efa_support(max_efa_interfaces: int, max_network_cards: int) -> tuple[bool, ...]:
    """Which cards support EFA when EC2 does not list the cards' ``InterfaceTypes``.

    Equal counts mean every card does. Fewer EFA interfaces than cards means card 0 does not
    (p6-b300.48xlarge: 17 cards, 16 EFA; ParallelCluster infers the same) and the next
    ``max_efa_interfaces`` cards do.
    """
    if max_efa_interfaces <= 0:
        return (False,) * max_network_cards
    if max_efa_interfaces >= max_network_cards:
        return (True,) * max_network_cards
    return tuple(0 < i <= max_efa_interfaces for i in range(max_network_cards))


def _parse_cards(
    network: Mapping[str, Any], *, max_efa: int, max_cards: int
) -> tuple[NetworkCardSpec, ...]:
    raw = sorted(network.get("NetworkCards", []), key=lambda c: int(c.get("NetworkCardIndex", 0)))
    if not raw:  # very old responses: one card carrying every interface
        raw = [
            {
                "NetworkCardIndex": 0,
                "MaximumNetworkInterfaces": network.get("MaximumNetworkInterfaces", 1),
                "NetworkPerformance": network.get("NetworkPerformance", ""),
            }
        ]
    derived = derive_card_efa_support(max_efa, max(max_cards, len(raw)))
    cards: list[NetworkCardSpec] = []
    for card in raw:
        index = int(card.get("NetworkCardIndex", 0))
        listed = card.get("InterfaceTypes")
        if listed is not None:
            types = tuple(str(t) for t in listed)
            efa = max_efa > 0 and any(t in EFA_CAPABLE_TYPES for t in types)
        else:
            efa = derived[index] if index < len(derived) else False
            types = ("interface", "efa", "efa-only") if efa else ("interface",)
        cards.append(
            NetworkCardSpec(
                index=index,
                max_interfaces=int(card.get("MaximumNetworkInterfaces", 1)),
                baseline_gbps=float(card.get("BaselineBandwidthInGbps", 0.0)),
                peak_gbps=float(card.get("PeakBandwidthInGbps", 0.0)),
                efa_supported=efa,
                interface_types=types,
                network_performance=str(card.get("NetworkPerformance", "")),
            )
        )
    return tuple(cards)
