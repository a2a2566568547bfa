"""The ``NetworkFabric`` construct: renders a :class:`~hpc_constructs.network.plan.NewVpcPlan`
into ``ec2.Vpc`` plus a compute ``ec2.Subnet`` (or adopts a brought VPC), endpoints and flow logs.

One large compute subnet in a single Availability Zone (EFA traffic cannot leave it), service
subnets across AZs for NAT and VPC endpoints, an S3 gateway endpoint, and encrypted flow logs.
"""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Sequence
from typing import Any, ClassVar, TypeVar

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from hpc_constructs.errors import TOKEN_SHOWN, Validator, check_prop_types, is_token, warn
from hpc_constructs.network.plan import NewVpcPlan, azs_known, plan_new_vpc


class FabricEndpoint(enum.Enum):
    """AWS services the fabric can reach through interface VPC endpoints.

    ``endpoint.aws_service`` is the matching ``ec2.InterfaceVpcEndpointAwsService``.
    """

    SSM = "ssm"
    SSM_MESSAGES = "ssmmessages"
    EC2_MESSAGES = "ec2messages"
    EC2 = "ec2"
    ECR_API = "ecr.api"
    ECR_DOCKER = "ecr.dkr"
    CLOUDWATCH_LOGS = "logs"
    CLOUDWATCH_MONITORING = "monitoring"
    STS = "sts"
    KMS = "kms"
    SECRETS_MANAGER = "secretsmanager"
    BATCH = "batch"
    ECS = "ecs"
    ECS_AGENT = "ecs-agent"
    ECS_TELEMETRY = "ecs-telemetry"
    DATASYNC = "datasync"
    FSX = "fsx"
    ELASTIC_FILESYSTEM = "elasticfilesystem"
    CLOUDFORMATION = "cloudformation"
    AUTOSCALING = "autoscaling"

    @property
    def aws_service(self) -> ec2.InterfaceVpcEndpointAwsService:
        service: ec2.InterfaceVpcEndpointAwsService = getattr(
            ec2.InterfaceVpcEndpointAwsService, _AWS_SERVICE_NAMES[self]
        )
        return service

    @property
    def construct_id(self) -> str:
        """PascalCase id of the endpoint construct: ``SsmMessagesEndpoint``."""
        return "".join(part.title() for part in self.name.split("_")) + "Endpoint"


# Names of the aws-cdk-lib constants, looked up lazily so importing this module stays cheap.
_AWS_SERVICE_NAMES: dict[FabricEndpoint, str] = {
    FabricEndpoint.SSM: "SSM",
    FabricEndpoint.SSM_MESSAGES: "SSM_MESSAGES",
    FabricEndpoint.EC2_MESSAGES: "EC2_MESSAGES",
    FabricEndpoint.EC2: "EC2",
    FabricEndpoint.ECR_API: "ECR",
    FabricEndpoint.ECR_DOCKER: "ECR_DOCKER",
    FabricEndpoint.CLOUDWATCH_LOGS: "CLOUDWATCH_LOGS",
    FabricEndpoint.CLOUDWATCH_MONITORING: "CLOUDWATCH_MONITORING",
    FabricEndpoint.STS: "STS",
    FabricEndpoint.KMS: "KMS",
    FabricEndpoint.SECRETS_MANAGER: "SECRETS_MANAGER",
    FabricEndpoint.BATCH: "BATCH",
    FabricEndpoint.ECS: "ECS",
    FabricEndpoint.ECS_AGENT: "ECS_AGENT",
    FabricEndpoint.ECS_TELEMETRY: "ECS_TELEMETRY",
    FabricEndpoint.DATASYNC: "DATASYNC",
    FabricEndpoint.FSX: "FSX",
    FabricEndpoint.ELASTIC_FILESYSTEM: "ELASTIC_FILESYSTEM",
    FabricEndpoint.CLOUDFORMATION: "CLOUDFORMATION",
    FabricEndpoint.AUTOSCALING: "AUTOSCALING",
}


