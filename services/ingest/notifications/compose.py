"""What a round says: which values are due soon or late, and the words of reminders, notices and digests.

Pure functions over what metrics answered; no database, no network."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass

from services.ingest.clients.metrics_reads import DepartmentRef, DepartmentSchedule, MetricStanding

# How many of a metric's latest due dates an overdue notice looks back over: a new installation (or one whose
# loop was off for months) tells people about what is late now, not about every gap since the metric began.
OVERDUE_LOOKBACK = 2

STATUS_WORDS = {
    "on_target": "on target",
    "near": "near target",
    "off_target": "off target",
    "no_target": "no target set",
    "missing": "no value yet",
}
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class DueValue:
    metric: str
    name: str
    period: str
    due_date: dt.date
    days_late: int


@dataclass(frozen=True)
class Message:
    subject: str
    body: str
    link: str


def due_and_late(
    schedule: DepartmentSchedule, as_of: dt.date, reminder_days: int
) -> tuple[dict[dt.date, list[DueValue]], dict[dt.date, list[DueValue]]]:
    """(values due within reminder_days of as_of, values whose due date has passed without them), by due date."""
    soon: dict[dt.date, list[DueValue]] = defaultdict(list)
    late: dict[dt.date, list[DueValue]] = defaultdict(list)
    horizon = as_of + dt.timedelta(days=reminder_days)
    # Judged from due date and arrival against this as_of (metrics' own judgement is against its as_of, the same
    # setting in any one deployment).
    for metric in schedule.metrics:
        for value in metric.values:
            if value.arrived_on is None and as_of <= value.due_date <= horizon:
                soon[value.due_date].append(_due(metric.metric, metric.name, value.period, value.due_date, 0))
        past = sorted((v for v in metric.values if v.due_date < as_of), key=lambda v: v.due_date)
        for value in past[-OVERDUE_LOOKBACK:]:
            if value.arrived_on is None:
                days = (as_of - value.due_date).days
                late[value.due_date].append(_due(metric.metric, metric.name, value.period, value.due_date, days))
    return dict(soon), dict(late)


def _due(metric: str, name: str, period: str, due_date: dt.date, days_late: int) -> DueValue:
    return DueValue(metric, name, period, due_date, days_late)


def week_of(as_of: dt.date, weekday: int) -> dt.date:
    """The day this week's digest belongs to: the latest digest weekday on or before as_of."""
    return as_of - dt.timedelta(days=(as_of.weekday() - weekday) % 7)


# --- words ------------------------------------------------------------------------------------------------------


def long_date(day: dt.date) -> str:
    return f"{day.strftime('%A, %B')} {day.day}, {day.year}"


def short_date(day: dt.date) -> str:
    return f"{day.strftime('%B')} {day.day}, {day.year}"


def period_label(period: str) -> str:
    match = _MONTH.match(period)
    if match:
        return f"{dt.date(int(match[1]), int(match[2]), 1).strftime('%B')} {match[1]}"
    return period


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _number(value: float) -> str:
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "no value"
    if unit == "percent":
        return f"{_number(round(value * 100, 1))}%"
    if unit == "dollars":
        return f"${value:,.0f}"
    if unit in ("count", ""):
        return _number(value)
    return f"{_number(value)} {unit}"


def format_change(change: float | None, unit: str) -> str | None:
    if change is None:
        return None
    amount = round(change * 100, 1) if unit == "percent" else change
    if abs(amount) < 0.05:
        return "no change"
    sign = "+" if amount > 0 else "−"
    if unit == "percent":
        return f"{sign}{_number(abs(amount))} pts"
    return f"{sign}{format_value(abs(change), unit)}"


def _value_lines(values: list[DueValue]) -> list[str]:
    ordered = sorted(values, key=lambda v: (v.name.lower(), v.metric, v.period))
    return [f"- {v.name} ({v.metric}), {period_label(v.period)}" for v in ordered]


def _link(base: str, page: str) -> str:
    return f"{base.rstrip('/')}/{page}"


