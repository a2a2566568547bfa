"""The rules of the Service Catalog products as pure functions on plain values.

A product version fixes everything that decides a node's network-interface layout (the
instance family's EFA cards, the instance store, the architecture, the image) and lets a
researcher pick the rest at launch through CloudFormation parameters. The parameters'
``AllowedValues`` / ``MinValue`` / ``MaxValue`` are computed here from the library's own
limits (:mod:`hpc_constructs.limits`, :mod:`hpc_constructs.network.plan`,
:mod:`hpc_constructs.ops.facts`) and the instance catalog, so an invalid choice cannot be
made at launch. No CDK imports: the tests assert these values without synthesis.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from hpc_constructs import limits
from hpc_constructs.catalog import (
    EfaInterface,
    InstanceCatalog,
    InstanceSpec,
    UnknownInstanceTypeError,
    offered_in,
    plan_efa_interfaces,
)
from hpc_constructs.errors import Validator
from hpc_constructs.network.plan import (
    DEFAULT_COMPUTE_SUBNET_CIDR_MASK,
    DEFAULT_MAX_AZS,
    azs_known,
    usable_addresses,
)
from hpc_constructs.ops.facts import BUDGET_MAX_LIMIT_USD, TAG_CHARACTERS, TAG_VALUE_MAX
from hpc_constructs.ops.plan import _EMAIL

#: Lustre deployment types a product may offer: the ones with provisioned SSD capacity
#: (Intelligent-Tiering storage is elastic and HDD needs a per-unit throughput choice).
PRODUCT_LUSTRE_DEPLOYMENT_TYPES = ("SCRATCH_1", "SCRATCH_2", "PERSISTENT_1", "PERSISTENT_2")
#: AllowedPattern of the notification email parameter: the address rule of ``HpcBudget``.
EMAIL_PATTERN = _EMAIL.pattern
#: The project parameter becomes a cost-allocation tag value (``CostAllocationTags``): the
#: characters and length ``ops.facts`` allows for tag values.
PROJECT_PATTERN = TAG_CHARACTERS.pattern
PROJECT_MAX_LENGTH = TAG_VALUE_MAX
#: Service Catalog names: product and portfolio display names up to 100 characters, version
#: names up to 100 (botocore servicecatalog model: ProductViewName, PortfolioDisplayName,
#: ProvisioningArtifactName).
NAME_MAX = 100
_VERSION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


# --- instance types of a version -------------------------------------------------------------


@dataclass(frozen=True)
class LayoutKey:
    """What a launch template and a node's boot script depend on, per instance type: two types
    with equal keys can swap in one launch template (``InstanceType`` alone changes)."""

    architecture: str
    gpu: bool
    interfaces: tuple[EfaInterface, ...]
    efa_devices: int
    instance_store_disks: int

    def describe(self) -> str:
        kinds = "GPU" if self.gpu else "CPU"
        return (
            f"{self.architecture} {kinds}, {self.efa_devices} EFA interfaces on "
            f"{len({i.network_card_index for i in self.interfaces})} network cards, "
            f"{self.instance_store_disks} instance-store disks"
        )


def layout_key(spec: InstanceSpec) -> LayoutKey:
    """The layout of ``spec`` as the fleet plans it (``catalog.plan_efa_interfaces``)."""
    return LayoutKey(
        architecture=spec.architecture,
        gpu=spec.is_gpu,
        interfaces=plan_efa_interfaces(spec),
        efa_devices=spec.max_efa_interfaces,
        instance_store_disks=spec.nvme_disk_count,
    )


def family(instance_type: str) -> str:
    """``hpc7a`` of ``hpc7a.96xlarge``."""
    return instance_type.split(".", 1)[0]


def compatible_instance_types(
    reference: str, *, region: str | None = None, same_family: bool = True
) -> tuple[str, ...]:
    """Catalog types with the EFA layout of ``reference`` (and its family when
    ``same_family``), offered in ``region`` when given, smallest first (vCPUs, then name)."""
    key = layout_key(InstanceCatalog.get(reference))
    found = [
        spec
        for spec in InstanceCatalog.all()
        if spec.efa_supported
        and (not same_family or family(spec.instance_type) == family(reference))
        and (region is None or offered_in(spec, region) is True)
        and layout_key(spec) == key
    ]
    return tuple(s.instance_type for s in sorted(found, key=lambda s: (s.vcpus, s.instance_type)))


@dataclass(frozen=True)
class InstanceTypesPlan:
    """The instance types of one version: the first is the reference the fleet is planned
    with; every other shares its layout, so the launch template only swaps ``InstanceType``."""

    instance_types: tuple[str, ...]
    reference: InstanceSpec
    layout: LayoutKey
    #: AZs of the region offering every type (empty when the region is unknown).
    zones: tuple[str, ...]


def plan_instance_types(
    v: Validator, prop: str, instance_types: Sequence[str], region: str | None
) -> InstanceTypesPlan | None:
    """Known EFA types, listed once, sharing one layout, offered together in one AZ of
    ``region`` (when known). ``None`` when a problem was recorded."""
    types = tuple(instance_types)
    v.require(len(types) > 0, prop, list(types), "one or more instance types")
    v.require(len(set(types)) == len(types), prop, list(types), "each type listed once")
    specs: list[InstanceSpec] = []
    for name in types:
        try:
            spec = InstanceCatalog.get(name)
        except UnknownInstanceTypeError as err:
            hint = f"; did you mean {', '.join(err.suggestions)}?" if err.suggestions else ""
            v.add(prop, name, "a type in the instance catalog", "unknown instance type" + hint)
            continue
        if v.require(spec.efa_supported, prop, name, "an EFA-capable type (a cluster product)"):
            specs.append(spec)
    if not specs or len(specs) < len(types):
        return None
    key = layout_key(specs[0])
    for spec in specs[1:]:
        v.require(
            layout_key(spec) == key,
            prop,
            spec.instance_type,
            f"a type with the network-interface layout of {specs[0].instance_type} "
            f"({key.describe()})",
            f"{spec.instance_type} has {layout_key(spec).describe()}: make it another version",
        )
    zones = _common_zones(v, prop, specs, region)
    if v.problems:
        return None
    return InstanceTypesPlan(types, specs[0], key, zones)


def _common_zones(
    v: Validator, prop: str, specs: Sequence[InstanceSpec], region: str | None
) -> tuple[str, ...]:
    if region is None:
        return ()
    for spec in specs:
        v.require(
            offered_in(spec, region) is not False,
            prop,
            spec.instance_type,
            f"a type offered in {region}",
        )
    zone_sets = [set(s.zones.get(region, ())) for s in specs]
    common = sorted(set.intersection(*zone_sets)) if zone_sets else []
    v.require(
        bool(common) or any(not z for z in zone_sets),
        prop,
        [s.instance_type for s in specs],
        f"types offered together in one Availability Zone of {region}",
    )
    return tuple(common)


def fabric_zones(region: str | None, stack_azs: Sequence[str]) -> tuple[str, ...]:
    """The AZs a product's fabric spans: the stack's (pinned in cdk.json), or, when the app
    has none (CDK's placeholders), the region's first AZs in the instance catalog."""
    if stack_azs and azs_known(stack_azs):
        return tuple(stack_azs)
    if region is None:
        return ()
    zones = {az for spec in InstanceCatalog.all() for az in spec.zones.get(region, ())}
    return tuple(sorted(zones)[:DEFAULT_MAX_AZS])


# --- node counts -------------------------------------------------------------------------------


def ips_per_node(spec: InstanceSpec) -> int:
    """Subnet addresses one node takes: its interfaces that carry an IP (the primary; EFA with
    ENA would too, ``efa-only`` takes none)."""
    return sum(1 for itf in plan_efa_interfaces(spec) if itf.has_ip)


def node_count_ceiling(
    spec: InstanceSpec, compute_subnet_mask: int = DEFAULT_COMPUTE_SUBNET_CIDR_MASK
) -> int:
    """The most nodes of ``spec`` the fabric's compute subnet holds (AWS keeps 5 addresses)."""
    return usable_addresses(compute_subnet_mask) // ips_per_node(spec)


@dataclass(frozen=True)
class NumberRange:
    """A Number parameter's ``MinValue``/``MaxValue`` and its default."""

    min_value: int
    max_value: int
    default: int


def plan_node_count(
    v: Validator, prop: str, max_nodes: int, default: int, spec: InstanceSpec
) -> NumberRange:
    """``NodeCount``: 1 (an Auto Scaling fleet needs ``max_nodes >= 1``) to the version's
    ``max_nodes``, which must fit the compute subnet."""
    ceiling = node_count_ceiling(spec)
    ok = v.in_range(prop, max_nodes, 1, ceiling, f"nodes (the compute subnet's {ceiling})")
    if ok:
        v.in_range("default_nodes", default, 1, max_nodes, "nodes (1 to max_nodes)")
    return NumberRange(1, max_nodes, default)


# --- Lustre capacity --------------------------------------------------------------------------


@dataclass(frozen=True)
class CapacityChoices:
    """``StorageCapacity`` values (GiB) a researcher may pick, smallest first."""

    deployment_type: str
    per_unit_storage_throughput: int | None
    allowed_values: tuple[int, ...]
    default: int


def plan_lustre_capacity(
    v: Validator,
    deployment_type: str,
    per_unit_storage_throughput: int | None,
    max_capacity_gib: int,
    default_capacity_gib: int,
) -> CapacityChoices | None:
    """Every valid SSD capacity of ``deployment_type`` up to ``max_capacity_gib``
    (``limits.lustre_valid_capacities``); the deployment and per-unit throughput must be a
    valid pair (``limits.lustre_problems``)."""
    if not v.one_of("lustre_deployment_type", deployment_type, PRODUCT_LUSTRE_DEPLOYMENT_TYPES):
        return None
    for prop, value, allowed in limits.lustre_problems(
        deployment_type=deployment_type,
        storage_type="SSD",
        storage_capacity_gib=None,
        per_unit_storage_throughput=per_unit_storage_throughput,
    ):
        v.add(
            "lustre_per_unit_storage_throughput" if prop.startswith("Per") else prop, value, allowed
        )
    values = tuple(
        limits.lustre_valid_capacities(
            deployment_type, "SSD", per_unit_storage_throughput, max_capacity_gib
        )
    )
    v.require(
        bool(values),
        "max_lustre_capacity_gib",
        max_capacity_gib,
        "at least the smallest capacity, 1200 GiB",
    )
    v.require(
        default_capacity_gib in values,
        "default_lustre_capacity_gib",
        default_capacity_gib,
        limits.lustre_capacity_rule(deployment_type, "SSD", per_unit_storage_throughput)
        + f" for {deployment_type}, up to max_lustre_capacity_gib ({max_capacity_gib})",
    )
    if v.problems:
        return None
    return CapacityChoices(
        deployment_type, per_unit_storage_throughput, values, default_capacity_gib
    )


# --- budget -----------------------------------------------------------------------------------


def plan_budget_range(v: Validator, low: int, high: int, default: int) -> NumberRange:
    """``MonthlyBudgetUsd``: whole dollars within AWS Budgets' limit (more than 0, at most
    ``ops.facts.BUDGET_MAX_LIMIT_USD``), ``low <= default <= high``."""
    top = int(BUDGET_MAX_LIMIT_USD)
    v.in_range("monthly_budget_usd[0]", low, 1, top, "USD")
    v.in_range("monthly_budget_usd[1]", high, max(low, 1), top, f"USD (from {low})")
    v.in_range("default_budget_usd", default, low, high, "USD (within monthly_budget_usd)")
    return NumberRange(low, high, default)


# --- names ---------------------------------------------------------------------------------------


def name_rule(v: Validator, prop: str, value: str) -> None:
    v.require(
        0 < len(value) <= NAME_MAX, prop, value, f"1 to {NAME_MAX} characters (Service Catalog)"
    )


def version_names_rule(v: Validator, names: Sequence[str]) -> None:
    """Each version name once, letters/digits/``._-``, up to 100 characters."""
    v.require(len(names) > 0, "versions", list(names), "one or more versions")
    for name in names:
        v.require(
            bool(_VERSION_NAME.match(name)),
            "versions",
            name,
            "a name of letters, digits, '.', '_' or '-' (up to 100 characters)",
        )
    dupes = sorted({n for n in names if names.count(n) > 1})
    v.require(not dupes, "versions", dupes, "each version name once")


# --- product versions (plain values) -----------------------------------------------------------

#: Default range and value of the monthly budget parameter (USD).
DEFAULT_BUDGET_RANGE_USD = (100, 100_000)
DEFAULT_BUDGET_USD = 1_000
DEFAULT_MAX_LUSTRE_CAPACITY_GIB = 48_000


@dataclass(frozen=True)
class MpiClusterVersion:
    """One version of an MPI cluster product: an EFA fleet of one network-interface layout
    with a Lustre scratch file system, in its own ``NetworkFabric``, with a monthly budget.

    What decides the nodes' network interfaces is fixed here (one version per instance family
    or EFA layout); the rest is a launch parameter whose allowed values come from the limits.

    :param version_name: the provisioning artifact's name, e.g. ``"hpc7a"``.
    :param instance_types: the ``InstanceType`` choices; all must share one EFA layout
        (:func:`layout_key`), the first is the default. See :func:`compatible_instance_types`.
    :param max_nodes: ``NodeCount``'s MaxValue; at most what the compute subnet holds.
        Default: - 16.
    :param default_nodes: Default: - 2.
    :param lustre_deployment_type: Default: - ``SCRATCH_2``.
    :param lustre_per_unit_storage_throughput: PERSISTENT types only. Default: - none.
    :param max_lustre_capacity_gib: the largest ``LustreCapacityGiB`` offered. Default: - 48,000.
    :param default_lustre_capacity_gib: Default: - 1,200.
    :param monthly_budget_usd: ``MonthlyBudgetUsd``'s (MinValue, MaxValue). Default: - 100 to
        100,000.
    :param default_budget_usd: Default: - 1,000.
    :param description: Default: - generated from the choices.
    """

    version_name: str
    instance_types: Sequence[str] = ()
    max_nodes: int = 16
    default_nodes: int = 2
    lustre_deployment_type: str = "SCRATCH_2"
    lustre_per_unit_storage_throughput: int | None = None
    max_lustre_capacity_gib: int = DEFAULT_MAX_LUSTRE_CAPACITY_GIB
    default_lustre_capacity_gib: int = 1200
    monthly_budget_usd: tuple[int, int] = DEFAULT_BUDGET_RANGE_USD
    default_budget_usd: int = DEFAULT_BUDGET_USD
    description: str = ""


@dataclass(frozen=True)
class LustreScratchVersion:
    """One version of a Lustre scratch product: an FSx for Lustre file system in a VPC and
    subnet the researcher picks, open to one client security group, with a monthly budget.

    :param version_name: e.g. ``"scratch-2"``.
    :param deployment_type: Default: - ``SCRATCH_2``.
    :param per_unit_storage_throughput: PERSISTENT types only. Default: - none.
    :param max_capacity_gib: Default: - 48,000.
    :param default_capacity_gib: Default: - 1,200.
    :param monthly_budget_usd: Default: - 100 to 100,000.
    :param default_budget_usd: Default: - 1,000.
    :param description: Default: - generated from the choices.
    """

    version_name: str
    deployment_type: str = "SCRATCH_2"
    per_unit_storage_throughput: int | None = None
    max_capacity_gib: int = DEFAULT_MAX_LUSTRE_CAPACITY_GIB
    default_capacity_gib: int = 1200
    monthly_budget_usd: tuple[int, int] = DEFAULT_BUDGET_RANGE_USD
    default_budget_usd: int = DEFAULT_BUDGET_USD
    description: str = ""


ProductVersion = MpiClusterVersion | LustreScratchVersion


@dataclass(frozen=True)
class BlueprintProduct:
    """A Service Catalog product made of blueprint versions of one kind.

    :param product_name: up to 100 characters.
    :param owner: who publishes it (shown to researchers), up to 100 characters.
    :param versions: one or more :class:`MpiClusterVersion` or :class:`LustreScratchVersion`,
        all of one kind, names unique; the first is listed first.
    :param description: Default: - none.
    """

    product_name: str
    owner: str
    versions: Sequence[ProductVersion]
    description: str = ""


@dataclass(frozen=True)
class ClusterVersionPlan:
    version: MpiClusterVersion
    instance_types: InstanceTypesPlan
    nodes: NumberRange
    capacity: CapacityChoices
    budget: NumberRange
    compute_az: str
    availability_zones: tuple[str, ...]

    @property
    def description(self) -> str:
        v = self.version
        return v.description or (
            f"{', '.join(self.instance_types.instance_types)}: up to {self.nodes.max_value} "
            f"nodes with {self.instance_types.layout.efa_devices} EFA interfaces each, "
            f"{self.capacity.deployment_type} Lustre up to {self.capacity.allowed_values[-1]} GiB"
        )


@dataclass(frozen=True)
class ScratchVersionPlan:
    version: LustreScratchVersion
    capacity: CapacityChoices
    budget: NumberRange
    #: The portfolio stack's AZs (the imported VPC's; the researcher picks the subnet).
    availability_zones: tuple[str, ...] = ()

    @property
    def description(self) -> str:
        return self.version.description or (
            f"{self.capacity.deployment_type} Lustre, "
            f"{self.capacity.allowed_values[0]} to {self.capacity.allowed_values[-1]} GiB"
        )


VersionPlan = ClusterVersionPlan | ScratchVersionPlan


def plan_cluster_version(
    v: Validator, version: MpiClusterVersion, region: str | None, stack_azs: Sequence[str]
) -> ClusterVersionPlan | None:
    """The rules of one cluster version; ``stack_azs`` are the portfolio stack's AZs (the
    fabric spans them, its compute subnet in the first that offers every type)."""
    types = plan_instance_types(v, "instance_types", version.instance_types, region)
    capacity = plan_lustre_capacity(
        v,
        version.lustre_deployment_type,
        version.lustre_per_unit_storage_throughput,
        version.max_lustre_capacity_gib,
        version.default_lustre_capacity_gib,
    )
    budget = plan_budget_range(v, *version.monthly_budget_usd, version.default_budget_usd)
    if types is None or capacity is None:
        return None
    nodes = plan_node_count(
        v, "max_nodes", version.max_nodes, version.default_nodes, types.reference
    )
    offering = [az for az in stack_azs if az in types.zones]
    v.require(
        bool(offering),
        "instance_types",
        list(types.instance_types),
        f"types offered in one of the stack's Availability Zones ({', '.join(stack_azs)})",
    )
    if v.problems:
        return None
    azs = (offering[0], *(az for az in stack_azs if az != offering[0]))
    return ClusterVersionPlan(version, types, nodes, capacity, budget, offering[0], azs)


def plan_scratch_version(
    v: Validator, version: LustreScratchVersion, stack_azs: Sequence[str] = ()
) -> ScratchVersionPlan | None:
    capacity = plan_lustre_capacity(
        v,
        version.deployment_type,
        version.per_unit_storage_throughput,
        version.max_capacity_gib,
        version.default_capacity_gib,
    )
    budget = plan_budget_range(v, *version.monthly_budget_usd, version.default_budget_usd)
    if capacity is None or v.problems:
        return None
    return ScratchVersionPlan(version, capacity, budget, tuple(stack_azs))


def plan_product(
    v: Validator, product: BlueprintProduct, region: str | None, stack_azs: Sequence[str]
) -> tuple[VersionPlan, ...] | None:
    """Every version's plan; names, kinds and each version's rules checked together."""
    name_rule(v, "product_name", product.product_name)
    name_rule(v, "owner", product.owner)
    versions = list(product.versions)
    version_names_rule(v, [ver.version_name for ver in versions])
    kinds = sorted({type(ver).__name__ for ver in versions})
    v.require(
        len(kinds) <= 1, "versions", kinds, "versions of one kind (one blueprint per product)"
    )
    plans: list[VersionPlan | None] = []
    for index, ver in enumerate(versions):
        sub = Validator(f"{v.path}/versions[{index}]")
        if isinstance(ver, MpiClusterVersion):
            plans.append(plan_cluster_version(sub, ver, region, stack_azs))
        else:
            plans.append(plan_scratch_version(sub, ver, stack_azs))
        v.problems.extend(sub.problems)
    if v.problems:
        return None
    return tuple(p for p in plans if p is not None)
