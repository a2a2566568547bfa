"""Every ```python block in README.md and docs/*.md runs, so documented examples stay true."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def _examples() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for index, match in enumerate(BLOCK.finditer(doc.read_text())):
            found.append((f"{doc.relative_to(ROOT)}#{index + 1}", match.group(1)))
    return found


EXAMPLES = _examples()


@pytest.mark.parametrize(("where", "code"), EXAMPLES, ids=[w for w, _ in EXAMPLES])
def test_documented_example_runs(where: str, code: str) -> None:
    namespace: dict[str, object] = {"__name__": f"docs_example_{where}"}
    exec(compile(code, where, "exec"), namespace)
