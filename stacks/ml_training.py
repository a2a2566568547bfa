"""Distributed ML training: p5-class GPU nodes with 32 EFA interfaces and PERSISTENT_2 Lustre."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_fsx as fsx
from constructs import Construct

import hpc_constructs as hc
from hpc_constructs.errors import Validator
from stacks.config import bounded, choice, ec2_type, pick_compute_az
from stacks.operations import OPERATIONS_CONFIG_PROPS, OperationsConfig, add_operations, budget_usd


@dataclass(frozen=True)
class MlTrainingConfig(OperationsConfig):
    """Choices for :class:`MlTrainingStack`; each can be overridden with ``-c name=value``."""

    monthly_budget_usd: int = budget_usd(100_000)

    #: p5.48xlarge: 8 x H100, 32 EFA interfaces, 3,200 Gbps.
    instance_type: str = ec2_type("p5.48xlarge")
    #: "fleet" (an EfaComputeFleet for your own launcher) or "batch" (BatchMultiNode jobs).
    orchestrator: str = choice("fleet", ("fleet", "batch"))
    #: "capacity-block" (fixed size, paid up front) or "capacity-reservation" (ODCR).
    capacity: str = choice("capacity-block", ("capacity-block", "capacity-reservation"))
    #: The Capacity Block or On-Demand Capacity Reservation to launch into. Placeholder: replace
    #: it with the id of a reservation you own before deploying.
    reservation_id: str = "cr-0123456789abcdef0"
    #: With "capacity-reservation": the cluster placement group the reservation was created in
    #: (a reservation serves only launches into its own group). Empty: none.
    placement_group_name: str = ""
    nodes: int = bounded(2, 1)
    #: Empty: the first AZ of the region that offers ``instance_type`` (us-east-2a in us-east-2).
    #: A reservation serves one AZ: set this to the reservation's AZ.
    compute_availability_zone: str = ""
    #: PERSISTENT_2 at 1000 MB/s/TiB: 4800 GiB gives 4.8 GB/s baseline.
    lustre_capacity_gib: int = bounded(4800, 1200)
    lustre_per_unit_throughput: int = choice(1000, (125, 250, 500, 1000))
    #: Image for the sample job when ``orchestrator="batch"``: AWS's public NCCL tests image.
    #: The EFA ping-pong job is added only when ``instance_type`` has EFA.
    job_image: str = "public.ecr.aws/hpc-cloud/nccl-tests:latest"


class MlTrainingStack(cdk.Stack):
    """NetworkFabric + GPU EfaComputeFleet or BatchMultiNode + PERSISTENT_2 LustreScratch."""

    #: Construct props set from config fields ("Child/prop" -> field), for error messages.
    CONFIG_PROPS: ClassVar[dict[str, str]] = {
        **OPERATIONS_CONFIG_PROPS,
        "Fleet/instance_types": "instance_type",
        "Fleet/min_nodes": "nodes",
        "Fleet/max_nodes": "nodes",
        "Fleet/capacity": "reservation_id",
        "Batch/instance_type": "instance_type",
        "Batch/max_nodes": "nodes",
        "Batch/capacity": "reservation_id",
        "Fabric/compute_availability_zone": "compute_availability_zone",
        "Scratch/storage_capacity_gib": "lustre_capacity_gib",
        "Scratch/per_unit_storage_throughput": "lustre_per_unit_throughput",
    }

    def __init__(
        self, scope: Construct, id: str, *, config: MlTrainingConfig | None = None, **kwargs: Any
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.config = config or MlTrainingConfig()
        c = self.config
        problems = Validator(f"{self.node.path} config")
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
        az = c.compute_availability_zone or pick_compute_az(
            self.region, [c.instance_type], self.availability_zones
        )
        self.fabric = hc.NetworkFabric(self, "Fabric", compute_availability_zone=az)
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
                min_nodes=c.nodes,
                max_nodes=c.nodes,
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
            # Without EFA (an instance type that has none) there is nothing for it to test.
            if self.batch.efa_enabled:
                self.batch.add_job(
                    "EfaPingPong",
                    image=c.job_image,
                    command=hc.BatchMultiNode.efa_pingpong_command(),
                    num_nodes=2,
                )
        self.operations = add_operations(
            self,
            c,
            project="ml-training",
            watch=[self.datasets, self.scratch, self.fleet or self.batch],
        )
