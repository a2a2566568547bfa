"""Scenario runner shared by the sandbox test modules (boot scripts, image components): the
selected ``(scenario, plan)`` cases run on a thread pool, each test waits for its own, and a
passed case is remembered in pytest's cache under its content key."""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.sandbox.harness import namespaces_unavailable

Case = tuple[str, str]
#: A scenario table: name -> (the scenario, the plans it runs on).
Scenarios = Mapping[str, tuple[Callable[[str, Path], None], tuple[str, ...]]]
ROOT = Path(__file__).resolve().parents[2]

#: The sandbox needs unprivileged user namespaces (``unshare --user``).
needs_namespaces = pytest.mark.skipif(
    namespaces_unavailable() is not None, reason=namespaces_unavailable() or ""
)


def sources_digest(module: str, generator: str) -> str:
    """A digest of the test ``module``, the harness and its shims, and the package directory
    ``generator`` whose modules write the scripts under test: part of every cache key."""
    digest = hashlib.sha256()
    files = [Path(module), *sorted((ROOT / "tests/sandbox").rglob("*"))]
    files += sorted((ROOT / generator).glob("*.py"))
    for path in files:
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def selected_cases(request: pytest.FixtureRequest) -> list[Case]:
    """The ``(scenario, plan)`` parameters of the requesting module's selected tests."""
    return [
        (item.callspec.params["scenario"], item.callspec.params["plan"])
        for item in request.session.items
        if getattr(item, "module", None) is request.module
        and hasattr(item, "callspec")
        and "scenario" in item.callspec.params
    ]


class ScenarioRunner:
    """Runs ``scenarios[name](plan, workdir)`` for each case; ``result`` waits for one and
    re-raises what it raised. ``key(scenario, plan)`` is called for every case on the main
    thread before any scenario starts (plan builders may reach the jsii runtime, which is not
    thread-safe); a case whose key is in ``cache`` is not run (HPC_SANDBOX_NO_CACHE=1 runs all)."""

    def __init__(
        self,
        scenarios: Mapping[str, Callable[[str, Path], None]],
        cases: list[Case],
        factory: pytest.TempPathFactory,
        cache: pytest.Cache | None,
        key: Callable[[str, str], str],
        prefix: str = "",
    ) -> None:
        self.pool = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2))
        self.futures: dict[Case, Future[None]] = {}
        self.cache = None if os.environ.get("HPC_SANDBOX_NO_CACHE") else cache
        self.keys: dict[Case, str] = {case: key(*case) for case in cases}
        for scenario, plan in cases:
            if self.cache is not None and self.cache.get(self.keys[(scenario, plan)], False):
                done: Future[None] = Future()
                done.set_result(None)
                self.futures[(scenario, plan)] = done
                continue
            workdir = factory.mktemp(f"{prefix}{scenario}-{plan}")
            self.futures[(scenario, plan)] = self.pool.submit(scenarios[scenario], plan, workdir)

    @classmethod
    def for_module(
        cls,
        request: pytest.FixtureRequest,
        factory: pytest.TempPathFactory,
        scenarios: Scenarios,
        key: Callable[[str, str, str], str],
        generator: str,
        prefix: str = "",
    ) -> ScenarioRunner:
        """The runner of the requesting module's selected cases; ``key(scenario, plan,
        sources)`` gets :func:`sources_digest` of the module and ``generator``."""
        sources = sources_digest(str(request.module.__file__), generator)
        return cls(
            {name: run for name, (run, _) in scenarios.items()},
            selected_cases(request),
            factory,
            getattr(request.config, "cache", None),  # None under -p no:cacheprovider
            key=lambda scenario, plan: key(scenario, plan, sources),
            prefix=prefix,
        )

    def result(self, scenario: str, plan: str) -> None:
        self.futures[(scenario, plan)].result()
        if self.cache is not None:
            self.cache.set(self.keys[(scenario, plan)], True)

    def shutdown(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def assert_shellcheck_clean(
    texts: Mapping[str, str], workdir: Path, cache: pytest.Cache | None
) -> None:
    """No shellcheck finding at warning level in the scripts ``texts`` (file name -> text); a
    set of texts that passed is remembered in pytest's cache by its content."""
    args = [str(ROOT / ".venv/bin/shellcheck"), "-s", "bash", "-S", "warning"]
    digest = hashlib.sha256("\0".join([*args, *texts.values()]).encode()).hexdigest()
    key = f"hpc-constructs/shellcheck/{digest}"
    cache = None if os.environ.get("HPC_SANDBOX_NO_CACHE") else cache
    if cache is not None and cache.get(key, False):
        return
    for file_name, text in texts.items():
        (workdir / file_name).write_text(text)
    proc = subprocess.run(
        [*args, *(str(workdir / n) for n in texts)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    if cache is not None:
        cache.set(key, True)
