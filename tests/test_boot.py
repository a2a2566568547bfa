"""The boot plan's rules and the generated text, on plain values (no synthesis). The scripts
themselves are executed in tests/test_boot_sandbox.py."""

from __future__ import annotations

import json

import pytest

from hpc_constructs.boot import (
    AGENT_CONFIG_PATH,
    BootPlan,
    MountStep,
    TelemetryStep,
    agent_config,
    heartbeat_timeout_rule,
    imds_hop_limit_rule,
    log_retention_rule,
    node_setup_script,
    user_data_script,
)
from hpc_constructs.errors import Validator
from hpc_constructs.telemetry import (
    EFA_METRICS,
    GPU_METRICS,
    NODE_GROUP_DIMENSION,
    NODE_METRICS_NAMESPACE,
)


def problems(rule, value) -> list[str]:  # type: ignore[no-untyped-def]
    v = Validator("Stack/Node")
    rule(v, value)
    return [str(p) for p in v.problems]


@pytest.mark.parametrize("seconds", [29, 7201, 0])
def test_fails_on_heartbeat_outside_the_autoscaling_range(seconds: int) -> None:
    (problem,) = problems(heartbeat_timeout_rule, seconds)
    assert "Stack/Node: health_gate_timeout" in problem
    assert "30 to 7200 seconds" in problem


@pytest.mark.parametrize("hops", [0, 65])
def test_fails_on_hop_limit_outside_1_to_64(hops: int) -> None:
    (problem,) = problems(imds_hop_limit_rule, hops)
    assert f"imds_hop_limit={hops}" in problem
    assert "1 to 64" in problem


@pytest.mark.parametrize("days", [2, 200, 0, 4000])
def test_fails_on_a_retention_cloudwatch_logs_does_not_accept(days: int) -> None:
    (problem,) = problems(log_retention_rule, days)
    assert f"log_retention={days}" in problem
    assert "180" in problem


def test_accepted_values_pass() -> None:
    assert not problems(heartbeat_timeout_rule, 1800)
    assert not problems(imds_hop_limit_rule, 1)
    assert not problems(log_retention_rule, 180)
    assert not problems(log_retention_rule, None)


def _config(**kinds: bool) -> dict:  # type: ignore[type-arg]
    return json.loads(json.dumps(agent_config(TelemetryStep("/hpc/logs", "S/Fleet", **kinds))))


def test_agent_config_on_a_cpu_node_has_cpu_memory_disk_and_the_logs() -> None:
    config = _config()
    metrics = config["metrics"]
    assert metrics["namespace"] == NODE_METRICS_NAMESPACE
    assert metrics["aggregation_dimensions"] == [[NODE_GROUP_DIMENSION]]
    assert sorted(metrics["metrics_collected"]) == ["cpu", "disk", "mem"]
    for section in metrics["metrics_collected"].values():
        assert section["append_dimensions"] == {NODE_GROUP_DIMENSION: "S/Fleet"}
        assert all("_" in m for m in section["measurement"])
    files = config["logs"]["logs_collected"]["files"]["collect_list"]
    assert {f["file_path"] for f in files} == {
        "/var/log/hpc-constructs-boot.log",
        "/var/log/cloud-init-output.log",
        "/var/log/messages",
    }
    assert {f["log_group_name"] for f in files} == {"/hpc/logs"}
    assert all(f["log_stream_name"].startswith("{instance_id}/") for f in files)


def test_agent_config_adds_efa_gpu_and_slurm_sections_only_where_they_apply() -> None:
    efa = _config(efa=True)["metrics"]["metrics_collected"]
    assert efa["efa"]["measurement"] == list(EFA_METRICS)
    assert "nvidia_gpu" not in efa
    gpu = _config(efa=True, gpu=True)["metrics"]["metrics_collected"]
    assert gpu["nvidia_gpu"]["measurement"] == list(GPU_METRICS)
    slurm = _config(slurm=True)["logs"]["logs_collected"]["files"]["collect_list"]
    assert "/var/log/slurmd.log" in {f["file_path"] for f in slurm}


def test_user_data_installs_the_set_up_the_unit_the_agent_config_and_runs_the_set_up() -> None:
    plan = BootPlan(
        launcher="EfaComputeFleet",
        instance_type="c5n.18xlarge",
        efa_devices=1,
        mounts=(MountStep("lustre", "fs.example@tcp:/abc", "/fsx"),),
        gate="lifecycle-hook",
        telemetry=TelemetryStep("/hpc/logs", "S/Fleet", efa=True),
    )
    lines = user_data_script(plan, ["echo once"])
    text = "\n".join(lines)
    for path in (
        "/opt/hpc-constructs/node-setup",
        "/opt/hpc-constructs/user-commands",
        AGENT_CONFIG_PATH,
        "/etc/systemd/system/hpc-node-setup.service",
    ):
        assert f"cat >{path} <<'HPC_CONSTRUCTS_EOF'" in text
    assert lines[-3:] == [
        "systemctl daemon-reload",
        "systemctl enable hpc-node-setup.service",
        "/opt/hpc-constructs/node-setup",
    ]
    setup = node_setup_script(plan)
    assert (
        "fs.example@tcp:/abc /fsx lustre defaults,relatime,flock,_netdev,x-systemd.automount 0 0"
        in setup
    )
    assert setup.index("\ntelemetry\n") < setup.index("\nefa\n")
    assert "boot_metric BootFailures" in setup
    assert "boot_metric BootSuccesses" in setup


def test_without_telemetry_there_is_no_agent_and_no_boot_metric_call() -> None:
    plan = BootPlan(launcher="X", instance_type="c5n.18xlarge", gate="none")
    assert AGENT_CONFIG_PATH not in "\n".join(user_data_script(plan))
    assert "put-metric-data" not in node_setup_script(plan)
