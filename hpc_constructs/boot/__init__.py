"""Node boot: what a node does at every boot, as a plan (:mod:`.plan`) and as the scripts that
do it (:mod:`.script`). No CDK imports: the sandbox tests run the scripts without the jsii runtime.
"""

from hpc_constructs.boot.agent import AGENT_CONFIG_PATH, agent_config
from hpc_constructs.boot.plan import (
    DEFAULT_HEARTBEAT_TIMEOUT_SECONDS,
    DEFAULT_IMDS_HOP_LIMIT,
    DEFAULT_LOG_RETENTION_DAYS,
    GATE_KINDS,
    IMAGE_MANIFEST_PATH,
    INSTANCE_STORE_MOUNT_POINT,
    LIFECYCLE_HOOK_NAME,
    BootPlan,
    GateKind,
    ImageFacts,
    MountStep,
    ScratchStep,
    TelemetryStep,
    gate_for,
    heartbeat_timeout_rule,
    imds_hop_limit_rule,
    log_retention_rule,
)
from hpc_constructs.boot.script import EFA_INSTALLER_URL, node_setup_script, user_data_script

__all__ = [
    "AGENT_CONFIG_PATH",
    "DEFAULT_HEARTBEAT_TIMEOUT_SECONDS",
    "DEFAULT_IMDS_HOP_LIMIT",
    "DEFAULT_LOG_RETENTION_DAYS",
    "EFA_INSTALLER_URL",
    "GATE_KINDS",
    "IMAGE_MANIFEST_PATH",
    "INSTANCE_STORE_MOUNT_POINT",
    "LIFECYCLE_HOOK_NAME",
    "BootPlan",
    "GateKind",
    "ImageFacts",
    "MountStep",
    "ScratchStep",
    "TelemetryStep",
    "agent_config",
    "gate_for",
    "heartbeat_timeout_rule",
    "imds_hop_limit_rule",
    "log_retention_rule",
    "node_setup_script",
    "user_data_script",
]
