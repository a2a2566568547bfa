#!/usr/bin/env python3
"""Draw each synthesized stack as a Mermaid graph (GitHub renders it), from the templates.

Only the resources an architect looks for become nodes; references through anything else
(subnets, security groups, roles, route tables ...) are followed until they reach one, so
"fleet -> VPC" appears even though the fleet names a subnet that names the VPC.

    python scripts/architecture.py cdk.out > docs/architecture.md
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: Resource types drawn, with their label. Order sets the order of nodes in the graph.
NODES: dict[str, str] = {
    "AWS::EC2::VPC": "VPC",
    "AWS::EC2::NatGateway": "NAT gateway",
    "AWS::EC2::VPCEndpoint": "VPC endpoint",
    "AWS::EC2::FlowLog": "Flow log",
    "AWS::EC2::PlacementGroup": "Cluster placement group",
    "AWS::EC2::LaunchTemplate": "Launch template",
    "AWS::AutoScaling::AutoScalingGroup": "EC2 Auto Scaling fleet",
    "AWS::Batch::ComputeEnvironment": "Batch compute environment",
    "AWS::Batch::JobQueue": "Batch job queue",
    "AWS::Batch::JobDefinition": "Batch job definition",
    "AWS::FSx::FileSystem": "FSx for Lustre",
    "AWS::FSx::DataRepositoryAssociation": "Data repository association",
    "AWS::S3::Bucket": "S3 bucket",
    "AWS::DataSync::Task": "DataSync task",
    "AWS::DataSync::LocationNFS": "NFS location (on premises)",
    "AWS::DataSync::LocationSMB": "SMB location (on premises)",
    "AWS::DataSync::LocationS3": "S3 location",
    "AWS::DataSync::LocationFSxLustre": "Lustre location",
    "AWS::DirectConnect::DirectConnectGateway": "Direct Connect gateway",
    "AWS::EC2::VPNGateway": "Virtual private gateway",
    "AWS::EC2::TransitGateway": "Transit gateway",
    "AWS::Events::Rule": "EventBridge rule",
    "AWS::SNS::Topic": "SNS topic",
    "AWS::CloudWatch::Dashboard": "CloudWatch dashboard",
    "AWS::Budgets::Budget": "Cost budget",
    "AWS::CloudFormation::Stack": "Nested stack",
    "AWS::PCS::Cluster": "AWS PCS cluster",
    "AWS::PCS::ComputeNodeGroup": "PCS node group",
    "AWS::PCS::Queue": "PCS queue",
    "AWS::ImageBuilder::Image": "Golden AMI (Image Builder)",
    "AWS::ImageBuilder::ImagePipeline": "Image Builder pipeline",
}
#: Grouped into one node per stack: there are many and their edges add nothing.
GROUPED = {"AWS::EC2::VPCEndpoint", "AWS::EC2::NatGateway"}
#: EventBridge rules of an HpcDashboard (under this top-level construct in the samples) are
#: one node per stack: one rule per Batch job state and per DataSync outcome.
DASHBOARD_SCOPE = "Operations"


def _path_parts(resource: dict[str, Any]) -> list[str]:
    path = str(resource.get("Metadata", {}).get("aws:cdk:path", ""))
    return [p for p in path.split("/")[1:] if p not in ("Resource", "Default")]


def _is_dashboard_rule(resource: dict[str, Any]) -> bool:
    parts = _path_parts(resource)
    return resource["Type"] == "AWS::Events::Rule" and parts[:1] == [DASHBOARD_SCOPE]


def _kind_label(resource: dict[str, Any]) -> str:
    """The node label of a resource type, refined by what the resource is."""
    props = resource.get("Properties", {})
    kind = resource["Type"]
    if kind == "AWS::EC2::LaunchTemplate":
        interfaces = props.get("LaunchTemplateData", {}).get("NetworkInterfaces") or []
        efa = any(i.get("InterfaceType") in ("efa", "efa-only") for i in interfaces)
        return "Launch template (EFA)" if efa else "Launch template"
    if kind == "AWS::Batch::JobDefinition":
        if props.get("Type") == "multinode":
            return "Batch multi-node job"
        return (
            "Batch job (Fargate)"
            if "FARGATE" in props.get("PlatformCapabilities", [])
            else ("Batch job")
        )
    return NODES[kind]


def _references(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if "Ref" in value and isinstance(value["Ref"], str):
            yield value["Ref"]
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            yield target[0] if isinstance(target, list) else str(target).split(".", 1)[0]
        for item in value.values():
            yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


def _label(logical_id: str, resource: dict[str, Any]) -> str:
    parts = _path_parts(resource)
    where = "/".join(parts[:2]) if parts else logical_id
    return f"{_kind_label(resource)}<br/>{where}"


def mermaid(template: dict[str, Any]) -> str:
    resources: dict[str, dict[str, Any]] = template.get("Resources", {})
    direct = {
        lid: set(_references(res.get("Properties", {}))) & set(resources)
        for lid, res in resources.items()
    }

    def node_id(lid: str) -> str:
        kind = resources[lid]["Type"]
        if _is_dashboard_rule(resources[lid]):
            return "Dashboard_rules"
        return kind.replace("::", "_") if kind in GROUPED else lid

    def reachable(lid: str) -> set[str]:
        """Drawn resources reached from ``lid`` through resources that are not drawn."""
        found: set[str] = set()
        seen = {lid}
        stack = list(direct[lid])
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            if resources[current]["Type"] in NODES:
                found.add(current)
            else:
                stack.extend(direct[current])
        return found

    drawn = sorted(
        (lid for lid, res in resources.items() if res["Type"] in NODES),
        key=lambda lid: (list(NODES).index(resources[lid]["Type"]), lid),
    )
    lines = ["graph LR"]
    declared: set[str] = set()
    for lid in drawn:
        nid = node_id(lid)
        if nid in declared:
            continue
        declared.add(nid)
        kind = resources[lid]["Type"]
        if nid == "Dashboard_rules":
            count = sum(1 for r in resources.values() if _is_dashboard_rule(r))
            lines.append(f'  {nid}["EventBridge rules of the dashboard x{count}"]')
        elif kind in GROUPED:
            count = sum(1 for r in resources.values() if r["Type"] == kind)
            lines.append(f'  {nid}["{NODES[kind]} x{count}"]')
        else:
            lines.append(f'  {nid}["{_label(lid, resources[lid])}"]')
    edges: set[tuple[str, str]] = set()
    for lid in drawn:
        for target in reachable(lid):
            a, b = node_id(lid), node_id(target)
            if a != b:
                edges.add((a, b))
    lines.extend(f"  {a} --> {b}" for a, b in sorted(edges))
    return "\n".join(lines)


def document(outdir: Path) -> str:
    blocks = [
        "## Architecture of the sample stacks",
        "",
        "Generated from the synthesized templates by `scripts/architecture.py` (an arrow means",
        '"refers to"); `tests/test_stacks.py` fails when this picture is out of date.',
    ]
    for path in sorted(outdir.glob("*.template.json")):
        name = path.name[: -len(".template.json")]
        blocks += [
            "",
            f"### {name}",
            "",
            "```mermaid",
            mermaid(json.loads(path.read_text())),
            "```",
        ]
    return "\n".join(blocks) + "\n"


if __name__ == "__main__":
    print(document(Path(sys.argv[1] if len(sys.argv) > 1 else "cdk.out")), end="")
