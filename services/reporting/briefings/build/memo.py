"""The monthly performance memo to the Mayor, written from the numbers: the biggest improvements and declines,
metrics newly off target, statistical signals, missing and late data, and recognition (the most improved over the
year, the longest runs on target). Each item is a sentence with the figures it quotes."""

from __future__ import annotations

import asyncio

from services.common.periods import Period
from services.reporting.briefings.build.common import Reader, ends_within, figure, judgement, new_signals
from services.reporting.briefings.build.sentences import (
    STATUS_WORDS,
    listing,
    metric_phrase,
    movement,
    period_name,
    signal_story,
    standing,
    steps,
    target_clause,
    value_text,
)
from services.reporting.briefings.build.suggestions import moving_ranges
from services.reporting.briefings.snapshot import Figure, MemoItem, MemoSection
from services.reporting.clients.metrics import Completeness, Performance

# A month's move counts as an improvement or a decline worth a line once it is larger than the metric's usual move
# from one period to the next (its XmR mean moving range): smaller moves are routine variation.
MOVE_RANGES = 1.0
MOVES_SHOWN = 5
MOST_IMPROVED_SHOWN = 3
# Metrics ranks on each metric's period containing the month's end; some of those are not the month's news (a
# quarter still running), so more are asked for than are shown.
MOST_IMPROVED_ASKED = 20
STREAKS_SHOWN = 3
STREAK_MIN = 3
NAMES_SHOWN = 5
ORDINALS = ("", "first", "second", "third", "fourth", "fifth")


async def memo_items(reader: Reader, month: Period, departments: list[str]) -> list[MemoItem]:
    names = await reader.department_names()
    if departments:
        lists = await asyncio.gather(*(reader.month_performance(month, code) for code in departments))
        performance = [p for items in lists for p in items]
    else:
        performance = await reader.month_performance(month)
    # The month's news: a quarterly metric speaks in the memo of its quarter's last month, not in the two after.
    performance = [p for p in performance if ends_within(p.period, month)]
    moves, newly, missing, improved = await asyncio.gather(
        _moves(reader, performance, names),
        _newly_off_target(reader, performance, names),
        _missing_data(reader, month, departments, names),
        _most_improved(reader, month, departments, performance, names),
    )
    signals = _signals(performance, names)
    streaks = _streaks(performance, names)
    return moves + newly + signals + missing + improved + streaks


def _department(p: Performance, names: dict[str, str]) -> str:
    return names.get(p.department, p.department)


