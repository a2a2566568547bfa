"""NetworkFabric: the VPC every other hpc-constructs construct plugs into.

One large compute subnet in a single Availability Zone (EFA traffic cannot leave it), service
subnets across AZs for NAT and VPC endpoints, an S3 gateway endpoint, and encrypted flow logs.
"""

from __future__ import annotations

import enum
import ipaddress
import math
from collections.abc import Sequence
from typing import Any, ClassVar

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from hpc_constructs.errors import Validator, is_token, warn

#: AWS reserves the first four and the last address of every subnet (VPC User Guide,
#: "Subnet CIDR blocks").
AWS_RESERVED_ADDRESSES_PER_SUBNET = 5
#: Allowed IPv4 prefix lengths of a VPC and of a subnet (VPC User Guide, "VPC CIDR blocks").
VPC_PREFIX_RANGE = (16, 28)
SUBNET_PREFIX_RANGE = (16, 28)

DEFAULT_CIDR = "10.0.0.0/16"
DEFAULT_MAX_AZS = 3
DEFAULT_NAT_GATEWAYS = 1
#: /18 = 16,379 usable addresses: about 500 p5.48xlarge nodes with 32 EFA-with-ENA interfaces
#: each, or thousands of single-interface CPU nodes.
DEFAULT_COMPUTE_SUBNET_CIDR_MASK = 18
DEFAULT_SERVICE_SUBNET_CIDR_MASK = 22
#: Public subnets only hold NAT gateways (and perhaps a bastion or load balancer).
PUBLIC_SUBNET_CIDR_MASK = 24

_TOKEN = "<unresolved token>"
#: What ``Stack.availability_zones`` returns before the CDK CLI has looked the AZs up; the CLI
#: then runs the app again with real values. aws-cdk-lib's Vpc ignores these too.
_LOOKUP_PLACEHOLDER_AZS = frozenset({"dummy1a", "dummy1b", "dummy1c"})


def _azs_known(azs: Sequence[str]) -> bool:
    """True when ``azs`` are real AZ names (not tokens, not lookup placeholders)."""
    return not is_token(list(azs)) and not any(az in _LOOKUP_PLACEHOLDER_AZS for az in azs)


def compute_subnet_cidr_mask(max_compute_interfaces: int) -> int:
    """The longest prefix whose subnet holds ``max_compute_interfaces`` IP addresses.

    AWS keeps five addresses of every subnet, so a /24 holds 251, not 256.
    """
    low, high = SUBNET_PREFIX_RANGE
    for mask in range(high, low - 1, -1):
        if 2 ** (32 - mask) - AWS_RESERVED_ADDRESSES_PER_SUBNET >= max_compute_interfaces:
            return mask
    raise ValueError(
        f"max_compute_interfaces={max_compute_interfaces} does not fit in a /{low} subnet"
    )


