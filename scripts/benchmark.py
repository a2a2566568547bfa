#!/usr/bin/env python3
"""Measure what users wait for: import, catalog lookups, synthesis and validation.

    make bench            # or: python scripts/benchmark.py [--rounds N]

Goals (on the 2-core reference machine; reported, never asserted in tests):
- ``from hpc_constructs import EfaComputeFleet`` under 3 s (most of it is aws-cdk-lib and the
  jsii runtime; ``import hpc_constructs`` alone loads nothing until a name is used);
- catalog: first lookup under 200 ms, warm lookups under 1 ms (1000 us);
- synthesizing all sample stacks with cdk-nag under 60 s;
- cfn-lint with the HPC rule pack under 5 s per sample template.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOALS = {
    "from hpc_constructs import EfaComputeFleet (s)": 3.0,
    "catalog first lookup (ms)": 200.0,
    "catalog warm lookup (us)": 1000.0,
    "synth all sample stacks with cdk-nag (s)": 60.0,
    "cfn-lint per template, max (s)": 5.0,
}


def _import_seconds() -> float:
    code = (
        "import time; t=time.perf_counter(); from hpc_constructs import EfaComputeFleet; "
        "print(time.perf_counter()-t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def _catalog_ms() -> tuple[float, float]:
    code = (
        "import time\n"
        "from hpc_constructs.catalog import InstanceCatalog\n"
        "t=time.perf_counter(); InstanceCatalog.get('p5.48xlarge'); first=time.perf_counter()-t\n"
        "t=time.perf_counter()\n"
        "for _ in range(1000): InstanceCatalog.get('hpc7a.96xlarge')\n"
        "print(first*1000, (time.perf_counter()-t)*1000)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    first, warm = out.stdout.strip().splitlines()[-1].split()
    return float(first), float(warm)


def _synth_seconds() -> tuple[float, Path]:
    import aws_cdk as cdk
    from cdk_nag import AwsSolutionsChecks

    from stacks import add_sample_stacks

    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    context["aws:cdk:enable-path-metadata"] = True
    outdir = Path(tempfile.mkdtemp(prefix="hpc-bench-"))
    start = time.perf_counter()
    app = cdk.App(context=context, outdir=str(outdir))
    add_sample_stacks(app)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    app.synth()
    return time.perf_counter() - start, outdir


def _lint_seconds(outdir: Path) -> dict[str, float]:
    import summarize

    times: dict[str, float] = {}
    for path in sorted(outdir.glob("*.template.json")):
        start = time.perf_counter()
        summarize._lint(path, "us-east-2")
        times[path.name] = time.perf_counter() - start
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="repeat the import measurement")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "scripts"))

    imports = [_import_seconds() for _ in range(args.rounds)]
    first_ms, warm_ms = _catalog_ms()
    synth_s, outdir = _synth_seconds()
    lint = _lint_seconds(outdir)
    results = {
        "from hpc_constructs import EfaComputeFleet (s)": statistics.median(imports),
        "catalog first lookup (ms)": first_ms,
        "catalog warm lookup (us)": warm_ms,
        "synth all sample stacks with cdk-nag (s)": synth_s,
        "cfn-lint per template, max (s)": max(lint.values(), default=0.0),
    }
    width = max(len(k) for k in results)
    worst = 0
    for name, value in results.items():
        goal = GOALS[name]
        verdict = "ok" if value <= goal else "OVER GOAL"
        worst = worst or (value > goal)
        print(f"{name:<{width}}  {value:8.3f}   goal <= {goal:g}   {verdict}")
    for template, seconds in lint.items():
        print(f"  cfn-lint {template}: {seconds:.2f} s")
    return 1 if worst else 0


if __name__ == "__main__":
    sys.exit(main())
