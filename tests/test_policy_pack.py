"""The HPC policy pack (``HpcChecks``, rules ``HPC-*``) on hand-written templates and on ours.

One app, synthesized once: the sample stacks plus a ``PolicyBad`` stack (plain L1/L2
resources, none of our constructs, each resource breaking one rule) and a ``PolicyGood`` stack
(the same resources done right). Each rule must fire on its bad resource and only there; the
good stack and every sample stack must pass. The rules are also tested on plain template
dicts (no synthesis), including values only known at deploy time.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_servicecatalog as servicecatalog
from cdk_nag import AwsSolutionsChecks

from hpc_constructs import limits
from hpc_constructs.policy import RULES, HpcChecks, findings, pack
from hpc_constructs.policy.rules import applicable
from tests.harness import ROOT, TEST_ENV, assert_cfn_lint_clean, cfn_lint, make_app

#: Every sample stack's template as tests/test_stacks.py pins it (snapshot = synthesized
#: template up to asset hashes): a sample stack added later is checked without a change here.
SNAPSHOTS = ROOT / "tests" / "__snapshots__" / "test_stacks"
SAMPLE_STACKS = sorted(
    p.name.removeprefix("test_snapshot[").removesuffix("].json")
    for p in SNAPSHOTS.glob("test_snapshot[[]*[]].json")
)
#: hpc7a.96xlarge has two EFA-capable network cards, 0 and 1 (instance catalog).
EFA_TYPE = "hpc7a.96xlarge"
GOOD_LAYOUT = ((0, 0, "interface"), (0, 1, "efa-only"), (1, 0, "efa-only"))
INSTANCE_PROFILE = "arn:aws:iam::123456789012:instance-profile/batch"
IMAGE = "ami-0123456789abcdef0"

#: Bad resource (construct id in PolicyBad) -> the one rule it must trip.
EXPECTED = {
    "TwoEfaOnOneCard": "HPC-EFA1",
    "CardWithoutEfa": "HPC-EFA2",
    "NoPlacementGroup": "HPC-EFA3",
    "SpreadPlacement": "HPC-EFA3",
    "TwoZoneGroup": "HPC-EFA4",
    "NoSelfRules": "HPC-EFA5",
    "WideOpenLustre": "HPC-LUS1",
    "BadCapacityLustre": "HPC-LUS2",
    "SpotMultiNode": "HPC-BAT1",
    "GappedRanges": "HPC-BAT2",
    "DeletedVolume": "HPC-STOR1",
    "DestroyedBucket": "HPC-STOR1",
    "TokensOptional": "HPC-IMDS1",
    "InstanceWithoutImdsv2": "HPC-IMDS1",
    # A Lustre file system in a Service Catalog product stack (a template of its own, not a
    # top-level one), sized wrong by a property override: only the template shows it.
    "Product": "HPC-LUS2",
}


# --- hand-written stacks (no hpc-constructs) ------------------------------------------------


class Parts:
    """Plain L1/L2 building blocks for one stack: a VPC with subnets in two AZs, a cluster
    placement group, an EFA security group with its self rules, a Lustre client group."""

    def __init__(self, stack: cdk.Stack) -> None:
        self.stack = stack
        self.vpc = ec2.CfnVPC(stack, "Vpc", cidr_block="10.0.0.0/16")
        self.subnets = [
            ec2.CfnSubnet(
                stack,
                f"Subnet{az.upper()}",
                vpc_id=self.vpc.ref,
                cidr_block=f"10.0.{i}.0/24",
                availability_zone_id=f"use2-az{i + 1}",
            )
            for i, az in enumerate("ab")
        ]
        ec2.CfnFlowLog(
            stack,
            "FlowLog",
            resource_id=self.vpc.ref,
            resource_type="VPC",
            traffic_type="ALL",
            log_destination_type="s3",
            log_destination="arn:aws:s3:::flow-logs-123456789012",
        )
        self.cluster = ec2.CfnPlacementGroup(stack, "Cluster", strategy="cluster")
        self.efa_group = self.group("EfaGroup", self_rules=True)

    def group(self, id: str, *, self_rules: bool) -> ec2.CfnSecurityGroup:
        group = ec2.CfnSecurityGroup(
            self.stack,
            id,
            group_description=f"{id} of the policy pack test",
            vpc_id=self.vpc.ref,
            security_group_egress=[
                ec2.CfnSecurityGroup.EgressProperty(
                    ip_protocol="tcp", from_port=443, to_port=443, cidr_ip="10.0.0.0/16"
                )
            ],
        )
        if self_rules:
            self.rule(group, "SelfIn", "-1", None, None, ingress=True)
            self.rule(group, "SelfOut", "-1", None, None, ingress=False)
        return group

    def rule(
        self,
        group: ec2.CfnSecurityGroup,
        id: str,
        protocol: str,
        start: int | None,
        end: int | None,
        *,
        ingress: bool = True,
        peer: ec2.CfnSecurityGroup | None = None,
    ) -> None:
        peer_id = (peer or group).attr_group_id
        if ingress:
            ec2.CfnSecurityGroupIngress(
                self.stack,
                f"{group.node.id}{id}",
                group_id=group.attr_group_id,
                ip_protocol=protocol,
                from_port=start,
                to_port=end,
                source_security_group_id=peer_id,
            )
        else:
            ec2.CfnSecurityGroupEgress(
                self.stack,
                f"{group.node.id}{id}",
                group_id=group.attr_group_id,
                ip_protocol=protocol,
                from_port=start,
                to_port=end,
                destination_security_group_id=peer_id,
            )

    def efa_template(
        self,
        id: str,
        *,
        layout: tuple[tuple[int, int, str], ...] = GOOD_LAYOUT,
        group: ec2.CfnSecurityGroup | None = None,
        placement: str | bool | None = True,
        **data: Any,
    ) -> ec2.CfnLaunchTemplate:
        sg = (group or self.efa_group).attr_group_id
        interfaces = [
            ec2.CfnLaunchTemplate.NetworkInterfaceProperty(
                network_card_index=card, device_index=device, interface_type=kind, groups=[sg]
            )
            for card, device, kind in layout
        ]
        group_name = self.cluster.attr_group_name if placement is True else placement
        return ec2.CfnLaunchTemplate(
            self.stack,
            id,
            launch_template_data=ec2.CfnLaunchTemplate.LaunchTemplateDataProperty(
                instance_type=EFA_TYPE,
                image_id=IMAGE,
                network_interfaces=interfaces,
                metadata_options=ec2.CfnLaunchTemplate.MetadataOptionsProperty(
                    http_tokens="required"
                ),
                placement=ec2.CfnLaunchTemplate.PlacementProperty(group_name=group_name)
                if group_name
                else None,
                **data,
            ),
        )

    def lustre(self, id: str, capacity: int, group: ec2.CfnSecurityGroup) -> cdk.CfnResource:
        fs = cdk.CfnResource(
            self.stack,
            id,
            type="AWS::FSx::FileSystem",
            properties={
                "FileSystemType": "LUSTRE",
                "StorageCapacity": capacity,
                "SubnetIds": [self.subnets[0].ref],
                "SecurityGroupIds": [group.attr_group_id],
                "LustreConfiguration": {"DeploymentType": "SCRATCH_2"},
            },
        )
        fs.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        return fs

    def lustre_group(self, id: str, ports: list[tuple[str, int, int]]) -> ec2.CfnSecurityGroup:
        group = self.group(id, self_rules=False)
        for i, (protocol, start, end) in enumerate(ports):
            self.rule(group, f"Port{i}", protocol, start, end)
        return group

    def compute_environment(self, id: str, kind: str, *, cluster: bool) -> None:
        batch_ce = cdk.CfnResource(
            self.stack,
            id,
            type="AWS::Batch::ComputeEnvironment",
            properties={
                "Type": "MANAGED",
                "ComputeResources": {
                    "Type": kind,
                    "MaxvCpus": 96,
                    "InstanceTypes": ["c5n.18xlarge"],
                    "InstanceRole": INSTANCE_PROFILE,
                    "Subnets": [self.subnets[0].ref],
                    "SecurityGroupIds": [self.efa_group.attr_group_id],
                    **({"PlacementGroup": self.cluster.attr_group_name} if cluster else {}),
                },
            },
        )
        assert batch_ce

    def job(self, id: str, targets: list[str]) -> None:
        ranges = [
            {"TargetNodes": t, "Container": {"Image": "busybox", "Vcpus": 1, "Memory": 512}}
            for t in targets
        ]
        cdk.CfnResource(
            self.stack,
            id,
            type="AWS::Batch::JobDefinition",
            properties={
                "Type": "multinode",
                "NodeProperties": {"NumNodes": 4, "MainNode": 0, "NodeRangeProperties": ranges},
            },
        )

    def group_of_nodes(self, id: str, template: ec2.CfnLaunchTemplate, zones: int) -> None:
        cdk.CfnResource(
            self.stack,
            id,
            type="AWS::AutoScaling::AutoScalingGroup",
            properties={
                "MinSize": "0",
                "MaxSize": "2",
                "LaunchTemplate": {
                    "LaunchTemplateId": template.ref,
                    "Version": template.attr_latest_version_number,
                },
                "VPCZoneIdentifier": [s.ref for s in self.subnets[:zones]],
            },
        )

    def volume(self, id: str) -> ec2.CfnVolume:
        first_zone = cdk.Fn.select(0, cdk.Fn.get_azs())
        return ec2.CfnVolume(self.stack, id, availability_zone=first_zone, size=100, encrypted=True)

    def plain_template(self, id: str, tokens: str) -> None:
        ec2.CfnLaunchTemplate(
            self.stack,
            id,
            launch_template_data=ec2.CfnLaunchTemplate.LaunchTemplateDataProperty(
                instance_type="c7i.large",
                image_id=IMAGE,
                metadata_options=ec2.CfnLaunchTemplate.MetadataOptionsProperty(http_tokens=tokens),
            ),
        )


LUSTRE_PORTS = [("tcp", 988, 988), ("tcp", 1018, 1023)]


def bad_stack(app: cdk.App) -> cdk.Stack:
    stack = cdk.Stack(app, "PolicyBad", env=TEST_ENV)
    parts = Parts(stack)
    two_on_card_1 = (*GOOD_LAYOUT, (1, 1, "efa-only"))
    parts.efa_template("TwoEfaOnOneCard", layout=two_on_card_1)
    parts.efa_template("CardWithoutEfa", layout=GOOD_LAYOUT[:2])
    parts.efa_template("NoPlacementGroup", placement=None)
    spread = ec2.CfnPlacementGroup(stack, "Spread", strategy="spread")
    parts.efa_template("SpreadPlacement", placement=spread.attr_group_name)
    zones = parts.efa_template("TwoZoneTemplate")
    parts.group_of_nodes("TwoZoneGroup", zones, zones=2)
    parts.efa_template("NoSelfRules", group=parts.group("PlainGroup", self_rules=False))
    wide = parts.lustre_group("WideGroup", [("tcp", 0, 65535)])
    parts.lustre("WideOpenLustre", 1200, wide)
    parts.lustre("BadCapacityLustre", 3600, parts.lustre_group("LustreGroup", LUSTRE_PORTS))
    parts.compute_environment("SpotMultiNode", "SPOT", cluster=True)
    parts.job("GappedRanges", ["0:1"])
    parts.volume("DeletedVolume")
    s3.Bucket(stack, "DestroyedBucket", removal_policy=cdk.RemovalPolicy.DESTROY)
    parts.plain_template("TokensOptional", "optional")
    ec2.CfnInstance(stack, "InstanceWithoutImdsv2", instance_type="c7i.large")
    product = servicecatalog.ProductStack(stack, "Product")
    in_product = Parts(product)
    lustre = in_product.lustre("Lustre", 1200, in_product.lustre_group("Group", LUSTRE_PORTS))
    lustre.add_property_override("StorageCapacity", 3600)
    servicecatalog.CloudFormationProduct(
        stack,
        "Catalog",
        product_name="policy-test",
        owner="hpc",
        product_versions=[
            servicecatalog.CloudFormationProductVersion(
                cloud_formation_template=servicecatalog.CloudFormationTemplate.from_product_stack(
                    product
                )
            )
        ],
    )
    return stack


def good_stack(app: cdk.App) -> cdk.Stack:
    stack = cdk.Stack(app, "PolicyGood", env=TEST_ENV)
    parts = Parts(stack)
    template = parts.efa_template("EfaTemplate")
    parts.group_of_nodes("OneZoneGroup", template, zones=1)
    parts.efa_template(
        "CapacityBlockTemplate",
        placement=None,
        instance_market_options=ec2.CfnLaunchTemplate.InstanceMarketOptionsProperty(
            market_type="capacity-block"
        ),
    )
    clients = parts.group("LustreClients", self_rules=False)
    group = parts.lustre_group("LustreGroup", LUSTRE_PORTS)
    for i, (protocol, start, end) in enumerate(LUSTRE_PORTS):
        parts.rule(group, f"Client{i}", protocol, start, end, peer=clients)
    parts.lustre("Lustre", 2400, group)
    parts.compute_environment("OnDemandMultiNode", "EC2", cluster=True)
    parts.compute_environment("SpotGrid", "SPOT", cluster=False)
    parts.job("MultiNodeJob", ["0", "1:"])
    parts.volume("RetainedVolume").apply_removal_policy(cdk.RemovalPolicy.RETAIN)
    acknowledged = parts.volume("AcknowledgedVolume")
    cdk.Validations.of(acknowledged).acknowledge(
        cdk.Acknowledgment(id="HPC-STOR1", reason="test: an acknowledged finding is not reported")
    )
    logs = s3.Bucket.from_bucket_name(stack, "AccessLogs", "access-logs-123456789012")
    s3.Bucket(stack, "Bucket", enforce_ssl=True, server_access_logs_bucket=logs)
    parts.plain_template("TokensRequired", "required")
    ec2.LaunchTemplate(stack, "L2Template", require_imdsv2=True)  # IMDSv2 set by an aspect
    return stack


# --- one synthesis ------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    outdir: Path
    #: (rule id, construct path) of every HpcChecks violation in the validation report.
    violations: list[tuple[str, str]]
    descriptions: dict[str, str]

    def template(self, stack: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.outdir / f"{stack}.template.json").read_text())
        return data

    def rules_at(self, prefix: str) -> set[str]:
        return {rule for rule, path in self.violations if path.startswith(prefix)}


def _read_report(outdir: Path) -> Result:
    violations: list[tuple[str, str]] = []
    descriptions: dict[str, str] = {}
    report = outdir / "validation-report.json"
    plugins = json.loads(report.read_text())["pluginReports"] if report.exists() else []
    for plugin in plugins:
        if plugin.get("pluginName") != "HpcChecks":
            continue
        for violation in plugin.get("violations", []):
            descriptions[violation["ruleName"]] = violation.get("description", "")
            for construct in violation.get("violatingConstructs", []):
                violations.append((violation["ruleName"], construct.get("constructPath", "?")))
    return Result(outdir=outdir, violations=violations, descriptions=descriptions)


@pytest.fixture(scope="module")
def result() -> Result:
    app = make_app()
    bad_stack(app)
    good = good_stack(app)
    cdk.Validations.of(app).add_plugins(HpcChecks(app, verbose=True))
    try:
        app.synth()
    except RuntimeError as err:  # a violation fails synth (jsii surfaces it as RuntimeError)
        if "ValidationFailed" not in str(err) and "Validation failed" not in str(err):
            raise
    found = _read_report(Path(app.outdir))
    # AwsSolutions on the hand-written good stack, after synthesis (aspects applied).
    aws = AwsSolutionsChecks().validate_scope(good)
    found.descriptions["AwsSolutions"] = "\n".join(
        f"{v.rule_name} {[r.construct_path for r in v.violating_resources]}" for v in aws.violations
    )
    return found


# --- the pack on the synthesized app --------------------------------------------------------


def test_the_sample_stacks_are_found() -> None:
    assert {"Genomics", "MlTraining", "MpiCluster", "SlurmCluster"} <= set(SAMPLE_STACKS)


def test_every_rule_applies_to_some_sample_stack() -> None:
    """The sample stacks exercise every rule (none passes them by not applying)."""
    applied: set[str] = set()
    for stack in SAMPLE_STACKS:
        path = SNAPSHOTS / f"test_snapshot[{stack}].json"
        resources = json.loads(path.read_text())["Resources"]
        applied |= {
            rule.rule_id
            for lid, resource in resources.items()
            for rule in applicable(resource["Type"])
            if rule.check(lid, resources) is not None
        }
    assert applied == {rule.rule_id for rule in RULES}


def test_every_rule_has_a_bad_template() -> None:
    assert set(EXPECTED.values()) == {rule.rule_id for rule in RULES}


@pytest.mark.parametrize(("resource", "rule"), sorted(EXPECTED.items()))
def test_fails_bad_template_with_exactly_its_rule(result: Result, resource: str, rule: str) -> None:
    assert result.rules_at(f"PolicyBad/{resource}/") | result.rules_at(f"PolicyBad/{resource}") == {
        rule
    }, result.violations


def test_bad_templates_fire_nothing_else(result: Result) -> None:
    fired = {path.split("/")[1] for _, path in result.violations if path.startswith("PolicyBad/")}
    assert fired == set(EXPECTED)


def test_good_template_passes(result: Result) -> None:
    assert result.rules_at("PolicyGood/") == set(), result.violations


@pytest.mark.parametrize("stack", SAMPLE_STACKS)
def test_sample_stack_passes(stack: str) -> None:
    """Every rule on each sample stack's template as tests/test_stacks.py pins it (its
    snapshot equals the synthesized template up to asset hashes): the rule code the pack runs,
    on the template it reads, without synthesizing the samples a second time."""
    snapshot = SNAPSHOTS / f"test_snapshot[{stack}].json"
    template = json.loads(snapshot.read_text())
    assert findings(template) == []
    applied = {
        rule.rule_id
        for lid, resource in template["Resources"].items()
        for rule in applicable(resource["Type"])
        if rule.check(lid, template["Resources"]) is not None
    }
    assert applied, f"no HPC rule applies to {stack}"


def test_acknowledged_finding_is_not_reported(result: Result) -> None:
    """AcknowledgedVolume breaks HPC-STOR1 (the rules find it in the template), but its
    acknowledgment keeps it out of the report, like any cdk-nag 3 rule."""
    template = result.template("PolicyGood")
    in_template = {(lid[: len("AcknowledgedVolume")], rule) for lid, rule, _ in findings(template)}
    assert in_template == {("AcknowledgedVolume", "HPC-STOR1")}
    assert result.rules_at("PolicyGood/AcknowledgedVolume") == set()


def test_a_rule_that_raises_is_reported_not_swallowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """cdk-nag's contract: a rule that throws is a finding ("Rule threw an error")."""
    broken = dataclasses.replace(RULES[-1], check=_raising_check)
    monkeypatch.setattr(pack, "applicable", lambda kind: iter([broken]))
    app = make_app()
    Parts(cdk.Stack(app, "Direct", env=TEST_ENV)).volume("Volume")
    report = HpcChecks(verbose=True).validate_scope(app)
    messages = {v.rule_name: v.description for v in report.violations}
    assert "rule bug" in messages[broken.rule_id], messages