class NetworkFabric(Construct):
    """A VPC for HPC: one large compute subnet in one AZ, service subnets, endpoints, flow logs.

    The fabric creates a VPC from ``cidr`` (or adopts ``vpc``). Tightly coupled compute and
    FSx for Lustre go in ``compute_subnet``, a single subnet in ``compute_availability_zone``
    (EFA traffic cannot cross subnets or AZs). ``service_subnets`` (one per AZ) hold the
    interface endpoints; with internet access, public subnets hold the NAT gateways.

    Subnet layout of a created VPC: the service (and public) subnets are allocated by
    ``ec2.Vpc`` from the start of ``cidr``, largest first so they pack without gaps; the compute
    subnet is the last aligned block of its size at the end of ``cidr``. The two regions cannot
    overlap because validation requires their total size to fit in ``cidr``.

    :param vpc: bring your own VPC. Nothing is created but the compute subnet selection, the
        endpoints and flow logs you ask for. Do not combine with ``cidr``, ``max_azs``,
        ``availability_zones``, ``nat_gateways``, ``internet_access``,
        ``max_compute_interfaces`` or ``service_subnet_cidr_mask``.
        Default: - a new VPC
    :param cidr: IPv4 CIDR of the new VPC, /16 to /28, concrete (not a token): the fabric carves
        its subnets from it at synth time. For IPAM-allocated ranges bring your own ``vpc``.
        Default: - ``10.0.0.0/16``
    :param max_azs: number of the stack's AZs to use. Default: - 3 (fewer if the region has fewer)
    :param availability_zones: exact AZs to use, instead of ``max_azs``.
        Default: - the first ``max_azs`` AZs of the stack
    :param compute_availability_zone: AZ of the compute subnet (and so of every cluster
        placement group and Lustre file system). Default: - the first AZ of the fabric (with
        ``compute_subnet``: that subnet's AZ)
    :param compute_subnet: with ``vpc`` only: the subnet to use as the compute subnet.
        Default: - the VPC's private (else isolated) subnet in ``compute_availability_zone``
    :param service_subnets: with ``vpc`` only: where interface endpoints go.
        Default: - the VPC's private subnets, else its isolated subnets
    :param internet_access: ``False`` builds a fully private fabric: no internet gateway, no
        NAT, isolated subnets; nodes reach AWS only through VPC endpoints. Default: - ``True``
    :param nat_gateways: NAT gateways (with internet access), placed in the compute AZ first.
        One gateway is cheapest but an AZ outage cuts egress for the other AZs; the compute
        subnet only loses egress when its own AZ fails, and then its nodes are gone anyway.
        Default: - 1 with internet access, 0 without
    :param max_compute_interfaces: IP addresses the compute subnet must hold: one per node
        (primary interface), one per EFA-with-ENA (``efa``) interface, none per ``efa-only``
        interface, plus FSx for Lustre and other interfaces placed there. The subnet gets the
        smallest prefix that fits (plus the 5 addresses AWS reserves).
        Default: - a /18 (16,379 addresses)
    :param service_subnet_cidr_mask: prefix length of each service subnet.
        Default: - 22 (1,019 addresses per AZ)
    :param endpoints: interface endpoints to create in the service subnets, behind one security
        group that allows HTTPS from the VPC CIDR only. Each costs per AZ-hour.
        Default: - none with internet access (NAT reaches the services); ``ISOLATED_ENDPOINTS``
        without; none for a brought VPC
    :param s3_gateway_endpoint: add an S3 gateway endpoint (free, keeps S3 traffic off NAT) to
        every route table of the fabric. Default: - ``True`` for a new VPC, ``False`` for a
        brought VPC (it may have one already; a second one fails to deploy)
    :param flow_logs: log all VPC traffic to an encrypted CloudWatch Logs group.
        Default: - ``True`` for a new VPC, ``False`` for a brought VPC
    :param flow_log_retention: retention of the flow-log group. Default: - one year
    :param flow_log_encryption_key: KMS key of the flow-log group; the fabric adds a key-policy
        statement for CloudWatch Logs to keys it can modify. Default: - a new key with rotation
    """

    s3_endpoint: ec2.GatewayVpcEndpoint | None
    """The S3 gateway endpoint (``None`` when not created)."""

    #: Endpoints a fabric without internet needs for SSM Session Manager, container images from
    #: ECR, CloudWatch logs and metrics, and role credentials (STS) and EC2 API calls.
    ISOLATED_ENDPOINTS: ClassVar[tuple[FabricEndpoint, ...]] = (
        FabricEndpoint.SSM,
        FabricEndpoint.SSM_MESSAGES,
        FabricEndpoint.EC2_MESSAGES,
        FabricEndpoint.EC2,
        FabricEndpoint.ECR_API,
        FabricEndpoint.ECR_DOCKER,
        FabricEndpoint.CLOUDWATCH_LOGS,
        FabricEndpoint.CLOUDWATCH_MONITORING,
        FabricEndpoint.STS,
    )
    #: Extra endpoints AWS Batch (ECS container instances) needs without internet access.
    BATCH_ENDPOINTS: ClassVar[tuple[FabricEndpoint, ...]] = (
        FabricEndpoint.BATCH,
        FabricEndpoint.ECS,
        FabricEndpoint.ECS_AGENT,
        FabricEndpoint.ECS_TELEMETRY,
    )
    #: Without these (and the S3 gateway endpoint) an isolated fabric's nodes cannot be managed,
    #: pull images or ship logs; missing ones raise ``hpc-constructs:isolatedWithoutEndpoints``.
    ISOLATED_REQUIRED_ENDPOINTS: ClassVar[tuple[FabricEndpoint, ...]] = (
        FabricEndpoint.SSM,
        FabricEndpoint.SSM_MESSAGES,
        FabricEndpoint.EC2_MESSAGES,
        FabricEndpoint.ECR_API,
        FabricEndpoint.ECR_DOCKER,
        FabricEndpoint.CLOUDWATCH_LOGS,
    )

    @check_prop_types
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc | None = None,
        cidr: str | None = None,
        max_azs: int | None = None,
        availability_zones: Sequence[str] | None = None,
        compute_availability_zone: str | None = None,
        compute_subnet: ec2.ISubnet | None = None,
        service_subnets: ec2.SubnetSelection | None = None,
        internet_access: bool | None = None,
        nat_gateways: int | None = None,
        max_compute_interfaces: int | None = None,
        service_subnet_cidr_mask: int | None = None,
        endpoints: Sequence[FabricEndpoint] | None = None,
        s3_gateway_endpoint: bool | None = None,
        flow_logs: bool | None = None,
        flow_log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        flow_log_encryption_key: kms.IKey | None = None,
    ) -> None:
        super().__init__(scope, id)
        props = {k: v for k, v in locals().items() if k not in ("self", "scope", "id", "__class__")}
        self._init_attributes()
        v = Validator(self)
        plan: NewVpcPlan | None = None
        if vpc is None:
            plan = self._plan_new_vpc(v, props)
        else:
            self._check_brought_vpc_props(v, props)
            self._resolve_brought_vpc(v, vpc, compute_availability_zone, compute_subnet)
        self.endpoints: tuple[FabricEndpoint, ...] = self._plan_endpoints(v, vpc, endpoints)
        """The interface endpoints created (resolved default)."""
        v.raise_if_any()
        self.plan: NewVpcPlan | None = plan
        """Layout of a created VPC (plain values); ``None`` for a brought VPC."""
        if plan is not None:
            new_vpc, new_subnet = self._create_vpc(plan)
            self.vpc: ec2.IVpc = new_vpc
            self.compute_subnet: ec2.ISubnet = new_subnet
            """The single compute subnet in ``compute_availability_zone``."""
        else:
            assert vpc is not None
            assert self._brought_compute_subnet is not None
            self.vpc = vpc
            self.compute_subnet = self._brought_compute_subnet
        self.compute_subnets = ec2.SubnetSelection(subnets=[self.compute_subnet])
        """Selects exactly ``compute_subnet``; pass it to fleets, Batch and Lustre."""
        self.service_subnets = self._service_subnets(plan is not None, service_subnets)
        created = plan is not None
        if s3_gateway_endpoint if s3_gateway_endpoint is not None else created:
            self.s3_endpoint = self._add_s3_gateway_endpoint()
        for endpoint in self.endpoints:
            self.add_interface_endpoint(endpoint)
        if flow_logs if flow_logs is not None else created:
            self._add_flow_logs(flow_log_retention, flow_log_encryption_key)
        self._warn_isolated_without_endpoints()

    def _init_attributes(self) -> None:
        self.cidr: str | None = None
        """CIDR of a created VPC (``None`` for a brought VPC)."""
        self.compute_subnet_cidr_mask: int | None = None
        """Prefix length of a created compute subnet (``None`` for a brought VPC)."""
        self.nat_gateways: int | None = None
        """NAT gateways created (``None`` for a brought VPC)."""
        self.service_subnet_cidr_mask: int | None = None
        self.availability_zones: list[str] = []
        self.compute_availability_zone: str = ""
        self.internet_access: bool = True
        self._brought_compute_subnet: ec2.ISubnet | None = None
        self.interface_endpoints: dict[FabricEndpoint, ec2.InterfaceVpcEndpoint] = {}
        self.endpoint_security_group: ec2.SecurityGroup | None = None
        """Shared security group of the interface endpoints (``None`` while there are none)."""
        self.s3_endpoint = None
        self.flow_log: ec2.FlowLog | None = None
        self.log_group: logs.LogGroup | None = None
        """The flow-log group (``None`` when flow logs are off)."""
        self.flow_log_key: kms.IKey | None = None

    # --- L1 escape hatches ------------------------------------------------------------------

    @property
    def cfn_vpc(self) -> ec2.CfnVPC | None:
        """The ``AWS::EC2::VPC`` of a created VPC (``None`` for a brought VPC)."""
        child = self.vpc.node.default_child if self.plan is not None else None
        return child if isinstance(child, ec2.CfnVPC) else None

    @property
    def cfn_compute_subnet(self) -> ec2.CfnSubnet | None:
        """The ``AWS::EC2::Subnet`` of a created compute subnet (``None`` for a brought VPC)."""
        child = self.compute_subnet.node.default_child if self.plan is not None else None
        return child if isinstance(child, ec2.CfnSubnet) else None

    @property
    def cfn_s3_endpoint(self) -> ec2.CfnVPCEndpoint | None:
        """The S3 gateway endpoint's ``AWS::EC2::VPCEndpoint`` (``None`` when not created)."""
        return _l1(self.s3_endpoint, ec2.CfnVPCEndpoint)

    @property
    def cfn_endpoint_security_group(self) -> ec2.CfnSecurityGroup | None:
        """The interface endpoints' ``AWS::EC2::SecurityGroup`` (``None`` while there are none)."""
        return _l1(self.endpoint_security_group, ec2.CfnSecurityGroup)

    @property
    def cfn_flow_log(self) -> ec2.CfnFlowLog | None:
        """The ``AWS::EC2::FlowLog`` (``None`` when flow logs are off)."""
        return _l1(self.flow_log, ec2.CfnFlowLog)

    @property
    def cfn_log_group(self) -> logs.CfnLogGroup | None:
        """The flow-log ``AWS::Logs::LogGroup`` (``None`` when flow logs are off)."""
        return _l1(self.log_group, logs.CfnLogGroup)

    # --- planning ---------------------------------------------------------------------------

    def _plan_new_vpc(self, v: Validator, props: dict[str, Any]) -> NewVpcPlan | None:
        for prop in ("compute_subnet", "service_subnets"):
            if props[prop] is not None:
                v.add(
                    prop,
                    _describe(props[prop]),
                    "unset unless vpc is given",
                    "the fabric creates this subnet in its new VPC",
                )
        plan = plan_new_vpc(v, list(cdk.Stack.of(self).availability_zones), props)
        self.internet_access = props["internet_access"] is not False
        if plan is not None:
            self.cidr = plan.cidr
            self.availability_zones = list(plan.availability_zones)
            self.compute_availability_zone = plan.compute_availability_zone
            self.nat_gateways = plan.nat_gateways
            self.compute_subnet_cidr_mask = plan.compute_subnet_cidr_mask
            self.service_subnet_cidr_mask = plan.service_subnet_cidr_mask
        return plan

    def _check_brought_vpc_props(self, v: Validator, props: dict[str, Any]) -> None:
        for prop in (
            "cidr",
            "max_azs",
            "availability_zones",
            "nat_gateways",
            "internet_access",
            "max_compute_interfaces",
            "service_subnet_cidr_mask",
        ):
            if props[prop] is not None:
                v.add(
                    prop,
                    _shown(props[prop]),
                    "unset when vpc is given",
                    "it shapes a VPC the fabric would create; configure your own VPC instead",
                )

    def _plan_endpoints(
        self, v: Validator, vpc: ec2.IVpc | None, endpoints: Sequence[FabricEndpoint] | None
    ) -> tuple[FabricEndpoint, ...]:
        if vpc is not None and endpoints:
            try:
                vpc.vpc_cidr_block  # noqa: B018 - imported VPCs raise when it was not supplied
            except RuntimeError:
                v.add(
                    "vpc",
                    vpc.node.path,
                    "a VPC with a known CIDR (vpc_cidr_block in Vpc.from_vpc_attributes)",
                    "the endpoint security group allows HTTPS from the VPC CIDR",
                )
        if endpoints is None:
            isolated = vpc is None and not self.internet_access
            return self.ISOLATED_ENDPOINTS if isolated else ()
        # check_prop_types has made sure it is a list of FabricEndpoint members.
        return tuple(dict.fromkeys(endpoints))

    def _service_subnets(
        self, created: bool, given: ec2.SubnetSelection | None
    ) -> ec2.SubnetSelection:
        if created:
            return ec2.SubnetSelection(subnet_group_name="Services")
        if given is not None:
            return given
        return ec2.SubnetSelection(
            subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS
            if self.vpc.private_subnets
            else ec2.SubnetType.PRIVATE_ISOLATED
        )

    def _warn_isolated_without_endpoints(self) -> None:
        if self.internet_access:
            return
        missing = [e.name for e in self.ISOLATED_REQUIRED_ENDPOINTS if e not in self.endpoints]
        if self.s3_endpoint is None:
            missing.append("S3 gateway endpoint")
        if missing:
            warn(
                self,
                "isolatedWithoutEndpoints",
                "This fabric has no internet access and lacks endpoints its nodes need "
                f"(SSM, ECR, CloudWatch Logs, S3): missing {', '.join(missing)}. "
                "Add them (NetworkFabric.ISOLATED_ENDPOINTS) unless the VPC already has them.",
            )

    def _resolve_brought_vpc(
        self,
        v: Validator,
        vpc: ec2.IVpc,
        compute_availability_zone: str | None,
        compute_subnet: ec2.ISubnet | None,
    ) -> None:
        self.availability_zones = list(vpc.availability_zones)
        self.internet_access = bool(vpc.private_subnets)
        self._brought_compute_subnet = compute_subnet
        if compute_subnet is not None:
            subnet_az = compute_subnet.availability_zone
            if compute_availability_zone is not None:
                v.require(
                    is_token(subnet_az) or compute_availability_zone == subnet_az,
                    "compute_availability_zone",
                    compute_availability_zone,
                    f"{subnet_az!r}, the AZ of compute_subnet, or unset",
                )
            self.compute_availability_zone = subnet_az
            return
        compute_az = compute_availability_zone or (
            self.availability_zones[0] if self.availability_zones else ""
        )
        self.compute_availability_zone = compute_az
        if (
            compute_availability_zone is not None
            and azs_known(self.availability_zones)
            and not v.one_of(
                "compute_availability_zone",
                compute_availability_zone,
                self.availability_zones,
                "not an AZ of vpc",
            )
        ):
            return
        candidates = [
            s
            for s in [*vpc.private_subnets, *vpc.isolated_subnets]
            if s.availability_zone == compute_az
        ]
        if not candidates and not azs_known(self.availability_zones):
            # Placeholder VPC of a pending Vpc.from_lookup: any subnet will do until the rerun.
            candidates = [*vpc.private_subnets, *vpc.isolated_subnets]
        if candidates:
            self._brought_compute_subnet = candidates[0]
        else:
            v.add(
                "vpc",
                vpc.node.path,
                "a VPC with a private or isolated subnet in compute_availability_zone, "
                "or pass compute_subnet",
                f"no private or isolated subnet in {compute_az!r}",
            )

    # --- creation ---------------------------------------------------------------------------

    def _create_vpc(self, plan: NewVpcPlan) -> tuple[ec2.Vpc, ec2.Subnet]:
        internet = plan.internet_access
        nat_provider = ec2.NatProvider.gateway() if internet else None
        vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(plan.cidr),
            availability_zones=list(plan.availability_zones),
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name=group.name,
                    subnet_type=getattr(ec2.SubnetType, group.subnet_type),
                    cidr_mask=group.cidr_mask,
                    # No automatic public IPs, even in public subnets (only NAT lives there).
                    map_public_ip_on_launch=False if group.subnet_type == "PUBLIC" else None,
                )
                for group in plan.subnet_groups
            ],
            nat_gateways=plan.nat_gateways,
            nat_gateway_provider=nat_provider,
            nat_gateway_subnets=(
                ec2.SubnetSelection(
                    subnet_group_name="Public", availability_zones=list(plan.nat_gateway_azs)
                )
                if plan.nat_gateway_azs is not None
                else None
            ),
            create_internet_gateway=internet,
            enable_dns_hostnames=True,  # private DNS of interface endpoints needs both
            enable_dns_support=True,
            restrict_default_security_group=True,
        )
        # The compute subnet is not an ec2.Vpc subnet group: a group has one subnet per AZ, and
        # this one is a single large subnet at the end of the CIDR (see class docstring).
        block = ipaddress.IPv4Network(plan.compute_subnet_cidr)
        for other in [*vpc.public_subnets, *vpc.private_subnets, *vpc.isolated_subnets]:
            if block.overlaps(ipaddress.IPv4Network(other.ipv4_cidr_block)):
                raise AssertionError(  # pragma: no cover - validation sizes the CIDR first
                    f"compute subnet {block} overlaps {other.ipv4_cidr_block}"
                )
        subnet_props: dict[str, Any] = {
            "vpc_id": vpc.vpc_id,
            "availability_zone": plan.compute_availability_zone,
            "cidr_block": plan.compute_subnet_cidr,
            "map_public_ip_on_launch": False,
        }
        subnet: ec2.Subnet
        if internet and nat_provider is not None:
            subnet = ec2.PrivateSubnet(self, "ComputeSubnet", **subnet_props)
            gateways = nat_provider.configured_gateways
            gateway = next(
                (g for g in gateways if g.az == plan.compute_availability_zone), gateways[0]
            )
            subnet.add_default_nat_route(gateway.gateway_id)
        else:
            subnet = ec2.Subnet(self, "ComputeSubnet", **subnet_props)
        # Same tags ec2.Vpc puts on its subnets, so Vpc.from_lookup sees a "Compute" group.
        cdk.Tags.of(subnet).add("Name", f"{self.node.path}/ComputeSubnet")
        cdk.Tags.of(subnet).add("aws-cdk:subnet-name", "Compute")
        cdk.Tags.of(subnet).add("aws-cdk:subnet-type", "Private" if internet else "Isolated")
        _drop_redundant_depends_on(cdk.Stack.of(self))
        return vpc, subnet

    def _vpc_cidr_peer(self) -> ec2.IPeer:
        # A concrete CIDR keeps the rule readable and avoids cdk-nag's trouble with token peers.
        return ec2.Peer.ipv4(self.cidr if self.cidr is not None else self.vpc.vpc_cidr_block)

    def _add_s3_gateway_endpoint(self) -> ec2.GatewayVpcEndpoint:
        subnets: dict[str, ec2.ISubnet] = {}
        route_subnets = [*self.vpc.private_subnets, *self.vpc.isolated_subnets]
        if self.cidr is not None:  # brought VPCs: leave public route tables alone
            route_subnets = [*self.vpc.public_subnets, *route_subnets]
        for subnet in [*route_subnets, self.compute_subnet]:
            subnets.setdefault(subnet.subnet_id, subnet)
        return ec2.GatewayVpcEndpoint(
            self,
            "S3Endpoint",
            vpc=self.vpc,
            service=ec2.GatewayVpcEndpointAwsService.S3,
            subnets=[ec2.SubnetSelection(subnets=list(subnets.values()))],
        )

    def add_interface_endpoint(self, endpoint: FabricEndpoint) -> ec2.InterfaceVpcEndpoint:
        """Add (or return the existing) interface endpoint for ``endpoint`` in the service
        subnets, behind the shared endpoint security group."""
        existing = self.interface_endpoints.get(endpoint)
        if existing is not None:
            return existing
        if self.endpoint_security_group is None:
            group = ec2.SecurityGroup(
                self,
                "EndpointSecurityGroup",
                vpc=self.vpc,
                description="Interface VPC endpoints: HTTPS from the VPC only",
                allow_all_outbound=False,
            )
            peer = self._vpc_cidr_peer()
            group.add_ingress_rule(peer, ec2.Port.tcp(443), "HTTPS from the VPC CIDR")
            if is_token(peer.unique_id):
                # A brought VPC whose CIDR is only known at deploy time (e.g. an import): cdk-nag
                # cannot evaluate the token and reports an error for EC23 (open ingress).
                cdk.Validations.of(group).acknowledge(
                    cdk.Acknowledgment(
                        id="AwsSolutions-EC23",
                        reason="The only ingress rule is TCP 443 from the VPC's own CIDR block, "
                        "resolved at deploy time; it is never 0.0.0.0/0 or ::/0.",
                    )
                )
            self.endpoint_security_group = group
        created = ec2.InterfaceVpcEndpoint(
            self,
            endpoint.construct_id,
            vpc=self.vpc,
            service=endpoint.aws_service,
            subnets=self.service_subnets,
            security_groups=[self.endpoint_security_group],
            private_dns_enabled=True,
            open=False,  # the shared group already allows 443 from the VPC CIDR
        )
        self.interface_endpoints[endpoint] = created
        if endpoint not in self.endpoints:
            self.endpoints = (*self.endpoints, endpoint)
        return created

    def _add_flow_logs(self, retention: logs.RetentionDays, key: kms.IKey | None) -> None:
        stack = cdk.Stack.of(self)
        if key is None:
            key = kms.Key(
                self,
                "FlowLogKey",
                description=f"Encrypts the VPC flow logs of {self.node.path}",
                enable_key_rotation=True,
                removal_policy=cdk.RemovalPolicy.RETAIN,
            )
        # CloudWatch Logs encrypts with the key on the log group's behalf (CloudWatch Logs
        # User Guide, "Encrypt log data using AWS KMS"); scoped to this account's log groups.
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                actions=[
                    "kms:Encrypt*",
                    "kms:Decrypt*",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:Describe*",
                ],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                            service="logs",
                            resource="log-group",
                            resource_name="*",
                            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                        )
                    }
                },
            )
        )
        self.flow_log_key = key
        self.log_group = logs.LogGroup(
            self,
            "FlowLogGroup",
            retention=retention,
            encryption_key=key,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.flow_log = ec2.FlowLog(
            self,
            "FlowLog",
            resource_type=ec2.FlowLogResourceType.from_vpc(self.vpc),
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(self.log_group),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )


#: Stack-level singleton behind ``restrict_default_security_group`` (aws-cdk-lib 2.x).
_RESTRICT_SG_PROVIDER = "Custom::VpcRestrictDefaultSGCustomResourceProvider"


def _drop_redundant_depends_on(stack: cdk.Stack) -> None:
    """Remove the provider Lambda's ``DependsOn`` on its role.

    aws-cdk-lib renders both ``Role: !GetAtt Role.Arn`` and ``DependsOn: Role`` for the Lambda
    that restricts the default security group; cfn-lint flags the duplicate (W3005). The
    ``GetAtt`` alone orders the two resources, so deployment behaviour does not change.
    """
    provider = stack.node.try_find_child(_RESTRICT_SG_PROVIDER)
    if provider is None:
        return
    handler = provider.node.try_find_child("Handler")
    role = provider.node.try_find_child("Role")
    if isinstance(handler, cdk.CfnResource) and isinstance(role, cdk.CfnResource):
        handler.remove_resource_dependency(role)


def _shown(value: Any) -> Any:
    """Tokens are reported as such (Validator skips token values, but here they are errors)."""
    return TOKEN_SHOWN if is_token(value) else value


def _describe(value: Any) -> str:
    if isinstance(value, ec2.SubnetSelection):
        return "SubnetSelection(...)"
    subnet_id = getattr(value, "subnet_id", None)
    return str(subnet_id) if subnet_id is not None else type(value).__name__


_L1 = TypeVar("_L1", bound=cdk.CfnResource)


def _l1(construct: Construct | None, kind: type[_L1]) -> _L1 | None:
    """The default child of ``construct`` when it is a ``kind`` L1 (else ``None``)."""
    child = construct.node.default_child if construct is not None else None
    return child if isinstance(child, kind) else None
