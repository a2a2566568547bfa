"""HpcImage: an x86 CPU, an arm64 (Graviton, with the PCS software) and a GPU image in one
synthesized app, with a fleet, a Batch multi-node environment and a PCS node group on them;
cfn-lint and cdk-nag on the template; the rules on plain values; every documented limit a
``test_fails_*``. The scripts inside the components run in tests/test_image_sandbox.py."""

from __future__ import annotations

import json
import re
from typing import Any

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms

from hpc_constructs import BatchMultiNode, EfaComputeFleet, HpcValidationError, NetworkFabric
from hpc_constructs.boot import node_setup_script
from hpc_constructs.errors import Validator
from hpc_constructs.image import (
    EFA_INSTALLER_KEY_FINGERPRINT,
    EFA_INSTALLER_VERSION,
    PCS_AGENT_INSTALLER,
    PCS_SLURM_INSTALLERS,
    HpcImage,
    ImageBase,
    ImageProps,
    Installer,
    PcsSoftware,
    components,
    plan_image,
    recipe_version,
)
from hpc_constructs.slurm import PcsCluster
from tests.harness import (
    TEST_ENV,
    Synthesized,
    assert_cfn_lint_clean,
    assert_nag_clean,
    make_app,
    synthesize,
)

STACK = "Images"


class Scenario:
    def __init__(self) -> None:
        app = make_app()
        stack = cdk.Stack(app, STACK, env=TEST_ENV)
        fabric = NetworkFabric(stack, "Fabric", compute_availability_zone="us-east-2b")
        vpc = fabric.vpc
        self.key = kms.Key(stack, "AmiKey", enable_key_rotation=True)
        self.cpu = HpcImage(
            stack,
            "Cpu",
            instance_types=["hpc7a.96xlarge", "c5n.18xlarge"],
            vpc=vpc,
            encryption_key=self.key,
        )
        self.arm = HpcImage(
            stack,
            "Arm",
            instance_types=["c7gn.16xlarge"],
            vpc=vpc,
            pcs=PcsSoftware("25.05"),
            schedule="cron(0 4 ? * sun *)",
            regions=["eu-west-1"],
        )
        self.gpu = HpcImage(stack, "Gpu", instance_types=["p5.48xlarge"], vpc=vpc)
        self.batch_image = HpcImage(
            stack, "Batch", instance_types=["c5n.18xlarge"], vpc=vpc, base=ImageBase.ECS_OPTIMIZED
        )
        self.fleet = EfaComputeFleet(
            stack,
            "Fleet",
            vpc=vpc,
            vpc_subnets=fabric.compute_subnet,
            instance_types=["hpc7a.96xlarge"],
            max_nodes=4,
            machine_image=self.cpu.machine_image,
        )
        self.batch = BatchMultiNode(
            stack,
            "Mnp",
            vpc=vpc,
            vpc_subnets=fabric.compute_subnet,
            instance_type="c5n.18xlarge",
            max_nodes=2,
            machine_image=self.batch_image.ecs_machine_image,
        )
        cluster = PcsCluster(
            stack,
            "Pcs",
            vpc=vpc,
            vpc_subnets=fabric.compute_subnet,
            machine_image=self.arm.machine_image,
            slurm_version="25.05",
        )
        self.group = cluster.add_node_group("Arm", instance_types=["c7gn.16xlarge"], max_nodes=2)
        # An isolated fabric: the image builds in the NAT'd VPC, the nodes boot it offline.
        isolated = NetworkFabric(
            stack, "Isolated", compute_availability_zone="us-east-2b", internet_access=False
        )
        self.isolated_fleet = EfaComputeFleet(
            stack,
            "IsolatedFleet",
            vpc=isolated.vpc,
            vpc_subnets=isolated.compute_subnet,
            instance_types=["hpc7a.96xlarge"],
            max_nodes=2,
            machine_image=self.cpu.machine_image,
        )
        self.synth: Synthesized = synthesize(app)
        self.template = self.synth.template_dict(STACK)

    def of_type(self, type_: str) -> dict[str, dict[str, Any]]:
        return {k: r for k, r in self.template["Resources"].items() if r["Type"] == type_}

    def documents(self, image: str) -> dict[str, dict[str, Any]]:
        return {
            key: yaml.safe_load(r["Properties"]["Data"])
            for key, r in self.of_type("AWS::ImageBuilder::Component").items()
            if key.startswith(image)
        }


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return Scenario()


