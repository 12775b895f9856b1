"""Numbers, periods, dates and statuses as a briefing prints them.

Locale-independent on purpose: Python's format mini-language always groups with "," and uses "." as the decimal
point, whatever the process locale, so a re-render on another machine gives the same bytes. The words match the
frontend's (frontend/js/format.js) so a figure reads the same in the app and in a briefing.
"""

from __future__ import annotations

import datetime as dt
import math
import re

from services.reporting.briefings.snapshot import Change, CommitmentStatus, Status

MISSING = "—"

STATUS_LABELS: dict[str, str] = {
    Status.on_target: "On target",
    Status.near: "Near target",
    Status.off_target: "Off target",
    Status.no_target: "No target",
    Status.missing: "Missing",
}

# A shape as well as a colour, so a status never rests on colour alone (and survives a black-and-white printer).
STATUS_ICONS: dict[str, str] = {
    Status.on_target: "✓",
    Status.near: "!",
    Status.off_target: "✕",
    Status.no_target: "–",
    Status.missing: "?",
}

COMMITMENT_LABELS: dict[str, str] = {
    CommitmentStatus.met: "Met",
    CommitmentStatus.on_track: "On track",
    CommitmentStatus.at_risk: "At risk",
    CommitmentStatus.missed: "Missed",
    CommitmentStatus.open: "Open",
    CommitmentStatus.done: "Done",
}

TREND_LABELS = {"improving": "Improving", "worsening": "Worsening", "flat": "Flat"}

REASON_LABELS = {
    "off_target": "Off target",
    "mover": "Big change",
    "signal": "Statistical signal",
    "chosen": "Chosen by the analyst",
}

DIRECTION_LABELS = {
    "higher_is_better": "Higher is better",
    "lower_is_better": "Lower is better",
    "closer_is_better": "Closer to target is better",
}

FREQUENCY_LABELS = {"week": "Weekly", "month": "Monthly", "quarter": "Quarterly", "year": "Yearly"}

# Units counted in whole things read better with a word after the number; the short form labels axis ticks.
NOUNS: dict[str, tuple[str, str, str]] = {
    "days": ("day", "days", "d"),
    "hours": ("hour", "hours", "h"),
    "minutes": ("minute", "minutes", "min"),
    "tons": ("ton", "tons", "t"),
    "miles": ("mile", "miles", "mi"),
}
PLAIN_UNITS = {"", "count", "number"}

MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip

_PERIOD = re.compile(r"^(\d{4})(?:-(\d{2})|-W(\d{2})|-Q([1-4]))?$")


def _number(value: float, decimals: int = 1) -> str:
    """At most `decimals` decimals, trailing zeros dropped, never "-0"."""
    text = f"{value:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _usable(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _dollars(value: float, *, sign: bool = False) -> str:
    prefix = "-" if value < 0 else ("+" if sign and value > 0 else "")
    amount = abs(value)
    # Cents matter for unit costs ($54.32 per ton), not for budgets ($1,234,567).
    if amount < 1000 and amount != int(amount):
        text = f"{amount:,.2f}"
    else:
        text = f"{amount:,.0f}"
    if text == "0" or text == "0.00":
        prefix = ""
    return f"{prefix}${text}"


def _noun(unit: str, value: float) -> str:
    one, many, _ = NOUNS.get(unit, (unit, unit, unit))
    return one if abs(value) == 1 else many


def format_value(value: float | None, unit: str, *, decimals: int = 1) -> str:
    """A value in its unit: "95%" (percent values are fractions), "1,234", "3.5 days", "$1,200", "$54.32".
    At most `decimals` decimals (of the percentage, for percent metrics); dollars show cents below $1,000."""
    if not _usable(value):
        return MISSING
    if unit == "percent":
        return _number(value * 100, decimals) + "%"
    if unit == "dollars":
        return _dollars(value)
    number = _number(value, decimals)
    if unit in PLAIN_UNITS:
        return number
    if unit in NOUNS:
        return f"{number} {_noun(unit, value)}"
    return f"{number} {unit.replace('_', ' ')}"


def _decimals(shown: float) -> int:
    for decimals in range(0, 5):
        if abs(round(shown, decimals) - shown) < 1e-9 * max(1.0, abs(shown)):
            return decimals
    return 4


def _scale(magnitude: float) -> tuple[float, str]:
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if magnitude >= size:
            return size, suffix
    return 1.0, ""


