"""The rules of :class:`~hpc_constructs.grid.BatchGrid` on plain values (no CDK objects).

``select_pool`` picks instance types from the catalog by requirements and diversifies them
across families and generations; ``plan_grid`` checks a grid's props and returns a frozen
:class:`GridPlan`; ``plan_job`` checks one job against the pool and Batch's limits. Every rule
records its problems on a :class:`~hpc_constructs.errors.Validator` and never raises.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from hpc_constructs import limits
from hpc_constructs.catalog import InstanceCatalog, InstanceSpec, offered_in
from hpc_constructs.compute import lookup_specs, offering_rule
from hpc_constructs.errors import Validator

#: Memory held back from a job for the kernel, the OS and the ECS agent, as on BatchMultiNode
#: (AWS Batch User Guide, "Compute resource memory management"): 5%, at least 512 MiB.
MEMORY_RESERVE_FRACTION = 0.05
MEMORY_RESERVE_MIN_MIB = 512

#: Families never picked from requirements: accelerators the catalog does not count as GPUs or
#: Neuron devices (FPGAs, video transcoders, Qualcomm inference cards), and ``-flex`` types,
#: which run at full CPU only part of the time. Pass ``instance_types`` to use one anyway.
DEFAULT_EXCLUDED_FAMILIES = ("f1", "f2", "vt1", "dl1", "dl2q")
_FLEX = "-flex"

#: "A good rule of thumb is to be flexible across at least 10 instance types for each
#: workload" (EC2 User Guide, Spot best practices); a little more by default.
DEFAULT_MAX_TYPES = 12

#: Default instance classes (the letters before a family's generation number).
CPU_CLASSES = ("c", "m", "r")
GPU_CLASSES = ("g",)

#: Family variants that only name the processor (``c6``, ``c6a``, ``c6i``, ``c6g``).
PLAIN_VARIANTS = ("", "a", "i", "g")

_FAMILY = re.compile(r"^([a-z]+?)(\d+)(.*)$")


@dataclass(frozen=True)
class InstanceRequirements:
    """What an instance of a grid's pool must have; :func:`select_pool` picks the types.

    :param min_vcpus: vCPUs per instance, at least. Default: - 2.
    :param max_vcpus: vCPUs per instance, at most (large sizes pack more tasks per instance but
        make fewer, bigger Spot requests). Default: - 64.
    :param min_memory_per_vcpu_gib: GiB of memory per vCPU, at least (2 admits c, 4 m, 8 r
        families). Default: - 2.
    :param max_memory_per_vcpu_gib: GiB per vCPU, at most. Default: - 8 (no x/u/z families).
    :param architecture: ``x86_64`` or ``arm64`` (one per queue: Batch refuses mixed
        architectures in a job queue). Default: - ``x86_64``.
    :param gpus: NVIDIA GPUs per instance, at least; 0 picks only types without GPUs or
        other accelerators. Default: - 0.
    :param min_gpu_memory_gib: GiB of memory per GPU, at least. Default: - 0.
    :param instance_store: only types with local NVMe instance storage. Default: - False.
    :param excluded_families: families never picked (``c6a``), besides
        :data:`DEFAULT_EXCLUDED_FAMILIES` and ``-flex`` types. Default: - none.
    :param instance_classes: the leading letters of the families to pick from. Default: -
        ``c``, ``m`` and ``r`` (compute, general purpose and memory optimized) without GPUs;
        ``g`` with GPUs (add ``p`` for the training GPUs).
    :param max_types: the most types in the pool. Default: - 12.
    :param current_generation_only: skip types EC2 lists as previous generation. Default: -
        True.
    :param bare_metal: allow ``.metal`` sizes. Default: - False.
    """

    min_vcpus: int = 2
    max_vcpus: int = 64
    min_memory_per_vcpu_gib: float = 2
    max_memory_per_vcpu_gib: float | None = 8
    architecture: str = "x86_64"
    gpus: int = 0
    min_gpu_memory_gib: float = 0
    instance_store: bool = False
    excluded_families: Sequence[str] = ()
    instance_classes: Sequence[str] | None = None
    max_types: int = DEFAULT_MAX_TYPES
    current_generation_only: bool = True
    bare_metal: bool = False


@dataclass(frozen=True)
class GridShare:
    """One fair-share identifier of a grid's queue and its weight (a lower weight gets more
    vCPUs: 0.5 gets twice what 1.0 gets). An identifier ending in ``*`` covers every share
    identifier with that prefix."""

    identifier: str
    weight: float = 1.0


@dataclass(frozen=True)
class GridProps:
    """The plain-valued props of a :class:`~hpc_constructs.grid.BatchGrid` its rules read."""

    max_vcpus: int
    min_vcpus: int = 0
    spot: bool = True
    on_demand_fallback: bool = True
    on_demand_max_vcpus: int | None = None
    fargate_max_vcpus: int | None = None
    spot_bid_percentage: int | None = None
    root_volume_size_gib: int = 50
    job_queue_priority: int = 1
    shares: Sequence[GridShare] = ()
    share_decay_seconds: int | None = None
    compute_reservation: int | None = None


@dataclass(frozen=True)
class GridPlan:
    """Everything the rules of a grid decided, as plain values."""

    specs: tuple[InstanceSpec, ...]
    max_vcpus: int
    min_vcpus: int
    spot: bool
    on_demand_max_vcpus: int
    fargate_max_vcpus: int
    shares: tuple[GridShare, ...] = ()
    warn_single_family: bool = False
    #: NVMe instance-store disks every type has (the fewest), striped at boot; 0: none.
    instance_store_disks: int = 0

    @property
    def instance_types(self) -> tuple[str, ...]:
        return tuple(s.instance_type for s in self.specs)

    @property
    def families(self) -> tuple[str, ...]:
        """The pool's families, in pool order, each once."""
        return tuple(dict.fromkeys(family_of(t) for t in self.instance_types))

    @property
    def generations(self) -> tuple[int, ...]:
        return tuple(sorted({generation_of(t) for t in self.instance_types}, reverse=True))

    @property
    def architecture(self) -> str:
        return self.specs[0].architecture

    @property
    def is_gpu(self) -> bool:
        return any(s.is_gpu for s in self.specs)

    @property
    def ec2_max_vcpus(self) -> int:
        """The vCPU ceiling of the EC2 queue: Spot plus the On-Demand fallback."""
        return (self.max_vcpus if self.spot else 0) + self.on_demand_max_vcpus

    @property
    def spot_share(self) -> float:
        """The share of the EC2 queue's vCPU ceiling that is Spot (0 to 1)."""
        total = self.ec2_max_vcpus
        return (self.max_vcpus / total) if self.spot and total else 0.0


