"""Plain-language sentences built from the numbers: values in their units, changes in points or units, periods by
name. Locale-independent (Python's format mini-language always groups with "," and uses "."), so the same numbers
always give the same words, and a frozen snapshot reads the same on any machine.

Percent metrics are stored as fractions: 0.95 reads "95%", and a change of 0.03 reads "3.0 points".
"""

from __future__ import annotations

import math

from services.common.periods import Frequency, Period, PeriodError

MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip

# Units counted in whole things read better with a word after the number.
NOUNS: dict[str, tuple[str, str]] = {
    "days": ("day", "days"),
    "hours": ("hour", "hours"),
    "minutes": ("minute", "minutes"),
    "tons": ("ton", "tons"),
    "miles": ("mile", "miles"),
}
PLAIN_UNITS = {"", "count", "number"}

STEPS: dict[str, tuple[str, str]] = {
    Frequency.week: ("week", "weeks"),
    Frequency.month: ("month", "months"),
    Frequency.quarter: ("quarter", "quarters"),
    Frequency.year: ("year", "years"),
    Frequency.fiscal_year: ("fiscal year", "fiscal years"),
}


def _number(value: float, decimals: int = 2) -> str:
    """At most `decimals` decimals, trailing zeros dropped, grouped by thousands, never "-0"."""
    text = f"{value:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def value_text(value: float | None, unit: str) -> str:
    """ "95%", "1,234", "3.5 days", "$1,200", "$14.25"; "no value" when there is none."""
    if value is None or not math.isfinite(value):
        return "no value"
    if unit == "percent":
        return _number(value * 100, 1) + "%"
    if unit == "dollars":
        amount = abs(value)
        text = f"{amount:,.2f}" if amount < 1000 and amount != int(amount) else f"{amount:,.0f}"
        return ("-" if value < 0 and text.strip("0.,") else "") + "$" + text
    number = _number(value, 0 if abs(value) >= 100 else 2)
    if unit in PLAIN_UNITS:
        return number
    one, many = NOUNS.get(unit, (unit.replace("_", " "), unit.replace("_", " ")))
    return f"{number} {one if abs(value) == 1 else many}"


def amount_text(change: float, unit: str) -> str:
    """The size of a change, without its sign: "3.0 points" for percent metrics, else in the metric's unit."""
    if unit == "percent":
        points = abs(change) * 100
        return f"{points:.1f} {'point' if round(points, 1) == 1 else 'points'}"
    return value_text(abs(change), unit)


def change_text(change: float, relative: float | None, unit: str) -> str:
    """ "up 3.0 points", "down 120 (12%)", "unchanged"."""
    if _negligible(change, unit):
        return "unchanged"
    words = f"{'up' if change > 0 else 'down'} {amount_text(change, unit)}"
    if unit != "percent" and relative is not None and math.isfinite(relative) and relative != 0:
        share = abs(relative) * 100
        words += f" ({_number(share, 0 if share >= 10 else 1)}%)"
    return words


def _negligible(change: float, unit: str) -> bool:
    if unit == "percent":
        return abs(change) * 100 < 0.05
    return abs(change) < 0.005


def period_name(text: str, *, within: str | None = None) -> str:
    """ "2017-06" -> "June 2017"; "2017-Q2" -> "Q2 2017"; "2017-W23" -> "the week of 5 June 2017"; "2016" -> "2016".
    With `within` a month of the same year, a month is named alone ("May"), as in "up 3.0 points from May"."""
    try:
        period = Period.parse(text)
    except PeriodError:
        return text
    if period.frequency is Frequency.month:
        name = MONTHS[period.number - 1]
        if within is not None and _same_year_month(within, period):
            return name
        return f"{name} {period.year}"
    if period.frequency is Frequency.quarter:
        return f"Q{period.number} {period.year}"
    if period.frequency is Frequency.week:
        start = period.start
        return f"the week of {start.day} {MONTHS[start.month - 1]} {start.year}"
    if period.frequency is Frequency.fiscal_year:
        return f"fiscal year {period.year}"
    return str(period.year)


def _same_year_month(within: str, period: Period) -> bool:
    try:
        other = Period.parse(within)
    except PeriodError:
        return False
    return other.frequency is Frequency.month and other.year == period.year


def span(first: str, last: str) -> str:
    """ "November 2016 to June 2017", "January to June 2017"."""
    return f"{period_name(first, within=last)} to {period_name(last)}"


def steps(frequency: str, count: int) -> str:
    """ "8 months", "1 week"."""
    one, many = STEPS.get(frequency, (frequency, frequency + "s"))
    return f"{count} {one if count == 1 else many}"


