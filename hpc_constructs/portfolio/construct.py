"""``BlueprintPortfolio``: a Service Catalog portfolio publishing blueprint products."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_servicecatalog as servicecatalog
from constructs import Construct

from hpc_constructs.errors import Validator, check_prop_types
from hpc_constructs.portfolio import launch_role as lr
from hpc_constructs.portfolio._render import (
    adjust_bucket_deployment,
    create_asset_bucket,
    grant_launch_permissions,
)
from hpc_constructs.portfolio.plan import (
    BlueprintProduct,
    ClusterVersionPlan,
    ScratchVersionPlan,
    VersionPlan,
    fabric_zones,
    name_rule,
    plan_product,
)
from hpc_constructs.portfolio.products import (
    BlueprintProductStack,
    LustreScratchProductStack,
    MpiClusterProductStack,
)

#: Service Catalog tag options: up to 50 per portfolio (botocore servicecatalog model).
MAX_TAG_OPTION_VALUES = 50


class BlueprintPortfolio(Construct):
    """A Service Catalog portfolio whose products are the library's blueprints.

    The platform team deploys it once; researchers given access (``roles``, ``groups``) see
    its products in the Service Catalog console and launch a version with the parameters it
    offers, whose allowed values are computed from the library's limits and instance catalog
    (:mod:`hpc_constructs.portfolio.plan`). Every product gets a launch constraint with the
    portfolio's launch role, so a researcher needs no permission on the resources themselves.

    The portfolio's stack needs a concrete region and Availability Zones (the catalog decides
    which instance types and AZs a version offers).

    :param display_name: up to 100 characters.
    :param provider_name: the team publishing it, up to 100 characters.
    :param description: Default: - none.
    :param roles: IAM roles given access to the portfolio. Default: - none.
    :param groups: IAM groups given access. Default: - none.
    :param tag_options: tag keys and the values a researcher picks from at launch (Service
        Catalog TagOptions, associated with the portfolio). Default: - none.
    :param launch_role: the role Service Catalog launches products with. Default: - a new role
        allowed exactly the CloudFormation stack actions of Service Catalog's stacks and,
        through CloudFormation only, the services of the products' resource types
        (:mod:`hpc_constructs.portfolio.launch_role`), updated by each ``add_product``.
    """

    @check_prop_types
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        display_name: str,
        provider_name: str,
        description: str | None = None,
        roles: Sequence[iam.IRole] = (),
        groups: Sequence[iam.IGroup] = (),
        tag_options: Mapping[str, Sequence[str]] | None = None,
        launch_role: iam.IRole | None = None,
    ) -> None:
        v = Validator(f"{scope.node.path}/{id}" if scope.node.path else id)
        name_rule(v, "display_name", display_name)
        name_rule(v, "provider_name", provider_name)
        for key, values in (tag_options or {}).items():
            v.require(
                0 < len(values) <= MAX_TAG_OPTION_VALUES and len(set(values)) == len(values),
                f"tag_options[{key!r}]",
                list(values),
                f"1 to {MAX_TAG_OPTION_VALUES} distinct values",
            )
        v.raise_if_any()
        super().__init__(scope, id)
        self.portfolio = servicecatalog.Portfolio(
            self,
            "Portfolio",
            display_name=display_name,
            provider_name=provider_name,
            description=description,
        )
        for role in roles:
            self.portfolio.give_access_to_role(role)
        for group in groups:
            self.portfolio.give_access_to_group(group)
        self.tag_options: servicecatalog.TagOptions | None = None
        if tag_options:
            self.tag_options = servicecatalog.TagOptions(
                self,
                "TagOptions",
                allowed_values_for_tags={k: list(vals) for k, vals in tag_options.items()},
            )
            self.portfolio.associate_tag_options(self.tag_options)
        self._own_role = launch_role is None
        self.launch_role: iam.IRole = launch_role or iam.Role(
            self,
            "LaunchRole",
            assumed_by=iam.ServicePrincipal("servicecatalog.amazonaws.com"),
            description=f"Service Catalog launch role of {self.node.path}",
        )
        self._granted: dict[str, set[str]] = {}
        self._acknowledged: set[str] = set()
        self._resource_types: set[str] = set()
        self.asset_bucket: s3.Bucket | None = None
        #: The products added, by product name.
        self.products: dict[str, servicecatalog.CloudFormationProduct] = {}
        #: The product stacks of every version, by (product name, version name).
        self.versions: dict[tuple[str, str], BlueprintProductStack] = {}

    @check_prop_types
    def add_product(self, product: BlueprintProduct) -> servicecatalog.CloudFormationProduct:
        """Add a product with one ``ProductStack`` per version, a launch constraint with the
        launch role, and extend the role to the resource types of its versions."""
        stack = cdk.Stack.of(self)
        v = Validator(f"{self.node.path}/{product.product_name}")
        region = None if cdk.Token.is_unresolved(stack.region) else stack.region
        azs = fabric_zones(
            region, [az for az in stack.availability_zones if not cdk.Token.is_unresolved(az)]
        )
        v.require(
            region is not None and not cdk.Token.is_unresolved(stack.account),
            "env",
            "an environment-agnostic stack",
            "a stack with a concrete account and region (env=)",
        )
        v.require(
            product.product_name not in self.products,
            "product_name",
            product.product_name,
            "a name not used by another product of the portfolio",
        )
        plans = v.checked(plan_product(v, product, region, azs))
        index = len(self.products) + 1
        stacks = [self._version_stack(index, plan) for plan in plans]
        created = servicecatalog.CloudFormationProduct(
            self,
            f"Product{index}",
            product_name=product.product_name,
            owner=product.owner,
            description=product.description or None,
            product_versions=[
                servicecatalog.CloudFormationProductVersion(
                    product_version_name=plan.version.version_name,
                    description=plan.description,
                    cloud_formation_template=servicecatalog.CloudFormationTemplate.from_product_stack(
                        version_stack
                    ),
                )
                for plan, version_stack in zip(plans, stacks, strict=True)
            ],
        )
        for plan, version_stack in zip(plans, stacks, strict=True):
            self.versions[(product.product_name, plan.version.version_name)] = version_stack
        self.portfolio.add_product(created)
        self.portfolio.set_launch_role(created, self.launch_role)
        self.products[product.product_name] = created
        self._extend_launch_role(stacks)
        adjust_bucket_deployment(cdk.Stack.of(self), self._acknowledged)
        return created

    def _version_stack(self, index: int, plan: VersionPlan) -> BlueprintProductStack:
        bucket = self._asset_bucket()
        words = re.split(r"[^A-Za-z0-9]+", plan.version.version_name)
        stack_id = f"Product{index}" + "".join(w[:1].upper() + w[1:] for w in words)
        if isinstance(plan, ClusterVersionPlan):
            return MpiClusterProductStack(self, stack_id, plan=plan, asset_bucket=bucket)
        assert isinstance(plan, ScratchVersionPlan)
        return LustreScratchProductStack(self, stack_id, plan=plan, asset_bucket=bucket)

    def _asset_bucket(self) -> s3.Bucket:
        """The bucket product stacks' assets (custom-resource code) are copied to."""
        if self.asset_bucket is None:
            self.asset_bucket = create_asset_bucket(self)
        return self.asset_bucket

    def _extend_launch_role(self, stacks: Sequence[BlueprintProductStack]) -> None:
        types = {
            child.cfn_resource_type
            for stack in stacks
            for child in stack.node.find_all()
            if isinstance(child, cdk.CfnResource) and cdk.Stack.of(child) is stack
        }
        v = Validator(self)
        for unknown in lr.unknown_resource_types(types):
            v.add(
                "launch_role",
                unknown,
                "resource types of the services in launch_role.SERVICE_ACTIONS",
                "the default launch role cannot be derived: pass launch_role",
            )
        if self._own_role:
            v.raise_if_any()
            self._resource_types |= types
            assert isinstance(self.launch_role, iam.Role)
            grant_launch_permissions(
                self,
                self.launch_role,
                lr.plan_launch_role(self._resource_types),
                self._granted,
                self.asset_bucket,
            )
