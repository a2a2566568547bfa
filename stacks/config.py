"""Typed sample-stack parameters and their overrides from CDK context.

Each stack takes a frozen dataclass of choices with defaults. ``cdk synth -c KEY=VALUE``
overrides a field of every stack that has it (``-c max_nodes=4``); ``-c Stack:KEY=VALUE``
overrides one stack only (``-c MlTraining:instance_type=p5en.48xlarge``). Values are
converted to the field's type and checked (ranges and choices from each field's metadata,
instance types against the catalog and the target region). Keys that look like ours but name
no field (``max_node``, ``mpicluster:max_nodes``, ``hpc-constructs:regoin``) are errors with
the closest valid key; CDK's own keys (``@aws-cdk/...``, ``availability-zones:...``,
``aws:cdk:...``) and keys unlike ours are left alone. Every problem of every stack is reported
at once, each naming the ``-c`` key the user typed.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from constructs import Node

from hpc_constructs.catalog import InstanceCatalog, offered_in
from hpc_constructs.errors import HpcValidationError, Problem
from hpc_constructs.ops.plan import is_email

T = TypeVar("T")

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}

#: Context keys of the sample app itself (not of one stack).
ACCOUNT_KEY = "hpc-constructs:account"
REGION_KEY = "hpc-constructs:region"
SUMMARY_KEY = "hpc-constructs:summary"
OWN_PREFIX = "hpc-constructs:"
OWN_KEYS = (ACCOUNT_KEY, REGION_KEY, SUMMARY_KEY)
#: Context keys that belong to the CDK (feature flags, lookups, CLI settings): never ours.
_CDK_PREFIXES = ("@", "aws:", "aws-cdk", "cdk", "availability-zones:", "acknowledged-issue")


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


def choice(default: Any, choices: Sequence[Any]) -> Any:
    """A config field that must be one of ``choices``."""
    return dataclasses.field(default=default, metadata={"choices": tuple(choices)})


def bounded(default: int, low: int, high: int | None = None) -> Any:
    """An integer config field that must lie in ``low..high`` (no upper bound when None)."""
    return dataclasses.field(default=default, metadata={"min": low, "max": high})


def ec2_type(default: str) -> Any:
    """A config field naming an EC2 instance type (checked against the catalog and region)."""
    return dataclasses.field(default=default, metadata={"instance_type": True})


def emails() -> Any:
    """A config field of email addresses (comma-separated with ``-c``), each checked."""
    return dataclasses.field(default=(), metadata={"emails": True})


@dataclass(frozen=True)
class Override:
    """A config field and the context key that set it (``None``: the default)."""

    field: str
    key: str | None
    value: Any


class StackSettings:
    """A stack's config plus which ``-c`` key set each field, for error messages."""

    def __init__(self, stack_name: str, config: Any, keys: Mapping[str, str]) -> None:
        self.stack_name = stack_name
        self.config = config
        self.keys = dict(keys)

    def key_for(self, field_name: str) -> str:
        """The ``-c`` key the user typed for ``field_name``, else the stack-specific key."""
        return self.keys.get(field_name, f"{self.stack_name}:{field_name}")

    def problem(self, field_name: str, value: Any, allowed: str, reason: str = "") -> Problem:
        key = self.key_for(field_name)
        origin = "" if field_name in self.keys else " (default)"
        return Problem(f"-c {key}{origin}", field_name, value, allowed, reason)


def config_fields(config_type: type[Any]) -> list[dataclasses.Field[Any]]:
    return list(dataclasses.fields(config_type))


def known_keys(stacks: Mapping[str, type[Any]]) -> tuple[set[str], set[str]]:
    """(``Stack:field`` keys, bare ``field`` keys) of every sample stack's config."""
    scoped = {f"{name}:{f.name}" for name, t in stacks.items() for f in config_fields(t)}
    bare = {f.name for t in stacks.values() for f in config_fields(t)}
    return scoped, bare


def _closest(key: str, candidates: Iterable[str], cutoff: float = 0.6) -> list[str]:
    by_lower: dict[str, str] = {}
    for candidate in sorted(candidates):
        by_lower.setdefault(candidate.lower(), candidate)
    matches = difflib.get_close_matches(key.lower(), list(by_lower), n=3, cutoff=cutoff)
    return [by_lower[m] for m in matches]