def _raising_check(lid: str, resources: Any) -> list[str] | None:
    raise ValueError("rule bug")


def test_violations_say_what_why_and_where_from(result: Result) -> None:
    for rule in RULES:
        description = result.descriptions[rule.rule_id]
        assert description.startswith(rule.info), description
        assert rule.explanation in description
        assert f"Source: {rule.source}." in description


def test_good_template_is_cfn_lint_and_aws_solutions_clean(result: Result) -> None:
    assert_cfn_lint_clean(result.template("PolicyGood"))
    assert result.descriptions["AwsSolutions"] == "", result.descriptions["AwsSolutions"]


def test_cfn_lint_pack_catches_the_same_templates(result: Result) -> None:
    """One source of truth: the rules shared with hpc-lint fire there on the same resources."""
    template = result.template("PolicyBad")
    lint = cfn_lint(template)
    for construct, code in (
        ("TwoEfaOnOneCard", "E9102"),
        ("BadCapacityLustre", "E9101"),
        ("GappedRanges", "E9103"),
    ):
        logical = next(lid for lid in template["Resources"] if lid.startswith(construct))
        assert any(f.startswith(code) and f"Resources/{logical}/" in f for f in lint), lint


# --- the rules on plain template dicts -------------------------------------------------------


def resources(**items: dict[str, Any]) -> dict[str, Any]:
    return {"Resources": items}


