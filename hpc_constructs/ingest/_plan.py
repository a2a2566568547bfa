"""DataIngest's plan: props (plain values) -> frozen dataclasses, one small pure rule each.

Nothing here creates CDK objects; the constructs render a plan into resources. Every
``plan_*`` function records problems on a :class:`~hpc_constructs.errors.Validator` instead of
raising, so a construct reports all of them together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hpc_constructs.errors import Validator, is_token, needs_concrete_value
from hpc_constructs.ingest import _rules as rules
from hpc_constructs.ingest._facts import (
    CONNECTION_ID_PATTERN,
    CUSTOMER_ASN_RANGE,
    DX_ATTACHMENTS,
    DX_GATEWAY_ID_PATTERN,
    ENHANCED_SOURCE_KINDS,
    LOG_LEVELS,
    NO_FULL_VERIFY_CLASSES,
    OVERWRITE_MODES,
    PRESERVE_DELETED_FILES,
    PRIVATE_VIF_MTUS,
    SNOWBALL_SHIPPING_OPTIONS,
    SNOWBALL_TYPES,
    TASK_MODES,
    TASK_REPORT_OUTPUT_TYPES,
    TRANSFER_MODES,
    TRANSIT_VIF_MTUS,
    VERIFY_MODES,
    VLAN_RANGE,
)
from hpc_constructs.ingest.options import (
    DirectConnectOptions,
    SnowballImportOptions,
    VirtualInterfaceOptions,
)
from hpc_constructs.ingest.schedule import SCHEDULE_ALLOWED, schedule_problem

_PRIVATE_ASN = "a private ASN: 64512-65534 or 4200000000-4294967294"

# --- landing bucket ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BucketPlan:
    """The landing bucket the construct creates (absent when one is passed in)."""

    encryption: str
    intelligent_tiering_after_days: int
    noncurrent_version_expiration_days: int
    access_log_prefix: str = "landing/"
    abort_incomplete_multipart_upload_days: int = 7


def plan_bucket(
    v: Validator,
    *,
    bucket_given: bool,
    bucket_encryption: str | None,
    intelligent_tiering_after_days: int | None,
    noncurrent_version_expiration_days: int | None,
) -> BucketPlan | None:
    """Resolved bucket settings; passing a bucket and the props that would create one is an
    error."""
    props = (
        ("bucket_encryption", bucket_encryption),
        ("intelligent_tiering_after_days", intelligent_tiering_after_days),
        ("noncurrent_version_expiration_days", noncurrent_version_expiration_days),
    )
    if bucket_given:
        for prop, value in props:
            v.require(
                value is None,
                prop,
                value,
                "unset when landing_bucket is passed",
                "these props configure a bucket the construct would create",
            )
    encryption = bucket_encryption or "KMS"
    if needs_concrete_value(v, "bucket_encryption", encryption, "it decides which key"):
        v.one_of("bucket_encryption", encryption, ("KMS", "S3_MANAGED"))
    v.in_range("intelligent_tiering_after_days", intelligent_tiering_after_days, 0, 36500)
    v.in_range("noncurrent_version_expiration_days", noncurrent_version_expiration_days, 1, 36500)
    if bucket_given:
        return None
    return BucketPlan(
        encryption=encryption,
        intelligent_tiering_after_days=(
            30 if intelligent_tiering_after_days is None else intelligent_tiering_after_days
        ),
        noncurrent_version_expiration_days=(
            90 if noncurrent_version_expiration_days is None else noncurrent_version_expiration_days
        ),
    )


# --- private endpoint -------------------------------------------------------------------------


@dataclass(frozen=True)
class EndpointPlan:
    """The DataSync interface endpoint: who may reach it and on which TCP port ranges."""

    agent_cidrs: tuple[str, ...]
    port_ranges: tuple[tuple[int, int], ...]


#: Agent -> endpoint: TCP 443 (data, activation) and 1024-1064 (control); 22 only for the AWS
#: Support channel (DataSync User Guide, "Network requirements").
ENDPOINT_PORT_RANGES: tuple[tuple[int, int], ...] = ((443, 443), (1024, 1064))
SUPPORT_PORT_RANGE = (22, 22)


def plan_endpoint(
    v: Validator,
    *,
    private_endpoint: bool,
    has_vpc: bool,
    agent_cidrs: Sequence[str],
    allow_support_channel: bool,
) -> EndpointPlan | None:
    if private_endpoint:
        v.require(has_vpc, "vpc", None, "a VPC when private_endpoint=True")
        v.require(
            len(agent_cidrs) > 0,
            "agent_cidrs",
            list(agent_cidrs),
            "at least one agent CIDR when private_endpoint=True",
        )
    rules.check_cidrs(v, "agent_cidrs", agent_cidrs, "IPv4 CIDRs such as 10.20.0.0/24")
    if not private_endpoint:
        return None
    ports = ENDPOINT_PORT_RANGES + ((SUPPORT_PORT_RANGE,) if allow_support_channel else ())
    return EndpointPlan(tuple(agent_cidrs), ports)


# --- Snowball ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SnowballPlan:
    """The Snowball ``create-job`` request's fields; unset ones are ``<placeholders>``."""

    address_id: str
    shipping_option: str
    snowball_type: str
    description: str


