"""BlueprintPortfolio and the HpcPortfolio sample: Service Catalog products of the blueprints.

The launch parameters' allowed values are recomputed here from the sources (limits.py, the
instance catalog, the network plan, ops.facts), not copied from the code under test."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from hpc_constructs import limits
from hpc_constructs.catalog import InstanceCatalog, offered_in, plan_efa_interfaces
from hpc_constructs.errors import HpcValidationError, Validator
from hpc_constructs.network.plan import DEFAULT_COMPUTE_SUBNET_CIDR_MASK, usable_addresses
from hpc_constructs.ops.facts import BUDGET_MAX_LIMIT_USD
from hpc_constructs.portfolio import (
    BlueprintPortfolio,
    BlueprintProduct,
    LustreScratchVersion,
    MpiClusterVersion,
    plan_product,
)
from hpc_constructs.portfolio.launch_role import SERVICE_ACTIONS, namespace
from stacks.portfolio import HpcPortfolioConfig, HpcPortfolioStack
from tests.harness import (
    TEST_ENV,
    TEST_REGION,
    Synthesized,
    assert_cfn_lint_clean,
    assert_nag_clean,
    make_app,
    synthesize,
)

AZS = ["us-east-2a", "us-east-2b", "us-east-2c"]


@pytest.fixture(scope="module")
def synth() -> Synthesized:
    app = make_app()
    HpcPortfolioStack(app, "HpcPortfolio", env=TEST_ENV)
    return synthesize(app)


def _products(synth: Synthesized) -> dict[str, dict[str, Any]]:
    """Product template by version name (from the parent's product resources)."""
    found: dict[str, dict[str, Any]] = {}
    for path in synth.outdir.glob("HpcPortfolio*.product.template.json"):
        found[path.name] = json.loads(path.read_text())
    return found


def _version(synth: Synthesized, word: str) -> dict[str, Any]:
    (name,) = [n for n in _products(synth) if re.search(rf"Product\d+{word}[0-9A-F]{{8}}\.", n)]
    return _products(synth)[name]


def _expected_types(reference: str) -> list[str]:
    """Same family, same EFA interfaces, EFA devices, instance store, architecture and GPU,
    offered in the test region; smallest first."""
    ref = InstanceCatalog.get(reference)
    family = reference.split(".")[0]

    def key(spec: Any) -> tuple[Any, ...]:
        return (
            plan_efa_interfaces(spec),
            spec.max_efa_interfaces,
            spec.nvme_disk_count,
            spec.architecture,
            spec.gpus > 0,
        )

    specs = [
        s
        for s in InstanceCatalog.all()
        if s.instance_type.split(".")[0] == family
        and s.efa_supported
        and offered_in(s, TEST_REGION) is True
        and key(s) == key(ref)
    ]
    return [s.instance_type for s in sorted(specs, key=lambda s: (s.vcpus, s.instance_type))]


# --- the portfolio -------------------------------------------------------------------------


def test_portfolio_products_constraints_tag_options_and_principal(synth: Synthesized) -> None:
    t = synth.template("HpcPortfolio")
    t.resource_count_is("AWS::ServiceCatalog::Portfolio", 1)
    t.resource_count_is("AWS::ServiceCatalog::CloudFormationProduct", 2)
    t.resource_count_is("AWS::ServiceCatalog::LaunchRoleConstraint", 2)
    t.resource_count_is("AWS::ServiceCatalog::PortfolioPrincipalAssociation", 1)
    t.resource_count_is("AWS::ServiceCatalog::PortfolioProductAssociation", 2)
    options = synth.template_dict("HpcPortfolio")["Resources"].values()
    values = sorted(
        r["Properties"]["Value"] for r in options if r["Type"] == "AWS::ServiceCatalog::TagOption"
    )
    assert values == sorted(HpcPortfolioConfig().cost_centers)
    products = {
        r["Properties"]["Name"]: [
            v["Name"] for v in r["Properties"]["ProvisioningArtifactParameters"]
        ]
        for r in options
        if r["Type"] == "AWS::ServiceCatalog::CloudFormationProduct"
    }
    assert products == {"MPI cluster": ["hpc7a", "c5n", "p5"], "Lustre scratch": ["scratch-2"]}


def test_launch_role_allows_exactly_the_products_services(synth: Synthesized) -> None:
    resources = synth.template_dict("HpcPortfolio")["Resources"]
    types = {r["Type"] for tpl in _products(synth).values() for r in tpl["Resources"].values()}
    expected = {SERVICE_ACTIONS[namespace(t)][0] for t in types}
    (policy,) = [
        r for k, r in resources.items() if r["Type"] == "AWS::IAM::Policy" and "LaunchPolicy" in k
    ]
    called_via = set()
    for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        if "aws:CalledVia" in json.dumps(statement.get("Condition", {})):
            called_via.update(a.split(":")[0] for a in actions if a != "iam:PassRole")
        elif statement["Resource"] == "*":
            assert set(actions) <= {
                "cloudformation:GetTemplateSummary",
                "cloudformation:ValidateTemplate",
                "iam:CreateServiceLinkedRole",
            }
    assert called_via - {"ec2"} == expected - {"ec2"}
    assert "ec2" in called_via


def test_every_launch_role_action_names_real_iam_actions() -> None:
    import fnmatch

    import cfnlint

    data = Path(cfnlint.__file__).parent / "data" / "AdditionalSpecs" / "Policies.json"
    known = json.loads(data.read_text())
    for prefix, verbs in SERVICE_ACTIONS.values():
        actions = [a.lower() for a in known[prefix]["Actions"]]
        for verb in verbs:
            assert fnmatch.filter(actions, verb.lower()), f"{prefix}:{verb} matches no action"


# --- the launch parameters, against the sources ---------------------------------------------------


@pytest.mark.parametrize(
    ("word", "reference"), [("Hpc7a", "hpc7a.96xlarge"), ("C5n", "c5n.18xlarge")]
)
def test_instance_type_choices_share_the_layout(
    synth: Synthesized, word: str, reference: str
) -> None:
    params = _version(synth, word)["Parameters"]
    assert params["InstanceType"]["AllowedValues"] == _expected_types(reference)
    assert reference in params["InstanceType"]["AllowedValues"]


def test_p5_version_offers_the_p5_layout_only(synth: Synthesized) -> None:
    params = _version(synth, "P5")["Parameters"]
    assert params["InstanceType"]["AllowedValues"] == _expected_types("p5.48xlarge")
    assert params["NodeCount"]["MaxValue"] == 4


def test_node_count_range_fits_the_compute_subnet(synth: Synthesized) -> None:
    config = HpcPortfolioConfig()
    spec = InstanceCatalog.get(config.hpc7a_type)
    per_node = sum(1 for i in plan_efa_interfaces(spec) if i.has_ip)
    ceiling = usable_addresses(DEFAULT_COMPUTE_SUBNET_CIDR_MASK) // per_node
    param = _version(synth, "Hpc7a")["Parameters"]["NodeCount"]
    assert (param["MinValue"], param["MaxValue"]) == (1, config.max_nodes)
    assert param["MaxValue"] <= ceiling


def test_lustre_capacity_choices_are_the_valid_capacities(synth: Synthesized) -> None:
    top = HpcPortfolioConfig().max_lustre_capacity_gib
    expected = [str(c) for c in limits.lustre_valid_capacities("SCRATCH_2", "SSD", None, top)]
    assert all(limits.lustre_capacity_ok("SCRATCH_2", "SSD", int(c), None) for c in expected)
    assert _version(synth, "Hpc7a")["Parameters"]["LustreCapacityGiB"]["AllowedValues"] == expected
    scratch = _version(synth, "Scratch2")["Parameters"]["StorageCapacityGiB"]
    assert scratch["AllowedValues"] == expected


def test_budget_range_within_aws_budgets_limit(synth: Synthesized) -> None:
    for template in _products(synth).values():
        param = template["Parameters"]["MonthlyBudgetUsd"]
        assert 0 < param["MinValue"] <= param["MaxValue"] <= BUDGET_MAX_LIMIT_USD


def test_parameters_flow_into_the_resources(synth: Synthesized) -> None:
    template = _version(synth, "Hpc7a")
    resources = template["Resources"].values()
    (lt,) = [r for r in resources if r["Type"] == "AWS::EC2::LaunchTemplate"]
    assert lt["Properties"]["LaunchTemplateData"]["InstanceType"] == {"Ref": "InstanceType"}
    (asg,) = [r for r in resources if r["Type"] == "AWS::AutoScaling::AutoScalingGroup"]
    assert asg["Properties"]["MinSize"] == asg["Properties"]["MaxSize"] == {"Ref": "NodeCount"}
    (fs,) = [r for r in resources if r["Type"] == "AWS::FSx::FileSystem"]
    assert fs["Properties"]["StorageCapacity"] == {"Ref": "LustreCapacityGiB"}
    (budget,) = [r for r in resources if r["Type"] == "AWS::Budgets::Budget"]
    assert budget["Properties"]["Budget"]["BudgetLimit"]["Amount"] == {"Ref": "MonthlyBudgetUsd"}


def test_every_parameter_is_constrained(synth: Synthesized) -> None:
    for name, template in _products(synth).items():
        for pname, param in template["Parameters"].items():
            constrained = (
                "AllowedValues" in param
                or "MaxValue" in param
                or "AllowedPattern" in param
                or str(param["Type"]).startswith("AWS::EC2::")
            )
            assert constrained, f"{name}: {pname} takes any value"


def test_scratch_product_checks_the_subnet_is_in_the_vpc(synth: Synthesized) -> None:
    rules = _version(synth, "Scratch2")["Rules"]
    assert "SubnetInVpc" in rules


def test_cfn_lint_clean(synth: Synthesized) -> None:
    assert_cfn_lint_clean(synth.template_dict("HpcPortfolio"))
    for template in _products(synth).values():
        assert_cfn_lint_clean(template)


def test_nag_clean(synth: Synthesized) -> None:
    assert_nag_clean(synth)


# --- rules on plain values ---------------------------------------------------------------------


def _plan(*versions: Any, name: str = "P") -> None:
    v = Validator("Portfolio")
    plan_product(
        v, BlueprintProduct(product_name=name, owner="o", versions=versions), TEST_REGION, AZS
    )
    v.raise_if_any()


def test_fails_mixing_efa_layouts_in_one_version() -> None:
    with pytest.raises(HpcValidationError, match=r"c5n\.18xlarge.*network-interface layout"):
        _plan(MpiClusterVersion("mixed", instance_types=["hpc7a.96xlarge", "c5n.18xlarge"]))


def test_fails_unknown_instance_type() -> None:
    with pytest.raises(HpcValidationError, match=r"hpc7z\.96xlarge.*unknown instance type"):
        _plan(MpiClusterVersion("x", instance_types=["hpc7z.96xlarge"]))


def test_fails_empty_product_and_empty_version() -> None:
    with pytest.raises(HpcValidationError, match="one or more versions"):
        _plan()
    with pytest.raises(HpcValidationError, match="one or more instance types"):
        _plan(MpiClusterVersion("x"))


def test_fails_duplicate_version_names_and_mixed_kinds() -> None:
    with pytest.raises(HpcValidationError, match="each version name once"):
        _plan(LustreScratchVersion("a"), LustreScratchVersion("a"))
    with pytest.raises(HpcValidationError, match="versions of one kind"):
        _plan(LustreScratchVersion("a"), MpiClusterVersion("b", instance_types=["c5n.18xlarge"]))


def test_fails_more_nodes_than_the_compute_subnet_holds() -> None:
    ceiling = usable_addresses(DEFAULT_COMPUTE_SUBNET_CIDR_MASK)
    with pytest.raises(HpcValidationError, match=f"max_nodes={ceiling + 1}"):
        _plan(MpiClusterVersion("x", instance_types=["c5n.18xlarge"], max_nodes=ceiling + 1))


def test_fails_invalid_lustre_choices() -> None:
    with pytest.raises(HpcValidationError, match="default_lustre_capacity_gib=3000"):
        _plan(LustreScratchVersion("a", default_capacity_gib=3000))
    with pytest.raises(HpcValidationError, match=r"lustre_per_unit_storage_throughput"):
        _plan(LustreScratchVersion("a", deployment_type="PERSISTENT_2"))


def test_fails_budget_beyond_aws_budgets() -> None:
    top = int(BUDGET_MAX_LIMIT_USD)
    with pytest.raises(HpcValidationError, match=r"monthly_budget_usd\[1\]"):
        _plan(LustreScratchVersion("a", monthly_budget_usd=(1, top + 1)))


def test_fails_types_not_offered_in_the_stacks_azs() -> None:
    v = Validator("Portfolio")
    product = BlueprintProduct(
        product_name="P",
        owner="o",
        versions=[MpiClusterVersion("x", instance_types=["hpc7a.96xlarge"])],
    )
    plan_product(v, product, TEST_REGION, ["us-east-2a"])
    with pytest.raises(
        HpcValidationError, match="offered in one of the stack's Availability Zones"
    ):
        v.raise_if_any()


def test_fails_portfolio_in_an_environment_agnostic_stack() -> None:
    app = make_app()
    stack = cdk.Stack(app, "Agnostic")
    portfolio = BlueprintPortfolio(stack, "Portfolio", display_name="d", provider_name="p")
    with pytest.raises(HpcValidationError, match="concrete account and region"):
        portfolio.add_product(
            BlueprintProduct(product_name="P", owner="o", versions=[LustreScratchVersion("a")])
        )


def test_fabric_spans_the_stack_azs_or_the_catalogs_when_the_app_has_none() -> None:
    from hpc_constructs.portfolio.plan import fabric_zones

    assert fabric_zones(TEST_REGION, AZS[:2]) == tuple(AZS[:2])
    fallback = fabric_zones(TEST_REGION, ["dummy1a", "dummy1b", "dummy1c"])
    assert fallback
    assert all(az.startswith(TEST_REGION) for az in fallback)
    assert "us-east-2b" in fallback  # where hpc7a is offered