def format_ticks(ticks: list[float], unit: str, step: float) -> list[str]:
    """Axis tick labels: short, in the unit ("95%", "1,234", "3.2 d", "$1.2M"), as precise as the step needs.

    One scale for the whole axis (chosen by its largest tick), so "$500K" never sits next to "$1,000K".
    """
    top = max((abs(t) for t in ticks), default=0.0)
    if unit == "percent":
        decimals = _decimals(step * 100)
        return [_number(t * 100, decimals) + "%" for t in ticks]
    if unit == "dollars":
        scale, suffix = _scale(top)
        decimals = _decimals(step / scale)
        labels = []
        for t in ticks:
            text = _number(abs(t) / scale, decimals)
            labels.append("$0" if text == "0" else f"{'-' if t < 0 else ''}${text}{suffix}")
        return labels
    if unit in NOUNS:
        decimals = _decimals(step)
        return [f"{_number(t, decimals)} {NOUNS[unit][2]}" for t in ticks]
    # Counts and other units: grouped digits up to a million, then "1.2M" (the axis is narrow).
    scale, suffix = _scale(top) if top >= 1e6 else (1.0, "")
    decimals = _decimals(step / scale)
    labels = []
    for t in ticks:
        text = _number(t / scale, decimals)
        labels.append(text if text == "0" else text + suffix)
    return labels


def format_absolute_change(change: float | None, unit: str) -> str | None:
    """A change between two values: "+3.1 points" for percent metrics, "+12 days", "-$1,200", "+340"."""
    if not _usable(change):
        return None
    if unit == "percent":
        points = change * 100
        if abs(points) < 0.05:
            return "No change"
        return f"{_signed(points)} {'point' if abs(round(points, 1)) == 1 else 'points'}"
    if abs(change) < (0.005 if unit == "dollars" else 0.05):
        return "No change"
    if unit == "dollars":
        return _dollars(change, sign=True)
    if unit in PLAIN_UNITS:
        return _signed(change)
    if unit in NOUNS:
        return f"{_signed(change)} {_noun(unit, round(change, 1))}"
    return f"{_signed(change)} {unit.replace('_', ' ')}"


def format_relative_change(relative: float | None) -> str | None:
    """A change as a share of its base: 0.12 -> "+12%"."""
    if not _usable(relative):
        return None
    percent = relative * 100
    if abs(percent) < 0.05:
        return "0%"
    return _signed(percent, 0 if abs(percent) >= 10 else 1) + "%"


def _signed(value: float, decimals: int = 1) -> str:
    text = _number(value, decimals)
    return text if text.startswith("-") or text == "0" else "+" + text


def format_change(change: Change | None, unit: str) -> str | None:
    """The change as one phrase: points for percent metrics ("+3.1 points"), else "+340 (+12%)"."""
    if change is None:
        return None
    absolute = format_absolute_change(change.absolute, unit)
    relative = format_relative_change(change.relative)
    if unit == "percent" or absolute == "No change":
        return absolute or relative
    if absolute and relative:
        return f"{absolute} ({relative})"
    return absolute or relative


def format_tolerance(tolerance: float | None, unit: str) -> str:
    """A tolerance is a distance, not a level: "5 points" for percent metrics, not "5%"."""
    if not _usable(tolerance):
        return MISSING
    if unit == "percent":
        points = tolerance * 100
        return f"{_number(points)} {'point' if points == 1 else 'points'}"
    return format_value(tolerance, unit)


def status_label(status: str | None) -> str:
    return STATUS_LABELS.get(status or "", MISSING)


def status_icon(status: str | None) -> str:
    return STATUS_ICONS.get(status or "", "")


def commitment_label(status: str | None) -> str:
    return COMMITMENT_LABELS.get(status or "", str(status or MISSING))


def period_label(period: str | None, *, short: bool = False) -> str:
    """ "2017-06" -> "June 2017", "2017-Q2" -> "Q2 2017", "2017-W23" -> "Week 23, 2017", "2017" -> "2017".

    The short form ("Jun 2017", "W23 2017") labels chart axes. Anything else is shown as written.
    """
    if not period:
        return MISSING
    match = _PERIOD.match(period)
    if not match:
        return period
    year, month, week, quarter = match.groups()
    if month:
        number = int(month)
        if not 1 <= number <= 12:
            return period
        name = MONTHS[number - 1]
        return f"{name[:3] if short else name} {year}"
    if week:
        return f"W{int(week)} {year}" if short else f"Week {int(week)}, {year}"
    if quarter:
        return f"Q{quarter} {year}"
    return year


def date_label(day: dt.date | dt.datetime | None) -> str:
    """ "July 10, 2017"."""
    if day is None:
        return MISSING
    return f"{MONTHS[day.month - 1]} {day.day}, {day.year}"


def _utc(moment: dt.datetime) -> dt.datetime:
    # A naive time is taken as UTC: printing it in the machine's zone would make the bytes depend on the machine.
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def datetime_label(moment: dt.datetime | None) -> str:
    """ "July 10, 2017, 14:05 UTC"."""
    if moment is None:
        return MISSING
    moment = _utc(moment)
    return f"{date_label(moment)}, {moment:%H:%M} UTC"


def iso_datetime(moment: dt.datetime) -> str:
    """W3C date-time in UTC, as `<meta name="dcterms.created">` wants it (and WeasyPrint copies into the PDF)."""
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"