def unknown_key_problems(
    context: Mapping[str, Any], stacks: Mapping[str, type[Any]]
) -> list[Problem]:
    """Context keys that look like the sample app's but are not: typos, wrong case."""
    scoped, bare = known_keys(stacks)
    stack_names = {name.lower(): name for name in stacks}
    problems: list[Problem] = []
    for key in sorted(context):
        if key in scoped or key in bare or key in OWN_KEYS:
            continue
        lowered = key.lower()
        if lowered.startswith(OWN_PREFIX):
            candidates: Iterable[str] = OWN_KEYS
        elif lowered.startswith(_CDK_PREFIXES):
            continue
        elif ":" in key:
            prefix = key.split(":", 1)[0]
            if prefix.lower() not in stack_names and not _closest(prefix, stacks, 0.8):
                continue  # not a stack name: someone else's key
            candidates = scoped
        elif key.lower() in {b.lower() for b in bare} or _closest(key, bare, 0.8):
            candidates = bare
        else:
            continue  # a key unlike ours: leave it to whoever reads it
        suggestions = _closest(key, candidates)[:1]
        hint = f"did you mean {' or '.join(suggestions)}?" if suggestions else ""
        allowed = "a field of a sample stack's config (stacks/*.py)"
        problems.append(Problem(f"-c {key}", "key", key, allowed, hint or "unknown key"))
    return problems


def region_problems(region: Any, account: Any) -> list[Problem]:
    problems: list[Problem] = []
    regions = InstanceCatalog.surveyed_regions
    if str(region) not in regions:
        suggestions = _closest(str(region), regions)
        hint = f"did you mean {' or '.join(suggestions)}?" if suggestions else ""
        problems.append(
            Problem(
                f"-c {REGION_KEY}",
                "region",
                region,
                f"one of the {len(regions)} regions in the instance catalog",
                hint or "unknown region",
            )
        )
    if not re.fullmatch(r"\d{12}", str(account)):
        problems.append(Problem(f"-c {ACCOUNT_KEY}", "account", account, "a 12-digit account id"))
    return problems


def read_settings(
    node: Node, stack_name: str, config_type: type[T], defaults: T | None = None
) -> tuple[StackSettings, list[Problem]]:
    """The stack's config from its defaults and context overrides, and every bad value."""
    base = defaults if defaults is not None else config_type()
    hints = typing.get_type_hints(config_type)
    overrides: dict[str, Any] = {}
    keys: dict[str, str] = {}
    problems: list[Problem] = []
    for field in config_fields(config_type):
        for key in (field.name, f"{stack_name}:{field.name}"):  # the stack-specific key wins
            raw = node.try_get_context(key)
            if raw is None:
                continue
            keys[field.name] = key
            try:
                overrides[field.name] = _convert(raw, hints[field.name])
            except ValueError as err:
                problems.append(Problem(f"-c {key}", field.name, raw, str(err)))
                overrides.pop(field.name, None)
    config = dataclasses.replace(base, **overrides)  # type: ignore[type-var]
    settings = StackSettings(stack_name, config, keys)
    for field in config_fields(config_type):
        if field.name in overrides or field.name not in keys:
            problems.extend(_field_problems(settings, field))
    return settings, problems


def _field_problems(settings: StackSettings, field: dataclasses.Field[Any]) -> list[Problem]:
    value = getattr(settings.config, field.name)
    meta = field.metadata
    if "choices" in meta and value not in meta["choices"]:
        allowed = "one of " + ", ".join(repr(c) for c in meta["choices"])
        return [settings.problem(field.name, value, allowed)]
    if meta.get("emails"):
        bad = [v for v in value if not is_email(v)]
        return [settings.problem(field.name, v, "an email address (name@domain.tld)") for v in bad]
    if "min" in meta and isinstance(value, int):
        low, high = meta["min"], meta.get("max")
        if value < low or (high is not None and value > high):
            allowed = f"{low} to {high}" if high is not None else f"{low} or more"
            return [settings.problem(field.name, value, allowed)]
    return []


def from_context(node: Node, stack_name: str, config_type: type[T], defaults: T | None = None) -> T:
    """Build ``config_type`` from its defaults and the context overrides that name its fields."""
    settings, problems = read_settings(node, stack_name, config_type, defaults)
    if problems:
        raise HpcValidationError(problems)
    config: T = settings.config
    return config


# --- instance types and Availability Zones ---------------------------------------------------