def reminder(
    name: str, department: DepartmentRef, due: dt.date, values: list[DueValue], as_of: dt.date, base_url: str
) -> Message:
    link = f"due.html?department={department.code}"
    days = (due - as_of).days
    when = "today" if days == 0 else ("tomorrow" if days == 1 else f"in {days} days")
    subject = f"Due {short_date(due)}: {_count(len(values), 'value')} for {department.name}"
    body = "\n".join(
        [
            f"Hello {name},",
            "",
            f"{department.name} ({department.code}) has {_count(len(values), 'value')} due {when}, "
            f"on {long_date(due)}:",
            "",
            *_value_lines(values),
            "",
            f"Enter or upload them here: {_link(base_url, link)}",
            "",
            "CityStat sends this reminder to the department's liaisons and head before a due date.",
        ]
    )
    return Message(subject, body, link)


def overdue(
    name: str, department: DepartmentRef, due: dt.date, values: list[DueValue], as_of: dt.date, base_url: str
) -> Message:
    link = f"due.html?department={department.code}"
    days = (as_of - due).days
    subject = f"Overdue since {short_date(due)}: {_count(len(values), 'value')} for {department.name}"
    was, has = ("was", "has") if len(values) == 1 else ("were", "have")
    body = "\n".join(
        [
            f"Hello {name},",
            "",
            f"{department.name} ({department.code}) has {_count(len(values), 'value')} that {was} due on "
            f"{long_date(due)} and {has} not arrived ({_count(days, 'day')} late):",
            "",
            *_value_lines(values),
            "",
            f"Enter or upload them here: {_link(base_url, link)}",
            "",
            "CityStat sends this notice to the department's liaisons and head and to the performance office.",
        ]
    )
    return Message(subject, body, link)


def _standing_line(item: MetricStanding) -> str:
    status = STATUS_WORDS.get(item.status, item.status.replace("_", " "))
    line = f"- {item.name} ({item.metric}), {period_label(item.period)}: "
    if item.value is None:
        return line + status
    line += f"{format_value(item.value, item.unit)}, {status}"
    if item.target is not None:
        line += f" (target {format_value(item.target, item.unit)})"
    change = format_change(item.change, item.unit)
    if change is not None:
        line += f"; {change} from {period_label(item.previous_period)}"
    return line


_STATUS_ORDER = ("off_target", "near", "missing", "on_target", "no_target")


def digest(
    name: str,
    department: DepartmentRef,
    week: dt.date,
    standings: list[MetricStanding],
    soon: dict[dt.date, list[DueValue]],
    late: dict[dt.date, list[DueValue]],
    as_of: dt.date,
    base_url: str,
) -> Message:
    """The week's front-line feedback: each metric's latest value, status against target and change, what needs
    attention first, and which values are due or late."""
    link = f"department.html?code={department.code}"
    counts = {status: sum(1 for s in standings if s.status == status) for status in STATUS_WORDS}
    summary = [f"{counts['on_target']} of {_count(len(standings), 'metric')} on target"]
    summary += [f"{counts[s]} {STATUS_WORDS[s]}" for s in ("near", "off_target", "missing", "no_target") if counts[s]]
    ordered = sorted(
        standings,
        key=lambda s: (_STATUS_ORDER.index(s.status) if s.status in _STATUS_ORDER else 9, s.name.lower()),
    )
    lines = [
        f"Hello {name},",
        "",
        f"{department.name} ({department.code}) this week, as of {short_date(as_of)}: " + "; ".join(summary) + ".",
        "",
    ]
    if ordered:
        lines += ["Metrics, those needing attention first:", *(_standing_line(s) for s in ordered)]
    else:
        lines.append("The department has no agreed metrics yet.")
    late_values = [v for values in late.values() for v in values]
    soon_values = [v for values in soon.values() for v in values]
    if late_values:
        lines += ["", "Late (past their due date):", *_dated_lines(late_values)]
    if soon_values:
        lines += ["", "Due in the next few days:", *_dated_lines(soon_values)]
    lines += [
        "",
        f"The department's page: {_link(base_url, link)}",
        f"Enter this period's values: {_link(base_url, f'due.html?department={department.code}')}",
        "",
        "CityStat sends this digest every week to the department's staff.",
    ]
    subject = f"Weekly digest: {department.name}, week of {short_date(week)}"
    return Message(subject, "\n".join(lines), link)


def _dated_lines(values: list[DueValue]) -> list[str]:
    ordered = sorted(values, key=lambda v: (v.due_date, v.name.lower(), v.period))
    return [f"- {v.name} ({v.metric}), {period_label(v.period)}: due {short_date(v.due_date)}" for v in ordered]