def plan_snowball(v: Validator, snowball: bool | SnowballImportOptions) -> SnowballPlan | None:
    if not snowball:
        return None
    options = snowball if isinstance(snowball, SnowballImportOptions) else SnowballImportOptions()
    if options.shipping_option is not None:
        v.one_of("snowball.shipping_option", options.shipping_option, SNOWBALL_SHIPPING_OPTIONS)
    if options.snowball_type is not None:
        v.one_of("snowball.snowball_type", options.snowball_type, SNOWBALL_TYPES)
    return SnowballPlan(
        address_id=options.address_id or "<AddressId from aws snowball create-address>",
        shipping_option=options.shipping_option
        or "<" + " | ".join(SNOWBALL_SHIPPING_OPTIONS) + ">",
        snowball_type=options.snowball_type or "<device type, e.g. EDGE_S>",
        description=options.description or "hpc-constructs import into landing bucket",
    )


def snowball_request(
    plan: SnowballPlan, *, bucket_arn: str, key_arn: str, role_arn: str
) -> dict[str, Any]:
    """The ``aws snowball create-job --cli-input-json`` document."""
    return {
        "JobType": "IMPORT",
        "Resources": {"S3Resources": [{"BucketArn": bucket_arn}]},
        "Description": plan.description,
        "KmsKeyARN": key_arn,
        "RoleARN": role_arn,
        "AddressId": plan.address_id,
        "ShippingOption": plan.shipping_option,
        "SnowballType": plan.snowball_type,
    }


# --- Direct Connect ---------------------------------------------------------------------------


@dataclass(frozen=True)
class VirtualInterfacePlan:
    connection_id: str
    vlan: int
    mtu: int
    customer_asn: int
    has_auth_key: bool
    amazon_address: str | None
    customer_address: str | None
    name: str | None


@dataclass(frozen=True)
class DirectConnectPlan:
    """Which gateways to create, their ASNs and the prefixes on each side."""

    transit: bool
    direct_connect_gateway_id: str | None
    direct_connect_gateway_asn: int
    gateway_asn: int
    allowed_prefixes: tuple[str, ...]
    on_premises_cidrs: tuple[str, ...]
    virtual_interface: VirtualInterfacePlan | None


def gateway_asn(options: DirectConnectOptions) -> int:
    """The VGW / TGW Amazon-side ASN: the given one, else 64513 (TGW) or 64512 (VGW)."""
    if options.gateway_asn is not None:
        return options.gateway_asn
    return 64513 if options.attachment == "TRANSIT_GATEWAY" else 64512


