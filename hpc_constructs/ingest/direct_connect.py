"""``DirectConnectLink``: the VPC side of Direct Connect, rendered from a ``DirectConnectPlan``."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_directconnect as directconnect
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from hpc_constructs.errors import Validator, check_prop_types
from hpc_constructs.ingest._iam import private_subnet_type
from hpc_constructs.ingest._plan import DirectConnectPlan, plan_direct_connect
from hpc_constructs.ingest.options import DirectConnectOptions
from hpc_constructs.nodes import subnet_selection


def _plan(path: str, options: DirectConnectOptions) -> DirectConnectPlan:
    v = Validator(path)
    plan = plan_direct_connect(v, options, has_vpc=True)
    v.raise_if_any()
    assert plan is not None  # no problems means a plan
    return plan


class DirectConnectLink(Construct):
    """The VPC side of Direct Connect: gateway, association and optional virtual interface.

    CloudFormation's ``AWS::DirectConnect::*`` types have no aws-cdk-lib L2, so these are L1s;
    the VPC-side gateways are L1s too because ``ec2.IVpc`` (imported VPCs) has no L2 for them.
    ``options`` are validated here too (``HpcValidationError``), so the link can be used alone.
    """

    @check_prop_types
    def __init__(
        self, scope: Construct, id: str, *, vpc: ec2.IVpc, options: DirectConnectOptions
    ) -> None:
        plan = _plan(f"{scope.node.path}/{id}" if scope.node.path else id, options)
        super().__init__(scope, id)
        self.options = options
        #: The resolved, validated settings.
        self.plan = plan
        subnets, attachment_subnets = self._subnets(
            vpc,
            subnet_selection(self, "direct_connect.vpc_subnets", options.vpc_subnets),
            plan.transit,
        )
        route_table_ids = sorted(
            {s.route_table.route_table_id for s in subnets}, key=lambda r: str(r)
        )
        #: The new Direct Connect gateway (None when an existing id was given).
        self.direct_connect_gateway: directconnect.CfnDirectConnectGateway | None = None
        #: The Direct Connect gateway id in use.
        self.direct_connect_gateway_id: str = self._gateway(plan)
        #: Resolved Amazon-side ASN of the VGW / TGW.
        self.gateway_asn = plan.gateway_asn
        self.vpn_gateway: ec2.CfnVPNGateway | None = None
        self.transit_gateway: ec2.CfnTransitGateway | None = None
        self.transit_gateway_attachment: ec2.CfnTransitGatewayAttachment | None = None
        allowed = list(plan.allowed_prefixes)
        if plan.transit:
            associated = self._attach_transit_gateway(vpc, attachment_subnets, route_table_ids)
            allowed = allowed or [vpc.vpc_cidr_block]
        else:
            associated = self._attach_vpn_gateway(vpc, route_table_ids)
        self.association = directconnect.CfnDirectConnectGatewayAssociation(
            self,
            "Association",
            direct_connect_gateway_id=self.direct_connect_gateway_id,
            associated_gateway_id=associated,
            allowed_prefixes_to_direct_connect_gateway=allowed or None,
        )
        if self.vpn_gateway is not None:
            # The VGW must be attached to a VPC before it can be associated.
            self.association.add_resource_dependency(self.vpc_gateway_attachment)
        self.virtual_interface: (
            directconnect.CfnPrivateVirtualInterface
            | directconnect.CfnTransitVirtualInterface
            | None
        ) = self._virtual_interface(plan)

    @staticmethod
    def _subnets(
        vpc: ec2.IVpc, given: ec2.SubnetSelection | None, transit: bool
    ) -> tuple[list[ec2.ISubnet], list[ec2.ISubnet]]:
        """Subnets whose route tables learn on-premises routes, and the attachment's subnets."""
        selection = given or ec2.SubnetSelection(subnet_type=private_subnet_type(vpc))

        def select(one_per_az: bool | None) -> list[ec2.ISubnet]:
            return vpc.select_subnets(
                subnet_type=selection.subnet_type,
                subnet_group_name=selection.subnet_group_name,
                subnets=selection.subnets,
                availability_zones=selection.availability_zones,
                one_per_az=one_per_az,
            ).subnets

        subnets = select(selection.one_per_az)
        # Every selected subnet's route table learns the on-premises routes; the transit gateway
        # attachment itself takes at most one subnet per AZ (EC2 API).
        return subnets, (select(True) if transit else subnets)

    def _gateway(self, plan: DirectConnectPlan) -> str:
        if plan.direct_connect_gateway_id is not None:
            return plan.direct_connect_gateway_id
        self.direct_connect_gateway = directconnect.CfnDirectConnectGateway(
            self,
            "Gateway",
            direct_connect_gateway_name=cdk.Names.unique_id(self)[-100:],
            amazon_side_asn=cdk.Tokenization.stringify_number(plan.direct_connect_gateway_asn),
        )
        return self.direct_connect_gateway.attr_direct_connect_gateway_id

    def _attach_transit_gateway(
        self, vpc: ec2.IVpc, subnets: list[ec2.ISubnet], route_table_ids: list[str]
    ) -> str:
        self.transit_gateway = ec2.CfnTransitGateway(
            self,
            "TransitGateway",
            amazon_side_asn=self.plan.gateway_asn,
            description="hpc-constructs DataIngest Direct Connect hub",
            auto_accept_shared_attachments="disable",
            default_route_table_association="enable",
            default_route_table_propagation="enable",
            dns_support="enable",
        )
        self.transit_gateway_attachment = ec2.CfnTransitGatewayAttachment(
            self,
            "VpcAttachment",
            transit_gateway_id=self.transit_gateway.ref,
            vpc_id=vpc.vpc_id,
            subnet_ids=[s.subnet_id for s in subnets],
        )
        for i, route_table_id in enumerate(route_table_ids):
            for j, cidr in enumerate(self.plan.on_premises_cidrs):
                route = ec2.CfnRoute(
                    self,
                    f"OnPremRoute{i}x{j}",
                    route_table_id=route_table_id,
                    destination_cidr_block=cidr,
                    transit_gateway_id=self.transit_gateway.ref,
                )
                route.add_resource_dependency(self.transit_gateway_attachment)
        return self.transit_gateway.ref

    def _attach_vpn_gateway(self, vpc: ec2.IVpc, route_table_ids: list[str]) -> str:
        self.vpn_gateway = ec2.CfnVPNGateway(
            self, "VpnGateway", type="ipsec.1", amazon_side_asn=self.plan.gateway_asn
        )
        attachment = ec2.CfnVPCGatewayAttachment(
            self, "VpcAttachment", vpc_id=vpc.vpc_id, vpn_gateway_id=self.vpn_gateway.ref
        )
        propagation = ec2.CfnVPNGatewayRoutePropagation(
            self,
            "RoutePropagation",
            route_table_ids=route_table_ids,
            vpn_gateway_id=self.vpn_gateway.ref,
        )
        # The VGW must be attached to the VPC before it can propagate into its route tables.
        propagation.add_resource_dependency(attachment)
        self.vpc_gateway_attachment = attachment
        return self.vpn_gateway.ref

    def _virtual_interface(
        self, plan: DirectConnectPlan
    ) -> directconnect.CfnPrivateVirtualInterface | directconnect.CfnTransitVirtualInterface | None:
        vif = plan.virtual_interface
        if vif is None:
            return None
        peer: dict[str, Any] = {
            "address_family": "ipv4",
            "asn": cdk.Tokenization.stringify_number(vif.customer_asn),
        }
        options = self.options.virtual_interface
        auth_key = options.auth_key if options is not None else None
        if auth_key is not None:
            # A {{resolve:secretsmanager:...}} dynamic reference: CloudFormation reads the
            # key at deploy time, the template only names the secret.
            peer["auth_key"] = auth_key.secret_value.unsafe_unwrap()
        if vif.amazon_address is not None:
            peer["amazon_address"] = vif.amazon_address
            peer["customer_address"] = vif.customer_address
        common: dict[str, Any] = {
            "connection_id": vif.connection_id,
            "direct_connect_gateway_id": self.direct_connect_gateway_id,
            "vlan": vif.vlan,
            "virtual_interface_name": vif.name or cdk.Names.unique_id(self)[-100:],
            "mtu": vif.mtu,
        }
        if plan.transit:
            return directconnect.CfnTransitVirtualInterface(
                self,
                "VirtualInterface",
                bgp_peers=[directconnect.CfnTransitVirtualInterface.BgpPeerProperty(**peer)],
                **common,
            )
        return directconnect.CfnPrivateVirtualInterface(
            self,
            "VirtualInterface",
            bgp_peers=[directconnect.CfnPrivateVirtualInterface.BgpPeerProperty(**peer)],
            **common,
        )
