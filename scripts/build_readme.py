#!/usr/bin/env python3
"""Assemble README.md, the repository's front page, from the site's pages under docs/.

    python scripts/build_readme.py          # rewrite README.md
    python scripts/build_readme.py --check  # exit 1 when README.md is out of date (tests run this)

The README is the site's home page (docs/index.md: what it is, the blueprint, the quick
start), the sample stacks table (docs/stacks.md), the `## Use it in your own app` section (from
the guide page that holds it) and a list of the site's pages. The full guides live on the site
only (mkdocs.yml, `make docs`). mkdocs.yml's nav is the one list of pages and their reader order
for both: ``SECTIONS`` below is read from it. The reference lists (warning ids, acknowledged
cdk-nag rules) are generated from the library's source into the site's Reference page
(scripts/docs_site.py), so they cannot drift from what the code emits.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
MKDOCS = ROOT / "mkdocs.yml"
#: Pages generated at build time (scripts/docs_site.py): in the nav, never in docs/.
GENERATED = {"reference.md"}
#: The consumer section: its heading is fixed (tests/test_package.py finds it in README.md).
USE_IT = "## Use it in your own app"
USE_IT_BEFORE = "## Using the constructs in your own CDK app"  # its heading until renamed
NAG_RULE = re.compile(r"\"(AwsSolutions-[A-Za-z0-9]+)")
FENCE = re.compile(r"^(```|~~~)")
HEADING = re.compile(r"^#{1,6} ")
LINK = re.compile(r"\]\((?![a-z][a-z0-9+.-]*:|#|/)([^)\s]+)\)")


class _Loader(yaml.SafeLoader):
    """mkdocs.yml with its ``!!python/name:`` tags read as plain strings (we only need the nav)."""


_Loader.add_multi_constructor(
    "tag:yaml.org,2002:python/", lambda loader, suffix, node: f"!!python/{suffix}"
)


def mkdocs_config() -> dict[str, Any]:
    config: dict[str, Any] = yaml.load(MKDOCS.read_text(), Loader=_Loader)
    return config


def nav_pages(nav: list[Any] | None = None) -> Iterator[tuple[str, str]]:
    """(title, path under docs/) of every page in the nav, in reader order; a page listed
    without a title gets its file name."""
    for entry in mkdocs_config()["nav"] if nav is None else nav:
        if isinstance(entry, str):
            yield Path(entry).stem, entry
            continue
        for title, value in entry.items():
            if isinstance(value, list):
                yield from nav_pages(value)
            else:
                yield title, value


def present(path: str) -> bool:
    """A nav page the site has: a file in docs/ or a page generated at build time."""
    return path in GENERATED or (DOCS / path).is_file()


#: The pages written in docs/ in the nav's reader order (pages not written yet are left out).
SECTIONS = [path for _, path in nav_pages() if (DOCS / path).is_file()]


def sections(text: str) -> Iterator[tuple[str, str]]:
    """(heading line, text) of each part of a page, split at ``## `` headings outside code
    blocks; the part before the first such heading has the heading ``""``."""
    heading, fenced = "", False
    lines: list[str] = []
    for line in text.splitlines(keepends=True):
        if FENCE.match(line):
            fenced = not fenced
        if not fenced and line.startswith("## "):
            yield heading, "".join(lines)
            heading, lines = line.strip(), []
        lines.append(line)
    yield heading, "".join(lines)


def headings(text: str) -> Iterator[str]:
    """Markdown heading lines (``#`` to ``######``) outside code blocks."""
    fenced = False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced and HEADING.match(line):
            yield line


def shift_headings(text: str, by: int) -> str:
    """Every heading outside code blocks ``by`` levels deeper (negative: higher)."""
    out, fenced = [], False
    for line in text.splitlines(keepends=True):
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced and HEADING.match(line):
            level = len(line) - len(line.lstrip("#"))
            line = "#" * max(1, level + by) + line[level:]
        out.append(line)
    return "".join(out)


def use_it_section() -> str:
    """The consumer section from whichever page holds it, under its fixed heading."""
    for name in SECTIONS:
        for heading, text in sections((DOCS / name).read_text()):
            if heading in (USE_IT, USE_IT_BEFORE):
                return USE_IT + text[len(heading) :]
    raise SystemExit(f"no docs/*.md page has a {USE_IT!r} section")


def sample_stacks_table() -> str:
    """docs/stacks.md's "Sample stacks" section up to the end of its table of stacks."""
    for heading, text in sections((DOCS / "stacks.md").read_text()):
        if heading.startswith("## Sample stacks"):
            lines = text.splitlines()
            first = next(i for i, line in enumerate(lines) if line.startswith("|"))
            end = next((i for i in range(first, len(lines)) if not lines[i].startswith("|")), None)
            return "\n".join(lines[:end]).rstrip() + "\n"
    raise SystemExit("docs/stacks.md has no '## Sample stacks' section")


def in_readme(text: str) -> str:
    """Links between site pages (``lustre.md#...``) as README links (``docs/lustre.md#...``)."""
    return LINK.sub(lambda m: f"](docs/{m.group(1)})", text)


def contents(prefix: str = "") -> str:
    """The site's pages as a nested list of links, ``prefix`` before each path."""
    lines: list[str] = []

    def walk(nav: list[Any], depth: int) -> None:
        for entry in nav:
            title, value = (
                (Path(entry).stem, entry) if isinstance(entry, str) else next(iter(entry.items()))
            )
            indent = "  " * depth
            if isinstance(value, list):
                lines.append(f"{indent}- {title}")
                walk(value, depth + 1)
            elif value in GENERATED:
                lines.append(
                    f"{indent}- {title} (generated from the source when the site is built)"
                )
            elif present(value) and value != "index.md":
                lines.append(f"{indent}- [{title}]({prefix}{value})")

    walk(mkdocs_config()["nav"], 0)
    lines.append(
        "- API reference: every public class and function, from the docstrings (on the built site)"
    )
    return "\n".join(lines) + "\n"


def documentation() -> str:
    return (
        "## Documentation\n\n"
        "The guides, the API reference and the reference lists form a site built with MkDocs\n"
        "(`mkdocs.yml`): `make docs` writes it to `site/` (open `site/index.html`), `make\n"
        "docs-serve` serves it at http://127.0.0.1:8000 with live reload. `make test` builds it\n"
        "with `--strict` (broken links and anchors fail). The pages, readable here too:\n\n"
        + contents("docs/")
    )


def warning_ids() -> list[tuple[str, str]]:
    """(id, emitting modules) for every id in hpc_constructs/warning_ids.py (the registry
    ``errors.warn`` enforces), the modules found by the camelCase id in their source."""
    sys.path.insert(0, str(ROOT))
    from hpc_constructs import warning_ids as registry

    sources = {
        str(path.relative_to(ROOT)): path.read_text()
        for path in sorted((ROOT / "hpc_constructs").rglob("*.py"))
        if path.name != "warning_ids.py"
    }
    found: list[tuple[str, str]] = []
    for wid in sorted(registry.ALL):
        short = wid.split(":", 1)[1]
        modules = [name for name, text in sources.items() if f'"{short}"' in text]
        found.append((wid, ", ".join(f"`{m}`" for m in modules) or "`?`"))
    return found


def acknowledged_rules() -> list[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for path in sorted((ROOT / "hpc_constructs").rglob("*.py")):
        text = path.read_text()
        if ".acknowledge(" not in text:
            continue
        for match in NAG_RULE.finditer(text):
            found.add((match.group(1), str(path.relative_to(ROOT))))
    return sorted(found)


def reference() -> str:
    """The site's Reference page (scripts/docs_site.py generates it at build time)."""
    lines = [
        "# Reference: warning ids and acknowledged cdk-nag rules",
        "",
        "Generated from the library source when the site is built. Warnings are attached with",
        "`Annotations.add_warning_v2`. They do not fail `cdk synth` (only `cdk synth --strict`);",
        "acknowledge one on its construct once you have read it (the ids are constants of",
        "`hpc_constructs.warning_ids`):",
        '`cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=hc.warning_ids.EFA_DISABLED, reason="..."))`.',
        "",
        "| warning id | emitted by |",
        "|---|---|",
    ]
    lines += [f"| `{wid}` | {modules} |" for wid, modules in warning_ids()]
    lines += [
        "",
        "cdk-nag rules the library acknowledges itself, each on a single resource with its reason",
        "next to it in the code (the guides explain each one):",
        "",
        "| rule | acknowledged in |",
        "|---|---|",
    ]
    lines += [f"| `{rule}` | `{module}` |" for rule, module in acknowledged_rules()]
    return "\n".join(lines) + "\n"


def build() -> str:
    # A page in docs/ that the nav does not list would be on neither the site nor the README.
    listed = {path for _, path in nav_pages()}
    extra = sorted(
        page
        for page in (str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md"))
        if page not in listed
    )
    if extra:
        raise SystemExit(f"docs pages not in mkdocs.yml's nav (add them there): {extra}")
    parts = [
        in_readme((DOCS / "index.md").read_text().strip()) + "\n",
        in_readme(sample_stacks_table()),
        in_readme(use_it_section().strip()) + "\n",
        documentation(),
    ]
    banner = (
        "<!-- Generated by scripts/build_readme.py from docs/ (mkdocs.yml's pages);"
        " edit those files instead. -->\n"
    )
    return banner + "\n".join(parts)


def main(argv: list[str]) -> int:
    text = build()
    readme = ROOT / "README.md"
    if "--check" in argv:
        if not readme.exists() or readme.read_text() != text:
            print("README.md is out of date: run `python scripts/build_readme.py`", file=sys.stderr)
            return 1
        return 0
    readme.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
