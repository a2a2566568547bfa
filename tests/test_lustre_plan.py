"""LustreScratch rules on plain values (no App, no Stack), boundary errors, and composition."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import jsii
import pytest
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_fsx as fsx
from aws_cdk.assertions import Template

import hpc_constructs as hc
from hpc_constructs.errors import HpcValidationError, Validator
from hpc_constructs.lustre import DataRepositoryEvent, LustreMetadataMode
from hpc_constructs.lustre.plan import (
    LustreRequest,
    RepositoryRequest,
    baseline_throughput,
    check_efa_and_key,
    check_maintenance_and_removal,
    check_repository_set,
    check_tiering,
    plan_backups,
    plan_capacity,
    plan_lustre,
    plan_metadata,
    plan_repositories,
    plan_warnings,
)
from tests.harness import TEST_ENV, make_app

# --- pure rules: plain values in, plain values (or problems) out ----------------------------


def _v() -> Validator:
    return Validator("Plan")


def _props(v: Validator) -> set[str]:
    return {p.prop for p in v.problems}


@pytest.mark.parametrize(
    ("request_", "capacity"),
    [
        (LustreRequest(), 1200),
        (LustreRequest(target_throughput_mbps=1000), 7200),
        (LustreRequest(storage_capacity_gib=4800), 4800),
        (
            LustreRequest(
                deployment_type="PERSISTENT_2",
                per_unit_storage_throughput=1000,
                target_throughput_mbps=1300,
            ),
            2400,
        ),
        (
            LustreRequest(
                deployment_type="PERSISTENT_2",
                storage_type="INTELLIGENT_TIERING",
                throughput_capacity_mbps=4000,
            ),
            None,
        ),
    ],
)
def test_capacity_rule(request_: LustreRequest, capacity: int | None) -> None:
    v = _v()
    assert plan_capacity(v, request_) == capacity
    assert v.problems == []


def test_capacity_rule_rejects_both_capacity_and_target() -> None:
    v = _v()
    plan_capacity(v, LustreRequest(storage_capacity_gib=2400, target_throughput_mbps=10))
    assert _props(v) == {"target_throughput_mbps"}


def test_tiering_rule_needs_throughput_capacity_and_only_on_tiering() -> None:
    v = _v()
    check_tiering(v, LustreRequest(storage_type="INTELLIGENT_TIERING"))
    assert _props(v) == {"throughput_capacity_mbps"}
    v = _v()
    check_tiering(v, LustreRequest(read_cache=hc.LustreReadCache.no_cache()))
    assert _props(v) == {"read_cache"}


def test_metadata_rule_defaults_and_normalizes_enum_modes() -> None:
    v = _v()
    assert plan_metadata(v, LustreRequest(deployment_type="PERSISTENT_2")) == (
        hc.LustreMetadataConfiguration.automatic()
    )
    tiering = LustreRequest(deployment_type="PERSISTENT_2", storage_type="INTELLIGENT_TIERING")
    assert plan_metadata(v, tiering) == hc.LustreMetadataConfiguration.user_provisioned(6000)
    given = hc.LustreMetadataConfiguration(LustreMetadataMode.USER_PROVISIONED, 3000)
    got = plan_metadata(
        v, LustreRequest(deployment_type="PERSISTENT_2", metadata_configuration=given)
    )
    assert got is not None
    assert type(got.mode) is str
    assert got.mode == "USER_PROVISIONED"
    assert v.problems == []
    assert plan_metadata(v, LustreRequest()) is None


def test_backup_rule_defaults_to_7_days_only_for_unlinked_persistent() -> None:
    v = _v()
    assert plan_backups(v, LustreRequest(deployment_type="PERSISTENT_1")) == 7
    linked = LustreRequest(
        deployment_type="PERSISTENT_1", repositories=(RepositoryRequest("B", "/a"),)
    )
    assert plan_backups(v, linked) is None
    assert plan_backups(v, LustreRequest()) is None
    assert v.problems == []


def test_efa_key_maintenance_removal_and_subnet_rules() -> None:
    v = _v()
    check_efa_and_key(v, LustreRequest(efa_enabled=True, kms_key_path="Stack/Key"))
    removal = check_maintenance_and_removal(
        v,
        LustreRequest(
            weekly_maintenance_start_time="0:00:00", removal_policy="SNAPSHOT", subnet_count=2
        ),
    )
    assert removal == "SNAPSHOT"
    assert _props(v) == {
        "efa_enabled",
        "kms_key",
        "weekly_maintenance_start_time",
        "removal_policy",
        "vpc_subnets",
    }
    assert check_maintenance_and_removal(_v(), LustreRequest()) == "RETAIN"


def test_repository_rules_and_ids() -> None:
    repos = (
        RepositoryRequest("Stack/A", "/data"),
        RepositoryRequest("Stack/B", "/data/x"),
        RepositoryRequest("Stack/A", "/other", prefix="/"),
    )
    v = _v()
    check_repository_set(v, LustreRequest(repositories=repos))
    assert _props(v) == {"data_repositories[1].file_system_path", "data_repositories[2].prefix"}
    planned = plan_repositories(
        (
            RepositoryRequest("A", "/a-b"),
            RepositoryRequest("B", "/a_b"),
            RepositoryRequest("C", "/"),
        )
    )
    assert [p.construct_id for p in planned] == [
        "DataRepositoryAB",
        "DataRepositoryABX",
        "DataRepositoryRoot",
    ]


def test_baseline_and_warning_rules() -> None:
    assert baseline_throughput("SCRATCH_2", 1200, None, None) == 240
    assert baseline_throughput("PERSISTENT_2", 2400, 1000, None) == 2400
    assert baseline_throughput("PERSISTENT_2", None, None, 8000) == 8000
    assert [w for w, _ in plan_warnings("SCRATCH_2", (), None)] == ["scratchWithoutExport"]
    exporting = (RepositoryRequest("B", "/a"),)
    assert plan_warnings("SCRATCH_2", exporting, None) == ()
    assert [w for w, _ in plan_warnings("PERSISTENT_1", (), 0)] == ["persistentWithoutBackup"]


def test_plan_is_frozen_plain_values() -> None:
    plan = plan_lustre("Plan", LustreRequest(target_throughput_mbps=1000))
    assert (plan.storage_capacity_gib, plan.throughput_mbps, plan.removal_policy) == (
        7200,
        1440,
        "RETAIN",
    )
    with pytest.raises(AttributeError):
        plan.storage_capacity_gib = 1  # type: ignore[misc]


def test_fails_plan_reports_every_rule_together() -> None:
    with pytest.raises(HpcValidationError) as err:
        plan_lustre("Plan", LustreRequest(storage_capacity_gib=1000, efa_enabled=True))
    assert {p.prop for p in err.value.problems} == {"storage_capacity_gib", "efa_enabled"}


# --- the construct's boundary: Python types, tokens, strings for enums ---------------------


def _stack() -> tuple[cdk.Stack, ec2.Vpc, ec2.SubnetSelection]:
    stack = cdk.Stack(make_app(), "Lustre", env=TEST_ENV)
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, restrict_default_security_group=False)
    return stack, vpc, ec2.SubnetSelection(subnets=[vpc.private_subnets[0]])


def _build(**props: Any) -> hc.LustreScratch:
    stack, vpc, subnets = _stack()
    return hc.LustreScratch(stack, "Fs", vpc=vpc, vpc_subnets=subnets, **props)


def _problems(**props: Any) -> HpcValidationError:
    with pytest.raises(HpcValidationError) as err:
        _build(**props)
    return err.value


P2 = {"deployment_type": "PERSISTENT_2", "per_unit_storage_throughput": 125}


@pytest.mark.parametrize(
    ("props", "prop", "allowed"),
    [
        ({"storage_capacity_gib": "1200"}, "storage_capacity_gib", "(got str); allowed: int"),
        ({"target_throughput_mbps": "100"}, "target_throughput_mbps", "(got str); allowed: float"),
        (
            {"deployment_type": "PERSISTENT_2", "per_unit_storage_throughput": "125"},
            "per_unit_storage_throughput",
            "(got str); allowed: int",
        ),
        ({**P2, "automatic_backup_retention": "7"}, "automatic_backup_retention", "allowed: int"),
        (
            {**P2, "daily_automatic_backup_start_time": 3},
            "daily_automatic_backup_start_time",
            "(got int); allowed: str",
        ),
        ({"efa_enabled": "yes"}, "efa_enabled", "(got str); allowed: bool"),
        ({"storage_capacity_gib": 1200.0}, "storage_capacity_gib", "(got float); allowed: int"),
        (
            {"deployment_type": "SCRATCH_3"},
            "deployment_type",
            "allowed: fsx.LustreDeploymentType or one of 'SCRATCH_1', 'SCRATCH_2'",
        ),
    ],
)
def test_fails_wrong_python_type_is_one_problem_naming_the_prop(
    props: dict[str, Any], prop: str, allowed: str
) -> None:
    err = _problems(**props)
    assert [p.prop for p in err.problems] == [prop]
    assert allowed in str(err)
    assert "Lustre/Fs" in str(err)


def test_fails_str_where_a_list_of_str_is_expected() -> None:
    stack, vpc, subnets = _stack()
    bucket = cdk.aws_s3.Bucket(stack, "Bucket")
    with pytest.raises(HpcValidationError) as err:
        hc.LustreScratch(
            stack,
            "Fs",
            vpc=vpc,
            vpc_subnets=subnets,
            data_repositories=[
                hc.DataRepository(bucket=bucket, file_system_path="/a", import_events="NEW")  # type: ignore[arg-type]
            ],
        )
    assert [p.prop for p in err.value.problems] == ["data_repositories[0].import_events"]
    assert "import_events='NEW' is not valid (got str); allowed: a list of" in str(err.value)
    with pytest.raises(HpcValidationError, match=r"data_repositories=.*a list of DataRepository"):
        hc.LustreScratch(
            stack,
            "Fs2",
            vpc=vpc,
            vpc_subnets=subnets,
            data_repositories=hc.DataRepository(bucket=bucket, file_system_path="/a"),  # type: ignore[arg-type]
        )
    with pytest.raises(HpcValidationError) as err:
        hc.LustreScratch(
            stack,
            "Fs3",
            vpc=vpc,
            vpc_subnets=subnets,
            data_repositories=[bucket],  # type: ignore[list-item]
        )
    assert [p.prop for p in err.value.problems] == ["data_repositories"]
    assert "allowed: a list of DataRepository" in str(err.value)


def test_fails_token_where_a_concrete_value_is_needed() -> None:
    stack, vpc, subnets = _stack()
    target = cdk.CfnParameter(stack, "Target", type="Number").value_as_number
    with pytest.raises(HpcValidationError) as err:
        hc.LustreScratch(stack, "Fs", vpc=vpc, vpc_subnets=subnets, target_throughput_mbps=target)
    assert [p.prop for p in err.value.problems] == ["target_throughput_mbps"]
    assert "needs a concrete value at synth time" in str(err.value)
    assert "target_throughput_mbps='<unresolved token>'" in str(err.value)


def test_tokens_are_passed_through_where_cloudformation_takes_them() -> None:
    stack, vpc, subnets = _stack()
    number = cdk.CfnParameter(stack, "Number", type="Number").value_as_number
    text = cdk.CfnParameter(stack, "Text").value_as_string
    fs = hc.LustreScratch(
        stack,
        "Fs",
        vpc=vpc,
        vpc_subnets=subnets,
        deployment_type="PERSISTENT_2",
        storage_capacity_gib=number,  # type: ignore[arg-type]
        per_unit_storage_throughput=number,  # type: ignore[arg-type]
        daily_automatic_backup_start_time=text,
        weekly_maintenance_start_time=text,
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    props = Template.from_stack(stack).find_resources("AWS::FSx::FileSystem")
    (resource,) = props.values()
    config = resource["Properties"]["LustreConfiguration"]
    assert resource["Properties"]["StorageCapacity"] == {"Ref": "Number"}
    assert config["PerUnitStorageThroughput"] == {"Ref": "Number"}
    assert config["DailyAutomaticBackupStartTime"] == {"Ref": "Text"}
    assert config["WeeklyMaintenanceStartTime"] == {"Ref": "Text"}
    assert fs.throughput_mbps is None


def test_enum_props_accept_their_strings() -> None:
    stack, vpc, subnets = _stack()
    bucket = cdk.aws_s3.Bucket(stack, "Bucket")
    fs = hc.LustreScratch(
        stack,
        "Fs",
        vpc=vpc,
        vpc_subnets=subnets,
        deployment_type="PERSISTENT_1",
        storage_type="HDD",
        drive_cache_type="READ",
        per_unit_storage_throughput=12,
        storage_capacity_gib=6000,
        data_compression="NONE",
        file_system_type_version="2.12",
        data_repositories=[
            hc.DataRepository(
                bucket=bucket,
                file_system_path="/a",
                import_events=[DataRepositoryEvent.NEW, "CHANGED"],
                export_events=[DataRepositoryEvent.NEW],
            )
        ],
    )
    assert fs.deployment_type == fsx.LustreDeploymentType.PERSISTENT_1
    assert fs.storage_type == fsx.StorageType.HDD
    template = Template.from_stack(stack)
    (resource,) = template.find_resources("AWS::FSx::FileSystem").values()
    assert resource["Properties"]["FileSystemTypeVersion"] == "2.12"
    assert resource["Properties"]["LustreConfiguration"]["DataCompressionType"] == "NONE"
    assert resource["Properties"]["LustreConfiguration"]["DriveCacheType"] == "READ"
    (dra,) = template.find_resources("AWS::FSx::DataRepositoryAssociation").values()
    assert dra["Properties"]["S3"] == {
        "AutoImportPolicy": {"Events": ["NEW", "CHANGED"]},
        "AutoExportPolicy": {"Events": ["NEW"]},
    }


# --- composition: any IConnectable, both directions, imported file systems -------------------


@jsii.implements(ec2.IConnectable)
class _Peer:
    def __init__(self, group: ec2.ISecurityGroup) -> None:
        self._connections = ec2.Connections(security_groups=[group])

    @property
    def connections(self) -> ec2.Connections:
        return self._connections


def _rules(template: Template, kind: str, group: Any) -> set[tuple[int, int, str]]:
    """(from, to, peer logical id or literal id) of separate rules on ``group``."""
    stack = cdk.Stack.of(group)
    group_ref = group.security_group_id
    gid = stack.resolve(group_ref)
    peer_key = "SourceSecurityGroupId" if kind == "Ingress" else "DestinationSecurityGroupId"
    found = set()
    for res in template.find_resources(f"AWS::EC2::SecurityGroup{kind}").values():
        props = res["Properties"]
        if props["GroupId"] != gid:
            continue
        peer = props.get(peer_key)
        shown = peer["Fn::GetAtt"][0] if isinstance(peer, dict) else str(peer)
        found.add((props["FromPort"], props["ToPort"], shown))
    return found


def _logical(group: ec2.ISecurityGroup) -> str:
    return str(cdk.Stack.of(group).get_logical_id(group.node.default_child))  # type: ignore[arg-type]


def test_allow_clients_accepts_any_connectable_and_opens_exact_ports_both_ways() -> None:
    stack, vpc, subnets = _stack()
    image = ec2.MachineImage.latest_amazon_linux2023()
    kind = ec2.InstanceType("c6i.large")
    group = autoscaling.AutoScalingGroup(
        stack, "Asg", vpc=vpc, instance_type=kind, machine_image=image
    )
    instance = ec2.Instance(stack, "Instance", vpc=vpc, instance_type=kind, machine_image=image)
    custom = _Peer(ec2.SecurityGroup(stack, "Custom", vpc=vpc))
    fs = hc.LustreScratch(stack, "Fs", vpc=vpc, vpc_subnets=subnets)
    fs.allow_clients(group)
    fs.allow_clients(instance)
    fs.allow_clients(custom)
    # the file system itself is an IConnectable for aws-cdk-lib code too
    other = ec2.SecurityGroup(stack, "Other", vpc=vpc)
    other.connections.allow_from(fs, ec2.Port.tcp(988))
    template = Template.from_stack(stack)
    peers = {
        _logical(group.connections.security_groups[0]),
        _logical(instance.connections.security_groups[0]),
        _logical(custom.connections.security_groups[0]),
    }
    me = _logical(fs.security_group)
    want_on_fs = {(988, 988, me), (1018, 1023, me)} | {
        (lo, hi, p) for p in peers for lo, hi in ((988, 988), (1018, 1023))
    }
    assert _rules(template, "Ingress", fs.security_group) == want_on_fs
    for client in (group, instance, custom):
        assert _rules(template, "Ingress", client.connections.security_groups[0]) == {
            (988, 988, me),
            (1018, 1023, me),
        }
    assert _rules(template, "Ingress", other) == {(988, 988, me)}


def test_connections_default_port_from_asg_opens_exact_ports() -> None:
    stack, vpc, subnets = _stack()
    group = autoscaling.AutoScalingGroup(
        stack,
        "Asg",
        vpc=vpc,
        instance_type=ec2.InstanceType("c6i.large"),
        machine_image=ec2.MachineImage.latest_amazon_linux2023(),
    )
    fs = hc.LustreScratch(stack, "Fs", vpc=vpc, vpc_subnets=subnets)
    fs.connections.allow_default_port_from(group)
    assert fs.connections.default_port is not None
    assert fs.connections.default_port.to_string() == "988"
    asg_id = _logical(group.connections.security_groups[0])
    rules = _rules(Template.from_stack(stack), "Ingress", fs.security_group)
    assert {r for r in rules if r[2] == asg_id} == {(988, 988, asg_id), (1018, 1023, asg_id)}


def test_from_attributes_composes_like_a_created_file_system() -> None:
    stack, vpc, _ = _stack()
    group = ec2.SecurityGroup.from_security_group_id(stack, "FsGroup", "sg-0123456789abcdef0")
    imported = hc.LustreScratch.from_attributes(
        stack,
        "Imported",
        file_system_id="fs-0123456789abcdef0",
        dns_name="fs-0123456789abcdef0.fsx.us-east-2.amazonaws.com",
        mount_name="abcdefgh",
        security_group=group,
    )
    instance = ec2.Instance(
        stack,
        "Instance",
        vpc=vpc,
        instance_type=ec2.InstanceType("c6i.large"),
        machine_image=ec2.MachineImage.latest_amazon_linux2023(),
    )
    imported.allow_clients(instance)
    instance.connections.allow_from(imported, ec2.Port.tcp(22))  # IConnectable for jsii
    template = Template.from_stack(stack)
    client = instance.connections.security_groups[0]
    assert _rules(template, "Ingress", group) == {
        (988, 988, _logical(client)),
        (1018, 1023, _logical(client)),
    }
    assert _rules(template, "Ingress", client) == {
        (988, 988, "sg-0123456789abcdef0"),
        (1018, 1023, "sg-0123456789abcdef0"),
        (22, 22, "sg-0123456789abcdef0"),
    }
    assert imported.connections.default_port is not None
    assert imported.connections.default_port.to_string() == "988"
