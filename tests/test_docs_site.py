"""The API and guide site (mkdocs.yml) builds with ``mkdocs build --strict``: every intra-site
link and anchor resolves, every page in docs/ is in the nav, every public name has its API
entry rendered from the docstrings (sphinx-style ``:param x:`` read as parameters).

The build runs into a temporary directory (never ``site/`` in the checkout). Its result is kept
in the user-level cache (``docs-site/`` under tests/pcluster_venv.user_cache) keyed by the
content of everything the site is made from: docs/, mkdocs.yml, the hooks and README builder,
the library's source (docstrings, warning ids, acknowledgements), the installed tool versions,
the Python and this file. A changed input builds again; a failed build is never stored.
"""

from __future__ import annotations

import hashlib
import html
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.harness import ROOT, user_cache

sys.path.insert(0, str(ROOT / "scripts"))
import build_readme
import docs_site
import griffe_rest_roles

CACHE = user_cache("docs-site")
TOOLS = (
    "mkdocs",
    "mkdocs-material",
    "mkdocstrings",
    "mkdocstrings-python",
    "mkdocs-autorefs",
    "griffelib",
    "Markdown",
    "pymdown-extensions",
)
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
ANCHOR = re.compile(r'id="(hpc_constructs[\w.]*)"')
ROLES = griffe_rest_roles


def _inputs() -> list[Path]:
    files = [ROOT / "mkdocs.yml", *(Path(m.__file__) for m in (build_readme, docs_site, ROLES))]
    files += sorted(p for p in (ROOT / "docs").rglob("*") if p.is_file())
    files += sorted((ROOT / "hpc_constructs").rglob("*.py"))
    return files


