"""BatchGrid's rules on plain values: instance pools from the catalog, vCPU ceilings, fair share,
jobs against the pool and Batch's limits. No synthesis."""

from __future__ import annotations

import pytest

from hpc_constructs import limits
from hpc_constructs.catalog import InstanceCatalog, offered_in
from hpc_constructs.errors import Validator
from hpc_constructs.grid import (
    GridPlan,
    GridProps,
    GridShare,
    InstanceRequirements,
    JobAsk,
    diverse_family_order,
    family_of,
    generation_of,
    plan_grid,
    plan_job,
    select_pool,
    usable_memory_mib,
)

REGION = "us-east-2"
ZONES = (("Vpc/A", "us-east-2a"), ("Vpc/B", "us-east-2b"), ("Vpc/C", "us-east-2c"))


def grid(v: Validator | None = None, **kwargs: object) -> GridPlan:
    v = v or Validator("Stack/Grid")
    types = kwargs.pop("instance_types", None)
    req = kwargs.pop("requirements", None)
    props = GridProps(**{"max_vcpus": 1024, **kwargs})  # type: ignore[arg-type]
    plan = plan_grid(v, props, instance_types=types, requirements=req, region=REGION, zones=ZONES)  # type: ignore[arg-type]
    v.raise_if_any()
    assert plan is not None
    return plan


def problems(v: Validator) -> str:
    return "\n".join(str(p) for p in v.problems)


# --- instance pools -------------------------------------------------------------------------


def test_default_pool_is_diversified_across_families_generations_and_classes() -> None:
    plan = grid()
    assert len(plan.specs) == 12
    families = plan.families
    assert len(families) == 12  # one size per family before any family gets a second
    assert {f[0] for f in families} == {"c", "m", "r"}
    assert len(plan.generations) >= 3
    assert {family_of(t)[-1] for t in plan.instance_types} >= {"a", "i"}  # AMD and Intel


def test_every_type_of_a_pool_is_offered_in_the_region_and_each_zone_and_sold_as_spot() -> None:
    for req in (
        InstanceRequirements(),
        InstanceRequirements(min_vcpus=4, max_vcpus=32, max_memory_per_vcpu_gib=4),
        InstanceRequirements(gpus=1, min_vcpus=4, max_vcpus=32, min_gpu_memory_gib=16),
        InstanceRequirements(architecture="arm64", instance_store=True),
    ):
        pool = select_pool(req, REGION, ["us-east-2a", "us-east-2b", "us-east-2c"])
        assert pool, req
        for spec in pool:
            assert offered_in(spec, REGION) is True
            for az in ("us-east-2a", "us-east-2b", "us-east-2c"):
                assert offered_in(spec, REGION, az) is True, (spec.instance_type, az)
            assert "spot" in spec.usage_classes


def test_pool_meets_the_requirements() -> None:
    req = InstanceRequirements(min_vcpus=4, max_vcpus=32, max_memory_per_vcpu_gib=4)
    pool = select_pool(req, REGION, usage_classes=("spot", "on-demand"))
    for spec in pool:
        assert 4 <= spec.vcpus <= 32
        assert 2 <= spec.memory_mib / 1024 / spec.vcpus <= 4
        assert spec.architecture == "x86_64"
        assert spec.gpus == 0
        assert not spec.burstable
        assert spec.current_generation
        assert not spec.instance_type.endswith(".metal")
        assert "-flex" not in spec.instance_type
    assert len({family_of(s.instance_type) for s in pool}) == len(pool)


def test_gpu_pool_has_nvidia_gpus_with_enough_memory() -> None:
    req = InstanceRequirements(gpus=1, min_vcpus=4, max_vcpus=32, min_gpu_memory_gib=20)
    pool = select_pool(req, REGION)
    assert len({family_of(s.instance_type) for s in pool}) >= 3
    for spec in pool:
        assert spec.gpus >= 1
        assert spec.gpu_manufacturer == "NVIDIA"
        assert spec.gpu_memory_mib / spec.gpus >= 20 * 1024
        assert family_of(spec.instance_type).startswith("g")  # training p-types opt-in


def test_instance_store_pools_stripe_the_fewest_disks() -> None:
    plan = grid(requirements=InstanceRequirements(instance_store=True))
    assert all(s.nvme_disk_count >= 1 for s in plan.specs)
    assert plan.instance_store_disks == min(s.nvme_disk_count for s in plan.specs)


