"""Render a ParallelCluster :class:`~hpc_constructs.slurm._pc_plan.ClusterPlan` as the
``ClusterConfiguration`` dict (pure functions: plan and strings in, dict out), and that dict as
YAML for the ``pcluster`` CLI."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hpc_constructs.nodes import SharedFileSystem
from hpc_constructs.slurm._pc_plan import (
    ClusterPlan,
    ParallelClusterMonitoring,
    QueuePlan,
    ResourcePlan,
)
from hpc_constructs.slurm._pc_platform import (
    CustomAction,
    CustomActions,
    DirectoryService,
    custom_actions_config,
    directory_service_config,
)


@dataclass(frozen=True)
class NodeSettings:
    """Deploy-time strings the configuration references (tokens are fine here)."""

    region: str
    partition: str
    head_subnet_id: str
    head_security_groups: tuple[str, ...]
    queue_subnet_ids: Mapping[str, Sequence[str]]
    queue_security_groups: tuple[str, ...]
    compute_role_arn: str
    key_name: str | None = None
    ssm_access: bool = True
    #: ``user_data`` scripts, run after the queues' own ``OnNodeConfigured`` actions.
    configured_scripts: tuple[CustomAction, ...] = ()
    head_custom_actions: CustomActions | None = None
    #: Managed policies added to the head node (the custom-action script read policy).
    head_policies: tuple[str, ...] = ()
    custom_slurm_settings: tuple[Mapping[str, Any], ...] = ()
    database: Mapping[str, str] | None = None
    directory_service: DirectoryService | None = None
    login_pools: tuple[Mapping[str, Any], ...] = ()
    #: ``Image.CustomAmi`` of the cluster and per queue name (AMI ids; tokens are fine).
    custom_ami: str | None = None
    queue_amis: Mapping[str, str] = dataclasses.field(default_factory=dict)


def placement_config(res: ResourcePlan) -> dict[str, Any] | None:
    """``Networking.PlacementGroup`` of a compute resource: a passed group by ``Name``
    (ParallelCluster accepts Id or Name, not both; Name is the documented one), ParallelCluster's
    own group with ``Enabled: true``, or an explicit ``Enabled: false`` where ParallelCluster
    wants the choice explicit (EFA resources); Capacity Blocks get none (AWS places them)."""
    if res.placement.uses_group:
        if res.placement_group_name is not None:
            return {"Enabled": True, "Name": res.placement_group_name}
        return {"Enabled": True}
    if (res.efa or res.placement_off) and not res.capacity.is_capacity_block:
        return {"Enabled": False}
    return None


def compute_resource_config(res: ResourcePlan) -> dict[str, Any]:
    out: dict[str, Any] = {"Name": res.name}
    types = list(res.instance_types)
    if len(types) == 1:
        out["InstanceType"] = types[0]
    else:
        out["Instances"] = [{"InstanceType": t} for t in types]
    out["MinCount"] = res.min_nodes
    out["MaxCount"] = res.max_nodes
    if res.efa or any(s.efa_supported for s in res.specs):
        out["Efa"] = {"Enabled": res.efa}
    capacity = res.capacity
    if capacity.is_spot and capacity.spot_max_price is not None:
        out["SpotPrice"] = float(capacity.spot_max_price)
    # The same target a launch template carries (reservations and Capacity Blocks).
    reservation = capacity.launch_template_data_overrides().get("CapacityReservationSpecification")
    if reservation is not None:
        out["CapacityReservationTarget"] = reservation["CapacityReservationTarget"]
    placement = placement_config(res)
    if placement is not None:
        out["Networking"] = {"PlacementGroup": placement}
    if res.custom_slurm_settings:
        out["CustomSlurmSettings"] = dict(res.custom_slurm_settings)
    return out


def queue_config(queue: QueuePlan, nodes: NodeSettings) -> dict[str, Any]:
    out: dict[str, Any] = {"Name": queue.name, "CapacityType": queue.capacity_type}
    if queue.allocation_strategy is not None:
        out["AllocationStrategy"] = queue.allocation_strategy
    out["JobExclusiveAllocation"] = queue.job_exclusive_allocation
    out["Networking"] = {
        "SubnetIds": list(nodes.queue_subnet_ids[queue.name]),
        "AdditionalSecurityGroups": list(nodes.queue_security_groups),
    }
    out["ComputeResources"] = [compute_resource_config(r) for r in queue.resources]
    if queue.name in nodes.queue_amis:
        out["Image"] = {"CustomAmi": nodes.queue_amis[queue.name]}
    # InstanceRole excludes S3Access and AdditionalIamPolicies (QueueIamSchema): the role
    # carries every permission, including reading the custom-action script.
    out["Iam"] = {"InstanceRole": nodes.compute_role_arn}
    actions = custom_actions_config(queue.custom_actions, nodes.configured_scripts)
    if actions is not None:
        out["CustomActions"] = actions
    if queue.custom_slurm_settings:
        out["CustomSlurmSettings"] = dict(queue.custom_slurm_settings)
    return out


def head_node_config(plan: ClusterPlan, nodes: NodeSettings) -> dict[str, Any]:
    head: dict[str, Any] = {
        "InstanceType": plan.head_node_instance_type,
        "Networking": {
            "SubnetId": nodes.head_subnet_id,
            "AdditionalSecurityGroups": list(nodes.head_security_groups),
        },
        "Imds": {"Secured": True},
    }
    if nodes.key_name is not None:
        head["Ssh"] = {"KeyName": nodes.key_name}
    policies = list(nodes.head_policies)
    if nodes.ssm_access:
        policies.insert(0, f"arn:{nodes.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore")
    if policies:
        head["Iam"] = {"AdditionalIamPolicies": [{"Policy": p} for p in policies]}
    actions = custom_actions_config(nodes.head_custom_actions)
    if actions is not None:
        head["CustomActions"] = actions
    return head


def slurm_settings(plan: ClusterPlan, nodes: NodeSettings) -> dict[str, Any]:
    # The custom resource does not stop the compute fleet before an update, and
    # ParallelCluster rejects queue changes on a running fleet unless a QueueUpdateStrategy
    # is set (User Guide, "Cluster operations"): DRAIN (the default) lets running jobs
    # finish and replaces nodes afterwards.
    out: dict[str, Any] = {"QueueUpdateStrategy": plan.queue_update_strategy}
    if nodes.database is not None:
        out["Database"] = dict(nodes.database)
    if nodes.custom_slurm_settings:
        out["CustomSlurmSettings"] = [dict(s) for s in nodes.custom_slurm_settings]
    return out


def cluster_config(
    plan: ClusterPlan, nodes: NodeSettings, storage: Sequence[SharedFileSystem]
) -> dict[str, Any]:
    config: dict[str, Any] = {
        "Region": nodes.region,
        "Imds": {"ImdsSupport": "v2.0"},
        "Image": {"Os": plan.os, **({"CustomAmi": nodes.custom_ami} if nodes.custom_ami else {})},
        "HeadNode": head_node_config(plan, nodes),
        "Scheduling": {
            "Scheduler": "slurm",
            "SlurmSettings": slurm_settings(plan, nodes),
            "SlurmQueues": [queue_config(q, nodes) for q in plan.queues],
        },
    }
    config["Monitoring"] = monitoring_config(plan.monitoring)
    shared = [shared_storage_config(item) for item in storage]
    if shared:
        config["SharedStorage"] = shared
    if nodes.login_pools:
        config["LoginNodes"] = {"Pools": [dict(p) for p in nodes.login_pools]}
    if nodes.directory_service is not None:
        config["DirectoryService"] = directory_service_config(nodes.directory_service)
    return config


def monitoring_config(m: ParallelClusterMonitoring) -> dict[str, Any]:
    """Always rendered, so the configuration says what it gets (ParallelCluster's defaults
    are the same except the library keeps the logs: ``DeletionPolicy: Retain``)."""
    return {
        "DetailedMonitoring": m.detailed_monitoring,
        "Logs": {
            "CloudWatch": {
                "Enabled": m.logs,
                "RetentionInDays": m.log_retention_days,
                "DeletionPolicy": m.log_deletion_policy,
            },
            "Rotation": {"Enabled": m.log_rotation},
        },
        "Dashboards": {"CloudWatch": {"Enabled": m.dashboard}},
        "Alarms": {"Enabled": m.alarms},
    }


def shared_storage_config(item: SharedFileSystem) -> dict[str, Any]:
    fs_id = item.file_system.file_system_id
    if item.is_lustre:
        kind, settings = "FsxLustre", {"FsxLustreSettings": {"FileSystemId": fs_id}}
    else:
        kind, settings = "Efs", {"EfsSettings": {"FileSystemId": fs_id}}
    return {"Name": item.name, "MountDir": item.mount_point, "StorageType": kind, **settings}


# --- YAML -----------------------------------------------------------------------------------


def placeholders(value: Any) -> Any:
    """Resolved CloudFormation intrinsics as ``${LogicalId}`` / ``${LogicalId.Attribute}``
    placeholders (``Fn::Sub`` keeps its own ``${...}`` text)."""
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref" and isinstance(arg, str):
                return f"${{{arg}}}"
            if key == "Fn::GetAtt" and isinstance(arg, list):
                return "${" + ".".join(str(a) for a in arg) + "}"
            if key == "Fn::Join" and isinstance(arg, list) and len(arg) == 2:
                return str(arg[0]).join(str(placeholders(p)) for p in arg[1])
            if key == "Fn::Sub" and isinstance(arg, str):
                return arg
        return {k: placeholders(v) for k, v in value.items()}
    if isinstance(value, list):
        return [placeholders(v) for v in value]
    return value


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    return json.dumps(str(value))  # a JSON string is a valid YAML double-quoted scalar


def to_yaml(value: Any, indent: int = 0) -> str:
    """A small block-style YAML writer for dicts, lists and scalars (no PyYAML at runtime)."""
    pad = "  " * indent
    if isinstance(value, dict):
        if not value:
            return pad + "{}"
        lines = []
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}{key}:")
                lines.append(to_yaml(item, indent + 1))
            else:
                rendered = "[]" if item == [] else "{}" if item == {} else _scalar(item)
                lines.append(f"{pad}{key}: {rendered}")
        return "\n".join(lines)
    if isinstance(value, list):
        lines = []
        for item in value:
            if isinstance(item, (dict, list)) and item:
                body = to_yaml(item, indent + 1).lstrip()
                lines.append(f"{pad}- {body}")
            else:
                lines.append(f"{pad}- {_scalar(item)}")
        return "\n".join(lines)
    return pad + _scalar(value)
