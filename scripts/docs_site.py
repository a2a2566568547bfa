"""MkDocs hooks for the API and guide site (mkdocs.yml: ``hooks:``).

- The nav (mkdocs.yml) is the one list of pages, shared with scripts/build_readme.py: pages
  listed there whose file does not exist yet are dropped, so a guide another change is still
  writing can be listed ahead of time without breaking the strict build.
- Generated pages, made from the source at build time and never committed: the Reference page
  (warning ids and acknowledged cdk-nag rules, by build_readme.reference()) and an "API
  reference" section, one page per construct area (``API_PAGES``), rendered by mkdocstrings from
  the docstrings. An area whose package does not exist yet is left out.
- A guide page without a level-1 heading (the guides' sections start at ``##``) gets its nav
  title as one, and the home page ends with the list of pages (the README's list too).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import build_readme  # noqa: E402

#: Page under docs/api/ -> (title, the modules it documents, in order). Every public name of
#: ``hpc_constructs`` lives in one of these modules (tests/test_docs_site.py checks it).
API_PAGES: dict[str, tuple[str, list[str]]] = {
    "network": ("Network", ["hpc_constructs.network"]),
    "fleet": (
        "Compute fleet and launchers",
        ["hpc_constructs.fleet", "hpc_constructs.capacity", "hpc_constructs.nodes"],
    ),
    "image": ("Machine images", ["hpc_constructs.image"]),
    "lustre": ("Lustre", ["hpc_constructs.lustre", "hpc_constructs.mounts"]),
    "ingest": ("Data ingest", ["hpc_constructs.ingest"]),
    "batch": ("Batch multi-node", ["hpc_constructs.batch"]),
    "grid": ("Batch grid", ["hpc_constructs.grid"]),
    "slurm": ("Slurm", ["hpc_constructs.slurm", "hpc_constructs.shared_home"]),
    "lifecycle": ("Boot and lifecycle", ["hpc_constructs.boot"]),
    "ops": ("Operations", ["hpc_constructs.ops"]),
    "policy": ("Policy pack", ["hpc_constructs.policy"]),
    "portfolio": ("Service Catalog", ["hpc_constructs.portfolio"]),
    "catalog": ("Instance catalog", ["hpc_constructs.catalog"]),
    "errors": ("Errors and warning ids", ["hpc_constructs.errors", "hpc_constructs.warning_ids"]),
}


def module_exists(module: str) -> bool:
    path = ROOT.joinpath(*module.split("."))
    return (path / "__init__.py").is_file() or path.with_suffix(".py").is_file()


def api_pages() -> dict[str, tuple[str, str]]:
    """Path under docs/ -> (title, markdown) of each API page whose modules exist."""
    pages: dict[str, tuple[str, str]] = {}
    for name, (title, modules) in API_PAGES.items():
        if not all(module_exists(m) for m in modules):
            continue
        body = "\n\n".join(f"::: {module}" for module in modules)
        pages[f"api/{name}.md"] = (title, f"# {title}\n\n{body}\n")
    return pages


def _present(nav: list[Any]) -> list[Any]:
    kept: list[Any] = []
    for entry in nav:
        value = entry if isinstance(entry, str) else next(iter(entry.values()))
        if isinstance(value, list):
            inner = _present(value)
            if inner:
                kept.append({next(iter(entry)): inner})
        elif build_readme.present(value):
            kept.append(entry)
    return kept


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    nav = _present(config.nav or [])
    nav.append({"API reference": [{title: path} for path, (title, _) in api_pages().items()]})
    config.nav = nav
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    generated = {"reference.md": build_readme.reference()}
    generated.update({path: text for path, (_, text) in api_pages().items()})
    for path, text in generated.items():
        files.append(File.generated(config, path, content=text))
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    if page.file.src_uri == "index.md":
        markdown = markdown.rstrip() + "\n\n## The pages\n\n" + build_readme.contents()
    return titled(markdown, page.title or "")


def titled(markdown: str, title: str) -> str:
    """A page with a level-1 heading as it is. A guide written as one README section (one
    ``##`` heading, its subsections ``###``) is shown one level up, so its heading is the page
    title and its subsections are the table of contents; any other page without a level-1
    heading gets ``title`` as one. Anchors do not change: they come from the heading text."""
    levels = [len(line) - len(line.lstrip("#")) for line in build_readme.headings(markdown)]
    if 1 in levels:
        return markdown
    if levels.count(2) == 1 and levels[0] == 2:
        return build_readme.shift_headings(markdown, -1)
    return f"# {title}\n\n{markdown}"
