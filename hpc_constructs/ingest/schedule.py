"""DataSync task schedules: ``rate(...)``/``cron(...)`` checked as EventBridge and DataSync do.

Sources:
- EventBridge Scheduler/Events User Guide, "Schedule expressions": ``cron(minutes hours
  day-of-month month day-of-week year)`` with six fields, minutes 0-59, hours 0-23,
  day-of-month 1-31 (``? L W``), month 1-12 or JAN-DEC, day-of-week 1-7 or SUN-SAT
  (``? L #``), year 1970-2199, exactly one of day-of-month / day-of-week ``?``;
  ``rate(value unit)`` with a positive integer and minute(s)/hour(s)/day(s), singular for 1.
- cfn-lint 1.58 registry schema for ``AWS::DataSync::Task`` (``TaskSchedule.ScheduleExpression``):
  at most 256 characters matching ``^[a-zA-Z0-9\\ \\_\\*\\?\\,\\|\\^\\-\\/\\#\\s\\(\\)\\+]*$``.
- DataSync User Guide, "Scheduling your task": a task runs at most once an hour, so a rate
  must be at least 60 minutes and a cron minute field must name one fixed minute.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aws_cdk import aws_events as events

#: From the cfn-lint 1.58 ``AWS::DataSync::Task`` schema (TaskSchedule.ScheduleExpression).
DATASYNC_SCHEDULE_PATTERN = re.compile(r"^[a-zA-Z0-9\ \_\*\?\,\|\^\-\/\#\s\(\)\+]*$")
DATASYNC_SCHEDULE_MAX_LENGTH = 256

SCHEDULE_ALLOWED = (
    "rate(N hours|days) or rate(>=60 minutes) (singular unit only for 1), or "
    "cron(minute hour day-of-month month day-of-week year) with one fixed minute 0-59, "
    "hour 0-23, day-of-month 1-31 (or ? L W), month 1-12 or JAN-DEC, day-of-week 1-7 or "
    "SUN-SAT (or ? L #), year 1970-2199, and exactly one of day-of-month/day-of-week '?'"
)

_EXPRESSION = re.compile(r"^(rate|cron)\((.*)\)$")
_RATE = re.compile(r"^(\d+)\s+(minute|minutes|hour|hours|day|days)$")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


@dataclass(frozen=True)
class CronField:
    """One cron field: its name, numeric range and the names allowed for numbers."""

    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()


CRON_FIELDS: tuple[CronField, ...] = (
    CronField("minute", 0, 59),
    CronField("hour", 0, 23),
    CronField("day-of-month", 1, 31),
    CronField("month", 1, 12, _MONTHS),
    CronField("day-of-week", 1, 7, _DAYS),
    CronField("year", 1970, 2199),
)


def schedule_expression(schedule: events.Schedule | str) -> str:
    """The ``rate(...)``/``cron(...)`` text of ``schedule``."""
    return schedule if isinstance(schedule, str) else schedule.expression_string


def _number(text: str, field: CronField) -> str | None:
    """Why ``text`` is not a number (or name) in ``field``'s range."""
    if text.upper() in field.names:
        return None
    if not text.isdigit():
        names = f" or {field.names[0]}-{field.names[-1]}" if field.names else ""
        return f"{field.name} {text!r} is not a number{names}"
    if not field.low <= int(text) <= field.high:
        return f"{field.name} {text} is out of range {field.low}-{field.high}"
    return None


def _item_problem(item: str, field: CronField) -> str | None:
    """One comma-separated item: ``*``, ``N``, ``A-B``, each optionally ``/increment``."""
    base, slash, step = item.partition("/")
    if slash and (not step.isdigit() or not 1 <= int(step) <= field.high):
        return f"{field.name} increment {step!r} must be a number 1-{field.high}"
    if base == "*":
        return None
    low, dash, high = base.partition("-")
    problem = _number(low, field)
    if problem is None and dash:
        problem = _number(high, field)
    return problem


