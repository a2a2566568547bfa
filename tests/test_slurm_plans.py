"""Slurm rules on plain values: the PCS node-group plan and the ParallelCluster plan and
rendering, checked without building or synthesizing a stack."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from hpc_constructs.capacity import FleetCapacity
from hpc_constructs.errors import Validator
from hpc_constructs.nodes import SharedFileSystem
from hpc_constructs.slurm._pc_plan import (
    SlurmComputeResource,
    SlurmQueue,
    check_storage,
    plan_cluster,
    plan_queue,
)
from hpc_constructs.slurm._pc_render import (
    compute_resource_config,
    placeholders,
    placement_config,
    shared_storage_config,
    to_yaml,
)
from hpc_constructs.slurm._pcs_plan import NodeGroupFacts, plan_node_group

RESERVATION = "cr-0123456789abcdef0"


def _group(facts: NodeGroupFacts | None = None, **kw: Any) -> tuple[Validator, Any]:
    v = Validator("S/Pcs/Group")
    kw.setdefault("name", "group")
    kw.setdefault("instance_types", ["c5n.18xlarge"])
    kw.setdefault("min_nodes", 0)
    kw.setdefault("max_nodes", 4)
    return v, plan_node_group(v, facts or NodeGroupFacts(), **kw)


def _messages(v: Validator) -> str:
    return "\n".join(str(p) for p in v.problems)


# --- PCS node groups ------------------------------------------------------------------------


def test_pcs_efa_group_plans_a_new_cluster_placement_group() -> None:
    v, plan = _group()
    assert not v.problems
    assert plan.efa
    assert plan.placement.create_group
    assert plan.placement.is_cluster
    assert [(i.device_index, i.interface_type) for i in plan.interfaces] == [
        (0, "interface"),
        (1, "efa-only"),
    ]
    assert plan.purchase_option == "ONDEMAND"


def test_pcs_min_above_max_is_one_problem_on_max_nodes() -> None:
    v, plan = _group(min_nodes=3, max_nodes=2)
    assert plan is None
    assert [p.prop for p in v.problems] == ["max_nodes"]
    assert "at least min_nodes (3)" in _messages(v)


def test_pcs_node_groups_must_fit_the_cluster_size() -> None:
    v, _ = _group(NodeGroupFacts(used_nodes=30), max_nodes=4)
    assert "max_nodes=4" in _messages(v)
    assert "at most 2" in _messages(v)


def test_pcs_counts_that_are_tokens_need_concrete_values() -> None:
    import aws_cdk as cdk

    v, _ = _group(max_nodes=cdk.Token.as_number(cdk.Aws.ACCOUNT_ID))
    assert "needs a concrete value at synth time" in _messages(v)


def test_pcs_passed_placement_group_is_used_not_created() -> None:
    v, plan = _group(group_label="S/Fleet/PlacementGroup", group_strategy="cluster")
    assert not v.problems
    assert plan.placement.uses_group
    assert not plan.placement.create_group


def test_pcs_capacity_reservation_without_group_creates_none_and_warns() -> None:
    v, plan = _group(
        instance_types=["hpc7a.96xlarge"],
        capacity=FleetCapacity.capacity_reservation(reservation_id=RESERVATION),
    )
    assert not v.problems
    assert plan.placement.reservation_without_group
    assert not plan.placement.uses_group


def test_pcs_group_and_placement_false_conflict() -> None:
    v, _ = _group(group_label="S/Pg", group_strategy="cluster", placement=False)
    assert "either a placement_group or placement=False" in _messages(v)


def test_pcs_spot_price_and_capacity_block_rules() -> None:
    v, _ = _group(capacity=FleetCapacity.spot(max_price="2.5"))
    assert "PCS has no Spot maximum price" in _messages(v)
    v, _ = _group(
        instance_types=["p5.48xlarge"],
        capacity=FleetCapacity.capacity_block(RESERVATION),
        placement=True,
    )
    assert "AWS places a Capacity Block's instances itself" in _messages(v)


def test_pcs_name_image_and_architecture_rules() -> None:
    facts = NodeGroupFacts(
        taken_names=("group",), has_cluster_image=True, cluster_image_architecture="arm64"
    )
    v, _ = _group(facts)
    text = _messages(v)
    assert "a name no other node group of the cluster uses" in text
    assert "arm64 types: the cluster's machine_image already serves" in text
    v, _ = _group(NodeGroupFacts(has_cluster_image=False), name="pcs_x")
    assert "name='pcs_x'" in _messages(v)
    assert "an AMI with the PCS agent and Slurm 25.11" in _messages(v)


# --- ParallelCluster ------------------------------------------------------------------------


def _cr(**kw: Any) -> SlurmComputeResource:
    kw.setdefault("name", "c5n")
    kw.setdefault("instance_types", ["c5n.18xlarge"])
    kw.setdefault("max_nodes", 4)
    return SlurmComputeResource(**kw)


def _queue(*resources: SlurmComputeResource, name: str = "q") -> tuple[Validator, Any]:
    v = Validator("S/Cluster")
    return v, plan_queue(v, SlurmQueue(name=name, compute_resources=list(resources)))


def test_pc_efa_resource_renders_parallelclusters_own_placement_group() -> None:
    v, queue = _queue(_cr())
    assert not v.problems
    (res,) = queue.resources
    config = compute_resource_config(res)
    assert config["Efa"] == {"Enabled": True}
    assert config["Networking"] == {"PlacementGroup": {"Enabled": True}}
    assert queue.job_exclusive_allocation is True
    assert queue.needs_one_subnet


def test_pc_capacity_reservation_without_group_renders_placement_off() -> None:
    v, queue = _queue(_cr(capacity=FleetCapacity.capacity_reservation(reservation_id=RESERVATION)))
    assert not v.problems
    (res,) = queue.resources
    assert res.placement.reservation_without_group
    config = compute_resource_config(res)
    assert config["Networking"] == {"PlacementGroup": {"Enabled": False}}
    assert config["CapacityReservationTarget"] == {"CapacityReservationId": RESERVATION}


def test_pc_capacity_block_is_fixed_size_and_unplaced() -> None:
    block = FleetCapacity.capacity_block(RESERVATION)
    v, _ = _queue(_cr(instance_types=["p5.48xlarge"], max_nodes=2, capacity=block))
    assert "min_nodes/max_nodes=(0, 2)" in _messages(v)
    v, queue = _queue(_cr(instance_types=["p5.48xlarge"], min_nodes=2, max_nodes=2, capacity=block))
    assert not v.problems
    assert placement_config(queue.resources[0]) is None


def test_pc_min_above_max_is_blamed_on_max_nodes() -> None:
    v, queue = _queue(_cr(min_nodes=8))
    assert queue is None
    assert [p.prop for p in v.problems] == ["queues[q].compute_resources[c5n].max_nodes"]


def test_pc_queue_rules_capacity_types_names_and_shapes() -> None:
    v, _ = _queue(_cr(name="s", capacity=FleetCapacity.spot()), _cr(name="o"))
    assert "one ParallelCluster capacity type per queue" in _messages(v)
    v, _ = _queue(_cr(instance_types=["c5n.18xlarge", "c5n.9xlarge"], efa=False))
    assert "types with the same vCPU and GPU counts" in _messages(v)
    v, _ = _queue(_cr(name="Bad_Name"), name="default")
    assert "queues[default].name='default'" in _messages(v)
    assert "compute_resources[Bad_Name].name='Bad_Name'" in _messages(v)


def test_pc_resource_fields_are_type_checked() -> None:
    v, _ = _queue(_cr(instance_types="c5n.18xlarge", placement="yes"))
    text = _messages(v)
    assert (
        "compute_resources[c5n].instance_types='c5n.18xlarge' is not valid (got str); "
        "allowed: a list of str"
    ) in text
    placement = "compute_resources[c5n].placement='yes' is not valid (got str)"
    assert f"{placement}; allowed: bool or None" in text


def test_pc_cluster_plan_checks_version_os_architecture_and_head_node() -> None:
    v = Validator("S/Cluster")
    plan = plan_cluster(
        v,
        queues=[
            SlurmQueue(name="x86", compute_resources=[_cr()]),
            SlurmQueue(
                name="arm", compute_resources=[_cr(name="g", instance_types=["c6gn.16xlarge"])]
            ),
        ],
        version="3.5.0",
        os="centos7",
        head_node_instance_type=None,
        queue_update_strategy="STOP",
    )
    assert plan is None
    text = _messages(v)
    for expected in ("version='3.5.0'", "os='centos7'", "types of one architecture", "'DRAIN'"):
        assert expected in text, text


def test_pc_default_head_node_follows_the_compute_architecture() -> None:
    v = Validator("S/Cluster")
    plan = plan_cluster(
        v,
        queues=[
            SlurmQueue(
                name="arm", compute_resources=[_cr(name="g", instance_types=["c6gn.16xlarge"])]
            )
        ],
        version="3.16.1",
        os="alinux2023",
        head_node_instance_type=None,
        queue_update_strategy="DRAIN",
    )
    assert not v.problems
    assert plan is not None
    assert plan.head_node_instance_type == "c7g.2xlarge"


class _Lustre:
    file_system_id = "fs-0123456789abcdef0"
    dns_name = "fs-0123456789abcdef0.fsx.us-east-2.amazonaws.com"
    mount_name = "abcdefgh"
    connections: Any = None


def test_pc_storage_names_and_rendering() -> None:
    items = [
        SharedFileSystem(_Lustre(), mount_point="/fsx", name="default"),
        SharedFileSystem(_Lustre(), mount_point="/b", name="x" * 31),
    ]
    v = Validator("S/Cluster")
    check_storage(v, "file_systems", items)
    text = _messages(v)
    assert "file_systems[].name='default'" in text
    assert f"file_systems[].name='{'x' * 31}'" in text
    ok = SharedFileSystem(_Lustre(), mount_point="/fsx", name="fsx")
    assert shared_storage_config(ok) == {
        "Name": "fsx",
        "MountDir": "/fsx",
        "StorageType": "FsxLustre",
        "FsxLustreSettings": {"FileSystemId": "fs-0123456789abcdef0"},
    }


def test_slurm_storage_is_a_deprecated_alias_of_shared_file_system() -> None:
    from hpc_constructs.slurm import SlurmStorage

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        item = SlurmStorage(_Lustre(), mount_dir="/scratch")
    assert isinstance(item, SharedFileSystem)
    assert item.mount_point == "/scratch"
    assert any(issubclass(w.category, DeprecationWarning) for w in caught)


def test_yaml_and_placeholders_round_trip_intrinsics() -> None:
    resolved = {
        "A": {"Ref": "Sub1"},
        "B": {"Fn::GetAtt": ["Role1", "Arn"]},
        "C": {"Fn::Join": ["", ["s3://", {"Ref": "Bucket"}, "/k.sh"]]},
        "D": [True, 3, "x"],
    }
    plain = placeholders(resolved)
    assert plain == {
        "A": "${Sub1}",
        "B": "${Role1.Arn}",
        "C": "s3://${Bucket}/k.sh",
        "D": [True, 3, "x"],
    }
    assert to_yaml(plain) == (
        'A: "${Sub1}"\nB: "${Role1.Arn}"\nC: "s3://${Bucket}/k.sh"\nD:\n  - true\n  - 3\n  - "x"'
    )


@pytest.mark.parametrize("max_nodes", [0, -1])
def test_pc_max_nodes_must_be_at_least_one(max_nodes: int) -> None:
    v, _ = _queue(_cr(max_nodes=max_nodes))
    assert "max_nodes" in _messages(v)


def test_tokens_where_the_plan_needs_values_name_the_prop() -> None:
    import aws_cdk as cdk

    token = cdk.Token.as_string(cdk.Aws.REGION)
    v, _ = _group(instance_types=[token])
    assert "instance_types" in _messages(v)
    assert "needs a concrete value at synth time" in _messages(v)
    v, _ = _queue(_cr(instance_types=[token]))
    assert "queues[q].compute_resources[c5n].instance_types" in _messages(v)
    assert "needs a concrete value at synth time" in _messages(v)


# --- platform rules on plain values ---------------------------------------------------------


def test_fails_on_settings_parallelcluster_denies_case_insensitively() -> None:
    from hpc_constructs.slurm._pc_platform import check_cluster_settings, check_custom_settings

    v = Validator("C")
    check_custom_settings(v, "queues[q].custom_slurm_settings", {"partitionname": "x"}, "Queue")
    check_custom_settings(v, "custom", {"MaxTime": "1"}, "Queue")
    check_cluster_settings(
        v, [{"JobAcctGatherType": "x"}, {"PartitionName": "p", "Nodes": "n"}], True
    )
    text = "\n".join(str(p) for p in v.problems)
    assert "['partitionname']" in text
    assert "['JobAcctGatherType']" in text
    assert len(v.problems) == 2  # multi-key entries (custom partitions) are not deny-listed


def test_fails_on_pcs_settings_outside_the_documented_lists() -> None:
    from hpc_constructs.slurm._pcs_plan import check_pcs_accounting, check_pcs_settings
    from hpc_constructs.slurm.pcs import PcsAccounting

    v = Validator("P")
    check_pcs_settings(v, "slurm_custom_settings", {"prolog": "/p", "SlurmUser": "x"}, "cluster")
    check_pcs_settings(v, "slurm_custom_settings", {"RealMemory": "1000"}, "node group")
    check_pcs_settings(v, "slurm_custom_settings", {"Anything": "1"}, "queue")
    check_pcs_settings(v, "slurm_custom_settings", {"Weight": 10}, "node group")
    check_pcs_accounting(v, PcsAccounting(default_purge_time_days=10_001))
    text = "\n".join(str(p) for p in v.problems)
    assert "['SlurmUser']" in text
    assert "a mapping of Slurm parameter name to string value" in text
    assert "0 is not valid" in text
    assert len(v.problems) == 3
