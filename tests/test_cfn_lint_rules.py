"""The HPC cfn-lint rule pack catches what CloudFormation's schemas let through."""

from __future__ import annotations

from typing import Any

import pytest

from hpc_constructs import limits
from tests.harness import cfn_lint

SUBNET = {"SubnetIds": ["subnet-12345678"]}


def lustre(capacity: int, deployment: str, **extra: Any) -> dict[str, Any]:
    config = {"DeploymentType": deployment, **extra.pop("config", {})}
    props = {"FileSystemType": "LUSTRE", "StorageCapacity": capacity, **SUBNET, **extra}
    props["LustreConfiguration"] = config
    return {"Resources": {"Fs": {"Type": "AWS::FSx::FileSystem", "Properties": props}}}


def hpc_findings(template: dict[str, Any]) -> list[str]:
    return [f for f in cfn_lint(template) if f.startswith("E91")]


@pytest.mark.parametrize(
    ("capacity", "deployment", "config"),
    [
        (1200, "SCRATCH_2", {}),
        (4800, "SCRATCH_2", {}),
        (7200, "SCRATCH_1", {}),
        (2400, "PERSISTENT_1", {"PerUnitStorageThroughput": 200}),
        (9600, "PERSISTENT_2", {"PerUnitStorageThroughput": 1000}),
    ],
)
def test_valid_lustre_sizes_pass(capacity: int, deployment: str, config: dict[str, Any]) -> None:
    assert hpc_findings(lustre(capacity, deployment, config=config)) == []


@pytest.mark.parametrize(
    ("capacity", "deployment", "config", "fragment"),
    [
        (3600, "SCRATCH_2", {}, "StorageCapacity 3600"),
        (4800, "SCRATCH_1", {}, "StorageCapacity 4800"),
        (2400, "PERSISTENT_2", {"PerUnitStorageThroughput": 200}, "125, 250, 500, 1000"),
        (2400, "PERSISTENT_1", {}, "PerUnitStorageThroughput None"),
        (2400, "SCRATCH_2", {"PerUnitStorageThroughput": 200}, "unset for SCRATCH_2"),
        (2400, "SCRATCH_3", {}, "DeploymentType 'SCRATCH_3'"),
    ],
)
def test_fails_invalid_lustre_sizes(
    capacity: int, deployment: str, config: dict[str, Any], fragment: str
) -> None:
    findings = hpc_findings(lustre(capacity, deployment, config=config))
    assert any("E9101" in f and fragment in f for f in findings), findings


def launch_template(interfaces: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "Resources": {
            "Lt": {
                "Type": "AWS::EC2::LaunchTemplate",
                "Properties": {"LaunchTemplateData": {"NetworkInterfaces": interfaces}},
            }
        }
    }


def test_valid_efa_layout_passes() -> None:
    interfaces = [
        {"NetworkCardIndex": 0, "DeviceIndex": 0, "InterfaceType": "efa"},
        {"NetworkCardIndex": 1, "DeviceIndex": 0, "InterfaceType": "efa-only"},
    ]
    assert hpc_findings(launch_template(interfaces)) == []


@pytest.mark.parametrize(
    ("interfaces", "fragment"),
    [
        ([{"DeviceIndex": 0, "InterfaceType": "efa-only"}], "primary interface cannot be efa-only"),
        ([{"DeviceIndex": 0, "InterfaceType": "efa-express"}], "is not one of"),
        (
            [
                {"DeviceIndex": 0, "InterfaceType": "efa"},
                {"DeviceIndex": 1, "InterfaceType": "efa-only"},
            ],
            "at most one EFA per network card",
        ),
        (
            [
                {"DeviceIndex": 0, "InterfaceType": "interface"},
                {
                    "NetworkCardIndex": 1,
                    "DeviceIndex": 0,
                    "InterfaceType": "efa-only",
                    "PrivateIpAddress": "10.0.0.5",
                },
            ],
            "cannot carry IP addresses",
        ),
        (
            [{"NetworkCardIndex": 1, "DeviceIndex": 0, "InterfaceType": "efa"}],
            "no primary interface",
        ),
    ],
)
def test_fails_invalid_efa_layout(interfaces: list[dict[str, Any]], fragment: str) -> None:
    findings = hpc_findings(launch_template(interfaces))
    assert any("E9102" in f and fragment in f for f in findings), findings


def job(num: int, main: int, targets: list[str]) -> dict[str, Any]:
    ranges = [{"TargetNodes": t, "Container": {"Image": "busybox"}} for t in targets]
    return {
        "Resources": {
            "Job": {
                "Type": "AWS::Batch::JobDefinition",
                "Properties": {
                    "Type": "multinode",
                    "NodeProperties": {
                        "NumNodes": num,
                        "MainNode": main,
                        "NodeRangeProperties": ranges,
                    },
                },
            }
        }
    }


def test_valid_node_ranges_pass() -> None:
    assert hpc_findings(job(4, 0, ["0", "1:"])) == []
    assert hpc_findings(job(8, 3, [":7", "2:3"])) == []


@pytest.mark.parametrize(
    ("num", "main", "targets", "fragment"),
    [
        (4, 4, ["0:3"], "MainNode 4 must be less than NumNodes 4"),
        (4, 0, ["0:1"], "leave nodes 2, 3"),
        (8, 0, ["0", "1", "2", "3", "4", "5:7"], "at most 5"),
        (4, 0, ["0:9"], "outside nodes 0:3"),
        (4, 0, ["a:b"], "is not a range"),
    ],
)
def test_fails_invalid_node_ranges(num: int, main: int, targets: list[str], fragment: str) -> None:
    findings = hpc_findings(job(num, main, targets))
    assert any("E9103" in f and fragment in f for f in findings), findings


def test_limits_list_valid_capacities_in_order() -> None:
    assert limits.lustre_valid_capacities("SCRATCH_2", "SSD", None, 7200) == [
        1200,
        2400,
        4800,
        7200,
    ]
    assert limits.lustre_valid_capacities("SCRATCH_1", "SSD", None, 7200) == [
        1200,
        2400,
        3600,
        7200,
    ]
