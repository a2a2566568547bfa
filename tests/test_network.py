"""NetworkFabric: VPC layout, compute subnet sizing, endpoints, flow logs, validation."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk.assertions import Match, Template

from hpc_constructs import FabricEndpoint, HpcValidationError, NetworkFabric
from hpc_constructs.network import compute_subnet_cidr_mask
from tests.harness import (
    TEST_ENV,
    Synthesized,
    assert_cfn_lint_clean,
    assert_nag_clean,
    make_app,
    synthesize,
    warning_ids,
)

SCENARIOS = ("Default", "Isolated", "Custom", "Byo", "ByoTokenCidr")


@dataclass
class Fabrics:
    synth: Synthesized
    default: NetworkFabric
    isolated: NetworkFabric
    custom: NetworkFabric
    byo: NetworkFabric


def _imported_vpc(scope: cdk.Stack) -> ec2.IVpc:
    return ec2.Vpc.from_vpc_attributes(
        scope,
        "Imported",
        vpc_id="vpc-0123456789abcdef0",
        vpc_cidr_block="10.1.0.0/16",
        availability_zones=["us-east-2a", "us-east-2b"],
        private_subnet_ids=["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"],
        private_subnet_route_table_ids=["rtb-0aaaaaaaaaaaaaaa1", "rtb-0bbbbbbbbbbbbbbb2"],
    )


@pytest.fixture(scope="module")
def fabrics() -> Fabrics:
    """Every scenario as its own stack in one app, synthesized (and nag-checked) once."""
    app = make_app()
    default = NetworkFabric(cdk.Stack(app, "Default", env=TEST_ENV), "Fabric")
    isolated = NetworkFabric(
        cdk.Stack(app, "Isolated", env=TEST_ENV), "Fabric", internet_access=False
    )
    custom = NetworkFabric(
        cdk.Stack(app, "Custom", env=TEST_ENV),
        "Fabric",
        cidr="10.20.0.0/16",
        availability_zones=["us-east-2a", "us-east-2b", "us-east-2c"],
        compute_availability_zone="us-east-2b",
        max_compute_interfaces=1000,
        nat_gateways=2,
        service_subnet_cidr_mask=24,
        endpoints=[FabricEndpoint.SSM, FabricEndpoint.FSX, FabricEndpoint.SSM],
        flow_log_retention=cdk.aws_logs.RetentionDays.THREE_MONTHS,
    )
    byo_stack = cdk.Stack(app, "Byo", env=TEST_ENV)
    byo = NetworkFabric(
        byo_stack,
        "Fabric",
        vpc=_imported_vpc(byo_stack),
        compute_availability_zone="us-east-2b",
        endpoints=[FabricEndpoint.SSM],
        s3_gateway_endpoint=True,
        flow_logs=True,
    )
    # A brought VPC whose CIDR is a deploy-time token: cdk-nag cannot read the SG rule's peer.
    token_stack = cdk.Stack(app, "ByoTokenCidr", env=TEST_ENV)
    token_vpc = ec2.Vpc.from_vpc_attributes(
        token_stack,
        "Imported",
        vpc_id="vpc-0123456789abcdef0",
        vpc_cidr_block=cdk.Fn.import_value("NetworkCidr"),
        availability_zones=["us-east-2a"],
        isolated_subnet_ids=["subnet-0aaaaaaaaaaaaaaa1"],
        isolated_subnet_route_table_ids=["rtb-0aaaaaaaaaaaaaaa1"],
    )
    NetworkFabric(
        token_stack,
        "Fabric",
        vpc=token_vpc,
        endpoints=NetworkFabric.ISOLATED_ENDPOINTS,
        s3_gateway_endpoint=True,
    )
    return Fabrics(synthesize(app), default, isolated, custom, byo)


@pytest.fixture(scope="module")
def default(fabrics: Fabrics) -> Template:
    return fabrics.synth.template("Default")


@pytest.fixture(scope="module")
def isolated(fabrics: Fabrics) -> Template:
    return fabrics.synth.template("Isolated")


@pytest.fixture(scope="module")
def custom(fabrics: Fabrics) -> Template:
    return fabrics.synth.template("Custom")


@pytest.fixture(scope="module")
def byo(fabrics: Fabrics) -> Template:
    return fabrics.synth.template("Byo")


def _stack() -> cdk.Stack:
    return cdk.Stack(make_app(), "Stack", env=TEST_ENV)


def _of_type(template: Template, type_: str) -> dict[str, Any]:
    found: dict[str, Any] = template.find_resources(type_)
    return found


# --- compliance ---------------------------------------------------------------------------


@pytest.mark.parametrize("stack", SCENARIOS)
def test_cfn_lint_clean(fabrics: Fabrics, stack: str) -> None:
    assert_cfn_lint_clean(fabrics.synth.template_dict(stack))


def test_nag_clean(fabrics: Fabrics) -> None:
    assert_nag_clean(fabrics.synth)


# --- default fabric -------------------------------------------------------------------------


def test_default_vpc_is_a_slash_16_with_dns_for_private_endpoints(
    fabrics: Fabrics, default: Template
) -> None:
    default.resource_count_is("AWS::EC2::VPC", 1)
    default.has_resource_properties(
        "AWS::EC2::VPC",
        {"CidrBlock": "10.0.0.0/16", "EnableDnsHostnames": True, "EnableDnsSupport": True},
    )
    fabric = fabrics.default
    assert fabric.cidr == "10.0.0.0/16"
    assert fabric.availability_zones == ["us-east-2a", "us-east-2b", "us-east-2c"]
    assert fabric.internet_access is True
    assert fabric.nat_gateways == 1


def test_default_has_service_and_public_subnets_in_three_azs_plus_one_compute_subnet(
    default: Template,
) -> None:
    subnets = _of_type(default, "AWS::EC2::Subnet")
    assert len(subnets) == 7
    services = [s for k, s in subnets.items() if "ServicesSubnet" in k]
    public = [s for k, s in subnets.items() if "PublicSubnet" in k]
    assert sorted(s["Properties"]["CidrBlock"] for s in services) == [
        "10.0.0.0/22",
        "10.0.4.0/22",
        "10.0.8.0/22",
    ]
    assert len(public) == 3
    assert all(s["Properties"]["MapPublicIpOnLaunch"] is False for s in public)


def test_default_compute_subnet_is_the_last_slash_18_in_the_first_az(
    fabrics: Fabrics, default: Template
) -> None:
    default.has_resource_properties(
        "AWS::EC2::Subnet",
        {
            "CidrBlock": "10.0.192.0/18",
            "AvailabilityZone": "us-east-2a",
            "MapPublicIpOnLaunch": False,
            "Tags": Match.array_with([{"Key": "aws-cdk:subnet-name", "Value": "Compute"}]),
        },
    )
    fabric = fabrics.default
    assert fabric.compute_availability_zone == "us-east-2a"
    assert fabric.compute_subnet_cidr_mask == 18
    assert fabric.compute_subnet.availability_zone == "us-east-2a"


def test_subnets_never_overlap(fabrics: Fabrics) -> None:
    for stack in ("Default", "Isolated", "Custom"):
        blocks = [
            ipaddress.IPv4Network(s["Properties"]["CidrBlock"])
            for s in _of_type(fabrics.synth.template(stack), "AWS::EC2::Subnet").values()
        ]
        for i, a in enumerate(blocks):
            for b in blocks[i + 1 :]:
                assert not a.overlaps(b), f"{stack}: {a} overlaps {b}"


def test_compute_subnets_selects_exactly_the_compute_subnet(fabrics: Fabrics) -> None:
    fabric = fabrics.default
    assert fabric.compute_subnets.subnets == [fabric.compute_subnet]
    selected = fabric.vpc.select_subnets(subnets=fabric.compute_subnets.subnets)
    assert selected.subnet_ids == [fabric.compute_subnet.subnet_id]
    assert fabric.service_subnets.subnet_group_name == "Services"
    services = fabric.vpc.select_subnets(subnet_group_name="Services")
    assert len(services.subnet_ids) == 3


def test_default_compute_subnet_routes_through_the_nat_gateway_in_its_az(
    default: Template,
) -> None:
    default.resource_count_is("AWS::EC2::NatGateway", 1)
    default.resource_count_is("AWS::EC2::InternetGateway", 1)
    (nat_id,) = _of_type(default, "AWS::EC2::NatGateway")
    assert "PublicSubnet1" in nat_id  # us-east-2a, the compute AZ
    routes = _of_type(default, "AWS::EC2::Route")
    compute_routes = [
        r["Properties"]
        for r in routes.values()
        if r["Properties"]["RouteTableId"]["Ref"].startswith("FabricComputeSubnetRouteTable")
    ]
    assert compute_routes == [
        {
            "DestinationCidrBlock": "0.0.0.0/0",
            "NatGatewayId": {"Ref": nat_id},
            "RouteTableId": compute_routes[0]["RouteTableId"],
        }
    ]


def test_default_has_s3_gateway_endpoint_on_every_route_table_and_no_interface_endpoints(
    fabrics: Fabrics, default: Template
) -> None:
    endpoints = _of_type(default, "AWS::EC2::VPCEndpoint")
    (s3,) = endpoints.values()
    assert s3["Properties"]["VpcEndpointType"] == "Gateway"
    route_tables = set(_of_type(default, "AWS::EC2::RouteTable"))
    assert {r["Ref"] for r in s3["Properties"]["RouteTableIds"]} == route_tables
    assert fabrics.default.endpoints == ()
    assert fabrics.default.endpoint_security_group is None
    assert fabrics.default.s3_endpoint is not None


def test_default_security_group_is_restricted(default: Template) -> None:
    default.resource_count_is("Custom::VpcRestrictDefaultSG", 1)


def test_flow_logs_capture_all_traffic_into_an_encrypted_retained_log_group(
    fabrics: Fabrics, default: Template
) -> None:
    default.has_resource_properties(
        "AWS::EC2::FlowLog",
        {"ResourceType": "VPC", "TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs"},
    )
    default.has_resource(
        "AWS::Logs::LogGroup",
        {
            "Properties": {"RetentionInDays": 365, "KmsKeyId": Match.any_value()},
            "DeletionPolicy": "Retain",
        },
    )
    default.has_resource_properties(
        "AWS::KMS::Key",
        {
            "EnableKeyRotation": True,
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [Match.object_like({"Principal": {"Service": "logs.us-east-2.amazonaws.com"}})]
                )
            },
        },
    )
    assert fabrics.default.flow_log is not None
    assert fabrics.default.log_group is not None


# --- isolated fabric ------------------------------------------------------------------------


def test_isolated_fabric_has_no_nat_no_igw_and_no_default_routes(
    fabrics: Fabrics, isolated: Template
) -> None:
    for type_ in ("AWS::EC2::NatGateway", "AWS::EC2::InternetGateway", "AWS::EC2::EIP"):
        isolated.resource_count_is(type_, 0)
    isolated.resource_count_is("AWS::EC2::Route", 0)
    assert fabrics.isolated.nat_gateways == 0
    assert fabrics.isolated.internet_access is False
    assert len(_of_type(isolated, "AWS::EC2::Subnet")) == 4  # 3 service + compute


def test_isolated_fabric_gets_the_isolated_endpoint_set(
    fabrics: Fabrics, isolated: Template
) -> None:
    assert fabrics.isolated.endpoints == NetworkFabric.ISOLATED_ENDPOINTS
    isolated.resource_count_is("AWS::EC2::VPCEndpoint", len(NetworkFabric.ISOLATED_ENDPOINTS) + 1)
    for service in ("ssm", "ssmmessages", "ec2messages", "ecr.api", "ecr.dkr", "logs", "sts"):
        isolated.has_resource_properties(
            "AWS::EC2::VPCEndpoint",
            {
                "ServiceName": f"com.amazonaws.us-east-2.{service}",
                "VpcEndpointType": "Interface",
                "PrivateDnsEnabled": True,
                "SubnetIds": Match.array_with([{"Ref": Match.string_like_regexp("Services")}]),
            },
        )
    assert "hpc-constructs:isolatedWithoutEndpoints" not in warning_ids(fabrics.isolated)


def test_endpoint_security_group_allows_only_https_from_the_vpc_cidr(isolated: Template) -> None:
    (group,) = _of_type(isolated, "AWS::EC2::SecurityGroup").values()
    assert group["Properties"]["SecurityGroupIngress"] == [
        {
            "CidrIp": "10.0.0.0/16",
            "Description": "HTTPS from the VPC CIDR",
            "FromPort": 443,
            "IpProtocol": "tcp",
            "ToPort": 443,
        }
    ]
    # allow_all_outbound=False: CDK's placeholder rule that matches no traffic
    assert group["Properties"]["SecurityGroupEgress"][0]["CidrIp"] == "255.255.255.255/32"
    isolated.resource_count_is("AWS::EC2::SecurityGroupIngress", 0)


# --- explicit props -------------------------------------------------------------------------


def test_compute_subnet_is_sized_from_max_compute_interfaces_in_the_chosen_az(
    fabrics: Fabrics, custom: Template
) -> None:
    # 1000 addresses + 5 reserved by AWS: a /22 (1019 usable), not a /23 (507)
    assert fabrics.custom.compute_subnet_cidr_mask == 22
    custom.has_resource_properties(
        "AWS::EC2::Subnet", {"CidrBlock": "10.20.252.0/22", "AvailabilityZone": "us-east-2b"}
    )
    custom.has_resource_properties("AWS::EC2::VPC", {"CidrBlock": "10.20.0.0/16"})
    assert fabrics.custom.compute_availability_zone == "us-east-2b"


def test_nat_gateways_start_in_the_compute_az(custom: Template) -> None:
    nats = _of_type(custom, "AWS::EC2::NatGateway")
    # us-east-2b (compute AZ) is PublicSubnet2; the second gateway goes to the first other AZ
    assert sorted(k[: len("FabricVpcPublicSubnetN")] for k in nats) == [
        "FabricVpcPublicSubnet1",
        "FabricVpcPublicSubnet2",
    ]


def test_service_subnet_mask_and_endpoint_list_are_honoured(
    fabrics: Fabrics, custom: Template
) -> None:
    services = [
        s["Properties"]["CidrBlock"]
        for k, s in _of_type(custom, "AWS::EC2::Subnet").items()
        if "ServicesSubnet" in k
    ]
    assert all(cidr.endswith("/24") for cidr in services)
    # duplicates are dropped
    assert fabrics.custom.endpoints == (FabricEndpoint.SSM, FabricEndpoint.FSX)
    custom.resource_count_is("AWS::EC2::VPCEndpoint", 3)
    custom.has_resource_properties(
        "AWS::EC2::VPCEndpoint", {"ServiceName": "com.amazonaws.us-east-2.fsx"}
    )
    custom.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 90})


def test_endpoint_enum_maps_to_cdk_services() -> None:
    for endpoint in FabricEndpoint:
        assert isinstance(endpoint.aws_service, ec2.InterfaceVpcEndpointAwsService)
    assert FabricEndpoint.ECR_API.aws_service.short_name == "ecr.api"
    assert FabricEndpoint.SSM_MESSAGES.construct_id == "SsmMessagesEndpoint"


def test_add_interface_endpoint_is_idempotent() -> None:
    fabric = NetworkFabric(_stack(), "Fabric")
    first = fabric.add_interface_endpoint(FabricEndpoint.BATCH)
    assert fabric.add_interface_endpoint(FabricEndpoint.BATCH) is first
    assert fabric.endpoints == (FabricEndpoint.BATCH,)
    assert fabric.endpoint_security_group is not None


@pytest.mark.parametrize(
    ("interfaces", "mask"),
    [(1, 28), (11, 28), (12, 27), (251, 24), (252, 23), (16379, 18), (16380, 17), (65531, 16)],
)
def test_compute_subnet_mask_counts_the_five_reserved_addresses(interfaces: int, mask: int) -> None:
    assert compute_subnet_cidr_mask(interfaces) == mask


def test_p5_fleet_of_500_nodes_needs_a_slash_17() -> None:
    # p5.48xlarge with 32 EFA-with-ENA interfaces: 32 addresses per node
    assert compute_subnet_cidr_mask(500 * 32) == 18
    # ...plus 2 extra ENIs per node for sidecars: 17000 addresses
    assert compute_subnet_cidr_mask(500 * 34) == 17


# --- bring your own VPC ---------------------------------------------------------------------


def test_byo_vpc_creates_no_network_only_what_was_asked(fabrics: Fabrics, byo: Template) -> None:
    for type_ in ("AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::EC2::NatGateway"):
        byo.resource_count_is(type_, 0)
    byo.has_resource_properties(
        "AWS::EC2::FlowLog", {"ResourceId": "vpc-0123456789abcdef0", "ResourceType": "VPC"}
    )
    byo.has_resource_properties(
        "AWS::EC2::VPCEndpoint",
        {
            "VpcEndpointType": "Gateway",
            "RouteTableIds": ["rtb-0aaaaaaaaaaaaaaa1", "rtb-0bbbbbbbbbbbbbbb2"],
        },
    )
    byo.has_resource_properties(
        "AWS::EC2::VPCEndpoint",
        {
            "ServiceName": "com.amazonaws.us-east-2.ssm",
            "SubnetIds": ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"],
        },
    )
    byo.has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {"SecurityGroupIngress": [Match.object_like({"CidrIp": "10.1.0.0/16", "FromPort": 443})]},
    )
    assert fabrics.byo.cidr is None


def test_byo_compute_subnet_is_the_private_subnet_in_the_compute_az(fabrics: Fabrics) -> None:
    assert fabrics.byo.compute_subnet.subnet_id == "subnet-0bbbbbbbbbbbbbbb2"
    assert fabrics.byo.compute_availability_zone == "us-east-2b"


def test_byo_defaults_add_nothing() -> None:
    stack = _stack()
    fabric = NetworkFabric(stack, "Fabric", vpc=_imported_vpc(stack))
    assert fabric.node.children == []
    assert fabric.flow_log is None
    assert fabric.s3_endpoint is None
    assert fabric.endpoints == ()
    assert fabric.compute_availability_zone == "us-east-2a"
    assert fabric.compute_subnet.subnet_id == "subnet-0aaaaaaaaaaaaaaa1"


def test_byo_compute_subnet_can_be_passed() -> None:
    stack = _stack()
    subnet = ec2.Subnet.from_subnet_attributes(
        stack, "Sub", subnet_id="subnet-0ccccccccccccccc3", availability_zone="us-east-2b"
    )
    fabric = NetworkFabric(stack, "Fabric", vpc=_imported_vpc(stack), compute_subnet=subnet)
    assert fabric.compute_subnet is subnet
    assert fabric.compute_availability_zone == "us-east-2b"
    assert fabric.compute_subnets.subnets == [subnet]


def test_runs_before_the_cli_has_looked_up_the_azs() -> None:
    # A plain App has no AZ context: the stack reports CDK's placeholders ("dummy1a"...) and
    # the CLI reruns the app after the lookup. The fabric must not fail on that first run.
    stack = cdk.Stack(cdk.App(), "Stack", env=TEST_ENV)
    fabric = NetworkFabric(stack, "Fabric", compute_availability_zone="us-east-2b")
    assert fabric.compute_availability_zone == "us-east-2b"
    lookup = ec2.Vpc.from_lookup(stack, "Lookup", vpc_id="vpc-0123456789abcdef0")
    brought = NetworkFabric(stack, "Brought", vpc=lookup, compute_availability_zone="us-east-2b")
    assert brought.compute_subnet is not None


# --- validation -----------------------------------------------------------------------------


def test_fails_when_compute_az_is_not_a_fabric_az() -> None:
    with pytest.raises(HpcValidationError) as err:
        NetworkFabric(_stack(), "Fabric", max_azs=2, compute_availability_zone="us-east-2c")
    message = str(err.value)
    assert "Stack/Fabric: compute_availability_zone='us-east-2c'" in message
    assert "'us-east-2a', 'us-east-2b'" in message


def test_fails_when_cidr_is_a_token() -> None:
    stack = _stack()
    cidr = cdk.CfnParameter(stack, "Cidr").value_as_string
    with pytest.raises(HpcValidationError, match=r"cidr='<unresolved token>'.*concrete IPv4 CIDR"):
        NetworkFabric(stack, "Fabric", cidr=cidr)


@pytest.mark.parametrize(
    ("cidr", "allowed"),
    [
        ("10.0.0.1/16", "an IPv4 network such as 10.0.0.0/16"),
        ("not-a-cidr", "an IPv4 network"),
        ("10.0.0.0/8", "a prefix length of /16 to /28"),
    ],
)
def test_fails_when_cidr_is_invalid(cidr: str, allowed: str) -> None:
    with pytest.raises(HpcValidationError, match=rf"cidr='{cidr}'.*{allowed}"):
        NetworkFabric(_stack(), "Fabric", cidr=cidr)


def test_fails_when_cidr_is_too_small_for_the_compute_subnet() -> None:
    with pytest.raises(HpcValidationError) as err:
        NetworkFabric(_stack(), "Fabric", cidr="10.0.0.0/20")
    message = str(err.value)
    assert "cidr='10.0.0.0/20'" in message
    assert "the /18 compute subnet and 3 AZs of service and public subnets need 20224" in message
    assert "a /17 or larger network" in message


def test_small_cidr_fits_a_small_fleet() -> None:
    fabric = NetworkFabric(
        _stack(),
        "Fabric",
        cidr="10.0.0.0/22",
        max_azs=2,
        max_compute_interfaces=200,
        service_subnet_cidr_mask=26,
    )
    assert fabric.compute_subnet_cidr_mask == 24


def test_fails_when_vpc_is_given_with_props_that_create_one() -> None:
    stack = _stack()
    with pytest.raises(HpcValidationError) as err:
        NetworkFabric(
            stack,
            "Fabric",
            vpc=_imported_vpc(stack),
            cidr="10.0.0.0/16",
            max_azs=2,
            nat_gateways=1,
            internet_access=True,
        )
    problems = {p.prop for p in err.value.problems}
    assert problems == {"cidr", "max_azs", "nat_gateways", "internet_access"}
    assert "cidr='10.0.0.0/16' is not valid" in str(err.value)
    assert "unset when vpc is given" in str(err.value)


def test_fails_when_max_azs_and_availability_zones_are_both_given() -> None:
    with pytest.raises(HpcValidationError, match=r"max_azs=2.*unset when availability_zones"):
        NetworkFabric(_stack(), "Fabric", max_azs=2, availability_zones=["us-east-2a"])


def test_fails_when_availability_zones_are_not_in_the_region() -> None:
    with pytest.raises(HpcValidationError, match=r"availability_zones='us-west-2a'.*us-east-2a"):
        NetworkFabric(_stack(), "Fabric", availability_zones=["us-east-2a", "us-west-2a"])


def test_fails_when_nat_gateways_contradict_internet_access() -> None:
    with pytest.raises(HpcValidationError, match=r"nat_gateways=1.*internet_access=False"):
        NetworkFabric(_stack(), "Fabric", internet_access=False, nat_gateways=1)
    with pytest.raises(HpcValidationError, match=r"nat_gateways=0.*1 to 3"):
        NetworkFabric(_stack(), "Fabric", nat_gateways=0)
    with pytest.raises(HpcValidationError, match=r"nat_gateways=4.*1 to 3"):
        NetworkFabric(_stack(), "Fabric", nat_gateways=4)


@pytest.mark.parametrize("count", [0, 70000])
def test_fails_when_max_compute_interfaces_is_out_of_range(count: int) -> None:
    with pytest.raises(HpcValidationError, match=rf"max_compute_interfaces={count}.*1 to 65531"):
        NetworkFabric(_stack(), "Fabric", max_compute_interfaces=count)


def test_fails_with_every_problem_at_once() -> None:
    with pytest.raises(HpcValidationError) as err:
        NetworkFabric(
            _stack(),
            "Fabric",
            cidr="10.0.0.0/12",
            compute_availability_zone="us-east-2z",
            max_compute_interfaces=0,
        )
    assert {p.prop for p in err.value.problems} == {
        "cidr",
        "compute_availability_zone",
        "max_compute_interfaces",
    }
    assert str(err.value).startswith("3 invalid properties:")


def test_fails_when_byo_vpc_has_no_private_subnet_in_the_compute_az() -> None:
    stack = _stack()
    vpc = ec2.Vpc.from_vpc_attributes(
        stack,
        "Public",
        vpc_id="vpc-0123456789abcdef0",
        availability_zones=["us-east-2a"],
        public_subnet_ids=["subnet-0aaaaaaaaaaaaaaa1"],
    )
    with pytest.raises(HpcValidationError, match=r"vpc='Stack/Public'.*pass compute_subnet"):
        NetworkFabric(stack, "Fabric", vpc=vpc)


def test_fails_when_byo_compute_az_is_not_a_vpc_az() -> None:
    stack = _stack()
    with pytest.raises(HpcValidationError, match="compute_availability_zone='us-east-2c'"):
        NetworkFabric(
            stack, "Fabric", vpc=_imported_vpc(stack), compute_availability_zone="us-east-2c"
        )


def test_fails_when_compute_subnet_and_compute_az_disagree() -> None:
    stack = _stack()
    subnet = ec2.Subnet.from_subnet_attributes(
        stack, "Sub", subnet_id="subnet-0ccccccccccccccc3", availability_zone="us-east-2b"
    )
    with pytest.raises(
        HpcValidationError, match=r"compute_availability_zone='us-east-2a'.*'us-east-2b'"
    ):
        NetworkFabric(
            stack,
            "Fabric",
            vpc=_imported_vpc(stack),
            compute_subnet=subnet,
            compute_availability_zone="us-east-2a",
        )


def test_fails_when_compute_subnet_is_given_without_vpc() -> None:
    stack = _stack()
    subnet = ec2.Subnet.from_subnet_attributes(
        stack, "Sub", subnet_id="subnet-0ccccccccccccccc3", availability_zone="us-east-2b"
    )
    with pytest.raises(
        HpcValidationError, match=r"compute_subnet='subnet-0ccccccccccccccc3'.*unless vpc is given"
    ):
        NetworkFabric(stack, "Fabric", compute_subnet=subnet)


def test_fails_when_byo_vpc_cidr_is_unknown_and_endpoints_are_asked_for() -> None:
    stack = _stack()
    vpc = ec2.Vpc.from_vpc_attributes(
        stack,
        "NoCidr",
        vpc_id="vpc-0123456789abcdef0",
        availability_zones=["us-east-2a"],
        private_subnet_ids=["subnet-0aaaaaaaaaaaaaaa1"],
    )
    with pytest.raises(HpcValidationError, match=r"vpc='Stack/NoCidr'.*known CIDR"):
        NetworkFabric(stack, "Fabric", vpc=vpc, endpoints=[FabricEndpoint.SSM])


def test_byo_endpoint_rule_uses_the_vpc_cidr_token(fabrics: Fabrics) -> None:
    template = fabrics.synth.template("ByoTokenCidr")
    template.has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {
            "SecurityGroupIngress": [
                Match.object_like({"CidrIp": {"Fn::ImportValue": "NetworkCidr"}})
            ]
        },
    )
    # an isolated brought VPC with every endpoint it needs: no warning
    assert warning_ids(fabrics.synth.app.node.find_child("ByoTokenCidr")) == set()


def test_fails_when_an_endpoint_is_not_a_fabric_endpoint() -> None:
    with pytest.raises(
        HpcValidationError, match=r"endpoints=\['ssm'\].*allowed: a list of FabricEndpoint"
    ):
        NetworkFabric(_stack(), "Fabric", endpoints=["ssm"])  # type: ignore[list-item]


# --- warnings -------------------------------------------------------------------------------


def test_warns_when_isolated_fabric_lacks_endpoints() -> None:
    fabric = NetworkFabric(
        _stack(),
        "Fabric",
        internet_access=False,
        endpoints=[FabricEndpoint.SSM],
        s3_gateway_endpoint=False,
        flow_logs=False,
    )
    assert "hpc-constructs:isolatedWithoutEndpoints" in warning_ids(fabric)


def test_no_warning_with_internet_access() -> None:
    fabric = NetworkFabric(_stack(), "Fabric", flow_logs=False)
    assert warning_ids(fabric) == set()