# --- instance pools -------------------------------------------------------------------------


def family_of(instance_type: str) -> str:
    """``c6i.4xlarge`` -> ``c6i``."""
    return instance_type.split(".", 1)[0]


def generation_of(instance_type: str) -> int:
    """``c6i.4xlarge`` -> 6 (0 when the family has no generation number)."""
    match = _FAMILY.match(family_of(instance_type))
    return int(match.group(2)) if match else 0


def usable_memory_mib(spec: InstanceSpec) -> int:
    """The memory a job may ask for on ``spec``: its memory minus the OS and agent reserve."""
    reserve = max(MEMORY_RESERVE_MIN_MIB, int(spec.memory_mib * MEMORY_RESERVE_FRACTION))
    return spec.memory_mib - reserve


def matches(
    spec: InstanceSpec, req: InstanceRequirements, usage_classes: Sequence[str] = ("spot",)
) -> bool:
    """Whether ``spec`` meets ``req`` and is sold as every one of ``usage_classes``."""
    family = family_of(spec.instance_type)
    classes = req.instance_classes or (CPU_CLASSES if req.gpus == 0 else GPU_CLASSES)
    per_vcpu_gib = spec.memory_mib / 1024 / max(spec.vcpus, 1)
    if (
        spec.architecture != req.architecture
        or _family_key(family)[0] not in classes
        or spec.burstable
        or family in DEFAULT_EXCLUDED_FAMILIES
        or family in req.excluded_families
        or family.endswith(_FLEX)
        or (req.current_generation_only and not spec.current_generation)
        or (not req.bare_metal and spec.instance_type.endswith(".metal"))
        or not all(u in spec.usage_classes for u in usage_classes)
        or not req.min_vcpus <= spec.vcpus <= req.max_vcpus
        or per_vcpu_gib < req.min_memory_per_vcpu_gib
        or (req.max_memory_per_vcpu_gib is not None and per_vcpu_gib > req.max_memory_per_vcpu_gib)
        or (req.instance_store and spec.nvme_disk_count == 0)
    ):
        return False
    if req.gpus == 0:
        return spec.gpus == 0 and spec.gpu_model is None and spec.neuron_devices == 0
    per_gpu_gib = spec.gpu_memory_mib / 1024 / max(spec.gpus, 1)
    return (
        spec.gpus >= req.gpus
        and spec.gpu_manufacturer == "NVIDIA"
        and per_gpu_gib >= req.min_gpu_memory_gib
    )


