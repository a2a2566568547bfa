"""Instance-type facts at synth time, with no AWS calls: EFA and network cards, CPUs, GPUs,
Neuron devices, NVMe instance store, placement strategies and regional offerings.

Facts come from a committed DescribeInstanceTypes / DescribeInstanceTypeOfferings snapshot
(``InstanceCatalog.source`` and ``.generated_at`` say which); types newer than the snapshot
can be described with ``InstanceCatalog.register`` or ``InstanceCatalog.describe``.
"""

from hpc_constructs.catalog.planner import (
    DEFAULT_EFA_INTERFACE_TYPE,
    EfaInterface,
    EfaInterfaceType,
    InterfaceType,
    efa_device_paths,
    offered_in,
    plan_efa_interfaces,
    supports_placement,
)
from hpc_constructs.catalog.spec import (
    InstanceSpec,
    NetworkCardSpec,
    derive_card_efa_support,
    normalize_architecture,
)
from hpc_constructs.catalog.store import (
    DATA_FILE,
    SCHEMA_VERSION,
    InstanceCatalog,
    InstanceTypeCatalog,
    UnknownInstanceTypeError,
)

__all__ = [
    "DATA_FILE",
    "DEFAULT_EFA_INTERFACE_TYPE",
    "SCHEMA_VERSION",
    "EfaInterface",
    "EfaInterfaceType",
    "InstanceCatalog",
    "InstanceSpec",
    "InstanceTypeCatalog",
    "InterfaceType",
    "NetworkCardSpec",
    "UnknownInstanceTypeError",
    "derive_card_efa_support",
    "efa_device_paths",
    "normalize_architecture",
    "offered_in",
    "plan_efa_interfaces",
    "supports_placement",
]