def lt(**data: Any) -> dict[str, Any]:
    return {"Type": "AWS::EC2::LaunchTemplate", "Properties": {"LaunchTemplateData": data}}


EFA_LAYOUT = [
    {"NetworkCardIndex": card, "DeviceIndex": device, "InterfaceType": kind}
    for card, device, kind in GOOD_LAYOUT
]


def rule_ids(template: dict[str, Any]) -> set[str]:
    return {rule for _, rule, _ in findings(template)}


def test_fails_efa_card_without_interface_naming_the_card() -> None:
    found = findings(resources(Lt=lt(InstanceType=EFA_TYPE, NetworkInterfaces=EFA_LAYOUT[:2])))
    assert (
        "Lt",
        "HPC-EFA2",
        f"{EFA_TYPE}: no EFA interface on EFA-capable network card(s) 1",
    ) in found


def test_efa_cards_come_from_the_launchers_when_the_template_has_no_type() -> None:
    template = resources(
        Lt=lt(NetworkInterfaces=EFA_LAYOUT[:2]),
        Ce={
            "Type": "AWS::Batch::ComputeEnvironment",
            "Properties": {
                "ComputeResources": {
                    "Type": "EC2",
                    "InstanceTypes": [EFA_TYPE],
                    "LaunchTemplate": {"LaunchTemplateId": {"Ref": "Lt"}},
                }
            },
        },
    )
    assert "HPC-EFA2" in rule_ids(template)