def _family_key(family: str) -> tuple[str, int, str]:
    """``c6id`` -> ``("c", 6, "id")``: class, generation and variant of a family."""
    match = _FAMILY.match(family)
    if match is None:
        return (family, 0, "")
    return (match.group(1), int(match.group(2)), match.group(3))


def diverse_family_order(families: Sequence[str]) -> list[str]:
    """``families`` ordered so each next one differs most from those before it.

    Greedy: plain families (:data:`PLAIN_VARIANTS`: ``c7a`` AMD, ``c7i`` Intel, ``c7g``
    Graviton) come before specialised ones (``c7gn`` network, ``c6id`` NVMe: dearer,
    shallower pools); among them the next family is the one sharing the fewest traits
    with the families already taken, counting its class (``c``, ``m``, ``r``), its generation
    and its variant once each; ties go to the newest generation, then the name. Separate families are separate Spot capacity pools,
    and different classes, generations and processors rarely run short together.
    """
    left = sorted(set(families))
    taken: list[tuple[str, int, str]] = []
    order: list[str] = []
    while left:

        def cost(family: str) -> tuple[bool, int, int, int, str]:
            cls, gen, variant = _family_key(family)
            shared = sum((c == cls) + (g == gen) + (x == variant) for c, g, x in taken)
            return (variant not in PLAIN_VARIANTS, shared, -gen, len(variant), family)

        best = min(left, key=cost)
        left.remove(best)
        taken.append(_family_key(best))
        order.append(best)
    return order


def diversify(candidates: Sequence[InstanceSpec], max_types: int) -> list[InstanceSpec]:
    """Up to ``max_types`` of ``candidates``, spread over families and generations.

    Families come in :func:`diverse_family_order`; each round takes one size per family,
    largest first, so the pool covers as many families (separate Spot capacity pools) as it
    can before it takes a second size of any. Deterministic for a given catalog.
    """
    by_family: dict[str, list[InstanceSpec]] = {}
    for spec in candidates:
        by_family.setdefault(family_of(spec.instance_type), []).append(spec)
    for sizes in by_family.values():
        sizes.sort(key=lambda s: (-s.vcpus, s.memory_mib, s.instance_type))
    order = diverse_family_order(list(by_family))
    chosen: list[InstanceSpec] = []
    for depth in range(max((len(s) for s in by_family.values()), default=0)):
        for family in order:
            if len(chosen) >= max_types:
                return chosen
            if depth < len(by_family[family]):
                chosen.append(by_family[family][depth])
    return chosen


