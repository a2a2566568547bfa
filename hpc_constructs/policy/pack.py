"""``HpcChecks``: the HPC rules (``policy/rules.py``) as a cdk-nag 3 ``NagPack``.

cdk-nag 3 packs are CDK policy-validation plugins: ``cdk.Validations.of(app).add_plugins(
HpcChecks(app))``; a violation fails ``cdk synth`` with a report, and
``cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id="HPC-EFA3", reason=...))``
acknowledges one on a construct (and its children).

The rules read each resource as CloudFormation will see it. Run as a plugin (the normal way),
CDK calls ``validate`` after synthesis and the pack reads the synthesized templates, so
property overrides, aspects (``require_imdsv2``) and every token CDK can resolve are in;
a value only known at deploy time (a parameter, an imported id) makes a rule not apply.
Called directly with ``validate_scope(scope)`` before any synthesis, the pack renders each
L1 resource's properties itself (``Stack.of(node).resolve``), which misses property
overrides: prefer the plugin.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast

import aws_cdk as cdk
import jsii
from cdk_nag import IApplyRule, NagMessageLevel, NagPack, NagRuleCompliance
from constructs import IConstruct

from hpc_constructs.policy.rules import RULES, Resources, Rule, applicable

PACK_NAME = "HPC"

_DELETION_POLICIES = {
    "DELETE": "Delete",
    "RETAIN": "Retain",
    "RETAIN_EXCEPT_ON_CREATE": "RetainExceptOnCreate",
    "SNAPSHOT": "Snapshot",
}


@jsii.implements(IApplyRule)
class _AppliedRule:
    """One rule applied to one resource, in the shape cdk-nag's ``applyRule`` takes."""

    def __init__(self, rule: Rule, node: cdk.CfnResource, check: Callable[[], Any]) -> None:
        self._rule = rule
        self._node = node
        self._check = check

    @property
    def rule_suffix_override(self) -> str:
        return self._rule.suffix

    @property
    def info(self) -> str:
        return self._rule.info

    @property
    def explanation(self) -> str:
        return f"{self._rule.explanation} Source: {self._rule.source}."

    @property
    def level(self) -> NagMessageLevel:
        return NagMessageLevel.ERROR

    @property
    def node(self) -> cdk.CfnResource:
        return self._node

    def rule(self, node: cdk.CfnResource) -> NagRuleCompliance:
        problems = self._check()
        if problems is None:
            return NagRuleCompliance.NOT_APPLICABLE
        return NagRuleCompliance.NON_COMPLIANT if problems else NagRuleCompliance.COMPLIANT


class HpcChecks(NagPack):
    """HPC invariants for any CDK app, as cdk-nag rules ``HPC-*`` (see ``RULES``).

    ``verbose``: add each rule's explanation and source to its findings. Default: - false.
    ``write_suppressions_to_cloud_formation``: also write acknowledged rules into each
    resource's ``cdk_nag`` Metadata (cdk-nag 2's audit trail). Default: - false.
    """

    def __init__(
        self,
        scope: IConstruct | None = None,
        *,
        verbose: bool | None = None,
        write_suppressions_to_cloud_formation: bool | None = None,
    ) -> None:
        super().__init__(
            scope,
            verbose=verbose,
            write_suppressions_to_cloud_formation=write_suppressions_to_cloud_formation,
        )
        self._pack_name = PACK_NAME
        self._templates: dict[str, Resources] = {}
        self._rendered: dict[str, Resources] = {}
        self._synthesized = False

    @property
    def name(self) -> str:
        return "HpcChecks"

    @property
    def rule_ids(self) -> list[str]:
        return [rule.rule_id for rule in RULES]

    def validate(self, context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        """Called by CDK after synthesis: read the synthesized templates, then check."""
        self._templates = {}
        for path in context.template_paths:
            self._templates[str(Path(path).resolve())] = _read_resources(Path(path))
        self._synthesized = True
        try:
            return super().validate(context)
        finally:
            self._templates = {}
            self._synthesized = False

    def validate_scope(self, scope: IConstruct) -> cdk.PolicyValidationPluginReport:
        self._rendered = {}
        try:
            return super().validate_scope(scope)
        finally:
            self._rendered = {}

    def _check_resource(self, node: cdk.CfnResource) -> None:
        rules = list(applicable(node.cfn_resource_type))
        if not rules:
            return
        stack = cdk.Stack.of(node)
        logical_id = str(stack.resolve(node.logical_id))
        resources = self._resources(stack)
        for rule in rules:
            # Only a finding (or an error) goes through cdk-nag's applyRule, which checks
            # acknowledgments and records it: a compliant resource costs no jsii round trips.
            try:
                problems = rule.check(logical_id, resources)
            except Exception as err:  # reported by cdk-nag as "Rule threw an error"
                self._apply_rule(_applied(rule, node, _raise(err)))
                continue
            if problems:
                self._apply_rule(_applied(rule, node, _returning(problems)))

    def _resources(self, stack: cdk.Stack) -> Resources:
        """The stack's resources as synthesized, else rendered from its L1 constructs."""
        stage = cdk.Stage.of(stack)
        if stage is not None:
            path = (Path(stage.outdir) / stack.template_file).resolve()
            if str(path) not in self._templates and self._synthesized and path.is_file():
                # Written by this synthesis but not a top-level template (a Service Catalog
                # product stack, a nested stack): as fresh as the others.
                self._templates[str(path)] = _read_resources(path)
            if str(path) in self._templates:
                return self._templates[str(path)]
        key = stack.node.path
        if key not in self._rendered:
            self._rendered[key] = render_resources(stack)
        return self._rendered[key]


def _read_resources(path: Path) -> Resources:
    resources: Resources = json.loads(path.read_text()).get("Resources") or {}
    return resources


def _applied(rule: Rule, node: cdk.CfnResource, check: Callable[[], Any]) -> IApplyRule:
    # A jsii interface implementation: properties, not the Protocol's settable attributes.
    return cast(IApplyRule, _AppliedRule(rule, node, check))


def _returning(problems: list[str]) -> Callable[[], Any]:
    return lambda: problems


def _raise(err: Exception) -> Callable[[], Any]:
    def check() -> Any:
        raise err

    return check


def render_resources(stack: cdk.Stack) -> dict[str, Mapping[str, Any]]:
    """A stack's L1 resources in template shape, resolved, without property overrides
    (CDK keeps those internal): what ``validate_scope`` sees before synthesis."""
    resources: dict[str, Mapping[str, Any]] = {}
    for child in stack.node.find_all():
        if not isinstance(child, cdk.CfnResource) or cdk.Stack.of(child) is not stack:
            continue
        try:  # resolve first: L2s hand their L1 lazy values that only resolve() expands
            properties = child._render_properties(stack.resolve(child._cfn_properties))
        except Exception:  # a resource CDK cannot render here is not checked
            continue
        resource: dict[str, Any] = {
            "Type": child.cfn_resource_type,
            "Properties": stack.resolve(properties) or {},
        }
        policy = child.cfn_options.deletion_policy
        if policy is not None:
            resource["DeletionPolicy"] = _DELETION_POLICIES[str(policy.value)]
        resources[str(stack.resolve(child.logical_id))] = resource
    return resources
