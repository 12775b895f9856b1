"""Performance statistics per metric and period: change, trend, XmR limits and signals, streaks, most improved.

Pure functions over plain data, so the performance service (and anything else) can call them on values it has
already loaded. A series is a list of `Point`s, oldest first, one per period with no period left out: a period
without a value is a `Point` whose value is None (`fill_gaps` builds that from the observations that exist).
Functions that depend on adjacency check this and raise ValueError, because a silently skipped period would turn
two values a year apart into a "moving range" or a "run".

A point with `series_break=True` is the first point measured under a new method, unit or population. Nothing
before it is compared with it or anything after it: limits, runs, trends and changes stay within one series.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from services.common.periods import Frequency, Period
from services.metrics.definitions.models import Direction

# Wheeler's constants for individual values: 3 / d2 with d2 = 1.128 for moving ranges of two, and D4 for n = 2.
NPL_FACTOR = 2.66
URL_FACTOR = 3.268

BEYOND_LIMITS = "beyond_limits"
RUN_ONE_SIDE = "run_one_side"
RUN_TREND = "run_trend"

IMPROVING = "improving"
WORSENING = "worsening"
FLAT = "flat"

ON_TARGET = "on_target"


@dataclass(frozen=True)
class Point:
    period: str
    value: float | None
    target: float | None = None
    status: str | None = None
    series_break: bool = False


@dataclass(frozen=True)
class Change:
    absolute: float | None
    relative: float | None  # a fraction: 0.25 is +25 %
    reason: str | None = None  # why a part is None


@dataclass(frozen=True)
class Comparison:
    period: str
    previous_period: str
    vs_previous: Change
    year_ago_period: str | None  # None for ISO week 53 when the year before has no week 53
    vs_year_ago: Change


@dataclass(frozen=True)
class Trend:
    slope: float | None  # value units per period, least squares
    direction_word: str | None  # "improving" | "worsening" | "flat"; None with a reason when it cannot be said
    periods: list[str]  # the periods whose values were fitted
    reason: str | None = None
    distance_slope: float | None = None  # closer_is_better only: slope of |value - target| per period


@dataclass(frozen=True)
class Signal:
    rule: str  # "beyond_limits" | "run_one_side" | "run_trend"
    periods: list[str]
    direction: str  # "above" | "below" for beyond_limits and run_one_side; "up" | "down" for run_trend
    indexes: list[int]  # positions in the list of points given


@dataclass(frozen=True)
class XmR:
    centre: float | None
    mr_bar: float | None
    lower: float | None
    upper: float | None
    upper_range: float | None
    baseline_periods: list[str]
    signals: list[Signal]
    reason: str | None  # why there are no limits; None when there are
    segment_periods: list[str]  # the periods of the series these limits belong to (since its break)


@dataclass(frozen=True)
class Streaks:
    current: int  # consecutive on_target periods ending at the latest one
    longest: int


@dataclass(frozen=True)
class ImprovementEntry:
    metric: str
    direction: Direction | str
    value: float | None  # now
    value_year_ago: float | None
    target: float | None  # the target in force now


@dataclass(frozen=True)
class Ranked:
    metric: str
    improvement: float  # share of the target now; > 0 is better
    rank: int  # competition ranking: equal improvements share a rank, the next rank skips


@dataclass(frozen=True)
class Excluded:
    metric: str
    reason: str


@dataclass(frozen=True)
class Ranking:
    ranked: list[Ranked]
    excluded: list[Excluded]


# --- series shape -------------------------------------------------------------------------------------------------


def fill_gaps(points: Iterable[Point]) -> list[Point]:
    """The points in period order with a value-less Point for every period between them that has none."""
    ordered = sorted(points, key=lambda p: Period.parse(p.period))
    out: list[Point] = []
    for point in ordered:
        if out:
            expected = Period.parse(out[-1].period).next()
            here = Period.parse(point.period)
            if here == Period.parse(out[-1].period):
                raise ValueError(f"period {point.period} appears twice")
            while expected < here:
                out.append(Point(str(expected), None))
                expected = expected.next()
        out.append(point)
    return out


def _check_consecutive(points: Sequence[Point]) -> None:
    for before, after in zip(points, points[1:], strict=False):
        if Period.parse(before.period).next() != Period.parse(after.period):
            raise ValueError(
                f"{after.period} does not follow {before.period}: give one point per period, "
                "missing values as value=None (see fill_gaps)"
            )


def _segment_bounds(points: Sequence[Point]) -> list[tuple[int, int]]:
    starts = [0] + [i for i, p in enumerate(points) if p.series_break and i > 0]
    return [(start, end) for start, end in zip(starts, starts[1:] + [len(points)], strict=True) if start < end]


def _last_break(points: Sequence[Point]) -> int:
    return max((i for i, p in enumerate(points) if p.series_break), default=0)


def _value(point: Point) -> float:
    if point.value is None:
        raise ValueError(f"{point.period} has no value")
    return float(point.value)


def _close(a: float, b: float) -> bool:
    # A value computed to sit on the centre line (or a limit) must not land beside it through binary rounding.
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


# --- change -------------------------------------------------------------------------------------------------------


def change(current: float | None, previous: float | None) -> Change:
    """Absolute and relative change from `previous` to `current`.

    Relative change divides by |previous| so its sign is the sign of the absolute change even when the base is
    negative (a net count going from -4 to -2 rose by 50 %). It is None when the base is 0 or either value is None.
    """
    if current is None or previous is None:
        return Change(None, None, "no current value" if current is None else "no base value")
    absolute = current - previous
    if previous == 0:
        return Change(absolute, None, "base is zero")
    return Change(absolute, absolute / abs(previous))


def same_period_last_year(period: str) -> str | None:
    """2024-06 -> 2023-06, 2024-Q2 -> 2023-Q2, 2024-W10 -> 2023-W10; None for a week 53 that the year before lacks
    (comparing it with week 52 would set a week against a different week of the year)."""
    before = _year_before(Period.parse(period))
    return str(before) if before else None


def _year_before(p: Period) -> Period | None:
    if p.frequency is Frequency.week and p.number > dt.date(p.year - 1, 12, 28).isocalendar().week:
        return None
    try:
        return replace(p, year=p.year - 1)
    except ValueError:  # before the first year a Period can have
        return None


def compare(points: Sequence[Point], period: str | None = None) -> Comparison:
    """Change of `period` (default: the latest point) against the period before and the same period a year ago.

    A change whose base lies before a series break is not computed: the two values measure different things.
    """
    by_period = {Period.parse(p.period): p for p in points}
    if len(by_period) != len(points):
        raise ValueError("a period appears twice")
    if not by_period:
        raise ValueError("no points to compare")
    here = Period.parse(period) if period is not None else max(by_period)
    current = by_period.get(here)
    current_value = current.value if current else None
    breaks = [p for p, point in by_period.items() if point.series_break]

    def against(base_period: Period | None) -> Change:
        if base_period is None:
            return Change(None, None, "no such period a year before")
        crossed = [b for b in breaks if base_period < b <= here]
        if crossed:
            return Change(None, None, f"series break at {max(crossed)}")
        base = by_period.get(base_period)
        if current_value is not None and (base is None or base.value is None):
            return Change(None, None, f"no value for {base_period}")
        return change(current_value, base.value if base else None)

    year_ago = _year_before(here)
    return Comparison(
        period=str(here),
        previous_period=str(here.previous()),
        vs_previous=against(here.previous()),
        year_ago_period=str(year_ago) if year_ago else None,
        vs_year_ago=against(year_ago),
    )


# --- trend --------------------------------------------------------------------------------------------------------


def _slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    mx = sum(xs) / len(xs)
    my = sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx


def _adjacent_mean_range(xs: Sequence[int], ys: Sequence[float]) -> float | None:
    ranges = [abs(ys[i] - ys[i - 1]) for i in range(1, len(xs)) if xs[i] == xs[i - 1] + 1]
    return sum(ranges) / len(ranges) if ranges else None


def trend(
    points: Sequence[Point],
    direction: Direction | str,
    window: int = 6,
    min_points: int = 3,
    *,
    noise_multiple: float = 2.0,
    level_fraction: float = 0.01,
) -> Trend:
    """Least-squares trend over the last `window` periods (those since the last series break), and its word.

    The slope is per period with x = the period's position, so a missing period inside the window widens the
    spacing instead of being squeezed out. Fewer than `min_points` values in the window: no trend, with a reason
    (two points are a change, not a trend).

    The word is read from the measure that the direction cares about: the value itself for higher/lower is better,
    and |value - target| for closer is better (each point against its own target; points without a target are left
    out of that fit). The trend is "flat" when the fitted change across the window, slope x (last x - first x), is
      - smaller than noise_multiple x the average moving range of that measure within the window (the routine
        period-to-period variation: in the XmR spirit, movement smaller than the noise is not a change). With six
        points of pure noise the fitted change has a standard deviation of about 1.06 mean moving ranges, and 2
        keeps pure noise "flat" about 88 % of the time, while a steady drift of one noise standard deviation per
        period is called a trend about 96 % of the time (simulated); or
      - no larger than level_fraction x the mean |value|, so that a noise-free series creeping by rounding-sized
        steps is not called a trend (and a constant series is flat).
    """
    direction = Direction(direction)
    if window < 2 or min_points < 2:
        raise ValueError("window and min_points must be at least 2")
    _check_consecutive(points)
    start = max(len(points) - window, _last_break(points))
    xs = [i for i in range(start, len(points)) if points[i].value is not None]
    periods = [points[i].period for i in xs]
    if len(xs) < min_points:
        return Trend(None, None, periods, f"{len(xs)} values in the window; a trend needs {min_points}")
    values = [_value(points[i]) for i in xs]
    slope = _slope(xs, values)
    level = sum(abs(v) for v in values) / len(values)

    if direction is Direction.closer_is_better:
        mx = [i for i in xs if points[i].target is not None]
        if len(mx) < min_points:
            return Trend(
                slope, None, periods, f"{len(mx)} values with a target in the window; a trend needs {min_points}"
            )
        measure = [abs(_value(points[i]) - float(points[i].target or 0.0)) for i in mx]
        measure_slope = _slope(mx, measure)
        better_when_rising = False
    else:
        mx, measure, measure_slope = xs, values, slope
        better_when_rising = direction is Direction.higher_is_better

    fitted_change = measure_slope * (mx[-1] - mx[0])
    noise = _adjacent_mean_range(mx, measure) or 0.0
    if abs(fitted_change) < noise_multiple * noise or abs(fitted_change) <= level_fraction * level:
        word = FLAT
    else:
        word = IMPROVING if (fitted_change > 0) == better_when_rising else WORSENING
    return Trend(
        slope, word, periods, distance_slope=measure_slope if direction is Direction.closer_is_better else None
    )


# --- XmR ----------------------------------------------------------------------------------------------------------


def _runs(indexes: Sequence[int], key) -> list[tuple[str, list[int]]]:
    """Maximal runs of consecutive positions with the same non-None key; a gap or a None key ends a run."""
    runs: list[tuple[str, list[int]]] = []
    for i in indexes:
        k = key(i)
        if k is not None and runs and runs[-1][0] == k and runs[-1][1][-1] == i - 1:
            runs[-1][1].append(i)
        elif k is not None:
            runs.append((k, [i]))
        else:
            runs.append(("", []))  # a breaker, so the next keyed point cannot join the run before it
    return [(k, members) for k, members in runs if members]


def _segment_xmr(
    points: Sequence[Point],
    start: int,
    end: int,
    baseline: int,
    min_baseline: int,
    run_length: int,
    trend_run: int,
    lower_bound: float | None,
) -> XmR:
    segment_periods = [points[i].period for i in range(start, end)]
    present = [i for i in range(start, end) if points[i].value is not None]
    base = present[:baseline]
    base_periods = [points[i].period for i in base]
    since = f" since the series break at {points[start].period}" if points[start].series_break else ""

    def no_limits(reason: str) -> XmR:
        return XmR(None, None, None, None, None, base_periods, [], reason, segment_periods)

    if len(base) < min_baseline:
        return no_limits(f"{len(base)} values{since}; limits need at least {min_baseline}")
    x = {i: _value(points[i]) for i in present}
    ranges = [abs(x[i] - x[i - 1]) for i in base[1:] if i - 1 in x]
    if not ranges:
        return no_limits(f"no two consecutive periods with values in the baseline{since}")
    centre = sum(x[i] for i in base) / len(base)
    mr_bar = sum(ranges) / len(ranges)
    lower = centre - NPL_FACTOR * mr_bar
    upper = centre + NPL_FACTOR * mr_bar
    # Only for display: a count cannot fall below 0, so a limit below it means "no lower limit in practice". No
    # value can lie under the bound, so rule 1 finds the same points either way.
    if lower_bound is not None and lower < lower_bound:
        lower = lower_bound

    signals: list[Signal] = []

    def signal(rule: str, direction: str, members: list[int]) -> None:
        signals.append(Signal(rule, [points[i].period for i in members], direction, list(members)))

    for i in present:
        if x[i] > upper and not _close(x[i], upper):
            signal(BEYOND_LIMITS, "above", [i])
        elif x[i] < lower and not _close(x[i], lower):
            signal(BEYOND_LIMITS, "below", [i])

    def side(i: int) -> str | None:
        # A point on the centre line belongs to neither side, so it ends a run.
        if i not in x or _close(x[i], centre):
            return None
        return "above" if x[i] > centre else "below"

    for where, members in _runs(range(start, end), side):
        if len(members) >= run_length:
            signal(RUN_ONE_SIDE, where, members)

    # Rule 3 counts points, not steps: `trend_run` consecutive points, each strictly higher (lower) than the one
    # before, i.e. trend_run - 1 rises in a row. A tie or a gap ends the run; the point where a rise turns into a
    # fall ends one run and starts the other.
    for way, sign in (("up", 1), ("down", -1)):

        def step(i: int, sign: int = sign) -> str | None:
            return "y" if i in x and i - 1 in x and sign * (x[i] - x[i - 1]) > 0 else None

        for _, members in _runs(range(start + 1, end), step):
            run = [members[0] - 1, *members]
            if len(run) >= trend_run:
                signal(RUN_TREND, way, run)

    signals.sort(key=lambda s: (s.indexes[0], s.rule, s.indexes[-1]))
    return XmR(centre, mr_bar, lower, upper, URL_FACTOR * mr_bar, base_periods, signals, None, segment_periods)


def xmr_segments(
    points: Sequence[Point],
    baseline: int = 12,
    min_baseline: int = 6,
    *,
    run_length: int = 8,
    trend_run: int = 6,
    lower_bound: float | None = None,
) -> list[XmR]:
    """XmR limits and signals for each series between breaks, oldest first (one element when there is no break).

    Each series gets its own baseline: its first `baseline` values (or all of them when it has fewer, as long as it
    has `min_baseline`). Centre line = mean of the baseline; mR-bar = mean of |x_i - x_(i-1)| over consecutive
    baseline periods that both have values; natural process limits = centre +/- 2.66 mR-bar; upper range limit =
    3.268 mR-bar. Every value of the series, baseline included, is checked against them:
      - beyond_limits: a value strictly outside the limits, one signal per value;
      - run_one_side: `run_length` or more consecutive values on one side of the centre line, one signal per
        maximal run listing all its points;
      - run_trend: `trend_run` or more consecutive values each strictly higher (or lower) than the one before, one
        signal per maximal run.
    A missing value ends runs and has no moving range to either neighbour. A series without limits gets no signals.

    mR-bar of 0 (a baseline of identical values) gives limits equal to the centre, and any other value is a signal:
    after a run of identical values a change is a change. `lower_bound` (e.g. 0 for counts) lifts a lower limit
    below it up to it for display; it is off by default so nothing is clamped silently.
    """
    if min_baseline < 2 or baseline < min_baseline:
        raise ValueError("need 2 <= min_baseline <= baseline")
    if run_length < 2 or trend_run < 2:
        raise ValueError("run lengths must be at least 2")
    _check_consecutive(points)
    return [
        _segment_xmr(points, start, end, baseline, min_baseline, run_length, trend_run, lower_bound)
        for start, end in _segment_bounds(points)
    ]


def xmr(
    points: Sequence[Point],
    baseline: int = 12,
    min_baseline: int = 6,
    *,
    run_length: int = 8,
    trend_run: int = 6,
    lower_bound: float | None = None,
) -> XmR:
    """XmR limits and signals of the current series: the points since the last series break (see xmr_segments)."""
    segments = xmr_segments(
        points, baseline, min_baseline, run_length=run_length, trend_run=trend_run, lower_bound=lower_bound
    )
    if not segments:
        return XmR(None, None, None, None, None, [], [], "no points", [])
    return segments[-1]


# --- streaks ------------------------------------------------------------------------------------------------------


def streaks(statuses: Iterable[str | None]) -> Streaks:
    """Streaks of on_target, statuses oldest first. Any other status, including missing or None, ends a streak."""
    current = longest = 0
    for status in statuses:
        current = current + 1 if status == ON_TARGET else 0
        longest = max(longest, current)
    return Streaks(current, longest)


# --- most improved ------------------------------------------------------------------------------------------------


def _improvement(entry: ImprovementEntry) -> float | str:
    """How much the metric improved in a year, as a share of its target now; or why it cannot be said.

    Improvement = (gap to the target a year ago - gap to the target now) / |target now|, with the gap signed so
    that a smaller gap is better: target - value for higher is better, value - target for lower is better,
    |value - target| for closer is better. For the first two this is the value's change towards "better" over
    |target|, e.g. on-time rate 0.80 -> 0.88 against a target of 0.90 is +0.089 (8.9 % of the target).

    Both values are measured against the target in force now, so a metric only moves up the ranking when its
    value moved: raising or lowering a target must not make a metric look improved or worse. Dividing by the
    target makes metrics in different units comparable; a target of 0 (e.g. zero traffic deaths) cannot scale
    anything, and such metrics are left out rather than ranked on another footing.
    """
    if entry.value is None:
        return "no value now"
    if entry.value_year_ago is None:
        return "no value a year ago"
    if entry.target is None:
        return "no target in force"
    if entry.target == 0:
        return "target is zero, so the change cannot be expressed as a share of it"
    direction = Direction(entry.direction)
    if direction is Direction.closer_is_better:
        gain = abs(entry.value_year_ago - entry.target) - abs(entry.value - entry.target)
    elif direction is Direction.higher_is_better:
        gain = entry.value - entry.value_year_ago
    else:
        gain = entry.value_year_ago - entry.value
    result = gain / abs(entry.target)
    if not math.isfinite(result):
        return "values too large to compare"
    return result


def most_improved(entries: Iterable[ImprovementEntry]) -> Ranking:
    """Metrics ranked by improvement (see `_improvement`), most improved first; ties share a rank and are ordered by
    key. Metrics without the data it needs are returned in `excluded`, with the reason, in the order given."""
    scored: list[tuple[str, float]] = []
    excluded: list[Excluded] = []
    for entry in entries:
        result = _improvement(entry)
        if isinstance(result, str):
            excluded.append(Excluded(entry.metric, result))
        else:
            scored.append((entry.metric, result))
    scored.sort(key=lambda item: (-item[1], item[0]))
    ranked: list[Ranked] = []
    for position, (metric, value) in enumerate(scored, start=1):
        rank = ranked[-1].rank if ranked and ranked[-1].improvement == value else position
        ranked.append(Ranked(metric, value, rank))
    return Ranking(ranked, excluded)
