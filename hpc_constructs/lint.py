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
import dataclasses
import functools
import hashlib
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Finding:
    """One cfn-lint match, as plain values."""

    rule_id: str
    message: str
    path: tuple[str, ...]
    line: int
    column: int


def lint_text(text: str, regions: Sequence[str], *, cache: Path | None = None) -> list[Finding]:
    """cfn-lint with the rule pack on a template's ``text`` for ``regions``.

    With ``cache`` (a directory), findings are stored by content hash: the template text, the
    regions, the cfn-lint version and the rule pack's source. The same inputs give the same
    findings, so a repeated run reads them back instead of linting again.
    """
    key = hashlib.sha256(
        "\0".join([_inputs_digest(), ",".join(regions), text]).encode()
    ).hexdigest()
    stored = cache / f"{key}.json" if cache is not None else None
    if stored is not None and stored.exists():
        return [Finding(**{**f, "path": tuple(f["path"])}) for f in json.loads(stored.read_text())]
    from cfnlint.api import ManualArgs, lint

    matches = lint(
        text, config=ManualArgs(regions=list(regions), append_rules=[str(RULES_DIRECTORY)])
    )
    findings = [
        Finding(m.rule.id, m.message, tuple(str(p) for p in m.path), m.linenumber, m.columnnumber)
        for m in matches
    ]
    if stored is not None:
        stored.parent.mkdir(parents=True, exist_ok=True)
        partial = stored.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps([dataclasses.asdict(f) for f in findings]))
        partial.replace(stored)  # atomic: parallel test workers never read half a file
    return findings


@functools.cache
def _inputs_digest() -> str:
    """What besides the template decides the answer: cfn-lint's version and the rule pack
    (with ``limits.py``, which the rule pack loads)."""
    from importlib.metadata import version

    digest = hashlib.sha256(f"findings-v2 cfn-lint {version('cfn-lint')}".encode())
    package = Path(__file__).resolve().parent
    for path in sorted([*RULES_DIRECTORY.rglob("*.py"), package / "limits.py"]):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def lint_template(template: Path, regions: Sequence[str]) -> list[str]:
    """cfn-lint findings for ``template`` in ``regions``, as ``path:line:col: ID message``."""
    return [
        f"{template}:{f.line}:{f.column}: {f.rule_id} {_short(f.message)}"
        for f in lint_text(template.read_text(), regions)
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
