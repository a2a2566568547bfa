"""The validators themselves: prove cfn-lint and cdk-nag can fail, so a green run means something."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3

from tests.harness import (
    TEST_ENV,
    assert_cfn_lint_clean,
    assert_nag_clean,
    cfn_lint,
    make_app,
    synthesize,
    warning_ids,
)


def test_cfn_lint_catches_a_broken_template() -> None:
    broken = {
        "Resources": {
            "Fs": {
                "Type": "AWS::FSx::FileSystem",
                "Properties": {"FileSystemType": "LUSTRE", "StorageCapacity": 1000},
            }
        }
    }
    findings = cfn_lint(broken)
    # E3003: SubnetIds is required; E3725: Lustre minimum capacity is 1200 GiB.
    assert any(f.startswith("E3003") for f in findings), findings
    assert any(f.startswith("E3725") for f in findings), findings
    with pytest.raises(AssertionError, match="cfn-lint findings"):
        assert_cfn_lint_clean(broken)


def test_cfn_lint_checks_instance_types_per_region() -> None:
    template = {
        "Resources": {
            "Lt": {
                "Type": "AWS::EC2::LaunchTemplate",
                "Properties": {"LaunchTemplateData": {"InstanceType": "hpc7a.96xlarge"}},
            }
        }
    }
    assert cfn_lint(template, ["us-east-2"]) == []
    assert any(f.startswith("E3628") for f in cfn_lint(template, ["us-east-1"]))


def test_nag_helper_reports_a_noncompliant_resource() -> None:
    app = make_app()
    stack = cdk.Stack(app, "Bad", env=TEST_ENV)
    s3.Bucket(stack, "Bucket")  # no access logs, no TLS-only policy
    synth = synthesize(app)
    rules = {f.rule for f in synth.nag}
    assert {"AwsSolutions-S1", "AwsSolutions-S10"} <= rules
    with pytest.raises(AssertionError, match="cdk-nag AwsSolutions findings"):
        assert_nag_clean(synth)


def test_nag_acknowledgement_is_scoped_to_one_resource() -> None:
    app = make_app()
    stack = cdk.Stack(app, "Ack", env=TEST_ENV)
    acked = s3.Bucket(stack, "Acked", enforce_ssl=True)
    s3.Bucket(stack, "Other", enforce_ssl=True)
    cdk.Validations.of(acked).acknowledge(
        cdk.Acknowledgment(id="AwsSolutions-S1", reason="test: access logs not needed here")
    )
    synth = synthesize(app)
    assert [f.path for f in synth.nag if f.rule == "AwsSolutions-S1"] == ["Ack/Other/Resource"]


def test_warning_ids_are_collected() -> None:
    app = make_app()
    stack = cdk.Stack(app, "Warn", env=TEST_ENV)
    cdk.Annotations.of(stack).add_warning_v2("hpc-constructs:example", "example warning")
    assert warning_ids(stack) == {"hpc-constructs:example"}


def test_deprecated_aws_cdk_apis_fail_the_tests() -> None:
    """conftest.py starts the jsii runtime with JSII_DEPRECATED=fail."""
    stack = cdk.Stack(cdk.App(), "Deprecated")
    first = cdk.CfnResource(stack, "First", type="AWS::SNS::Topic")
    second = cdk.CfnResource(stack, "Second", type="AWS::SNS::Topic")
    with pytest.raises(RuntimeError, match="DeprecationError"):
        second.add_depends_on(first)