def compute_types(config: Any) -> dict[str, str]:
    """Config field -> instance type, for the instance types the stack will launch."""
    method = getattr(config, "compute_types", None)
    if method is not None:
        found: dict[str, str] = method()
        return found
    return {
        f.name: getattr(config, f.name)
        for f in config_fields(type(config))
        if f.metadata.get("instance_type")
    }


def zones_offering(region: str, instance_types: Iterable[str]) -> list[str] | None:
    """AZs of ``region`` that offer every type (sorted), or None when the catalog cannot say."""
    common: set[str] | None = None
    for name in instance_types:
        spec = InstanceCatalog.find(name)
        if spec is None:
            return None
        azs = spec.zones.get(region)
        if not azs:
            return None if offered_in(spec, region) is None else []
        common = set(azs) if common is None else common & set(azs)
    return sorted(common or ())


def pick_compute_az(
    region: str, instance_types: Iterable[str], stack_azs: Sequence[str] | None = None
) -> str | None:
    """The first AZ (in the stack's AZ order when known) offering every type, else None."""
    offering = zones_offering(region, list(instance_types))
    if not offering:
        return None
    known = [az for az in stack_azs or () if az.startswith(region)]
    for az in known:
        if az in offering:
            return az
    return None if known else offering[0]


def _efa_types_in(region: str, near: str) -> list[str]:
    specs = []
    for name in _catalog_names():
        spec = InstanceCatalog.find(name)
        if spec is not None and spec.efa_supported and region in spec.zones:
            specs.append(name)
    return difflib.get_close_matches(near, specs, n=3, cutoff=0.0)


def _catalog_names() -> list[str]:
    store: Any = InstanceCatalog
    return sorted(store._data().raw)


def compute_problems(
    settings: StackSettings, region: str, stack_azs: Sequence[str] | None
) -> tuple[str | None, list[Problem]]:
    """Check the stack's instance types and compute AZ against ``region``; pick the AZ.

    Returns the AZ to use (``None`` when there is no good one) and the problems found.
    """
    problems: list[Problem] = []
    found = compute_types(settings.config)
    usable: dict[str, str] = {}
    for field_name, name in found.items():
        spec = InstanceCatalog.find(name)
        if spec is None:
            close = difflib.get_close_matches(name, _catalog_names(), n=3, cutoff=0.6)
            hint = f"did you mean {', '.join(close)}?" if close else ""
            problems.append(settings.problem(field_name, name, "an EC2 instance type", hint))
            continue
        if offered_in(spec, region) is False:
            others = ", ".join(_efa_types_in(region, name))
            problems.append(
                settings.problem(
                    field_name,
                    name,
                    f"a type offered in {region} (with EFA there, e.g. {others})",
                    f"not offered in {region}",
                )
            )
            continue
        usable[field_name] = name
    chosen = getattr(settings.config, "compute_availability_zone", None)
    if chosen is None or len(usable) < len(found):
        return (chosen or None), problems
    offering = zones_offering(region, usable.values())
    fabric_azs = [az for az in stack_azs or () if az.startswith(region)]
    if chosen:
        allowed_azs = [az for az in (offering or []) if not fabric_azs or az in fabric_azs]
        if not chosen.startswith(region) or (offering is not None and chosen not in offering):
            problems.append(
                settings.problem(
                    "compute_availability_zone",
                    chosen,
                    f"an AZ of {region} offering {', '.join(sorted(set(usable.values())))}: "
                    f"{', '.join(allowed_azs) or 'none'}",
                )
            )
        return chosen, problems
    az = pick_compute_az(region, usable.values(), fabric_azs)
    if az is None and offering is not None:
        problems.append(
            settings.problem(
                "compute_availability_zone",
                "",
                f"an AZ of {region} offering every type",
                f"no AZ{' of ' + ', '.join(fabric_azs) if fabric_azs else ''} offers all of "
                f"{', '.join(sorted(set(usable.values())))}",
            )
        )
    return az, problems


def remap_construct_problems(
    problems: Iterable[Problem], settings: StackSettings, props: Mapping[str, str]
) -> list[Problem]:
    """Name the ``-c`` key behind a construct's problem (``props``: "Child/prop" -> field)."""
    result = []
    prefix = settings.stack_name + "/"
    for p in problems:
        local = p.path[len(prefix) :] if p.path.startswith(prefix) else p.path
        field_name = props.get(f"{local}/{p.prop}")
        if field_name is None:
            result.append(p)
        else:
            key = settings.key_for(field_name)
            result.append(Problem(f"-c {key} ({p.path})", p.prop, p.value, p.allowed, p.reason))
    return result
