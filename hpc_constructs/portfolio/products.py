"""The product versions: ``servicecatalog.ProductStack`` subclasses composing the library's
constructs, with the launch parameters their plans computed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_servicecatalog as servicecatalog
from constructs import Construct

from hpc_constructs.fleet import EfaComputeFleet
from hpc_constructs.lustre import LustreDeploymentTypeName, LustreScratch
from hpc_constructs.network import NetworkFabric
from hpc_constructs.ops.cost import CostAllocationTags, HpcBudget
from hpc_constructs.portfolio.plan import (
    EMAIL_PATTERN,
    PROJECT_MAX_LENGTH,
    PROJECT_PATTERN,
    CapacityChoices,
    ClusterVersionPlan,
    NumberRange,
    ScratchVersionPlan,
)

_SCRATCH_REASON = (
    "A self-service scratch file system: the product tells researchers it is not replicated; "
    "inputs and results live in S3 and jobs stage them."
)


class BlueprintProductStack(servicecatalog.ProductStack):
    """What every product version shares: its parameters, cost-allocation tags from the
    ``ProjectName`` parameter and an :class:`HpcBudget` of that project's spend."""

    def __init__(
        self, scope: Construct, id: str, *, description: str, asset_bucket: s3.IBucket | None
    ) -> None:
        super().__init__(scope, id, asset_bucket=asset_bucket, description=description)
        #: The launch parameters, by logical id (the researcher's choices).
        self.launch_parameters: dict[str, cdk.CfnParameter] = {}

    def _number(self, id: str, values: NumberRange, description: str) -> cdk.CfnParameter:
        return self._parameter(
            id,
            type="Number",
            min_value=values.min_value,
            max_value=values.max_value,
            default=values.default,
            description=description,
        )

    def _choice(
        self, id: str, values: Sequence[str | int], default: str | int, description: str
    ) -> cdk.CfnParameter:
        numeric = all(isinstance(value, int) for value in values)
        return self._parameter(
            id,
            type="Number" if numeric else "String",
            allowed_values=[str(value) for value in values],
            # A string default: cfn-lint compares it with the (string) AllowedValues.
            default=str(default),
            description=description,
        )

    def _parameter(self, id: str, **props: object) -> cdk.CfnParameter:
        parameter = cdk.CfnParameter(self, id, **props)  # type: ignore[arg-type]
        self.launch_parameters[id] = parameter
        return parameter

    def _capacity(self, id: str, capacity: CapacityChoices) -> int:
        """The Lustre capacity parameter; its value as a number token for ``LustreScratch``."""
        parameter = self._choice(
            id,
            capacity.allowed_values,
            capacity.default,
            f"{capacity.deployment_type} Lustre storage capacity (GiB)",
        )
        # LustreScratch takes a token capacity; the AllowedValues guarantee a valid one.
        return cast(int, parameter.value_as_number)

    def _add_operations(self, budget: NumberRange) -> HpcBudget:
        """``ProjectName`` tags everything (cost allocation); a monthly budget of that
        project's spend notifies ``NotifyEmail``."""
        project = self._parameter(
            "ProjectName",
            type="String",
            allowed_pattern=PROJECT_PATTERN,
            min_length=1,
            max_length=PROJECT_MAX_LENGTH,
            description="Project tag (hpc:project) on everything this product creates",
        )
        email = self._parameter(
            "NotifyEmail",
            type="String",
            allowed_pattern=EMAIL_PATTERN,
            description="Budget notifications (80% actual, 100% forecast) go to this address",
        )
        limit = self._number(
            "MonthlyBudgetUsd", budget, "Monthly cost budget of this project's tagged spend (USD)"
        )
        tags = CostAllocationTags.apply(self, project=project.value_as_string)
        return HpcBudget(
            self,
            "Budget",
            monthly_limit_usd=limit.value_as_number,
            notify_emails=[email.value_as_string],
            tags=tags.budget_filter,
        )

    def _pin_other_parameters(self) -> None:
        """Parameters the constructs add (the image's SSM parameter name) are not a
        researcher's choice: pinned to their default."""
        for child in self.node.children:
            if (
                isinstance(child, cdk.CfnParameter)
                and child.node.id not in self.launch_parameters
                and child.default is not None
            ):
                child.allowed_values = [str(child.default)]


