"""DataIngest: landing bucket, DataSync sources/destinations/tasks, Direct Connect, Snowball."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from aws_cdk import aws_events as events
from aws_cdk import aws_fsx as fsx
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template

import hpc_constructs as hc
from hpc_constructs.ingest import schedule_problem
from tests.harness import (
    TEST_ENV,
    Synthesized,
    assert_cfn_lint_clean,
    assert_nag_clean,
    make_app,
    synthesize,
)

AGENT = "arn:aws:datasync:us-east-2:123456789012:agent/agent-0123456789abcdef0"
AGENT2 = "arn:aws:datasync:us-east-2:123456789012:agent/agent-0123456789abcdef1"


def _vpc(stack: cdk.Stack) -> ec2.Vpc:
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        max_azs=2,
        nat_gateways=1,
        flow_logs={"All": ec2.FlowLogOptions()},
        # The default-SG custom resource trips cfn-lint W3005 inside aws-cdk-lib's own code.
        restrict_default_security_group=False,
    )
    return vpc


def _secret(stack: cdk.Stack, id: str) -> secretsmanager.Secret:
    secret = secretsmanager.Secret(stack, id)
    cdk.Validations.of(secret).acknowledge(
        cdk.Acknowledgment(
            id="AwsSolutions-SMG4",
            reason="Test fixture: a credential owned by the on-premises storage team",
        )
    )
    return secret


def _lustre(stack: cdk.Stack, vpc: ec2.IVpc) -> fsx.LustreFileSystem:
    return fsx.LustreFileSystem(
        stack,
        "Scratch",
        vpc=vpc,
        vpc_subnet=vpc.private_subnets[0],
        storage_capacity_gib=1200,
        lustre_configuration=fsx.LustreConfiguration(
            deployment_type=fsx.LustreDeploymentType.SCRATCH_2
        ),
    )


class Scenario:
    def __init__(self) -> None:
        self.app = make_app()
        # DataSync: every source and destination, created KMS bucket, private endpoint.
        self.ds_stack = cdk.Stack(self.app, "IngestDataSync", env=TEST_ENV)
        vpc = _vpc(self.ds_stack)
        file_system = efs.FileSystem(self.ds_stack, "Home", vpc=vpc)
        self.ingest = hc.DataIngest(
            self.ds_stack,
            "Ingest",
            vpc=vpc,
            private_endpoint=True,
            agent_cidrs=["10.20.0.0/24"],
        )
        self.nfs = self.ingest.add_task(
            "Nfs",
            source=hc.DataSyncSource.nfs(
                server_hostname="nas.corp.example.com",
                export_path="/exports/genomes",
                agent_arns=[AGENT, AGENT2],
                nfs_version="NFS4_1",
            ),
            destination=hc.DataSyncDestination.landing_bucket(prefix="genomes/"),
            schedule=events.Schedule.cron(minute="15", hour="2"),
            includes=["/runs/*", "/refs/*"],
            excludes=["*.tmp", "*/.snapshot"],
            bytes_per_second=100_000_000,
            task_report="SUMMARY_ONLY",
        )
        self.ingest.add_task(
            "Smb",
            source=hc.DataSyncSource.smb(
                server_hostname="10.20.0.5",
                share_path="/share/cad",
                agent_arns=[AGENT],
                user="svc-datasync",
                password=_secret(self.ds_stack, "SmbPassword"),
                domain="CORP",
            ),
            destination=hc.DataSyncDestination.lustre(
                _lustre(self.ds_stack, vpc), subdirectory="/in"
            ),
            schedule="rate(1 day)",
        )
        self.ingest.add_task(
            "Hdfs",
            source=hc.DataSyncSource.hdfs(
                name_nodes=[hc.HdfsNameNode("namenode.corp.example.com")],
                agent_arns=[AGENT],
                simple_user="hdfs",
                subdirectory="/warehouse",
            ),
            destination=hc.DataSyncDestination.efs(file_system, subdirectory="/hdfs"),
        )
        self.ingest.add_task(
            "ObjectStore",
            source=hc.DataSyncSource.object_storage(
                server_hostname="minio.corp.example.com",
                bucket_name="instrument-data",
                agent_arns=[AGENT],
                access_key="AKIAEXAMPLE",
                secret_key=_secret(self.ds_stack, "MinioSecretKey"),
            ),
            destination=hc.DataSyncDestination.landing_bucket(prefix="instruments/"),
            verify_mode="POINT_IN_TIME_CONSISTENT",
            overwrite_mode="NEVER",
            log_level="TRANSFER",
        )
        partner = s3.Bucket.from_bucket_name(self.ds_stack, "Partner", "partner-shared-data")
        self.ingest.add_task(
            "Partner",
            source=hc.DataSyncSource.s3(partner, "exports/"),
            destination=hc.DataSyncDestination.landing_bucket(
                prefix="partner/", storage_class="INTELLIGENT_TIERING"
            ),
        )

        # Direct Connect through a virtual private gateway, plus Snowball readiness.
        self.vgw_stack = cdk.Stack(self.app, "IngestVgw", env=TEST_ENV)
        self.vgw_ingest = hc.DataIngest(
            self.vgw_stack,
            "Ingest",
            vpc=_vpc(self.vgw_stack),
            direct_connect=hc.DirectConnectOptions(
                virtual_interface=hc.VirtualInterfaceOptions(
                    connection_id="dxcon-fgabc123",
                    vlan=101,
                    customer_asn=65010,
                    auth_key=_secret(self.vgw_stack, "BgpKey"),
                    mtu=9001,
                    amazon_address="169.254.10.1/30",
                    customer_address="169.254.10.2/30",
                )
            ),
            snowball=hc.SnowballImportOptions(shipping_option="SECOND_DAY"),
        )

        # Direct Connect through a transit gateway, existing DXGW, S3-managed bucket,
        # user-chosen notification target.
        self.tgw_stack = cdk.Stack(self.app, "IngestTgw", env=TEST_ENV)
        self.topic = sns.Topic(self.tgw_stack, "OpsTopic", enforce_ssl=True)
        cdk.Validations.of(self.topic).acknowledge(
            cdk.Acknowledgment(id="AwsSolutions-SNS2", reason="Test fixture: ops topic")
        )
        self.tgw_ingest = hc.DataIngest(
            self.tgw_stack,
            "Ingest",
            vpc=_vpc(self.tgw_stack),
            bucket_encryption="S3_MANAGED",
            notification_target=events_targets_sns(self.topic),
            direct_connect=hc.DirectConnectOptions(
                attachment="TRANSIT_GATEWAY",
                direct_connect_gateway_id="5f294f92-bafb-4011-916d-9b0bec00aaaa",
                gateway_asn=64600,
                allowed_prefixes=["10.0.0.0/16"],
                on_premises_cidrs=["172.16.0.0/12"],
                virtual_interface=hc.VirtualInterfaceOptions(
                    connection_id="dxlag-ffabc123", vlan=202, customer_asn=4_200_000_100, mtu=8500
                ),
            ),
            snowball=True,
        )
        self.tgw_ingest.add_task(
            "Nightly",
            source=hc.DataSyncSource.nfs(
                server_hostname="nas", export_path="/data", agent_arns=[AGENT]
            ),
            destination=hc.DataSyncDestination.landing_bucket(),
            schedule="rate(2 hours)",
        )
        self.synth: Synthesized = synthesize(self.app)


def events_targets_sns(topic: sns.ITopic) -> events.IRuleTarget:
    from aws_cdk import aws_events_targets as targets

    return targets.SnsTopic(topic)


@pytest.fixture(scope="module")
def sc() -> Scenario:
    return Scenario()


def _resources(t: Template, type_: str) -> dict[str, Any]:
    return dict(t.find_resources(type_))


def _one(t: Template, type_: str, props: dict[str, Any]) -> dict[str, Any]:
    found = t.find_resources(type_, {"Properties": props})
    assert len(found) == 1, (type_, list(found))
    return dict(next(iter(found.values())))


# --- compliance -------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["IngestDataSync", "IngestVgw", "IngestTgw"])
def test_cfn_lint_clean(sc: Scenario, stack: str) -> None:
    assert_cfn_lint_clean(sc.synth.template_dict(stack))


def test_nag_clean(sc: Scenario) -> None:
    assert_nag_clean(sc.synth)


# --- landing bucket ---------------------------------------------------------------------------


def test_landing_bucket_is_kms_versioned_logged_tiered_and_retained(sc: Scenario) -> None:
    t = sc.synth.template("IngestDataSync")
    bucket = _one(
        t,
        "AWS::S3::Bucket",
        {"LoggingConfiguration": Match.object_like({"LogFilePrefix": "landing/"})},
    )
    props = bucket["Properties"]
    assert bucket["DeletionPolicy"] == "Retain"
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    sse = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert props["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] is True
    rule = props["LifecycleConfiguration"]["Rules"][0]
    assert rule["Transitions"] == [{"StorageClass": "INTELLIGENT_TIERING", "TransitionInDays": 30}]
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 90}
    t.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    assert sc.ingest.bucket_encryption == "KMS"
    assert sc.ingest.intelligent_tiering_after_days == 30


def test_landing_bucket_policy_denies_plain_http(sc: Scenario) -> None:
    t = sc.synth.template("IngestDataSync")
    t.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            }
        },
    )


def test_s3_managed_bucket_option(sc: Scenario) -> None:
    t = sc.synth.template("IngestTgw")
    t.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]
            },
            "LoggingConfiguration": Match.any_value(),
        },
    )


def test_grants_and_brought_bucket() -> None:
    app = make_app()
    stack = cdk.Stack(app, "Byo", env=TEST_ENV)
    bucket = s3.Bucket.from_bucket_name(stack, "Existing", "existing-landing")
    ingest = hc.DataIngest(stack, "Ingest", landing_bucket=bucket)
    role = iam.Role(stack, "Analyst", assumed_by=iam.AccountRootPrincipal())
    ingest.grant_read(role)
    ingest.grant_write(role)
    assert ingest.landing_bucket is bucket
    assert ingest.access_log_bucket is None
    assert ingest.bucket_encryption is None
    t = Template.from_stack(stack)
    t.resource_count_is("AWS::S3::Bucket", 0)
    actions = json.dumps(t.find_resources("AWS::IAM::Policy"))
    assert "s3:GetObject*" in actions
    assert "s3:PutObject" in actions


# --- DataSync sources and destinations -------------------------------------------------------


def test_nfs_source(sc: Scenario) -> None:
    sc.synth.template("IngestDataSync").has_resource_properties(
        "AWS::DataSync::LocationNFS",
        {
            "OnPremConfig": {"AgentArns": [AGENT, AGENT2]},
            "ServerHostname": "nas.corp.example.com",
            "Subdirectory": "/exports/genomes",
            "MountOptions": {"Version": "NFS4_1"},
        },
    )


def test_smb_source_reads_password_from_secrets_manager(sc: Scenario) -> None:
    t = sc.synth.template("IngestDataSync")
    smb = _one(t, "AWS::DataSync::LocationSMB", {"User": "svc-datasync"})["Properties"]
    assert "Password" not in smb
    assert smb["AuthenticationType"] == "NTLM"
    assert smb["Domain"] == "CORP"
    assert smb["CustomSecretConfig"]["SecretArn"] == {
        "Ref": Match.string_like_regexp("SmbPassword")
    } or ("SmbPassword" in json.dumps(smb["CustomSecretConfig"]["SecretArn"]))
    role_ref = smb["CustomSecretConfig"]["SecretAccessRoleArn"]["Fn::GetAtt"][0]
    role = t.to_json()["Resources"][role_ref]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "datasync.amazonaws.com"
    }
    assert "SmbPassword" not in json.dumps(smb.get("Password", ""))


def test_hdfs_source(sc: Scenario) -> None:
    sc.synth.template("IngestDataSync").has_resource_properties(
        "AWS::DataSync::LocationHDFS",
        {
            "AuthenticationType": "SIMPLE",
            "SimpleUser": "hdfs",
            "NameNodes": [{"Hostname": "namenode.corp.example.com", "Port": 8020}],
            "Subdirectory": "/warehouse",
        },
    )


def test_object_storage_source_secret_key_from_secrets_manager(sc: Scenario) -> None:
    t = sc.synth.template("IngestDataSync")
    loc = _one(t, "AWS::DataSync::LocationObjectStorage", {})["Properties"]
    assert "SecretKey" not in loc
    assert loc["ServerProtocol"] == "HTTPS"
    assert loc["ServerPort"] == 443
    assert loc["BucketName"] == "instrument-data"
    assert "MinioSecretKey" in json.dumps(loc["CustomSecretConfig"]["SecretArn"])


def test_s3_source_role_is_read_only_on_its_prefix(sc: Scenario) -> None:
    t = sc.synth.template("IngestDataSync")
    policy = next(
        p
        for name, p in t.find_resources("AWS::IAM::Policy").items()
        if "SourceBucketRolePolicy" in name
    )
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statements[1]["Action"] == ["s3:GetObject", "s3:GetObjectTagging"]
    assert "partner-shared-data/exports/*" in json.dumps(statements[1]["Resource"])


def test_landing_bucket_destination_role_has_exactly_the_documented_permissions(
    sc: Scenario,
) -> None:
    t = sc.synth.template("IngestDataSync")
    resources = t.to_json()["Resources"]
    loc = _one(t, "AWS::DataSync::LocationS3", {"Subdirectory": "genomes/"})
    role_id = loc["Properties"]["S3Config"]["BucketAccessRoleArn"]["Fn::GetAtt"][0]
    bucket_id = loc["Properties"]["S3BucketArn"]["Fn::GetAtt"][0]
    trust = resources[role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "datasync.amazonaws.com"},
            "Condition": {
                "StringEquals": {"aws:SourceAccount": "123456789012"},
                "StringLike": {"aws:SourceArn": "arn:aws:datasync:us-east-2:123456789012:*"},
            },
        }
    ]
    policy = next(
        p
        for p in resources.values()
        if p["Type"] == "AWS::IAM::Policy" and p["Properties"]["Roles"] == [{"Ref": role_id}]
    )
    key_id = next(k for k, r in resources.items() if r["Type"] == "AWS::KMS::Key")
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    for statement in statements:
        statement["Action"] = sorted(statement["Action"])
    assert statements == [
        {
            "Action": [
                "s3:GetBucketLocation",
                "s3:ListBucket",
                "s3:ListBucketMultipartUploads",
            ],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [bucket_id, "Arn"]},
        },
        {
            "Action": sorted(
                [
                    "s3:AbortMultipartUpload",
                    "s3:DeleteObject",
                    "s3:GetObject",
                    "s3:ListMultipartUploadParts",
                    "s3:GetObjectTagging",
                    "s3:PutObjectTagging",
                    "s3:PutObject",
                ]
            ),
            "Effect": "Allow",
            "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, "/genomes/*"]]},
        },
        {
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [key_id, "Arn"]},
        },
    ]
    # The location waits for the policy so DataSync can validate access on creation.
    assert any("Policy" in d for d in loc.get("DependsOn", []))


def test_lustre_destination_uses_file_system_security_groups(sc: Scenario) -> None:
    t = sc.synth.template("IngestDataSync")
    loc = _one(t, "AWS::DataSync::LocationFSxLustre", {})["Properties"]
    assert loc["Subdirectory"] == "/in"
    arn = json.dumps(loc["FsxFilesystemArn"])
    assert ":fsx:us-east-2:123456789012:file-system/" in arn
    assert "Scratch" in arn
    groups = loc["SecurityGroupArns"]
    assert len(groups) == 1
    assert ":security-group/" in json.dumps(groups)
    assert "ScratchFsxLustreSecurityGroup" in json.dumps(groups)
    group = next(
        r
        for k, r in t.find_resources("AWS::EC2::SecurityGroup").items()
        if k.startswith("ScratchFsxLustreSecurityGroup")
    )
    assert group  # the L2 already admits 988-1023 from itself
    ingress = t.find_resources("AWS::EC2::SecurityGroupIngress")
    ports = {
        (r["Properties"]["FromPort"], r["Properties"]["ToPort"])
        for r in ingress.values()
        if "ScratchFsxLustreSecurityGroup"
        in json.dumps(r["Properties"].get("SourceSecurityGroupId"))
        and "ScratchFsxLustreSecurityGroup" in json.dumps(r["Properties"]["GroupId"])
    }
    assert {(988, 988), (1018, 1023)} <= ports


def test_efs_destination_opens_nfs_and_uses_a_private_subnet(sc: Scenario) -> None:
    t = sc.synth.template("IngestDataSync")
    loc = _one(t, "AWS::DataSync::LocationEFS", {})["Properties"]
    assert loc["InTransitEncryption"] == "TLS1_2"
    assert "PrivateSubnet1" in json.dumps(loc["Ec2Config"]["SubnetArn"])
    assert "EfsAccessSecurityGroup" in json.dumps(loc["Ec2Config"]["SecurityGroupArns"])
    t.has_resource_properties(
        "AWS::EC2::SecurityGroupIngress",
        {"IpProtocol": "tcp", "FromPort": 2049, "ToPort": 2049, "Description": "DataSync to EFS"},
    )


# --- tasks ------------------------------------------------------------------------------------


def test_task_options_filters_schedule_logs_and_report(sc: Scenario) -> None:
    t = sc.synth.template("IngestDataSync")
    task = _one(
        t,
        "AWS::DataSync::Task",
        {
            "Schedule": Match.object_like({"ScheduleExpression": Match.any_value()}),
            "TaskReportConfig": Match.any_value(),
        },
    )["Properties"]
    assert task["Schedule"] == {"ScheduleExpression": "cron(15 2 * * ? *)", "Status": "ENABLED"}
    assert task["Options"] == {
        "BytesPerSecond": 100_000_000,
        "LogLevel": "BASIC",
        "OverwriteMode": "ALWAYS",
        "PreserveDeletedFiles": "PRESERVE",
        "TransferMode": "CHANGED",
        "VerifyMode": "ONLY_FILES_TRANSFERRED",
    }
    assert task["Includes"] == [{"FilterType": "SIMPLE_PATTERN", "Value": "/runs/*|/refs/*"}]
    assert task["Excludes"] == [{"FilterType": "SIMPLE_PATTERN", "Value": "*.tmp|*/.snapshot"}]
    assert task["TaskMode"] == "BASIC"
    report = task["TaskReportConfig"]
    assert report["OutputType"] == "SUMMARY_ONLY"
    assert report["Destination"]["S3"]["Subdirectory"] == "datasync-reports/"
    assert "TaskLogs" in json.dumps(task["CloudWatchLogGroupArn"])
    assert len(sc.ingest.tasks) == 5
    assert sc.ingest.tasks[0] is sc.nfs


def test_every_task_verifies_by_default(sc: Scenario) -> None:
    tasks = sc.synth.template("IngestDataSync").find_resources("AWS::DataSync::Task")
    modes = sorted(t["Properties"]["Options"]["VerifyMode"] for t in tasks.values())
    assert "NONE" not in modes
    assert modes.count("ONLY_FILES_TRANSFERRED") == 4


def test_log_group_is_encrypted_retained_and_writable_by_datasync(sc: Scenario) -> None:
    t = sc.synth.template("IngestDataSync")
    group = next(
        iter(
            t.find_resources(
                "AWS::Logs::LogGroup", {"Properties": {"RetentionInDays": 365}}
            ).values()
        )
    )
    assert group["DeletionPolicy"] == "Retain"
    assert "KmsKeyId" in group["Properties"]
    policy = _one(t, "AWS::Logs::ResourcePolicy", {})["Properties"]["PolicyDocument"]
    assert "datasync.amazonaws.com" in json.dumps(policy)
    assert "logs:PutLogEvents" in json.dumps(policy)
    assert ":task/*" in json.dumps(policy)


def test_private_endpoint_allows_datasync_ports_from_agents_only(sc: Scenario) -> None:
    t = sc.synth.template("IngestDataSync")
    t.has_resource_properties(
        "AWS::EC2::VPCEndpoint",
        {"ServiceName": "com.amazonaws.us-east-2.datasync", "VpcEndpointType": "Interface"},
    )
    group = _one(
        t,
        "AWS::EC2::SecurityGroup",
        {"GroupDescription": Match.string_like_regexp("DataSync VPC endpoint")},
    )["Properties"]
    rules = {(r["CidrIp"], r["FromPort"], r["ToPort"]) for r in group["SecurityGroupIngress"]}
    assert rules == {("10.20.0.0/24", 443, 443), ("10.20.0.0/24", 1024, 1064)}


def test_event_rule_matches_this_constructs_task_executions(sc: Scenario) -> None:
    t = sc.synth.template("IngestDataSync")
    rule = _one(t, "AWS::Events::Rule", {})["Properties"]
    pattern = rule["EventPattern"]
    assert pattern["source"] == ["aws.datasync"]
    assert pattern["detail-type"] == ["DataSync Task Execution State Change"]
    assert pattern["detail"] == {"State": ["SUCCESS", "ERROR"]}
    assert len(pattern["resources"]) == 5
    assert all("prefix" in r for r in pattern["resources"])
    assert "NotificationsTopic" in json.dumps(rule["Targets"])
    topic = _one(t, "AWS::SNS::Topic", {})["Properties"]
    assert "KmsMasterKeyId" in topic
    t.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            }
        },
    )


def test_custom_notification_target(sc: Scenario) -> None:
    t = sc.synth.template("IngestTgw")
    assert sc.tgw_ingest.notifications_topic is None
    rule = _one(t, "AWS::Events::Rule", {})["Properties"]
    assert "OpsTopic" in json.dumps(rule["Targets"])


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 hour)",
        "rate(60 minutes)",
        "rate(1 day)",
        "cron(0 * * * ? *)",
        "cron(30 2 ? * MON *)",
    ],
)
def test_schedules_at_most_hourly_are_accepted(expression: str) -> None:
    assert schedule_problem(expression) is None


@pytest.mark.parametrize(
    "expression",
    [
        "rate(30 minutes)",
        "rate(59 minutes)",
        "cron(* * * * ? *)",
        "cron(0/15 * * * ? *)",
        "cron(0,30 * * * ? *)",
        "cron(0 2 * *)",
        "every hour",
    ],
)
def test_schedules_more_often_than_hourly_are_rejected(expression: str) -> None:
    assert schedule_problem(expression) is not None


# --- Direct Connect ---------------------------------------------------------------------------


def test_direct_connect_through_virtual_private_gateway(sc: Scenario) -> None:
    t = sc.synth.template("IngestVgw")
    res = t.to_json()["Resources"]
    t.has_resource_properties("AWS::EC2::VPNGateway", {"Type": "ipsec.1", "AmazonSideAsn": 64512})
    attachment_id = next(
        k
        for k, r in res.items()
        if r["Type"] == "AWS::EC2::VPCGatewayAttachment" and "VpnGatewayId" in r["Properties"]
    )
    propagation = _one(t, "AWS::EC2::VPNGatewayRoutePropagation", {})
    assert attachment_id in propagation["DependsOn"]
    assert len(propagation["Properties"]["RouteTableIds"]) == 2
    t.has_resource_properties(
        "AWS::DirectConnect::DirectConnectGateway", {"AmazonSideAsn": "64512"}
    )
    assoc = _one(t, "AWS::DirectConnect::DirectConnectGatewayAssociation", {})
    assert "VpnGateway" in json.dumps(assoc["Properties"]["AssociatedGatewayId"])
    assert attachment_id in assoc["DependsOn"]
    vif = _one(t, "AWS::DirectConnect::PrivateVirtualInterface", {})["Properties"]
    assert vif["ConnectionId"] == "dxcon-fgabc123"
    assert vif["Vlan"] == 101
    assert vif["Mtu"] == 9001
    assert "DirectConnectGatewayId" in json.dumps(vif)
    peer = vif["BgpPeers"][0]
    assert peer["Asn"] == "65010"
    assert peer["AddressFamily"] == "ipv4"
    assert "{{resolve:secretsmanager:" in json.dumps(peer["AuthKey"])
    assert peer["AmazonAddress"] == "169.254.10.1/30"


def test_direct_connect_through_transit_gateway(sc: Scenario) -> None:
    t = sc.synth.template("IngestTgw")
    t.resource_count_is("AWS::DirectConnect::DirectConnectGateway", 0)
    t.has_resource_properties("AWS::EC2::TransitGateway", {"AmazonSideAsn": 64600})
    attach = _one(t, "AWS::EC2::TransitGatewayAttachment", {})["Properties"]
    assert len(attach["SubnetIds"]) == 2
    t.has_resource_properties(
        "AWS::DirectConnect::DirectConnectGatewayAssociation",
        {
            "DirectConnectGatewayId": "5f294f92-bafb-4011-916d-9b0bec00aaaa",
            "AllowedPrefixesToDirectConnectGateway": ["10.0.0.0/16"],
        },
    )
    routes = t.find_resources(
        "AWS::EC2::Route", {"Properties": {"DestinationCidrBlock": "172.16.0.0/12"}}
    )
    assert len(routes) == 2
    assert all(r["DependsOn"] for r in routes.values())
    vif = _one(t, "AWS::DirectConnect::TransitVirtualInterface", {})["Properties"]
    assert vif["Mtu"] == 8500
    assert vif["Vlan"] == 202
    assert vif["ConnectionId"] == "dxlag-ffabc123"
    assert vif["BgpPeers"] == [{"AddressFamily": "ipv4", "Asn": "4200000100"}]


# --- Snowball ---------------------------------------------------------------------------------


def test_snowball_import_role_and_job_request(sc: Scenario) -> None:
    t = sc.synth.template("IngestVgw")
    res = t.to_json()["Resources"]
    role_id = next(
        k for k in res if "SnowballImportRole" in k and res[k]["Type"] == "AWS::IAM::Role"
    )
    trust = res[role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": "importexport.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    policy = next(
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in res.values()
        if p["Type"] == "AWS::IAM::Policy" and p["Properties"]["Roles"] == [{"Ref": role_id}]
    )
    assert policy[0]["Action"] == [
        "s3:GetBucketLocation",
        "s3:GetBucketPolicy",
        "s3:ListBucketMultipartUploads",
    ]
    assert policy[1]["Action"] == [
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
        "s3:PutObject",
        "s3:PutObjectAcl",
    ]
    outputs = t.to_json()["Outputs"]
    value = json.dumps(
        next(o["Value"] for k, o in outputs.items() if "SnowballCreateJobRequest" in k)
    )
    for needle in (
        '\\"JobType\\":\\"IMPORT\\"',
        "S3Resources",
        "BucketArn",
        "KmsKeyARN",
        "RoleARN",
        "<AddressId",
        "SECOND_DAY",
        "<device type",
    ):
        assert needle in value, needle


def test_snowball_true_uses_placeholders(sc: Scenario) -> None:
    outputs = sc.synth.template("IngestTgw").to_json()["Outputs"]
    value = json.dumps(next(o["Value"] for k, o in outputs.items() if "Snowball" in k))
    assert "SECOND_DAY | NEXT_DAY | EXPRESS | STANDARD" in value


# --- validation (construction only) -----------------------------------------------------------


def _stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "V", env=TEST_ENV)


def _nfs(**kw: Any) -> hc.DataSyncSource:
    args: dict[str, Any] = {"server_hostname": "nas", "export_path": "/x", "agent_arns": [AGENT]}
    args.update(kw)
    return hc.DataSyncSource.nfs(**args)


def _task_error(
    stack: cdk.Stack | None = None, ingest_kw: dict[str, Any] | None = None, **kw: Any
) -> str:
    stack = stack or _stack()
    ingest = hc.DataIngest(stack, "Ingest", **(ingest_kw or {}))
    args: dict[str, Any] = {
        "source": _nfs(),
        "destination": hc.DataSyncDestination.landing_bucket(),
    }
    args.update(kw)
    with pytest.raises(hc.HpcValidationError) as err:
        ingest.add_task("Task", **args)
    return str(err.value)


def _ingest_error(**kw: Any) -> str:
    with pytest.raises(hc.HpcValidationError) as err:
        hc.DataIngest(_stack(), "Ingest", **kw)
    return str(err.value)


def test_fails_when_bucket_and_bucket_props_are_both_given() -> None:
    stack = _stack()
    bucket = s3.Bucket.from_bucket_name(stack, "B", "existing")
    with pytest.raises(hc.HpcValidationError) as err:
        hc.DataIngest(
            stack,
            "Ingest",
            landing_bucket=bucket,
            bucket_encryption="KMS",
            intelligent_tiering_after_days=5,
        )
    msg = str(err.value)
    assert "V/Ingest" in msg
    assert "bucket_encryption='KMS'" in msg
    assert "intelligent_tiering_after_days=5" in msg
    assert "unset when landing_bucket is passed" in msg


def test_fails_on_unknown_bucket_encryption() -> None:
    assert "bucket_encryption='SSE_C'" in _ingest_error(bucket_encryption="SSE_C")


def test_fails_when_private_endpoint_has_no_vpc_or_agents() -> None:
    msg = _ingest_error(private_endpoint=True)
    assert "vpc=None" in msg
    assert "a VPC when private_endpoint=True" in msg
    assert "agent_cidrs=[]" in msg


def test_fails_on_bad_agent_cidr() -> None:
    assert "agent_cidrs='10.0.0.1/33'" in _ingest_error(agent_cidrs=["10.0.0.1/33"])


def test_fails_when_direct_connect_has_no_vpc() -> None:
    assert "a VPC when direct_connect is set" in _ingest_error(
        direct_connect=hc.DirectConnectOptions()
    )


def _dx_error(**kw: Any) -> str:
    stack = _stack()
    vpc = ec2.Vpc(stack, "Vpc", max_azs=1)
    with pytest.raises(hc.HpcValidationError) as err:
        hc.DataIngest(stack, "Ingest", vpc=vpc, direct_connect=hc.DirectConnectOptions(**kw))
    return str(err.value)


def _vif(**kw: Any) -> hc.VirtualInterfaceOptions:
    args: dict[str, Any] = {"connection_id": "dxcon-fgabc123", "vlan": 100, "customer_asn": 65000}
    args.update(kw)
    return hc.VirtualInterfaceOptions(**args)


def test_fails_on_public_amazon_side_asn() -> None:
    msg = _dx_error(direct_connect_gateway_asn=7224, gateway_asn=65535)
    assert "direct_connect_gateway_asn=7224" in msg
    assert "gateway_asn=65535" in msg
    assert "64512-65534 or 4200000000-4294967294" in msg


def test_transit_gateway_routes_every_selected_subnet_but_attaches_one_per_az() -> None:
    stack = _stack()
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        max_azs=1,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC),
            ec2.SubnetConfiguration(
                name="Services", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS
            ),
            ec2.SubnetConfiguration(name="Compute", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
        ],
    )
    ingest = hc.DataIngest(
        stack,
        "Ingest",
        vpc=vpc,
        direct_connect=hc.DirectConnectOptions(
            attachment="TRANSIT_GATEWAY", on_premises_cidrs=["172.16.0.0/12"]
        ),
    )
    link = ingest.direct_connect
    assert link is not None
    assert link.transit_gateway_attachment is not None
    assert len(stack.resolve(link.transit_gateway_attachment.subnet_ids)) == 1
    routes = [c for c in link.node.find_all() if isinstance(c, ec2.CfnRoute)]
    assert len({str(stack.resolve(r.route_table_id)) for r in routes}) == 2


def test_fails_when_transit_gateway_asn_equals_gateway_asn() -> None:
    msg = _dx_error(attachment="TRANSIT_GATEWAY", gateway_asn=64512)
    assert "direct_connect.gateway_asn=64512" in msg
    assert "need different ASNs" in msg


def test_fails_on_unknown_attachment() -> None:
    assert "direct_connect.attachment='VPN'" in _dx_error(attachment="VPN")


def test_fails_on_bad_gateway_id() -> None:
    assert "direct_connect_gateway_id='dxgw-123'" in _dx_error(direct_connect_gateway_id="dxgw-123")


def test_fails_on_bad_prefixes() -> None:
    msg = _dx_error(
        attachment="TRANSIT_GATEWAY", allowed_prefixes=["10.0.0.1/16"], on_premises_cidrs=["nope"]
    )
    assert "allowed_prefixes='10.0.0.1/16'" in msg
    assert "on_premises_cidrs='nope'" in msg


def test_fails_when_vgw_gets_static_on_premises_routes() -> None:
    assert "empty for a virtual private gateway" in _dx_error(on_premises_cidrs=["172.16.0.0/12"])


def test_fails_on_bad_virtual_interface() -> None:
    msg = _dx_error(
        virtual_interface=_vif(
            connection_id="con-123",
            vlan=4095,
            customer_asn=0,
            mtu=8500,
            amazon_address="300.1.1.1/30",
        )
    )
    assert "connection_id='con-123'" in msg
    assert "dxcon-xxxxxxxx or dxlag-xxxxxxxx" in msg
    assert "vlan=4095" in msg
    assert "1 to 4094" in msg
    assert ("customer_asn=0" in msg and "1 to 4.29497e+09" in msg) or "customer_asn=0" in msg
    assert "mtu=8500" in msg
    assert "private VIF" in msg
    assert "amazon_address='300.1.1.1/30'" in msg
    assert "customer_address=None" in msg


def test_fails_on_private_vif_mtu_for_transit() -> None:
    msg = _dx_error(attachment="TRANSIT_GATEWAY", virtual_interface=_vif(mtu=9001))
    assert "mtu=9001" in msg
    assert "one of 1500, 8500" in msg


def test_fails_on_bad_snowball_options() -> None:
    msg = _ingest_error(
        snowball=hc.SnowballImportOptions(shipping_option="OVERNIGHT", snowball_type="BIG")
    )
    assert "snowball.shipping_option='OVERNIGHT'" in msg
    assert "snowball.snowball_type='BIG'" in msg


def test_fails_on_bad_agent_arns() -> None:
    msg = _task_error(
        source=_nfs(agent_arns=["arn:aws:datasync:us-east-2:123456789012:agent/agent-1"])
    )
    assert "V/Ingest/Task" in msg
    assert "source.agent_arns" in msg
    assert "agent/agent-<17" in msg
    msg = _task_error(source=_nfs(agent_arns=[]))
    assert "1 to 8 agent ARNs" in msg
    msg = _task_error(source=_nfs(agent_arns=[AGENT] * 9))
    assert "1 to 8 agent ARNs" in msg


def test_fails_on_empty_hostname_and_bad_nfs_version() -> None:
    msg = _task_error(source=_nfs(server_hostname="", nfs_version="NFS5"))
    assert "source.server_hostname=''" in msg
    assert "source.nfs_version='NFS5'" in msg


def test_fails_on_bad_smb_source() -> None:
    stack = _stack()
    secret = secretsmanager.Secret(stack, "S")
    msg = _task_error(
        stack,
        source=hc.DataSyncSource.smb(
            server_hostname="host_name!",
            share_path="/s",
            agent_arns=[AGENT],
            user="a:b",
            password=secret,
            smb_version="SMB4",
        ),
    )
    assert "source.server_hostname='host_name!'" in msg
    assert "source.user='a:b'" in msg
    assert "source.smb_version='SMB4'" in msg


def test_fails_on_bad_hdfs_source() -> None:
    msg = _task_error(
        source=hc.DataSyncSource.hdfs(
            name_nodes=[hc.HdfsNameNode("nn", 0)],
            agent_arns=[AGENT],
            simple_user="-x",
            subdirectory="/a*b",
        )
    )
    assert "source.name_nodes.port=0" in msg
    assert "source.simple_user='-x'" in msg
    assert "source.subdirectory='/a*b'" in msg
    assert "at least one HdfsNameNode" in _task_error(
        source=hc.DataSyncSource.hdfs(name_nodes=[], agent_arns=[AGENT], simple_user="hdfs")
    )


def test_fails_on_bad_object_storage_source() -> None:
    stack = _stack()
    secret = secretsmanager.Secret(stack, "S")
    msg = _task_error(
        stack,
        source=hc.DataSyncSource.object_storage(
            server_hostname="minio",
            bucket_name="ab",
            agent_arns=[AGENT],
            access_key="",
            secret_key=secret,
            server_port=70000,
            server_protocol="FTP",
        ),
    )
    for needle in (
        "bucket_name='ab'",
        "access_key=''",
        "server_port=70000",
        "server_protocol='FTP'",
    ):
        assert needle in msg


@pytest.mark.parametrize("prefix", ["/data", "a//b", "a/./b", "a/../b"])
def test_fails_on_bad_s3_prefix(prefix: str) -> None:
    msg = _task_error(destination=hc.DataSyncDestination.landing_bucket(prefix=prefix))
    assert f"destination.prefix={prefix!r}" in msg
    assert "does not begin with /" in msg


def test_fails_on_bad_s3_source_prefix_and_storage_class() -> None:
    stack = _stack()
    bucket = s3.Bucket.from_bucket_name(stack, "P", "partner")
    msg = _task_error(
        stack,
        source=hc.DataSyncSource.s3(bucket, "/x"),
        destination=hc.DataSyncDestination.landing_bucket(storage_class="COLD"),
    )
    assert "source.prefix='/x'" in msg
    assert "destination.storage_class='COLD'" in msg


def test_fails_when_efs_destination_has_no_vpc() -> None:
    stack = _stack()
    fs = efs.FileSystem.from_file_system_attributes(
        stack,
        "Fs",
        file_system_id="fs-12345678",
        security_group=ec2.SecurityGroup.from_security_group_id(stack, "Sg", "sg-12345678"),
    )
    msg = _task_error(stack, destination=hc.DataSyncDestination.efs(fs))
    assert "vpc=None" in msg
    assert "a VPC on the DataIngest for an EFS destination" in msg


def test_fails_on_bad_lustre_subdirectory() -> None:
    stack = _stack()
    vpc = ec2.Vpc(stack, "Vpc", max_azs=1)
    msg = _task_error(
        stack, destination=hc.DataSyncDestination.lustre(_lustre(stack, vpc), subdirectory="/a:b")
    )
    assert "destination.subdirectory='/a:b'" in msg


@pytest.mark.parametrize(
    "schedule", ["rate(30 minutes)", "cron(0/5 * * * ? *)", "cron(* 2 * * ? *)"]
)
def test_fails_on_schedule_more_often_than_hourly(schedule: str) -> None:
    msg = _task_error(schedule=schedule)
    assert f"schedule={schedule!r}" in msg
    assert "rate(N hours|days)" in msg


def test_fails_on_events_schedule_every_30_minutes() -> None:
    msg = _task_error(schedule=events.Schedule.rate(cdk.Duration.minutes(30)))
    assert "schedule='rate(30 minutes)'" in msg


def test_fails_on_bad_task_options() -> None:
    msg = _task_error(
        verify_mode="SOMETIMES",
        overwrite_mode="MAYBE",
        preserve_deleted_files="KEEP",
        transfer_mode="SOME",
        bytes_per_second=0,
        includes=["a|b"],
        excludes=[""],
        task_report="FULL",
        log_level="DEBUG",
        task_mode="TURBO",
    )
    for needle in (
        "verify_mode='SOMETIMES'",
        "overwrite_mode='MAYBE'",
        "preserve_deleted_files='KEEP'",
        "transfer_mode='SOME'",
        "bytes_per_second=0",
        "includes='a|b'",
        "excludes=''",
        "task_report='FULL'",
        "log_level='DEBUG'",
        "task_mode='TURBO'",
    ):
        assert needle in msg
    assert msg.startswith("10 invalid properties")


def test_fails_on_full_verification_where_unsupported() -> None:
    msg = _task_error(verify_mode="POINT_IN_TIME_CONSISTENT", task_mode="ENHANCED")
    assert "ONLY_FILES_TRANSFERRED or NONE for ENHANCED tasks" in msg
    msg = _task_error(
        verify_mode="POINT_IN_TIME_CONSISTENT",
        destination=hc.DataSyncDestination.landing_bucket(storage_class="DEEP_ARCHIVE"),
    )
    assert "GLACIER / DEEP_ARCHIVE" in msg


def test_fails_on_enhanced_mode_to_lustre() -> None:
    stack = _stack()
    vpc = ec2.Vpc(stack, "Vpc", max_azs=1)
    msg = _task_error(
        stack,
        destination=hc.DataSyncDestination.lustre(_lustre(stack, vpc)),
        task_mode="ENHANCED",
    )
    assert "task_mode='ENHANCED' is not valid" in msg
    assert "BASIC unless the destination is an S3 bucket" in msg
    assert "destination is FSX_LUSTRE" in msg


def test_fails_when_remove_is_combined_with_transfer_all() -> None:
    msg = _task_error(preserve_deleted_files="REMOVE", transfer_mode="ALL")
    assert "PRESERVE when transfer_mode is ALL" in msg


def test_fails_on_bad_task_report_prefix() -> None:
    assert "task_report_prefix='/reports'" in _ingest_error(task_report_prefix="/reports")


@pytest.mark.parametrize(
    ("schedule", "reason"),
    [
        ("cron(0 25 * * ? *)", "hour 25 is out of range 0-23"),
        ("cron(61 2 * * ? *)", "minute 61 is out of range 0-59"),
        ("cron(0 2 32 * ? *)", "day-of-month 32 is out of range 1-31"),
    ],
    ids=["hour_25", "minute_61", "day_32"],
)
def test_fails_on_cron_field_out_of_range(schedule: str, reason: str) -> None:
    msg = _task_error(schedule=schedule)
    assert f"V/Ingest/Task: schedule={schedule!r} is not valid ({reason})" in msg
    assert "hour 0-23" in msg
    assert "day-of-month 1-31" in msg


def test_fails_on_hour_25() -> None:
    assert "hour 25 is out of range 0-23" in _task_error(schedule="cron(0 25 * * ? *)")


def test_fails_on_minute_61() -> None:
    assert "minute 61 is out of range 0-59" in _task_error(schedule="cron(61 2 * * ? *)")


def test_fails_on_day_32() -> None:
    assert "day-of-month 32 is out of range 1-31" in _task_error(schedule="cron(0 2 32 * ? *)")


def test_fails_when_both_or_neither_day_field_is_question_mark() -> None:
    msg = _task_error(schedule="cron(0 2 * * * *)")
    assert "exactly one of day-of-month and day-of-week must be '?'" in msg


def test_fails_on_rate_with_wrong_unit_number() -> None:
    assert "rate(1 hour)" in _task_error(schedule="rate(1 hours)")


# --- Python types and tokens at the boundary --------------------------------------------------


def test_fails_once_when_a_string_is_given_for_a_list() -> None:
    msg = _ingest_error(agent_cidrs="10.20.0.0/24", notify_states="ERROR")
    assert msg.startswith("2 invalid properties")
    assert "agent_cidrs='10.20.0.0/24' is not valid (got str); allowed: a list of str" in msg
    assert "notify_states='ERROR'" in msg
    msg = _task_error(source=_nfs(agent_arns=AGENT), includes="*.tmp")
    assert msg.startswith("2 invalid properties")
    assert f"source.agent_arns={AGENT!r} is not valid (got str)" in msg
    assert "includes='*.tmp' is not valid (got str)" in msg


def test_fails_once_on_str_for_int_and_int_for_str() -> None:
    msg = _ingest_error(intelligent_tiering_after_days="30", bucket_encryption=1)
    assert msg.startswith("2 invalid properties")
    assert (
        "V/Ingest: intelligent_tiering_after_days='30' is not valid (got str); allowed: int" in msg
    )
    assert "V/Ingest: bucket_encryption=1 is not valid (got int); allowed: str or None" in msg
    msg = _dx_error(virtual_interface=_vif(vlan="101", connection_id=42))
    assert msg.startswith("2 invalid properties")
    assert "direct_connect.virtual_interface.vlan='101' is not valid (got str)" in msg
    assert "direct_connect.virtual_interface.connection_id=42 is not valid (got int)" in msg
    msg = _task_error(bytes_per_second="100", schedule=60)
    assert msg.startswith("2 invalid properties")
    assert "V/Ingest/Task: bytes_per_second='100' is not valid (got str)" in msg
    assert "V/Ingest/Task: schedule=60 is not valid (got int)" in msg


def test_fails_when_a_token_is_given_where_a_concrete_value_is_needed() -> None:
    msg = _ingest_error(task_report_prefix=cdk.Aws.REGION, bucket_encryption=cdk.Aws.REGION)
    assert "task_report_prefix='<unresolved token>' is not valid (needs a concrete value" in msg
    assert "bucket_encryption='<unresolved token>' is not valid (needs a concrete value" in msg
    assert msg.count("needs a concrete value at synth time") == 2
    msg = _dx_error(attachment=cdk.Aws.REGION)
    assert "direct_connect.attachment=" in msg
    assert "needs a concrete value at synth time" in msg
    msg = _task_error(destination=hc.DataSyncDestination.landing_bucket(prefix=cdk.Aws.REGION))
    assert "destination.prefix=" in msg
    assert "needs a concrete value at synth time" in msg


def test_tokens_are_accepted_where_aws_accepts_them() -> None:
    stack = _stack()
    vpc = ec2.Vpc(stack, "Vpc", max_azs=1)
    asn = cdk.Token.as_number(cdk.CfnParameter(stack, "Asn", type="Number").value_as_number)
    ingest = hc.DataIngest(
        stack,
        "Ingest",
        vpc=vpc,
        direct_connect=hc.DirectConnectOptions(
            virtual_interface=_vif(customer_asn=asn, vlan=asn, connection_id=cdk.Aws.NO_VALUE)
        ),
    )
    ingest.add_task(
        "Task",
        source=_nfs(
            agent_arns=cdk.CfnParameter(stack, "Agents", type="CommaDelimitedList").value_as_list
        ),
        destination=hc.DataSyncDestination.landing_bucket(),
        schedule=cdk.Aws.REGION,
    )
    vif = _one(Template.from_stack(stack), "AWS::DirectConnect::PrivateVirtualInterface", {})
    assert vif["Properties"]["BgpPeers"][0]["Asn"] == {"Ref": "Asn"}


# --- feature flags and deprecations -----------------------------------------------------------


def test_landing_bucket_is_cfn_lint_clean_without_the_repository_feature_flags() -> None:
    # A consumer's app: no cdk.json context at all (feature flags at their library defaults).
    app = cdk.App()
    stack = cdk.Stack(app, "NoFlags", env=TEST_ENV)
    hc.DataIngest(stack, "Ingest")
    template = app.synth().get_stack_by_name("NoFlags").template
    assert_cfn_lint_clean(template)
    log_bucket = next(
        r for k, r in template["Resources"].items() if k.startswith("IngestAccessLogBucket")
    )
    assert "AccessControl" not in log_bucket["Properties"]
    assert "logging.s3.amazonaws.com" in json.dumps(template)


_DX_SCENARIO = """
import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_secretsmanager as secretsmanager
import hpc_constructs as hc