@pytest.mark.parametrize(
    "instance_type",
    [{"Ref": "InstanceTypeParameter"}, "optimal", "x99.unknown"],
)
def test_efa_card_rule_is_quiet_when_the_type_is_unknown(instance_type: Any) -> None:
    template = resources(Lt=lt(InstanceType=instance_type, NetworkInterfaces=EFA_LAYOUT[:2]))
    assert "HPC-EFA2" not in rule_ids(template)


def test_imported_security_groups_and_subnets_are_not_guessed() -> None:
    interfaces = [{**i, "Groups": ["sg-0123456789abcdef0"]} for i in EFA_LAYOUT]
    template = resources(
        Lt=lt(InstanceType=EFA_TYPE, NetworkInterfaces=interfaces, Placement={"GroupName": "pg"}),
        Asg={
            "Type": "AWS::AutoScaling::AutoScalingGroup",
            "Properties": {
                "LaunchTemplate": {"LaunchTemplateId": {"Ref": "Lt"}},
                "VPCZoneIdentifier": ["subnet-1", "subnet-2"],
            },
        },
    )
    assert rule_ids(template) == {"HPC-IMDS1"}


def test_lustre_rules_skip_values_computed_at_deploy_time() -> None:
    template = resources(
        Fs={
            "Type": "AWS::FSx::FileSystem",
            "DeletionPolicy": "Retain",
            "Properties": {
                "FileSystemType": "LUSTRE",
                "StorageCapacity": {"Ref": "Capacity"},
                "SecurityGroupIds": [{"Ref": "GroupParameter"}],
                "LustreConfiguration": {"DeploymentType": "SCRATCH_2"},
            },
        }
    )
    assert findings(template) == []


