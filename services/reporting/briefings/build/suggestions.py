"""Which metrics a Cabinet briefing should look at this month: those off target, the biggest movers and those with
a statistical signal, ranked, each with a sentence saying why. The analyst then swaps, reorders and adds.

Scores put the three reasons on one footing, about 1 to 2 each:
  - off target: 1 + the shortfall beyond the target as a share of the target (at most 1 more);
  - mover: the month's change in moving ranges (the XmR noise unit) / 2, from 2 moving ranges on, at most 2: a move
    of 2 moving ranges is as notable as just missing a target;
  - signal: a value beyond the process limits 1.5, a run that has just reached its length 1.25.
A metric suggested for several reasons is listed once, for its strongest; the list takes the best of each reason in
turn.
"""

from __future__ import annotations

import asyncio

from pydantic import BaseModel

from services.common.periods import Period
from services.reporting.briefings.build.common import EPSILON, Reader, ends_within, new_signals
from services.reporting.briefings.build.sentences import movement, signal_story, standing
from services.reporting.clients.metrics import Performance

MOVER_RANGES = 2.0
SIGNAL_SCORES = {"beyond_limits": 1.5, "run_one_side": 1.25, "run_trend": 1.25}
# Ties in score break the same way every time.
REASON_ORDER = {"off_target": 0, "signal": 1, "mover": 2}


class Suggestion(BaseModel):
    metric: str
    name: str
    department: str
    reason: str  # off_target | mover | signal
    score: float
    sentence: str


def shortfall(p: Performance) -> float | None:
    """How far the value is on the wrong side of its target, in the metric's unit (0 or less: not short)."""
    if p.value is None or p.target is None:
        return None
    if p.direction == "closer_is_better":
        return abs(p.value - p.target) - (p.tolerance or 0.0)
    return (p.target - p.value) if p.direction == "higher_is_better" else (p.value - p.target)


def moving_ranges(p: Performance) -> float | None:
    """The month's change in XmR moving ranges: how unusual a move it is for this metric."""
    change = p.vs_previous.absolute if p.vs_previous else None
    spread = p.limits.moving_range if p.limits else None
    if change is None or not spread or spread <= EPSILON:
        return None
    return abs(change) / spread


def candidates(p: Performance, department: str, month: Period | None = None) -> list[Suggestion]:
    """Every reason to bring this metric to Cabinet, each scored and put in words. A value off target is a reason
    whenever it was measured; a move or a signal only in the month its period ends (the month's news)."""
    if p.value is None:
        return []
    news = month is None or ends_within(p.period, month)
    found: list[Suggestion] = []

    def add(reason: str, score: float, sentence: str) -> None:
        found.append(
            Suggestion(
                metric=p.metric,
                name=p.name,
                department=p.department,
                reason=reason,
                score=round(score, 4),
                sentence=sentence,
            )
        )

    if p.status.value == "off_target":
        gap = shortfall(p) or 0.0
        share = min(gap / abs(p.target), 1.0) if p.target else 1.0
        where = standing(department, p.name, p.unit, p.direction, p.period, p.value, p.target)
        add("off_target", 1 + max(share, 0.0), f"{where}, off target.")
    ranges = moving_ranges(p)
    change = p.vs_previous
    if news and ranges is not None and ranges >= MOVER_RANGES and change and change.base_period and change.absolute:
        moved = movement(
            department,
            p.name,
            p.unit,
            p.direction,
            p.period,
            p.value,
            change.base_period,
            change.absolute,
            change.relative,
            p.target,
        )
        usual = f", {ranges:.1f} times its usual move from one {p.frequency} to the next."
        add("mover", min(ranges / MOVER_RANGES, 2.0), moved[:-1] + usual)
    limits = p.limits
    for rule, way, periods in new_signals(p) if news else []:
        limit = (limits.upper if way == "above" else limits.lower) if limits else None
        centre = limits.centre if limits else None
        story = signal_story(
            department, p.name, p.unit, p.direction, p.frequency, rule, way, periods, p.value, limit, centre
        )
        add("signal", SIGNAL_SCORES.get(rule, 1.0), story)
    return found


def rank(
    performance: list[Performance], names: dict[str, str], limit: int, month: Period | None = None
) -> list[Suggestion]:
    """Each metric once, for its strongest reason; then the best of each reason in turn (off target, signal,
    mover), so a briefing opens on a mix rather than on six of a kind."""
    best: dict[str, Suggestion] = {}
    for p in performance:
        for s in candidates(p, names.get(p.department, p.department), month):
            held = best.get(s.metric)
            if held is None or (s.score, -REASON_ORDER[s.reason]) > (held.score, -REASON_ORDER[held.reason]):
                best[s.metric] = s
    queues = {
        reason: sorted(
            (s for s in best.values() if s.reason == reason), key=lambda s: (-s.score, s.department, s.metric)
        )
        for reason in REASON_ORDER
    }
    chosen: list[Suggestion] = []
    while len(chosen) < limit and any(queues.values()):
        for reason in REASON_ORDER:
            if queues[reason] and len(chosen) < limit:
                chosen.append(queues[reason].pop(0))
    return chosen


async def suggestions_for(reader: Reader, month: Period, departments: list[str], limit: int) -> list[Suggestion]:
    names = await reader.department_names()
    if departments:
        lists = await asyncio.gather(*(reader.month_performance(month, code) for code in departments))
        performance = [p for items in lists for p in items]
    else:
        performance = await reader.month_performance(month)
    return rank(performance, names, limit, month)
