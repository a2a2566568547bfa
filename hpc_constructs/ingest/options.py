"""DataIngest's option groups: HDFS NameNodes, Direct Connect and Snowball settings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import aws_secretsmanager as secretsmanager

from hpc_constructs.nodes import SubnetsInput


@dataclass(frozen=True)
class HdfsNameNode:
    """One HDFS NameNode: host name or IP and RPC port (Hadoop's default is 8020)."""

    hostname: str
    port: int = 8020


@dataclass(frozen=True)
class VirtualInterfaceOptions:
    """A Direct Connect virtual interface on a connection (or LAG) you own.

    Private VIF on the virtual-private-gateway path, transit VIF on the transit-gateway path;
    both attach to the Direct Connect gateway.
    """

    #: ``dxcon-...`` or ``dxlag-...`` (or its ARN).
    connection_id: str
    #: 802.1Q VLAN id, 1-4094, agreed with your provider.
    vlan: int
    #: Your router's BGP ASN, 1-4294967294.
    customer_asn: int
    #: BGP MD5 key. Default: - none; AWS generates one (see the virtual interface's console page).
    auth_key: secretsmanager.ISecret | None = None
    #: 1500, or jumbo frames: 9001 (private VIF) / 8500 (transit VIF). Default: - 1500.
    mtu: int = 1500
    #: Amazon-side peer address with prefix length. Default: - assigned by AWS.
    amazon_address: str | None = None
    #: Your-side peer address with prefix length. Default: - assigned by AWS.
    customer_address: str | None = None
    #: Default: - a name derived from the construct path.
    name: str | None = None


@dataclass(frozen=True)
class DirectConnectOptions:
    """How the VPC reaches a Direct Connect gateway."""

    #: ``VIRTUAL_PRIVATE_GATEWAY`` (one VPC) or ``TRANSIT_GATEWAY`` (hub for many VPCs).
    #: Default: - VIRTUAL_PRIVATE_GATEWAY.
    attachment: str = "VIRTUAL_PRIVATE_GATEWAY"
    #: Existing Direct Connect gateway id (UUID). Default: - a new Direct Connect gateway.
    direct_connect_gateway_id: str | None = None
    #: Amazon-side ASN of a new Direct Connect gateway. Default: - 64512.
    direct_connect_gateway_asn: int = 64512
    #: Amazon-side ASN of the new virtual private gateway or transit gateway; must differ from
    #: the Direct Connect gateway's for a transit gateway. Default: - 64512 for a virtual
    #: private gateway, 64513 for a transit gateway.
    gateway_asn: int | None = None
    #: Prefixes advertised to on premises (required for a transit gateway association).
    #: Default: - the VPC CIDR for a transit gateway; for a virtual private gateway, the VPC CIDR
    #: as AWS decides.
    allowed_prefixes: Sequence[str] = ()
    #: On-premises CIDRs to route through the transit gateway (a VGW propagates BGP routes
    #: instead). Default: - none.
    on_premises_cidrs: Sequence[str] = ()
    #: Subnets whose route tables learn on-premises routes / host the TGW attachment: an
    #: ``ec2.SubnetSelection``, one ``ec2.ISubnet`` or a list of them (as on every launcher).
    #: Default: - the VPC's private subnets (isolated ones when there are no private subnets).
    vpc_subnets: SubnetsInput | None = None
    #: A virtual interface to create. Default: - none (you or your provider create it).
    virtual_interface: VirtualInterfaceOptions | None = None


@dataclass(frozen=True)
class SnowballImportOptions:
    """Values written into the Snowball ``create-job`` request; unset ones stay placeholders."""

    #: Default: - placeholder (create one with ``aws snowball create-address``).
    address_id: str | None = None
    #: One of SECOND_DAY, NEXT_DAY, EXPRESS, STANDARD. Default: - placeholder.
    shipping_option: str | None = None
    #: Device type, e.g. EDGE_S. Default: - placeholder.
    snowball_type: str | None = None
    #: Default: - "hpc-constructs import into <bucket>".
    description: str | None = None
