"""Builders: metrics' answers turned into the frozen Snapshot each kind of briefing renders.

Every number comes with its metric, period and observation revision. Builders only read metrics, acting as whoever
the client acts for, so what a briefing shows is what that person may see.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from services.common.errors import NotFound
from services.reporting.briefings.build.annual import annual_priorities
from services.reporting.briefings.build.cabinet import cabinet_panels
from services.reporting.briefings.build.common import (
    BuildRequest,
    Reader,
    Selection,
    briefing_period,
    department_order,
    refuse,
)
from services.reporting.briefings.build.frontline import frontline_units
from services.reporting.briefings.build.memo import memo_items
from services.reporting.briefings.build.roundtable import departments_of, roundtable_parts
from services.reporting.briefings.build.sentences import listing, period_name
from services.reporting.briefings.build.suggestions import Suggestion, suggestions_for
from services.reporting.briefings.snapshot import BriefingKind, CommitmentLine, MeetingInfo, Snapshot
from services.reporting.clients.metrics import MetricsClient

__all__ = [
    "BuildRequest",
    "Selection",
    "Suggestion",
    "build_snapshot",
    "default_title",
    "suggest_cabinet_metrics",
]

TITLES = {
    BriefingKind.cabinet: "Cabinet briefing",
    BriefingKind.memo: "Performance memo to the Mayor",
    BriefingKind.annual: "Annual performance report",
    BriefingKind.frontline: "Front-line scorecard",
    BriefingKind.roundtable: "Roundtable",
}


def default_title(kind: BriefingKind | str, period: str, department_names: dict[str, str]) -> str:
    """ "Department of Public Works roundtable, June 2017", "Cabinet briefing, June 2017", "Annual performance
    report, 2016"; a front-line scorecard or memo for some departments names them first."""
    kind = BriefingKind(kind)
    when = period_name(period).removeprefix("the ")  # "week of 5 June 2017"
    names = listing(list(department_names.values()))
    if kind is BriefingKind.roundtable:
        return f"{names} roundtable, {when}" if names else f"Roundtable, {when}"
    title = TITLES[kind]
    if names and kind is not BriefingKind.cabinet:
        title = f"{names}: {title[0].lower()}{title[1:]}"
    return f"{title}, {when}"


async def build_snapshot(
    metrics: MetricsClient,
    request: BuildRequest,
    *,
    as_of: dt.date,
    read_at: dt.datetime,
    commitments: Iterable[CommitmentLine] = (),
    meeting: MeetingInfo | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Snapshot:
    """What a briefing of this kind shows for the request's period, read from metrics now."""
    kind = request.kind
    period = briefing_period(kind, request.period)
    departments = list(request.departments)
    if kind is BriefingKind.roundtable:
        departments = departments_of(departments)
    elif len(set(departments)) != len(departments):
        raise refuse("departments", "a department is named twice")
    reader = Reader(metrics, progress)
    names = await reader.department_names()
    for code in departments:
        if code not in names:
            raise NotFound(f"No department has the code '{code}'.")
    commitments = list(commitments)
    content: dict = {}
    mentioned: list[str] = list(departments)
    if kind is BriefingKind.roundtable:
        panels, completeness, annotations = await roundtable_parts(reader, period, departments)
        content = {"panels": panels, "completeness": completeness, "annotations": annotations}
    elif kind is BriefingKind.cabinet:
        panels = await cabinet_panels(reader, period, request.selection)
        content = {"panels": panels}
        mentioned += [p.department for p in panels]
    elif kind is BriefingKind.memo:
        content = {"memo": await memo_items(reader, period, departments)}
        mentioned += sorted(names) if not departments else []
    elif kind is BriefingKind.annual:
        annual = await annual_priorities(reader, period, departments)
        content = {"annual": annual}
        mentioned += [line.department for priority in annual for line in priority.lines]
    else:
        units = await frontline_units(reader, period, departments)
        content = {"frontline": units}
        mentioned += [u.department for u in units]
    mentioned += [c.department for c in commitments]
    chosen = department_order(departments, names)
    snapshot = Snapshot(
        kind=kind,
        title=request.title or default_title(kind, str(period), chosen),
        period=str(period),
        departments=departments,
        department_names=department_order(mentioned, names),
        as_of=as_of,
        read_at=read_at,
        meeting=meeting,
        commitments=commitments,
        **content,
    )
    reader.finish()
    return snapshot


async def suggest_cabinet_metrics(
    metrics: MetricsClient, period: str, departments: Iterable[str] = (), limit: int = 6
) -> list[Suggestion]:
    """Metrics worth a Cabinet's time this month, strongest reason first: off target, big movers, signals."""
    month = briefing_period(BriefingKind.cabinet, period)
    reader = Reader(metrics, None)
    codes = list(dict.fromkeys(departments))
    if codes:
        names = await reader.department_names()
        for code in codes:
            if code not in names:
                raise NotFound(f"No department has the code '{code}'.")
    return await suggestions_for(reader, month, codes, max(limit, 0))