def test_synthesizes_lint_and_nag_clean(scenario: Scenario) -> None:
    assert_cfn_lint_clean(scenario.template)
    assert_nag_clean(scenario.synth)


def test_every_image_builder_resource_exists_per_image(scenario: Scenario) -> None:
    for type_ in (
        "AWS::ImageBuilder::ImageRecipe",
        "AWS::ImageBuilder::InfrastructureConfiguration",
        "AWS::ImageBuilder::DistributionConfiguration",
        "AWS::ImageBuilder::ImagePipeline",
        "AWS::ImageBuilder::Image",
    ):
        assert len(scenario.of_type(type_)) == 4, type_
    images = scenario.of_type("AWS::ImageBuilder::Image").values()
    assert all(i["Properties"]["ImageTestsConfiguration"]["ImageTestsEnabled"] for i in images)


def test_component_documents_parse_and_hold_verification_and_tests(scenario: Scenario) -> None:
    docs = scenario.documents("Cpu")
    phases = {d["name"]: d["phases"][0]["name"] for d in docs.values()}
    assert phases == {
        "update": "build",
        "efa": "build",
        "lustre": "build",
        "tools": "build",
        "manifest": "build",
        "test": "test",
    }
    text = {d["name"]: json.dumps(d) for d in docs.values()}
    assert EFA_INSTALLER_KEY_FINGERPRINT in text["efa"]
    assert "gpg --batch --verify" in text["efa"]
    assert "aws-efa-installer-$version.tar.gz" in text["efa"]
    assert f"version={EFA_INSTALLER_VERSION}" in text["efa"]
    assert "modprobe lustre" in text["lustre"]
    assert "Reboot" in text["update"]
    assert "fi_info -p efa" in text["test"]
    assert "modprobe lustre" in text["test"]
    assert "libnccl" not in text["test"]  # a CPU image


def test_gpu_image_tests_nccl_and_the_efa_plugin_on_the_dlami(scenario: Scenario) -> None:
    (test,) = [d for d in scenario.documents("Gpu").values() if d["name"] == "test"]
    script = test["phases"][0]["steps"][0]["inputs"]["commands"][0]
    assert "libnccl" in script
    assert "libnccl-net" in script
    (recipe,) = [
        r
        for k, r in scenario.of_type("AWS::ImageBuilder::ImageRecipe").items()
        if k.startswith("Gpu")
    ]
    assert "base-oss-nvidia-driver-gpu-amazon-linux-2023" in json.dumps(scenario.template)
    assert recipe["Properties"]["AmiTags"]["hpc-constructs:base"] == "deep-learning-gpu"


def test_pcs_image_checks_installers_against_the_guides_sha256(scenario: Scenario) -> None:
    docs = {d["name"]: json.dumps(d) for d in scenario.documents("Arm").values()}
    assert PCS_AGENT_INSTALLER.sha256 in docs["pcs"]
    assert PCS_SLURM_INSTALLERS["25.05"].sha256 in docs["pcs"]
    assert "sha256sum -c" in docs["pcs"]
    assert "slurm-25.05/sbin/slurmd" in docs["test"]


def test_arm_image_builds_on_graviton_with_schedule_and_regions(scenario: Scenario) -> None:
    (infra,) = [
        r
        for k, r in scenario.of_type("AWS::ImageBuilder::InfrastructureConfiguration").items()
        if k.startswith("Arm")
    ]
    assert infra["Properties"]["InstanceTypes"] == ["m7g.2xlarge"]
    assert infra["Properties"]["InstanceMetadataOptions"]["HttpTokens"] == "required"
    assert infra["Properties"]["TerminateInstanceOnFailure"] is True
    (pipeline,) = [
        r
        for k, r in scenario.of_type("AWS::ImageBuilder::ImagePipeline").items()
        if k.startswith("Arm")
    ]
    assert pipeline["Properties"]["Schedule"]["ScheduleExpression"] == "cron(0 4 ? * sun *)"
    (dist,) = [
        r
        for k, r in scenario.of_type("AWS::ImageBuilder::DistributionConfiguration").items()
        if k.startswith("Arm")
    ]
    regions = [d["Region"] for d in dist["Properties"]["Distributions"]]
    assert regions[1:] == ["eu-west-1"]
    first = dist["Properties"]["Distributions"][0]
    assert first["SsmParameterConfigurations"][0]["DataType"] == "aws:ec2:image"
    tags = first["AmiDistributionConfiguration"]["AmiTags"]
    assert tags["hpc-constructs:efa-installer"] == EFA_INSTALLER_VERSION
    assert tags["hpc-constructs:slurm"] == PCS_SLURM_INSTALLERS["25.05"].version


