"""Typed sample-stack parameters and their overrides from CDK context.

Each stack takes a frozen dataclass of choices with defaults. ``cdk synth -c KEY=VALUE``
overrides a field of every stack that has it (``-c max_nodes=4``); ``-c Stack:KEY=VALUE``
overrides one stack only (``-c MlTraining:instance_type=p5en.48xlarge``). Values are
converted to the field's type and every bad value is reported at once.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, TypeVar

from constructs import Node

from hpc_constructs.errors import HpcValidationError, Problem

T = TypeVar("T")

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def _convert(raw: Any, target: Any) -> Any:
    """Convert a context value (a string from ``-c``, or JSON from cdk.json) to ``target``."""
    origin = typing.get_origin(target)
    if origin in (types.UnionType, typing.Union):
        options = [a for a in typing.get_args(target) if a is not type(None)]
        if raw is None or (isinstance(raw, str) and raw.lower() in ("", "none", "null")):
            return None
        return _convert(raw, options[0])
    if origin is tuple:
        (item,) = typing.get_args(target)[:1]
        values = raw if isinstance(raw, (list, tuple)) else [v for v in str(raw).split(",") if v]
        return tuple(_convert(v, item) for v in values)
    if target is bool:
        if isinstance(raw, bool):
            return raw
        text = str(raw).lower()
        if text in _TRUE | _FALSE:
            return text in _TRUE
        raise ValueError("true or false")
    if target is int:
        if isinstance(raw, bool):
            raise ValueError("an integer")
        try:
            return int(str(raw))
        except ValueError as err:
            raise ValueError("an integer") from err
    if target is str:
        return str(raw)
    raise TypeError(f"unsupported config type {target!r}")


def from_context(node: Node, stack_name: str, config_type: type[T], defaults: T | None = None) -> T:
    """Build ``config_type`` from its defaults and the context overrides that name its fields."""
    base = defaults if defaults is not None else config_type()
    hints = typing.get_type_hints(config_type)
    overrides: dict[str, Any] = {}
    problems: list[Problem] = []
    for field in dataclasses.fields(config_type):  # type: ignore[arg-type]
        for key in (field.name, f"{stack_name}:{field.name}"):  # the stack-specific key wins
            raw = node.try_get_context(key)
            if raw is None:
                continue
            try:
                overrides[field.name] = _convert(raw, hints[field.name])
            except ValueError as err:
                problems.append(Problem(f"context {key}", field.name, raw, str(err)))
    if problems:
        raise HpcValidationError(problems)
    return dataclasses.replace(base, **overrides)  # type: ignore[type-var]