def test_excluded_families_and_max_types() -> None:
    plan = grid(requirements=InstanceRequirements(excluded_families=("c8a", "m7i"), max_types=5))
    assert len(plan.specs) == 5
    assert not {"c8a", "m7i"} & set(plan.families)


def test_family_order_prefers_difference_then_newer_generations() -> None:
    order = diverse_family_order(["c6i", "c7i", "m6i", "c6a", "c6id", "r6a"])
    assert order[0] == "c7i"  # newest
    assert order[1] in ("m6i", "r6a")  # another class, generation and processor
    assert order[-1] == "c6id"  # specialised variants last
    assert generation_of("c6id.large") == 6
    assert family_of("c6id.large") == "c6id"


def test_pool_selection_is_deterministic() -> None:
    req = InstanceRequirements()
    first = [s.instance_type for s in select_pool(req, REGION)]
    assert first == [s.instance_type for s in select_pool(req, REGION)]


# --- the grid -------------------------------------------------------------------------------


def test_on_demand_fallback_is_a_quarter_and_spot_share_follows() -> None:
    plan = grid(max_vcpus=4096)
    assert plan.on_demand_max_vcpus == 1024
    assert plan.ec2_max_vcpus == 5120
    assert plan.spot_share == pytest.approx(0.8)
    assert grid(on_demand_fallback=False).spot_share == 1.0
    only_od = grid(spot=False)
    assert only_od.on_demand_max_vcpus == 1024
    assert only_od.spot_share == 0.0


def test_fallback_is_at_least_the_largest_type() -> None:
    plan = grid(max_vcpus=16)
    assert plan.on_demand_max_vcpus == max(s.vcpus for s in plan.specs)


def test_explicit_types_are_checked_against_offerings_and_purchase_options() -> None:
    v = Validator("Stack/Grid")
    plan_grid(
        v,
        GridProps(max_vcpus=64),
        instance_types=["hpc7a.96xlarge", "c6i.xlarge", "c6g.xlarge"],
        region=REGION,
        zones=ZONES,
    )
    text = problems(v)
    assert "hpc7a.96xlarge (spot)" in text  # not sold as Spot
    assert "one architecture" in text
    assert "a subnet in an AZ offering hpc7a.96xlarge" in text  # us-east-2b only


def test_fails_with_both_instance_types_and_requirements() -> None:
    v = Validator("Stack/Grid")
    plan_grid(
        v,
        GridProps(max_vcpus=64),
        instance_types=["c6i.xlarge"],
        requirements=InstanceRequirements(),
        region=REGION,
    )
    assert "either instance_types or instance_requirements, not both" in problems(v)


def test_fails_when_no_type_meets_the_requirements() -> None:
    v = Validator("Stack/Grid")
    req = InstanceRequirements(
        max_vcpus=2, min_memory_per_vcpu_gib=64, max_memory_per_vcpu_gib=None
    )
    plan_grid(v, GridProps(max_vcpus=64), requirements=req, region=REGION)
    assert "no type in the instance catalog meets them" in problems(v)


def test_fails_on_requirements_without_a_region() -> None:
    v = Validator("Stack/Grid")
    plan_grid(v, GridProps(max_vcpus=64), region=None)
    assert "a stack with a concrete region" in problems(v)


def test_fails_on_bad_capacity_props() -> None:
    v = Validator("Stack/Grid")
    props = GridProps(max_vcpus=0, min_vcpus=-1, spot_bid_percentage=120, on_demand_max_vcpus=1)
    plan_grid(v, props, instance_types=["c6i.4xlarge"], region=REGION)
    text = problems(v)
    assert "Stack/Grid: max_vcpus=0 is not valid; allowed: 1 or more" in text
    assert "min_vcpus=-1" in text
    assert "spot_bid_percentage=120" in text
    assert (
        "on_demand_max_vcpus=1 is not valid; allowed: at least the largest type's vCPUs (16)"
        in (text)
    )


def test_fails_on_bad_fair_share_policies() -> None:
    v = Validator("Stack/Grid")
    shares = (GridShare("team-a"), GridShare("teamB*", 0), GridShare("teamB1"))
    props = GridProps(max_vcpus=64, shares=shares, compute_reservation=100)
    plan_grid(v, props, instance_types=["c6i.4xlarge"], region=REGION)
    text = problems(v)
    assert "shares[0].identifier='team-a'" in text
    assert "shares[1].weight=0" in text
    assert "['teamB*', 'teamB1']" in text
    assert "compute_reservation=100" in text


