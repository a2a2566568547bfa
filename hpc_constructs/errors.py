"""Validation errors and warnings shared by every construct.

Constructs collect every problem in their input and raise them together, so a user fixes a
whole stack in one pass instead of one error per ``cdk synth``.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import enum
import functools
import types
import typing
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

if TYPE_CHECKING:
    from constructs import IConstruct

# aws-cdk-lib is imported inside the functions that need it, so the catalog, the limits and
# the cfn-lint rule pack (which use this module) load without starting the jsii runtime.

WARNING_PREFIX = "hpc-constructs:"
_T = TypeVar("_T")


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
    if isinstance(value, (list, tuple, str, int, float)) and not isinstance(value, bool):
        from aws_cdk import Token

        # A whole-list token (Token.as_list) is one "#{Token[...]}" element that only the
        # list as a whole resolves as.
        # Only a list of strings goes to jsii whole: a list of option dataclasses cannot.
        if isinstance(value, (list, tuple)):
            if any(is_token(v) for v in value):
                return True
            return all(isinstance(v, str) for v in value) and Token.is_unresolved(list(value))
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

    def checked(self, value: _T | None) -> _T:
        """``raise_if_any()``, then ``value``, which the rules only leave None when they
        recorded a problem (a plan, a resolved selection)."""
        self.raise_if_any()
        if value is None:
            raise AssertionError(f"{self.path}: no value although no problem was recorded")
        return value


def nag_text(scope: IConstruct, value: str) -> str:
    """``value`` as cdk-nag prints it inside a finding id, e.g. ``AwsSolutions-IAM5[Resource::
    <LogicalId.Arn>/prefix/*]``: resolved in ``scope``'s stack, ``Ref`` as ``<Id>``,
    ``Fn::GetAtt`` as ``<Id.Attribute>``, ``Fn::Join`` joined. Anything else is refused
    (an acknowledgement that matches nothing would hide nothing and fail synth later)."""
    from aws_cdk import Stack

    def render(part: Any) -> str:
        if isinstance(part, str):
            return part
        if isinstance(part, dict) and len(part) == 1:
            ((key, arg),) = part.items()
            if key == "Ref":
                return f"<{arg}>"
            if key == "Fn::GetAtt":
                return "<" + ".".join(str(a) for a in arg) + ">"
            if key == "Fn::Join":
                return str(arg[0]).join(render(p) for p in arg[1])
        raise ValueError(f"cannot render {part!r} as cdk-nag does")

    return render(Stack.of(scope).resolve(value))


def warn(scope: IConstruct, warning_id: str, message: str) -> None:
    """Add an acknowledgeable warning with the stable id ``hpc-constructs:<warning_id>``
    (one listed in :mod:`hpc_constructs.warning_ids`)."""
    from aws_cdk import Annotations

    from hpc_constructs import warning_ids

    if WARNING_PREFIX + warning_id not in warning_ids.ALL:
        raise ValueError(f"unlisted warning id {warning_id!r}: add it to warning_ids.py")

    Annotations.of(scope).add_warning_v2(WARNING_PREFIX + warning_id, message)


#: How an unresolved token is shown in a problem (its raw text is meaningless to a user).
TOKEN_SHOWN = "<unresolved token>"
#: The reason given when a prop the plan computes with is a token.
CONCRETE = "needs a concrete value at synth time"


def needs_concrete_value(v: Validator, prop: str, value: Any, why: str = "") -> bool:
    """Record that ``prop`` must be known at synth time when ``value`` is a token; returns
    True when it is concrete (or unset). For props the plan computes with (sizes, counts,
    instance types), where CloudFormation would accept a token but the library cannot."""
    if value is None or not is_token(value):
        return True
    reason = f"{CONCRETE}: {why}" if why else CONCRETE
    v.problems.append(Problem(v.path, prop, TOKEN_SHOWN, "a concrete value", reason))
    return False


# --- Python types at the boundary ---------------------------------------------------------

_P = ParamSpec("_P")
_R = TypeVar("_R")


def check_prop_types(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """Check the keyword props of a construct's ``__init__`` (or ``add_*`` method) against
    their annotations before the body runs: a ``str`` where an ``int`` or a list of strings is
    expected is one :class:`HpcValidationError` problem naming the prop, not a ``TypeError``
    deep inside (or one problem per character). Tokens pass; types the check cannot decide
    (jsii interfaces) pass and are left to the construct's own rules."""
    hints: dict[str, Any] | None = None

    @functools.wraps(func)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        nonlocal hints
        if hints is None:
            try:
                hints = typing.get_type_hints(func)
            except (NameError, TypeError):  # an annotation only importable for type checkers
                hints = {}
        path = _call_path(args)
        problems = [
            problem
            for name, value in kwargs.items()
            if name in hints and name != "return"
            for problem in type_problems(path, name, value, hints[name])
        ]
        if problems:
            raise HpcValidationError(problems)
        return func(*args, **kwargs)

    return wrapper


def type_problems(path: str, prop: str, value: Any, hint: Any) -> list[Problem]:
    """The problems of ``value`` against ``hint``: one for the prop itself, or else one per
    field of an option dataclass (``prop.field``) or of each one in a list (``prop[i].field``).
    """
    verdict = _matches(value, hint)
    if verdict is False:
        shown = TOKEN_SHOWN if is_token(value) else value
        return [Problem(path, prop, shown, describe_type(hint), reason=_got(value))]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _field_problems(path, prop, value)
    if isinstance(value, (list, tuple)):
        return [
            problem
            for index, item in enumerate(value)
            if dataclasses.is_dataclass(item) and not isinstance(item, type)
            for problem in _field_problems(path, f"{prop}[{index}]", item)
        ]
    return []


def _field_problems(path: str, prop: str, value: Any) -> list[Problem]:
    try:
        hints = typing.get_type_hints(type(value))
    except (NameError, TypeError):
        return []
    return [
        problem
        for field in dataclasses.fields(value)
        if field.name in hints
        for problem in type_problems(
            path, f"{prop}.{field.name}", getattr(value, field.name), hints[field.name]
        )
    ]


def _call_path(args: Sequence[Any]) -> str:
    """``scope/id`` for a constructor call, ``self/id`` or ``self`` for a method call."""
    from constructs import Construct

    self_, rest = (args[0], args[1:]) if args else (None, ())
    if rest and isinstance(rest[0], Construct) and len(rest) > 1 and isinstance(rest[1], str):
        parent = rest[0].node.path
        return f"{parent}/{rest[1]}" if parent else rest[1]
    base = ""
    try:
        base = self_.node.path if self_ is not None else ""
    except Exception:  # the construct is not initialised yet
        base = type(self_).__name__
    if rest and isinstance(rest[0], str):
        return f"{base}/{rest[0]}" if base else rest[0]
    return base or "<unknown>"


def _got(value: Any) -> str:
    return f"got {type(value).__name__}"


def _matches(value: Any, hint: Any) -> bool | None:
    """True when ``value`` fits ``hint``, False when it surely does not, None when unsure."""
    if hint is Any or is_token(value):
        return True
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        results = [_matches(value, a) for a in args]
        if any(r is True for r in results):
            return True
        return None if any(r is None for r in results) else False
    if origin is typing.Literal:
        return value in args
    if hint is type(None):
        return value is None
    if origin is not None:
        return _matches_generic(value, origin, args)
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return isinstance(value, hint)
    return _isinstance(value, hint)


def _matches_generic(value: Any, origin: Any, args: tuple[Any, ...]) -> bool | None:
    if origin in (collections.abc.Sequence, list, tuple):
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
            return False
        if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
            return None if len(value) == len(args) else False  # a fixed-length tuple
        return _all(value, args[0] if args else Any)
    if origin in (collections.abc.Mapping, dict):
        if not isinstance(value, collections.abc.Mapping):
            return False
        if len(args) != 2:
            return True
        keys = _all(list(value.keys()), args[0])
        values = _all(list(value.values()), args[1])
        if keys is False or values is False:
            return False
        return True if keys and values else None
    if origin is collections.abc.Callable:
        return callable(value)
    return None


def _all(values: Sequence[Any], hint: Any) -> bool | None:
    results = [_matches(v, hint) for v in values]
    if any(r is False for r in results):
        return False
    return True if all(results) else None


def _isinstance(value: Any, hint: Any) -> bool | None:
    if not isinstance(hint, type):
        return None
    if dataclasses.is_dataclass(hint):
        # An option dataclass of this library is plain Python: nothing else (no jsii proxy)
        # stands in for it, so a miss is certain.
        return isinstance(value, hint)
    # A plain Python value is never a jsii object, so a miss on it is certain; a jsii object
    # may be a proxy of an interface that is not its Python base class, so a miss is unsure.
    plain = isinstance(value, (str, bytes, int, float, list, tuple, dict))
    try:
        ok = isinstance(value, hint)
    except TypeError:  # a jsii interface or a non-runtime-checkable protocol
        return False if plain else None
    return True if ok else (False if plain else None)


def describe_type(hint: Any) -> str:
    """A short, readable name for an annotation: ``int``, ``list of str``, ``str or None``."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        return " or ".join(describe_type(a) for a in args)
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (collections.abc.Sequence, list, tuple):
        return f"a list of {describe_type(args[0]) if args else 'values'}"
    if origin in (collections.abc.Mapping, dict) and len(args) == 2:
        return f"a mapping of {describe_type(args[0])} to {describe_type(args[1])}"
    if hint is type(None):
        return "None"
    name = getattr(hint, "__qualname__", None) or getattr(hint, "__name__", None) or str(hint)
    module = getattr(hint, "__module__", "")
    if module.startswith("aws_cdk."):
        return f"{module.split('.')[1].removeprefix('aws_')}.{name}"
    return str(name)
