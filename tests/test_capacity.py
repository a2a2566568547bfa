"""FleetCapacity: the purchase-option value object shared by fleets and Batch."""

from __future__ import annotations

import pytest
from aws_cdk import aws_autoscaling as autoscaling

from hpc_constructs import CapacityKind, FleetCapacity, HpcValidationError


def test_on_demand_is_plain() -> None:
    capacity = FleetCapacity.on_demand()
    assert capacity.kind is CapacityKind.ON_DEMAND
    assert capacity.launch_template_data_overrides() == {}
    assert capacity.usage_class == "on-demand"


def test_spot_defaults_to_price_capacity_optimized_with_rebalancing() -> None:
    capacity = FleetCapacity.spot()
    assert capacity.is_spot
    assert (
        capacity.spot_allocation_strategy
        is autoscaling.SpotAllocationStrategy.PRICE_CAPACITY_OPTIMIZED
    )
    assert capacity.capacity_rebalance is True
    assert capacity.spot_max_price is None
    assert capacity.usage_class == "spot"
    assert capacity.launch_template_data_overrides() == {}


def test_capacity_block_sets_market_type_and_reservation() -> None:
    capacity = FleetCapacity.capacity_block("cr-0123456789abcdef0")
    assert capacity.launch_template_data_overrides() == {
        "InstanceMarketOptions": {"MarketType": "capacity-block"},
        "CapacityReservationSpecification": {
            "CapacityReservationTarget": {"CapacityReservationId": "cr-0123456789abcdef0"}
        },
    }


def test_capacity_reservation_by_resource_group() -> None:
    arn = "arn:aws:resource-groups:us-east-2:123456789012:group/hpc-odcr"
    capacity = FleetCapacity.capacity_reservation(resource_group_arn=arn)
    assert capacity.launch_template_data_overrides() == {
        "CapacityReservationSpecification": {
            "CapacityReservationTarget": {"CapacityReservationResourceGroupArn": arn}
        },
    }


def test_fails_when_spot_max_price_is_not_a_price() -> None:
    with pytest.raises(
        HpcValidationError, match=r"FleetCapacity.spot: max_price='cheap'.*decimal USD"
    ):
        FleetCapacity.spot(max_price="cheap")


def test_fails_when_reservation_target_is_ambiguous() -> None:
    with pytest.raises(
        HpcValidationError, match="exactly one of reservation_id or resource_group_arn"
    ):
        FleetCapacity.capacity_reservation()
    with pytest.raises(HpcValidationError, match="exactly one"):
        FleetCapacity.capacity_reservation(
            reservation_id="cr-0123456789abcdef0",
            resource_group_arn="arn:aws:resource-groups:us-east-2:123456789012:group/g",
        )


def test_fails_when_reservation_ids_are_malformed() -> None:
    with pytest.raises(HpcValidationError, match=r"reservation_id='cr-123'.*cr-0123456789abcdef0"):
        FleetCapacity.capacity_reservation(reservation_id="cr-123")
    with pytest.raises(HpcValidationError, match=r"capacity_block: reservation_id='r-1'"):
        FleetCapacity.capacity_block("r-1")
    with pytest.raises(HpcValidationError, match="resource_group_arn='group-x'"):
        FleetCapacity.capacity_reservation(resource_group_arn="group-x")