def test_ami_snapshots_are_encrypted_with_the_given_key(scenario: Scenario) -> None:
    (dist,) = [
        r
        for k, r in scenario.of_type("AWS::ImageBuilder::DistributionConfiguration").items()
        if k.startswith("Cpu")
    ]
    ami = dist["Properties"]["Distributions"][0]["AmiDistributionConfiguration"]
    key = next(k for k in scenario.of_type("AWS::KMS::Key") if k.startswith("AmiKey"))
    assert ami["KmsKeyId"] == {"Fn::GetAtt": [key, "Arn"]}
    assert "{{imagebuilder:buildDate}}" in ami["Name"]


def test_recipe_version_follows_the_content() -> None:
    v = Validator("Test/Image")
    one = plan_image(v, ImageProps(("c5n.18xlarge",)), "Test/Image")
    two = plan_image(v, ImageProps(("c5n.18xlarge",), shell_steps=("echo hi",)), "Test/Image")
    assert one is not None
    assert two is not None
    docs = [[c.document for c in components(p)] for p in (one, two)]
    versions = {recipe_version(p.content_hash(d)) for p, d in zip((one, two), docs, strict=True)}
    assert len(versions) == 2
    for version in versions:
        assert re.fullmatch(r"1\.[0-9]+\.[0-9]+", version)
        assert all(int(n) < 2**30 for n in version.split("."))


def _setup_text(plan: Any) -> str:
    return node_setup_script(plan)


def test_launchers_on_the_image_install_nothing_at_boot(scenario: Scenario) -> None:
    plans = [
        *scenario.fleet.boot_plans.values(),
        scenario.batch.boot_plan,
        scenario.group.boot_plan,
    ]
    for plan in plans:
        text = _setup_text(plan)
        assert plan.image is not None
        assert "dnf" not in text, plan.launcher
        assert "efa-installer.amazonaws.com" not in text
        assert "install_efa" not in text
        assert "/etc/hpc-constructs/image-versions" in text
    # ... and the launch template runs the built AMI.
    lt = json.dumps(scenario.of_type("AWS::EC2::LaunchTemplate"))
    assert "ImageId" in lt
    image_key = next(k for k in scenario.of_type("AWS::ImageBuilder::Image") if k.startswith("Cpu"))
    assert {"Fn::GetAtt": [image_key, "ImageId"]} in _values(scenario.template, "ImageId")


def test_a_batch_grid_on_the_ecs_image_installs_nothing_and_refuses_other_images() -> None:
    from hpc_constructs import BatchGrid

    app = make_app()
    stack = cdk.Stack(app, "Grid", env=TEST_ENV)
    fabric = NetworkFabric(stack, "Fabric", compute_availability_zone="us-east-2b")
    ecs_image = HpcImage(stack, "Ecs", instance_types=["c5n.18xlarge"], vpc=fabric.vpc,
                         base=ImageBase.ECS_OPTIMIZED)  # fmt: skip
    grid = BatchGrid(stack, "Grid", vpc=fabric.vpc, instance_types=["c5n.18xlarge"],
                     max_vcpus=256, machine_image=ecs_image.ecs_machine_image)  # fmt: skip
    lustre = hc_lustre(stack, fabric)
    grid.add_file_system(lustre, mount_point="/fsx")
    text = _setup_text(grid.boot_plan)
    assert grid.boot_plan.image is not None
    assert "dnf" not in text
    arm = HpcImage(stack, "Arm", instance_types=["c7gn.16xlarge"], vpc=fabric.vpc,
                   base=ImageBase.ECS_OPTIMIZED)  # fmt: skip
    with pytest.raises(HpcValidationError, match="machine_image"):
        BatchGrid(stack, "ArmOnX86", vpc=fabric.vpc, instance_types=["c5n.18xlarge"],
                  max_vcpus=256, machine_image=arm.ecs_machine_image)  # fmt: skip


