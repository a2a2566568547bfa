#!/usr/bin/env python3
"""Print a short summary of each synthesized stack in a cloud assembly (``make synth``)."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path


def summarize(outdir: Path) -> str:
    lines: list[str] = []
    report = outdir / "validation-report.json"
    nag = "not run"
    if report.exists():
        plugins = json.loads(report.read_text()).get("pluginReports", [])
        count = sum(
            len(v.get("violatingConstructs", [])) for p in plugins for v in p.get("violations", [])
        )
        nag = "clean (0 findings)" if count == 0 else f"{count} findings"
    for path in sorted(outdir.glob("*.template.json")):
        template = json.loads(path.read_text())
        resources = template.get("Resources", {})
        kinds = Counter(r["Type"] for r in resources.values())
        size = path.stat().st_size
        lines.append(
            f"{path.name[: -len('.template.json')]}: {len(resources)} resources, {size:,} bytes"
        )
        top = ", ".join(f"{k} x{n}" for k, n in kinds.most_common(6))
        lines.append(f"  {top}")
    lines.append(f"cdk-nag AwsSolutions: {nag}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(summarize(Path(sys.argv[1] if len(sys.argv) > 1 else "cdk.out")))
