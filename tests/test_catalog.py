"""Instance catalog facts and the EFA interface planner (pure Python, no synth)."""

from __future__ import annotations

import pytest

import hpc_constructs as hc
from hpc_constructs.catalog import InstanceTypeCatalog
from hpc_constructs.errors import HpcValidationError
from hpc_constructs.limits import InterfaceView, efa_layout_problems

get = hc.InstanceCatalog.get


def _views(plan: tuple[hc.EfaInterface, ...]) -> list[InterfaceView]:
    return [
        InterfaceView(
            i.network_card_index,
            i.device_index,
            i.interface_type,
            has_ip_settings=i.has_ip and i.interface_type == "efa-only",
        )
        for i in plan
    ]


def _layout(plan: tuple[hc.EfaInterface, ...]) -> list[tuple[int, int, str]]:
    return [(i.network_card_index, i.device_index, i.interface_type) for i in plan]


@pytest.fixture
def catalog() -> InstanceTypeCatalog:
    """A private catalog over the committed snapshot, so registrations do not leak."""
    return InstanceTypeCatalog()


# --- snapshot --------------------------------------------------------------------------------


def test_snapshot_names_its_source_date_and_regions() -> None:
    assert "DescribeInstanceTypes" in hc.InstanceCatalog.source
    assert "moto" in hc.InstanceCatalog.source
    assert len(hc.InstanceCatalog.generated_at) == 10  # ISO date
    assert "us-east-2" in hc.InstanceCatalog.surveyed_regions
    assert len(hc.InstanceCatalog.surveyed_regions) == 30


def test_snapshot_holds_more_than_a_thousand_types() -> None:
    assert len(hc.InstanceCatalog.names()) > 1000
    assert len(hc.InstanceCatalog.all()) == len(hc.InstanceCatalog.names())


def test_c5n_18xlarge_has_one_efa_on_one_100_gbps_card() -> None:
    spec = get("c5n.18xlarge")
    assert (spec.efa_supported, spec.max_efa_interfaces, spec.max_network_cards) == (True, 1, 1)
    assert (spec.vcpus, spec.default_cores, spec.threads_per_core) == (72, 36, 2)
    assert spec.architecture == "x86_64"
    assert spec.network_gbps == 100
    assert spec.max_network_interfaces == 15
    assert spec.gpus == 0
    assert not spec.is_gpu
    assert spec.nvme_disk_count == 0
    assert "spot" in spec.usage_classes


def test_hpc7a_96xlarge_has_two_efa_cards_and_one_thread_per_core() -> None:
    spec = get("hpc7a.96xlarge")
    assert (spec.max_efa_interfaces, spec.max_network_cards) == (2, 2)
    assert (spec.vcpus, spec.default_cores, spec.threads_per_core) == (192, 192, 1)
    assert spec.network_gbps == 300
    assert [c.baseline_gbps for c in spec.network_cards] == [150, 150]
    assert spec.usage_classes == ("on-demand",)
    assert hc.offered_in(spec, "us-east-2") is True
    assert hc.offered_in(spec, "us-east-1") is False  # not offered there (matches cfn-lint E3628)


def test_hpc6id_32xlarge_has_nvme_and_single_interface_cards() -> None:
    spec = get("hpc6id.32xlarge")
    assert (spec.max_efa_interfaces, spec.max_network_cards) == (2, 2)
    assert [c.max_interfaces for c in spec.network_cards] == [1, 1]
    assert (spec.nvme_disk_count, spec.nvme_disk_size_gb, spec.instance_storage_gb) == (
        4,
        3800,
        15200,
    )
    assert (spec.vcpus, spec.default_cores) == (64, 64)


