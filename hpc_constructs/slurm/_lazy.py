"""Values rendered at synth time, so ``add_*`` calls made after a resource was built count."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import jsii


@jsii.implements(cdk.IStableStringProducer)
class _Text:
    def __init__(self, render: Callable[[], str]) -> None:
        self._render = render

    def produce(self) -> str | None:
        return self._render()


@jsii.implements(cdk.IStableAnyProducer)
class _Any:
    def __init__(self, render: Callable[[], Any]) -> None:
        self._render = render

    def produce(self) -> Any:
        return self._render()


def lazy_text(render: Callable[[], str]) -> str:
    return cdk.Lazy.string(_Text(render))


def lazy_any(render: Callable[[], Any]) -> Any:
    return cdk.Lazy.any(_Any(render))