def select_pool(
    req: InstanceRequirements,
    region: str,
    zones: Sequence[str] = (),
    usage_classes: Sequence[str] = ("spot",),
    catalog_specs: Sequence[InstanceSpec] | None = None,
) -> list[InstanceSpec]:
    """The diversified pool for ``req``: types from the catalog that meet it, are sold as
    ``usage_classes`` and are offered in ``region`` and in each of ``zones`` (when the catalog
    knows the region's zones)."""
    specs = catalog_specs if catalog_specs is not None else InstanceCatalog.all()
    candidates = [
        s
        for s in specs
        if offered_in(s, region) is True
        and all(offered_in(s, region, az) is not False for az in zones)
        and matches(s, req, usage_classes)
    ]
    return diversify(candidates, req.max_types)


def requirements_rule(v: Validator, req: InstanceRequirements) -> None:
    prop = "instance_requirements"
    v.one_of(f"{prop}.architecture", req.architecture, ("x86_64", "arm64"))
    v.require(req.min_vcpus >= 1, f"{prop}.min_vcpus", req.min_vcpus, "1 or more")
    v.require(
        req.max_vcpus >= req.min_vcpus,
        f"{prop}.max_vcpus",
        req.max_vcpus,
        f"at least min_vcpus ({req.min_vcpus})",
    )
    v.require(req.gpus >= 0, f"{prop}.gpus", req.gpus, "0 or more")
    v.require(req.max_types >= 1, f"{prop}.max_types", req.max_types, "1 or more")
    high = req.max_memory_per_vcpu_gib
    v.require(
        high is None or high >= req.min_memory_per_vcpu_gib,
        f"{prop}.max_memory_per_vcpu_gib",
        high,
        f"at least min_memory_per_vcpu_gib ({req.min_memory_per_vcpu_gib:g})",
    )


def resolve_pool(
    v: Validator,
    *,
    instance_types: Sequence[str] | None,
    requirements: InstanceRequirements | None,
    region: str | None,
    zones: Sequence[str],
    usage_classes: Sequence[str],
) -> list[InstanceSpec]:
    """The pool: ``instance_types`` looked up in the catalog, or picked by ``requirements``
    (the default requirements when neither is given). Exactly one of the two may be given."""
    if instance_types is not None and requirements is not None:
        v.add(
            "instance_types/instance_requirements",
            (list(instance_types), requirements),
            "either instance_types or instance_requirements, not both",
        )
        return []
    if instance_types is not None:
        return lookup_specs(v, "instance_types", instance_types)
    req = requirements or InstanceRequirements()
    requirements_rule(v, req)
    if v.problems:
        return []
    if region is None:
        v.add(
            "instance_requirements",
            req,
            "a stack with a concrete region (env=...), or instance_types",
            reason="the pool is chosen from the instance catalog's offerings in the region",
        )
        return []
    pool = select_pool(req, region, zones, usage_classes)
    v.require(
        bool(pool),
        "instance_requirements",
        req,
        f"requirements some {'/'.join(usage_classes)} type offered in {region}"
        + (f" ({', '.join(zones)})" if zones else "")
        + " meets",
        reason="no type in the instance catalog meets them",
    )
    return pool


def pool_rule(
    v: Validator,
    specs: Sequence[InstanceSpec],
    usage_classes: Sequence[str],
    region: str | None,
    zones: Sequence[tuple[str, str]],
) -> None:
    """One architecture, sold as every purchase option the queue uses, offered in the region
    and in the Availability Zone of every subnet."""
    archs = sorted({s.architecture for s in specs})
    v.require(
        len(archs) <= 1,
        "instance_types",
        {s.instance_type: s.architecture for s in specs},
        "types of one architecture (a Batch job queue takes one architecture)",
    )
    for spec in specs:
        for usage in usage_classes:
            v.require(
                usage in spec.usage_classes,
                "instance_types",
                f"{spec.instance_type} ({usage})",
                f"types sold as {usage}: {spec.instance_type} is sold as "
                + ", ".join(spec.usage_classes),
            )
    offering_rule(v, region, "instance_types", specs, zones, "vpc_subnets")