def hc_lustre(stack: cdk.Stack, fabric: NetworkFabric) -> Any:
    from hpc_constructs import LustreScratch

    return LustreScratch(stack, "Scratch", vpc=fabric.vpc, vpc_subnets=fabric.compute_subnets,
                         storage_capacity_gib=1200)  # fmt: skip


def test_isolated_fabric_boots_the_image_built_in_another_vpc(scenario: Scenario) -> None:
    (plan,) = scenario.isolated_fleet.boot_plans.values()
    text = _setup_text(plan)
    assert "dnf" not in text
    assert "efa-installer.amazonaws.com" not in text


def test_fails_when_the_build_has_no_route_out() -> None:
    def build(stack: cdk.Stack, fabric: NetworkFabric) -> None:
        isolated = NetworkFabric(stack, "Isolated", compute_availability_zone="us-east-2b",
                                 internet_access=False)  # fmt: skip
        HpcImage(stack, "Image", instance_types=["c5n.18xlarge"], vpc=isolated.vpc)

    assert "NAT gateway" in _launcher_problem(build)


def _values(node: Any, key: str) -> list[Any]:
    found: list[Any] = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                found.append(v)
            found += _values(v, key)
    elif isinstance(node, list):
        for item in node:
            found += _values(item, key)
    return found


def test_stock_images_still_install_at_boot(scenario: Scenario) -> None:
    """Without an HpcImage nothing changes: the set-up installs what the image lacks."""
    app = make_app()
    stack = cdk.Stack(app, "Stock", env=TEST_ENV)
    fabric = NetworkFabric(stack, "Fabric", compute_availability_zone="us-east-2b")
    fleet = EfaComputeFleet(stack, "Fleet", vpc=fabric.vpc, vpc_subnets=fabric.compute_subnet,
                            instance_types=["c5n.18xlarge"], max_nodes=2)  # fmt: skip
    text = _setup_text(next(iter(fleet.boot_plans.values())))
    assert "efa-installer.amazonaws.com" in text


# --- rules on plain values --------------------------------------------------------------------


def _problems(props: ImageProps) -> str:
    v = Validator("Test/Image")
    plan_image(v, props, "Test/Image")
    return "\n".join(str(p) for p in v.problems)


def test_fails_when_architectures_mix() -> None:
    assert "one architecture" in _problems(ImageProps(("c5n.18xlarge", "c7gn.16xlarge")))


def test_fails_when_gpu_and_cpu_types_mix() -> None:
    assert "all GPU or all CPU" in _problems(ImageProps(("p5.48xlarge", "c5n.18xlarge")))


def test_fails_with_gpu_components_on_a_cpu_image() -> None:
    assert "CPU base" in _problems(ImageProps(("c5n.18xlarge",), base="deep-learning-gpu"))


def test_fails_with_a_plain_base_for_gpu_types() -> None:
    assert "NVIDIA" in _problems(ImageProps(("p5.48xlarge",), base="amazon-linux-2023"))


def test_fails_with_an_unknown_base() -> None:
    assert "base" in _problems(ImageProps(("c5n.18xlarge",), base="ubuntu"))  # type: ignore[arg-type]


def test_fails_with_an_unknown_instance_type() -> None:
    assert "catalog" in _problems(ImageProps(("c5n.huge",)))


@pytest.mark.parametrize("version", ["latest", "1.50", "v1.50.0", "1.50.0; rm -rf /"])
def test_fails_when_the_efa_version_is_not_a_version(version: str) -> None:
    assert "a version like" in _problems(
        ImageProps(("c5n.18xlarge",), efa_installer_version=version)
    )


def test_fails_when_a_checksum_is_not_sha256() -> None:
    assert "64 lowercase hex" in _problems(
        ImageProps(("c5n.18xlarge",), efa_installer_sha256="abc")
    )
    bad = PcsSoftware("25.05", agent_installer=Installer("1.2.2-1", "XYZ"))
    assert "pcs.agent_installer.sha256" in _problems(ImageProps(("c5n.18xlarge",), pcs=bad))


def test_fails_for_a_slurm_version_without_a_cited_installer() -> None:
    text = _problems(ImageProps(("c5n.18xlarge",), pcs=PcsSoftware("25.11")))
    assert "pcs.slurm_installer" in text
    assert "Verify installers using a checksum" in text
    assert "pcs.slurm_version" in _problems(ImageProps(("c5n.18xlarge",), pcs=PcsSoftware("20.02")))