def _special_problem(text: str, field: CronField) -> str | bool | None:
    """Day-of-month ``L``/``LW``/``NW`` and day-of-week ``L``/``NL``/``N#K``; False when
    ``text`` is not one of those forms."""
    upper = text.upper()
    if field.name == "day-of-month":
        if upper in ("L", "LW"):
            return None
        if upper.endswith("W"):
            return _number(upper[:-1], field)
    if field.name == "day-of-week":
        if upper == "L":
            return None
        if upper.endswith("L"):
            return _number(upper[:-1], field)
        day, hash_, nth = upper.partition("#")
        if hash_:
            if not nth.isdigit() or not 1 <= int(nth) <= 5:
                return f"day-of-week #{nth} must be 1-5 (the nth weekday of the month)"
            return _number(day, field)
    return False


def cron_field_problem(text: str, field: CronField) -> str | None:
    """Why ``text`` is not a valid value of ``field`` (None when it is)."""
    if text == "?":
        if field.name in ("day-of-month", "day-of-week"):
            return None
        return f"'?' is only allowed in day-of-month or day-of-week, not {field.name}"
    special = _special_problem(text, field)
    if special is not False:
        return special if isinstance(special, str) else None
    for item in text.split(","):
        problem = _item_problem(item, field) if item else f"{field.name} has an empty list item"
        if problem:
            return problem
    return None


def cron_problem(body: str) -> str | None:
    """Why the inside of ``cron(...)`` is not valid for EventBridge (None when it is)."""
    fields = body.split()
    if len(fields) != 6:
        return "cron needs 6 fields: minute hour day-of-month month day-of-week year"
    for text, field in zip(fields, CRON_FIELDS, strict=True):
        problem = cron_field_problem(text, field)
        if problem:
            return problem
    if (fields[2] == "?") == (fields[4] == "?"):
        return "exactly one of day-of-month and day-of-week must be '?'"
    return None


def rate_problem(body: str) -> str | None:
    """Why the inside of ``rate(...)`` is not valid for EventBridge (None when it is)."""
    rate = _RATE.match(body)
    if not rate:
        return "rate must be 'N minutes', 'N hours' or 'N days'"
    value, unit = int(rate.group(1)), rate.group(2)
    if value < 1:
        return "rate must be a positive integer"
    if value == 1 and unit.endswith("s"):
        return f"use the singular unit for 1: rate(1 {unit[:-1]})"
    if value > 1 and not unit.endswith("s"):
        return f"use the plural unit for {value}: rate({value} {unit}s)"
    return None


def datasync_schedule_problem(expression: str) -> str | None:
    """DataSync's own limits on a syntactically valid expression: the schema's length and
    characters, and at most one run an hour."""
    if len(expression) > DATASYNC_SCHEDULE_MAX_LENGTH:
        return f"longer than {DATASYNC_SCHEDULE_MAX_LENGTH} characters"
    if not DATASYNC_SCHEDULE_PATTERN.match(expression):
        return "contains characters the AWS::DataSync::Task schema does not allow"
    kind, body = _split(expression)
    if kind == "rate":
        rate = _RATE.match(body)
        if rate and rate.group(2).startswith("minute") and int(rate.group(1)) < 60:
            return "runs more often than once an hour"
        return None
    minute = body.split()[0]
    if not minute.isdigit():
        return "the minute field must be one fixed minute (0-59), or it runs more than hourly"
    return None


def _split(expression: str) -> tuple[str, str]:
    match = _EXPRESSION.match(expression.strip())
    if not match:
        return "", ""
    return match.group(1), match.group(2).strip()


def schedule_problem(expression: str) -> str | None:
    """Why ``expression`` can't be a DataSync schedule (None when it can).

    First the EventBridge syntax (every field and range), then DataSync's limits (schema
    characters and length, at most hourly).
    """
    kind, body = _split(expression)
    if not kind:
        return "not a rate(...) or cron(...) expression"
    problem = rate_problem(body) if kind == "rate" else cron_problem(body)
    return problem or datasync_schedule_problem(expression.strip())
