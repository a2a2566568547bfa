"""The package a company publishes, built and used as a consumer would.

``python -m build`` makes the wheel and the sdist outside the checkout (and leaves nothing in
it), ``twine check --strict`` passes, and both carry the package data and the LICENSE and
nothing of the repository's tests. Then the wheel (with its ``[validators]`` extra) goes into a
fresh virtualenv in a temporary directory outside the repository, never an editable install,
and the consumer app of README.md's "Use it in your own app" section, its ``cdk.json`` and
``app.py`` blocks read from README.md at test time, is synthesized there by the commands the
section shows (the CDK CLI, then ``hpc-lint``). The README is what is tested.

Both steps are cached by content in the user-level cache (``package/`` in
tests/pcluster_venv.user_cache, CONTRIBUTING.md "Caches"), never skipped: the build under the
package's inputs (the package, the build configuration, the whole README and CHANGELOG, which
are the long description and the sdist, and the tool versions), the consumer run under the
package's inputs, the README section and the CLI pins (not the rest of the README, which the
app never sees). Only a run whose commands all succeeded is stored; a failure runs again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.pcluster_venv import user_cache

ROOT = Path(__file__).resolve().parent.parent
CACHE = user_cache("package")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
VERSION: str = PYPROJECT["project"]["version"]
#: The heading the docs keep stable, whatever the README's layout.
SECTION = "## Use it in your own app"
TITLED_BLOCK = re.compile(r'^```(\w+) title="([^"]+)"\n(.*?)^```', re.DOTALL | re.MULTILINE)
TEXT_BLOCK = re.compile(r"^ *```text\n(.*?)^ *```", re.DOTALL | re.MULTILINE)
#: What setuptools or a build would leave in a checkout.
BUILD_OUTPUT = re.compile(r"(^|/)(build|dist|\.eggs)/|\.egg-info/?$|\.whl$|\.tar\.gz$")


def readme_section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.find(f"\n{SECTION}\n")
    if start < 0:
        return ""
    end = text.find("\n## ", start + len(SECTION) + 2)
    return text[start + 1 : end if end >= 0 else len(text)]


def consumer_files(section: str) -> dict[str, str]:
    """The section's titled code blocks (```json title="cdk.json"```): file name -> text."""
    return {title: body for _, title, body in TITLED_BLOCK.findall(section)}


def consumer_commands(section: str) -> tuple[list[str], list[str]]:
    """The section's ```text lines: (install lines, every other command). The test runs the
    install itself with the wheel it built; the others run as written."""
    lines = [
        line.split("  #", 1)[0].strip()
        for block in TEXT_BLOCK.findall(section)
        for line in block.splitlines()
    ]
    install = [line for line in lines if "pip install" in line or " -m venv " in line]
    return install, [line for line in lines if line and line not in install]


def changelog_version(text: str) -> str | None:
    """The version the top release heading of CHANGELOG.md names (``## Unreleased (0.2.0)``
    or ``## 0.2.0 ...``)."""
    for line in text.splitlines():
        if line.startswith("## "):
            match = re.match(r"## (?:Unreleased \(([^)\s]+)\)|v?(\d[^\s(]*))", line)
            return (match.group(1) or match.group(2)) if match else None
    return None


# --- content keys ------------------------------------------------------------------------------


def _package_files() -> list[Path]:
    files = [
        p
        for folder in ("hpc_constructs", "build_support")
        for p in sorted((ROOT / folder).rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    ]
    return files + [ROOT / n for n in ("pyproject.toml", "constraints.txt", "MANIFEST.in")]


def _digest(files: list[Path], *extra: str) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(f"{path.relative_to(ROOT)}\0".encode())
        digest.update(path.read_bytes() if path.exists() else b"<missing>")
    tools = [sys.version] + [f"{d}=={importlib.metadata.version(d)}" for d in ("build", "twine")]
    digest.update("\0".join([*tools, *extra]).encode())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:32]


