"""``HpcImage``: a golden AMI for HPC nodes, built and tested by EC2 Image Builder.

aws-cdk-lib 2.275 has only the L1 ``aws_imagebuilder.Cfn*`` classes (the Image Builder L2 is
an alpha module outside aws-cdk-lib), so the resources below are L1; the role, instance
profile, security group and machine image are L2.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_batch as batch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_imagebuilder as imagebuilder
from aws_cdk import aws_kms as kms
from constructs import Construct

from hpc_constructs.boot.plan import ImageFacts
from hpc_constructs.compute import select_subnets
from hpc_constructs.errors import Validator
from hpc_constructs.image.components import Component, components
from hpc_constructs.image.plan import (
    DEFAULT_ROOT_VOLUME_GIB,
    DLAMI_PARAMETER,
    EFA_INSTALLER_VERSION,
    TEST_TIMEOUT_MINUTES,
    BaseKind,
    ImagePlan,
    ImageProps,
    PcsSoftware,
    plan_image,
    recipe_version,
)

#: Prefix of the SSM parameter the distribution updates with every new AMI of the image.
SSM_PARAMETER_PREFIX = "/hpc-constructs/images"


class ImageBase(Enum):
    """The image an :class:`HpcImage` starts from (or pass any ``ec2.IMachineImage``)."""

    #: The latest Amazon Linux 2023 of the architecture (public SSM parameter).
    AMAZON_LINUX_2023 = "amazon-linux-2023"
    #: The Deep Learning Base OSS Nvidia Driver GPU AMI (Amazon Linux 2023): driver, CUDA,
    #: NCCL and aws-ofi-nccl; the default for GPU types.
    DEEP_LEARNING_GPU = "deep-learning-gpu"
    #: The ECS-optimized Amazon Linux 2023 AMI (its GPU variant for GPU types): for AWS Batch
    #: (``image.ecs_machine_image``).
    ECS_OPTIMIZED = "ecs-optimized"


@jsii.implements(ec2.IMachineImage)
class HpcMachineImage:
    """The AMI an :class:`HpcImage` built (``image.machine_image``): the node launchers read
    :attr:`facts` and install nothing at boot."""

    def __init__(self, image_id: str, facts: ImageFacts) -> None:
        self.image_id = image_id
        self.facts = facts

    def get_image(self, scope: Construct) -> ec2.MachineImageConfig:
        return ec2.MachineImageConfig(
            image_id=self.image_id,
            os_type=ec2.OperatingSystemType.LINUX,
            user_data=ec2.UserData.for_linux(),
        )


def image_facts_of(machine_image: object) -> ImageFacts | None:
    """The facts of an ``HpcImage`` image (``machine_image`` or ``ecs_machine_image``), or None
    for any other image."""
    if isinstance(machine_image, batch.EcsMachineImage):
        machine_image = machine_image.image
    return machine_image.facts if isinstance(machine_image, HpcMachineImage) else None


class HpcImage(Construct):
    """A golden AMI for EFA / Lustre nodes, built by an EC2 Image Builder pipeline.

    Builds once while the stack deploys (``AWS::ImageBuilder::Image``), and again whenever the
    recipe changes (a new version is derived from its content) or on ``schedule``. The build
    upgrades the base's packages and reboots, installs the EFA installer after checking its
    GPG signature against the key fingerprint the EC2 User Guide prints, the Lustre client
    whose module must load on the image's kernel, the node tools (mdadm, amazon-efs-utils, the
    CloudWatch agent), optionally the AWS PCS agent and Slurm (SHA256 from the AWS PCS User
    Guide), your shell steps, and a manifest of versions (``/etc/hpc-constructs/image-versions``)
    that nodes log at boot. A test phase on an instance of the new AMI fails the build when a
    piece is missing.

    :param instance_types: the types the image is for: one architecture, all GPU or all CPU.
    :param base: Default: - ``ImageBase.DEEP_LEARNING_GPU`` for GPU types, else
        ``ImageBase.AMAZON_LINUX_2023``; or an ``ec2.IMachineImage`` of a dnf-based Linux.
    :param vpc: the VPC of the build and test instances (a private subnet with a route to the
        internet or to the endpoints Image Builder needs; see the README).
    :param subnet_selection: Default: - the VPC's private subnets (the first one is used).
    :param efa: install the EFA software. Default: True.
    :param efa_installer_version: Default: - ``EFA_INSTALLER_VERSION`` (1.50.0, EC2 User Guide).
    :param efa_installer_sha256: also check this SHA256 (from the EC2 User Guide's checksum
        page). Default: - the GPG signature is the check.
    :param lustre_client: Default: True. :param efs_client: Default: True.
    :param cloudwatch_agent: Default: True.
    :param pcs: the AWS PCS agent and Slurm. Default: - none.
    :param shell_steps: extra build steps (bash), after the library's, before the manifest.
    :param components: extra Image Builder component ARNs (e.g. AWS-managed ones), appended.
    :param build_instance_types: Default: - m6i.2xlarge / m7g.2xlarge (GPU: g5.2xlarge /
        g5g.2xlarge).
    :param schedule: an Image Builder cron expression for rebuilds. Default: - none (a rebuild
        happens when a deploy changes the recipe).
    :param regions: more Regions to copy each AMI to. Default: - the stack's Region only.
    :param encryption_key: KMS key of the AMI's snapshots (key policy must allow Image Builder
        and the launchers' service roles). Default: - EBS default encryption of the account.
    :param root_volume_size_gib: gp3, encrypted; at least the base's root snapshot (75 GiB for
        the Deep Learning AMI, else 8), at most 16000. Default: 100.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        instance_types: Sequence[str],
        vpc: ec2.IVpc,
        base: ImageBase | ec2.IMachineImage | None = None,
        subnet_selection: ec2.SubnetSelection | None = None,
        efa: bool = True,
        efa_installer_version: str = EFA_INSTALLER_VERSION,
        efa_installer_sha256: str | None = None,
        lustre_client: bool = True,
        efs_client: bool = True,
        cloudwatch_agent: bool = True,
        pcs: PcsSoftware | None = None,
        shell_steps: Sequence[str] = (),
        components: Sequence[str] = (),
        build_instance_types: Sequence[str] | None = None,
        schedule: str | None = None,
        regions: Sequence[str] = (),
        encryption_key: kms.IKey | None = None,
        root_volume_size_gib: int = DEFAULT_ROOT_VOLUME_GIB,
    ) -> None:
        v = Validator(f"{scope.node.path}/{id}" if scope.node.path else id)
        base_kind: BaseKind | None = (
            "custom" if base is not None and not isinstance(base, ImageBase) else None
        )
        if isinstance(base, ImageBase):
            base_kind = base.value
        props = ImageProps(
            instance_types=tuple(instance_types),
            base=base_kind,
            efa=efa,
            efa_installer_version=efa_installer_version,
            efa_installer_sha256=efa_installer_sha256,
            lustre_client=lustre_client,
            efs_client=efs_client,
            cloudwatch_agent=cloudwatch_agent,
            pcs=pcs,
            shell_steps=tuple(shell_steps),
            build_instance_types=tuple(build_instance_types) if build_instance_types else None,
            schedule=schedule,
            regions=tuple(regions),
            root_volume_size_gib=root_volume_size_gib,
        )
        plan = plan_image(v, props, v.path)
        build_subnet = _build_subnet(v, vpc, subnet_selection)
        plan = v.checked(plan)
        super().__init__(scope, id)
        self.plan = plan
        self.components = components_of_plan = _checked_components(v, plan)
        self._render_build_infrastructure(vpc, build_subnet, plan)
        parent = self._parent_image(base, plan)
        recipe = self._render_recipe(parent, components_of_plan, components)
        self._render_distribution(plan, encryption_key)
        self._render_pipeline(recipe, plan)
        self.machine_image: ec2.IMachineImage = HpcMachineImage(self.image_id, plan.facts)

    # --- public facts -----------------------------------------------------------------------

    @property
    def facts(self) -> ImageFacts:
        return self.plan.facts

    @property
    def ecs_machine_image(self) -> batch.EcsMachineImage:
        """The image for AWS Batch (``BatchMultiNode(machine_image=)``): only for an image on
        ``ImageBase.ECS_OPTIMIZED`` (the ECS agent must be on it)."""
        if self.plan.base != "ecs-optimized":
            v = Validator(self)
            v.add("base", self.plan.base, "ImageBase.ECS_OPTIMIZED for an AWS Batch image")
            v.raise_if_any()
        return batch.EcsMachineImage(
            image=self.machine_image, image_type=batch.EcsMachineImageType.ECS_AL2023
        )

    # --- rendering --------------------------------------------------------------------------

    def _render_build_infrastructure(self, vpc: ec2.IVpc, subnet_id: str, plan: ImagePlan) -> None:
        self.role = iam.Role(
            self,
            "BuildRole",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            description=f"Image Builder build and test instances of {self.node.path}",
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name(name)
                for name in ("AmazonSSMManagedInstanceCore", "EC2InstanceProfileForImageBuilder")
            ],
        )
        for name, why in (
            ("AmazonSSMManagedInstanceCore", "the SSM agent Image Builder drives the build with"),
            ("EC2InstanceProfileForImageBuilder", "what the Image Builder build instance needs "
             "(component documents, logs); the Image Builder user guide's instance profile"),
        ):  # fmt: skip
            cdk.Validations.of(self.role).acknowledge(
                cdk.Acknowledgment(
                    id=f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{name}]",
                    reason=f"AWS's managed policy for {why}; AWS keeps it current.",
                )
            )
        self.instance_profile = iam.InstanceProfile(self, "BuildInstanceProfile", role=self.role)
        self.security_group = ec2.SecurityGroup(
            self,
            "BuildSecurityGroup",
            vpc=vpc,
            description=f"Image Builder instances of {self.node.path}: outbound only (downloads)",
            allow_all_outbound=True,
        )
        self.infrastructure = imagebuilder.CfnInfrastructureConfiguration(
            self,
            "Infrastructure",
            name=self._name("infra"),
            instance_profile_name=self.instance_profile.instance_profile_name,
            instance_types=list(plan.build_instance_types),
            subnet_id=subnet_id,
            security_group_ids=[self.security_group.security_group_id],
            terminate_instance_on_failure=True,
            instance_metadata_options=imagebuilder.CfnInfrastructureConfiguration.InstanceMetadataOptionsProperty(
                http_tokens="required", http_put_response_hop_limit=2
            ),
            description=f"Build and test instances of {self.node.path}",
        )

    def _parent_image(self, base: ImageBase | ec2.IMachineImage | None, plan: ImagePlan) -> str:
        arm = plan.architecture == "arm64"
        image: ec2.IMachineImage
        if base is not None and not isinstance(base, ImageBase):
            image = base
        elif plan.base == "deep-learning-gpu":
            image = ec2.MachineImage.from_ssm_parameter(
                DLAMI_PARAMETER.format(arch="arm64" if arm else "x86_64"),
                os=ec2.OperatingSystemType.LINUX,
            )
        elif plan.base == "ecs-optimized":
            hardware = (
                ecs.AmiHardwareType.GPU
                if plan.gpu
                else ecs.AmiHardwareType.ARM
                if arm
                else ecs.AmiHardwareType.STANDARD
            )
            image = ecs.EcsOptimizedImage.amazon_linux2023(hardware)
        else:
            image = ec2.MachineImage.latest_amazon_linux2023(
                cpu_type=ec2.AmazonLinuxCpuType.ARM_64 if arm else ec2.AmazonLinuxCpuType.X86_64
            )
        self.base_image = image
        return image.get_image(self).image_id

    def _render_recipe(
        self,
        parent: str,
        own: Sequence[Component],
        extra_arns: Sequence[str],
    ) -> imagebuilder.CfnImageRecipe:
        documents = [c.document for c in own]
        self.version = recipe_version(self.plan.content_hash([*documents, *extra_arns]))
        self.cfn_components: dict[str, imagebuilder.CfnComponent] = {}
        for component, document in zip(own, documents, strict=True):
            self.cfn_components[component.name] = imagebuilder.CfnComponent(
                self,
                f"{component.name.capitalize()}Component",
                name=self._name(component.name),
                platform="Linux",
                version=self.version,
                data=document,
                description=component.description[:1024],
            )
        arns = [c.attr_arn for c in self.cfn_components.values()] + list(extra_arns)
        return imagebuilder.CfnImageRecipe(
            self,
            "Recipe",
            name=self._name("recipe"),
            version=self.version,
            parent_image=parent,
            components=[
                imagebuilder.CfnImageRecipe.ComponentConfigurationProperty(component_arn=arn)
                for arn in arns
            ],
            block_device_mappings=[
                imagebuilder.CfnImageRecipe.InstanceBlockDeviceMappingProperty(
                    device_name="/dev/xvda",
                    ebs=imagebuilder.CfnImageRecipe.EbsInstanceBlockDeviceSpecificationProperty(
                        volume_size=self.plan.root_volume_size_gib,
                        volume_type="gp3",
                        encrypted=True,
                        delete_on_termination=True,
                    ),
                )
            ],
            ami_tags=self._tags(),
            description=f"{self.node.path}: {self._versions_text()}"[:1024],
        )

    def _render_distribution(self, plan: ImagePlan, key: kms.IKey | None) -> None:
        region = cdk.Stack.of(self).region
        self.ssm_parameter_name = f"{SSM_PARAMETER_PREFIX}/{self._name('ami')}"
        # The L1 types AmiDistributionConfiguration as plain JSON (no key conversion): the
        # CloudFormation property names are written as they are.
        ami: dict[str, Any] = {
            "Name": f"{self._name('ami')}-{{{{imagebuilder:buildDate}}}}",
            "Description": f"{self.node.path}: {self._versions_text()}"[:1024],
            "AmiTags": self._tags(),
        }
        if key is not None:
            ami["KmsKeyId"] = key.key_arn
        distributions: list[Any] = [
            imagebuilder.CfnDistributionConfiguration.DistributionProperty(
                region=region,
                ami_distribution_configuration=ami,
                ssm_parameter_configurations=[
                    imagebuilder.CfnDistributionConfiguration.SsmParameterConfigurationProperty(
                        parameter_name=self.ssm_parameter_name, data_type="aws:ec2:image"
                    )
                ],
            )
        ]
        distributions += [
            imagebuilder.CfnDistributionConfiguration.DistributionProperty(
                region=other, ami_distribution_configuration=ami
            )
            for other in plan.regions
        ]
        self.distribution = imagebuilder.CfnDistributionConfiguration(
            self, "Distribution", name=self._name("dist"), distributions=distributions
        )

    def _render_pipeline(self, recipe: imagebuilder.CfnImageRecipe, plan: ImagePlan) -> None:
        tests = imagebuilder.CfnImagePipeline.ImageTestsConfigurationProperty(
            image_tests_enabled=True, timeout_minutes=TEST_TIMEOUT_MINUTES
        )
        self.pipeline = imagebuilder.CfnImagePipeline(
            self,
            "Pipeline",
            name=self._name("pipeline"),
            image_recipe_arn=recipe.attr_arn,
            infrastructure_configuration_arn=self.infrastructure.attr_arn,
            distribution_configuration_arn=self.distribution.attr_arn,
            image_tests_configuration=tests,
            enhanced_image_metadata_enabled=True,
            status="ENABLED",
            schedule=imagebuilder.CfnImagePipeline.ScheduleProperty(
                schedule_expression=plan.schedule,
                pipeline_execution_start_condition="EXPRESSION_MATCH_ONLY",
            )
            if plan.schedule
            else None,
            description=f"Golden AMIs of {self.node.path}",
        )
        # The first AMI, built while the stack deploys: the launchers that use
        # ``machine_image`` depend on it, so their nodes never start before it exists.
        self.image = imagebuilder.CfnImage(
            self,
            "Image",
            image_recipe_arn=recipe.attr_arn,
            infrastructure_configuration_arn=self.infrastructure.attr_arn,
            distribution_configuration_arn=self.distribution.attr_arn,
            image_tests_configuration=imagebuilder.CfnImage.ImageTestsConfigurationProperty(
                image_tests_enabled=True, timeout_minutes=TEST_TIMEOUT_MINUTES
            ),
            enhanced_image_metadata_enabled=True,
        )
        self.image_id: str = self.image.attr_image_id

    # --- helpers ----------------------------------------------------------------------------

    def _name(self, suffix: str) -> str:
        """A name unique per stack and construct (Image Builder names are per account and
        Region): ``<stack>-<id path>-<suffix>``, within the 128-character name pattern."""
        base = "-".join([cdk.Stack.of(self).stack_name, *self.node.path.split("/")[1:]])
        cleaned = "".join(c if c.isalnum() or c in "-_" else "-" for c in base)
        return f"{cleaned[: 126 - len(suffix)]}-{suffix}"

    def _tags(self) -> dict[str, str]:
        tags = {f"hpc-constructs:{name}": version for name, version in self.plan.versions}
        tags["hpc-constructs:image"] = self.node.path
        tags["hpc-constructs:recipe-version"] = self.version
        return tags

    def _versions_text(self) -> str:
        return ", ".join(f"{name} {version}" for name, version in self.plan.versions)


