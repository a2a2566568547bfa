"""MPI cluster for CFD and weather codes: EFA fleet, Lustre scratch linked to S3, data landing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import aws_cdk as cdk
from constructs import Construct

import hpc_constructs as hc
from stacks.config import bounded, choice, ec2_type, pick_compute_az
from stacks.operations import OPERATIONS_CONFIG_PROPS, OperationsConfig, add_operations, budget_usd


@dataclass(frozen=True)
class MpiClusterConfig(OperationsConfig):
    """Choices for :class:`MpiClusterStack`; each can be overridden with ``-c name=value``."""

    monthly_budget_usd: int = budget_usd(20_000)

    #: hpc7a.96xlarge: 192 AMD cores, 2 EFA interfaces, 300 Gbps (offered in us-east-2b).
    instance_type: str = ec2_type("hpc7a.96xlarge")
    min_nodes: int = bounded(0, 0)
    max_nodes: int = bounded(16, 1)
    #: Empty: the first AZ of the region that offers ``instance_type`` (us-east-2b in us-east-2).
    compute_availability_zone: str = ""
    #: SCRATCH_2 at 200 MB/s/TiB: 4800 GiB gives 960 MB/s baseline.
    lustre_capacity_gib: int = bounded(4800, 1200)
    mount_point: str = "/fsx"
    #: ``golden``: the nodes boot an HpcImage built by EC2 Image Builder in this stack (EFA,
    #: Lustre client and agent baked in and verified at build time; nothing installed at
    #: boot). ``boot``: the stock Amazon Linux 2023 image, software installed at every boot.
    image: str = choice("golden", ("golden", "boot"))


class MpiClusterStack(cdk.Stack):
    """NetworkFabric + EfaComputeFleet + LustreScratch (linked to S3) + DataIngest landing bucket.

    The landing bucket doubles as the results bucket: ``s3://<landing>/input/`` is imported
    into ``/fsx/input`` and everything written under ``/fsx/results`` is exported to
    ``s3://<landing>/results/`` automatically, so results outlive the scratch file system.
    """

    #: Construct props set from config fields ("Child/prop" -> field), for error messages.
    CONFIG_PROPS: ClassVar[dict[str, str]] = {
        **OPERATIONS_CONFIG_PROPS,
        "Fleet/instance_types": "instance_type",
        "Fleet/min_nodes": "min_nodes",
        "Fleet/max_nodes": "max_nodes",
        "Fabric/compute_availability_zone": "compute_availability_zone",
        "Scratch/storage_capacity_gib": "lustre_capacity_gib",
        "Image/instance_types": "instance_type",
    }

    def __init__(
        self, scope: Construct, id: str, *, config: MpiClusterConfig | None = None, **kwargs: Any
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.config = config or MpiClusterConfig()
        c = self.config
        az = c.compute_availability_zone or pick_compute_az(
            self.region, [c.instance_type], self.availability_zones
        )
        self.fabric = hc.NetworkFabric(self, "Fabric", compute_availability_zone=az)
        self.ingest = hc.DataIngest(self, "Ingest", vpc=self.fabric.vpc)
        bucket = self.ingest.landing_bucket
        self.scratch = hc.LustreScratch(
            self,
            "Scratch",
            vpc=self.fabric.vpc,
            vpc_subnets=self.fabric.compute_subnets,
            storage_capacity_gib=c.lustre_capacity_gib,
            data_repositories=[
                hc.DataRepository(
                    bucket=bucket, file_system_path="/input", prefix="input/", export_events=()
                ),
                hc.DataRepository(bucket=bucket, file_system_path="/results", prefix="results/"),
            ],
        )
        self.image = (
            hc.HpcImage(self, "Image", instance_types=[c.instance_type], vpc=self.fabric.vpc)
            if c.image == "golden"
            else None
        )
        self.fleet = hc.EfaComputeFleet(
            self,
            "Fleet",
            vpc=self.fabric.vpc,
            vpc_subnets=self.fabric.compute_subnets,
            instance_types=[c.instance_type],
            min_nodes=c.min_nodes,
            max_nodes=c.max_nodes,
            machine_image=self.image.machine_image if self.image else None,
        )
        self.fleet.add_lustre_mount(self.scratch, c.mount_point)
        self.operations = add_operations(
            self, c, project="mpi-cluster", watch=[self.ingest, self.scratch, self.fleet]
        )
