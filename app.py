#!/usr/bin/env python3
"""CDK app: the sample HPC stacks, with cdk-nag's AwsSolutions pack checking every template.

Run it through the CDK CLI (``npx cdk synth``, ``make synth``) or directly
(``python3 app.py``, which reads cdk.json's context and writes ``cdk.out/``). Either way it
ends with a summary of each synthesized stack (on stderr under the CLI, so that
``cdk synth Stack > template.yaml`` stays a clean template); ``-c hpc-constructs:summary=false``
skips it. Bad ``-c`` overrides stop it with every problem listed, one per line.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"

# The jsii runtime behind aws-cdk-lib needs a supported Node.js: prefer the repository's own.
if (ROOT / "node_modules" / ".bin").is_dir():
    os.environ["PATH"] = f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}"
os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")

try:
    import aws_cdk as cdk
except ModuleNotFoundError:
    # cdk.json runs `python3 app.py`: outside the repository's virtualenv, use it when present.
    venv_python = VENV / "bin" / "python"
    if venv_python.exists() and Path(sys.prefix).resolve() != VENV.resolve():
        os.execv(str(venv_python), [str(venv_python), str(Path(__file__).resolve()), *sys.argv[1:]])
    print(
        f"app.py: aws-cdk-lib is not installed for {sys.executable}; run `make setup` first "
        "(it creates .venv), then `npx cdk synth` or `make synth`.",
        file=sys.stderr,
    )
    sys.exit(1)

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from cdk_nag import AwsSolutionsChecks  # noqa: E402

from hpc_constructs import HpcValidationError  # noqa: E402
from hpc_constructs.policy import HpcChecks  # noqa: E402
from stacks import add_sample_stacks  # noqa: E402

SUMMARY_KEY = "hpc-constructs:summary"


def run_by_cli() -> bool:
    """True when the CDK CLI (or another toolkit) runs the app: it passes the output directory."""
    return "CDK_OUTDIR" in os.environ


def direct_context() -> dict[str, Any]:
    """cdk.json's context plus cdk.context.json, as the CLI would pass them (with the metadata
    settings `make synth` uses: path metadata on, version reporting off)."""
    context: dict[str, Any] = {
        "aws:cdk:enable-path-metadata": True,
        "aws:cdk:enable-asset-metadata": True,
        "aws:cdk:version-reporting": False,
    }
    for name in ("cdk.json", "cdk.context.json"):
        path = ROOT / name
        if path.exists():
            data = json.loads(path.read_text())
            context.update(data.get("context", {}) if name == "cdk.json" else data)
    return context


def print_summary(outdir: Path, stream: Any) -> bool:
    sys.path.insert(0, str(ROOT / "scripts"))
    import summarize

    text, ok = summarize.summarize(outdir)
    print(text, file=stream, flush=True)
    return bool(ok)


def main() -> int:
    by_cli = run_by_cli()
    app = cdk.App() if by_cli else cdk.App(context=direct_context(), outdir=str(ROOT / "cdk.out"))
    try:
        add_sample_stacks(app)
    except HpcValidationError as err:  # bad -c overrides or construct props: say what and stop
        problems = "\n".join(f"  - {p}" for p in err.problems)
        print(f"Invalid configuration ({len(err.problems)} problems):\n{problems}", file=sys.stderr)
        return 1
    # cdk-nag 3.x plugs into CDK's policy validation: any finding fails synth with a report.
    # AwsSolutions, and the library's own HPC policy pack (HPC-* rules, docs/policy.md).
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), HpcChecks(app))
    failed = False
    try:
        app.synth()
    except RuntimeError as err:  # jsii surfaces the policy-validation failure as RuntimeError
        if "alidation failed" not in str(err):
            raise
        failed = True
    outdir = Path(app.outdir)
    ok = True
    if str(app.node.try_get_context(SUMMARY_KEY)).lower() not in ("false", "0", "no", "off"):
        ok = print_summary(outdir, sys.stderr if by_cli else sys.stdout)
    if failed:
        print(
            f"cdk-nag findings: see the validation report above ({outdir}/validation-report.json)",
            file=sys.stderr,
        )
    elif not by_cli:
        print(f"Synthesized to {outdir}", file=sys.stderr)
    return 1 if failed or not ok else 0


if __name__ == "__main__":
    sys.exit(main())