def _build_subnet(v: Validator, vpc: ec2.IVpc, selection: ec2.SubnetSelection | None) -> str:
    """The build instances' subnet: the first of ``selection`` (default: the VPC's private
    subnets with egress). The build downloads the EFA installer from efa-installer.amazonaws.com
    (not an AWS service endpoint), so it needs a route to the internet, through a NAT gateway;
    an isolated fabric builds its image in another VPC or subnet."""
    chosen = selection or ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
    try:
        subnet_ids = select_subnets(vpc, chosen).subnet_ids
    except RuntimeError:  # jsii: "There are no 'Private' subnet groups in this VPC"
        subnet_ids = []
    if not subnet_ids:
        v.add(
            "subnet_selection" if selection else "vpc",
            "no subnet" if selection else vpc.node.path,
            "a subnet with a route to the internet through a NAT gateway for the build "
            "instances (they download the EFA installer and packages): for an isolated fabric, "
            "pass vpc= a build VPC with a NAT gateway (the nodes then boot the image offline)",
        )
        return ""
    return subnet_ids[0]


def _checked_components(v: Validator, plan: ImagePlan) -> tuple[Component, ...]:
    """The plan's components; a document over Image Builder's limit is the user's shell steps'
    doing (the library's own stay far below it)."""
    from hpc_constructs.image.plan import COMPONENT_DATA_MAX

    own = components(plan)
    for component in own:
        size = len(component.document)
        if size > COMPONENT_DATA_MAX:
            v.add(
                "shell_steps",
                f"{size} characters in the {component.name} component",
                f"at most {COMPONENT_DATA_MAX} characters per component document "
                "(AWS::ImageBuilder::Component.Data): put long steps in your own component "
                "and pass its ARN in components=",
            )
    v.raise_if_any()
    return own
