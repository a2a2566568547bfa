"""The shape rules of ARCHITECTURE.md, checked on the source: function length and layering."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "hpc_constructs"
MAX_FUNCTION_LINES = 80


def _functions(path: Path) -> list[tuple[str, int]]:
    """(``file:line name``, length in lines from ``def`` to its last line) for every function."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        (f"{path.name}:{node.lineno} {node.name}", (node.end_lineno or 0) - node.lineno + 1)
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]


def test_no_function_in_the_library_is_over_80_lines() -> None:
    too_long = [
        f"{path.parent.relative_to(ROOT)}/{where} ({lines} lines)"
        for path in sorted(PACKAGE.rglob("*.py"))
        for where, lines in _functions(path)
        if lines > MAX_FUNCTION_LINES
    ]
    assert not too_long, "functions over 80 lines:\n" + "\n".join(too_long)


def test_the_length_check_counts_from_def_to_the_last_line(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    sample = tmp_path / "sample.py"
    sample.write_text(f"def long():\n{body}\n\n\ndef short():\n    pass\n")
    assert [n for _, n in _functions(sample)] == [MAX_FUNCTION_LINES + 1, 2]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_library_never_imports_the_sample_stacks_or_the_app() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in PACKAGE.rglob("*.py")
        if any(n == "stacks" or n.startswith(("stacks.", "app")) for n in _imports(path))
    ]
    assert not offenders


@pytest.mark.parametrize("module", ["limits.py", "catalog", "cfn_lint_rules"])
def test_facts_and_the_rule_pack_do_not_import_aws_cdk(module: str) -> None:
    target = PACKAGE / module
    paths = sorted(target.rglob("*.py")) if target.is_dir() else [target]
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in paths
        for name in _imports(path)
        if name.split(".")[0] in ("aws_cdk", "jsii", "constructs", "cdk_nag")
    ]
    assert not offenders


def test_every_library_module_imports_without_cycles() -> None:
    import hpc_constructs

    for module in pkgutil.walk_packages(hpc_constructs.__path__, "hpc_constructs."):
        importlib.import_module(module.name)


def test_every_public_name_resolves_and_type_checkers_see_the_same_names() -> None:
    import hpc_constructs

    tree = ast.parse((PACKAGE / "__init__.py").read_text())
    seen_by_type_checkers = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module not in ("__future__", "typing")
        for alias in node.names
    }
    assert seen_by_type_checkers == set(hpc_constructs.__all__)
    for name in hpc_constructs.__all__:
        assert getattr(hpc_constructs, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = hpc_constructs.Nope  # type: ignore[attr-defined]


def test_facts_and_the_rule_pack_load_without_the_jsii_runtime() -> None:
    code = (
        "import sys, hpc_constructs.catalog, hpc_constructs.limits, hpc_constructs.cfn_lint_rules\n"
        "from hpc_constructs.catalog import InstanceCatalog\n"
        "assert InstanceCatalog.get('hpc7a.96xlarge').efa_supported\n"
        "print(sorted(m for m in ('jsii', 'aws_cdk', 'constructs') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
