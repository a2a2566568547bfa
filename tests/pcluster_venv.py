"""The ParallelCluster schema virtualenv, and where the test suite keeps its caches.

aws-parallelcluster pins CDK v1, so its schema check gets its own virtual environment. It is
built once per machine, not per checkout: it lives in the user-level cache (:func:`user_cache`)
under a key made of everything that decides its content (the pins file, the ParallelCluster
version, the Python that runs it), so a fresh clone reuses it and a changed pin builds a new one.

    python tests/pcluster_venv.py     # what `make test` runs (next to the lint, in parallel)

The tests call :func:`ensure` too, so `pytest` alone still works on a fresh machine. This module
is standard library only: `make test` runs it before pytest, and tests/harness.py takes
:func:`user_cache` from here.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONSTRAINTS = Path(__file__).with_name("pcluster-constraints.txt")
#: The ParallelCluster release whose schema the configurations are checked against; keep it
#: equal to hpc_constructs.slurm.DEFAULT_PARALLELCLUSTER_VERSION (a test checks).
VERSION = "3.16.1"


def user_cache(name: str) -> Path:
    """``$HPC_CONSTRUCTS_CACHE_DIR/<name>``, by default ``${XDG_CACHE_HOME:-~/.cache}/hpc-
    constructs/<name>``: shared by every checkout on the machine (the Makefile exports the same
    variable). Everything stored below it is keyed by the content that decides it, so an entry
    is either right for the inputs at hand or never looked at; see CONTRIBUTING.md, "Caches".
    """
    root = os.environ.get("HPC_CONSTRUCTS_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "hpc-constructs"
    )
    return Path(root).expanduser().absolute() / name


def _key() -> str:
    """The pins, the ParallelCluster version and the interpreter the venv is built from (a venv
    links to its base Python, so a different or moved Python gets its own)."""
    digest = hashlib.sha256(CONSTRAINTS.read_bytes())
    for part in (VERSION, sys.version, os.path.realpath(sys.base_prefix), platform.machine()):
        digest.update(b"\0" + part.encode())
    return f"{VERSION}-py{platform.python_version()}-{digest.hexdigest()[:16]}"


def venv_path() -> Path:
    return user_cache("pcluster-venv") / _key()


def ensure() -> Path:
    """The venv's python, building the venv when its completion marker is missing.

    The marker is written last, so a venv whose build was interrupted is rebuilt. Builders hold
    an exclusive lock, so pytest-xdist workers and other checkouts wait for one build instead of
    writing into the same directory; readers only look for the marker.
    """
    venv = venv_path()
    python, marker = venv / "bin" / "python", venv / ".complete"
    if marker.exists():
        return python
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f"{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists():  # another process may have finished it while we waited
            _build(venv, python)
            marker.write_text(f"aws-parallelcluster=={VERSION} -c {CONSTRAINTS.name}\n")
    return python


def _build(venv: Path, python: Path) -> None:
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    pip = [str(python), "-m", "pip", "install", "-q", "--no-compile", "-c", str(CONSTRAINTS)]
    install = subprocess.run(
        [*pip, f"aws-parallelcluster=={VERSION}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if install.returncode != 0:
        raise RuntimeError(f"installing aws-parallelcluster failed:\n{install.stderr[-3000:]}")
    # Byte-compiled on every core after the install instead of one file at a time inside pip:
    # the same .pyc files pip would write (most of an install's time is compiling). Like pip,
    # a file that does not compile is left to the interpreter, not an error.
    subprocess.run(
        [str(python), "-m", "compileall", "-q", "-j", "0", _site_packages(python)],
        capture_output=True,
        check=False,
    )
    print(f"built {venv} in {time.monotonic() - started:.0f} s", file=sys.stderr)


def _site_packages(python: Path) -> str:
    return subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


if __name__ == "__main__":
    print(ensure())
