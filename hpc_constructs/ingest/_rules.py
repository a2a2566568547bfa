"""DataIngest's validation rules: small pure functions on plain values, one per rule.

Each takes a :class:`~hpc_constructs.errors.Validator` (which may be built from a plain path
string, no construct needed) and records problems on it; none creates CDK objects, so the rules
are tested in milliseconds without an App.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence

from hpc_constructs.errors import Validator, is_token, needs_concrete_value
from hpc_constructs.ingest._facts import (
    AGENT_ARN_PATTERN,
    AMAZON_ASN_RANGES,
    HOSTNAME_PATTERN,
    MAX_AGENTS,
    PATH_PATTERN,
)


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
    if not needs_concrete_value(v, prop, prefix, "the IAM policy is scoped to this prefix"):
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


def _whole_list_token(values: Sequence[str]) -> bool:
    """A list that is one token (``Token.as_list``, ``Fn.split``): its items are unknown."""
    return is_token(values) and not any(is_token(x) for x in values)


def check_agents(v: Validator, prop: str, agent_arns: Sequence[str]) -> None:
    if _whole_list_token(agent_arns):  # DataSync accepts a token list; its length is unknown
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
    if _whole_list_token(cidrs):
        return
    for cidr in cidrs:
        v.require(is_token(cidr) or is_ipv4_cidr(cidr), prop, cidr, example)


def check_pattern(v: Validator, prop: str, value: str, pattern: str, allowed: str) -> None:
    v.require(is_token(value) or bool(re.match(pattern, value)), prop, value, allowed)
