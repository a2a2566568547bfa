"""README.md is generated from docs/ and every ```python block in it runs, so examples stay true."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def _examples() -> list[tuple[str, str]]:
    text = (ROOT / "README.md").read_text()
    return [(f"README.md#{i + 1}", m.group(1)) for i, m in enumerate(BLOCK.finditer(text))]


EXAMPLES = _examples()


def test_readme_is_generated_from_docs() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_readme.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(("where", "code"), EXAMPLES, ids=[w for w, _ in EXAMPLES])
def test_documented_example_runs(where: str, code: str) -> None:
    namespace: dict[str, object] = {"__name__": f"docs_example_{where}"}
    exec(compile(code, where, "exec"), namespace)


def test_every_warning_id_and_acknowledged_rule_is_explained_in_a_construct_section() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    import build_readme

    sections = "\n".join(
        (ROOT / "docs" / name).read_text()
        for name in build_readme.SECTIONS
        if (ROOT / "docs" / name).exists()
    )
    missing = [wid for wid, _ in build_readme.warning_ids() if wid.split(":", 1)[1] not in sections]
    missing += [rule for rule, _ in build_readme.acknowledged_rules() if rule not in sections]
    assert not missing, f"document these in the construct's docs/*.md section: {missing}"