class MpiClusterProductStack(BlueprintProductStack):
    """A version of an MPI cluster product: ``NetworkFabric`` + ``EfaComputeFleet`` (one EFA
    layout) + ``LustreScratch`` mounted at ``/fsx`` + ``HpcBudget``.

    Launch parameters: ``InstanceType`` (types sharing the version's layout), ``NodeCount``
    (the fleet's size), ``LustreCapacityGiB``, ``ProjectName``, ``NotifyEmail``,
    ``MonthlyBudgetUsd``. The fleet is planned with the version's first type; the others
    swap in through the launch template's ``InstanceType`` alone (same interfaces, EFA
    devices, instance store, architecture and image), so the boot log names the first type.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        plan: ClusterVersionPlan,
        asset_bucket: s3.IBucket | None = None,
    ) -> None:
        super().__init__(scope, id, description=plan.description, asset_bucket=asset_bucket)
        types = plan.instance_types
        instance_type = self._choice(
            "InstanceType",
            types.instance_types,
            types.instance_types[0],
            f"Instance type ({types.layout.describe()})",
        )
        nodes = self._number("NodeCount", plan.nodes, "Nodes in the cluster (EFA fleet size)")
        count = cast(int, nodes.value_as_number)
        self.fabric = NetworkFabric(
            self,
            "Fabric",
            availability_zones=list(plan.availability_zones),
            compute_availability_zone=plan.compute_az,
        )
        self.scratch = LustreScratch(
            self,
            "Scratch",
            vpc=self.fabric.vpc,
            vpc_subnets=self.fabric.compute_subnets,
            deployment_type=cast(LustreDeploymentTypeName, plan.capacity.deployment_type),
            per_unit_storage_throughput=plan.capacity.per_unit_storage_throughput,
            storage_capacity_gib=self._capacity("LustreCapacityGiB", plan.capacity),
        )
        if plan.capacity.deployment_type.startswith("SCRATCH"):
            _acknowledge_scratch(self.scratch)
        self.fleet = EfaComputeFleet(
            self,
            "Fleet",
            vpc=self.fabric.vpc,
            vpc_subnets=self.fabric.compute_subnets,
            instance_types=[types.reference.instance_type],
            min_nodes=count,
            max_nodes=count,
        )
        self.fleet.add_file_system(self.scratch, mount_point="/fsx")
        templates = {t.node.path: t for t in self.fleet.launch_templates.values()}
        for template in templates.values():
            cfn = template.node.default_child
            assert isinstance(cfn, ec2.CfnLaunchTemplate)
            # L1: the fleet plans with a concrete type; the parameter's types share its layout.
            cfn.add_property_override(
                "LaunchTemplateData.InstanceType", instance_type.value_as_string
            )
        self.budget = self._add_operations(plan.budget)
        cdk.CfnOutput(self, "FileSystemId", value=self.scratch.file_system_id)
        cdk.CfnOutput(
            self,
            "AutoScalingGroupName",
            value=self.fleet.auto_scaling_group.auto_scaling_group_name,
        )
        self._pin_other_parameters()


class LustreScratchProductStack(BlueprintProductStack):
    """A version of a Lustre scratch product: ``LustreScratch`` in the researcher's VPC and
    subnet (a template rule checks the subnet is in the VPC), open to one client security
    group, plus ``HpcBudget``.

    Launch parameters: ``VpcId``, ``SubnetId``, ``ClientSecurityGroupId`` (CloudFormation's
    AWS-specific types: only existing resources can be picked), ``StorageCapacityGiB``,
    ``ProjectName``, ``NotifyEmail``, ``MonthlyBudgetUsd``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        plan: ScratchVersionPlan,
        asset_bucket: s3.IBucket | None = None,
    ) -> None:
        super().__init__(scope, id, description=plan.description, asset_bucket=asset_bucket)
        vpc_id = self._parameter("VpcId", type="AWS::EC2::VPC::Id", description="VPC")
        subnet_id = self._parameter(
            "SubnetId", type="AWS::EC2::Subnet::Id", description="Subnet (in the VPC)"
        )
        clients = self._parameter(
            "ClientSecurityGroupId",
            type="AWS::EC2::SecurityGroup::Id",
            description="Security group of the clients that mount the file system",
        )
        cdk.CfnRule(
            self,
            "SubnetInVpc",
            assertions=[
                cdk.CfnRuleAssertion(
                    assert_=cdk.Fn.condition_each_member_equals(
                        cdk.Fn.value_of_all("AWS::EC2::Subnet::Id", "VpcId"),
                        vpc_id.value_as_string,
                    ),
                    assert_description="The subnet must be in the selected VPC",
                )
            ],
        )
        vpc = ec2.Vpc.from_vpc_attributes(
            self,
            "Vpc",
            vpc_id=vpc_id.value_as_string,
            availability_zones=list(plan.availability_zones),
        )
        subnet = ec2.Subnet.from_subnet_attributes(
            self,
            "Subnet",
            subnet_id=subnet_id.value_as_string,
            # Only counted by the library (one subnet); FSx takes the subnet id alone.
            availability_zone=cdk.Aws.NO_VALUE,
        )
        cdk.Validations.of(subnet).acknowledge(
            cdk.Acknowledgment(
                id="@aws-cdk/aws-ec2:noSubnetRouteTableId",
                reason="The file system only takes the subnet's id; nothing reads its route table.",
            )
        )
        self.scratch = LustreScratch(
            self,
            "Scratch",
            vpc=vpc,
            vpc_subnets=subnet,
            deployment_type=cast(LustreDeploymentTypeName, plan.capacity.deployment_type),
            per_unit_storage_throughput=plan.capacity.per_unit_storage_throughput,
            storage_capacity_gib=self._capacity("StorageCapacityGiB", plan.capacity),
        )
        if plan.capacity.deployment_type.startswith("SCRATCH"):
            _acknowledge_scratch(self.scratch)
        self.scratch.allow_clients(
            ec2.SecurityGroup.from_security_group_id(self, "Clients", clients.value_as_string)
        )
        self.budget = self._add_operations(plan.budget)
        cdk.CfnOutput(self, "FileSystemId", value=self.scratch.file_system_id)
        cdk.CfnOutput(self, "DnsName", value=self.scratch.dns_name)
        cdk.CfnOutput(self, "MountName", value=self.scratch.mount_name)
        self._pin_other_parameters()


def _acknowledge_scratch(scratch: LustreScratch) -> None:
    cdk.Validations.of(scratch).acknowledge(
        cdk.Acknowledgment(id="hpc-constructs:scratchWithoutExport", reason=_SCRATCH_REASON)
    )