def test_warns_for_a_single_family_spot_pool_only() -> None:
    types = ["c6i.xlarge", "c6i.2xlarge"]
    assert grid(instance_types=types).warn_single_family
    assert not grid(instance_types=types, spot=False).warn_single_family
    assert not grid(instance_types=["c6i.xlarge", "m6i.xlarge"]).warn_single_family


# --- jobs -----------------------------------------------------------------------------------


def job(plan: GridPlan, **kwargs: object) -> tuple[Validator, object]:
    v = Validator("Stack/Grid/Job")
    return v, plan_job(v, plan, JobAsk(**kwargs))  # type: ignore[arg-type]


def test_default_memory_fits_every_type_of_the_pool() -> None:
    plan = grid()
    v, result = job(plan, vcpus=2)
    assert not v.problems
    assert set(result.fits_on) == set(plan.instance_types)  # type: ignore[attr-defined]
    leanest = min(usable_memory_mib(s) / s.vcpus for s in plan.specs)
    assert result.memory_mib == int(leanest * 2)  # type: ignore[attr-defined]


def test_array_size_limits_come_from_the_batch_api() -> None:
    assert limits.BATCH_ARRAY_SIZE == (2, 10_000)
    plan = grid()
    for size in (2, 10_000):
        v, _ = job(plan, array_size=size)
        assert not v.problems


def test_fails_on_an_array_size_over_the_limit() -> None:
    v, result = job(grid(), array_size=10_001)
    assert result is None
    assert str(v.problems[0]) == (
        "Stack/Grid/Job: array_size=10001 is not valid; allowed: 2 to 10,000 child jobs "
        "(AWS Batch SubmitJob arrayProperties.size), or None for a single job"
    )
    v, _ = job(grid(), array_size=1)
    assert "array_size=1 " in problems(v)


def test_fails_on_a_job_larger_than_every_instance_in_the_pool() -> None:
    plan = grid(instance_types=["c6i.4xlarge", "m6i.4xlarge"])
    v, result = job(plan, vcpus=32)
    assert result is None
    text = problems(v)
    assert "Stack/Grid/Job: vcpus/memory/gpus='32 vCPUs" in text
    assert "larger than every instance type of the grid's pool" in text
    assert "the largest: m6i.4xlarge with 16 vCPUs" in text
    v, _ = job(plan, vcpus=4, memory_mib=200_000)
    assert "larger than every instance type" in problems(v)


def test_fails_on_gpus_asked_on_a_cpu_only_pool() -> None:
    v, result = job(grid(), gpus=1)
    assert result is None
    assert "Stack/Grid/Job: gpus=1 is not valid; allowed: 0: the pool has no GPUs" in problems(v)


def test_gpu_job_fits_only_on_types_with_enough_gpus() -> None:
    plan = grid(instance_types=["g6.4xlarge", "g6.12xlarge"])
    v, result = job(plan, vcpus=8, gpus=4)
    assert not v.problems
    assert result.fits_on == ("g6.12xlarge",)  # type: ignore[attr-defined]


def test_fails_on_bad_retries_timeouts_priorities_and_fractional_ec2_vcpus() -> None:
    v, _ = job(grid(), retry_attempts=11, timeout_seconds=30, scheduling_priority=10_000, vcpus=1.5)
    text = problems(v)
    assert "retry_attempts=11 is not valid; allowed: 1 to 10" in text
    assert "timeout='30 seconds'" in text
    assert "at least 60 seconds" in text
    assert "scheduling_priority=10000" in text
    assert "vcpus=1.5" in text


def test_fargate_jobs_take_fargate_sizes_and_need_the_fargate_queue() -> None:
    plan = grid(fargate_max_vcpus=64)
    v, result = job(plan, fargate=True, vcpus=0.5, memory_mib=1024)
    assert not v.problems
    assert result is not None
    v, _ = job(plan, fargate=True, vcpus=1, memory_mib=1024)
    assert "one of 2048, 3072, 4096, 5120, 6144, 7168, 8192 MiB for 1 vCPU on Fargate" in (
        problems(v)
    )
    v, _ = job(grid(), fargate=True, vcpus=1)
    assert "a grid with fargate_max_vcpus" in problems(v)


def test_fargate_memory_table_matches_the_batch_api() -> None:
    table = limits.BATCH_FARGATE_MEMORY_MIB
    assert table[0.25] == (512, 1024, 2048)
    assert table[4][0] == 8192
    assert table[4][-1] == 30720
    assert table[16][-1] == 122880
    assert table[32] == (61440, 122880, 249856)


def test_catalog_is_the_source_of_every_type() -> None:
    for name in grid().instance_types:
        assert InstanceCatalog.find(name) is not None
