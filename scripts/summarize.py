#!/usr/bin/env python3
"""Summarize a synthesized cloud assembly, stack by stack (the last step of ``make synth``).

For each template: resources and size against CloudFormation's limits, compute (instance type,
node range, EFA interfaces and network Gbps per node from the instance catalog, peak vCPUs),
Lustre (capacity, baseline throughput), and the cdk-nag and cfn-lint results. Exits non-zero
when cfn-lint reports an error or a template exceeds a CloudFormation limit.

    python scripts/summarize.py [cdk.out]
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from hpc_constructs import limits  # noqa: E402
from hpc_constructs.catalog import InstanceCatalog  # noqa: E402
from hpc_constructs.lint import lint_text  # noqa: E402
from tests.pcluster_venv import user_cache  # noqa: E402

#: CloudFormation quotas (AWS CloudFormation User Guide, "CloudFormation quotas").
MAX_TEMPLATE_BYTES = 1_000_000
MAX_RESOURCES = 500
#: cfn-lint findings by content hash (see hpc_constructs.lint.lint_text): the tests' user-level
#: cache, shared by every checkout on the machine (CONTRIBUTING.md, "Caches").
LINT_CACHE = user_cache("cfn-lint")


@dataclass
class Compute:
    kind: str
    instance_types: list[str]
    min_nodes: int | None
    max_nodes: int | None
    efa_interfaces: int

    def lines(self) -> Iterator[str]:
        if not self.instance_types or self.max_nodes is None:
            # A Service Catalog product: the researcher picks the type and count at launch.
            types = ", ".join(self.instance_types) or "instance type chosen at launch"
            yield (
                f"  {self.kind}: {types}; node count chosen at launch; "
                f"{self.efa_interfaces} EFA interfaces per node"
            )
            return
        specs = [InstanceCatalog.find(t) for t in self.instance_types]
        known = [s for s in specs if s is not None]
        gbps = min((s.network_gbps for s in known), default=0.0)
        vcpus = max((s.vcpus for s in known), default=0)
        nodes = (
            f"{self.min_nodes}-{self.max_nodes}"
            if self.min_nodes is not None
            else f"up to {self.max_nodes}"
        )
        peak = vcpus * (self.max_nodes or 0)
        yield (
            f"  {self.kind}: {', '.join(self.instance_types) or '?'} x {nodes} nodes; "
            f"{self.efa_interfaces} EFA interfaces and {gbps:g} Gbps per node; peak {peak:,} vCPUs"
        )


@dataclass
class StackSummary:
    name: str
    resources: int
    size: int
    compute: list[Compute] = field(default_factory=list)
    lustre: list[str] = field(default_factory=list)
    #: Batch grid queues (Spot, On-Demand fallback, Fargate Spot): pool, ceiling, Spot share.
    grids: list[str] = field(default_factory=list)
    #: Dashboards, alarms and budgets (hpc_constructs.ops): what an operator gets.
    operations: list[str] = field(default_factory=list)
    #: Service Catalog portfolios and, in a product template, its launch parameters.
    catalog: list[str] = field(default_factory=list)
    #: Golden images (HpcImage): what each pins, from its recipe's AMI tags.
    images: list[str] = field(default_factory=list)
    nag: int = 0
    #: Unacknowledged library warnings (``hpc-constructs:...`` and other construct
    #: annotations): reported, but they do not fail synth (only ``cdk synth --strict``).
    warnings: list[str] = field(default_factory=list)
    lint: list[str] = field(default_factory=list)

    def ok(self) -> bool:
        return not self.lint and self.size <= MAX_TEMPLATE_BYTES and self.resources <= MAX_RESOURCES

    def render(self) -> str:
        lines = [
            f"{self.name}: {self.resources} resources (limit {MAX_RESOURCES}), "
            f"{self.size:,} bytes (limit {MAX_TEMPLATE_BYTES:,})"
        ]
        for compute in self.compute:
            lines.extend(compute.lines())
        lines.extend(f"  Golden image: {text}" for text in self.images)
        lines.extend(f"  Batch grid queue: {text}" for text in self.grids)
        lines.extend(f"  Lustre: {text}" for text in self.lustre)
        lines.extend(f"  Operations: {text}" for text in self.operations)
        lines.extend(f"  Service Catalog: {text}" for text in self.catalog)
        lines.append(
            f"  cdk-nag AwsSolutions: {'clean' if self.nag == 0 else f'{self.nag} findings'}"
        )
        if self.warnings:
            lines.append(f"  warnings (not cdk-nag findings): {', '.join(self.warnings)}")
        if self.lint:
            lines.append(f"  cfn-lint: {len(self.lint)} findings")
            lines.extend(f"    {finding}" for finding in self.lint)
        else:
            lines.append("  cfn-lint (with the HPC rule pack): clean")
        return "\n".join(lines)


def _ref(value: Any) -> str | None:
    return value.get("Ref") if isinstance(value, dict) else None


def _efa_count(template: dict[str, Any], lt_ref: Any) -> int:
    logical_id = _ref(lt_ref)
    lt = template["Resources"].get(logical_id or "", {})
    data = lt.get("Properties", {}).get("LaunchTemplateData", {})
    interfaces = data.get("NetworkInterfaces") or []
    return sum(1 for i in interfaces if i.get("InterfaceType") in ("efa", "efa-only"))


def _lt_instance_type(template: dict[str, Any], lt_ref: Any) -> str | None:
    lt = template["Resources"].get(_ref(lt_ref) or "", {})
    value = lt.get("Properties", {}).get("LaunchTemplateData", {}).get("InstanceType")
    return value if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def summarize_template(name: str, template: dict[str, Any], size: int) -> StackSummary:
    resources = template.get("Resources", {})
    summary = StackSummary(name=name, resources=len(resources), size=size)
    for res in resources.values():
        props = res.get("Properties", {})
        kind = res.get("Type")
        if kind == "AWS::AutoScaling::AutoScalingGroup":
            mixed = props.get("MixedInstancesPolicy")
            if mixed:
                spec = mixed["LaunchTemplate"]["LaunchTemplateSpecification"]
                types = [o["InstanceType"] for o in mixed["LaunchTemplate"].get("Overrides", [])]
                lt = spec.get("LaunchTemplateId")
            else:
                lt = props.get("LaunchTemplate", {}).get("LaunchTemplateId")
                one = _lt_instance_type(template, lt)
                types = [one] if one else []
            summary.compute.append(
                Compute(
                    "Auto Scaling fleet",
                    types,
                    _int(props.get("MinSize")),
                    _int(props.get("MaxSize")),
                    _efa_count(template, lt),
                )
            )
        elif kind == "AWS::Batch::ComputeEnvironment" and _is_grid_environment(props):
            continue  # summarized per job queue (_grid_queues)
        elif kind == "AWS::Batch::ComputeEnvironment":
            cr = props.get("ComputeResources", {})
            types = [t for t in cr.get("InstanceTypes", []) if isinstance(t, str)]
            spec = InstanceCatalog.find(types[0]) if types else None
            max_vcpus = _int(cr.get("MaxvCpus")) or 0
            nodes = max_vcpus // spec.vcpus if spec else None
            lt = cr.get("LaunchTemplate", {}).get("LaunchTemplateId")
            summary.compute.append(
                Compute("Batch compute environment", types, None, nodes, _efa_count(template, lt))
            )
        elif kind == "AWS::PCS::ComputeNodeGroup":
            types = [c["InstanceType"] for c in props.get("InstanceConfigs", [])]
            scaling = props.get("ScalingConfiguration", {})
            lt = props.get("CustomLaunchTemplate", {}).get("TemplateId")
            summary.compute.append(
                Compute(
                    f"PCS node group {props.get('Name', '')}",
                    types,
                    _int(scaling.get("MinInstanceCount")),
                    _int(scaling.get("MaxInstanceCount")),
                    _efa_count(template, lt),
                )
            )
        elif kind == "Custom::PclusterCluster":
            config = props.get("ClusterConfiguration", {})
            for queue in config.get("Scheduling", {}).get("SlurmQueues", []):
                for cr in queue.get("ComputeResources", []):
                    types = (
                        [cr["InstanceType"]]
                        if "InstanceType" in cr
                        else [i["InstanceType"] for i in cr.get("Instances", [])]
                    )
                    spec = InstanceCatalog.find(types[0]) if types else None
                    efa = cr.get("Efa", {}).get("Enabled") and spec is not None
                    summary.compute.append(
                        Compute(
                            f"ParallelCluster queue {queue['Name']} ({queue.get('CapacityType', 'ONDEMAND')})",
                            types,
                            _int(cr.get("MinCount", 0)),
                            _int(cr.get("MaxCount")),
                            spec.max_efa_interfaces if efa and spec else 0,
                        )
                    )
        elif kind == "AWS::FSx::FileSystem" and props.get("FileSystemType") == "LUSTRE":
            config = props.get("LustreConfiguration", {})
            deployment = config.get("DeploymentType", "SCRATCH_1")
            capacity = _int(props.get("StorageCapacity"))
            per_tib = limits.lustre_baseline_mbps_per_tib(
                deployment, _int(config.get("PerUnitStorageThroughput"))
            )
            mbps = (
                limits.lustre_throughput_mbps(capacity, per_tib) if capacity and per_tib else None
            )
            if mbps:
                throughput = f"{mbps:,} MB/s baseline"
            elif per_tib:
                throughput = f"{per_tib} MB/s per TiB baseline"
            else:
                throughput = "throughput set by ThroughputCapacity"
            size = f"{capacity} GiB" if capacity else "capacity chosen at launch"
            summary.lustre.append(f"{deployment}, {size}, {throughput}")
    summary.grids = _grid_queues(resources)
    summary.operations = _operations(resources)
    summary.images = _images(resources)
    return summary


def _images(resources: dict[str, Any]) -> list[str]:
    """Each HpcImage: its path, base and pinned versions (the recipe's AMI tags) and when it
    is rebuilt (its pipeline's schedule, else on a recipe change)."""
    schedules = [
        r.get("Properties", {}).get("Schedule", {}).get("ScheduleExpression")
        for r in resources.values()
        if r.get("Type") == "AWS::ImageBuilder::ImagePipeline"
    ]
    lines = []
    recipes = [r for r in resources.values() if r.get("Type") == "AWS::ImageBuilder::ImageRecipe"]
    for recipe, schedule in zip(recipes, schedules, strict=False):
        tags = recipe.get("Properties", {}).get("AmiTags", {})
        prefix = "hpc-constructs:"
        pinned = [
            f"{key.removeprefix(prefix)} {value}"
            for key, value in tags.items()
            if key.startswith(prefix) and key not in (f"{prefix}image", f"{prefix}recipe-version")
        ]
        rebuilt = f"rebuilt {schedule}" if schedule else "rebuilt when the recipe changes"
        lines.append(f"{tags.get(prefix + 'image', '?')}: {'; '.join(pinned)}; {rebuilt}")
    return lines


def _operations(resources: dict[str, Any]) -> list[str]:
    """The dashboards (name), how many alarms, and each budget (limit, filter)."""
    by_type: dict[str, list[dict[str, Any]]] = {}
    for res in resources.values():
        by_type.setdefault(res.get("Type", ""), []).append(res.get("Properties", {}))
    lines = []
    dashboards = by_type.get("AWS::CloudWatch::Dashboard", [])
    alarms = len(by_type.get("AWS::CloudWatch::Alarm", []))
    if dashboards or alarms:
        names = [str(d.get("DashboardName", "(generated name)")) for d in dashboards]
        lines.append(f"dashboard {', '.join(names) or 'none'}; {alarms} alarms")
    for props in by_type.get("AWS::Budgets::Budget", []):
        budget = props.get("Budget", {})
        limit = budget.get("BudgetLimit", {})
        tags = [
            f"{t['Key']}={'/'.join(_text(v) for v in t.get('Values', []))}"
            for t in _tag_expressions(budget.get("FilterExpression", {}))
        ]
        scope = f" of spend tagged {', '.join(tags)}" if tags else " of all spend"
        lines.append(
            f"budget {_text(limit.get('Amount', '?'))} {limit.get('Unit', 'USD')} "
            f"{str(budget.get('TimeUnit', 'MONTHLY')).lower()}{scope}"
        )
    return lines


def _tag_expressions(expression: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``Tags`` expressions of a Budgets FilterExpression (alone or under ``And``)."""
    if "Tags" in expression:
        return [expression["Tags"]]
    return [t for e in expression.get("And", []) for t in _tag_expressions(e)]


def _is_grid_environment(props: dict[str, Any]) -> bool:
    """A BatchGrid environment: Spot or Fargate, or EC2 with a pool of several types (a
    multi-node environment has one type and is summarized as a compute environment)."""
    cr = props.get("ComputeResources", {})
    return cr.get("Type") != "EC2" or len(cr.get("InstanceTypes", [])) > 1


def _grid_queues(resources: dict[str, Any]) -> list[str]:
    """One line per job queue of grid environments: its pool, vCPU ceiling and Spot share."""
    lines: list[str] = []
    for res in resources.values():
        if res.get("Type") != "AWS::Batch::JobQueue":
            continue
        envs = [
            resources.get(str(_getatt_id(e.get("ComputeEnvironment"))), {}).get("Properties", {})
            for e in res.get("Properties", {}).get("ComputeEnvironmentOrder", [])
        ]
        if not envs or not all(_is_grid_environment(p) for p in envs):
            continue
        ceilings = [
            (
                p["ComputeResources"].get("Type", "?"),
                _int(p["ComputeResources"].get("MaxvCpus")) or 0,
            )
            for p in envs
        ]
        total = sum(c for _, c in ceilings)
        spot = sum(c for kind, c in ceilings if kind in ("SPOT", "FARGATE_SPOT"))
        types = list(
            dict.fromkeys(t for p in envs for t in p["ComputeResources"].get("InstanceTypes", []))
        )
        families = {t.split(".", 1)[0] for t in types}
        pool = (
            f"{len(types)} types in {len(families)} families ({', '.join(types)})"
            if types
            else "Fargate"
        )
        split = " + ".join(f"{_LABELS.get(kind, kind)} {c:,}" for kind, c in ceilings)
        share = round(100 * spot / total) if total else 0
        lines.append(f"{pool}; vCPU ceiling {total:,} ({split}); Spot share {share}%")
    return lines


_LABELS = {"SPOT": "Spot", "EC2": "On-Demand", "FARGATE_SPOT": "Fargate Spot", "FARGATE": "Fargate"}


def _getatt_id(value: Any) -> str | None:
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return str(value["Fn::GetAtt"][0])
    return None


#: The validation-report plugin that carries construct annotations (warnings), as opposed to
#: policy-validation plugins such as cdk-nag's ``AwsSolutions``.
ANNOTATIONS_PLUGIN = "Construct Annotations"


def _report_findings(outdir: Path) -> tuple[dict[str, int], dict[str, list[str]]]:
    """(cdk-nag findings per stack, warning ids per stack) from validation-report.json."""
    report = outdir / "validation-report.json"
    counts: dict[str, int] = {}
    warnings: dict[str, list[str]] = {}
    if not report.exists():
        return counts, warnings
    for plugin in json.loads(report.read_text()).get("pluginReports", []):
        annotations = plugin.get("pluginName") == ANNOTATIONS_PLUGIN
        for violation in plugin.get("violations", []):
            constructs = violation.get("violatingConstructs") or violation.get(
                "violatingResources", []
            )
            for construct in constructs:
                stack = construct.get("constructPath", "").split("/", 1)[0]
                if annotations:
                    rule = str(violation.get("ruleName", "")).removeprefix("Annotation::")
                    warnings.setdefault(stack, []).append(rule)
                else:
                    counts[stack] = counts.get(stack, 0) + 1
    return counts, warnings


def _nag_counts(outdir: Path) -> dict[str, int]:
    return _report_findings(outdir)[0]


def _lint(template_path: Path, region: str) -> list[str]:
    findings = lint_text(template_path.read_text(), [region], cache=LINT_CACHE)
    return [f"{f.rule_id} {f.message}" for f in findings]


def _text(value: Any) -> str:
    """A template value as text: a parameter reference as ``{Name}``."""
    ref = _ref(value)
    return f"{{{ref}}}" if ref else str(value)


def _catalog(template: dict[str, Any]) -> list[str]:
    """Portfolios (products, launch constraints, tag options) and a product's parameters."""
    resources = template.get("Resources", {}).values()
    by_type: dict[str, int] = {}
    for res in resources:
        by_type[res.get("Type", "")] = by_type.get(res.get("Type", ""), 0) + 1
    lines = [
        f"portfolio {res['Properties'].get('DisplayName', '?')}: "
        f"{by_type.get('AWS::ServiceCatalog::CloudFormationProduct', 0)} products, "
        f"{by_type.get('AWS::ServiceCatalog::LaunchRoleConstraint', 0)} launch constraints, "
        f"{by_type.get('AWS::ServiceCatalog::TagOption', 0)} tag options, "
        f"{by_type.get('AWS::ServiceCatalog::PortfolioPrincipalAssociation', 0)} principals"
        for res in resources
        if res.get("Type") == "AWS::ServiceCatalog::Portfolio"
    ]
    for res in resources:
        if res.get("Type") == "AWS::ServiceCatalog::CloudFormationProduct":
            versions = res["Properties"].get("ProvisioningArtifactParameters", [])
            names = ", ".join(str(v.get("Name", "?")) for v in versions)
            lines.append(f"product {res['Properties'].get('Name', '?')}: versions {names}")
    choices = []
    for name, param in template.get("Parameters", {}).items():
        if "AllowedValues" in param and len(param["AllowedValues"]) > 1:
            choices.append(f"{name} ({len(param['AllowedValues'])} choices)")
        elif "MinValue" in param or "MaxValue" in param:
            choices.append(f"{name} {param.get('MinValue', '')}-{param.get('MaxValue', '')}")
        elif "AllowedPattern" in param or str(param.get("Type", "")).startswith("AWS::EC2::"):
            choices.append(name)
    if choices:
        lines.append("launch parameters: " + ", ".join(choices))
    return lines


def _stack_regions(outdir: Path) -> dict[str, str]:
    manifest = json.loads((outdir / "manifest.json").read_text())
    regions: dict[str, str] = {}
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        env = artifact.get("environment", "")
        if artifact.get("type") == "aws:cloudformation:stack":
            regions[artifact_id] = env.rsplit("/", 1)[-1] if env.count("/") >= 3 else "us-east-1"
    return regions


def summarize(outdir: Path) -> tuple[str, bool]:
    nag, warnings = _report_findings(outdir)
    regions = _stack_regions(outdir)
    blocks: list[str] = []
    ok = True
    for path in sorted(outdir.glob("*.template.json")):
        name = path.name[: -len(".template.json")]
        summary = summarize_template(name, json.loads(path.read_text()), path.stat().st_size)
        summary.nag = nag.get(name, 0)
        summary.warnings = sorted(set(warnings.get(name, [])))
        # A Service Catalog product template (<parent><id>.product) lints in its portfolio's
        # region.
        parent = next((r for n, r in regions.items() if name.startswith(n)), "us-east-1")
        region = regions.get(name, parent)
        summary.catalog = _catalog(json.loads(path.read_text()))
        if region.startswith("unknown"):
            region = "us-east-1"
        summary.lint = _lint(path, region)
        ok = ok and summary.ok()
        blocks.append(summary.render())
    return "\n".join(blocks), ok


def main(argv: list[str]) -> int:
    outdir = Path(argv[0] if argv else "cdk.out")
    text, ok = summarize(outdir)
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