def metric_phrase(name: str) -> str:
    """A metric's name inside a sentence: "Service requests completed on time" -> "service requests completed on
    time", while names that open with an acronym or a number keep their first letter ("911 calls", "EMS calls")."""
    if len(name) >= 2 and name[0].isupper() and name[1].islower():
        return name[0].lower() + name[1:]
    return name


def capitalised(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]


def target_clause(value: float, target: float | None, unit: str, direction: str) -> str:
    """Where the value stands against its target: "above its 90% target", "at its target of 3 days", "2 below its
    120 target" (closer is better)."""
    if target is None:
        return "with no target set"
    # "its 90% target", "its 1,000 target", but "its target of 3 days" (not "its 3 days target").
    shown = f"target of {value_text(target, unit)}" if unit in NOUNS else f"{value_text(target, unit)} target"
    if direction == "closer_is_better":
        gap = value - target
        if _negligible(gap, unit):
            return f"on its {shown}"
        return f"{amount_text(gap, unit)} {'above' if gap > 0 else 'below'} its {shown}"
    if _negligible(value - target, unit):
        return f"at its {shown}"
    return f"{'above' if value > target else 'below'} its {shown}"


def moved_verb(change: float, unit: str) -> str:
    if _negligible(change, unit):
        return "held at"
    return "rose to" if change > 0 else "fell to"


def listing(items: list[str]) -> str:
    """ "A", "A and B", "A, B and C"."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


# --- sentences about a metric's performance -----------------------------------------------------------------------
# Each names the department and the metric and carries its figures: "Department of Public Works: service requests
# completed on time rose to 95% in June 2017, up 3.0 points from May, above its 90% target."

STATUS_WORDS = {
    "on_target": "on target",
    "near": "near its target",
    "off_target": "off target",
    "no_target": "without a target",
    "missing": "missing",
}


def subject(department: str, metric_name: str) -> str:
    return f"{department}: {metric_phrase(metric_name)}"


def movement(
    department: str,
    name: str,
    unit: str,
    direction: str,
    period: str,
    value: float,
    base_period: str,
    change: float,
    relative: float | None,
    target: float | None,
) -> str:
    return (
        f"{subject(department, name)} {moved_verb(change, unit)} {value_text(value, unit)} in {period_name(period)}, "
        f"{change_text(change, relative, unit)} from {period_name(base_period, within=period)}, "
        f"{target_clause(value, target, unit, direction)}."
    )


def standing(
    department: str, name: str, unit: str, direction: str, period: str, value: float, target: float | None
) -> str:
    """ "...: water main breaks stood at 95 in June 2017, above its 80 target"; no full stop, so a clause can
    follow. ("Stood at" agrees with a metric's name whether it is singular or plural.)"""
    return (
        f"{subject(department, name)} stood at {value_text(value, unit)} in {period_name(period)}, "
        f"{target_clause(value, target, unit, direction)}"
    )


def better_or_worse(direction: str, way: str) -> str | None:
    """Whether a move up (above, up) or down is for the better, given the direction; None for closer is better."""
    if direction == "closer_is_better":
        return None
    rising = way in ("above", "up")
    return "better" if rising == (direction == "higher_is_better") else "worse"


def signal_story(
    department: str,
    name: str,
    unit: str,
    direction: str,
    frequency: str,
    rule: str,
    way: str,
    periods: list[str],
    value: float,
    limit: float | None,
    centre: float | None,
) -> str:
    who = subject(department, name)
    last = period_name(periods[-1])
    better = better_or_worse(direction, way)
    if rule == "beyond_limits":
        which = "upper" if way == "above" else "lower"
        meaning = f"a real change for the {better}" if better else "a real change"
        return (
            f"{who} stood at {value_text(value, unit)} in {last}, {way} its {which} process limit of "
            f"{value_text(limit, unit)}: {meaning}, not routine variation."
        )
    between = span(periods[0], periods[-1])
    if rule == "run_one_side":
        meaning = f"a shift for the {better}" if better else "a shift"
        return (
            f"{who} stood {way} its average of {value_text(centre, unit)} for {steps(frequency, len(periods))} "
            f"in a row ({between}), at {value_text(value, unit)} in {last}: {meaning}, not routine variation."
        )
    # A run of n points is n - 1 moves.
    moved = "rose" if way == "up" else "fell"
    return (
        f"{who} {moved} for {steps(frequency, len(periods) - 1)} in a row ({between}), to {value_text(value, unit)} "
        f"in {last}."
    )