def check_direct_connect_gateway(v: Validator, options: DirectConnectOptions) -> None:
    p = "direct_connect"
    if options.direct_connect_gateway_id is not None:
        rules.check_pattern(
            v,
            f"{p}.direct_connect_gateway_id",
            options.direct_connect_gateway_id,
            DX_GATEWAY_ID_PATTERN.pattern,
            "a Direct Connect gateway id (UUID, e.g. 5f294f92-bafb-4011-916d-9b0bexample)",
        )
    else:
        asn = options.direct_connect_gateway_asn
        v.require(rules.amazon_asn_ok(asn), f"{p}.direct_connect_gateway_asn", asn, _PRIVATE_ASN)
    if options.gateway_asn is not None:
        v.require(
            rules.amazon_asn_ok(options.gateway_asn),
            f"{p}.gateway_asn",
            options.gateway_asn,
            _PRIVATE_ASN,
        )
    if options.attachment == "TRANSIT_GATEWAY" and options.direct_connect_gateway_id is None:
        v.require(
            gateway_asn(options) != options.direct_connect_gateway_asn,
            f"{p}.gateway_asn",
            gateway_asn(options),
            f"an ASN other than the Direct Connect gateway's ({options.direct_connect_gateway_asn})",
            "a transit gateway and its Direct Connect gateway need different ASNs",
        )


def check_direct_connect_prefixes(v: Validator, options: DirectConnectOptions) -> None:
    p = "direct_connect"
    example = "IPv4 CIDRs such as 10.0.0.0/16 (network address, no host bits)"
    rules.check_cidrs(v, f"{p}.allowed_prefixes", options.allowed_prefixes, example)
    # One route per CIDR and route table: the list itself must be known at synth time.
    if needs_concrete_value(
        v, f"{p}.on_premises_cidrs", options.on_premises_cidrs, "one route is created per CIDR"
    ):
        rules.check_cidrs(v, f"{p}.on_premises_cidrs", options.on_premises_cidrs, example)
    if options.attachment != "TRANSIT_GATEWAY":
        v.require(
            not options.on_premises_cidrs,
            f"{p}.on_premises_cidrs",
            list(options.on_premises_cidrs),
            "empty for a virtual private gateway (BGP routes are propagated)",
        )


def check_virtual_interface(v: Validator, vif: VirtualInterfaceOptions, transit: bool) -> None:
    q = "direct_connect.virtual_interface"
    rules.check_pattern(
        v,
        f"{q}.connection_id",
        vif.connection_id,
        CONNECTION_ID_PATTERN.pattern,
        "dxcon-xxxxxxxx or dxlag-xxxxxxxx (or the connection/LAG ARN)",
    )
    v.in_range(f"{q}.vlan", vif.vlan, *VLAN_RANGE)
    v.in_range(f"{q}.customer_asn", vif.customer_asn, *CUSTOMER_ASN_RANGE)
    mtus = TRANSIT_VIF_MTUS if transit else PRIVATE_VIF_MTUS
    v.one_of(f"{q}.mtu", vif.mtu, mtus, "transit VIF" if transit else "private VIF")
    for prop, address in (
        ("amazon_address", vif.amazon_address),
        ("customer_address", vif.customer_address),
    ):
        if address is not None:
            v.require(
                is_token(address) or rules.is_interface_cidr(address),
                f"{q}.{prop}",
                address,
                "an IPv4 address with prefix length, e.g. 169.254.10.1/30",
            )
    v.require(
        (vif.amazon_address is None) == (vif.customer_address is None),
        f"{q}.customer_address",
        vif.customer_address,
        "set together with amazon_address (or both unset)",
    )
    if vif.name is not None:
        rules.check_pattern(
            v,
            f"{q}.name",
            vif.name,
            r"^[\w \-_,\/]{1,100}$",
            "1-100 letters, digits, spaces and - _ , /",
        )


