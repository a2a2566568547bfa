"""Validation errors and warnings shared by every construct.

Constructs collect every problem in their input and raise them together, so a user fixes a
whole stack in one pass instead of one error per ``cdk synth``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Annotations, Token
from constructs import IConstruct

WARNING_PREFIX = "hpc-constructs:"


@dataclass(frozen=True)
class Problem:
    """One invalid input: where, which property, what was given and what is allowed."""

    path: str
    prop: str
    value: Any
    allowed: str
    reason: str = ""

    def __str__(self) -> str:
        reason = f" ({self.reason})" if self.reason else ""
        return (
            f"{self.path}: {self.prop}={self.value!r} is not valid{reason}; allowed: {self.allowed}"
        )


class HpcValidationError(ValueError):
    """Raised at construction time when one or more props are invalid.

    ``problems`` lists each one; the message names, for each, the construct path, the
    property, the value received and what is allowed.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        if not problems:
            raise ValueError("HpcValidationError needs at least one problem")
        self.problems: tuple[Problem, ...] = tuple(problems)
        if len(self.problems) == 1:
            message = str(self.problems[0])
        else:
            lines = "\n".join(f"  - {p}" for p in self.problems)
            message = f"{len(self.problems)} invalid properties:\n{lines}"
        super().__init__(message)


def is_token(value: Any) -> bool:
    """True when ``value`` (or any string/number in it) is an unresolved CDK token."""
    if isinstance(value, (list, tuple)):
        return any(is_token(v) for v in value)
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return Token.is_unresolved(value)
    return False


class Validator:
    """Collects problems for one construct and raises them together.

    Example::

        v = Validator(self)  # or Validator("Stack/Fleet") before the construct exists
        v.require(capacity > 0, "max_capacity", capacity, "an integer of 1 or more")
        v.raise_if_any()

    Values that are unresolved tokens are never reported: they are only known at deploy time.
    """

    def __init__(self, scope: IConstruct | str) -> None:
        self.path = scope if isinstance(scope, str) else scope.node.path
        self.problems: list[Problem] = []

    def add(self, prop: str, value: Any, allowed: str, reason: str = "") -> None:
        """Record a problem unconditionally (unless ``value`` is a token)."""
        if is_token(value):
            return
        self.problems.append(Problem(self.path, prop, value, allowed, reason))

    def require(self, ok: bool, prop: str, value: Any, allowed: str, reason: str = "") -> bool:
        """Record a problem when ``ok`` is false. Returns ``ok`` so checks can chain."""
        if not ok:
            self.add(prop, value, allowed, reason)
        return ok

    def one_of(self, prop: str, value: Any, allowed: Iterable[Any], reason: str = "") -> bool:
        """Require ``value`` to be one of ``allowed``."""
        options = list(allowed)
        if is_token(value) or value in options:
            return True
        self.add(prop, value, "one of " + ", ".join(repr(o) for o in options), reason)
        return False

    def in_range(
        self, prop: str, value: float | None, low: float, high: float, unit: str = ""
    ) -> bool:
        """Require ``low <= value <= high``; ``None`` passes (the prop is optional)."""
        if value is None or is_token(value) or low <= value <= high:
            return True
        suffix = f" {unit}" if unit else ""
        self.add(prop, value, f"{low:g} to {high:g}{suffix}")
        return False

    def raise_if_any(self) -> None:
        if self.problems:
            raise HpcValidationError(self.problems)


def warn(scope: IConstruct, warning_id: str, message: str) -> None:
    """Add an acknowledgeable warning with the stable id ``hpc-constructs:<warning_id>``."""
    Annotations.of(scope).add_warning_v2(WARNING_PREFIX + warning_id, message)
