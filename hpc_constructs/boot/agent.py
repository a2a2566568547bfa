"""The CloudWatch agent configuration of a node (JSON), from its :class:`TelemetryStep`.

Structure and keys: Amazon CloudWatch User Guide, "Manually create or edit the CloudWatch agent
configuration file" (``agent``, ``metrics`` with ``namespace``, ``append_dimensions``,
``aggregation_dimensions`` and ``metrics_collected``, ``logs.logs_collected.files``), "Collect
EFA metrics" (``efa``) and "Collect NVIDIA GPU metrics" (``nvidia_gpu``). Measurement names are
given with their section prefix, as the agent publishes them (see :mod:`hpc_constructs.telemetry`).
"""

from __future__ import annotations

import json
from typing import Any

from hpc_constructs.boot.plan import INSTANCE_STORE_MOUNT_POINT, TelemetryStep
from hpc_constructs.telemetry import (
    CPU_METRICS,
    DISK_METRICS,
    EFA_METRICS,
    GPU_METRICS,
    MEMORY_METRICS,
    NODE_GROUP_DIMENSION,
    NODE_LOG_FILES,
    NODE_METRICS_NAMESPACE,
    SLURM_LOG_FILES,
)

#: Where the node set-up writes the configuration for ``amazon-cloudwatch-agent-ctl``.
AGENT_CONFIG_PATH = "/opt/hpc-constructs/cloudwatch-agent.json"
#: File systems the disk metrics skip: pseudo, network and shared file systems (their own
#: service metrics cover Lustre and EFS).
_SKIPPED_FS_TYPES = (
    "sysfs",
    "devtmpfs",
    "tmpfs",
    "overlay",
    "autofs",
    "lustre",
    "nfs4",
    "squashfs",
)


def _section(measurements: tuple[str, ...], node_group: str, **extra: Any) -> dict[str, Any]:
    return {
        "measurement": list(measurements),
        "append_dimensions": {NODE_GROUP_DIMENSION: node_group},
        **extra,
    }


def agent_config(step: TelemetryStep) -> dict[str, Any]:
    """The agent configuration: CPU, memory and disk (root, ``/scratch/*``) on every node,
    EFA and GPU metrics where the node has them, the boot, cloud-init and system logs (and
    slurmd's on Slurm nodes) into the launcher's log group."""
    group = step.node_group
    collected: dict[str, Any] = {
        "cpu": _section(CPU_METRICS, group, totalcpu=True),
        "mem": _section(MEMORY_METRICS, group),
        "disk": _section(
            DISK_METRICS,
            group,
            resources=["/", INSTANCE_STORE_MOUNT_POINT, "/scratch/ebs"],
            ignore_file_system_types=list(_SKIPPED_FS_TYPES),
        ),
    }
    if step.efa:
        collected["efa"] = _section(EFA_METRICS, group)
    if step.gpu:
        collected["nvidia_gpu"] = _section(GPU_METRICS, group)
    files = [*NODE_LOG_FILES, *(SLURM_LOG_FILES if step.slurm else ())]
    return {
        "agent": {"metrics_collection_interval": 60, "run_as_user": "root"},
        "metrics": {
            "namespace": NODE_METRICS_NAMESPACE,
            "append_dimensions": {"InstanceId": "${aws:InstanceId}"},
            # Every metric is also published with NodeGroup alone: one series per launcher.
            "aggregation_dimensions": [[NODE_GROUP_DIMENSION]],
            "metrics_collected": collected,
        },
        "logs": {
            "logs_collected": {
                "files": {
                    "collect_list": [
                        {
                            "file_path": path,
                            "log_group_name": step.log_group,
                            "log_stream_name": "{instance_id}/" + suffix,
                        }
                        for path, suffix in files
                    ]
                }
            }
        },
    }


def agent_config_text(step: TelemetryStep) -> str:
    return json.dumps(agent_config(step), indent=2, sort_keys=True) + "\n"
