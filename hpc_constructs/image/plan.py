"""The rules of an :class:`~hpc_constructs.image.HpcImage`, on plain values (no CDK objects).

What the image installs and pins comes from cited sources:

- EFA installer: version and verification from the EC2 User Guide, "Get started with EFA and
  MPI for HPC workloads on Amazon EC2" (``efa-start``), step "Install the EFA software": the
  tarball ``aws-efa-installer-<version>.tar.gz`` from ``efa-installer.amazonaws.com``, its
  detached GPG signature (``.sig``), the public key ``aws-efa-installer.key`` whose fingerprint
  must be ``4E90 91BC BB97 A96B 26B1 5E59 A054 80B1 DD2D 3CCC``. The page's current stable
  version is 1.50.0. An optional SHA256 (the "Verify the EFA installer using a checksum" page,
  ``efa-verify``) is checked as well when given.
- AWS PCS agent and Slurm installers: the AWS PCS User Guide, "Software installers to build
  custom AMIs for AWS PCS" (``working-with_ami_installers``), whose "Verify installers using a
  checksum" table gives each installer's download URL and SHA256 (below, verbatim).
- Lustre client: the FSx for Lustre User Guide, "Installing the Lustre client" (Amazon Linux
  2023: ``dnf install lustre-client``, the kernel module must match the running kernel).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from hpc_constructs.boot.plan import ImageFacts
from hpc_constructs.catalog import InstanceCatalog, InstanceSpec
from hpc_constructs.compute import check_one_architecture, lookup_specs
from hpc_constructs.errors import Validator

#: EC2 User Guide (efa-start), "Install the EFA software": the current stable installer.
EFA_INSTALLER_VERSION = "1.50.0"
EFA_INSTALLER_BASE_URL = "https://efa-installer.amazonaws.com"
#: EC2 User Guide (efa-start): "The command should return a fingerprint that is identical to
#: 4E90 91BC BB97 A96B 26B1 5E59 A054 80B1 DD2D 3CCC" (spaces removed, as gpg prints it with
#: ``--with-colons``).
EFA_INSTALLER_KEY_FINGERPRINT = "4E9091BCBB97A96B26B15E59A05480B1DD2D3CCC"

#: AWS PCS User Guide (working-with_ami_installers), "Verify installers using a checksum".
PCS_REPO_URL = "https://aws-pcs-repo-{region}.s3.{region}.amazonaws.com"


@dataclass(frozen=True)
class Installer:
    """A pinned installer: its version and the SHA256 of its tarball."""

    version: str
    sha256: str


#: The newest AWS PCS agent in the guide's checksum table.
PCS_AGENT_INSTALLER = Installer(
    "1.2.2-1", "fd7b6ea5442db75d723fc4971781ce6ae511baa21b87c4286fc1df8127b282b8"
)
#: The newest Slurm installer per Slurm major version in the guide's checksum table. Slurm
#: versions PCS supports without a row here (25.11, 26.05) need ``PcsSoftware(slurm_installer=
#: Installer(version, sha256))`` from the guide's current table.
PCS_SLURM_INSTALLERS: dict[str, Installer] = {
    "25.05": Installer("25.05.3-1", "851bb5815b6700ceb30cc4a3fda204ca8ce362c14528c339908983255a936cf0"),
    "24.11": Installer("24.11.6-1", "225de9fc18206f5f65f412effe1fd457614ac97ee9822b3ff804a452b0fae522"),
}  # fmt: skip

#: The bases an image can start from (or any ``ec2.IMachineImage``: ``custom``).
BaseKind = Literal["amazon-linux-2023", "deep-learning-gpu", "ecs-optimized", "custom"]
BASE_KINDS: tuple[BaseKind, ...] = (
    "amazon-linux-2023",
    "deep-learning-gpu",
    "ecs-optimized",
    "custom",
)

VERSION = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+$")
PCS_INSTALLER_VERSION = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+-[0-9]+$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]$")
#: AWS::ImageBuilder::ImagePipeline ``Schedule.ScheduleExpression``: a cron expression
#: (Image Builder's cron syntax, ``cron(0 4 ? * sun *)``).
SCHEDULE = re.compile(r"^cron\([^()]+\)$")
#: ``AWS::ImageBuilder::Component.Data``: maxLength 16000 (cfn-lint's CloudFormation schema).
COMPONENT_DATA_MAX = 16000
#: Build instances when none are given: a general-purpose type of the image's architecture.
#: Image Builder builds on it and tests the AMI on it; the EFA kernel module is built by DKMS
#: for the image's kernel, whatever the build hardware.
DEFAULT_BUILD_INSTANCE_TYPES = {"x86_64": ("m6i.2xlarge",), "arm64": ("m7g.2xlarge",)}
#: GPU images are built on a GPU type of their architecture (the NVIDIA stack of the base is
#: exercised by the test phase).
DEFAULT_GPU_BUILD_INSTANCE_TYPES = {"x86_64": ("g5.2xlarge",), "arm64": ("g5g.2xlarge",)}
#: Deep Learning Base OSS Nvidia Driver GPU AMI (Amazon Linux 2023): NVIDIA driver, CUDA, EFA,
#: NCCL and aws-ofi-nccl preinstalled. Public SSM parameter per architecture (DLAMI developer
#: guide, "DLAMI release notes" / "Retrieve the AMI ID with SSM"): the GPU default of the fleet
#: and of HpcImage.
DLAMI_PARAMETER = "/aws/service/deeplearning/ami/{arch}/base-oss-nvidia-driver-gpu-amazon-linux-2023/latest/ami-id"
#: The DLAMI's root snapshot is 75 GiB; a smaller root volume fails to launch. Other bases: 8.
DLAMI_MIN_ROOT_GIB = 75
MIN_ROOT_GIB = 8
#: ``AWS::ImageBuilder::ImageRecipe`` ``EbsInstanceBlockDeviceSpecification.VolumeSize``:
#: at most 16000 GiB (cfn-lint's CloudFormation schema); at least the base's root snapshot.
ROOT_VOLUME_MAX_GIB = 16000
DEFAULT_ROOT_VOLUME_GIB = 100
#: Image Builder test phase timeout, minutes (ImageTestsConfiguration.TimeoutMinutes: 60-1440).
TEST_TIMEOUT_MINUTES = 90


@dataclass(frozen=True)
class PcsSoftware:
    """The AWS PCS agent and Slurm, installed from AWS's installers and checked against the
    SHA256 the AWS PCS User Guide publishes.

    :param slurm_version: the Slurm major version of the cluster (``PcsCluster(slurm_version=)``).
    :param slurm_installer: the Slurm installer version and SHA256. Default: - the newest one for
        ``slurm_version`` in the guide's checksum table (``PCS_SLURM_INSTALLERS``).
    :param agent_installer: Default: - ``PCS_AGENT_INSTALLER``.
    """

    slurm_version: str = "25.05"
    slurm_installer: Installer | None = None
    agent_installer: Installer = PCS_AGENT_INSTALLER

    @property
    def slurm(self) -> Installer | None:
        return self.slurm_installer or PCS_SLURM_INSTALLERS.get(self.slurm_version)


@dataclass(frozen=True)
class ImageProps:
    """The plain-valued props of an :class:`~hpc_constructs.image.HpcImage`."""

    instance_types: tuple[str, ...]
    base: BaseKind | None = None
    efa: bool = True
    efa_installer_version: str = EFA_INSTALLER_VERSION
    efa_installer_sha256: str | None = None
    lustre_client: bool = True
    efs_client: bool = True
    cloudwatch_agent: bool = True
    pcs: PcsSoftware | None = None
    shell_steps: tuple[str, ...] = ()
    build_instance_types: tuple[str, ...] | None = None
    schedule: str | None = None
    regions: tuple[str, ...] = ()
    root_volume_size_gib: int = DEFAULT_ROOT_VOLUME_GIB


@dataclass(frozen=True)
class ImagePlan:
    """What an image is, as plain values: the construct renders it, the components document
    it, and the launchers that use it read its :attr:`facts`."""

    name: str
    architecture: str
    gpu: bool
    base: BaseKind
    efa: bool
    efa_installer_version: str
    efa_installer_sha256: str | None
    lustre_client: bool
    efs_client: bool
    cloudwatch_agent: bool
    pcs: PcsSoftware | None
    shell_steps: tuple[str, ...]
    build_instance_types: tuple[str, ...]
    schedule: str | None
    regions: tuple[str, ...]
    root_volume_size_gib: int = DEFAULT_ROOT_VOLUME_GIB

    @property
    def versions(self) -> tuple[tuple[str, str], ...]:
        """What is pinned at build time (AMI tags, the manifest, the synth summary)."""
        pinned: list[tuple[str, str]] = [("base", self.base)]
        if self.efa:
            pinned.append(("efa-installer", self.efa_installer_version))
        if self.pcs is not None:
            slurm = self.pcs.slurm
            pinned.append(("pcs-agent", self.pcs.agent_installer.version))
            if slurm is not None:
                pinned.append(("slurm", slurm.version))
        if self.lustre_client:
            pinned.append(("lustre-client", "matched to the kernel"))
        return tuple(pinned)

    @property
    def facts(self) -> ImageFacts:
        return ImageFacts(
            name=self.name,
            architecture=self.architecture,
            gpu=self.gpu,
            efa=self.efa,
            lustre_client=self.lustre_client,
            efs_client=self.efs_client,
            cloudwatch_agent=self.cloudwatch_agent,
            versions=self.versions,
            pcs_slurm_version=self.pcs.slurm_version if self.pcs else None,
            ecs=self.base == "ecs-optimized",
        )

    def content_hash(self, documents: Sequence[str]) -> str:
        """A digest of everything the recipe builds from (its components' documents and the
        base), so a changed recipe gets a new version and Image Builder rebuilds it."""
        digest = hashlib.sha256(self.base.encode())
        for doc in documents:
            digest.update(b"\0" + doc.encode())
        return digest.hexdigest()


def recipe_version(content_hash: str) -> str:
    """An Image Builder semantic version (``major.minor.patch``, each at most 2^30 - 1) that
    changes with ``content_hash``: ``1.<first 6 hex digits>.<next 6>`` as decimals."""
    return f"1.{int(content_hash[:6], 16)}.{int(content_hash[6:12], 16)}"


def architecture_rule(v: Validator, specs: Sequence[InstanceSpec]) -> str | None:
    """One image serves one architecture, and either GPU or CPU types (a GPU image carries the
    NVIDIA stack, NCCL and the EFA NCCL plugin; a CPU image does not)."""
    before = len(v.problems)
    arch = check_one_architecture(v, "instance_types", specs, "build one image per architecture")
    v.require(
        len({s.is_gpu for s in specs}) <= 1,
        "instance_types",
        [s.instance_type for s in specs],
        "all GPU or all CPU types: a GPU image carries the NVIDIA driver, NCCL and the EFA "
        "NCCL plugin, a CPU image does not; build one image for each",
    )
    return arch if len(v.problems) == before else None


def base_rule(v: Validator, base: BaseKind | None, gpu: bool, pcs: bool) -> BaseKind:
    """The default base per the GPU-ness of the types; GPU components need a GPU base, a GPU
    image a base with the NVIDIA stack, and the PCS software a non-ECS base."""
    if base is None:
        return "deep-learning-gpu" if gpu else "amazon-linux-2023"
    if base not in BASE_KINDS:
        v.one_of("base", base, BASE_KINDS, "the bases HpcImage knows, or an ec2.IMachineImage")
    elif base == "deep-learning-gpu" and not gpu:
        v.add(
            "base",
            base,
            "a CPU base for CPU instance types: the Deep Learning GPU AMI's NVIDIA components "
            "need a GPU (use ImageBase.AMAZON_LINUX_2023)",
        )
    elif gpu and base == "amazon-linux-2023":
        v.add(
            "base",
            base,
            "a base with the NVIDIA driver and NCCL for GPU types (ImageBase.DEEP_LEARNING_GPU, "
            "ImageBase.ECS_OPTIMIZED for Batch, or your own ec2.IMachineImage)",
        )
    if pcs and base == "ecs-optimized":
        v.add("pcs", "PcsSoftware", "an image not based on the ECS-optimized AMI (AWS Batch)")
    return base


def installer_rules(v: Validator, props: ImageProps) -> None:
    """Version strings must be versions and checksums SHA256 digests: they end up in URLs and
    in ``sha256sum -c`` lines of the build."""
    if not VERSION.match(props.efa_installer_version):
        v.add("efa_installer_version", props.efa_installer_version, "a version like 1.50.0")
    if props.efa_installer_sha256 is not None and not SHA256.match(props.efa_installer_sha256):
        v.add("efa_installer_sha256", props.efa_installer_sha256, "64 lowercase hex digits")
    pcs = props.pcs
    if pcs is None:
        return
    from hpc_constructs.slurm.pcs import PCS_SLURM_VERSIONS

    v.one_of("pcs.slurm_version", pcs.slurm_version, PCS_SLURM_VERSIONS, "AWS PCS Slurm versions")
    for prop, installer in (
        ("pcs.agent_installer", pcs.agent_installer),
        ("pcs.slurm_installer", pcs.slurm_installer),
    ):
        if installer is None:
            continue
        if not PCS_INSTALLER_VERSION.match(installer.version):
            v.add(f"{prop}.version", installer.version, "an installer version like 25.05.3-1")
        if not SHA256.match(installer.sha256):
            v.add(f"{prop}.sha256", installer.sha256, "64 lowercase hex digits")
    if pcs.slurm is None and pcs.slurm_version in PCS_SLURM_VERSIONS:
        v.add(
            "pcs.slurm_installer",
            None,
            f"an Installer(version, sha256) for Slurm {pcs.slurm_version}: the checksum table "
            f"this library cites has {', '.join(sorted(PCS_SLURM_INSTALLERS))} only (take the "
            "row from the AWS PCS User Guide's 'Verify installers using a checksum')",
        )


def build_rules(v: Validator, props: ImageProps, architecture: str) -> None:
    for name in props.build_instance_types or ():
        spec = InstanceCatalog.find(name)
        if spec is not None and spec.architecture != architecture:
            v.add(
                "build_instance_types",
                name,
                f"{architecture} types (the image is {architecture})",
            )
    if props.schedule is not None and not SCHEDULE.match(props.schedule):
        v.add("schedule", props.schedule, "an Image Builder cron expression: cron(0 4 ? * sun *)")
    for region in props.regions:
        if not REGION.match(region):
            v.add("regions", region, "Region names like eu-west-1")
    if len(set(props.regions)) != len(props.regions):
        v.add("regions", list(props.regions), "each Region once")
    for step in props.shell_steps:
        if not step.strip():
            v.add("shell_steps", step, "non-empty shell commands")


def plan_image(v: Validator, props: ImageProps, name: str) -> ImagePlan | None:
    """The image's plan, or None with the problems in ``v``."""
    specs = lookup_specs(v, "instance_types", props.instance_types)
    if len(specs) != len(props.instance_types) or not specs:
        return None
    architecture = architecture_rule(v, specs)
    if architecture is None:
        return None
    gpu = specs[0].is_gpu
    base = base_rule(v, props.base, gpu, props.pcs is not None)
    installer_rules(v, props)
    build_rules(v, props, architecture)
    low = DLAMI_MIN_ROOT_GIB if base == "deep-learning-gpu" else MIN_ROOT_GIB
    v.in_range("root_volume_size_gib", props.root_volume_size_gib, low, ROOT_VOLUME_MAX_GIB, "GiB")
    if v.problems:
        return None
    defaults = DEFAULT_GPU_BUILD_INSTANCE_TYPES if gpu else DEFAULT_BUILD_INSTANCE_TYPES
    return ImagePlan(
        name=name,
        architecture=architecture,
        gpu=gpu,
        base=base,
        efa=props.efa,
        efa_installer_version=props.efa_installer_version,
        efa_installer_sha256=props.efa_installer_sha256,
        lustre_client=props.lustre_client,
        efs_client=props.efs_client,
        cloudwatch_agent=props.cloudwatch_agent,
        pcs=props.pcs,
        shell_steps=props.shell_steps,
        build_instance_types=props.build_instance_types or defaults[architecture],
        schedule=props.schedule,
        regions=props.regions,
        root_volume_size_gib=props.root_volume_size_gib,
    )


def image_architecture_rule(
    v: Validator, prop: str, image: ImageFacts | None, architecture: str | None, gpu: bool
) -> None:
    """A launcher's types must run the image: the same architecture; GPU types need a GPU
    image (the NVIDIA stack and the EFA NCCL plugin)."""
    if image is None or architecture is None:
        return
    if image.architecture != architecture:
        v.add(
            prop,
            image.name,
            f"an image for {architecture} (the image {image.name} is {image.architecture})",
        )
    elif gpu and not image.gpu:
        v.add(prop, image.name, "a GPU image for GPU types (HpcImage of GPU instance types)")
