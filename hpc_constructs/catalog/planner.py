"""EFA network-interface layouts and small questions asked of an instance spec.

Pure Python (no CDK): the launch-template code in ``hpc_constructs.efa`` turns a plan into
CloudFormation, and the cfn-lint rule pack can check one with ``limits.efa_layout_problems``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hpc_constructs.catalog.spec import InstanceSpec

EfaInterfaceType = Literal["efa", "efa-only"]
InterfaceType = Literal["interface", "efa", "efa-only"]

#: Default type of the EFA interfaces that are not the primary: AWS recommends ``efa-only``
#: for them (no IP addresses, so large fleets do not exhaust the subnet).
DEFAULT_EFA_INTERFACE_TYPE: EfaInterfaceType = "efa-only"


@dataclass(frozen=True)
class EfaInterface:
    """One launch-template network interface of an EFA layout.

    ``has_ip`` is false for ``efa-only`` interfaces, which take no IP address.
    """

    network_card_index: int
    device_index: int
    interface_type: InterfaceType
    is_primary: bool
    has_ip: bool


def plan_efa_interfaces(
    spec: InstanceSpec, *, efa_interface_type: EfaInterfaceType = DEFAULT_EFA_INTERFACE_TYPE
) -> tuple[EfaInterface, ...]:
    """The network interfaces to launch ``spec`` with, one EFA per EFA-capable network card.

    Follows the EC2 User Guide's current layout for EFA ("Maximize network bandwidth on
    accelerated instances"):

    - the primary interface is card 0 / device 0, an ENA ``interface`` (never ``efa-only``);
    - if card 0 supports EFA it gets ``efa_interface_type`` at device 1, or, when card 0 takes
      a single interface (hpc6id), the primary itself becomes ``efa`` (EFA with ENA);
    - every other EFA-capable card gets one ``efa_interface_type`` interface at device 0;
    - cards without EFA (card 0 of p6-b300.48xlarge) get nothing beyond the primary.

    The EFA count equals ``spec.max_efa_interfaces`` (the first that many EFA-capable cards
    are used). A type without EFA gets only the primary interface.

    ``efa_interface_type``: ``"efa-only"`` (default) or ``"efa"`` (EFA with ENA: each one
    also takes an IP address from the subnet).
    """
    if efa_interface_type not in ("efa", "efa-only"):
        raise ValueError(
            f"efa_interface_type={efa_interface_type!r} is not valid; allowed: 'efa', 'efa-only'"
        )
    primary = EfaInterface(0, 0, "interface", is_primary=True, has_ip=True)
    efa_cards = spec.efa_network_cards
    if not efa_cards:
        return (primary,)
    secondary_has_ip = efa_interface_type == "efa"
    plan: list[EfaInterface] = []
    for card in efa_cards:
        if card.index != 0:
            plan.append(
                EfaInterface(card.index, 0, efa_interface_type, False, has_ip=secondary_has_ip)
            )
        elif card.max_interfaces >= 2:
            plan.append(primary)
            plan.append(EfaInterface(0, 1, efa_interface_type, False, has_ip=secondary_has_ip))
        else:
            plan.append(EfaInterface(0, 0, "efa", is_primary=True, has_ip=True))
    if plan[0].network_card_index != 0:
        plan.insert(0, primary)
    return tuple(plan)


def efa_device_paths(spec: InstanceSpec) -> tuple[str, ...]:
    """The EFA verbs devices an instance of ``spec`` exposes: ``/dev/infiniband/uverbs0..N-1``."""
    return tuple(f"/dev/infiniband/uverbs{i}" for i in range(spec.max_efa_interfaces))


def supports_placement(spec: InstanceSpec, strategy: str) -> bool:
    """Whether placement groups with ``strategy`` (cluster, partition, spread) accept the type."""
    return strategy in spec.placement_strategies


def offered_in(spec: InstanceSpec, region: str, az: str | None = None) -> bool | None:
    """Whether the type is offered in ``region`` (and in the Availability Zone ``az``, by name).

    Returns ``None`` (unknown) when the data does not cover the question: a region the
    snapshot did not survey (``spec.surveyed_regions``; e.g. GovCloud, China, or one opened
    after the snapshot), or an ``az`` in a region for which only the region-level offering is
    known. ``False`` means the snapshot recorded that region and the type was not offered.
    """
    if region in spec.zones:
        if az is None:
            return True
        azs = spec.zones[region]
        if not azs:
            return None
        return az in azs
    if region in spec.surveyed_regions:
        return False
    return None
