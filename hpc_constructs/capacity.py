"""How a compute construct buys its instances: On-Demand, Spot, a Capacity Reservation or a
Capacity Block. One value object shared by ``EfaComputeFleet`` and ``BatchMultiNode``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

from aws_cdk import aws_autoscaling as autoscaling

from hpc_constructs.errors import Validator, is_token

# Source: EC2 API reference, CapacityReservation.CapacityReservationId ("cr-" + 17 hex digits);
# Resource Groups ARN format (arn:<partition>:resource-groups:<region>:<account>:group/<name>).
_RESERVATION_ID = re.compile(r"^cr-[0-9a-f]{17}$")
_RESOURCE_GROUP_ARN = re.compile(
    r"^arn:aws[a-z-]*:resource-groups:[a-z0-9-]+:\d{12}:group/[\w.+=,@-]+$"
)
_PRICE = re.compile(r"^\d+(\.\d+)?$")


class CapacityKind(Enum):
    """The purchase option behind a :class:`FleetCapacity`."""

    ON_DEMAND = "on-demand"
    SPOT = "spot"
    CAPACITY_RESERVATION = "capacity-reservation"
    CAPACITY_BLOCK = "capacity-block"


@dataclass(frozen=True)
class FleetCapacity:
    """Purchase option for a fleet. Build it with a factory:

    - ``FleetCapacity.on_demand()`` (the default everywhere).
    - ``FleetCapacity.spot(...)``: interruptible; price-capacity-optimized allocation and
      capacity rebalancing by default. Not for AWS Batch multi-node jobs (Batch rejects Spot).
    - ``FleetCapacity.capacity_reservation(reservation_id=... | resource_group_arn=...)``:
      On-Demand Capacity Reservation targeting (a reservation created in a cluster placement
      group keeps the nodes close).
    - ``FleetCapacity.capacity_block(reservation_id)``: an EC2 Capacity Block for ML; AWS
      requires a fixed size (min == max) and places the block itself (no placement group).
    """

    kind: CapacityKind
    spot_allocation_strategy: autoscaling.SpotAllocationStrategy | None = None
    capacity_rebalance: bool = False
    spot_max_price: str | None = None
    reservation_id: str | None = None
    resource_group_arn: str | None = None

    @classmethod
    def on_demand(cls) -> FleetCapacity:
        return cls(kind=CapacityKind.ON_DEMAND)

    @classmethod
    def spot(
        cls,
        *,
        allocation_strategy: autoscaling.SpotAllocationStrategy = (
            autoscaling.SpotAllocationStrategy.PRICE_CAPACITY_OPTIMIZED
        ),
        capacity_rebalance: bool = True,
        max_price: str | None = None,
    ) -> FleetCapacity:
        """Spot capacity.

        :param allocation_strategy: Default: - PRICE_CAPACITY_OPTIMIZED (AWS's recommendation:
            low interruption rates at a low price).
        :param capacity_rebalance: launch a replacement when EC2 sends a rebalance
            recommendation. Default: - True.
        :param max_price: maximum USD per instance-hour as a decimal string. Default: - the
            On-Demand price (AWS recommends not setting one).
        """
        v = Validator("FleetCapacity.spot")
        if max_price is not None and not is_token(max_price):
            ok = bool(_PRICE.match(max_price)) and float(max_price) >= 0.001
            v.require(
                ok, "max_price", max_price, "a decimal USD price of at least 0.001, e.g. '3.25'"
            )
        v.raise_if_any()
        return cls(
            kind=CapacityKind.SPOT,
            spot_allocation_strategy=allocation_strategy,
            capacity_rebalance=capacity_rebalance,
            spot_max_price=max_price,
        )

    @classmethod
    def capacity_reservation(
        cls, *, reservation_id: str | None = None, resource_group_arn: str | None = None
    ) -> FleetCapacity:
        """Target an On-Demand Capacity Reservation by id, or a resource group of them."""
        v = Validator("FleetCapacity.capacity_reservation")
        if (reservation_id is None) == (resource_group_arn is None):
            v.add(
                "reservation_id/resource_group_arn",
                (reservation_id, resource_group_arn),
                "exactly one of reservation_id or resource_group_arn",
            )
        if reservation_id is not None and not is_token(reservation_id):
            v.require(
                bool(_RESERVATION_ID.match(reservation_id)),
                "reservation_id",
                reservation_id,
                "a capacity reservation id like cr-0123456789abcdef0",
            )
        if resource_group_arn is not None and not is_token(resource_group_arn):
            v.require(
                bool(_RESOURCE_GROUP_ARN.match(resource_group_arn)),
                "resource_group_arn",
                resource_group_arn,
                "arn:aws:resource-groups:<region>:<account>:group/<name>",
            )
        v.raise_if_any()
        return cls(
            kind=CapacityKind.CAPACITY_RESERVATION,
            reservation_id=reservation_id,
            resource_group_arn=resource_group_arn,
        )

    @classmethod
    def capacity_block(cls, reservation_id: str) -> FleetCapacity:
        """Launch into an EC2 Capacity Block (its reservation id, ``cr-...``)."""
        v = Validator("FleetCapacity.capacity_block")
        if not is_token(reservation_id):
            v.require(
                bool(_RESERVATION_ID.match(reservation_id)),
                "reservation_id",
                reservation_id,
                "a capacity block reservation id like cr-0123456789abcdef0",
            )
        v.raise_if_any()
        return cls(kind=CapacityKind.CAPACITY_BLOCK, reservation_id=reservation_id)

    @property
    def is_spot(self) -> bool:
        return self.kind is CapacityKind.SPOT

    @property
    def is_capacity_block(self) -> bool:
        return self.kind is CapacityKind.CAPACITY_BLOCK

    @property
    def usage_class(self) -> str:
        """The DescribeInstanceTypes usage class this option needs: "spot" or "on-demand"."""
        return "spot" if self.is_spot else "on-demand"

    def launch_template_data_overrides(self) -> dict[str, Any]:
        """Launch-template market options and reservation targeting as CloudFormation-cased
        ``LaunchTemplateData`` keys, for ``CfnLaunchTemplate.add_property_override`` on an L2
        launch template (which has no props for them). Empty for On-Demand and Spot: Spot in an
        Auto Scaling group is set on the group's instances distribution, so only Capacity
        Blocks set ``InstanceMarketOptions``."""
        data: dict[str, Any] = {}
        if self.is_capacity_block:
            data["InstanceMarketOptions"] = {"MarketType": "capacity-block"}
        if self.kind in (CapacityKind.CAPACITY_RESERVATION, CapacityKind.CAPACITY_BLOCK):
            target: dict[str, str] = {}
            if self.reservation_id is not None:
                target["CapacityReservationId"] = self.reservation_id
            if self.resource_group_arn is not None:
                target["CapacityReservationResourceGroupArn"] = self.resource_group_arn
            data["CapacityReservationSpecification"] = {"CapacityReservationTarget": target}
        return data