def _usable(mask: int) -> int:
    return int(2 ** (32 - mask)) - AWS_RESERVED_ADDRESSES_PER_SUBNET


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
        v = Validator(self)
        created = vpc is None

        self.cidr: str | None = None
        """CIDR of a created VPC (``None`` for a brought VPC)."""
        self.compute_subnet_cidr_mask: int | None = None
        """Prefix length of a created compute subnet (``None`` for a brought VPC)."""
        self.nat_gateways: int | None = None
        """NAT gateways created (``None`` for a brought VPC)."""
        self.service_subnet_cidr_mask: int | None = None
        self.availability_zones: list[str]
        self.compute_availability_zone: str
        self.internet_access: bool
        self._brought_compute_subnet: ec2.ISubnet | None = None

        if vpc is None:
            self._validate_new_vpc(
                v,
                cidr=cidr,
                max_azs=max_azs,
                availability_zones=availability_zones,
                compute_availability_zone=compute_availability_zone,
                compute_subnet=compute_subnet,
                service_subnets=service_subnets,
                internet_access=internet_access,
                nat_gateways=nat_gateways,
                max_compute_interfaces=max_compute_interfaces,
                service_subnet_cidr_mask=service_subnet_cidr_mask,
            )
        else:
            for prop, value in (
                ("cidr", cidr),
                ("max_azs", max_azs),
                ("availability_zones", availability_zones),
                ("nat_gateways", nat_gateways),
                ("internet_access", internet_access),
                ("max_compute_interfaces", max_compute_interfaces),
                ("service_subnet_cidr_mask", service_subnet_cidr_mask),
            ):
                if value is not None:
                    v.add(
                        prop,
                        _shown(value),
                        "unset when vpc is given",
                        "it shapes a VPC the fabric would create; configure your own VPC instead",
                    )
            self._resolve_brought_vpc(v, vpc, compute_availability_zone, compute_subnet)

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
            resolved_endpoints: tuple[FabricEndpoint, ...] = (
                self.ISOLATED_ENDPOINTS if created and not self.internet_access else ()
            )
        else:
            for endpoint in endpoints:
                v.require(
                    isinstance(endpoint, FabricEndpoint),
                    "endpoints",
                    endpoint,
                    "FabricEndpoint members, e.g. FabricEndpoint.SSM",
                )
            resolved_endpoints = tuple(
                dict.fromkeys(e for e in endpoints if isinstance(e, FabricEndpoint))
            )
        v.raise_if_any()

        self.endpoints: tuple[FabricEndpoint, ...] = resolved_endpoints
        """The interface endpoints created (resolved default)."""
        self.interface_endpoints: dict[FabricEndpoint, ec2.InterfaceVpcEndpoint] = {}
        self.endpoint_security_group: ec2.SecurityGroup | None = None
        """Shared security group of the interface endpoints (``None`` while there are none)."""
        self.s3_endpoint: ec2.GatewayVpcEndpoint | None = None
        self.flow_log: ec2.FlowLog | None = None
        self.log_group: logs.LogGroup | None = None
        """The flow-log group (``None`` when flow logs are off)."""
        self.flow_log_key: kms.IKey | None = None

        if vpc is None:
            new_vpc, new_subnet = self._create_vpc()
            self.vpc: ec2.IVpc = new_vpc
            self.compute_subnet: ec2.ISubnet = new_subnet
            """The single compute subnet in ``compute_availability_zone``."""
        else:
            self.vpc = vpc
            if self._brought_compute_subnet is None:  # pragma: no cover - validated above
                raise AssertionError("compute subnet not resolved")
            self.compute_subnet = self._brought_compute_subnet

        self.compute_subnets = ec2.SubnetSelection(subnets=[self.compute_subnet])
        """Selects exactly ``compute_subnet``; pass it to fleets, Batch and Lustre."""
        if created:
            self.service_subnets = ec2.SubnetSelection(subnet_group_name="Services")
        elif service_subnets is not None:
            self.service_subnets = service_subnets
        else:
            self.service_subnets = ec2.SubnetSelection(
                subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS
                if self.vpc.private_subnets
                else ec2.SubnetType.PRIVATE_ISOLATED
            )

        if s3_gateway_endpoint if s3_gateway_endpoint is not None else created:
            self.s3_endpoint = self._add_s3_gateway_endpoint()
        for endpoint in self.endpoints:
            self.add_interface_endpoint(endpoint)
        if flow_logs if flow_logs is not None else created:
            self._add_flow_logs(flow_log_retention, flow_log_encryption_key)

        if not self.internet_access:
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

    # --- validation -------------------------------------------------------------------------

    def _validate_new_vpc(
        self,
        v: Validator,
        *,
        cidr: str | None,
        max_azs: int | None,
        availability_zones: Sequence[str] | None,
        compute_availability_zone: str | None,
        compute_subnet: ec2.ISubnet | None,
        service_subnets: ec2.SubnetSelection | None,
        internet_access: bool | None,
        nat_gateways: int | None,
        max_compute_interfaces: int | None,
        service_subnet_cidr_mask: int | None,
    ) -> None:
        for prop, value in (
            ("compute_subnet", compute_subnet),
            ("service_subnets", service_subnets),
        ):
            if value is not None:
                v.add(
                    prop,
                    _describe(value),
                    "unset unless vpc is given",
                    "the fabric creates this subnet in its new VPC",
                )

        self.internet_access = True if internet_access is None else internet_access

        # Availability Zones: the stack's (pinned in cdk.json for environment-specific stacks).
        stack_azs = list(cdk.Stack.of(self).availability_zones)
        if availability_zones is not None:
            azs = list(availability_zones)
            if max_azs is not None:
                v.add("max_azs", max_azs, "unset when availability_zones is given")
            v.require(len(azs) > 0, "availability_zones", azs, "one or more AZs of the stack")
            v.require(len(set(azs)) == len(azs), "availability_zones", azs, "AZs without repeats")
            if _azs_known(stack_azs):
                for az in azs:
                    v.one_of("availability_zones", az, stack_azs, "not an AZ of the stack's region")
        else:
            count = DEFAULT_MAX_AZS if max_azs is None else max_azs
            v.require(is_token(count) or count >= 1, "max_azs", count, "an integer of 1 or more")
            azs = stack_azs[: max(count, 1)]
        self.availability_zones = azs

        compute_az = compute_availability_zone if compute_availability_zone is not None else ""
        if not compute_az and azs:
            compute_az = azs[0]
        if compute_availability_zone is not None and _azs_known(azs):
            v.one_of(
                "compute_availability_zone",
                compute_availability_zone,
                azs,
                "the compute subnet must be in one of the fabric's AZs",
            )
        self.compute_availability_zone = compute_az

        # NAT gateways follow internet access.
        nat = nat_gateways
        if nat is None:
            nat = DEFAULT_NAT_GATEWAYS if self.internet_access else 0
        elif self.internet_access:
            v.require(
                1 <= nat <= max(len(azs), 1),
                "nat_gateways",
                nat,
                f"1 to {len(azs)} (at most one per AZ); use internet_access=False for no NAT",
            )
        else:
            v.require(nat == 0, "nat_gateways", nat, "0 or unset when internet_access=False")
        self.nat_gateways = nat

        # Subnet sizes.
        if max_compute_interfaces is None:
            compute_mask = DEFAULT_COMPUTE_SUBNET_CIDR_MASK
        else:
            limit = _usable(SUBNET_PREFIX_RANGE[0])
            if v.in_range("max_compute_interfaces", max_compute_interfaces, 1, limit, "addresses"):
                compute_mask = compute_subnet_cidr_mask(max_compute_interfaces)
            else:
                compute_mask = DEFAULT_COMPUTE_SUBNET_CIDR_MASK
        self.compute_subnet_cidr_mask = compute_mask
        service_mask = (
            DEFAULT_SERVICE_SUBNET_CIDR_MASK
            if service_subnet_cidr_mask is None
            else service_subnet_cidr_mask
        )
        service_ok = v.in_range("service_subnet_cidr_mask", service_mask, *SUBNET_PREFIX_RANGE)
        self.service_subnet_cidr_mask = service_mask

        # The CIDR must be concrete, valid and large enough for every subnet.
        resolved_cidr = DEFAULT_CIDR if cidr is None else cidr
        if is_token(resolved_cidr):
            v.add(
                "cidr",
                _TOKEN,
                "a concrete IPv4 CIDR such as 10.0.0.0/16",
                "the fabric carves its subnets from it at synth time",
            )
            return
        self.cidr = resolved_cidr
        try:
            network = ipaddress.IPv4Network(resolved_cidr, strict=True)
        except ValueError as err:
            v.add("cidr", resolved_cidr, "an IPv4 network such as 10.0.0.0/16", str(err))
            return
        low, high = VPC_PREFIX_RANGE
        if not v.require(
            low <= network.prefixlen <= high,
            "cidr",
            resolved_cidr,
            f"a prefix length of /{low} to /{high}",
            "AWS VPC limit",
        ):
            return
        if not service_ok:
            return
        needed = 2 ** (32 - compute_mask) + len(azs) * (
            2 ** (32 - service_mask)
            + (2 ** (32 - PUBLIC_SUBNET_CIDR_MASK) if self.internet_access else 0)
        )
        if needed > network.num_addresses:
            prefix = 32 - math.ceil(math.log2(needed))
            v.add(
                "cidr",
                resolved_cidr,
                f"a /{prefix} or larger network, or a smaller compute subnet "
                "(max_compute_interfaces) or fewer AZs",
                f"the /{compute_mask} compute subnet and {len(azs)} AZs of service"
                f"{' and public' if self.internet_access else ''} subnets need {needed} "
                f"addresses, the CIDR has {network.num_addresses}",
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
            and _azs_known(self.availability_zones)
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
        if not candidates and not _azs_known(self.availability_zones):
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

    def _create_vpc(self) -> tuple[ec2.Vpc, ec2.Subnet]:
        # Validation resolved these for a new VPC; the asserts narrow the types.
        assert self.cidr is not None
        assert self.compute_subnet_cidr_mask is not None
        assert self.nat_gateways is not None
        assert self.service_subnet_cidr_mask is not None
        internet = self.internet_access
        groups: list[tuple[int, str, ec2.SubnetType]] = [
            (
                self.service_subnet_cidr_mask,
                "Services",
                ec2.SubnetType.PRIVATE_WITH_EGRESS if internet else ec2.SubnetType.PRIVATE_ISOLATED,
            )
        ]
        if internet:
            groups.append((PUBLIC_SUBNET_CIDR_MASK, "Public", ec2.SubnetType.PUBLIC))
        # ec2.Vpc allocates subnets one after the other from the start of the CIDR; largest
        # first, every block lands aligned and the groups pack without gaps.
        groups.sort(key=lambda group: group[0])

        nat_provider = ec2.NatProvider.gateway() if internet else None
        nat_placement: ec2.SubnetSelection | None = None
        if (
            internet
            and self.nat_gateways < len(self.availability_zones)
            and self.compute_availability_zone in self.availability_zones
        ):
            # Put the first NAT gateway in the compute AZ so compute egress stays in its AZ.
            others = [az for az in self.availability_zones if az != self.compute_availability_zone]
            nat_placement = ec2.SubnetSelection(
                subnet_group_name="Public",
                availability_zones=[
                    self.compute_availability_zone,
                    *others[: self.nat_gateways - 1],
                ],
            )
        vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(self.cidr),
            availability_zones=self.availability_zones,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name=name,
                    subnet_type=subnet_type,
                    cidr_mask=mask,
                    # No automatic public IPs, even in public subnets (only NAT lives there).
                    map_public_ip_on_launch=False if subnet_type == ec2.SubnetType.PUBLIC else None,
                )
                for mask, name, subnet_type in groups
            ],
            nat_gateways=self.nat_gateways,
            nat_gateway_provider=nat_provider,
            nat_gateway_subnets=nat_placement,
            create_internet_gateway=internet,
            enable_dns_hostnames=True,  # private DNS of interface endpoints needs both
            enable_dns_support=True,
            restrict_default_security_group=True,
        )

        # The compute subnet: the last block of its size in the VPC CIDR (see class docstring).
        network = ipaddress.IPv4Network(self.cidr)
        size = 2 ** (32 - self.compute_subnet_cidr_mask)
        block = ipaddress.IPv4Network(
            (int(network.broadcast_address) + 1 - size, self.compute_subnet_cidr_mask)
        )
        for other in [*vpc.public_subnets, *vpc.private_subnets, *vpc.isolated_subnets]:
            if block.overlaps(ipaddress.IPv4Network(other.ipv4_cidr_block)):
                raise AssertionError(  # pragma: no cover - validation sizes the CIDR first
                    f"compute subnet {block} overlaps {other.ipv4_cidr_block}"
                )
        subnet_props: dict[str, Any] = {
            "vpc_id": vpc.vpc_id,
            "availability_zone": self.compute_availability_zone,
            "cidr_block": str(block),
            "map_public_ip_on_launch": False,
        }
        subnet: ec2.Subnet
        if internet and nat_provider is not None:
            subnet = ec2.PrivateSubnet(self, "ComputeSubnet", **subnet_props)
            gateways = nat_provider.configured_gateways
            gateway = next(
                (g for g in gateways if g.az == self.compute_availability_zone), gateways[0]
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
    return _TOKEN if is_token(value) else value


def _describe(value: Any) -> str:
    if isinstance(value, ec2.SubnetSelection):
        return "SubnetSelection(...)"
    subnet_id = getattr(value, "subnet_id", None)
    return str(subnet_id) if subnet_id is not None else type(value).__name__