def build_key() -> str:
    long_description = [ROOT / n for n in ("README.md", "CHANGELOG.md", "LICENSE")]
    return _digest(_package_files() + long_description)


def consumer_key() -> str:
    return _digest(
        [*_package_files(), ROOT / "LICENSE", ROOT / "package-lock.json"], readme_section()
    )


# --- the build ---------------------------------------------------------------------------------


@dataclass
class Built:
    returncode: int
    output: str
    seconds: float
    wheel: str
    sdist: str
    wheel_files: list[str]
    sdist_files: list[str]
    metadata: str
    twine: int
    twine_output: str
    left_in_checkout: list[str]


def _status() -> set[str]:
    return set(
        subprocess.run(
            ["git", "status", "--porcelain", "--ignored", "--untracked-files=all"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
    )


def _pip_env() -> dict[str, str]:
    """The machine's pip configuration, with the setuptools of constraints.txt in isolated
    builds (PIP_CONSTRAINT reaches the build environment; `-c` does not)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_", "PYTHON"))}
    env["PIP_CONSTRAINT"] = str(ROOT / "constraints.txt")
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _build(out: Path) -> Built:
    before = _status()
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        cwd=out,
        env=_pip_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    seconds = time.monotonic() - start
    left = sorted(line[3:] for line in _status() - before if BUILD_OUTPUT.search(line[3:]))
    wheels, sdists = sorted(out.glob("*.whl")), sorted(out.glob("*.tar.gz"))
    if result.returncode or len(wheels) != 1 or len(sdists) != 1:
        return Built(
            result.returncode or 1,
            result.stdout + result.stderr,
            seconds,
            "",
            "",
            [],
            [],
            "",
            1,
            "",
            left,
        )
    twine = subprocess.run(
        [
            str(Path(sys.executable).parent / "twine"),
            "check",
            "--strict",
            str(wheels[0]),
            str(sdists[0]),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    with zipfile.ZipFile(wheels[0]) as whl:
        wheel_files = sorted(whl.namelist())
        metadata = whl.read(f"hpc_constructs-{VERSION}.dist-info/METADATA").decode()
    with tarfile.open(sdists[0]) as sdist:
        sdist_files = sorted(m.name.split("/", 1)[1] for m in sdist.getmembers() if m.isfile())
    return Built(
        0,
        result.stdout[-4000:] + result.stderr[-4000:],
        seconds,
        wheels[0].name,
        sdists[0].name,
        wheel_files,
        sdist_files,
        metadata,
        twine.returncode,
        twine.stdout + twine.stderr,
        left,
    )


@pytest.fixture(scope="module")
def built() -> Iterator[tuple[Built, Path]]:
    """The build result and the directory holding its wheel (both cached by content)."""
    entry = CACHE / f"build-{build_key()}"
    if (entry / "result.json").exists():
        yield Built(**json.loads((entry / "result.json").read_text())), entry
        return
    out = Path(tempfile.mkdtemp(prefix="hpc-package-build-"))
    try:
        yield _built_into(out, entry), out
    finally:
        shutil.rmtree(out, ignore_errors=True)


def _built_into(out: Path, entry: Path) -> Built:
    result = _build(out)
    if result.returncode == 0 and result.twine == 0 and not result.left_in_checkout:
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(dir=CACHE, prefix=".build-"))
        shutil.copy2(out / result.wheel, partial / result.wheel)
        (partial / "result.json").write_text(json.dumps(dataclasses.asdict(result)))
        try:
            os.replace(partial, entry)  # whole or not at all: other workers read the same entry
        except OSError:  # another checkout stored the same entry first
            shutil.rmtree(partial, ignore_errors=True)
    return result


def test_the_build_makes_one_wheel_and_one_sdist_and_leaves_the_checkout_as_it_was(
    built: tuple[Built, Path],
) -> None:
    result, _ = built
    assert result.returncode == 0, result.output
    assert result.wheel == f"hpc_constructs-{VERSION}-py3-none-any.whl"
    assert result.sdist == f"hpc_constructs-{VERSION}.tar.gz"
    assert not result.left_in_checkout, f"the build left {result.left_in_checkout} in the checkout"


def test_twine_check_is_clean(built: tuple[Built, Path]) -> None:
    result, _ = built
    assert result.twine == 0, result.twine_output
    assert "PASSED" in result.twine_output
    assert "WARNING" not in result.twine_output


def _package_sources() -> list[str]:
    tracked = subprocess.run(
        ["git", "ls-files", "hpc_constructs"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return [p for p in tracked if (ROOT / p).exists()]


def test_the_wheel_holds_the_package_its_data_and_the_license_and_nothing_else(
    built: tuple[Built, Path],
) -> None:
    result, _ = built
    files = set(result.wheel_files)
    missing = [p for p in _package_sources() if p not in files]
    assert not missing, f"not in the wheel: {missing}"
    for data in ("py.typed", "catalog/instance_types.json.gz", "cfn_lint_rules/HpcRules.py"):
        assert f"hpc_constructs/{data}" in files
    info = f"hpc_constructs-{VERSION}.dist-info"
    assert f"{info}/licenses/LICENSE" in files
    assert {f.split("/", 1)[0] for f in files} == {"hpc_constructs", info}
    assert not [f for f in files if "__pycache__" in f or f.endswith(".pyc")]


def test_the_sdist_holds_what_builds_the_wheel_and_not_the_repository(
    built: tuple[Built, Path],
) -> None:
    result, _ = built
    files = set(result.sdist_files)
    missing = [p for p in _package_sources() if p not in files]
    assert not missing, f"not in the sdist: {missing}"
    for name in ("LICENSE", "README.md", "CHANGELOG.md", "pyproject.toml", "PKG-INFO"):
        assert name in files
    assert "build_support/hpc_build_backend.py" in files  # pyproject's backend-path
    outside = {f.split("/", 1)[0] for f in files} - {"hpc_constructs", "build_support"}
    assert outside == {
        "LICENSE",
        "README.md",
        "CHANGELOG.md",
        "pyproject.toml",
        "PKG-INFO",
        "MANIFEST.in",
        "setup.cfg",
    }
    assert not [f for f in files if "__pycache__" in f or f.endswith(".pyc")]


def test_the_metadata_has_the_license_the_extras_and_the_readme(
    built: tuple[Built, Path],
) -> None:
    metadata = built[0].metadata
    assert f"\nVersion: {VERSION}\n" in metadata
    assert "\nLicense-Expression: Apache-2.0\n" in metadata
    assert "\nLicense-File: LICENSE\n" in metadata
    assert "\nProvides-Extra: validators\n" in metadata
    for requirement in ("cfn-lint", "cdk-nag"):
        assert re.search(rf"\nRequires-Dist: {requirement}\b.*extra == \"validators\"", metadata)
    assert "\nDescription-Content-Type: text/markdown\n" in metadata
    assert SECTION in metadata  # the README is the long description


def test_the_changelog_top_heading_names_the_pyproject_version() -> None:
    named = changelog_version((ROOT / "CHANGELOG.md").read_text())
    assert named == VERSION, f"CHANGELOG.md's top heading names {named}, pyproject says {VERSION}"


def test_fails_when_the_changelog_top_heading_names_another_version_or_none() -> None:
    assert changelog_version("# Changelog\n\n## 0.3.0 (2030-01-01)\n\n## 0.2.0\n") == "0.3.0"
    assert changelog_version("# Changelog\n\n## Unreleased (0.3.0)\n## 0.2.0\n") == "0.3.0"
    assert changelog_version("# Changelog\n\n## Unreleased\n\n## 0.2.0\n") is None


def test_fails_when_a_build_leaves_output_in_the_checkout() -> None:
    left = ["build/", "dist/hpc_constructs-0.2.0.tar.gz", "hpc_constructs.egg-info/", "x.whl"]
    assert all(BUILD_OUTPUT.search(path) for path in left)
    assert not [
        p for p in ("docs/build.md", "scripts/build_readme.py", ".cache/") if BUILD_OUTPUT.search(p)
    ]


def test_the_version_has_one_source() -> None:
    import hpc_constructs

    assert hpc_constructs.__version__ == VERSION == importlib.metadata.version("hpc-constructs")
    assert VERSION not in (ROOT / "hpc_constructs" / "__init__.py").read_text()


def test_the_dev_extra_brings_the_validators_and_the_packaging_tools() -> None:
    extras = PYPROJECT["project"]["optional-dependencies"]
    names = {re.split(r"[<>=\[ ]", r)[0] for r in extras["validators"]}
    assert names == {"cfn-lint", "cdk-nag"}
    assert "hpc-constructs[validators]" in extras["dev"]
    assert {"build", "twine"} <= {re.split(r"[<>= ]", r)[0] for r in extras["dev"]}


# --- the consumer ------------------------------------------------------------------------------


def test_the_readme_section_states_what_a_consumer_needs() -> None:
    section = readme_section()
    assert section, f"README.md has no '{SECTION}' section (docs/_deploy.md)"
    assert set(consumer_files(section)) == {"cdk.json", "app.py"}
    install, commands = consumer_commands(section)
    assert any('"hpc-constructs[validators]"' in line for line in install)
    assert any("cdk synth" in c for c in commands)
    assert any(c.startswith(".venv/bin/hpc-lint ") for c in commands)
    context = json.loads(consumer_files(section)["cdk.json"])["context"]
    assert any(k.startswith("availability-zones:account=") for k in context)
    for needed in (
        "Python 3.11",
        "Node.js 22",
        "env=cdk.Environment",
        "Feature flags",
        "AwsSolutionsChecks",
    ):
        assert needed in section, needed


@dataclass
class Ran:
    command: str
    returncode: int
    output: str
    seconds: float


@dataclass
class Consumed:
    ran: list[Ran]
    imported_from: str
    version: str
    editable: list[str]
    resource_types: dict[str, list[str]]
    context_file: bool


PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check"]


def _consumer_env(venv: Path) -> dict[str, str]:
    """A fresh shell: none of this repository's virtualenv or node_modules on PATH, no AWS
    configuration, nothing on PYTHONPATH."""
    env = {
        k: v
        for k, v in _pip_env().items()
        if not k.startswith(("AWS_", "CDK_", "JSII_", "PYTEST", "PIP_CONSTRAINT"))
    }
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if str(ROOT) not in p
    )
    env["CDK_DISABLE_CLI_TELEMETRY"] = "true"
    env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent"
    return env


def _run(command: list[str] | str, cwd: Path, env: dict[str, str]) -> Ran:
    start = time.monotonic()
    shell = isinstance(command, str)
    result = subprocess.run(
        ["bash", "-c", command] if shell else command,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    text = command if shell else " ".join(command)
    return Ran(
        text, result.returncode, (result.stdout + result.stderr)[-6000:], time.monotonic() - start
    )


def _consume(wheel: Path) -> Consumed:
    section = readme_section()
    base = Path(tempfile.mkdtemp(prefix="hpc-consumer-"))
    app = base / "my-hpc-app"
    app.mkdir()
    try:
        for name, text in consumer_files(section).items():
            (app / name).write_text(text)
        (app / "node_modules").symlink_to(ROOT / "node_modules")  # npm install aws-cdk node@22
        env = _consumer_env(app / ".venv")
        python = str(app / ".venv" / "bin" / "python")
        ran = [
            # A venv without pip (ensurepip costs seconds); this checkout's pip installs into it.
            _run([sys.executable, "-m", "venv", "--without-pip", str(app / ".venv")], app, env),
            # The README's `pip install "...whl[validators]"`, with the wheel just built and the
            # dependencies at the versions the tests use (from the machine's pip index and cache).
            _run(
                [
                    *PIP,
                    "--python",
                    python,
                    "install",
                    "--quiet",
                    "--no-compile",
                    "-c",
                    str(ROOT / "constraints.txt"),
                    f"{wheel}[validators]",
                ],
                app,
                env,
            ),
        ]
        probe = "import hpc_constructs as h; print(h.__file__); print(h.__version__)"
        where = _run([python, "-c", probe], app, env)
        ran.append(where)
        listed = _run([*PIP, "--python", python, "list", "--editable", "--format=json"], app, env)
        ran.append(listed)
        for command in consumer_commands(section)[1]:
            ran.append(_run(command, app, env))
        types: dict[str, list[str]] = {}
        for template in sorted((app / "cdk.out").glob("*.template.json")):
            resources = json.loads(template.read_text()).get("Resources", {})
            types[template.name] = sorted({r["Type"] for r in resources.values()})
        lines = where.output.splitlines()
        return Consumed(
            ran,
            lines[0] if lines else "",
            lines[1] if len(lines) > 1 else "",
            [p["name"] for p in json.loads(listed.output or "[]")]
            if listed.returncode == 0
            else ["?"],
            types,
            (app / "cdk.context.json").exists(),
        )
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def consumed(built: tuple[Built, Path]) -> Consumed:
    entry = CACHE / f"consumer-{consumer_key()}.json"
    if entry.exists():
        data = json.loads(entry.read_text())
        return Consumed(**{**data, "ran": [Ran(**r) for r in data["ran"]]})
    result, folder = built
    assert result.returncode == 0, result.output
    outcome = _consume(folder / result.wheel)
    complete = any("cdk synth" in r.command for r in outcome.ran) and outcome.resource_types
    if complete and all(r.returncode == 0 for r in outcome.ran):
        fd, partial = tempfile.mkstemp(dir=CACHE, prefix=f".{entry.name}.")
        with os.fdopen(fd, "w") as handle:
            handle.write(json.dumps(dataclasses.asdict(outcome)))
        os.replace(partial, entry)
    return outcome


@pytest.mark.slow
def test_the_readme_app_synthesizes_against_the_wheel_in_a_fresh_virtualenv(
    consumed: Consumed,
) -> None:
    failed = [r for r in consumed.ran if r.returncode != 0]
    assert not failed, "\n\n".join(f"$ {r.command}\n{r.output[-3000:]}" for r in failed)
    assert "/my-hpc-app/.venv/" in consumed.imported_from, consumed.imported_from
    assert not consumed.imported_from.startswith(str(ROOT))
    assert consumed.version == VERSION
    assert consumed.editable == [], "the consumer venv must hold the wheel, not an editable install"
    assert not consumed.context_file, "the README's cdk.json must keep synth offline"


@pytest.mark.slow
def test_the_readme_app_template_has_the_fabric_and_the_fleet(consumed: Consumed) -> None:
    assert list(consumed.resource_types) == ["MyHpc.template.json"]
    types = set(consumed.resource_types["MyHpc.template.json"])
    expected = {
        "AWS::EC2::VPC",
        "AWS::EC2::Subnet",
        "AWS::EC2::FlowLog",
        "AWS::EC2::PlacementGroup",
        "AWS::EC2::LaunchTemplate",
        "AWS::AutoScaling::AutoScalingGroup",
    }
    assert expected <= types, expected - types


@pytest.mark.slow
def test_the_readme_lint_command_passes_with_the_wheels_hpc_lint(consumed: Consumed) -> None:
    (lint,) = [r for r in consumed.ran if "hpc-lint" in r.command]
    assert lint.returncode == 0, lint.output
