"""A griffe extension for the API reference (mkdocs.yml): the docstrings' reST roles
(``:class:`~hpc_constructs.network.plan.NewVpcPlan```, ``:mod:`.plan```) shown as code
(``NewVpcPlan``, ``.plan``) instead of as literal role markup. ``~`` keeps the last name only,
as in Sphinx. It runs once the package is loaded, after griffe-sphinx has read the ``#:``
comments, so those are rewritten too."""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:class|mod|func|meth|attr|data|exc|obj|const):`(~?)([^`]+)`")


def plain(text: str) -> str:
    """Each role as a code span: ``:class:`~a.b.C``` -> ```C```, ``:mod:`a.b``` -> ```a.b```."""

    def code(match: re.Match[str]) -> str:
        short, target = match.groups()
        return f"`{target.rsplit('.', 1)[-1] if short else target}`"

    return ROLE.sub(code, text)


def _rewrite(obj: griffe.Object | griffe.Alias, seen: set[str]) -> None:
    if obj.is_alias or obj.path in seen:
        return
    seen.add(obj.path)
    if obj.docstring is not None:
        obj.docstring.value = plain(obj.docstring.value)
    for member in obj.members.values():
        _rewrite(member, seen)


class RestRoles(griffe.Extension):
    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        _rewrite(pkg, set())
