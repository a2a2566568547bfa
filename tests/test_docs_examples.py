"""Every ```python block of every page under docs/ (the site's guides, whose home page and
consumer section README.md is assembled from) runs, so examples stay true; README.md is
generated from docs/ (scripts/build_readme.py)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from tests.harness import assert_cfn_lint_clean, assert_nag_clean, synthesize

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def _examples() -> list[tuple[str, str]]:
    """(docs/page.md#n, code) for each python block of each page, README's included: README.md
    holds only text taken from these pages."""
    examples: list[tuple[str, str]] = []
    for page in sorted((ROOT / "docs").rglob("*.md")):
        text = page.read_text()
        name = page.relative_to(ROOT)
        examples += [(f"{name}#{i + 1}", m.group(1)) for i, m in enumerate(BLOCK.finditer(text))]
    return examples


def test_readme_examples_are_docs_examples() -> None:
    readme = [m.group(1) for m in BLOCK.finditer((ROOT / "README.md").read_text())]
    assert set(readme) <= {code for _, code in EXAMPLES}


EXAMPLES = _examples()


def test_readme_is_generated_from_docs() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_readme.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


class _CliApp(cdk.App):
    """``cdk.App`` as `cdk synth` starts it: with path metadata (cfn-lint reads it to know a
    template is generated) and nothing of this repository's cdk.json."""

    def __init__(self, **kwargs: Any) -> None:
        context = {"aws:cdk:enable-path-metadata": True, **(kwargs.pop("context", None) or {})}
        super().__init__(context=context, **kwargs)


@pytest.mark.parametrize(("where", "code"), EXAMPLES, ids=[w for w, _ in EXAMPLES])
def test_documented_example_runs_and_passes_cdk_nag_and_cfn_lint(where: str, code: str) -> None:
    """Each example runs as a user would paste it (a plain ``cdk.App()``, none of this
    repository's context), then its app is synthesized with cdk-nag's AwsSolutions pack and
    every template is linted by cfn-lint for the stack's region: the checks the samples pass."""
    namespace: dict[str, object] = {"__name__": f"docs_example_{where}"}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cdk, "App", _CliApp)
        exec(compile(code, where, "exec"), namespace)
    apps = [value for value in namespace.values() if isinstance(value, cdk.App)]
    for app in apps:
        synth = synthesize(app)
        assert_nag_clean(synth)
        for stack in app.node.children:
            if isinstance(stack, cdk.Stack):
                region = stack.region if not cdk.Token.is_unresolved(stack.region) else None
                assert_cfn_lint_clean(synth.template_dict(stack), [region] if region else None)


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
