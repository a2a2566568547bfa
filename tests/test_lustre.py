"""LustreScratch: FSx for Lustre limits, S3 links, security group rules and compliance."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_fsx as fsx
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

import hpc_constructs as hc
from hpc_constructs import limits
from hpc_constructs.errors import HpcValidationError
from hpc_constructs.mounts import LustreFileSystemLike
from tests.harness import (
    TEST_ENV,
    Synthesized,
    assert_cfn_lint_clean,
    assert_nag_clean,
    make_app,
    synthesize,
    warning_ids,
)

D = fsx.LustreDeploymentType
ST = fsx.StorageType


def network(stack: cdk.Stack) -> tuple[ec2.Vpc, ec2.SubnetSelection]:
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        max_azs=2,
        nat_gateways=1,
        flow_logs={"All": ec2.FlowLogOptions()},
        # The default-SG custom resource trips cfn-lint W3005 inside aws-cdk-lib's own code.
        restrict_default_security_group=False,
    )
    return vpc, ec2.SubnetSelection(subnets=[vpc.private_subnets[0]])


def data_bucket(stack: cdk.Stack, id: str, key: kms.IKey | None = None) -> s3.Bucket:
    logs = s3.Bucket(
        stack,
        f"{id}Logs",
        enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        encryption=s3.BucketEncryption.S3_MANAGED,
    )
    cdk.Validations.of(logs).acknowledge(
        cdk.Acknowledgment(
            id="AwsSolutions-S1", reason="This is the access-log bucket of the test data bucket"
        )
    )
    return s3.Bucket(
        stack,
        id,
        enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        encryption=s3.BucketEncryption.KMS if key else s3.BucketEncryption.S3_MANAGED,
        encryption_key=key,
        server_access_logs_bucket=logs,
    )


def new_stack(name: str = "Lustre") -> tuple[cdk.Stack, ec2.Vpc, ec2.SubnetSelection]:
    stack = cdk.Stack(make_app(), name, env=TEST_ENV)
    vpc, subnets = network(stack)
    return stack, vpc, subnets


def build(**props: Any) -> hc.LustreScratch:
    stack, vpc, subnets = new_stack()
    return hc.LustreScratch(stack, "Fs", vpc=vpc, vpc_subnets=subnets, **props)


def problems_of(**props: Any) -> str:
    with pytest.raises(HpcValidationError) as err:
        build(**props)
    return str(err.value)


# --- one synthesized app: scratch, persistent, S3-linked (KMS bucket), EFA ----------------------


@pytest.fixture(scope="module")
def scenario() -> dict[str, Any]:
    app = make_app()
    stack = cdk.Stack(app, "Lustre", env=TEST_ENV)
    vpc, subnets = network(stack)
    clients = ec2.SecurityGroup(stack, "Clients", vpc=vpc, description="Lustre clients")
    scratch = hc.LustreScratch(stack, "Scratch", vpc=vpc, vpc_subnets=subnets)
    scratch.connections.allow_default_port_from(clients)
    persistent = hc.LustreScratch(
        stack,
        "Persistent",
        vpc=vpc,
        vpc_subnets=subnets,
        deployment_type=D.PERSISTENT_1,
        per_unit_storage_throughput=200,
        storage_capacity_gib=4800,
        daily_automatic_backup_start_time="03:00",
        weekly_maintenance_start_time="7:02:00",
    )
    key = kms.Key(stack, "DataKey", enable_key_rotation=True)
    results = data_bucket(stack, "Results", key)
    inputs = data_bucket(stack, "Inputs")
    linked = hc.LustreScratch(
        stack,
        "Linked",
        vpc=vpc,
        vpc_subnets=subnets,
        target_throughput_mbps=1000,
        data_repositories=[
            hc.DataRepository(bucket=inputs, file_system_path="/inputs", export_events=()),
            hc.DataRepository(
                bucket=results,
                file_system_path="/results",
                prefix="run-1",
                imported_file_chunk_size_mib=2048,
            ),
        ],
    )
    linked.allow_clients(clients)
    efa = hc.LustreScratch(
        stack,
        "Efa",
        vpc=vpc,
        vpc_subnets=subnets,
        deployment_type=D.PERSISTENT_2,
        per_unit_storage_throughput=1000,
        storage_capacity_gib=2400,
        metadata_configuration=hc.LustreMetadataConfiguration.user_provisioned(3000),
        efa_enabled=True,
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    cdk.Validations.of(efa).acknowledge(
        cdk.Acknowledgment(id="HPC-STOR1", reason="Test app: deleted with its stack on purpose")
    )
    # Every valid size of every deployment type constructs (synthesizing one is enough).
    valid = [(D.SCRATCH_1, ST.SSD, None, c) for c in (1200, 2400, 3600, 7200, 10800)] + [
        (D.SCRATCH_2, ST.SSD, None, c) for c in (1200, 2400, 4800, 9600)
    ]
    valid += [(D.PERSISTENT_1, ST.SSD, p, c) for p in (50, 100, 200) for c in (1200, 2400, 4800)]
    valid += [(D.PERSISTENT_1, ST.HDD, 12, c) for c in (6000, 12000)]
    valid += [(D.PERSISTENT_1, ST.HDD, 40, c) for c in (1800, 3600, 5400)]
    valid += [
        (D.PERSISTENT_2, ST.SSD, p, c) for p in (125, 250, 500, 1000) for c in (1200, 2400, 7200)
    ]
    sizes = cdk.Stack(app, "Sizes", env=TEST_ENV)
    size_vpc, size_subnets = network(sizes)
    for i, (deployment, storage, per_unit, capacity) in enumerate(valid):
        hc.LustreScratch(
            sizes,
            f"Fs{i}",
            vpc=size_vpc,
            vpc_subnets=size_subnets,
            deployment_type=deployment,
            storage_type=storage,
            per_unit_storage_throughput=per_unit,
            storage_capacity_gib=capacity,
        )
    # The scenario's scratch file systems have no S3 export on purpose (test_warnings checks
    # the warning on its own construct).
    for fs in [scratch, *sizes.node.children]:
        if isinstance(fs, hc.LustreScratch) and fs.deployment_type.name.startswith("SCRATCH"):
            cdk.Annotations.of(fs).acknowledge_warning(
                "hpc-constructs:scratchWithoutExport", "test scenario: no S3 link on purpose"
            )
    tiering = hc.LustreScratch(
        stack,
        "Tiering",
        vpc=vpc,
        vpc_subnets=subnets,
        deployment_type=D.PERSISTENT_2,
        storage_type=ST.INTELLIGENT_TIERING,
        throughput_capacity_mbps=8000,
        efa_enabled=True,
        automatic_backup_retention=0,
    )
    cdk.Annotations.of(tiering).acknowledge_warning(
        "hpc-constructs:persistentWithoutBackup", "test scenario: backups off on purpose"
    )
    return {
        "synth": synthesize(app),
        "stack": stack,
        "sizes": sizes,
        "scratch": scratch,
        "persistent": persistent,
        "linked": linked,
        "efa": efa,
        "tiering": tiering,
        "clients": clients,
        "valid": valid,
    }


@pytest.fixture(scope="module")
def synth(scenario: dict[str, Any]) -> Synthesized:
    result: Synthesized = scenario["synth"]
    return result


def resources(synth: Synthesized, type_: str, stack: str = "Lustre") -> dict[str, Any]:
    template = synth.template_dict(stack)
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


def logical_id(construct: Any) -> str:
    return str(cdk.Stack.of(construct).get_logical_id(construct))


def test_cfn_lint_clean(synth: Synthesized) -> None:
    assert_cfn_lint_clean(synth.template_dict("Lustre"))


def test_cfn_lint_clean_for_every_valid_size(synth: Synthesized) -> None:
    assert_cfn_lint_clean(synth.template_dict("Sizes"))


def test_nag_clean(synth: Synthesized) -> None:
    assert_nag_clean(synth)


def test_every_valid_size_synthesizes_with_its_capacity(
    synth: Synthesized, scenario: dict[str, Any]
) -> None:
    file_systems = resources(synth, "AWS::FSx::FileSystem", "Sizes")
    got = sorted(
        (
            fs["Properties"]["LustreConfiguration"]["DeploymentType"],
            fs["Properties"].get("StorageType", "SSD"),
            fs["Properties"]["LustreConfiguration"].get("PerUnitStorageThroughput"),
            fs["Properties"]["StorageCapacity"],
        )
        for fs in file_systems.values()
    )
    want = sorted((d.value, s.value, p, c) for d, s, p, c in scenario["valid"])
    assert got == want


def test_scratch_defaults(synth: Synthesized, scenario: dict[str, Any]) -> None:
    scratch: hc.LustreScratch = scenario["scratch"]
    fs = synth.template_dict("Lustre")["Resources"][logical_id(scratch.cfn_file_system)]
    assert fs["Properties"]["StorageCapacity"] == 1200
    assert fs["Properties"]["FileSystemTypeVersion"] == "2.15"
    config = fs["Properties"]["LustreConfiguration"]
    assert config["DeploymentType"] == "SCRATCH_2"
    assert config["DataCompressionType"] == "LZ4"
    assert "AutomaticBackupRetentionDays" not in config
    assert fs["DeletionPolicy"] == "Retain"
    assert fs["UpdateReplacePolicy"] == "Retain"
    assert scratch.storage_capacity_gib == 1200
    assert scratch.throughput_mbps == 240
    assert scratch.deployment_type == D.SCRATCH_2


def test_persistent_defaults_retain_and_back_up(
    synth: Synthesized, scenario: dict[str, Any]
) -> None:
    persistent: hc.LustreScratch = scenario["persistent"]
    fs = synth.template_dict("Lustre")["Resources"][logical_id(persistent.cfn_file_system)]
    config = fs["Properties"]["LustreConfiguration"]
    assert config["AutomaticBackupRetentionDays"] == 7
    assert config["DailyAutomaticBackupStartTime"] == "03:00"
    assert config["WeeklyMaintenanceStartTime"] == "7:02:00"
    assert config["PerUnitStorageThroughput"] == 200
    assert fs["DeletionPolicy"] == "Retain"
    assert persistent.throughput_mbps == 960


def test_efa_file_system_has_metadata_config_efa_and_destroy(
    synth: Synthesized, scenario: dict[str, Any]
) -> None:
    efa: hc.LustreScratch = scenario["efa"]
    fs = synth.template_dict("Lustre")["Resources"][logical_id(efa.cfn_file_system)]
    config = fs["Properties"]["LustreConfiguration"]
    assert config["EfaEnabled"] is True
    assert config["MetadataConfiguration"] == {"Mode": "USER_PROVISIONED", "Iops": 3000}
    assert fs["DeletionPolicy"] == "Delete"


def _ingress_of(synth: Synthesized, group: ec2.ISecurityGroup) -> set[tuple[Any, ...]]:
    """(protocol, from, to, source group logical id or cidr) for every ingress rule of a group."""
    template = synth.template_dict("Lustre")
    group_id = logical_id(group.node.default_child)
    rules: set[tuple[Any, ...]] = set()
    for res in template["Resources"].values():
        if res["Type"] != "AWS::EC2::SecurityGroupIngress":
            continue
        props = res["Properties"]
        if props["GroupId"] != {"Fn::GetAtt": [group_id, "GroupId"]}:
            continue
        source = props.get("SourceSecurityGroupId", {}).get("Fn::GetAtt", [props.get("CidrIp")])[0]
        rules.add((props["IpProtocol"], props.get("FromPort"), props.get("ToPort"), source))
    inline = template["Resources"][group_id]["Properties"].get("SecurityGroupIngress", [])
    for rule in inline:
        rules.add(
            (rule["IpProtocol"], rule.get("FromPort"), rule.get("ToPort"), rule.get("CidrIp"))
        )
    return rules


def test_security_group_allows_exactly_988_and_1018_1023(
    synth: Synthesized, scenario: dict[str, Any]
) -> None:
    scratch: hc.LustreScratch = scenario["scratch"]
    me = logical_id(scratch.security_group.node.default_child)
    clients = logical_id(scenario["clients"].node.default_child)
    assert _ingress_of(synth, scratch.security_group) == {
        ("tcp", 988, 988, me),
        ("tcp", 1018, 1023, me),
        ("tcp", 988, 988, clients),
        ("tcp", 1018, 1023, clients),
    }


def test_allow_clients_opens_the_same_exact_ports(
    synth: Synthesized, scenario: dict[str, Any]
) -> None:
    linked: hc.LustreScratch = scenario["linked"]
    clients = logical_id(scenario["clients"].node.default_child)
    rules = _ingress_of(synth, linked.security_group)
    assert {r for r in rules if r[3] == clients} == {
        ("tcp", 988, 988, clients),
        ("tcp", 1018, 1023, clients),
    }


def test_efa_security_group_allows_all_traffic_from_itself(
    synth: Synthesized, scenario: dict[str, Any]
) -> None:
    efa: hc.LustreScratch = scenario["efa"]
    me = logical_id(efa.security_group.node.default_child)
    assert _ingress_of(synth, efa.security_group) == {
        ("tcp", 988, 988, me),
        ("tcp", 1018, 1023, me),
        ("-1", None, None, me),
    }
    group = synth.template_dict("Lustre")["Resources"][me]["Properties"]
    # allow-all egress already covers "all traffic to itself"
    assert [(r["CidrIp"], r["IpProtocol"]) for r in group["SecurityGroupEgress"]] == [
        ("0.0.0.0/0", "-1")
    ]


def test_file_system_depends_on_its_ingress_rules(
    synth: Synthesized, scenario: dict[str, Any]
) -> None:
    template = synth.template_dict("Lustre")
    for name in ("scratch", "linked", "efa"):
        fs: hc.LustreScratch = scenario[name]
        group_id = logical_id(fs.security_group.node.default_child)
        rule_ids = {
            k
            for k, v in template["Resources"].items()
            if v["Type"] == "AWS::EC2::SecurityGroupIngress"
            and v["Properties"]["GroupId"] == {"Fn::GetAtt": [group_id, "GroupId"]}
        }
        depends = set(template["Resources"][logical_id(fs.cfn_file_system)].get("DependsOn", []))
        assert rule_ids, name
        assert rule_ids <= depends, name


def test_data_repository_associations(synth: Synthesized, scenario: dict[str, Any]) -> None:
    linked: hc.LustreScratch = scenario["linked"]
    dras = resources(synth, "AWS::FSx::DataRepositoryAssociation")
    assert len(dras) == 2 == len(linked.data_repository_associations)
    by_path = {d["Properties"]["FileSystemPath"]: d["Properties"] for d in dras.values()}
    inputs, results = by_path["/inputs"], by_path["/results"]
    assert inputs["S3"] == {"AutoImportPolicy": {"Events": ["NEW", "CHANGED", "DELETED"]}}
    assert results["S3"]["AutoExportPolicy"] == {"Events": ["NEW", "CHANGED", "DELETED"]}
    assert results["ImportedFileChunkSize"] == 2048
    assert results["BatchImportMetaDataOnCreate"] is True
    assert results["DataRepositoryPath"]["Fn::Join"][1][-1] == "/run-1/"
    fs = synth.template_dict("Lustre")["Resources"][logical_id(linked.cfn_file_system)]
    assert "AutomaticBackupRetentionDays" not in fs["Properties"]["LustreConfiguration"]


def test_kms_bucket_key_lets_fsx_s3_role_use_it_via_s3(synth: Synthesized) -> None:
    keys = resources(synth, "AWS::KMS::Key")
    (key,) = keys.values()
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    grant = next(s for s in statements if s.get("Sid") == "AllowFsxLustreDataRepositoryViaS3")
    assert grant["Condition"]["StringEquals"]["kms:ViaService"] == "s3.us-east-2.amazonaws.com"
    role = grant["Condition"]["ArnLike"]["aws:PrincipalArn"]
    assert "AWSServiceRoleForFSxS3Access_*" in str(role)


def test_target_throughput_sizes_capacity(scenario: dict[str, Any]) -> None:
    linked: hc.LustreScratch = scenario["linked"]
    assert linked.storage_capacity_gib == 7200  # 1000 MB/s at 200 MB/s/TiB -> 5000 -> 7200
    assert linked.throughput_mbps == 1440


def test_satisfies_lustre_file_system_like(scenario: dict[str, Any]) -> None:
    scratch: hc.LustreScratch = scenario["scratch"]
    assert isinstance(scratch, LustreFileSystemLike)
    assert scratch.connections.default_port is not None
    assert scratch.connections.default_port.to_string() == "988"
    assert any("mount" in line for line in scratch.mount_commands("/fsx"))


def test_intelligent_tiering_omits_capacity_and_sets_throughput_and_cache(
    synth: Synthesized, scenario: dict[str, Any]
) -> None:
    tiering: hc.LustreScratch = scenario["tiering"]
    assert tiering.storage_capacity_gib is None
    assert tiering.throughput_mbps == 8000
    fs = synth.template_dict("Lustre")["Resources"][logical_id(tiering.cfn_file_system)]
    props = fs["Properties"]
    assert "StorageCapacity" not in props
    assert props["StorageType"] == "INTELLIGENT_TIERING"
    config = props["LustreConfiguration"]
    assert config["ThroughputCapacity"] == 8000
    assert config["DataReadCacheConfiguration"] == {
        "SizingMode": "PROPORTIONAL_TO_THROUGHPUT_CAPACITY"
    }
    assert config["MetadataConfiguration"] == {"Mode": "USER_PROVISIONED", "Iops": 6000}
    assert config["EfaEnabled"] is True


def test_warns_when_scratch_has_no_export() -> None:
    assert "hpc-constructs:scratchWithoutExport" in warning_ids(build())


def test_no_scratch_warning_when_a_repository_exports() -> None:
    stack, vpc, subnets = new_stack()
    bucket = s3.Bucket(stack, "Bucket")
    fs = hc.LustreScratch(
        stack,
        "Fs",
        vpc=vpc,
        vpc_subnets=subnets,
        data_repositories=[hc.DataRepository(bucket=bucket, file_system_path="/out")],
    )
    assert warning_ids(fs) == set()


def test_warns_when_persistent_has_no_backup() -> None:
    fs = build(**P1, automatic_backup_retention=0)
    assert warning_ids(fs) == {"hpc-constructs:persistentWithoutBackup"}
    assert warning_ids(build(**P1)) == set()


# --- sizing helper --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "deployment", "per_unit", "storage", "expected"),
    [
        (1, D.SCRATCH_2, None, ST.SSD, 1200),
        (240, D.SCRATCH_2, None, ST.SSD, 1200),
        (241, D.SCRATCH_2, None, ST.SSD, 2400),
        (500, D.SCRATCH_2, None, ST.SSD, 4800),
        (500, D.SCRATCH_1, None, ST.SSD, 3600),
        (800, D.SCRATCH_1, None, ST.SSD, 7200),
        (1000, D.PERSISTENT_2, 1000, ST.SSD, 1200),
        (1300, D.PERSISTENT_2, 1000, ST.SSD, 2400),
        (2500, D.PERSISTENT_2, 1000, ST.SSD, 4800),
        (100, D.PERSISTENT_1, 50, ST.SSD, 2400),
        (72, D.PERSISTENT_1, 12, ST.HDD, 6000),
        (73, D.PERSISTENT_1, 12, ST.HDD, 12000),
        (73, D.PERSISTENT_1, 40, ST.HDD, 3600),
    ],
)
def test_capacity_for_throughput_is_smallest_valid_capacity(
    target: int,
    deployment: fsx.LustreDeploymentType,
    per_unit: int | None,
    storage: fsx.StorageType,
    expected: int,
) -> None:
    got = hc.LustreScratch.capacity_for_throughput(target, deployment, per_unit, storage)
    assert got == expected
    per_tib = per_unit or 200
    assert limits.lustre_throughput_mbps(got, per_tib) >= target
    assert limits.lustre_capacity_ok(deployment.value, storage.value, got, per_unit)


def test_fails_capacity_for_throughput_without_per_unit_for_persistent() -> None:
    with pytest.raises(HpcValidationError, match="50, 100, 200"):
        hc.LustreScratch.capacity_for_throughput(100, D.PERSISTENT_1)


# --- construction-only failures -----------------------------------------------------------


@pytest.mark.parametrize(
    ("props", "fragment"),
    [
        (
            {"storage_capacity_gib": 1000},
            "storage_capacity_gib=1000 is not valid; allowed: 1200, 2400, or a multiple of 2400 GiB for SCRATCH_2",
        ),
        (
            {"deployment_type": D.SCRATCH_1, "storage_capacity_gib": 4800},
            "storage_capacity_gib=4800 is not valid; allowed: 1200, 2400, or a multiple of 3600 GiB for SCRATCH_1",
        ),
        (
            {"deployment_type": D.PERSISTENT_2, "per_unit_storage_throughput": 200},
            "per_unit_storage_throughput=200 is not valid; allowed: one of 125, 250, 500, 1000",
        ),
        (
            {"deployment_type": D.PERSISTENT_1},
            "per_unit_storage_throughput=None is not valid; allowed: one of 50, 100, 200",
        ),
        (
            {"per_unit_storage_throughput": 200},
            "per_unit_storage_throughput=200 is not valid; allowed: unset for SCRATCH_2",
        ),
        (
            {
                "deployment_type": D.PERSISTENT_1,
                "storage_type": ST.HDD,
                "per_unit_storage_throughput": 12,
                "storage_capacity_gib": 1800,
            },
            "a multiple of 6000 GiB for HDD",
        ),
        (
            {
                "deployment_type": D.PERSISTENT_1,
                "storage_type": ST.HDD,
                "per_unit_storage_throughput": 50,
                "storage_capacity_gib": 1800,
            },
            "allowed: one of 12, 40 MB/s/TiB",
        ),
        ({"storage_type": ST.HDD}, "storage_type='HDD' is not valid"),
        ({"drive_cache_type": fsx.DriveCacheType.READ}, "drive_cache_type='READ'"),
        (
            {"storage_capacity_gib": 2400, "target_throughput_mbps": 500},
            "target_throughput_mbps=500 is not valid",
        ),
        ({"target_throughput_mbps": 0}, "target_throughput_mbps=0 is not valid"),
    ],
)
def test_fails_invalid_sizing(props: dict[str, Any], fragment: str) -> None:
    message = problems_of(**props)
    assert "Lustre/Fs" in message
    assert fragment in message


def test_fails_reports_all_problems_together() -> None:
    message = problems_of(storage_capacity_gib=1000, per_unit_storage_throughput=50)
    assert message.startswith("2 invalid properties")


def test_fails_when_subnet_selection_is_not_one_subnet() -> None:
    stack, vpc, _ = new_stack()
    with pytest.raises(HpcValidationError, match=r"vpc_subnets='2 subnets'.*exactly one subnet"):
        hc.LustreScratch(
            stack,
            "Fs",
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
        )


P2 = {"deployment_type": D.PERSISTENT_2, "per_unit_storage_throughput": 125}


@pytest.mark.parametrize(
    ("props", "fragment"),
    [
        (
            {**P2, "metadata_configuration": hc.LustreMetadataConfiguration.user_provisioned(2000)},
            "metadata_configuration.iops=2000 is not valid; allowed: 1500, 3000, 6000, 12000, or a multiple of 12000 up to 192000",
        ),
        (
            {**P2, "metadata_configuration": hc.LustreMetadataConfiguration("AUTOMATIC", 1500)},
            "metadata_configuration.iops=1500 is not valid; allowed: unset in AUTOMATIC mode",
        ),
        (
            {"metadata_configuration": hc.LustreMetadataConfiguration.automatic()},
            "metadata_configuration='AUTOMATIC' is not valid; allowed: unset unless PERSISTENT_2",
        ),
        (
            {**P2, "file_system_type_version": fsx.FileSystemTypeVersion.V_2_12},
            "file_system_type_version='2.12' is not valid; allowed: 2.15 for PERSISTENT_2",
        ),
        ({"efa_enabled": True}, "efa_enabled=True is not valid; allowed: False for SCRATCH_2"),
        (
            {
                "deployment_type": D.PERSISTENT_2,
                "storage_type": ST.INTELLIGENT_TIERING,
                "throughput_capacity_mbps": 3000,
            },
            "throughput_capacity_mbps=3000 is not valid; allowed: 4000 or a multiple of 4000",
        ),
        (
            {
                "deployment_type": D.PERSISTENT_2,
                "storage_type": ST.INTELLIGENT_TIERING,
                "throughput_capacity_mbps": 4000,
                "metadata_configuration": hc.LustreMetadataConfiguration.automatic(),
            },
            "allowed: USER_PROVISIONED for INTELLIGENT_TIERING",
        ),
        (
            {
                "deployment_type": D.PERSISTENT_2,
                "storage_type": ST.INTELLIGENT_TIERING,
                "throughput_capacity_mbps": 4000,
                "metadata_configuration": hc.LustreMetadataConfiguration.user_provisioned(1500),
            },
            "metadata_configuration.iops=1500 is not valid; allowed: 6000, 12000 for INTELLIGENT_TIERING",
        ),
        (
            {
                "deployment_type": D.PERSISTENT_2,
                "storage_type": ST.INTELLIGENT_TIERING,
                "throughput_capacity_mbps": 4000,
                "storage_capacity_gib": 1200,
            },
            "storage_capacity_gib=1200 is not valid; allowed: unset for INTELLIGENT_TIERING",
        ),
        (
            {"throughput_capacity_mbps": 4000},
            "throughput_capacity_mbps=4000 is not valid; allowed: unset unless storage_type is INTELLIGENT_TIERING",
        ),
    ],
)
def test_fails_invalid_metadata_efa_and_tiering(props: dict[str, Any], fragment: str) -> None:
    assert fragment in problems_of(**props)


P1 = {"deployment_type": D.PERSISTENT_1, "per_unit_storage_throughput": 50}


@pytest.mark.parametrize(
    ("props", "fragment"),
    [
        (
            {**P1, "automatic_backup_retention": 91},
            "automatic_backup_retention=91 is not valid; allowed: 0 to 90 days",
        ),
        (
            {"automatic_backup_retention": 7},
            "automatic_backup_retention=7 is not valid; allowed: 0 or unset for SCRATCH_2",
        ),
        (
            {"daily_automatic_backup_start_time": "03:00"},
            "daily_automatic_backup_start_time='03:00' is not valid; allowed: unset when automatic backups are off",
        ),
        ({**P1, "daily_automatic_backup_start_time": "25:00"}, "allowed: HH:MM in UTC"),
        (
            {"weekly_maintenance_start_time": "8:02:00"},
            "weekly_maintenance_start_time='8:02:00' is not valid; allowed: d:HH:MM",
        ),
        ({"removal_policy": cdk.RemovalPolicy.SNAPSHOT}, "allowed: RETAIN or DESTROY"),
    ],
)
def test_fails_invalid_backups_maintenance_and_removal(
    props: dict[str, Any], fragment: str
) -> None:
    assert fragment in problems_of(**props)


def test_fails_kms_key_on_scratch() -> None:
    stack, vpc, subnets = new_stack()
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    with pytest.raises(
        HpcValidationError, match=r"kms_key=.*scratch file systems use FSx-managed keys"
    ):
        hc.LustreScratch(stack, "Fs", vpc=vpc, vpc_subnets=subnets, kms_key=key)


def repos_problems(repos_for: Any, **props: Any) -> str:
    stack, vpc, subnets = new_stack()
    bucket = s3.Bucket(stack, "Bucket")
    other = s3.Bucket(stack, "Other")
    with pytest.raises(HpcValidationError) as err:
        hc.LustreScratch(
            stack,
            "Fs",
            vpc=vpc,
            vpc_subnets=subnets,
            data_repositories=repos_for(bucket, other),
            **props,
        )
    return str(err.value)


def test_fails_more_than_8_data_repositories() -> None:
    message = repos_problems(
        lambda b, o: [
            hc.DataRepository(bucket=b, file_system_path=f"/d{i}", prefix=f"p{i}") for i in range(9)
        ]
    )
    assert (
        "data_repositories='9 repositories' is not valid; allowed: at most 8 per file system"
        in message
    )


@pytest.mark.parametrize(
    ("first", "second"), [("/data", "/data/x"), ("/data/", "/data"), ("/", "/x")]
)
def test_fails_overlapping_file_system_paths(first: str, second: str) -> None:
    message = repos_problems(
        lambda b, o: [
            hc.DataRepository(bucket=b, file_system_path=first),
            hc.DataRepository(bucket=o, file_system_path=second),
        ]
    )
    assert f"data_repositories[1].file_system_path={second!r} is not valid" in message
    assert "overlaps data_repositories[0]" in message


def test_fails_duplicate_bucket_path() -> None:
    message = repos_problems(
        lambda b, o: [
            hc.DataRepository(bucket=b, file_system_path="/a", prefix="in"),
            hc.DataRepository(bucket=b, file_system_path="/b", prefix="/in/"),
        ]
    )
    assert "data_repositories[1].prefix='/in/' is not valid" in message


def test_fails_data_repository_on_scratch_1_and_old_lustre() -> None:
    message = repos_problems(
        lambda b, o: [hc.DataRepository(bucket=b, file_system_path="/a")],
        deployment_type=D.SCRATCH_1,
        file_system_type_version=fsx.FileSystemTypeVersion.V_2_10,
    )
    assert "none on SCRATCH_1" in message
    assert "file_system_type_version='2.10' is not valid; allowed: 2.12 or 2.15" in message


def test_fails_bad_data_repository_fields() -> None:
    message = repos_problems(
        lambda b, o: [
            hc.DataRepository(
                bucket=b,
                file_system_path="data",
                import_events=("NEW", "MODIFIED"),
                export_events=("NEW", "NEW"),
                imported_file_chunk_size_mib=600_000,
            )
        ]
    )
    assert "data_repositories[0].file_system_path='data' is not valid" in message
    assert (
        "data_repositories[0].import_events=('NEW', 'MODIFIED') is not valid; allowed: distinct values from NEW, CHANGED, DELETED"
        in message
    )
    assert "data_repositories[0].export_events=" in message
    assert (
        "data_repositories[0].imported_file_chunk_size_mib=600000 is not valid; allowed: 1 to 512000 MiB"
        in message
    )


def test_fails_backups_on_s3_linked_file_system() -> None:
    message = repos_problems(
        lambda b, o: [hc.DataRepository(bucket=b, file_system_path="/a")],
        **P1,
        automatic_backup_retention=7,
    )
    assert "S3-linked file systems" in message


def test_fails_data_repository_on_intelligent_tiering() -> None:
    message = repos_problems(
        lambda b, o: [hc.DataRepository(bucket=b, file_system_path="/a")],
        deployment_type=D.PERSISTENT_2,
        storage_type=ST.INTELLIGENT_TIERING,
        throughput_capacity_mbps=4000,
    )
    assert (
        "data_repositories='1 repositories' is not valid; allowed: none on INTELLIGENT_TIERING"
        in message
    )


# --- construction-only behaviour ------------------------------------------------------------


def test_persistent_2_defaults_to_automatic_metadata() -> None:
    fs = build(**P2)
    assert fs.metadata_configuration == hc.LustreMetadataConfiguration.automatic()


def test_from_attributes_imports_a_working_file_system() -> None:
    stack, vpc, _ = new_stack()
    group = ec2.SecurityGroup.from_security_group_id(stack, "FsGroup", "sg-0123456789abcdef0")
    imported = hc.LustreScratch.from_attributes(
        stack,
        "Imported",
        file_system_id="fs-0123456789abcdef0",
        dns_name="fs-0123456789abcdef0.fsx.us-east-2.amazonaws.com",
        mount_name="abcdefgh",
        security_group=group,
    )
    assert isinstance(imported, LustreFileSystemLike)
    assert imported.file_system_id == "fs-0123456789abcdef0"
    clients = ec2.SecurityGroup(stack, "Clients", vpc=vpc)
    imported.connections.allow_default_port_from(clients)
    lines = imported.mount_commands("/fsx")
    assert any(
        "fs-0123456789abcdef0.fsx.us-east-2.amazonaws.com@tcp:/abcdefgh" in line for line in lines
    )
    rules = [c for c in group.node.find_all() if isinstance(c, ec2.CfnSecurityGroupIngress)]
    ports = sorted((r.from_port, r.to_port) for r in rules)
    assert ports == [(988, 988), (1018, 1023)]