def test_p4d_24xlarge_has_eight_a100s_and_four_efa_cards() -> None:
    spec = get("p4d.24xlarge")
    assert (spec.max_efa_interfaces, spec.max_network_cards) == (4, 4)
    assert (spec.gpus, spec.gpu_model, spec.gpu_manufacturer) == (8, "A100", "NVIDIA")
    assert spec.gpu_memory_mib == 8 * 40960
    assert spec.network_gbps == 400
    assert (spec.nvme_disk_count, spec.nvme_disk_size_gb) == (8, 1000)
    assert spec.is_gpu


def test_p5_48xlarge_has_32_efa_cards_and_3200_gbps() -> None:
    spec = get("p5.48xlarge")
    assert (spec.max_efa_interfaces, spec.max_network_cards, spec.max_network_interfaces) == (
        32,
        32,
        64,
    )
    assert spec.network_gbps == 3200
    assert (spec.vcpus, spec.default_cores) == (192, 96)
    assert (spec.gpus, spec.gpu_model, spec.gpu_memory_mib) == (8, "H100", 655360)
    assert spec.instance_storage_gb == 30400
    assert hc.supports_placement(spec, "cluster")
    assert "capacity-block" in spec.usage_classes
    assert len(hc.efa_device_paths(spec)) == 32
    assert hc.efa_device_paths(spec)[0] == "/dev/infiniband/uverbs0"
    assert hc.efa_device_paths(spec)[-1] == "/dev/infiniband/uverbs31"


def test_p5en_48xlarge_has_16_efa_cards_and_h200s() -> None:
    spec = get("p5en.48xlarge")
    assert (spec.max_efa_interfaces, spec.max_network_cards) == (16, 16)
    assert (spec.gpus, spec.gpu_model) == (8, "H200")


def test_trn1_32xlarge_has_16_neuron_devices_and_no_gpu() -> None:
    spec = get("trn1.32xlarge")
    assert (spec.max_efa_interfaces, spec.max_network_cards) == (8, 8)
    assert (spec.neuron_devices, spec.gpus) == (16, 0)
    assert spec.network_gbps == 800
    assert (spec.nvme_disk_count, spec.nvme_disk_size_gb) == (4, 1900)


def test_p6_b300_card_0_does_not_support_efa() -> None:
    spec = get("p6-b300.48xlarge")
    assert (spec.max_efa_interfaces, spec.max_network_cards) == (16, 17)
    assert [c.efa_supported for c in spec.network_cards] == [False] + [True] * 16


def test_c5_large_has_no_efa_and_a_burstable_network() -> None:
    spec = get("c5.large")
    assert (spec.efa_supported, spec.max_efa_interfaces) == (False, 0)
    assert spec.network_cards[0].baseline_gbps == 0.75
    assert spec.network_cards[0].peak_gbps == 10
    assert spec.network_performance == "Up to 10 Gigabit"
    assert hc.efa_device_paths(spec) == ()


def test_graviton_types_are_arm64() -> None:
    assert get("hpc7g.16xlarge").architecture == "arm64"
    assert get("c7gn.16xlarge").architecture == "arm64"


# --- planner ---------------------------------------------------------------------------------


def test_p5_gets_primary_interface_plus_32_efa_only() -> None:
    plan = hc.plan_efa_interfaces(get("p5.48xlarge"))
    assert len(plan) == 33
    assert _layout(plan)[:3] == [(0, 0, "interface"), (0, 1, "efa-only"), (1, 0, "efa-only")]
    assert _layout(plan)[-1] == (31, 0, "efa-only")
    assert [i.is_primary for i in plan] == [True] + [False] * 32
    assert not any(i.has_ip for i in plan[1:])


def test_hpc7a_gets_one_efa_per_card() -> None:
    plan = hc.plan_efa_interfaces(get("hpc7a.96xlarge"))
    assert _layout(plan) == [(0, 0, "interface"), (0, 1, "efa-only"), (1, 0, "efa-only")]


def test_c5n_gets_primary_interface_and_one_efa_only_on_card_0() -> None:
    plan = hc.plan_efa_interfaces(get("c5n.18xlarge"))
    assert _layout(plan) == [(0, 0, "interface"), (0, 1, "efa-only")]