def test_instance_imdsv2_through_its_launch_template() -> None:
    instance = {
        "Type": "AWS::EC2::Instance",
        "Properties": {"LaunchTemplate": {"LaunchTemplateId": {"Ref": "Lt"}}},
    }
    required = lt(MetadataOptions={"HttpTokens": "required"})
    assert findings(resources(I=instance, Lt=required)) == []
    optional = lt(MetadataOptions={"HttpTokens": "optional"})
    assert {(lid, rule) for lid, rule, _ in findings(resources(I=instance, Lt=optional))} == {
        ("I", "HPC-IMDS1"),
        ("Lt", "HPC-IMDS1"),
    }


def test_fails_lustre_ingress_wider_or_narrower_than_the_lustre_ports() -> None:
    assert limits.lustre_ingress_problems([("tcp", 988, 988), ("tcp", 1018, 1023)]) == []
    assert limits.lustre_ingress_problems([("6", 988, 988), ("6", 1018, 1023)]) == []
    assert limits.lustre_ingress_problems([("tcp", 988, 1023)]) == [
        "inbound rule tcp 988-1023 is not exactly tcp 988 or tcp 1018-1023",
        "no inbound rule opens tcp 988-988",
        "no inbound rule opens tcp 1018-1023",
    ]
    assert "all traffic" in limits.lustre_ingress_problems([("-1", None, None)])[0]


