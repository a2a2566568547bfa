"""Plain-valued options and rules of the operations constructs (standard library only): alarm
thresholds, cost-allocation tags and budgets. Rules record problems on a ``Validator``."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hpc_constructs.errors import Validator
from hpc_constructs.ops import facts

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def is_email(text: str) -> bool:
    """An address AWS Budgets and SNS email subscriptions can take (name@domain.tld)."""
    return bool(_EMAIL.match(text))


@dataclass(frozen=True)
class AlarmThresholds:
    """When the alarms of an :class:`HpcDashboard` fire.

    :param lustre_free_capacity_percent: a Lustre file system's free capacity below this share
        of its storage capacity, 1-99. Default: - 10.
    :param lustre_free_capacity_gib: free capacity below this many GiB instead of a share
        (also for imported file systems, whose capacity is unknown); at least 1 and less than
        the file system's capacity. Default: - None (the percentage applies).
    :param boot_failures: failed node boots (health gate or set-up) within five minutes,
        1-1,000. Default: - 1 (any failed boot).
    :param launch_failures: unsuccessful Auto Scaling launches within five minutes, 1-1,000.
        Default: - 1.
    :param datasync_failures: DataSync task executions that ended in ERROR within five
        minutes, 1-1,000. Default: - 1.
    :param job_failures: Batch jobs (or array children) of a construct's queues that ended
        FAILED within five minutes, 1-1,000. Default: - 1.
    :param spot_interruptions: Spot interruption warnings (a fleet) or tasks requeued after
        their Spot host was reclaimed (a ``BatchGrid``) within the window, 1-1,000.
        Default: - 3.
    :param spot_interruption_window_minutes: the window, 5-1,440 minutes. Default: - 60.
    """

    lustre_free_capacity_percent: float = 10.0
    lustre_free_capacity_gib: float | None = None
    boot_failures: int = 1
    launch_failures: int = 1
    datasync_failures: int = 1
    job_failures: int = 1
    spot_interruptions: int = 3
    spot_interruption_window_minutes: int = 60


def thresholds_rule(v: Validator, t: AlarmThresholds, prop: str = "alarm_thresholds") -> None:
    """Every threshold in its range."""
    v.in_range(f"{prop}.lustre_free_capacity_percent", t.lustre_free_capacity_percent, 1, 99, "%")
    if t.lustre_free_capacity_gib is not None:
        v.require(
            t.lustre_free_capacity_gib >= 1,
            f"{prop}.lustre_free_capacity_gib",
            t.lustre_free_capacity_gib,
            "1 GiB or more (and less than the file system's capacity)",
        )
    for name in (
        "boot_failures",
        "launch_failures",
        "datasync_failures",
        "job_failures",
        "spot_interruptions",
    ):
        v.in_range(f"{prop}.{name}", getattr(t, name), 1, 1000)
    v.in_range(
        f"{prop}.spot_interruption_window_minutes",
        t.spot_interruption_window_minutes,
        5,
        1440,
        "minutes",
    )


def free_capacity_threshold_bytes(
    v: Validator, t: AlarmThresholds, capacity_gib: float | None, prop: str
) -> int | None:
    """The free-capacity alarm threshold in bytes for a file system of ``capacity_gib`` (None:
    unknown): GiB when given, else the percentage of the capacity; None when neither applies."""
    if t.lustre_free_capacity_gib is not None:
        if capacity_gib is not None:
            v.require(
                t.lustre_free_capacity_gib < capacity_gib,
                prop,
                t.lustre_free_capacity_gib,
                f"less than the file system's {capacity_gib:g} GiB",
                "the alarm would always fire",
            )
        return int(t.lustre_free_capacity_gib * facts.GIB)
    if capacity_gib is None:
        return None
    return int(capacity_gib * facts.GIB * t.lustre_free_capacity_percent / 100)


def dashboard_name_rule(v: Validator, name: str | None) -> None:
    if name is not None:
        v.require(
            bool(facts.DASHBOARD_NAME.match(name)),
            "dashboard_name",
            name,
            "1-255 characters of A-Z, a-z, 0-9, - and _",
        )


# --- tags and budgets ---------------------------------------------------------------------


def tag_rule(v: Validator, key: str, value: str, *, key_prop: str, value_prop: str) -> None:
    """A tag key and value AWS accepts (Tagging AWS Resources, naming limits)."""
    v.require(
        0 < len(key) <= facts.TAG_KEY_MAX
        and bool(facts.TAG_CHARACTERS.match(key))
        and not key.lower().startswith(facts.RESERVED_TAG_PREFIX),
        key_prop,
        key,
        "1-128 letters, digits, spaces or _ . : / = + - @, not starting with 'aws:'",
    )
    v.require(
        len(value) <= facts.TAG_VALUE_MAX and bool(facts.TAG_CHARACTERS.match(value)),
        value_prop,
        value,
        "0-256 letters, digits, spaces or _ . : / = + - @",
    )


@dataclass(frozen=True)
class BudgetPlan:
    """What an :class:`HpcBudget` creates, as plain values."""

    monthly_limit_usd: float
    actual_threshold_percent: float
    forecast_threshold_percent: float
    emails: tuple[str, ...]
    tags: tuple[tuple[str, str], ...]
    budget_name: str | None


def plan_budget(
    v: Validator,
    *,
    monthly_limit_usd: float,
    notify_emails: Sequence[str],
    has_topic: bool,
    actual_threshold_percent: float,
    forecast_threshold_percent: float,
    tags: Mapping[str, str],
    budget_name: str | None,
) -> BudgetPlan:
    """The budget's rules: a positive limit, thresholds, subscribers, tags and name."""
    v.require(
        0 < monthly_limit_usd <= facts.BUDGET_MAX_LIMIT_USD,
        "monthly_limit_usd",
        monthly_limit_usd,
        "more than 0 and at most 1,000,000,000 (USD per month)",
    )
    for prop, percent in (
        ("actual_threshold_percent", actual_threshold_percent),
        ("forecast_threshold_percent", forecast_threshold_percent),
    ):
        v.in_range(
            prop, percent, facts.BUDGET_MIN_THRESHOLD, facts.BUDGET_MAX_THRESHOLD_PERCENT, "%"
        )
    v.require(
        bool(notify_emails) or has_topic,
        "notify_emails",
        list(notify_emails),
        "at least one email address, or a notify_topic",
        "a budget notification needs a subscriber",
    )
    v.require(
        len(notify_emails) <= facts.BUDGET_MAX_EMAILS,
        "notify_emails",
        list(notify_emails),
        "at most 10 email addresses (one SNS topic and ten emails per notification)",
    )
    for email in notify_emails:
        v.require(is_email(email), "notify_emails", email, "an email address")
    for key, value in tags.items():
        tag_rule(v, key, value, key_prop="tags", value_prop=f"tags[{key!r}]")
    if budget_name is not None:
        v.require(
            bool(facts.BUDGET_NAME.match(budget_name)),
            "budget_name",
            budget_name,
            "1-100 characters without ':' or '\\'",
        )
    return BudgetPlan(
        monthly_limit_usd=monthly_limit_usd,
        actual_threshold_percent=actual_threshold_percent,
        forecast_threshold_percent=forecast_threshold_percent,
        emails=tuple(notify_emails),
        tags=tuple(sorted(tags.items())),
        budget_name=budget_name,
    )
