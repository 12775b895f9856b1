"""Whether a commitment is being kept, judged from the data alone.

A direction (the Mayor's level for a metric, by a deadline) counts only values of periods that ended after it was
made and on or before its deadline: one of them reaching the level meets it for good. Past the deadline without
that, it is missed. Before the deadline it is on track when the latest value already reaches the level, or when a
least-squares line through the values since it was made (at least three) reaches the level by the deadline; otherwise
it is at risk.

An action item is done when the analyst closed it, missed when past its deadline and not done, and open otherwise.

Values of periods that end after `as_of` are left out: a briefing built as of a date sees what was known then. A
value that arrives late (after the deadline has passed) still counts for its period, so a direction called missed
on the day after its deadline turns met if the last month's value, when it comes, reaches the level.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from services.reporting.briefings.snapshot import CommitmentStatus

# As in metrics' own status: 0.85 against 0.90 - 0.05 must not fall off the band through binary rounding.
_EPSILON = 1e-9
MIN_TREND_POINTS = 3
RECENTLY_RESOLVED_DAYS = 90

UNRESOLVED = frozenset({CommitmentStatus.on_track, CommitmentStatus.at_risk, CommitmentStatus.open})


@dataclass(frozen=True)
class Point:
    """A metric's value for a period, with the last day of the period."""

    period: str
    end: dt.date
    value: float
    revision: int | None = None


@dataclass(frozen=True)
class Assessment:
    status: CommitmentStatus
    reason: str
    # The day it was met, missed or closed (for a met direction: the last day of the period that met it).
    resolved_on: dt.date | None = None
    # The least-squares line's value at the deadline, when one was drawn.
    projected: float | None = None
    latest: Point | None = None


def reaches(value: float, level: float, direction: str, tolerance: float | None = None) -> bool:
    if direction == "closer_is_better":
        return abs(value - level) <= (tolerance or 0.0) + _EPSILON
    if direction == "lower_is_better":
        return value <= level + _EPSILON
    return value >= level - _EPSILON


def least_squares(points: Sequence[Point]) -> tuple[float, float] | None:
    """(slope per day, intercept) of the line through the values against their periods' last days."""
    if len(points) < 2:
        return None
    xs = [float(p.end.toordinal()) for p in points]
    ys = [p.value for p in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return None
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
    return slope, mean_y - slope * mean_x


def _num(value: float) -> str:
    return f"{value:.6g}"


def direction_status(
    points: Sequence[Point],
    *,
    level: float,
    direction: str,
    tolerance: float | None,
    made_on: dt.date | None,
    deadline: dt.date,
    as_of: dt.date,
) -> Assessment:
    """`points` may come in any order and reach back before the commitment; `made_on` None counts every value."""
    known = sorted((p for p in points if p.end <= as_of), key=lambda p: p.end)
    latest = known[-1] if known else None
    since = [p for p in known if made_on is None or p.end > made_on]
    for point in since:
        if point.end > deadline:
            break
        if reaches(point.value, level, direction, tolerance):
            return Assessment(
                CommitmentStatus.met,
                f"{point.period} reached {_num(point.value)} against the level {_num(level)}.",
                resolved_on=point.end,
                latest=latest,
            )
    if as_of > deadline:
        shown = f" (latest: {latest.period}, {_num(latest.value)})" if latest else " (no value yet)"
        return Assessment(
            CommitmentStatus.missed,
            f"The deadline {deadline.isoformat()} passed without a value reaching {_num(level)}{shown}.",
            resolved_on=deadline,
            latest=latest,
        )
    if latest is not None and reaches(latest.value, level, direction, tolerance):
        return Assessment(
            CommitmentStatus.on_track,
            f"The latest value ({latest.period}, {_num(latest.value)}) already reaches {_num(level)}.",
            latest=latest,
        )
    line = least_squares(since) if len(since) >= MIN_TREND_POINTS else None
    if line is None:
        have = f"{len(since)} value{'' if len(since) == 1 else 's'}"
        return Assessment(
            CommitmentStatus.at_risk,
            f"Not at {_num(level)} yet, and {have} since it was made: too few for a trend "
            f"(it takes {MIN_TREND_POINTS}).",
            latest=latest,
        )
    slope, intercept = line
    projected = intercept + slope * deadline.toordinal()
    trend = f"The trend through {len(since)} values since it was made reaches {_num(projected)} by {deadline}"
    if reaches(projected, level, direction, tolerance):
        return Assessment(CommitmentStatus.on_track, f"{trend}.", projected=projected, latest=latest)
    return Assessment(CommitmentStatus.at_risk, f"{trend}, short of {_num(level)}.", projected=projected, latest=latest)


def action_status(*, done_on: dt.date | None, deadline: dt.date | None, as_of: dt.date) -> Assessment:
    if done_on is not None:
        return Assessment(CommitmentStatus.done, f"Closed on {done_on.isoformat()}.", resolved_on=done_on)
    if deadline is not None and as_of > deadline:
        return Assessment(CommitmentStatus.missed, f"Due {deadline.isoformat()} and not done.", resolved_on=deadline)
    due = f"Due {deadline.isoformat()}." if deadline is not None else "No deadline."
    return Assessment(CommitmentStatus.open, due)


def still_tracked(assessment: Assessment, as_of: dt.date) -> bool:
    """What a briefing lists: every commitment not yet resolved, and those resolved in the last 90 days."""
    if assessment.status in UNRESOLVED or assessment.resolved_on is None:
        return True
    return assessment.resolved_on >= as_of - dt.timedelta(days=RECENTLY_RESOLVED_DAYS)