@pytest.mark.parametrize(
    ("resource_type", "policy", "ok"),
    [
        ("AWS::S3::Bucket", "Retain", True),
        ("AWS::S3::Bucket", None, False),
        ("AWS::FSx::FileSystem", "Snapshot", False),
        ("AWS::EC2::Volume", "Snapshot", True),
        ("AWS::RDS::DBCluster", "Delete", False),
        ("AWS::EFS::FileSystem", "RetainExceptOnCreate", True),
    ],
)
def test_fails_data_bearing_resource_deleted_with_its_stack(
    resource_type: str, policy: str | None, ok: bool
) -> None:
    assert (limits.deletion_policy_problems(resource_type, policy) == []) is ok
    assert limits.deletion_policy_problems("AWS::SQS::Queue", None) is None


def test_validate_scope_works_before_synthesis() -> None:
    """cdk-nag's direct entry point, on a tree never synthesized (L1 properties rendered)."""
    app = make_app()
    stack = cdk.Stack(app, "Direct", env=TEST_ENV)
    Parts(stack).volume("Deleted")
    report = HpcChecks().validate_scope(app)
    assert [
        (v.rule_name, [r.construct_path for r in v.violating_resources]) for v in report.violations
    ] == [("HPC-STOR1", ["Direct/Deleted"])]


