"""Self-service HPC: a Service Catalog portfolio publishing the blueprints as products."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from hpc_constructs.catalog import InstanceCatalog
from hpc_constructs.portfolio import (
    BlueprintPortfolio,
    BlueprintProduct,
    LustreScratchVersion,
    MpiClusterVersion,
    compatible_instance_types,
)
from stacks.config import bounded
from stacks.operations import OPERATIONS_CONFIG_PROPS, OperationsConfig, add_operations, budget_usd


@dataclass(frozen=True)
class HpcPortfolioConfig(OperationsConfig):
    """Choices for :class:`HpcPortfolioStack`; each can be overridden with ``-c name=value``."""

    #: The portfolio stack itself costs little (the products' spend is budgeted per launch).
    monthly_budget_usd: int = budget_usd(100)

    #: One MPI cluster version per EFA layout: each offers the types of its family that share
    #: this type's layout and are offered in the region (a version whose type the region does
    #: not offer is left out, so the portfolio follows -c hpc-constructs:region).
    hpc7a_type: str = "hpc7a.96xlarge"
    c5n_type: str = "c5n.18xlarge"
    p5_type: str = "p5.48xlarge"
    #: The largest NodeCount a researcher may pick (CPU versions; the GPU version offers 4).
    max_nodes: int = bounded(16, 1)
    #: The largest Lustre capacity offered (GiB).
    max_lustre_capacity_gib: int = bounded(48_000, 1200)
    #: TagOptions: the cost centers a researcher picks from at launch (comma-separated).
    cost_centers: tuple[str, ...] = dataclasses.field(default=("research", "teaching"))


class HpcPortfolioStack(cdk.Stack):
    """BlueprintPortfolio with an MPI cluster product (one version per EFA layout: hpc7a,
    c5n, p5) and a Lustre scratch product, shared with a ``Researchers`` role."""

    CONFIG_PROPS: ClassVar[dict[str, str]] = {
        **OPERATIONS_CONFIG_PROPS,
        "Portfolio/MPI cluster/versions[0]/instance_types": "hpc7a_type",
        "Portfolio/MPI cluster/versions[1]/instance_types": "c5n_type",
        "Portfolio/MPI cluster/versions[2]/instance_types": "p5_type",
        "Portfolio/MPI cluster/versions[0]/max_nodes": "max_nodes",
    }

    def __init__(
        self, scope: Construct, id: str, *, config: HpcPortfolioConfig | None = None, **kwargs: Any
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.config = config or HpcPortfolioConfig()
        c = self.config
        self.researchers = iam.Role(
            self,
            "Researchers",
            assumed_by=iam.AccountRootPrincipal(),
            description="Researchers: launch the HPC portfolio's products (Service Catalog)",
        )
        self.researchers.add_managed_policy(
            iam.ManagedPolicy.from_aws_managed_policy_name("AWSServiceCatalogEndUserFullAccess")
        )
        cdk.Validations.of(self.researchers).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
                "AWSServiceCatalogEndUserFullAccess]",
                reason="The AWS managed end-user policy of Service Catalog: browse and launch "
                "the portfolios shared with the role; the launch role does the rest.",
            )
        )
        self.portfolio = BlueprintPortfolio(
            self,
            "Portfolio",
            display_name="HPC blueprints",
            provider_name="HPC platform team",
            description="MPI clusters and Lustre scratch, sized within the platform's limits",
            roles=[self.researchers],
            tag_options={"hpc:cost-center": list(c.cost_centers)} if c.cost_centers else None,
        )
        self.cluster = self.portfolio.add_product(
            BlueprintProduct(
                product_name="MPI cluster",
                owner="HPC platform team",
                description="EFA cluster with Lustre scratch in its own network fabric",
                versions=[
                    version
                    for version in (
                        self._cluster_version("hpc7a", c.hpc7a_type, c.max_nodes),
                        self._cluster_version("c5n", c.c5n_type, c.max_nodes),
                        self._cluster_version("p5", c.p5_type, min(c.max_nodes, 4), default=1),
                    )
                    if version is not None
                ],
            )
        )
        self.scratch = self.portfolio.add_product(
            BlueprintProduct(
                product_name="Lustre scratch",
                owner="HPC platform team",
                description="FSx for Lustre scratch space in your VPC",
                versions=[
                    LustreScratchVersion("scratch-2", max_capacity_gib=c.max_lustre_capacity_gib),
                ],
            )
        )
        self.operations = add_operations(self, c, project="hpc-portfolio", watch=[])

    def _cluster_version(
        self, name: str, instance_type: str, max_nodes: int, default: int = 2
    ) -> MpiClusterVersion | None:
        """The version of ``instance_type``'s layout; None when the region offers none of
        its types (an unknown type is the plan's error, naming the -c key)."""
        known = InstanceCatalog.find(instance_type) is not None
        types = compatible_instance_types(instance_type, region=self.region) if known else ()
        if known and not types:
            return None
        return MpiClusterVersion(
            name,
            instance_types=types or (instance_type,),
            max_nodes=max_nodes,
            default_nodes=min(default, max_nodes),
            max_lustre_capacity_gib=self.config.max_lustre_capacity_gib,
        )


__all__ = ["HpcPortfolioConfig", "HpcPortfolioStack"]
