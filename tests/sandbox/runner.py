"""Scenario runner shared by the sandbox test modules (boot scripts, image components): the
selected ``(scenario, plan)`` cases run on a thread pool, each test waits for its own, and a
passed case is remembered in pytest's cache under its content key."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

Case = tuple[str, str]


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

    def result(self, scenario: str, plan: str) -> None:
        self.futures[(scenario, plan)].result()
        if self.cache is not None:
            self.cache.set(self.keys[(scenario, plan)], True)

    def shutdown(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
