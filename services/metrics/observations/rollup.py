"""Roll-up arithmetic: months into quarters and years, quarters into years, org units into their department.

Pure functions over plain data, so the same rules serve the API, the demo and the reports.

How each kind of metric rolls up (`Rollup`, stored on the metric definition):

- ``sum``: counts, dollars, tons. The quarter is the sum of its months.
- ``mean``: averages such as "average days to repair a pothole". The quarter is the mean of its months,
  weighted by each part's ``weight`` (the number of events behind the average: potholes repaired, calls
  answered) when every part has one, else the plain mean. A weighted quarter turned back into a part with
  `Combined.as_part` carries its total weight into the year, so months -> quarters -> year gives the same
  year as months -> year. A plain-mean quarter carries no weight (a count of months mixed with counts of
  potholes would be nonsense), so the year is the plain mean of its quarters: the same as the plain mean
  of its months when the quarters are complete, an approximation for partial quarters.
- ``ratio``: rates stored as fractions (0.95) with a numerator and a denominator. The quarter is the ratio
  of the sums, never the mean of the monthly ratios: a month with 90 cases must not count as much as a
  month with 900. A part without its numerator and denominator makes the roll-up unknown rather than
  quietly falling back to a mean of ratios.
- ``last``: stock-like measures ("sworn officers on staff"). Over time the period's value is the value
  of its latest part (June for Q2, Q4 for the year). Across org units "the last unit" means nothing; the
  department's stock is the units' stocks added up, so ``last`` becomes ``sum`` (`across_units_method`).

Incomplete roll-ups: when fewer parts have values than ``expected`` (two months of a quarter), the value
is None unless ``allow_partial=True``. Two months of potholes are not the quarter's potholes, and a
quarter's rate from two months is not the quarter's rate either; whoever wants "Q2 to date" asks for it
and gets ``complete=False`` with a reason to show next to the number.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from services.common.periods import Frequency, Period, PeriodError, frequency_nests
from services.metrics.definitions.models import RollupMethod

# The roll-up a metric's definition names (stored on the metric as `rollup`).
Rollup = RollupMethod


_DEFAULT_BY_UNIT = {
    "count": Rollup.sum,
    "dollars": Rollup.sum,
    "tons": Rollup.sum,
    "percent": Rollup.ratio,
    "days": Rollup.mean,
    "minutes": Rollup.mean,
    "hours": Rollup.mean,
}


def default_rollup(unit: str) -> Rollup:
    """The usual roll-up for a unit. Only a default: "sworn officers" is a count that wants ``last`` and
    "average hourly wage" is in dollars but wants ``mean``, so the definition may say otherwise.

    An unknown unit raises ValueError rather than guessing ``sum``, which would be wrong for any rate or
    average that arrives under a new name."""
    key = unit.strip().lower()
    if key not in _DEFAULT_BY_UNIT:
        known = ", ".join(_DEFAULT_BY_UNIT)
        raise ValueError(f"no default roll-up for unit '{unit}' (known: {known}); choose one of sum, mean, ratio, last")
    return _DEFAULT_BY_UNIT[key]


def across_units_method(method: Rollup | str) -> Rollup:
    """How org units combine into their department: as over time, except that a stock is added up."""
    method = Rollup(method)
    return Rollup.sum if method is Rollup.last else method


@dataclass(frozen=True)
class Part:
    """One thing being rolled up: a period's observation ("2017-04") or an org unit's ("NORTH")."""

    key: str
    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    weight: float | None = None  # for ``mean``: how many events the value averages over

    def __post_init__(self) -> None:
        for name in ("value", "numerator", "denominator", "weight"):
            number = getattr(self, name)
            if number is not None and not math.isfinite(number):
                raise ValueError(f"{self.key}: {name} must be a finite number, not {number}")
        if self.weight is not None and self.weight < 0:
            raise ValueError(f"{self.key}: weight must not be negative ({self.weight})")


@dataclass(frozen=True)
class Combined:
    """The roll-up of some parts.

    ``value`` is None when the roll-up cannot be trusted; ``reason`` then says why. ``reason`` is also set
    for a partial roll-up (``allow_partial=True``) so the gap can be shown beside the number.
    ``numerator``/``denominator``: for ``ratio`` the summed numerators and denominators; for ``mean`` the
    weighted sum and the total weight; for ``last`` those of the latest part; None for ``sum``.
    ``count``: parts that had a value; ``expected``: how many there should have been, if known.
    ``weighted``: for ``mean``, whether every part had a weight."""

    value: float | None
    numerator: float | None
    denominator: float | None
    count: int
    expected: int | None
    complete: bool
    reason: str | None
    weighted: bool = False

    def as_part(self, key: str, method: Rollup | str) -> Part:
        """This roll-up as a part of the next level up (a quarter of a year), keeping what it needs to
        roll up correctly: the sums for a ratio, the total weight for a mean."""
        method = Rollup(method)
        if method is Rollup.ratio:
            return Part(key, self.value, self.numerator, self.denominator)
        if method is Rollup.mean:
            return Part(key, self.value, weight=self.denominator if self.weighted and self.value is not None else None)
        if method is Rollup.last:
            return Part(key, self.value, self.numerator, self.denominator)
        return Part(key, self.value)


def combine(
    parts: Iterable[Part],
    method: Rollup | str,
    expected: int | None = None,
    *,
    allow_partial: bool = False,
) -> Combined:
    """Combine parts with one roll-up method.

    ``expected``: how many parts there should be (3 months in a quarter); None when unknown, in which case
    the roll-up is complete when every given part has a value. A part with value None is a known gap.
    ``last`` needs period keys of one frequency, since it takes the latest period whatever the input order.
    Raises ValueError for a repeated key or more parts than expected: both are the caller's mistake, not
    a gap in the data."""
    method = Rollup(method)
    parts = list(parts)
    keys = [p.key for p in parts]
    if len(set(keys)) != len(keys):
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        raise ValueError(f"repeated keys: {', '.join(repeated)}")
    if expected is not None and (expected < 1 or len(parts) > expected):
        raise ValueError(f"{len(parts)} parts given but {expected} expected")
    if method is Rollup.last:
        parts = _by_period(parts)

    if method is Rollup.ratio:
        present = [p for p in parts if p.numerator is not None and p.denominator is not None]
    else:
        present = [p for p in parts if p.value is not None]
    present_keys = {p.key for p in present}
    absent = [p for p in parts if p.key not in present_keys]
    # A ratio part with a value but no numerator and denominator (or only one of them) cannot join a ratio
    # of sums; a part with nothing at all is just a gap.
    unusable = [
        p.key for p in absent if method is Rollup.ratio and (p.value, p.numerator, p.denominator) != (None, None, None)
    ]
    missing = [p.key for p in absent if p.key not in unusable]
    count = len(present)
    complete = count > 0 and not absent and (expected is None or count == expected)
    weighted = method is Rollup.mean and bool(present) and all(p.weight is not None for p in present)

    def result(value=None, numerator=None, denominator=None, reason=None) -> Combined:
        return Combined(value, numerator, denominator, count, expected, complete, reason, weighted)

    if unusable:
        verb = "has" if len(unusable) == 1 else "have"
        return result(reason=f"{', '.join(unusable)} {verb} no numerator/denominator")
    if not present:
        return result(reason="no values")
    gap = None if complete else _describe_gap(count, expected, missing)
    if gap and not allow_partial:
        return result(reason=gap)

    if method is Rollup.sum:
        return result(math.fsum(p.value for p in present), reason=gap)
    if method is Rollup.last:
        latest = present[-1]
        return result(latest.value, latest.numerator, latest.denominator, reason=gap)
    if method is Rollup.ratio:
        numerator = math.fsum(p.numerator for p in present)
        denominator = math.fsum(p.denominator for p in present)
        if denominator == 0:
            return result(None, numerator, denominator, reason="the total denominator is zero")
        return result(numerator / denominator, numerator, denominator, reason=gap)
    # mean
    weights = [p.weight for p in present] if weighted else [1.0] * count
    total_weight = math.fsum(weights)
    if total_weight == 0:
        return result(reason="the total weight is zero")
    weighted_sum = math.fsum(w * p.value for w, p in zip(weights, present, strict=True))
    return result(weighted_sum / total_weight, weighted_sum, total_weight, reason=gap)


def rollup_units(
    parts: Iterable[Part],
    method: Rollup | str,
    expected: int | None = None,
    *,
    allow_partial: bool = False,
) -> Combined:
    """Org units into their department. ``expected``: how many units report this metric, if known."""
    return combine(parts, across_units_method(method), expected, allow_partial=allow_partial)


# Weeks are left out on purpose: ISO weeks straddle month, quarter and year ends.
_FINER = {
    Frequency.quarter: (Frequency.month,),
    Frequency.year: (Frequency.month, Frequency.quarter),
    # Quarters only when the fiscal year starts on a quarter (frequency_nests checks it).
    Frequency.fiscal_year: (Frequency.month, Frequency.quarter),
}


def rollup_periods(
    observations: Mapping[str, Part],
    target_period: Period | str,
    method: Rollup | str,
    *,
    frequency: Frequency | str | None = None,
    allow_partial: bool = False,
) -> Combined:
    """Roll a series of months or quarters up to a quarter or year.

    ``observations`` maps period to part and may hold a whole series: only the periods inside
    ``target_period`` are used. ``frequency`` is the series' frequency, inferred from the keys when not
    given; with neither the roll-up has no values. Months missing from a quarter are named in the reason.
    Raises ValueError for keys that are not periods, mixed frequencies, weeks, or a target that the series
    cannot roll up to."""
    target = target_period if isinstance(target_period, Period) else Period.parse(target_period)
    if target.frequency not in _FINER:
        raise ValueError(f"cannot roll up to {target}: roll up to a quarter, a year or a fiscal year")
    by_period: dict[Period, Part] = {}
    for key, part in observations.items():
        if part.key != key:
            raise ValueError(f"observation filed under {key} is for {part.key}")
        by_period[_parse(key)] = part
    frequencies = {p.frequency for p in by_period}
    if frequency is not None:
        frequencies.add(Frequency(frequency))
    if len(frequencies) > 1:
        raise ValueError(f"observations mix frequencies: {', '.join(sorted(frequencies))}")
    if not frequencies:
        return Combined(None, None, None, 0, None, False, f"no observations for {target}")
    (child,) = frequencies
    if child not in _FINER[target.frequency] or not frequency_nests(child, target.frequency, target.fiscal_start):
        raise ValueError(f"{child} values do not roll up to {target}")

    children = target.children(child)
    # A child with no observation becomes a known gap, so the reason can name it.
    parts = [by_period.get(c) or Part(str(c), None) for c in children]
    return combine(parts, method, len(children), allow_partial=allow_partial)


def _parse(key: str) -> Period:
    try:
        return Period.parse(key)
    except PeriodError as exc:
        raise ValueError(str(exc)) from exc


def _by_period(parts: list[Part]) -> list[Part]:
    periods = [_parse(p.key) for p in parts]
    if len({p.frequency for p in periods}) > 1:
        raise ValueError("`last` needs periods of one frequency")
    return [part for _, part in sorted(zip(periods, parts, strict=True), key=lambda pair: pair[0])]


def _describe_gap(count: int, expected: int | None, missing: list[str]) -> str:
    text = f"{count} of {expected if expected is not None else count + len(missing)} expected values"
    if missing:
        text += f"; no value for {', '.join(missing)}"
    return text