# --- the guide ----------------------------------------------------------------------------

BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def test_guide_lists_every_rule_and_its_example_runs_clean() -> None:
    text = (ROOT / "docs" / "policy.md").read_text()
    for rule in RULES:
        assert f"`{rule.rule_id}`" in text, rule.rule_id
    blocks = BLOCK.findall(text)
    assert blocks
    namespace: dict[str, Any] = {"__name__": "docs_policy_example"}
    exec(compile(blocks[0], "docs/policy.md", "exec"), namespace)
    app = next(v for v in namespace.values() if isinstance(v, cdk.App))
    assembly = app.synth()  # raises on any HpcChecks violation
    for stack in assembly.stacks:
        assert_cfn_lint_clean(stack.template)


def _lustre_template(*ingress: tuple[str, int, int]) -> dict[str, Any]:
    """A Lustre file system whose group has aws-cdk-lib's self rule plus ``ingress`` rules
    (from a client group)."""
    resources: dict[str, Any] = {
        "Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "fs"}},
        "Client": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "c"}},
        "Self": {
            "Type": "AWS::EC2::SecurityGroupIngress",
            "Properties": {
                "GroupId": {"Fn::GetAtt": ["Sg", "GroupId"]},
                "SourceSecurityGroupId": {"Fn::GetAtt": ["Sg", "GroupId"]},
                "IpProtocol": "tcp",
                "FromPort": 988,
                "ToPort": 1023,
            },
        },
        "Fs": {
            "Type": "AWS::FSx::FileSystem",
            "DeletionPolicy": "Retain",
            "Properties": {
                "FileSystemType": "LUSTRE",
                "StorageCapacity": 1200,
                "SubnetIds": ["subnet-1"],
                "SecurityGroupIds": [{"Fn::GetAtt": ["Sg", "GroupId"]}],
                "LustreConfiguration": {"DeploymentType": "SCRATCH_2"},
            },
        },
    }
    for i, (protocol, start, end) in enumerate(ingress):
        resources[f"In{i}"] = {
            "Type": "AWS::EC2::SecurityGroupIngress",
            "Properties": {
                "GroupId": {"Fn::GetAtt": ["Sg", "GroupId"]},
                "SourceSecurityGroupId": {"Fn::GetAtt": ["Client", "GroupId"]},
                "IpProtocol": protocol,
                "FromPort": start,
                "ToPort": end,
            },
        }
    return {"Resources": resources}


def test_lustre_ports_ignore_the_l2_self_rule_and_an_unused_file_system() -> None:
    """aws-cdk-lib's fsx.LustreFileSystem opens 988-1023 to its own group: not a client
    rule. A file system no client is let into yet has nothing wrong opened."""
    lus1 = [f for f in findings(_lustre_template()) if f[1] == "HPC-LUS1"]
    assert lus1 == []
    clients = _lustre_template(("tcp", 988, 988), ("tcp", 1018, 1023))
    assert [f for f in findings(clients) if f[1] == "HPC-LUS1"] == []


def test_fails_lustre_ports_with_a_client_rule_wider_or_missing_a_range() -> None:
    wide = [f for f in findings(_lustre_template(("tcp", 988, 1023))) if f[1] == "HPC-LUS1"]
    assert wide
    assert "988-1023" in wide[0][2]
    half = [f for f in findings(_lustre_template(("tcp", 988, 988))) if f[1] == "HPC-LUS1"]
    assert half
    assert "1018-1023" in half[0][2]
