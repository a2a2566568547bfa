"""NetworkFabric: the VPC every other hpc-constructs construct plugs into.

One large compute subnet in a single Availability Zone (EFA traffic cannot leave it), service
subnets across AZs for NAT and VPC endpoints, an S3 gateway endpoint, and encrypted flow logs.

Layout: :mod:`.plan` (the rules for a new VPC as pure functions building a frozen
``NewVpcPlan``), :mod:`.fabric` (``FabricEndpoint`` and the construct rendering the plan).
"""

from hpc_constructs.network.fabric import FabricEndpoint, NetworkFabric
from hpc_constructs.network.plan import (
    AWS_RESERVED_ADDRESSES_PER_SUBNET,
    DEFAULT_CIDR,
    DEFAULT_COMPUTE_SUBNET_CIDR_MASK,
    DEFAULT_MAX_AZS,
    DEFAULT_NAT_GATEWAYS,
    DEFAULT_SERVICE_SUBNET_CIDR_MASK,
    PUBLIC_SUBNET_CIDR_MASK,
    SUBNET_PREFIX_RANGE,
    VPC_PREFIX_RANGE,
    NewVpcPlan,
    SubnetGroup,
    compute_subnet_cidr_mask,
    plan_new_vpc,
)

__all__ = [
    "AWS_RESERVED_ADDRESSES_PER_SUBNET",
    "DEFAULT_CIDR",
    "DEFAULT_COMPUTE_SUBNET_CIDR_MASK",
    "DEFAULT_MAX_AZS",
    "DEFAULT_NAT_GATEWAYS",
    "DEFAULT_SERVICE_SUBNET_CIDR_MASK",
    "PUBLIC_SUBNET_CIDR_MASK",
    "SUBNET_PREFIX_RANGE",
    "VPC_PREFIX_RANGE",
    "FabricEndpoint",
    "NetworkFabric",
    "NewVpcPlan",
    "SubnetGroup",
    "compute_subnet_cidr_mask",
    "plan_new_vpc",
]
