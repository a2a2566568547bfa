"""Slurm on the HPC fabric: a NetworkFabric, a LustreScratch, a SharedHome and an AWS
ParallelCluster and/or AWS PCS cluster that mount them, with Slurm accounting and login nodes,
all from one ``cdk deploy``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import aws_cdk as cdk
from constructs import Construct

from hpc_constructs import (
    CustomAction,
    CustomActions,
    FleetCapacity,
    HpcImage,
    LoginNodePool,
    LustreScratch,
    NetworkFabric,
    ParallelCluster,
    PcsAccounting,
    PcsCluster,
    PcsSoftware,
    SharedHome,
    SlurmAccountingDatabase,
    SlurmComputeResource,
    SlurmQueue,
)
from hpc_constructs.errors import Validator
from stacks.config import choice, ec2_type, pick_compute_az
from stacks.operations import OPERATIONS_CONFIG_PROPS, OperationsConfig, add_operations, budget_usd


@dataclass(frozen=True)
class SlurmClusterConfig(OperationsConfig):
    """Choices for :class:`SlurmClusterStack`; override with ``-c SlurmCluster:flavour=pcs``."""

    monthly_budget_usd: int = budget_usd(20_000)

    #: The cluster manager: "parallelcluster", "pcs" or "both".
    flavour: str = choice("both", ("parallelcluster", "pcs", "both"))
    #: The MPI queue (ParallelCluster queue ``cpu``, PCS node group): hpc7a.96xlarge, offered
    #: only in us-east-2b in us-east-2.
    instance_type: str = ec2_type("hpc7a.96xlarge")
    #: ParallelCluster's ``gpu`` queue and ``spot`` queue.
    gpu_instance_type: str = ec2_type("p5.48xlarge")
    spot_instance_type: str = ec2_type("c5n.18xlarge")
    #: The login nodes (ParallelCluster pool ``login``, PCS login node group).
    login_instance_type: str = ec2_type("c7i.2xlarge")
    #: Empty: the first AZ of the region that offers every type in use (us-east-2b in us-east-2).
    compute_availability_zone: str = ""

    def compute_types(self) -> dict[str, str]:
        """Config field -> instance type, for the queues ``flavour`` creates."""
        types = {
            "instance_type": self.instance_type,
            "login_instance_type": self.login_instance_type,
        }
        if self.flavour in ("parallelcluster", "both"):
            types["gpu_instance_type"] = self.gpu_instance_type
            types["spot_instance_type"] = self.spot_instance_type
        return types


#: The PCS path's Slurm: the newest major version with a cited installer checksum.
PCS_SAMPLE_SLURM_VERSION = "25.05"


def _family(instance_type: str) -> str:
    """``hpc7a.96xlarge`` -> ``hpc7a``: compute resource and node group names."""
    return instance_type.split(".", 1)[0].lower()


class SlurmClusterStack(cdk.Stack):
    """The sample Slurm environment (sample env: account 123456789012, region us-east-2).

    ``config.flavour`` picks the cluster manager: ``"parallelcluster"``, ``"pcs"`` or ``"both"``.
    The PCS node groups run an ``HpcImage`` built in this stack with the PCS agent and Slurm
    (installers checked against the AWS PCS User Guide's SHA256), EFA and the Lustre client:
    the stack deploys with no parameter. Slurm is 25.05, the newest major version whose
    installer checksum this library cites (``hc.image.PCS_SLURM_INSTALLERS``).
    """

    #: Construct props set from config fields ("Child/prop" -> field), for error messages.
    CONFIG_PROPS: ClassVar[dict[str, str]] = {
        **OPERATIONS_CONFIG_PROPS,
        "Fabric/compute_availability_zone": "compute_availability_zone",
    }

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: SlurmClusterConfig | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.config = config or SlurmClusterConfig()
        flavour = self.config.flavour
        check = Validator(f"{self.node.path} config")
        check.one_of("flavour", flavour, ("parallelcluster", "pcs", "both"))
        check.raise_if_any()
        c = self.config
        az = c.compute_availability_zone or pick_compute_az(
            self.region, self.config.compute_types().values(), self.availability_zones
        )
        self.fabric = NetworkFabric(self, "Fabric", compute_availability_zone=az)
        self.scratch = LustreScratch(
            self, "Scratch", vpc=self.fabric.vpc, vpc_subnets=self.fabric.compute_subnets
        )
        cdk.Validations.of(self.scratch).acknowledge(
            cdk.Acknowledgment(
                id="hpc-constructs:scratchWithoutExport",
                reason="Sample scratch space for job working files; inputs and results live "
                "in S3 and are staged by the jobs themselves.",
            )
        )
        # Home directories and shared software on EFS, mounted at /home by both clusters.
        self.home = SharedHome(
            self, "Home", vpc=self.fabric.vpc, vpc_subnets=self.fabric.compute_subnets
        )
        self.parallel_cluster: ParallelCluster | None = None
        self.pcs_cluster: PcsCluster | None = None

        if flavour in ("parallelcluster", "both"):
            self.accounting = SlurmAccountingDatabase(self, "Accounting", vpc=self.fabric.vpc)
            # One custom action: the head node writes a message of the day once configured.
            motd = CustomAction.from_commands(
                self,
                "HeadNodeConfigured",
                ["echo 'Slurm cluster: submit from the login nodes' > /etc/motd"],
            )
            self.parallel_cluster = ParallelCluster(
                self,
                "ParallelCluster",
                vpc=self.fabric.vpc,
                head_node_vpc_subnets=self.fabric.compute_subnet,
                vpc_subnets=self.fabric.compute_subnets,
                file_systems=[self.scratch, self.home],
                accounting_database=self.accounting,
                login_nodes=[LoginNodePool(name="login", instance_type=c.login_instance_type)],
                head_node_custom_actions=CustomActions(on_node_configured=[motd]),
                queues=[
                    SlurmQueue(
                        name="cpu",
                        compute_resources=[
                            SlurmComputeResource(
                                name=_family(c.instance_type),
                                instance_types=[c.instance_type],
                                max_nodes=16,
                            )
                        ],
                    ),
                    SlurmQueue(
                        name="gpu",
                        compute_resources=[
                            SlurmComputeResource(
                                name=_family(c.gpu_instance_type),
                                instance_types=[c.gpu_instance_type],
                                max_nodes=2,
                            )
                        ],
                    ),
                    SlurmQueue(
                        name="spot",
                        compute_resources=[
                            SlurmComputeResource(
                                name=_family(c.spot_instance_type),
                                instance_types=[c.spot_instance_type],
                                max_nodes=8,
                                capacity=FleetCapacity.spot(),
                            )
                        ],
                    ),
                ],
            )

        if flavour in ("pcs", "both"):
            self.pcs_image = HpcImage(
                self,
                "PcsImage",
                instance_types=[c.instance_type, c.login_instance_type],
                vpc=self.fabric.vpc,
                pcs=PcsSoftware(slurm_version=PCS_SAMPLE_SLURM_VERSION),
            )
            self.pcs_cluster = PcsCluster(
                self,
                "Pcs",
                vpc=self.fabric.vpc,
                vpc_subnets=self.fabric.compute_subnet,
                machine_image=self.pcs_image.machine_image,
                slurm_version=PCS_SAMPLE_SLURM_VERSION,
                file_systems=[self.scratch, self.home],
                accounting=PcsAccounting(),
            )
            mpi = self.pcs_cluster.add_node_group(
                _family(c.instance_type).capitalize(),
                instance_types=[c.instance_type],
                max_nodes=16,
            )
            self.pcs_cluster.add_queue("Mpi", node_groups=[mpi])
            self.pcs_cluster.add_login_node_group("Login", instance_types=[c.login_instance_type])
        self.operations = add_operations(
            self,
            c,
            project="slurm-cluster",
            watch=[self.scratch, self.parallel_cluster, self.pcs_cluster],
        )