def _cache_key(extra: str, inputs: list[Path]) -> str:
    digest = hashlib.sha256(f"{sys.version}\0{extra}\0".encode())
    for tool in TOOLS:
        digest.update(f"{tool}=={importlib.metadata.version(tool)}\0".encode())
    digest.update(Path(__file__).read_bytes())
    for path in inputs:
        digest.update(f"\0{path.relative_to(ROOT)}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:32]


def _store(path: Path, data: dict[str, Any]) -> None:
    """Write whole or not at all: other workers and checkouts read the same directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle)
    os.replace(partial, path)


def _mkdocs_build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
        cwd=config.parent,
        env=ENV,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def _text(page: Path) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page.read_text()))


def _build_site() -> dict[str, Any]:
    site = Path(tempfile.mkdtemp(prefix="hpc-docs-site-"))
    try:
        result = _mkdocs_build(ROOT / "mkdocs.yml", site)
        facts: dict[str, Any] = {"returncode": result.returncode, "output": result.stderr}
        if result.returncode == 0:
            pages = sorted(str(p.relative_to(site)) for p in site.rglob("*.html"))
            facts["pages"] = pages
            facts["api_ids"] = sorted(
                {i for p in site.glob("api/*.html") for i in ANCHOR.findall(p.read_text())}
            )
            facts["api_rest_roles"] = {
                p.name: griffe_rest_roles.ROLE.findall(_text(p)) for p in site.glob("api/*.html")
            }
            facts["api_parameter_tables"] = {
                p.name: p.read_text().count(">Parameters:<") for p in site.glob("api/*.html")
            }
            facts["reference_text"] = _text(site / "reference.html")
            facts["index_text"] = _text(site / "index.html")
            facts["mermaid_pages"] = [
                page for page in pages if 'class="mermaid"' in (site / page).read_text()
            ]
        return facts
    finally:
        shutil.rmtree(site, ignore_errors=True)


@pytest.fixture(scope="module")
def built() -> dict[str, Any]:
    key = _cache_key("site", _inputs())
    cached = CACHE / f"site-{key}.json"
    if cached.exists():
        data: dict[str, Any] = json.loads(cached.read_text())
        return data
    facts = _build_site()
    # Stored only when it passed and no input changed while it ran (the key names the inputs).
    if facts["returncode"] == 0 and _cache_key("site", _inputs()) == key:
        _store(cached, facts)
    return facts


@pytest.mark.slow  # on a new input, the build takes seconds (tens on a busy machine)
def test_the_site_builds_strict(built: dict[str, Any]) -> None:
    assert built["returncode"] == 0, built["output"][-4000:]
    assert "WARNING" not in built["output"]


def test_every_guide_page_and_generated_page_is_on_the_site(built: dict[str, Any]) -> None:
    expected = {path.replace(".md", ".html") for path in build_readme.SECTIONS}
    expected |= {"reference.html", *(p.replace(".md", ".html") for p in docs_site.api_pages())}
    assert expected <= set(built["pages"]), expected - set(built["pages"])


def test_every_public_name_has_its_api_entry(built: dict[str, Any]) -> None:
    import hpc_constructs

    ids = set(built["api_ids"])
    exports: dict[str, str] = hpc_constructs._EXPORTS
    missing = [
        f"hpc_constructs.{module}.{name}"
        for name, module in exports.items()
        if f"hpc_constructs.{module}.{name}" not in ids
    ]
    missing += [m for m in ("hpc_constructs.warning_ids",) if m not in ids]
    assert not missing, f"add their modules to docs_site.API_PAGES: {missing}"


def test_every_public_module_is_on_an_api_page() -> None:
    """Every exporting module is documented by an area (a new module joins ``API_PAGES``)."""
    import hpc_constructs

    documented = {m for _, modules in docs_site.API_PAGES.values() for m in modules}
    exporting = {f"hpc_constructs.{m}" for m in hpc_constructs._EXPORTS.values()}
    assert exporting <= documented, exporting - documented


def test_sphinx_style_params_render_as_parameter_tables(built: dict[str, Any]) -> None:
    tables = built["api_parameter_tables"]
    for page in ("network.html", "fleet.html", "lustre.html", "grid.html", "slurm.html"):
        assert tables[page] > 0, page


def test_docstring_rest_roles_render_as_code(built: dict[str, Any]) -> None:
    assert not {page: roles for page, roles in built["api_rest_roles"].items() if roles}


def test_rest_roles_become_code_spans() -> None:
    text = ":class:`~hpc_constructs.network.plan.NewVpcPlan` from :mod:`.plan`, :py:func:`a.b`"
    assert griffe_rest_roles.plain(text) == "`NewVpcPlan` from `.plan`, `a.b`"


def test_the_reference_page_lists_every_warning_id_and_acknowledged_rule(
    built: dict[str, Any],
) -> None:
    text = built["reference_text"]
    missing = [wid for wid, _ in build_readme.warning_ids() if wid not in text]
    missing += [rule for rule, _ in build_readme.acknowledged_rules() if rule not in text]
    assert not missing


def test_the_home_page_lists_the_pages_and_the_pictures_render(built: dict[str, Any]) -> None:
    for title, path in build_readme.nav_pages():
        if path != "index.md" and build_readme.present(path):
            assert title in built["index_text"], title
    assert {"index.html", "architecture.html"} <= set(built["mermaid_pages"])


# The strict settings themselves, on a two-page site built with mkdocs.yml's validation rules.
BROKEN = {
    "missing page": "See [the other page](nowhere.md).",
    "missing anchor": "See [a section](other.md#no-such-heading).",
    "page not in the nav": None,
}


def _tiny_site(case: str) -> dict[str, Any]:
    config = build_readme.mkdocs_config()
    base = Path(tempfile.mkdtemp(prefix="hpc-docs-strict-"))
    try:
        docs = base / "docs"
        docs.mkdir()
        (docs / "other.md").write_text("# Other\n\n## A heading\n")
        body = BROKEN[case] or "Fine: [a section](other.md#a-heading)."
        (docs / "index.md").write_text(f"# Home\n\n{body}\n")
        if BROKEN[case] is None:
            (docs / "stray.md").write_text("# Stray\n")
        tiny = {
            "site_name": "strict",
            "strict": True,
            "validation": config["validation"],
            "nav": [{"Home": "index.md"}, {"Other": "other.md"}],
        }
        (base / "mkdocs.yml").write_text(json.dumps(tiny))
        result = _mkdocs_build(base / "mkdocs.yml", base / "site")
        return {"returncode": result.returncode, "output": result.stderr}
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def strict_cases() -> dict[str, dict[str, Any]]:
    # The tiny sites depend on mkdocs.yml's validation rules and the tools only.
    cached = CACHE / f"strict-{_cache_key('strict', [ROOT / 'mkdocs.yml'])}.json"
    if cached.exists():
        data: dict[str, dict[str, Any]] = json.loads(cached.read_text())
        return data
    cases = {case: _tiny_site(case) for case in BROKEN}
    if all(r["returncode"] != 0 for r in cases.values()):
        _store(cached, cases)
    return cases


@pytest.mark.parametrize("case", list(BROKEN))
def test_fails_strict_build_on(case: str, strict_cases: dict[str, dict[str, Any]]) -> None:
    result = strict_cases[case]
    assert result["returncode"] != 0, result["output"]
    assert "WARNING" in result["output"]


# The hooks on plain values: no build.
def test_nav_drops_pages_not_written_yet() -> None:
    nav = [
        {"Home": "index.md"},
        {"Guides": [{"Network": "network.md"}, {"Later": "not-written-yet.md"}]},
        {"Empty": [{"Later": "also-not-yet.md"}]},
        {"Reference": "reference.md"},
    ]
    assert docs_site._present(nav) == [
        {"Home": "index.md"},
        {"Guides": [{"Network": "network.md"}]},
        {"Reference": "reference.md"},
    ]


def test_api_pages_skip_areas_whose_package_does_not_exist(monkeypatch: Any) -> None:
    monkeypatch.setitem(docs_site.API_PAGES, "later", ("Later", ["hpc_constructs.not_yet"]))
    pages = docs_site.api_pages()
    assert "api/later.md" not in pages
    assert pages["api/network.md"][1].splitlines()[-1] == "::: hpc_constructs.network"


def test_a_one_section_guide_is_shown_one_level_up() -> None:
    guide = "## Guide\n\ntext\n\n```sh\n## not a heading\n```\n\n### Part\n"
    assert docs_site.titled(guide, "Nav title") == (
        "# Guide\n\ntext\n\n```sh\n## not a heading\n```\n\n## Part\n"
    )
    two = "## One\n\n## Two\n"
    assert docs_site.titled(two, "Nav title") == "# Nav title\n\n" + two
    titled = "# Title\n\n## One\n"
    assert docs_site.titled(titled, "Nav title") == titled


def test_readme_links_point_into_docs() -> None:
    text = "[a](lustre.md#x) [b](https://example.com/a.md) [c](#local) [d](api/x.md)"
    assert build_readme.in_readme(text) == (
        "[a](docs/lustre.md#x) [b](https://example.com/a.md) [c](#local) [d](docs/api/x.md)"
    )


def test_readme_links_reach_files_in_the_repository() -> None:
    """README.md is not a site page: its relative links are checked here (the site's own
    links and anchors are checked by the strict build)."""
    readme = (ROOT / "README.md").read_text()
    targets = {m.group(1).split("#", 1)[0] for m in re.finditer(r"\]\(([^)\s]+)\)", readme)}
    relative = {t for t in targets if t and not re.match(r"[a-z][a-z0-9+.-]*:", t)}
    assert relative, "README.md links to the pages under docs/"
    assert not [t for t in sorted(relative) if not (ROOT / t).is_file()]


def test_use_it_section_is_found_under_its_fixed_heading() -> None:
    assert build_readme.use_it_section().startswith(build_readme.USE_IT + "\n")
    readme = (ROOT / "README.md").read_text()
    assert readme.count(f"\n{build_readme.USE_IT}\n") == 1


@pytest.mark.parametrize("generated", sorted(build_readme.GENERATED))
def test_generated_pages_are_not_committed(generated: str) -> None:
    assert not (ROOT / "docs" / generated).exists()
    assert not (ROOT / "docs" / "api").exists()


def test_sections_split_outside_code_blocks_only() -> None:
    text = textwrap.dedent(
        """\
        intro
        ## A
        ```python
        ## comment
        ```
        ## B
        """
    )
    assert [h for h, _ in build_readme.sections(text)] == ["", "## A", "## B"]
