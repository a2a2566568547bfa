"""Golden images: :class:`HpcImage` builds an AMI with EC2 Image Builder that has the EFA
software (signature verified), the Lustre client, the node tools and optionally the AWS PCS
software baked in; launchers given ``image.machine_image`` install nothing at boot."""

from hpc_constructs.image.components import (
    Component,
    Step,
    build_components,
    component_document,
    components,
    test_script,
)
from hpc_constructs.image.construct import (
    HpcImage,
    HpcMachineImage,
    ImageBase,
    image_facts_of,
)
from hpc_constructs.image.plan import (
    DLAMI_PARAMETER,
    EFA_INSTALLER_KEY_FINGERPRINT,
    EFA_INSTALLER_VERSION,
    PCS_AGENT_INSTALLER,
    PCS_SLURM_INSTALLERS,
    ImagePlan,
    ImageProps,
    Installer,
    PcsSoftware,
    image_architecture_rule,
    plan_image,
    recipe_version,
)

__all__ = [
    "DLAMI_PARAMETER",
    "EFA_INSTALLER_KEY_FINGERPRINT",
    "EFA_INSTALLER_VERSION",
    "PCS_AGENT_INSTALLER",
    "PCS_SLURM_INSTALLERS",
    "Component",
    "HpcImage",
    "HpcMachineImage",
    "ImageBase",
    "ImagePlan",
    "ImageProps",
    "Installer",
    "PcsSoftware",
    "Step",
    "build_components",
    "component_document",
    "components",
    "image_architecture_rule",
    "image_facts_of",
    "plan_image",
    "recipe_version",
    "test_script",
]