def test_fails_with_pcs_software_on_the_ecs_base() -> None:
    assert "ECS" in _problems(
        ImageProps(("c5n.18xlarge",), base="ecs-optimized", pcs=PcsSoftware())
    )


def test_fails_with_a_bad_schedule_region_or_build_type() -> None:
    assert "cron" in _problems(ImageProps(("c5n.18xlarge",), schedule="every sunday"))
    assert "Region names" in _problems(ImageProps(("c5n.18xlarge",), regions=("Europe",)))
    assert "each Region once" in _problems(
        ImageProps(("c5n.18xlarge",), regions=("eu-west-1", "eu-west-1"))
    )
    assert "x86_64 types" in _problems(
        ImageProps(("c5n.18xlarge",), build_instance_types=("m7g.2xlarge",))
    )


@pytest.mark.parametrize(
    ("types", "size", "low"), [(("c5n.18xlarge",), 7, 8), (("p5.48xlarge",), 74, 75)]
)
def test_fails_when_the_root_volume_is_below_the_base_snapshot(
    types: tuple[str, ...], size: int, low: int
) -> None:
    text = _problems(ImageProps(types, root_volume_size_gib=size))
    assert "root_volume_size_gib" in text
    assert f"{low} to 16000" in text


def test_fails_when_the_root_volume_exceeds_image_builders_limit() -> None:
    assert "8 to 16000" in _problems(ImageProps(("c5n.18xlarge",), root_volume_size_gib=16001))


def test_fails_when_shell_steps_outgrow_a_component_document() -> None:
    app = make_app()
    stack = cdk.Stack(app, "Big", env=TEST_ENV)
    vpc = ec2.Vpc(stack, "Vpc")
    with pytest.raises(HpcValidationError, match="16000 characters"):
        HpcImage(stack, "Image", instance_types=["c5n.18xlarge"], vpc=vpc,
                 shell_steps=["echo " + "x" * 17000])  # fmt: skip


def _launcher_problem(build: Any) -> str:
    app = make_app()
    stack = cdk.Stack(app, "Mismatch", env=TEST_ENV)
    fabric = NetworkFabric(stack, "Fabric", compute_availability_zone="us-east-2b")
    with pytest.raises(HpcValidationError) as caught:
        build(stack, fabric)
    return str(caught.value)


def test_fails_when_a_fleet_gets_an_image_of_another_architecture() -> None:
    def build(stack: cdk.Stack, fabric: NetworkFabric) -> None:
        arm = HpcImage(stack, "Arm", instance_types=["c7gn.16xlarge"], vpc=fabric.vpc)
        EfaComputeFleet(stack, "Fleet", vpc=fabric.vpc, vpc_subnets=fabric.compute_subnet,
                        instance_types=["hpc7a.96xlarge"], max_nodes=2,
                        machine_image=arm.machine_image)  # fmt: skip

    text = _launcher_problem(build)
    assert "machine_image" in text
    assert "x86_64" in text


def test_fails_when_batch_gets_an_image_without_the_ecs_agent() -> None:
    def build(stack: cdk.Stack, fabric: NetworkFabric) -> None:
        cpu = HpcImage(stack, "Cpu", instance_types=["c5n.18xlarge"], vpc=fabric.vpc)
        cpu.ecs_machine_image  # noqa: B018 - the property refuses a non-ECS image

    assert "ECS_OPTIMIZED" in _launcher_problem(build)


def test_fails_when_a_pcs_group_gets_an_image_for_another_slurm() -> None:
    def build(stack: cdk.Stack, fabric: NetworkFabric) -> None:
        arm = HpcImage(stack, "Arm", instance_types=["c7gn.16xlarge"], vpc=fabric.vpc,
                       pcs=PcsSoftware("24.11"))  # fmt: skip
        cluster = PcsCluster(stack, "Pcs", vpc=fabric.vpc, vpc_subnets=fabric.compute_subnet,
                             machine_image=arm.machine_image, slurm_version="25.05")  # fmt: skip
        cluster.add_node_group("Arm", instance_types=["c7gn.16xlarge"], max_nodes=2)

    assert "slurm_version='25.05'" in _launcher_problem(build)