app = cdk.App()
env = cdk.Environment(account="123456789012", region="us-east-2")
for name, options in (
    ("Vgw", dict(virtual_interface=hc.VirtualInterfaceOptions(
        connection_id="dxcon-fgabc123", vlan=101, customer_asn=65010, mtu=9001))),
    ("Tgw", dict(attachment="TRANSIT_GATEWAY", on_premises_cidrs=["172.16.0.0/12"],
        virtual_interface=hc.VirtualInterfaceOptions(
            connection_id="dxlag-ffabc123", vlan=202, customer_asn=65010, mtu=8500))),
):
    stack = cdk.Stack(app, name, env=env)
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2)
    ingest = hc.DataIngest(stack, "Ingest", vpc=vpc, snowball=True,
        direct_connect=hc.DirectConnectOptions(**options))
    ingest.add_task("Nightly", source=hc.DataSyncSource.nfs(server_hostname="nas",
        export_path="/data", agent_arns=["arn:aws:datasync:us-east-2:123456789012:agent/"
        "agent-0123456789abcdef0"]), destination=hc.DataSyncDestination.landing_bucket(),
        task_report="SUMMARY_ONLY", schedule="rate(1 day)")
app.synth()
print("ok")
"""


def test_direct_connect_scenario_uses_no_deprecated_api(capsys: pytest.CaptureFixture[str]) -> None:
    # conftest.py starts the jsii runtime with JSII_DEPRECATED=fail, so any deprecated
    # aws-cdk-lib call in this scenario raises (tests/test_harness.py proves the setting works).
    exec(compile(_DX_SCENARIO, "direct-connect-scenario", "exec"), {})
    assert capsys.readouterr().out.strip() == "ok"
