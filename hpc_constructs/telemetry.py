"""What the library's nodes publish to CloudWatch: the contract between node telemetry (the
CloudWatch agent configured by :mod:`hpc_constructs.boot`) and dashboards / alarms.

Standard library only. Metric names are the CloudWatch agent's (Amazon CloudWatch User Guide:
"Metrics collected by the CloudWatch agent", "Collect EFA metrics", "Collect NVIDIA GPU
metrics"); the agent publishes a measurement ``m`` of section ``s`` as ``s_m``.
"""

from __future__ import annotations

#: Namespace of every node metric the agent publishes for hpc-constructs launchers.
NODE_METRICS_NAMESPACE = "HpcConstructs/Nodes"
#: Dimension naming the launcher (its construct path) on every node metric; the agent also
#: publishes each metric aggregated to this dimension alone, so one metric per launcher exists.
NODE_GROUP_DIMENSION = "NodeGroup"

#: Metrics on every node (CPU, memory, root and scratch disks).
CPU_METRICS = ("cpu_usage_active", "cpu_usage_iowait")
MEMORY_METRICS = ("mem_used_percent",)
DISK_METRICS = ("disk_used_percent",)
#: EFA metrics (delta values per collection interval) on EFA nodes.
EFA_METRICS = (
    "efa_rx_bytes",
    "efa_tx_bytes",
    "efa_rdma_read_bytes",
    "efa_rdma_write_bytes",
    "efa_retrans_pkts",
    "efa_retrans_timeout_events",
    "efa_impaired_remote_conn_events",
    "efa_unresponsive_remote_events",
)
#: NVIDIA GPU metrics on GPU nodes.
GPU_METRICS = (
    "nvidia_smi_utilization_gpu",
    "nvidia_smi_utilization_memory",
    "nvidia_smi_memory_used",
    "nvidia_smi_temperature_gpu",
    "nvidia_smi_power_draw",
)

#: Log streams every node ships (file path, stream suffix); the stream is
#: ``<instance id>/<suffix>``.
NODE_LOG_FILES = (
    ("/var/log/hpc-constructs-boot.log", "boot"),
    ("/var/log/cloud-init-output.log", "cloud-init-output"),
    ("/var/log/messages", "messages"),
)
#: Slurm daemon logs on Slurm compute nodes.
SLURM_LOG_FILES = (("/var/log/slurmd.log", "slurmd"),)
#: The line the node set-up logs when a boot fails.
BOOT_FAILURE_PATTERN = "hpc-constructs: FAILED"
#: Published by the health gate of each node (value 1, dimension NodeGroup, unit Count) when
#: its boot fails / succeeds, so alarms need no log parsing.
BOOT_FAILURES_METRIC = "BootFailures"
BOOT_SUCCESSES_METRIC = "BootSuccesses"