def test_hpc6id_primary_becomes_efa_when_card_0_takes_one_interface() -> None:
    plan = hc.plan_efa_interfaces(get("hpc6id.32xlarge"))
    assert _layout(plan) == [(0, 0, "efa"), (1, 0, "efa-only")]
    assert plan[0].is_primary
    assert plan[0].has_ip


def test_p6_b300_card_0_gets_only_the_ena_primary() -> None:
    plan = hc.plan_efa_interfaces(get("p6-b300.48xlarge"))
    assert _layout(plan) == [(0, 0, "interface")] + [(c, 0, "efa-only") for c in range(1, 17)]


def test_trn1_and_p4d_get_one_efa_per_card() -> None:
    assert len(hc.plan_efa_interfaces(get("trn1.32xlarge"))) == 9
    assert len(hc.plan_efa_interfaces(get("p4d.24xlarge"))) == 5


def test_efa_with_ena_secondaries_carry_ips() -> None:
    plan = hc.plan_efa_interfaces(get("hpc7a.96xlarge"), efa_interface_type="efa")
    assert _layout(plan) == [(0, 0, "interface"), (0, 1, "efa"), (1, 0, "efa")]
    assert all(i.has_ip for i in plan)


def test_non_efa_type_gets_only_the_primary_interface() -> None:
    plan = hc.plan_efa_interfaces(get("c5.large"))
    assert plan == (hc.EfaInterface(0, 0, "interface", is_primary=True, has_ip=True),)


def test_planner_rejects_unknown_efa_interface_type() -> None:
    with pytest.raises(ValueError, match="efa_interface_type='interface' is not valid"):
        hc.plan_efa_interfaces(get("p5.48xlarge"), efa_interface_type="interface")  # type: ignore[arg-type]


@pytest.mark.parametrize("efa_interface_type", ["efa-only", "efa"])
def test_every_efa_type_gets_max_efa_interfaces_in_a_valid_layout(
    efa_interface_type: hc.catalog.EfaInterfaceType,
) -> None:
    efa_types = [s for s in hc.InstanceCatalog.all() if s.efa_supported]
    assert len(efa_types) > 100
    failures: list[str] = []
    for spec in efa_types:
        plan = hc.plan_efa_interfaces(spec, efa_interface_type=efa_interface_type)
        efa_count = sum(1 for i in plan if i.interface_type != "interface")
        problems = efa_layout_problems(_views(plan))
        per_card: dict[int, int] = {}
        for i in plan:
            per_card[i.network_card_index] = per_card.get(i.network_card_index, 0) + 1
        over = [c.index for c in spec.network_cards if per_card.get(c.index, 0) > c.max_interfaces]
        if efa_count != spec.max_efa_interfaces or problems or over:
            failures.append(
                f"{spec.instance_type}: {efa_count} EFA planned, "
                f"max {spec.max_efa_interfaces}; {problems}; over-full cards {over}"
            )
    assert not failures, "\n".join(failures)


# --- helpers ---------------------------------------------------------------------------------


def test_offered_in_knows_zones_and_returns_none_outside_the_snapshot() -> None:
    spec = get("hpc7a.96xlarge")
    assert hc.offered_in(spec, "us-east-2", "us-east-2b") is True
    assert hc.offered_in(spec, "us-east-2", "us-east-2a") is False
    assert hc.offered_in(spec, "us-gov-west-1") is None
    assert spec.regions == tuple(sorted(spec.zones))
    assert "us-east-2" in spec.regions


def test_supports_placement() -> None:
    spec = get("c5n.18xlarge")
    assert hc.supports_placement(spec, "cluster")
    assert not hc.supports_placement(spec, "nearby")


# --- unknown and user-described types --------------------------------------------------------


