"""``hpc-lint``: cfn-lint with the HPC rule pack, for the region each template targets.

    hpc-lint cdk.out/MpiCluster.template.json            # region from cdk.out/manifest.json
    hpc-lint template.yaml --region us-east-2 [--region us-west-2 ...]

The region matters: cfn-lint checks instance types against the region's offerings, so a
template for us-east-2 linted for cfn-lint's default (us-east-1) gets a false E3628 for hpc7a.
Each template is linted for the ``--region`` values when given; otherwise for the region of its
stack in the ``manifest.json`` next to it (a CDK cloud assembly); a template with neither is an
error rather than a silent us-east-1. Exit status: 0 clean, 1 findings, 2 usage errors.

This module imports only the standard library and cfn-lint (no aws_cdk, no jsii).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

#: The rule pack (``cfn-lint --append-rules`` directory).
RULES_DIRECTORY = Path(__file__).resolve().parent / "cfn_lint_rules"


def manifest_region(template: Path) -> str | None:
    """The region of ``template``'s stack in the cloud assembly manifest next to it, if any."""
    manifest = template.resolve().parent / "manifest.json"
    if not manifest.exists():
        return None
    try:
        artifacts = json.loads(manifest.read_text()).get("artifacts", {})
    except (OSError, ValueError):
        return None
    for artifact in artifacts.values():
        props = artifact.get("properties", {})
        if props.get("templateFile") != template.name:
            continue
        env = str(artifact.get("environment", ""))
        region = env.rsplit("/", 1)[-1] if env.count("/") >= 3 else ""
        if region and not region.startswith("unknown"):
            return region
    return None


def lint_template(template: Path, regions: Sequence[str]) -> list[str]:
    """cfn-lint findings for ``template`` in ``regions``, as ``path:line:col: ID message``."""
    from cfnlint.api import ManualArgs, lint

    matches = lint(
        template.read_text(),
        config=ManualArgs(regions=list(regions), append_rules=[str(RULES_DIRECTORY)]),
    )
    return [
        f"{template}:{m.linenumber}:{m.columnnumber}: {m.rule.id} {_short(m.message)}"
        for m in matches
    ]


def _short(message: str, limit: int = 300) -> str:
    """cfn-lint lists every allowed value (E3628 names ~1000 instance types): keep it readable."""
    return message if len(message) <= limit else message[: limit - 5] + " ...]"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="hpc-lint",
        description="cfn-lint with the hpc-constructs rule pack (E9101-E9103) for the right "
        "region(s). Without --region, each template's region comes from the manifest.json of "
        "its CDK cloud assembly.",
    )
    parser.add_argument("templates", nargs="+", type=Path, metavar="TEMPLATE")
    parser.add_argument(
        "--region",
        action="append",
        dest="regions",
        metavar="REGION",
        help="region to check against (repeatable); default: the stack's region in manifest.json",
    )
    args = parser.parse_args(argv)
    findings: list[str] = []
    errors: list[str] = []
    for template in args.templates:
        if not template.is_file():
            errors.append(f"hpc-lint: {template}: no such file")
            continue
        regions = args.regions or [r for r in [manifest_region(template)] if r]
        if not regions:
            errors.append(
                f"hpc-lint: {template}: no region: pass --region REGION (no manifest.json "
                "next to it names its stack's region)"
            )
            continue
        findings.extend(lint_template(template, regions))
    for line in findings:
        print(line)
    for line in errors:
        print(line, file=sys.stderr)
    if errors:
        return 2
    count = len(findings)
    print(
        f"hpc-lint: {len(args.templates)} template(s), "
        f"{'clean' if not count else f'{count} finding(s)'}",
        file=sys.stderr,
    )
    return 1 if count else 0


if __name__ == "__main__":
    sys.exit(main())
