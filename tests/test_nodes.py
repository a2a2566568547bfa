"""The launcher rules of EfaComputeFleet and BatchMultiNode on plain values: no construct, no
synthesis. Each test builds props (plain values) and facts (region, subnets, catalog specs)
and checks the plan or the problems."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2

from hpc_constructs import warning_ids
from hpc_constructs.batch import (
    BatchProps,
    efa_only_command_rule,
    node_range_rule,
    plan_batch,
    volume_name,
)
from hpc_constructs.boot import MountStep, node_setup_script, user_data_script
from hpc_constructs.capacity import FleetCapacity
from hpc_constructs.catalog import InstanceCatalog
from hpc_constructs.compute import SubnetFacts, private_subnet_rule, single_subnet_rule
from hpc_constructs.errors import HpcValidationError, Validator
from hpc_constructs.fleet import (
    FleetProps,
    ScratchVolume,
    capacity_block_rule,
    fleet_boot_plan,
    plan_fleet,
    plan_interfaces,
    plan_layouts,
)
from hpc_constructs.nodes import (
    SharedFileSystem,
    efa_disabled,
    resolve_added_file_system,
    resolve_file_systems,
)

REGION = "us-east-2"
ONE_SUBNET = SubnetFacts(subnets=(("Stack/Vpc/Private1", "us-east-2a"),))
TWO_SUBNETS = SubnetFacts(
    subnets=(("Stack/Vpc/Private1", "us-east-2a"), ("Stack/Vpc/Private2", "us-east-2b"))
)
RESERVATION = FleetCapacity.capacity_reservation(reservation_id="cr-0123456789abcdef0")
BLOCK = FleetCapacity.capacity_block("cr-0123456789abcdef0")


@dataclass(frozen=True)
class FakeLustre:
    """Enough of a Lustre file system for the rules (they never touch ``connections``)."""

    file_system_id: str = "fs-0123456789abcdef0"
    dns_name: str = "fs.example"
    mount_name: str = "abcd"
    connections: Any = None


@dataclass(frozen=True)
class FakeEfs:
    """The members of efs.IFileSystem that nodes.is_file_system recognises EFS by."""

    file_system_id: str = "fs-0fedcba9876543210"
    file_system_arn: str = "arn:aws:elasticfilesystem:us-east-2:123456789012:file-system/fs-0"
    connections: Any = None
    mount_targets_available: Any = None


def fleet(**kwargs: Any) -> tuple[Any, Validator]:
    props: dict[str, Any] = {"instance_types": ("c5n.18xlarge",), "max_nodes": 4}
    props.update(kwargs)
    v = Validator("Stack/Fleet")
    return plan_fleet(v, FleetProps(**props), region=REGION, subnets=ONE_SUBNET), v


def mnp(subnets: SubnetFacts = ONE_SUBNET, **kwargs: Any) -> tuple[Any, Validator]:
    props: dict[str, Any] = {"instance_type": "c5n.18xlarge", "max_nodes": 4}
    props.update(kwargs)
    v = Validator("Stack/Batch")
    return plan_batch(v, BatchProps(**props), region=REGION, subnets=subnets), v


def props_of(v: Validator) -> dict[str, str]:
    return {p.prop: str(p) for p in v.problems}


# --- fleet ------------------------------------------------------------------------------------


def test_efa_fleet_plans_one_cluster_group_and_one_launch_template() -> None:
    plan, v = fleet()
    assert not v.problems
    assert plan.efa_enabled
    assert plan.placement.create_group
    assert [lt.construct_id for lt in plan.layouts] == ["LaunchTemplate"]
    assert not plan.mixed_instances
    assert plan.install_efa


def test_types_with_different_layouts_get_their_own_launch_template() -> None:
    specs = [InstanceCatalog.get(t) for t in ("hpc7a.96xlarge", "hpc6a.48xlarge")]
    plans = plan_interfaces(specs, True, "efa-only")
    layouts = plan_layouts(specs, plans, True)
    assert [lt.construct_id for lt in layouts] == ["LaunchTemplate", "LaunchTemplateHpc6a48xlarge"]


def test_fleet_node_counts_use_one_vocabulary_and_blame_max_nodes() -> None:
    plan, v = fleet(min_nodes=5, max_nodes=2)
    assert plan is None
    assert "max_nodes=2" in props_of(v)["max_nodes"]
    assert "at least min_nodes (5)" in props_of(v)["max_nodes"]


def test_capacity_block_needs_a_fixed_size() -> None:
    v = Validator("Stack/Fleet")
    capacity_block_rule(v, FleetProps(("p5.48xlarge",), max_nodes=2, min_nodes=1, capacity=BLOCK))
    assert "min_nodes equal to max_nodes" in props_of(v)["max_nodes"]


def test_fleet_reservation_without_its_group_plans_no_group_and_a_warning() -> None:
    plan, v = fleet(capacity=RESERVATION)
    assert not v.problems
    assert plan.placement.reservation_without_group
    assert not plan.placement.create_group


def test_fleet_tokens_where_the_plan_needs_values_are_one_problem_each() -> None:
    token_types = cdk.Token.as_list(cdk.Fn.split(",", cdk.Fn.ref("Types")))
    plan, v = fleet(
        instance_types=tuple(token_types),
        root_volume_size_gib=cdk.Token.as_number(cdk.Fn.ref("Size")),
    )
    assert plan is None
    assert set(props_of(v)) == {"instance_types", "root_volume_size_gib"}
    assert all("needs a concrete value at synth time" in p for p in props_of(v).values())


def test_efa_fleet_in_two_subnets_fails_on_vpc_subnets() -> None:
    v = Validator("Stack/Fleet")
    plan = plan_fleet(
        v, FleetProps(("c5n.18xlarge",), max_nodes=2), region=REGION, subnets=TWO_SUBNETS
    )
    assert plan is None
    assert "exactly one subnet" in props_of(v)["vpc_subnets"]


def test_fleet_boot_plan_orders_efa_disks_scratch_mounts_then_user_commands() -> None:
    v = Validator("Stack/Fleet")
    plan = plan_fleet(
        v, FleetProps(("hpc6id.32xlarge",), max_nodes=2, scratch_volume=ScratchVolume(100))
    )
    assert plan is not None
    spec = plan.specs[0]
    boot = fleet_boot_plan(plan, spec, [MountStep("lustre", "fs@tcp:/m", "/fsx")])
    assert boot.gate == "lifecycle-hook"
    assert boot.instance_store_disks == spec.nvme_disk_count > 0
    # hpc6id.32xlarge: two network cards, an EFA on each (catalog).
    assert boot.efa_devices == 2
    assert boot.install_efa
    setup = node_setup_script(boot)
    assert setup.index("fi_info -p efa") < setup.index("\ninstance_store\n")
    assert setup.index("\ninstance_store\n") < setup.index("\nscratch_volume\n")
    assert setup.index("\nscratch_volume\n") < setup.index("mount_fs Lustre")
    assert setup.index("mount_fs Lustre") < setup.index("user commands: running")
    assert setup.index("user commands: running") < setup.index('gate pass "node set-up')
    user_data = user_data_script(boot, ["echo last"])
    assert user_data[-1] == "/opt/hpc-constructs/node-setup"
    assert "echo last" in "\n".join(user_data)


def test_fleet_boot_plan_without_health_gate_only_logs() -> None:
    v = Validator("Stack/Fleet")
    plan = plan_fleet(v, FleetProps(("c5n.18xlarge",), max_nodes=2, health_gate=False))
    assert plan is not None
    boot = fleet_boot_plan(plan, plan.specs[0])
    assert boot.gate == "none"
    assert "autoscaling" not in node_setup_script(boot)


# --- batch ------------------------------------------------------------------------------------


def test_batch_creates_a_cluster_group_by_default_even_without_efa() -> None:
    plan, v = mnp(instance_type="c5.large")
    assert not v.problems
    assert not plan.efa_enabled
    assert plan.placement.create_group


def test_batch_placement_false_launches_without_a_group() -> None:
    plan, _ = mnp(placement=False)
    assert not plan.placement.uses_group


def test_batch_reservation_follows_the_fleet_rule() -> None:
    batch_plan, _ = mnp(capacity=RESERVATION)
    fleet_plan, _ = fleet(capacity=RESERVATION)
    assert batch_plan.placement == fleet_plan.placement


def test_batch_refuses_spot_a_spread_group_and_two_subnets_together() -> None:
    plan, v = mnp(
        TWO_SUBNETS,
        capacity=FleetCapacity.spot(),
        group_given=True,
        group_strategy="spread",
        group_label="Stack/Spread",
    )
    assert plan is None
    problems = props_of(v)
    assert "Spot" in problems["capacity"]
    assert "Stack/Spread (SPREAD)" in problems["placement_group"]
    assert "exactly one subnet" in problems["vpc_subnets"]


def test_batch_vcpus_come_from_the_node_counts() -> None:
    plan, _ = mnp(min_nodes=1, max_nodes=4)
    assert (plan.min_vcpus, plan.max_vcpus) == (72, 288)


def test_an_efa_only_job_on_nodes_without_efa_is_refused() -> None:
    v = Validator("Stack/Batch/Job")
    efa_only_command_rule(v, "", ["/bin/sh", "-c", "fi_pingpong -p efa -e rdm"], None, "c5.large")
    efa_only_command_rule(v, "node_ranges[0:0].", ["true"], {"FI_PROVIDER": "efa"}, "c5.large")
    efa_only_command_rule(v, "", ["fi_pingpong", "-p", "tcp"], {"FI_PROVIDER": "tcp"}, "c5.large")
    assert set(props_of(v)) == {"command", "node_ranges[0:0].environment"}
    assert "c5.large" in props_of(v)["command"]


def test_node_ranges_must_cover_the_job() -> None:
    v = Validator("Stack/Batch/Job")
    node_range_rule(v, 4, 0, ["0:1"])
    assert "node_ranges" in props_of(v)


def test_volume_names_say_which_file_system() -> None:
    assert volume_name(SharedFileSystem(FakeLustre(), "/fsx")) == "lustre-fsx"  # type: ignore[arg-type]
    assert volume_name(SharedFileSystem(FakeEfs(), "/shared/home")) == "efs-shared-home"  # type: ignore[arg-type]


# --- shared pieces ----------------------------------------------------------------------------


def test_added_file_systems_are_numbered_after_the_existing_ones() -> None:
    v = Validator("Stack/Fleet")
    existing = resolve_file_systems(v, "file_systems", [FakeLustre(), FakeEfs()])  # type: ignore[list-item]
    assert [i.mount_point for i in existing] == ["/fsx", "/shared"]
    added = resolve_added_file_system(v, FakeEfs("fs-2"), None, existing)
    assert added is not None
    assert (added.mount_point, added.name) == ("/shared2", "efs2")
    assert not v.problems


def test_an_added_file_system_on_a_taken_mount_point_is_refused() -> None:
    v = Validator("Stack/Fleet")
    existing = resolve_file_systems(v, "file_systems", [FakeLustre()])  # type: ignore[list-item]
    assert resolve_added_file_system(v, FakeEfs(), "/fsx", existing) is None
    assert "mount_point" in props_of(v)


def test_an_added_non_file_system_is_refused() -> None:
    v = Validator("Stack/Fleet")
    assert resolve_added_file_system(v, "fs-123", None, []) is None
    assert "file_system" in props_of(v)


def test_subnet_rules_on_plain_facts() -> None:
    v = Validator("Stack/X")
    single_subnet_rule(v, "vpc_subnets", TWO_SUBNETS, "EFA")
    private_subnet_rule(
        v, "vpc_subnets", SubnetFacts(ONE_SUBNET.subnets, public=("Stack/Vpc/Public1",)), ["p5"]
    )
    assert len(v.problems) == 2
    single_subnet_rule(v, "vpc_subnets", SubnetFacts(pending_lookup=True), "EFA")
    assert len(v.problems) == 2


def test_warning_ids_and_the_efa_disabled_rule() -> None:
    assert warning_ids.EFA_DISABLED == "hpc-constructs:efaDisabled"
    assert warning_ids.RESERVATION_WITHOUT_PLACEMENT_GROUP.endswith(
        "reservationWithoutPlacementGroup"
    )
    assert efa_disabled(False, True)
    assert not efa_disabled(None, True)
    assert not efa_disabled(False, False)


def test_plan_fleet_raises_nothing_itself() -> None:
    # The plan functions only record problems; the construct raises them together.
    plan, v = fleet(instance_types=("c5n.19xlarge",), min_nodes=-1)
    assert plan is None
    with pytest.raises(HpcValidationError) as err:
        v.raise_if_any()
    assert {"instance_types", "min_nodes"} <= {p.prop for p in err.value.problems}


def test_subnet_input_types_are_documented_as_one_union() -> None:
    from hpc_constructs.nodes import SubnetsInput

    assert ec2.SubnetSelection in SubnetsInput.__args__


def test_a_file_system_that_is_neither_lustre_nor_efs_is_refused() -> None:
    @dataclass(frozen=True)
    class FakeOntap:
        file_system_id: str = "fs-0123456789abcdef0"
        connections: Any = None

    v = Validator("Stack/Fleet")
    assert resolve_file_systems(v, "file_systems", [FakeOntap()]) == []
    assert "file_systems" in props_of(v)


def test_fails_when_two_batch_mount_points_give_one_volume_name() -> None:
    from hpc_constructs.batch import volume_name_rule

    v = Validator("Stack/Batch")
    items = resolve_file_systems(v, "file_systems", {"/data.x": FakeEfs(), "/data_x": FakeEfs()})  # type: ignore[dict-item]
    volume_name_rule(v, "file_systems", items)
    assert [(p.prop, p.value) for p in v.problems] == [("file_systems", ["/data.x", "/data_x"])]
    ok = Validator("Stack/Batch")
    volume_name_rule(
        ok, "file_systems", resolve_file_systems(ok, "file_systems", [FakeEfs(), FakeEfs()])
    )  # type: ignore[list-item]
    assert ok.problems == []