def test_unknown_type_raises_with_close_suggestions() -> None:
    with pytest.raises(hc.UnknownInstanceTypeError) as caught:
        get("p5.48xlarg")
    assert "p5.48xlarge" in caught.value.suggestions
    assert "did you mean" in str(caught.value)
    assert isinstance(caught.value, HpcValidationError)
    assert isinstance(caught.value, ValueError)
    assert hc.InstanceCatalog.find("p5.48xlarg") is None


def test_register_makes_a_new_type_known(catalog: InstanceTypeCatalog) -> None:
    spec = hc.InstanceSpec(
        instance_type="p9.48xlarge",
        architecture="x86_64",
        vcpus=192,
        threads_per_core=2,
        gpus=8,
        gpu_model="Z900",
        efa_supported=True,
        max_efa_interfaces=2,
        max_network_cards=2,
        network_cards=tuple(
            hc.NetworkCardSpec(index=i, max_interfaces=2, baseline_gbps=400, efa_supported=True)
            for i in range(2)
        ),
        zones={"us-east-2": ["us-east-2a"]},
    )
    catalog.register(spec)
    found = catalog.get("p9.48xlarge")
    assert found.default_cores == 96
    assert found.max_network_interfaces == 4
    assert found.network_gbps == 800
    assert "p9.48xlarge" in catalog.names()
    assert hc.offered_in(found, "us-east-2", "us-east-2a") is True
    assert hc.offered_in(found, "eu-west-1") is None  # user data did not survey it
    assert _layout(hc.plan_efa_interfaces(found)) == [
        (0, 0, "interface"),
        (0, 1, "efa-only"),
        (1, 0, "efa-only"),
    ]
    catalog.unregister("p9.48xlarge")
    assert catalog.find("p9.48xlarge") is None


def test_describe_builds_a_spec_with_derived_efa_cards(catalog: InstanceTypeCatalog) -> None:
    spec = catalog.describe(
        "q7.96xlarge",
        vcpus=384,
        max_network_cards=5,
        max_efa_interfaces=4,
        baseline_gbps_per_card=400,
    )
    assert [c.efa_supported for c in spec.network_cards] == [False, True, True, True, True]
    assert catalog.get("q7.96xlarge") is spec
    assert len(hc.plan_efa_interfaces(spec)) == 5


def test_register_refuses_known_names_and_inconsistent_specs(
    catalog: InstanceTypeCatalog,
) -> None:
    with pytest.raises(HpcValidationError) as caught:
        catalog.register(
            hc.InstanceSpec(
                instance_type="c5n.18xlarge",
                architecture="sparc",
                vcpus=0,
                efa_supported=True,
                max_efa_interfaces=3,
                max_network_cards=1,
                network_cards=(hc.NetworkCardSpec(index=0, max_interfaces=2, efa_supported=True),),
            )
        )
    message = str(caught.value)
    for expected in ("replace=True", "architecture='sparc'", "vcpus=0", "max_efa_interfaces=3"):
        assert expected in message
    catalog.register(get("c5n.18xlarge"), replace=True)


def test_register_parses_describe_instance_types_output(catalog: InstanceTypeCatalog) -> None:
    item = {
        "InstanceType": "x9.large",
        "ProcessorInfo": {"SupportedArchitectures": ["arm64"]},
        "VCpuInfo": {"DefaultVCpus": 2, "DefaultCores": 2, "DefaultThreadsPerCore": 1},
        "NetworkInfo": {
            "EfaSupported": True,
            "EfaInfo": {"MaximumEfaInterfaces": 1},
            "MaximumNetworkCards": 1,
            "NetworkCards": [{"NetworkCardIndex": 0, "MaximumNetworkInterfaces": 1}],
        },
    }
    spec = catalog.register(hc.InstanceSpec.from_describe_instance_types(item))
    assert spec.architecture == "arm64"
    assert spec.network_cards[0].efa_supported  # derived: no InterfaceTypes in the input
    assert _layout(hc.plan_efa_interfaces(spec)) == [(0, 0, "efa")]
