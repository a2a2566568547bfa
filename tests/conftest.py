"""Shared pytest fixtures; the reusable helpers live in ``tests/harness.py``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

# A deprecated aws-cdk-lib API called by the library or an example fails the test that called
# it: the jsii runtime reads this when it starts, before any test imports aws_cdk.
os.environ["JSII_DEPRECATED"] = "fail"

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `stacks/` and `app.py` live at the repository root
    sys.path.insert(0, str(ROOT))


@pytest.fixture
def snapshot_json(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Syrupy snapshot stored as pretty JSON (mask asset hashes first: harness.mask_hashes)."""
    return snapshot.use_extension(JSONSnapshotExtension)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Longest modules first, so `make test`'s workers (`--dist loadfile
    --no-loadscope-reorder`) never start a long module last and wait on it alone: modules
    with a ``slow`` test first, then the rest by number of tests. Order within a module is
    kept; every test still runs."""
    modules: dict[str, list[pytest.Item]] = {}
    for item in items:
        modules.setdefault(item.nodeid.split("::", 1)[0], []).append(item)

    def cost(tests: list[pytest.Item]) -> tuple[bool, int]:
        return (not any(t.get_closest_marker("slow") for t in tests), -len(tests))

    items[:] = [item for tests in sorted(modules.values(), key=cost) for item in tests]
