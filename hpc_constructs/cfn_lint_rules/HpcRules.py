"""cfn-lint rules for HPC invariants the CloudFormation resource schemas do not enumerate.

Use on any template: ``hpc-lint template.json --region us-east-2`` (or ``cfn-lint template.json
--regions us-east-2 --append-rules <this directory>``: template first, since ``--append-rules``
takes several values). Rules (ids in cfn-lint's custom E9xxx range):

- E9101: FSx for Lustre deployment type, storage type, capacity steps and per-unit throughput.
- E9102: EC2 launch-template EFA interfaces (types, primary interface, one EFA per card, no IP
  on efa-only interfaces).
- E9103: AWS Batch multi-node job node ranges (main node, at most five ranges, full coverage).

The facts come from ``hpc_constructs/limits.py``, loaded by file path so that linting does not
import the CDK.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch


def _load_limits() -> ModuleType:
    name = "hpc_constructs_limits_for_cfn_lint"
    if name in sys.modules:
        return sys.modules[name]
    path = Path(__file__).resolve().parent.parent / "limits.py"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


limits = _load_limits()


class LustreSizing(CloudFormationLintRule):  # type: ignore[misc]
    id = "E9101"
    shortdesc = "FSx for Lustre deployment type, capacity and throughput"
    description = (
        "Checks DeploymentType, StorageType, StorageCapacity steps and PerUnitStorageThroughput "
        "of Lustre file systems against the values FSx accepts."
    )
    source_url = "https://docs.aws.amazon.com/fsx/latest/APIReference/API_CreateFileSystem.html"
    tags = ["resources", "fsx", "hpc"]  # noqa: RUF012 (cfn-lint API)

    def match(self, cfn: Any) -> list[RuleMatch]:
        matches: list[RuleMatch] = []
        for name, resource in cfn.get_resources(["AWS::FSx::FileSystem"]).items():
            problems = limits.lustre_resource_problems(resource.get("Properties") or {})
            if problems is None:  # not Lustre, or sized at deploy time (Ref, Fn::If ...)
                continue
            for prop, value, allowed in problems:
                path: list[str | int] = ["Resources", name, "Properties"]
                if prop in ("DeploymentType", "PerUnitStorageThroughput", "DriveCacheType"):
                    path.append("LustreConfiguration")
                path.append(prop)
                matches.append(
                    RuleMatch(path, f"Lustre {prop} {value!r} is invalid; allowed: {allowed}")
                )
        return matches


class EfaInterfaces(CloudFormationLintRule):  # type: ignore[misc]
    id = "E9102"
    shortdesc = "EFA network interfaces in launch templates"
    description = (
        "Checks launch-template network interfaces: InterfaceType is interface, efa or "
        "efa-only; the primary interface is card 0 device 0 and not efa-only; at most one EFA "
        "per network card; efa-only interfaces carry no IP address."
    )
    source_url = "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/efa-acc-inst-types.html"
    tags = ["resources", "ec2", "efa", "hpc"]  # noqa: RUF012 (cfn-lint API)

    def match(self, cfn: Any) -> list[RuleMatch]:
        matches: list[RuleMatch] = []
        for name, resource in cfn.get_resources(["AWS::EC2::LaunchTemplate"]).items():
            data = (resource.get("Properties") or {}).get("LaunchTemplateData") or {}
            interfaces = data.get("NetworkInterfaces") if isinstance(data, dict) else None
            views = limits.interface_views(interfaces)
            if views is None:
                continue
            path = ["Resources", name, "Properties", "LaunchTemplateData", "NetworkInterfaces"]
            for problem in limits.efa_layout_problems(views):
                matches.append(RuleMatch(path, f"EFA interface layout: {problem}"))
        return matches


class BatchNodeRanges(CloudFormationLintRule):  # type: ignore[misc]
    id = "E9103"
    shortdesc = "AWS Batch multi-node job node ranges"
    description = (
        "Checks a multinode job definition: MainNode is below NumNodes, at most five node "
        "ranges, each range within the job, and together they cover every node."
    )
    source_url = "https://docs.aws.amazon.com/batch/latest/userguide/multi-node-parallel-jobs.html"
    tags = ["resources", "batch", "hpc"]  # noqa: RUF012 (cfn-lint API)

    def match(self, cfn: Any) -> list[RuleMatch]:
        matches: list[RuleMatch] = []
        for name, resource in cfn.get_resources(["AWS::Batch::JobDefinition"]).items():
            problems = limits.multinode_problems(resource.get("Properties") or {})
            if problems is None:
                continue
            path = ["Resources", name, "Properties", "NodeProperties"]
            for problem in problems:
                matches.append(RuleMatch(path, f"Multi-node job: {problem}"))
        return matches
