"""The first hour: every shell command the README shows works as written, from a clean clone.

The ```sh blocks of the README's sources (docs/*.md, in README order) are run one by one in a
fresh `git clone` of HEAD, with `.venv` and `node_modules` linked from this checkout (so no
installs). `make test` is only dry-run (it runs this test). The clone must end without an
untracked `cdk.context.json`, including after a rejected region override.

The clone runs every command whenever the tree of HEAD, the tool pins, the Python or this file
change; a passing result for the same inputs is reused from the user-level cache
(`first-hour/` in tests/pcluster_venv.user_cache, shared by every checkout on the machine: a
content hash, never a skip). A failing result is never stored, so a failure always runs again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.harness import ROOT, user_cache

sys.path.insert(0, str(ROOT / "scripts"))
import build_readme

SH_BLOCK = re.compile(r"```sh\n(.*?)```", re.DOTALL)
#: Commands that cannot run inside the test suite, and what is checked instead.
DRY_RUN = {"make test": "make -n test"}


def readme_commands() -> list[str]:
    commands: list[str] = []
    for name in build_readme.SECTIONS:
        path = ROOT / "docs" / name
        if not path.exists():
            continue
        for block in SH_BLOCK.findall(path.read_text()):
            for line in block.splitlines():
                command = line.split("  #", 1)[0].strip()
                if command and not command.startswith("#"):
                    commands.append(command)
    return commands


@dataclass
class Ran:
    command: str
    returncode: int
    output: str
    seconds: float
    evidence: dict[str, object]


@dataclass
class Clone:
    ran: list[Ran]


def _env() -> dict[str, str]:
    """A fresh shell: no virtualenv or node_modules on PATH, no AWS configuration."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_", "VIRTUAL_"))}
    env["PATH"] = os.pathsep.join(
        p
        for p in env.get("PATH", "").split(os.pathsep)
        if ".venv" not in p and "node_modules" not in p
    )
    env["CDK_DISABLE_CLI_TELEMETRY"] = "true"
    env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent"
    return env


#: Results of a clone run by content hash: the tree the clone checks out (HEAD's, which holds
#: docs/ and so the commands), the tool pins and Python of the environment linked into it, this
#: file and the commands. Any change runs every command again.
CACHE = user_cache("first-hour")


def _head_tree() -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD^{tree}"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def _cache_key(tree: str, commands: list[str]) -> str:
    digest = hashlib.sha256(f"{tree}\0{sys.version}\0".encode())
    for pinned in ("constraints.txt", "package-lock.json", "tests/test_first_hour.py"):
        digest.update((ROOT / pinned).read_bytes())
    digest.update("\0".join(commands).encode())
    return digest.hexdigest()[:32]


def _run_in_clone(tree: str, commands: list[str]) -> Clone:
    base = Path(tempfile.mkdtemp(prefix="hpc-first-hour-"))
    path = base / "hpc-constructs"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(path)], check=True)
    cloned = subprocess.run(
        ["git", "rev-parse", "HEAD^{tree}"], cwd=path, capture_output=True, text=True, check=True
    ).stdout.strip()
    if cloned != tree:  # HEAD moved between keying and cloning: the key would name another tree
        shutil.rmtree(base, ignore_errors=True)
        raise RuntimeError(f"HEAD moved while cloning ({tree} -> {cloned}); run again")
    for shared in (".venv", "node_modules"):
        (path / shared).symlink_to(ROOT / shared)
    # `make` would reinstall when the stamps look older than pyproject.toml: keep them current.
    for stamp in (path / ".venv" / ".installed", path / "node_modules" / ".installed"):
        if stamp.exists():
            stamp.touch()
    ran: list[Ran] = []
    env = _env()
    try:
        for command in commands:
            start = time.monotonic()
            result = subprocess.run(
                ["bash", "-c", DRY_RUN.get(command, command)],
                cwd=path,
                env=env,
                capture_output=True,
                text=True,
                check=False,
                timeout=600,
            )
            ran.append(
                Ran(
                    command,
                    result.returncode,
                    result.stdout + result.stderr,
                    time.monotonic() - start,
                    _evidence(path),
                )
            )
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return Clone(ran)


def _evidence(path: Path) -> dict[str, object]:
    """What the tests inspect after a command: untracked files and the compute AZs used."""
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    template = path / "cdk.out" / "MpiCluster.template.json"
    azs: list[str] = []
    if template.exists():
        azs = [
            r["Properties"]["AvailabilityZone"]
            for r in json.loads(template.read_text())["Resources"].values()
            if r["Type"] == "AWS::EC2::Subnet" and "Compute" in json.dumps(r)
        ]
    return {
        "untracked": [line[3:] for line in status.splitlines() if line.startswith("??")],
        "context_file": (path / "cdk.context.json").exists(),
        "mpi_compute_azs": azs,
    }


@pytest.fixture(scope="module")
def clone() -> Clone:
    commands = [*readme_commands(), "npx cdk synth -c hpc-constructs:region=us-east-9"]
    tree = _head_tree()
    cached = CACHE / f"{_cache_key(tree, commands)}.json"
    if cached.exists():
        return Clone([Ran(**r) for r in json.loads(cached.read_text())])
    result = _run_in_clone(tree, commands)
    if all(r.returncode == 0 for r in result.ran[:-1]):  # the last one must fail
        _store(cached, json.dumps([dataclasses.asdict(r) for r in result.ran]))
    return result


def _store(path: Path, text: str) -> None:
    """Write whole or not at all: other workers and checkouts read the same directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(partial, path)


def test_readme_shows_the_commands_a_first_hour_needs() -> None:
    commands = readme_commands()
    assert "make synth" in commands
    assert any(c.startswith("npx cdk synth") and "us-west-2" in c for c in commands)


@pytest.mark.slow
def test_every_readme_command_works_as_written(clone: Clone) -> None:
    failed = [r for r in clone.ran[:-1] if r.returncode != 0]
    report = "\n\n".join(f"$ {r.command}\n{r.output[-2000:]}" for r in failed)
    assert not failed, report


@pytest.mark.slow
def test_synth_ends_with_the_summary(clone: Clone) -> None:
    for r in clone.ran:
        if "cdk synth" in r.command and r.returncode == 0:
            assert "cdk-nag AwsSolutions: clean" in r.output, r.command


@pytest.mark.slow
def test_a_bad_region_is_one_clear_error_and_leaves_no_context_file(clone: Clone) -> None:
    bad = clone.ran[-1]
    assert bad.returncode != 0
    assert "-c hpc-constructs:region: region='us-east-9' is not valid" in bad.output
    assert "Traceback" not in bad.output
    assert bad.evidence["context_file"] is False
    assert "cdk.context.json" not in bad.evidence["untracked"]  # type: ignore[operator]


@pytest.mark.slow
def test_the_second_region_recipe_uses_an_az_offering_every_type(clone: Clone) -> None:
    from hpc_constructs.catalog import InstanceCatalog

    (recipe,) = [r for r in clone.ran if "us-west-2" in r.command]
    assert recipe.returncode == 0, recipe.output[-2000:]
    subnets = recipe.evidence["mpi_compute_azs"]
    assert isinstance(subnets, list)
    assert subnets
    offering = InstanceCatalog.get("c6in.32xlarge").zones["us-west-2"]
    assert all(az in offering for az in subnets), subnets
