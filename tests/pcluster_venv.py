"""Create ``.venv-pcluster``: aws-parallelcluster pins CDK v1, so its schema check gets its own
virtual environment, built once per checkout and again only when its pins change.

    python tests/pcluster_venv.py     # what `make test` runs (next to the lint, in parallel)

The tests call :func:`ensure` too, so `pytest` alone still works on a fresh checkout.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv-pcluster"
CONSTRAINTS = Path(__file__).with_name("pcluster-constraints.txt")
#: The ParallelCluster release whose schema the configurations are checked against; keep it
#: equal to hpc_constructs.slurm.DEFAULT_PARALLELCLUSTER_VERSION (a test checks).
VERSION = "3.16.1"


def ensure() -> Path:
    """The venv's python, creating the venv when its marker (version + pins hash) is missing."""
    python = VENV / "bin" / "python"
    pins = hashlib.sha256(CONSTRAINTS.read_bytes()).hexdigest()[:12]
    marker = VENV / f".aws-parallelcluster-{VERSION}-{pins}"
    if marker.exists():
        return python
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
    install = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "-c",
            str(CONSTRAINTS),
            f"aws-parallelcluster=={VERSION}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if install.returncode != 0:
        raise RuntimeError(f"installing aws-parallelcluster failed:\n{install.stderr[-3000:]}")
    marker.write_text(f"created in {time.monotonic() - started:.0f} s\n")
    return python


if __name__ == "__main__":
    print(ensure())
