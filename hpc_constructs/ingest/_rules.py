"""DataIngest's validation rules: small pure functions on plain values, one per rule.

Each takes a :class:`~hpc_constructs.errors.Validator` (which may be built from a plain path
string, no construct needed) and records problems on it; none creates CDK objects, so the rules
are tested in milliseconds without an App.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from typing import Any

from aws_cdk import Token

from hpc_constructs.errors import Problem, Validator, is_token
from hpc_constructs.ingest._facts import (
    AGENT_ARN_PATTERN,
    AMAZON_ASN_RANGES,
    HOSTNAME_PATTERN,
    MAX_AGENTS,
    PATH_PATTERN,
)

#: Kinds understood by :func:`check_types`: ``str``, ``int``, ``bool``, ``strs`` (a list of
#: strings); a trailing ``?`` also allows None.
TypeSpec = tuple[str, Any, str]

_KIND_NAMES = {
    "str": "a str",
    "int": "an int",
    "bool": "a bool",
    "strs": "a list of str, e.g. ['a', 'b'] (not a single str)",
}


def _is_int(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and is_token(value))


def type_ok(value: Any, kind: str) -> bool:
    """Whether ``value`` has the Python type ``kind`` names (tokens of that type pass)."""
    if kind.endswith("?"):
        return value is None or type_ok(value, kind[:-1])
    if kind == "str":
        return isinstance(value, str)
    if kind == "int":
        return _is_int(value)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "strs":
        return isinstance(value, (list, tuple)) and all(isinstance(x, str) for x in value)
    raise ValueError(f"unknown kind {kind!r}")


def check_types(v: Validator, specs: Sequence[TypeSpec]) -> bool:
    """One problem per prop whose value has the wrong Python type; True when all are right.

    Recorded even for tokens of the wrong kind (a string token where a list is expected would
    otherwise be iterated character by character).
    """
    ok = True
    for prop, value, kind in specs:
        if type_ok(value, kind):
            continue
        ok = False
        allowed = _KIND_NAMES[kind.rstrip("?")] + (" or None" if kind.endswith("?") else "")
        v.problems.append(Problem(v.path, prop, value, allowed, f"got {type(value).__name__}"))
    return ok


def is_list_token(value: Any) -> bool:
    """A whole list that is a token (``Token.as_list``, ``Fn.split``): its length is unknown."""
    return isinstance(value, (list, tuple)) and bool(Token.is_unresolved(list(value)))


def require_concrete(v: Validator, prop: str, value: Any, why: str) -> bool:
    """Record that ``prop`` needs a concrete value at synth time when it is a token."""
    if not (is_token(value) or is_list_token(value)):
        return True
    v.problems.append(
        Problem(
            v.path,
            prop,
            value,
            "a concrete value (not a token)",
            f"needs a concrete value at synth time: {why}",
        )
    )
    return False


def amazon_asn_ok(asn: int) -> bool:
    return any(low <= asn <= high for low, high in AMAZON_ASN_RANGES)


def is_ipv4_cidr(value: str) -> bool:
    """A network CIDR such as ``10.0.0.0/16`` (no host bits)."""
    try:
        ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        return False
    return "/" in value


def is_interface_cidr(value: str) -> bool:
    """An address with prefix length such as ``169.254.10.1/30``."""
    try:
        ipaddress.IPv4Interface(value)
    except ValueError:
        return False
    return "/" in value


def s3_prefix_problem(prefix: str) -> str | None:
    """Why ``prefix`` is not a usable S3 key prefix (None when it is)."""
    if prefix.startswith("/"):
        return "begins with /"
    for bad in ("//", "/./", "/../"):
        if bad in prefix:
            return f"contains {bad}"
    if prefix in (".", "..") or prefix.startswith(("./", "../")):
        return "is a relative path"
    return None


def check_s3_prefix(v: Validator, prop: str, prefix: str) -> None:
    """S3 key prefixes scope IAM policies, so they must be concrete and well formed."""
    if not require_concrete(v, prop, prefix, "the IAM policy is scoped to this prefix"):
        return
    problem = s3_prefix_problem(prefix)
    v.require(
        problem is None,
        prop,
        prefix,
        "an S3 prefix that does not begin with / and does not contain //, /./ or /../",
        problem or "",
    )


def check_path(v: Validator, prop: str, path: str) -> None:
    v.require(
        is_token(path) or bool(PATH_PATTERN.match(path)),
        prop,
        path,
        "a path of letters, digits, spaces and _ - + . / ( ) $",
    )


def check_hostname(v: Validator, prop: str, hostname: str) -> None:
    v.require(
        is_token(hostname) or (bool(hostname) and bool(HOSTNAME_PATTERN.match(hostname))),
        prop,
        hostname,
        "a non-empty DNS name or IPv4 address",
    )


def check_agents(v: Validator, prop: str, agent_arns: Sequence[str]) -> None:
    if is_list_token(agent_arns):  # DataSync accepts a token list; its length is unknown
        return
    v.require(
        1 <= len(agent_arns) <= MAX_AGENTS,
        prop,
        list(agent_arns),
        f"1 to {MAX_AGENTS} agent ARNs",
    )
    for arn in agent_arns:
        v.require(
            is_token(arn) or bool(AGENT_ARN_PATTERN.match(arn)),
            prop,
            arn,
            "arn:<partition>:datasync:<region>:<account>:agent/agent-<17 lowercase letters/digits>",
        )


def check_cidrs(v: Validator, prop: str, cidrs: Sequence[str], example: str) -> None:
    if is_list_token(cidrs):
        return
    for cidr in cidrs:
        v.require(is_token(cidr) or is_ipv4_cidr(cidr), prop, cidr, example)


def check_pattern(v: Validator, prop: str, value: str, pattern: str, allowed: str) -> None:
    v.require(is_token(value) or bool(re.match(pattern, value)), prop, value, allowed)