async def _moves(reader: Reader, performance: list[Performance], names: dict[str, str]) -> list[MemoItem]:
    """The biggest improvements and declines on the period before, measured in the metric's usual moves."""
    scored: dict[str, list[tuple[float, Performance]]] = {"improving": [], "worsening": []}
    for p in performance:
        change = p.vs_previous
        ranges = moving_ranges(p)
        if p.value is None or change is None or change.absolute is None or ranges is None or ranges < MOVE_RANGES:
            continue
        word = judgement(p.value, change.base_value, p.direction, p.target)
        if word in scored:
            scored[word].append((ranges, p))
    chosen: list[tuple[MemoSection, Performance]] = []
    for word, section in (("improving", MemoSection.improvement), ("worsening", MemoSection.decline)):
        ranked = sorted(scored[word], key=lambda item: (-item[0], item[1].department, item[1].metric))
        chosen += [(section, p) for _, p in ranked[:MOVES_SHOWN]]
    bases = await asyncio.gather(*(reader.revision_of(p.metric, p.vs_previous.base_period) for _, p in chosen))
    items = []
    for (section, p), base_revision in zip(chosen, bases, strict=True):
        change = p.vs_previous
        sentence = movement(
            _department(p, names),
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
        base = Figure(
            metric=p.metric, period=change.base_period, value=change.base_value, revision=base_revision, unit=p.unit
        )
        items.append(MemoItem(section=section, sentence=sentence, figures=[figure(p), base]))
    return items


async def _newly_off_target(reader: Reader, performance: list[Performance], names: dict[str, str]) -> list[MemoItem]:
    """Off target now, and on target, near it or without one the period before (a missing value says nothing)."""
    off = [p for p in performance if p.status.value == "off_target"]
    before = await reader.all(reader.metrics.metric_performance(p.metric, p.previous_period) for p in off)
    items = []
    for p, previous in zip(off, before, strict=True):
        if previous.status.value in ("off_target", "missing") or previous.value is None:
            continue
        was = STATUS_WORDS[previous.status.value]
        where = standing(_department(p, names), p.name, p.unit, p.direction, p.period, p.value, p.target)
        sentence = (
            f"{where}: off target, after being {was} in {period_name(previous.period, within=p.period)} "
            f"({value_text(previous.value, previous.unit)})."
        )
        figures = [figure(p), figure(previous)]
        items.append(MemoItem(section=MemoSection.newly_off_target, sentence=sentence, figures=figures))
    return items


def _signals(performance: list[Performance], names: dict[str, str]) -> list[MemoItem]:
    items = []
    for p in performance:
        limits = p.limits
        for rule, way, periods in new_signals(p):
            limit = (limits.upper if way == "above" else limits.lower) if limits else None
            sentence = signal_story(
                _department(p, names),
                p.name,
                p.unit,
                p.direction,
                p.frequency,
                rule,
                way,
                periods,
                p.value,
                limit,
                limits.centre if limits else None,
            )
            items.append(MemoItem(section=MemoSection.signal, sentence=sentence, figures=[figure(p)]))
    return items


async def _missing_data(reader: Reader, month: Period, departments: list[str], names: dict[str, str]) -> list[MemoItem]:
    """Per department, the month's values missing past their due date and those that came in late."""
    reader.expect(1)
    board = await reader.one(reader.metrics.completeness(start=str(month), end=str(month)))
    wanted = set(departments)
    behind = [
        d.department
        for d in board.departments
        if (not wanted or d.department in wanted) and (d.totals.missing or d.totals.late)
    ]
    details = await reader.all(reader.metrics.completeness(code, start=str(month), end=str(month)) for code in behind)
    return [_missing_item(code, report, month, names) for code, report in zip(behind, details, strict=True)]


def _missing_item(code: str, report: Completeness, month: Period, names: dict[str, str]) -> MemoItem:
    entries = [(m, e) for m in report.metrics or [] for e in m.values]
    missing = [(m, e) for m, e in entries if e.status == "missing"]
    late = [(m, e) for m, e in entries if e.status == "late"]
    when = period_name(str(month))
    parts = []
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        parts.append(
            f"{_share(len(missing), len(entries), when)} {verb} missing "
            f"({_names([metric_phrase(m.name) for m, _ in missing])})"
        )
    if late:
        days = sum(e.days_late for _, e in late) / len(late)
        by = f"by {days:.0f} {'day' if round(days) == 1 else 'days'}" + (" on average" if len(late) > 1 else "")
        counted = str(len(late)) if missing else _share(len(late), len(entries), when)
        parts.append(f"{counted} arrived late, {by} ({_names([metric_phrase(m.name) for m, _ in late])})")
    sentence = f"{names.get(code, code)}: " + "; ".join(parts) + "."
    figures = [Figure(metric=m.metric, period=e.period, value=None) for m, e in missing]
    return MemoItem(section=MemoSection.missing_data, sentence=sentence, figures=figures)


def _share(count: int, total: int, when: str) -> str:
    """ "2 of its 11 values for May 2017", "all 3 of its values...", "both its values...", "its one value..."."""
    if count == total:
        return {1: f"its one value for {when}", 2: f"both its values for {when}"}.get(
            count, f"all {count} of its values for {when}"
        )
    return f"{count} of its {total} values for {when}"


def _names(items: list[str]) -> str:
    if len(items) <= NAMES_SHOWN:
        return listing(items)
    return listing([*items[:NAMES_SHOWN], f"{len(items) - NAMES_SHOWN} more"])


async def _most_improved(
    reader: Reader, month: Period, departments: list[str], performance: list[Performance], names: dict[str, str]
) -> list[MemoItem]:
    """The metrics that closed most of their gap to target since a year ago, as metrics ranks them."""
    metrics = reader.metrics
    if departments:
        boards = await reader.all(
            metrics.most_improved(str(month), code, limit=MOST_IMPROVED_ASKED) for code in departments
        )
        ranked = sorted((i for b in boards for i in b.items), key=lambda i: (-i.improvement, i.metric))
    else:
        reader.expect(1)
        ranked = (await reader.one(metrics.most_improved(str(month), limit=MOST_IMPROVED_ASKED))).items
    # Metrics ranks each metric on its period that contains the month's last day: kept when that is the period the
    # memo speaks of (not a week running into the next month).
    shown = {p.metric: p for p in performance}
    ranked = [i for i in ranked if i.improvement > 0 and i.metric in shown]
    chosen = [i for i in ranked if _ranked_on(shown[i.metric], month) == shown[i.metric].period][:MOST_IMPROVED_SHOWN]
    periods = [_year_apart(shown[i.metric].period) for i in chosen]
    revisions = await asyncio.gather(
        *(reader.revision_of(i.metric, period) for i, pair in zip(chosen, periods, strict=True) for period in pair)
    )
    items = []
    for place, (item, (now, then)) in enumerate(zip(chosen, periods, strict=True), start=1):
        p = shown[item.metric]
        gain = item.improvement * 100
        sentence = (
            f"{names.get(item.department, item.department)}: {metric_phrase(item.name)} ranks {ORDINALS[place]} "
            f"for improvement over the year, from {value_text(item.value_year_ago, p.unit)} in {period_name(then)} "
            f"to {value_text(item.value, p.unit)} in {period_name(now)}, a gain worth {gain:.0f}% of its target "
            f"({value_text(item.target, p.unit)})."
        )
        figures = [
            Figure(metric=item.metric, period=now, value=item.value, revision=revisions[2 * place - 2], unit=p.unit),
            Figure(
                metric=item.metric,
                period=then,
                value=item.value_year_ago,
                revision=revisions[2 * place - 1],
                unit=p.unit,
            ),
        ]
        items.append(MemoItem(section=MemoSection.most_improved, sentence=sentence, figures=figures))
    return items


def _ranked_on(p: Performance, month: Period) -> str:
    return str(Period.containing(month.end, p.frequency))


def _year_apart(period: str) -> tuple[str, str]:
    return period, str(Period.parse(period).same_period_last_year())


def _streaks(performance: list[Performance], names: dict[str, str]) -> list[MemoItem]:
    """The longest current runs on target."""
    running = [p for p in performance if p.streak and p.streak.current >= STREAK_MIN and p.value is not None]
    running.sort(key=lambda p: (-p.streak.current, p.department, p.metric))
    items = []
    for p in running[:STREAKS_SHOWN]:
        sentence = (
            f"{_department(p, names)} has kept {metric_phrase(p.name)} on target for "
            f"{steps(p.frequency, p.streak.current)} in a row, through {period_name(p.period)} "
            f"({value_text(p.value, p.unit)}, {target_clause(p.value, p.target, p.unit, p.direction)})."
        )
        items.append(MemoItem(section=MemoSection.streak, sentence=sentence, figures=[figure(p)]))
    return items
