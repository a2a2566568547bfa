#!/usr/bin/env python3
"""Measure what users wait for: import, catalog lookups, synthesis and validation.

    make bench            # or: python scripts/benchmark.py [--rounds N]
    python scripts/benchmark.py --fresh-clone [--cold]   # minutes: clone HEAD, synth + test

Goals (on the 2-core reference machine; reported, never asserted in tests):
- ``from hpc_constructs import EfaComputeFleet`` under 3 s (most of it is aws-cdk-lib and the
  jsii runtime; ``import hpc_constructs`` alone loads nothing until a name is used);
- catalog: first lookup under 200 ms, warm lookups under 1 ms (1000 us);
- synthesizing all sample stacks with cdk-nag under 60 s;
- cfn-lint with the HPC rule pack under 5 s per sample template;
- with ``--fresh-clone`` only: the README's two commands (``make synth``, ``make test``) in a
  fresh ``git clone`` of HEAD together under 240 s, reusing this machine's user-level cache
  (CONTRIBUTING.md, "Caches"); ``--cold`` points the cache at an empty directory instead
  (reported, no goal: that is a machine's first run).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
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
    "fresh clone: make synth + make test (s)": 240.0,
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


def _fresh_clone(cold: bool) -> dict[str, float]:
    """``git clone`` HEAD into a temporary directory and time the README's two commands there."""
    base = Path(tempfile.mkdtemp(prefix="hpc-bench-clone-"))
    # A fresh shell: not this checkout's virtualenv or node_modules, not `make bench`'s make.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"VIRTUAL_ENV", "PYTHONPATH", "MAKEFLAGS", "MFLAGS", "MAKELEVEL"}
    }
    env["PATH"] = os.pathsep.join(
        p
        for p in env.get("PATH", "").split(os.pathsep)
        if ".venv" not in p and "node_modules" not in p
    )
    if cold:
        env["HPC_CONSTRUCTS_CACHE_DIR"] = str(base / "cache")
    times: dict[str, float] = {}
    try:
        clone = base / "hpc-constructs"
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
        for target in ("synth", "test"):
            start = time.perf_counter()
            subprocess.run(
                ["make", target], cwd=clone, env=env, check=True, stdout=subprocess.DEVNULL
            )
            times[f"make {target}"] = time.perf_counter() - start
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="repeat the import measurement")
    parser.add_argument(
        "--fresh-clone",
        action="store_true",
        help="time only `make synth` + `make test` in a fresh clone of HEAD (minutes)",
    )
    parser.add_argument(
        "--cold", action="store_true", help="with --fresh-clone: start from an empty cache"
    )
    args = parser.parse_args()
    if args.fresh_clone:
        steps = _fresh_clone(args.cold)
        total = sum(steps.values())
        for step, seconds in steps.items():
            print(f"  {step}: {seconds:.0f} s")
        name = "fresh clone: make synth + make test (s)"
        if args.cold:
            print(f"{name}  {total:8.0f}   (empty cache: a machine's first run; no goal)")
            return 0
        print(f"{name}  {total:8.0f}   goal <= {GOALS[name]:g}")
        return 1 if total > GOALS[name] else 0
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