def plan_direct_connect(
    v: Validator, options: DirectConnectOptions | None, *, has_vpc: bool
) -> DirectConnectPlan | None:
    if options is None:
        return None
    v.require(has_vpc, "vpc", None, "a VPC when direct_connect is set")
    attachment_ok = needs_concrete_value(
        v, "direct_connect.attachment", options.attachment, "it decides which gateways to create"
    ) and v.one_of("direct_connect.attachment", options.attachment, DX_ATTACHMENTS)
    transit = options.attachment == "TRANSIT_GATEWAY"
    check_direct_connect_gateway(v, options)
    check_direct_connect_prefixes(v, options)
    vif = options.virtual_interface
    if vif is not None:
        check_virtual_interface(v, vif, transit)
    if not attachment_ok:
        return None
    return DirectConnectPlan(
        transit=transit,
        direct_connect_gateway_id=options.direct_connect_gateway_id,
        direct_connect_gateway_asn=options.direct_connect_gateway_asn,
        gateway_asn=gateway_asn(options),
        allowed_prefixes=tuple(options.allowed_prefixes),
        on_premises_cidrs=tuple(options.on_premises_cidrs),
        virtual_interface=_vif_plan(vif),
    )


def _vif_plan(vif: VirtualInterfaceOptions | None) -> VirtualInterfacePlan | None:
    if vif is None:
        return None
    return VirtualInterfacePlan(
        connection_id=vif.connection_id,
        vlan=vif.vlan,
        mtu=vif.mtu,
        customer_asn=vif.customer_asn,
        has_auth_key=vif.auth_key is not None,
        amazon_address=vif.amazon_address,
        customer_address=vif.customer_address,
        name=vif.name,
    )


# --- DataSync tasks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskPlan:
    """One DataSync task's settings, resolved and checked (locations are rendered apart)."""

    schedule: str | None
    verify_mode: str
    overwrite_mode: str
    preserve_deleted_files: str
    transfer_mode: str
    bytes_per_second: int | None
    includes: str | None
    excludes: str | None
    task_report: str | None
    log_level: str
    task_mode: str


@dataclass(frozen=True)
class TaskEnds:
    """Plain facts about a task's source and destination that the task rules need."""

    source_kind: str
    destination_kind: str
    destination_storage_class: str | None = None


def check_schedule(v: Validator, expression: str | None) -> None:
    if expression is None or is_token(expression):
        return
    problem = schedule_problem(expression)
    v.require(problem is None, "schedule", expression, SCHEDULE_ALLOWED, problem or "")


def check_verify_mode(v: Validator, verify_mode: str, task_mode: str, ends: TaskEnds) -> None:
    v.one_of("verify_mode", verify_mode, VERIFY_MODES)
    if verify_mode != "POINT_IN_TIME_CONSISTENT":
        return
    v.require(
        task_mode != "ENHANCED",
        "verify_mode",
        verify_mode,
        "ONLY_FILES_TRANSFERRED or NONE for ENHANCED tasks",
    )
    v.require(
        ends.destination_storage_class not in NO_FULL_VERIFY_CLASSES,
        "verify_mode",
        verify_mode,
        "ONLY_FILES_TRANSFERRED or NONE for GLACIER / DEEP_ARCHIVE destinations",
    )


def check_transfer_modes(
    v: Validator, overwrite_mode: str, preserve_deleted_files: str, transfer_mode: str
) -> None:
    v.one_of("overwrite_mode", overwrite_mode, OVERWRITE_MODES)
    v.one_of("preserve_deleted_files", preserve_deleted_files, PRESERVE_DELETED_FILES)
    v.one_of("transfer_mode", transfer_mode, TRANSFER_MODES)
    if preserve_deleted_files == "REMOVE":
        v.require(
            transfer_mode != "ALL",
            "preserve_deleted_files",
            preserve_deleted_files,
            "PRESERVE when transfer_mode is ALL",
        )


def check_bytes_per_second(v: Validator, bytes_per_second: int | None) -> None:
    if bytes_per_second is not None:
        v.require(
            bytes_per_second == -1 or bytes_per_second >= 1,
            "bytes_per_second",
            bytes_per_second,
            "-1 (unlimited) or an integer of at least 1",
        )


def check_filters(v: Validator, prop: str, patterns: Sequence[str]) -> None:
    for pattern in patterns:
        v.require(
            bool(pattern) and "|" not in pattern and "\x00" not in pattern,
            prop,
            pattern,
            "non-empty patterns without | (the construct joins them with |)",
        )


