"""Test harness: one app per scenario, synthesized once, checked by cfn-lint and cdk-nag.

Usage in a test module::

    @pytest.fixture(scope="module")
    def synth() -> Synthesized:
        app = make_app()
        stack = cdk.Stack(app, "Fabric", env=TEST_ENV)
        NetworkFabric(stack, "Fabric")
        return synthesize(app)

    def test_cfn_lint_clean(synth): assert_cfn_lint_clean(synth.template_dict("Fabric"))
    def test_nag_clean(synth): assert_nag_clean(synth)
"""

from __future__ import annotations

import atexit
import json
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

from hpc_constructs.lint import lint_text
from hpc_constructs.policy import HpcChecks
from tests.pcluster_venv import user_cache

ROOT = Path(__file__).resolve().parent.parent
CDK_JSON = json.loads((ROOT / "cdk.json").read_text())

#: The fixed environment every test stack uses; its AZs are pinned in cdk.json.
TEST_ACCOUNT = "123456789012"
TEST_REGION = "us-east-2"
TEST_ENV = cdk.Environment(account=TEST_ACCOUNT, region=TEST_REGION)
#: Regions cfn-lint checks templates against. us-east-2 offers every HPC instance type the tests
#: use (hpc6a/hpc6id/hpc7a are not offered in us-east-1), so lint the region the stacks target.
LINT_REGIONS = [TEST_REGION]

#: Every test app writes its cloud assembly below one directory, removed when the run ends.
_OUT_ROOT = tempfile.mkdtemp(prefix="hpc-cdk-tests-")
atexit.register(shutil.rmtree, _OUT_ROOT, True)


def make_app(**extra_context: Any) -> cdk.App:
    """An App with cdk.json's context (feature flags, pinned AZs) and asset bundling skipped."""
    context: dict[str, Any] = dict(CDK_JSON["context"])
    context["aws:cdk:bundling-stacks"] = []
    # The CLI adds path metadata; in-process apps need it too or cfn-lint treats templates
    # as hand-written (W3010 noise).
    context["aws:cdk:enable-path-metadata"] = True
    context.update(extra_context)
    outdir = tempfile.mkdtemp(prefix="app-", dir=_OUT_ROOT)
    return cdk.App(context=context, outdir=outdir)


@dataclass(frozen=True)
class NagFinding:
    rule: str
    path: str
    description: str

    def __str__(self) -> str:
        return f"{self.rule} at {self.path}: {self.description}"


@dataclass
class Synthesized:
    """The result of synthesizing an app once: templates plus cdk-nag findings."""

    app: cdk.App
    outdir: Path
    nag: list[NagFinding] = field(default_factory=list)
    _templates: dict[str, dict[str, Any]] = field(default_factory=dict)

    def template_dict(self, stack: cdk.Stack | str) -> dict[str, Any]:
        name = stack if isinstance(stack, str) else stack.artifact_id
        if name not in self._templates:
            self._templates[name] = json.loads((self.outdir / f"{name}.template.json").read_text())
        return self._templates[name]

    def template(self, stack: cdk.Stack | str) -> Template:
        return Template.from_json(self.template_dict(stack))

    def stack_names(self) -> list[str]:
        return sorted(p.name[: -len(".template.json")] for p in self.outdir.glob("*.template.json"))


def synthesize(app: cdk.App, *, nag: bool = True) -> Synthesized:
    """Synthesize ``app`` once, with cdk-nag's AwsSolutions pack and the library's HPC policy
    pack (``HpcChecks``) attached when ``nag``.

    cdk-nag 3 reports through CDK's policy-validation mechanism: any finding makes
    ``app.synth()`` raise after writing the templates and ``validation-report.json``. The
    findings are collected here so that tests can assert on them (``assert_nag_clean``).
    """
    if nag:
        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), HpcChecks(app))
    outdir = Path(app.outdir)
    try:
        app.synth()
    except RuntimeError as err:  # jsii surfaces the validation failure as RuntimeError
        if "ValidationFailed" not in str(err) and "Validation failed" not in str(err):
            raise
    return Synthesized(app=app, outdir=outdir, nag=_read_nag_report(outdir))


def _read_nag_report(outdir: Path) -> list[NagFinding]:
    report = outdir / "validation-report.json"
    if not report.exists():
        return []
    findings: list[NagFinding] = []
    for plugin in json.loads(report.read_text()).get("pluginReports", []):
        for violation in plugin.get("violations", []):
            for construct in violation.get("violatingConstructs", []):
                findings.append(
                    NagFinding(
                        rule=violation["ruleName"],
                        path=construct.get("constructPath", "?"),
                        description=violation.get("description", ""),
                    )
                )
    return findings


def assert_nag_clean(synth: Synthesized) -> None:
    """Fail listing every unacknowledged cdk-nag AwsSolutions finding."""
    if synth.nag:
        listing = "\n".join(f"  {f}" for f in synth.nag)
        raise AssertionError(f"{len(synth.nag)} cdk-nag AwsSolutions findings:\n{listing}")


#: cfn-lint findings by content hash (template, regions, cfn-lint version, rule pack): a warm
#: run re-lints only what changed; every template is still checked. In the user-level cache
#: (tests/pcluster_venv.user_cache), so a fresh clone on the same machine reuses them.
LINT_CACHE = user_cache("cfn-lint")


def cfn_lint(template: dict[str, Any], regions: list[str] | None = None) -> list[str]:
    """Run cfn-lint in-process with the library's HPC rule pack; returns the findings as text."""
    findings = lint_text(
        json.dumps(template, sort_keys=True), regions or LINT_REGIONS, cache=LINT_CACHE
    )
    return [f"{f.rule_id} {f.message} (at {'/'.join(f.path)})" for f in findings]


def assert_cfn_lint_clean(template: dict[str, Any], regions: list[str] | None = None) -> None:
    findings = cfn_lint(template, regions)
    if findings:
        listing = "\n".join(f"  {f}" for f in findings)
        raise AssertionError(f"{len(findings)} cfn-lint findings:\n{listing}")


def warnings_of(scope: IConstruct) -> list[str]:
    """All warning messages attached to ``scope`` and its children (no synth needed)."""
    messages: list[str] = []
    for child in scope.node.find_all():
        for entry in child.node.metadata:
            if entry.type == "aws:cdk:warning":
                messages.append(str(entry.data))
    return messages


def warning_ids(scope: IConstruct) -> set[str]:
    """The ``hpc-constructs:<id>`` warning ids attached to ``scope`` and its children."""
    ids: set[str] = set()
    for message in warnings_of(scope):
        ids.update(re.findall(r"\[ack: (hpc-constructs:[A-Za-z0-9]+)\]", message))
    return ids


_HASH = re.compile(r"[0-9a-f]{64}")


def mask_hashes(template: dict[str, Any]) -> dict[str, Any]:
    """Replace asset hashes so snapshots survive unrelated asset changes."""
    masked: dict[str, Any] = json.loads(_HASH.sub("HASH", json.dumps(template, sort_keys=True)))
    return masked
