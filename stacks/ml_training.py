"""Distributed ML training: p5-class GPU nodes with 32 EFA interfaces and PERSISTENT_2 Lustre."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_fsx as fsx
from constructs import Construct

import hpc_constructs as hc


@dataclass(frozen=True)
class MlTrainingConfig:
    """Choices for :class:`MlTrainingStack`; each can be overridden with ``-c name=value``."""

    #: p5.48xlarge: 8 x H100, 32 EFA interfaces, 3,200 Gbps.
    instance_type: str = "p5.48xlarge"
    #: "fleet" (an EfaComputeFleet for your own launcher) or "batch" (BatchMultiNode jobs).
    orchestrator: str = "fleet"
    #: "capacity-block" (fixed size, paid up front) or "capacity-reservation" (ODCR).
    capacity: str = "capacity-block"
    #: The Capacity Block or On-Demand Capacity Reservation to launch into. Placeholder: replace
    #: it with the id of a reservation you own before deploying.
    reservation_id: str = "cr-0123456789abcdef0"
    #: With "capacity-reservation": the cluster placement group the reservation was created in
    #: (a reservation serves only launches into its own group). Empty: none.
    placement_group_name: str = ""
    nodes: int = 2
    compute_availability_zone: str = "us-east-2a"
    #: PERSISTENT_2 at 1000 MB/s/TiB: 4800 GiB gives 4.8 GB/s baseline.
    lustre_capacity_gib: int = 4800
    lustre_per_unit_throughput: int = 1000
    #: Image for the sample job when ``orchestrator="batch"``: AWS's public NCCL tests image.
    job_image: str = "public.ecr.aws/hpc-cloud/nccl-tests:latest"


class MlTrainingStack(cdk.Stack):
    """NetworkFabric + GPU EfaComputeFleet or BatchMultiNode + PERSISTENT_2 LustreScratch."""

    def __init__(
        self, scope: Construct, id: str, *, config: MlTrainingConfig | None = None, **kwargs: Any
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.config = config or MlTrainingConfig()
        c = self.config
        problems = hc.Validator(f"{self.node.path} config")
        problems.one_of("orchestrator", c.orchestrator, ("fleet", "batch"))
        problems.one_of("capacity", c.capacity, ("capacity-block", "capacity-reservation"))
        problems.raise_if_any()
        placement_group: ec2.IPlacementGroup | None = None
        if c.capacity == "capacity-block":
            capacity = hc.FleetCapacity.capacity_block(c.reservation_id)
        else:
            capacity = hc.FleetCapacity.capacity_reservation(reservation_id=c.reservation_id)
            if c.placement_group_name:
                placement_group = ec2.PlacementGroup.from_placement_group_name(
                    self, "ReservationPlacementGroup", c.placement_group_name
                )

        # Each node takes one IP for its primary interface; efa-only interfaces take none.
        self.fabric = hc.NetworkFabric(
            self, "Fabric", compute_availability_zone=c.compute_availability_zone
        )
        self.datasets = hc.DataIngest(self, "Datasets", vpc=self.fabric.vpc)
        self.scratch = hc.LustreScratch(
            self,
            "Scratch",
            vpc=self.fabric.vpc,
            vpc_subnets=self.fabric.compute_subnets,
            deployment_type=fsx.LustreDeploymentType.PERSISTENT_2,
            storage_capacity_gib=c.lustre_capacity_gib,
            per_unit_storage_throughput=c.lustre_per_unit_throughput,
            data_repositories=[
                hc.DataRepository(
                    bucket=self.datasets.landing_bucket,
                    file_system_path="/datasets",
                    prefix="datasets/",
                    export_events=(),
                ),
                hc.DataRepository(
                    bucket=self.datasets.landing_bucket,
                    file_system_path="/checkpoints",
                    prefix="checkpoints/",
                ),
            ],
        )
        self.fleet: hc.EfaComputeFleet | None = None
        self.batch: hc.BatchMultiNode | None = None
        if c.orchestrator == "fleet":
            self.fleet = hc.EfaComputeFleet(
                self,
                "Fleet",
                vpc=self.fabric.vpc,
                vpc_subnets=self.fabric.compute_subnets,
                instance_types=[c.instance_type],
                min_capacity=c.nodes,
                max_capacity=c.nodes,
                capacity=capacity,
                placement_group=placement_group,
            )
            self.fleet.add_lustre_mount(self.scratch, "/fsx")
        else:
            self.batch = hc.BatchMultiNode(
                self,
                "Batch",
                vpc=self.fabric.vpc,
                vpc_subnets=self.fabric.compute_subnets,
                instance_type=c.instance_type,
                max_nodes=c.nodes,
                capacity=capacity,
                placement_group=placement_group,
                file_systems=[self.scratch],
            )
            # An EFA smoke test between the first two nodes; replace it with your launcher
            # (torchrun or mpirun started from the main node, see the BatchMultiNode section).
            self.batch.add_job(
                "EfaPingPong",
                image=c.job_image,
                command=hc.BatchMultiNode.efa_pingpong_command(),
                num_nodes=2,
            )