# --- the grid -------------------------------------------------------------------------------


def capacity_rule(v: Validator, props: GridProps, largest_vcpus: int) -> int:
    """vCPU ceilings; returns the On-Demand fallback's ceiling."""
    v.require(props.max_vcpus >= 1, "max_vcpus", props.max_vcpus, "1 or more")
    v.require(
        0 <= props.min_vcpus <= props.max_vcpus,
        "min_vcpus",
        props.min_vcpus,
        f"0 to max_vcpus ({props.max_vcpus})",
    )
    v.in_range("spot_bid_percentage", props.spot_bid_percentage, 1, 100, "% of On-Demand")
    v.in_range("root_volume_size_gib", props.root_volume_size_gib, 30, 16_384, "GiB")
    v.in_range("job_queue_priority", props.job_queue_priority, 0, 1000)
    v.require(
        props.spot or props.spot_bid_percentage is None,
        "spot_bid_percentage",
        props.spot_bid_percentage,
        "unset when spot=False",
    )
    v.require(
        props.fargate_max_vcpus is None or props.fargate_max_vcpus >= 1,
        "fargate_max_vcpus",
        props.fargate_max_vcpus,
        "1 or more (or None for no Fargate Spot queue)",
    )
    if not props.spot or not props.on_demand_fallback:
        v.require(
            props.on_demand_max_vcpus is None,
            "on_demand_max_vcpus",
            props.on_demand_max_vcpus,
            "unset without an On-Demand fallback (on_demand_fallback=False): spot=False "
            "uses max_vcpus",
        )
        return 0 if props.spot else props.max_vcpus
    if props.on_demand_max_vcpus is None:
        return max(props.max_vcpus // 4, largest_vcpus)
    v.require(
        props.on_demand_max_vcpus >= largest_vcpus,
        "on_demand_max_vcpus",
        props.on_demand_max_vcpus,
        f"at least the largest type's vCPUs ({largest_vcpus}), so any job of the pool fits",
    )
    return props.on_demand_max_vcpus


def fair_share_rule(
    v: Validator,
    shares: Sequence[GridShare],
    share_decay_seconds: int | None,
    compute_reservation: int | None,
) -> None:
    """Batch's fair-share policy limits (botocore FairsharePolicy, ShareAttributes)."""
    low, high = limits.BATCH_FAIRSHARE_WEIGHT_FACTOR
    v.require(
        len(shares) <= limits.BATCH_FAIRSHARE_MAX_SHARES,
        "shares",
        len(shares),
        f"at most {limits.BATCH_FAIRSHARE_MAX_SHARES} share identifiers",
    )
    for index, share in enumerate(shares):
        v.require(
            limits.share_identifier_ok(share.identifier),
            f"shares[{index}].identifier",
            share.identifier,
            f"1 to {limits.BATCH_SHARE_IDENTIFIER_MAX_CHARS} letters and digits, optionally "
            "ending in '*'",
        )
        v.in_range(f"shares[{index}].weight", share.weight, low, high)
    for first, second in limits.overlapping_share_identifiers([s.identifier for s in shares]):
        v.add(
            "shares",
            [first, second],
            "share identifiers that do not overlap (a prefix* may not cover another identifier)",
        )
    configured = share_decay_seconds is not None or compute_reservation is not None
    v.require(
        bool(shares) or not configured,
        "share_decay_seconds/compute_reservation",
        (share_decay_seconds, compute_reservation),
        "unset without shares (they tune a fair-share policy)",
    )
    v.in_range(
        "share_decay_seconds",
        share_decay_seconds,
        0,
        limits.BATCH_FAIRSHARE_MAX_SHARE_DECAY_SECONDS,
        "seconds",
    )
    v.in_range(
        "compute_reservation", compute_reservation, *limits.BATCH_FAIRSHARE_COMPUTE_RESERVATION
    )


def usage_classes(props: GridProps) -> tuple[str, ...]:
    """The purchase options the pool's types must be sold as."""
    if not props.spot:
        return ("on-demand",)
    return ("spot", "on-demand") if props.on_demand_fallback else ("spot",)


def plan_grid(
    v: Validator,
    props: GridProps,
    *,
    instance_types: Sequence[str] | None = None,
    requirements: InstanceRequirements | None = None,
    region: str | None = None,
    zones: Sequence[tuple[str, str]] = (),
) -> GridPlan | None:
    """Apply every rule of a grid to plain values; None on a problem.

    ``zones`` are ``(subnet path, availability zone)`` pairs of the grid's subnets.
    """
    classes = usage_classes(props)
    known_zones = sorted({az for _, az in zones if region and az.startswith(region)})
    specs = resolve_pool(
        v,
        instance_types=instance_types,
        requirements=requirements,
        region=region,
        zones=known_zones,
        usage_classes=classes,
    )
    if specs:
        pool_rule(v, specs, classes, region, zones)
    largest = max((s.vcpus for s in specs), default=1)
    on_demand = capacity_rule(v, props, largest)
    fair_share_rule(v, props.shares, props.share_decay_seconds, props.compute_reservation)
    if v.problems or not specs:
        return None
    return GridPlan(
        specs=tuple(specs),
        max_vcpus=props.max_vcpus,
        min_vcpus=props.min_vcpus,
        spot=props.spot,
        on_demand_max_vcpus=on_demand,
        fargate_max_vcpus=props.fargate_max_vcpus or 0,
        shares=tuple(props.shares),
        warn_single_family=props.spot and len({family_of(s.instance_type) for s in specs}) == 1,
        instance_store_disks=min(s.nvme_disk_count for s in specs),
    )


# --- jobs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobAsk:
    """What one job (each task of an array job) asks for, as plain values."""

    vcpus: float = 1
    memory_mib: int | None = None
    gpus: int = 0
    array_size: int | None = None
    retry_attempts: int = 3
    timeout_seconds: int | None = None
    scheduling_priority: int | None = None
    fargate: bool = False


@dataclass(frozen=True)
class JobPlan:
    """A job's resolved resources and the pool types it fits on."""

    vcpus: float
    memory_mib: int
    gpus: int
    array_size: int | None
    retry_attempts: int
    fits_on: tuple[str, ...] = field(default=())


def default_memory_mib(specs: Sequence[InstanceSpec], vcpus: float) -> int:
    """The job's share of the leanest type's usable memory per vCPU, so it fits everywhere."""
    per_vcpu = min(usable_memory_mib(s) / s.vcpus for s in specs)
    return max(int(per_vcpu * vcpus), 4)


def fits(spec: InstanceSpec, vcpus: float, memory_mib: int, gpus: int) -> bool:
    return spec.vcpus >= vcpus and usable_memory_mib(spec) >= memory_mib and spec.gpus >= gpus


def job_fit_rule(v: Validator, plan: GridPlan, vcpus: float, memory_mib: int, gpus: int) -> None:
    """The job fits on at least one type of the pool; GPUs need a GPU pool."""
    if gpus > 0 and not plan.is_gpu:
        v.add(
            "gpus",
            gpus,
            "0: the pool has no GPUs (" + ", ".join(plan.instance_types[:4])
            + (", ..." if len(plan.specs) > 4 else "")
            + "); give the grid instance_requirements with gpus >= 1",
        )  # fmt: skip
        return
    if any(fits(s, vcpus, memory_mib, gpus) for s in plan.specs):
        return
    biggest = max(plan.specs, key=lambda s: (s.vcpus, usable_memory_mib(s), s.gpus))
    largest_memory = max(usable_memory_mib(s) for s in plan.specs)
    v.add(
        "vcpus/memory/gpus",
        f"{vcpus:g} vCPUs, {memory_mib} MiB, {gpus} GPUs",
        f"a job that fits on one instance of the pool (the largest: {biggest.instance_type} with "
        f"{biggest.vcpus} vCPUs, {usable_memory_mib(biggest)} MiB for jobs, {biggest.gpus} GPUs; "
        f"most memory for a job: {largest_memory} MiB)",
        reason="larger than every instance type of the grid's pool",
    )


def batch_job_rule(v: Validator, ask: JobAsk) -> None:
    """Batch's limits on array size, retries, timeout and scheduling priority."""
    low, high = limits.BATCH_ARRAY_SIZE
    if ask.array_size is not None:
        v.require(
            low <= ask.array_size <= high,
            "array_size",
            ask.array_size,
            f"{low} to {high:,} child jobs (AWS Batch SubmitJob arrayProperties.size), or None "
            "for a single job",
        )
    v.in_range("retry_attempts", ask.retry_attempts, *limits.BATCH_RETRY_ATTEMPTS)
    if ask.timeout_seconds is not None:
        v.require(
            ask.timeout_seconds >= limits.BATCH_MIN_TIMEOUT_SECONDS,
            "timeout",
            f"{ask.timeout_seconds} seconds",
            f"at least {limits.BATCH_MIN_TIMEOUT_SECONDS} seconds (AWS Batch job timeout)",
        )
    v.in_range("scheduling_priority", ask.scheduling_priority, *limits.BATCH_SCHEDULING_PRIORITY)


def fargate_rule(v: Validator, plan: GridPlan, ask: JobAsk, memory_mib: int) -> None:
    v.require(
        plan.fargate_max_vcpus > 0,
        "fargate",
        True,
        "False, or a grid with fargate_max_vcpus (a Fargate Spot queue)",
    )
    v.require(ask.gpus == 0, "gpus", ask.gpus, "0 on Fargate (no GPUs on Fargate)")
    options = limits.BATCH_FARGATE_MEMORY_MIB.get(ask.vcpus)
    if options is None:
        v.one_of("vcpus", ask.vcpus, list(limits.BATCH_FARGATE_MEMORY_MIB))
        return
    v.require(
        memory_mib in options,
        "memory",
        f"{memory_mib} MiB",
        f"one of {', '.join(str(m) for m in options)} MiB for {ask.vcpus:g} vCPU on Fargate",
    )


def plan_job(v: Validator, plan: GridPlan, ask: JobAsk) -> JobPlan | None:
    """Every rule of one job of a grid; None on a problem."""
    batch_job_rule(v, ask)
    if ask.fargate:
        memory = ask.memory_mib if ask.memory_mib is not None else int(ask.vcpus * 2048)
        fargate_rule(v, plan, ask, memory)
        fitting: tuple[str, ...] = ()
    else:
        v.require(
            ask.vcpus >= 1 and float(ask.vcpus).is_integer(),
            "vcpus",
            ask.vcpus,
            "a whole number of vCPUs, 1 or more, on EC2 (fractions only on Fargate)",
        )
        v.require(ask.gpus >= 0, "gpus", ask.gpus, "0 or more")
        memory = (
            ask.memory_mib
            if ask.memory_mib is not None
            else default_memory_mib(plan.specs, ask.vcpus)
        )
        v.require(memory >= 4, "memory", f"{memory} MiB", "at least 4 MiB (AWS Batch)")
        if not v.problems:
            job_fit_rule(v, plan, ask.vcpus, memory, ask.gpus)
        fitting = tuple(s.instance_type for s in plan.specs if fits(s, ask.vcpus, memory, ask.gpus))
    if v.problems:
        return None
    return JobPlan(
        vcpus=ask.vcpus,
        memory_mib=memory,
        gpus=ask.gpus,
        array_size=ask.array_size,
        retry_attempts=ask.retry_attempts,
        fits_on=fitting,
    )