def check_task_mode(v: Validator, task_mode: str, ends: TaskEnds) -> None:
    v.one_of("task_mode", task_mode, TASK_MODES)
    if task_mode != "ENHANCED":
        return
    # DataSync User Guide, "Choosing a task mode": Enhanced mode transfers only to or from
    # Amazon S3 (S3 to S3, other clouds to S3, NFS/SMB to S3); CreateTask rejects Lustre or EFS
    # locations and HDFS sources in Enhanced mode.
    v.require(
        ends.destination_kind == "S3" and ends.source_kind in ENHANCED_SOURCE_KINDS,
        "task_mode",
        task_mode,
        "BASIC unless the destination is an S3 bucket and the source is S3, NFS, SMB "
        "or object storage",
        f"source is {ends.source_kind}, destination is {ends.destination_kind}",
    )


def plan_task(
    v: Validator, ends: TaskEnds, schedule: str | None, props: dict[str, Any]
) -> TaskPlan:
    """The task settings from ``add_task``'s props (a dict keyed by prop name, their Python
    types already checked at the boundary: ``errors.check_prop_types``)."""
    check_schedule(v, schedule)
    check_verify_mode(v, props["verify_mode"], props["task_mode"], ends)
    check_transfer_modes(
        v, props["overwrite_mode"], props["preserve_deleted_files"], props["transfer_mode"]
    )
    check_bytes_per_second(v, props["bytes_per_second"])
    check_filters(v, "includes", props["includes"])
    check_filters(v, "excludes", props["excludes"])
    if props["task_report"] is not None:
        v.one_of("task_report", props["task_report"], TASK_REPORT_OUTPUT_TYPES)
    v.one_of("log_level", props["log_level"], LOG_LEVELS)
    check_task_mode(v, props["task_mode"], ends)
    return TaskPlan(
        schedule=schedule,
        verify_mode=props["verify_mode"],
        overwrite_mode=props["overwrite_mode"],
        preserve_deleted_files=props["preserve_deleted_files"],
        transfer_mode=props["transfer_mode"],
        bytes_per_second=props["bytes_per_second"],
        includes="|".join(props["includes"]) or None,
        excludes="|".join(props["excludes"]) or None,
        task_report=props["task_report"],
        log_level=props["log_level"],
        task_mode=props["task_mode"],
    )


# --- DataIngest -------------------------------------------------------------------------------


@dataclass(frozen=True)
class IngestPlan:
    """Everything ``DataIngest`` decides from its props before creating a resource."""

    bucket: BucketPlan | None
    endpoint: EndpointPlan | None
    direct_connect: DirectConnectPlan | None
    snowball: SnowballPlan | None
    notify_states: tuple[str, ...]
    task_report_prefix: str


def plan_ingest(v: Validator, *, has_vpc: bool, props: dict[str, Any]) -> IngestPlan:
    """The ``DataIngest`` plan from its props (a dict keyed by prop name, their Python types
    already checked at the boundary: ``errors.check_prop_types``)."""
    bucket = plan_bucket(
        v,
        bucket_given=props["landing_bucket"] is not None,
        bucket_encryption=props["bucket_encryption"],
        intelligent_tiering_after_days=props["intelligent_tiering_after_days"],
        noncurrent_version_expiration_days=props["noncurrent_version_expiration_days"],
    )
    rules.check_s3_prefix(v, "task_report_prefix", props["task_report_prefix"])
    endpoint = plan_endpoint(
        v,
        private_endpoint=props["private_endpoint"],
        has_vpc=has_vpc,
        agent_cidrs=props["agent_cidrs"],
        allow_support_channel=props["allow_support_channel"],
    )
    return IngestPlan(
        bucket=bucket,
        endpoint=endpoint,
        direct_connect=plan_direct_connect(v, props["direct_connect"], has_vpc=has_vpc),
        snowball=plan_snowball(v, props["snowball"]),
        notify_states=tuple(props["notify_states"]),
        task_report_prefix=props["task_report_prefix"],
    )
