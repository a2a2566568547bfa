"""DataIngest's pure rules and plans: plain values in, problems or frozen plans out.

No App, no Stack, no synthesis: every test here runs in milliseconds.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path
from typing import Any

import pytest

from hpc_constructs.errors import HpcValidationError, Validator
from hpc_constructs.ingest import _plan, _rules, schedule
from hpc_constructs.ingest.construct import DataIngest
from hpc_constructs.ingest.destinations import DataSyncDestination
from hpc_constructs.ingest.direct_connect import DirectConnectLink
from hpc_constructs.ingest.options import (
    DirectConnectOptions,
    HdfsNameNode,
    SnowballImportOptions,
    VirtualInterfaceOptions,
)
from hpc_constructs.ingest.sources import DataSyncSource, _S3Source

PACKAGE = Path(__file__).resolve().parent.parent / "hpc_constructs" / "ingest"


def _v() -> Validator:
    return Validator("T")


def _messages(v: Validator) -> str:
    return "\n".join(str(p) for p in v.problems)


# --- the package's shape ----------------------------------------------------------------------


def test_no_function_in_the_ingest_package_is_longer_than_80_lines() -> None:
    long = []
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                assert node.end_lineno is not None
                length = node.end_lineno - node.lineno + 1
                if length > 80:
                    long.append(f"{path.name}:{node.lineno} {node.name} ({length} lines)")
    assert not long, long


def test_plans_hold_no_cdk_objects() -> None:
    plan_types = [
        _plan.BucketPlan,
        _plan.EndpointPlan,
        _plan.SnowballPlan,
        _plan.DirectConnectPlan,
        _plan.VirtualInterfacePlan,
        _plan.TaskPlan,
        _plan.IngestPlan,
    ]
    for plan_type in plan_types:
        assert dataclasses.is_dataclass(plan_type)
        params = plan_type.__dataclass_params__  # type: ignore[attr-defined]
        assert params.frozen, plan_type
        for field in dataclasses.fields(plan_type):
            assert "aws_cdk" not in str(field.type), (plan_type, field.name)


# --- schedules: EventBridge syntax -----------------------------------------------------------


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 hour)",
        "rate(60 minutes)",
        "rate(1 day)",
        "rate(2 hours)",
        "rate(7 days)",
        "cron(0 * * * ? *)",
        "cron(30 2 ? * MON *)",
        "cron(15 2 * * ? *)",
        "cron(0 0/2 * * ? *)",
        "cron(0 1-5 ? * MON-FRI *)",
        "cron(0 8 1,15 JAN,JUL ? 2030)",
        "cron(0 3 L * ? *)",
        "cron(0 3 15W * ? *)",
        "cron(0 3 LW * ? *)",
        "cron(0 3 ? * 6L *)",
        "cron(0 3 ? * 3#2 *)",
        "cron(0 3 ? * 1-7 1970-2199)",
        "cron(59 23 31 12 ? 2199)",
    ],
)
def test_valid_schedules_are_accepted(expression: str) -> None:
    assert schedule.schedule_problem(expression) is None


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("cron(0 25 * * ? *)", "hour 25 is out of range 0-23"),
        ("cron(61 2 * * ? *)", "minute 61 is out of range 0-59"),
        ("cron(0 2 32 * ? *)", "day-of-month 32 is out of range 1-31"),
        ("cron(0 2 0 * ? *)", "day-of-month 0 is out of range 1-31"),
        ("cron(0 2 * 13 ? *)", "month 13 is out of range 1-12"),
        ("cron(0 2 * FOO ? *)", "month 'FOO' is not a number or JAN-DEC"),
        ("cron(0 2 ? * 8 *)", "day-of-week 8 is out of range 1-7"),
        ("cron(0 2 ? * MON-XYZ *)", "day-of-week 'XYZ' is not a number or SUN-SAT"),
        ("cron(0 2 * * ? 1969)", "year 1969 is out of range 1970-2199"),
        ("cron(0 2 * * ? 2200)", "year 2200 is out of range 1970-2199"),
        ("cron(0 2 * * * *)", "exactly one of day-of-month and day-of-week must be '?'"),
        ("cron(0 2 ? * ? *)", "exactly one of day-of-month and day-of-week must be '?'"),
        ("cron(0 2 1 * MON *)", "exactly one of day-of-month and day-of-week must be '?'"),
        ("cron(0 ? * * ? *)", "'?' is only allowed in day-of-month or day-of-week"),
        ("cron(0 0/0 * * ? *)", "hour increment '0' must be a number 1-23"),
        ("cron(0 1-25 * * ? *)", "hour 25 is out of range 0-23"),
        ("cron(0 1,,2 * * ? *)", "hour has an empty list item"),
        ("cron(0 2 40W * ? *)", "day-of-month 40 is out of range 1-31"),
        ("cron(0 2 ? * 3#6 *)", "day-of-week #6 must be 1-5"),
        ("cron(0 2 * *)", "cron needs 6 fields"),
        ("rate(0 hours)", "rate must be a positive integer"),
        ("rate(1 hours)", "use the singular unit for 1: rate(1 hour)"),
        ("rate(2 hour)", "use the plural unit for 2: rate(2 hours)"),
        ("rate(1.5 hours)", "rate must be 'N minutes', 'N hours' or 'N days'"),
        ("rate(-1 hours)", "rate must be 'N minutes', 'N hours' or 'N days'"),
        ("rate(2 weeks)", "rate must be 'N minutes', 'N hours' or 'N days'"),
        ("every hour", "not a rate(...) or cron(...) expression"),
    ],
)
def test_invalid_schedules_are_rejected_with_the_reason(expression: str, reason: str) -> None:
    problem = schedule.schedule_problem(expression)
    assert problem is not None
    assert reason in problem, problem


# --- schedules: DataSync's own limits --------------------------------------------------------


@pytest.mark.parametrize(
    "expression",
    [
        "rate(30 minutes)",
        "rate(59 minutes)",
        "rate(1 minute)",
        "cron(* * * * ? *)",
        "cron(0/15 * * * ? *)",
        "cron(0,30 * * * ? *)",
        "cron(0-5 2 * * ? *)",
    ],
)
def test_schedules_more_often_than_hourly_are_rejected(expression: str) -> None:
    problem = schedule.schedule_problem(expression)
    assert problem is not None
    assert "hour" in problem


def test_schedule_longer_than_the_datasync_schema_allows_is_rejected() -> None:
    years = ",".join(str(y) for y in range(2030, 2090))
    problem = schedule.schedule_problem(f"cron(0 2 1 * ? {years})")
    assert problem == "longer than 256 characters"


def test_check_schedule_names_prop_value_and_allowed() -> None:
    v = _v()
    _plan.check_schedule(v, "cron(0 25 * * ? *)")
    message = _messages(v)
    assert "T: schedule='cron(0 25 * * ? *)' is not valid (hour 25 is out of range 0-23)" in (
        message
    )
    assert "hour 0-23" in message
    assert "year 1970-2199" in message


# --- boundary types -------------------------------------------------------------------------


class _Stub:
    """Stands in for ``self``: the decorator raises before the method body runs."""

    class node:  # noqa: N801 - mirrors Construct.node
        path = "T"


def _boundary_error(method: Any, *args: Any, **props: Any) -> HpcValidationError:
    """The error ``errors.check_prop_types`` raises for ``props`` on ``method`` (no App)."""
    with pytest.raises(HpcValidationError) as err:
        method(_Stub(), *args, **props)
    return err.value


def test_string_where_a_list_is_expected_is_one_problem() -> None:
    err = _boundary_error(DataIngest.__init__, None, "Ingest", agent_cidrs="10.0.0.0/24")
    assert len(err.problems) == 1
    assert str(err) == (
        "T: agent_cidrs='10.0.0.0/24' is not valid (got str); allowed: a list of str"
    )


def test_str_where_an_int_is_expected_and_int_where_a_str_is_expected() -> None:
    vif = VirtualInterfaceOptions(
        connection_id=123,  # type: ignore[arg-type]
        vlan="101",  # type: ignore[arg-type]
        customer_asn=65000,
        mtu=True,
        name=None,
    )
    err = _boundary_error(
        DirectConnectLink.__init__,
        None,
        "Dx",
        options=DirectConnectOptions(virtual_interface=vif),
    )
    q = "options.virtual_interface"
    assert [p.prop for p in err.problems] == [f"{q}.connection_id", f"{q}.vlan", f"{q}.mtu"]
    assert f"T: {q}.vlan='101' is not valid (got str); allowed: int" in str(err)
    assert f"T: {q}.connection_id=123 is not valid (got int); allowed: str" in str(err)
    assert f"T: {q}.mtu=True is not valid (got bool); allowed: int" in str(err)


def test_data_ingest_reports_wrong_types_once_each_before_planning() -> None:
    # _Stub has no construct behind it: reaching the body (the plan) would fail otherwise.
    err = _boundary_error(
        DataIngest.__init__,
        None,
        "Ingest",
        agent_cidrs="10.0.0.0/24",
        intelligent_tiering_after_days="30",
        task_report_prefix=5,
    )
    assert sorted(p.prop for p in err.problems) == [
        "agent_cidrs",
        "intelligent_tiering_after_days",
        "task_report_prefix",
    ]


def test_direct_connect_types_are_checked_with_nested_names() -> None:
    options = DirectConnectOptions(
        allowed_prefixes="10.0.0.0/16",  # a str is a Sequence[str] to mypy
        virtual_interface=VirtualInterfaceOptions(
            connection_id=123,  # type: ignore[arg-type]
            vlan="101",  # type: ignore[arg-type]
            customer_asn=65000,
        ),
    )
    err = _boundary_error(DataIngest.__init__, None, "Ingest", direct_connect=options)
    assert [p.prop for p in err.problems] == [
        "direct_connect.allowed_prefixes",
        "direct_connect.virtual_interface.connection_id",
        "direct_connect.virtual_interface.vlan",
    ]
    assert "allowed: a list of str" in str(err)


def test_add_task_wrong_types_are_one_problem_each() -> None:
    err = _boundary_error(
        DataIngest.add_task, "Task", bytes_per_second="100", includes="*.tmp", log_level=1
    )
    assert [p.prop for p in err.problems] == ["bytes_per_second", "includes", "log_level"]
    assert "T/Task: includes='*.tmp' is not valid (got str); allowed: a list of str" in str(err)


def test_source_and_destination_props_are_checked_by_name_in_add_task() -> None:
    source = DataSyncSource.hdfs(
        name_nodes=[HdfsNameNode("nn", "8020")],  # type: ignore[arg-type]
        agent_arns="arn:aws:datasync:us-east-1:123456789012:agent/agent-0123456789abcdef0",
        simple_user=1,  # type: ignore[arg-type]
    )
    destination = DataSyncDestination.landing_bucket(prefix=None, storage_class=3)  # type: ignore[arg-type]
    err = _boundary_error(DataIngest.add_task, "Task", source=source, destination=destination)
    assert [p.prop for p in err.problems] == [
        "source.name_nodes[0].port",
        "source.agent_arns",
        "source.simple_user",
        "destination.prefix",
        "destination.storage_class",
    ]
    assert "T/Task: source.agent_arns='arn:aws:datasync:" in str(err)
    assert "is not valid (got str); allowed: a list of str" in str(err)
    bad_s3 = _S3Source(None, 7)  # type: ignore[arg-type]
    err = _boundary_error(DataIngest.add_task, "Task", source=bad_s3, destination="landing")
    assert [p.prop for p in err.problems] == ["source.prefix", "destination"]
    assert "allowed: DataSyncDestination" in str(err)


def test_the_ingest_package_keeps_no_copy_of_the_boundary_checks() -> None:
    for name in ("check_types", "type_ok", "TypeSpec", "require_concrete", "is_list_token"):
        assert not hasattr(_rules, name), name
    for name in ("ingest_types_ok", "task_types_ok", "direct_connect_types_ok"):
        assert not hasattr(_plan, name), name


# --- plans ------------------------------------------------------------------------------------


def _ingest_props(**overrides: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "landing_bucket": None,
        "bucket_encryption": None,
        "intelligent_tiering_after_days": None,
        "noncurrent_version_expiration_days": None,
        "notify_states": ("SUCCESS", "ERROR"),
        "task_report_prefix": "datasync-reports/",
        "private_endpoint": False,
        "agent_cidrs": (),
        "allow_support_channel": False,
        "direct_connect": None,
        "snowball": False,
    }
    props.update(overrides)
    return props


def test_default_ingest_plan() -> None:
    v = _v()
    plan = _plan.plan_ingest(v, has_vpc=False, props=_ingest_props())
    assert not v.problems
    assert plan == _plan.IngestPlan(
        bucket=_plan.BucketPlan("KMS", 30, 90),
        endpoint=None,
        direct_connect=None,
        snowball=None,
        notify_states=("SUCCESS", "ERROR"),
        task_report_prefix="datasync-reports/",
    )


def test_bucket_plan_is_none_for_a_brought_bucket_and_its_props_are_rejected() -> None:
    v = _v()
    plan = _plan.plan_bucket(
        v,
        bucket_given=True,
        bucket_encryption="KMS",
        intelligent_tiering_after_days=None,
        noncurrent_version_expiration_days=None,
    )
    assert plan is None
    assert "bucket_encryption='KMS' is not valid" in _messages(v)


def test_endpoint_plan_opens_the_support_port_only_when_asked() -> None:
    v = _v()
    plan = _plan.plan_endpoint(
        v,
        private_endpoint=True,
        has_vpc=True,
        agent_cidrs=["10.0.0.0/24"],
        allow_support_channel=True,
    )
    assert plan == _plan.EndpointPlan(("10.0.0.0/24",), ((443, 443), (1024, 1064), (22, 22)))
    assert not v.problems


def test_snowball_plan_fills_placeholders_and_request() -> None:
    plan = _plan.plan_snowball(_v(), SnowballImportOptions(shipping_option="SECOND_DAY"))
    assert plan is not None
    request = _plan.snowball_request(plan, bucket_arn="b", key_arn="k", role_arn="r")
    assert request["ShippingOption"] == "SECOND_DAY"
    assert request["AddressId"].startswith("<AddressId")
    assert request["Resources"] == {"S3Resources": [{"BucketArn": "b"}]}
    assert _plan.plan_snowball(_v(), False) is None


def test_direct_connect_plan_resolves_gateway_asns() -> None:
    v = _v()
    plan = _plan.plan_direct_connect(
        v, DirectConnectOptions(attachment="TRANSIT_GATEWAY"), has_vpc=True
    )
    assert plan is not None
    assert not v.problems
    assert (plan.transit, plan.gateway_asn, plan.direct_connect_gateway_asn) == (
        True,
        64513,
        64512,
    )
    vgw = _plan.plan_direct_connect(_v(), DirectConnectOptions(), has_vpc=True)
    assert vgw is not None
    assert vgw.gateway_asn == 64512
    assert not vgw.transit


def test_direct_connect_rules_on_plain_values() -> None:
    v = _v()
    _plan.check_virtual_interface(
        v, VirtualInterfaceOptions(connection_id="x", vlan=0, customer_asn=1, mtu=9001), True
    )
    props = [p.prop for p in v.problems]
    assert props == [
        "direct_connect.virtual_interface.connection_id",
        "direct_connect.virtual_interface.vlan",
        "direct_connect.virtual_interface.mtu",
    ]


def _task_props(**overrides: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "verify_mode": "ONLY_FILES_TRANSFERRED",
        "overwrite_mode": "ALWAYS",
        "preserve_deleted_files": "PRESERVE",
        "transfer_mode": "CHANGED",
        "bytes_per_second": None,
        "includes": ("/a/*", "/b/*"),
        "excludes": (),
        "task_report": None,
        "log_level": "BASIC",
        "task_mode": "BASIC",
    }
    props.update(overrides)
    return props


def test_task_plan_joins_filters_and_keeps_the_schedule() -> None:
    v = _v()
    plan = _plan.plan_task(v, _plan.TaskEnds("NFS", "S3"), "rate(1 day)", _task_props())
    assert not v.problems
    assert plan is not None
    assert plan.includes == "/a/*|/b/*"
    assert plan.excludes is None
    assert plan.schedule == "rate(1 day)"


def test_task_rules_on_plain_values() -> None:
    v = _v()
    ends = _plan.TaskEnds("HDFS", "EFS", None)
    _plan.check_task_mode(v, "ENHANCED", ends)
    _plan.check_verify_mode(v, "POINT_IN_TIME_CONSISTENT", "ENHANCED", ends)
    _plan.check_transfer_modes(v, "ALWAYS", "REMOVE", "ALL")
    _plan.check_bytes_per_second(v, 0)
    _plan.check_filters(v, "includes", ["a|b"])
    assert [p.prop for p in v.problems] == [
        "task_mode",
        "verify_mode",
        "preserve_deleted_files",
        "bytes_per_second",
        "includes",
    ]
    assert "source is HDFS, destination is EFS" in _messages(v)


# --- tokens -----------------------------------------------------------------------------------


def test_token_where_a_concrete_value_is_needed_says_so() -> None:
    import aws_cdk as cdk

    v = _v()
    _rules.check_s3_prefix(v, "task_report_prefix", cdk.Aws.REGION)
    _plan.check_direct_connect_prefixes(
        v,
        DirectConnectOptions(
            attachment="TRANSIT_GATEWAY", on_premises_cidrs=cdk.Fn.split(",", cdk.Aws.REGION)
        ),
    )
    assert [p.prop for p in v.problems] == [
        "task_report_prefix",
        "direct_connect.on_premises_cidrs",
    ]
    assert _messages(v).count("needs a concrete value at synth time") == 2
