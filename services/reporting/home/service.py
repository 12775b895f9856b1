"""The staff home page's board, composed in one request so the page makes one call after the header's.

Two boards, by who is signed in:
  - department (liaison, head, a department's viewer): what is due and what is late from metrics' schedules, the
    latest movement of each metric, and the analysts' open questions on the department's data; a head also gets the
    department's scorecard and its open commitments. Also the department's upcoming meetings.
  - citywide (analyst, admin, a citywide viewer): metrics off target, statistical signals, departments with missing
    data, upcoming meetings and the briefings being prepared (drafts, and those for an upcoming meeting). A citywide
    viewer gets the same board read-only: the briefings they may read are the published ones only.

Metrics is asked everything at once (asyncio.gather), alongside reporting's own tables; every list is cut to a few
items with its total beside it, for the page to link to the full view.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from urllib.parse import quote

from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from services.common.auth import Principal, Role
from services.common.errors import Forbidden
from services.common.periods import Frequency, last_complete_period
from services.reporting.briefings.build.common import judgement, new_signals, signal_sentence
from services.reporting.briefings.models import Briefing, BriefingState
from services.reporting.briefings.service import can_see
from services.reporting.clients.metrics import (
    Annotation,
    Completeness,
    Department,
    MetricsClient,
    Performance,
    ScheduleEntry,
    Status,
)
from services.reporting.commitments import status as judge
from services.reporting.commitments.service import assess_all, find_commitments
from services.reporting.home.schemas import (
    Board,
    BriefingLine,
    DepartmentScorecard,
    DueValue,
    Home,
    MissingData,
    MissingSection,
    Movement,
    OffTarget,
    OpenCommitment,
    OpenQuestion,
    ScorecardLine,
    Section,
    SignalLine,
    UpcomingMeeting,
)
from services.reporting.meetings.models import Meeting
from services.reporting.meetings.service import find_meetings
from services.reporting.scorecards.service import summarise

# Enough to act on at a glance; the full lists are a link away.
SHOWN = 8
# A head reads every metric of their department on one card: departments have a few dozen at most.
SCORECARD_SHOWN = 40


def _section(items: list, shown: int = SHOWN) -> Section:
    return Section(items=items[:shown], total=len(items))


async def home(session: Session, metrics: MetricsClient, principal: Principal, as_of: dt.date) -> Home:
    month = str(last_complete_period(as_of, Frequency.month))
    if principal.is_citywide:
        return await _citywide(session, metrics, principal, as_of, month)
    if principal.department is None:
        # Only a citywide account has no department; anything else has nothing a board could show.
        raise Forbidden("Your account belongs to no department, so there is no board to show you.")
    return await _department(session, metrics, principal, principal.department, as_of, month)


# --- a department's board -----------------------------------------------------------------------------------------


async def _department(
    session: Session, metrics: MetricsClient, principal: Principal, code: str, as_of: dt.date, month: str
) -> Home:
    is_head = principal.role is Role.head

    async def own_tables() -> tuple[list[Meeting], list[OpenCommitment]]:
        # One database session is not for two threads at once: reporting's reads go one after the other.
        meetings = await run_in_threadpool(find_meetings, session, department=code, start=as_of)
        return meetings, (await _open_commitments(session, metrics, code, as_of) if is_head else [])

    performance, report, questions, (meetings, commitments) = await asyncio.gather(
        metrics.performance(None, department=code),
        # Metrics' default window (the last six complete months), as the completeness board shows it.
        metrics.completeness(code),
        metrics.annotations(code, kind="question", open_only=True),
        own_tables(),
    )
    entries = [(m.metric, m.name, e) for m in report.metrics or [] for e in m.values]
    due = sorted((_owed(key, name, e) for key, name, e in entries if e.status == "due"), key=_by_due)
    late = sorted((_owed(key, name, e) for key, name, e in entries if e.status == "missing"), key=_by_due)
    arrivals = {(key, e.period): e.arrived_on for key, _, e in entries}
    names = {p.metric: p.name for p in performance} | {m.metric: m.name for m in report.metrics or []}
    board = Home(
        role=principal.role.value if principal.role else "viewer",
        board=Board.department,
        department=_department_of(code, report),
        as_of=as_of,
        period=month,
        due=_section(due),
        late=_section(late),
        changed=_section(_movements(performance, arrivals)),
        questions=_section([_question(q, names) for q in sorted(questions, key=lambda q: (q.at, q.id), reverse=True)]),
        meetings=_section([_meeting(m) for m in meetings]),
    )
    if is_head:
        board.scorecard = _scorecard(performance)
        board.commitments = _section(commitments)
    return board


def _department_of(code: str, report: Completeness) -> Department:
    found = next((d for d in report.departments if d.department == code), None)
    return Department(code=code, name=found.name if found else code)


def _owed(key: str, name: str, entry: ScheduleEntry) -> DueValue:
    return DueValue(metric=key, name=name, period=entry.period, due_date=entry.due_date, days_late=entry.days_late)


def _by_due(value: DueValue) -> tuple:
    # The longest owed first (a late list), the soonest due first (a due list): both are the earliest due date.
    return (value.due_date, value.metric, value.period)


def _movements(performance: list[Performance], arrivals: dict[tuple[str, str], dt.date | None]) -> list[Movement]:
    """Each metric's latest value that moved against the period before: the newest arrivals first, then the biggest
    moves, so what came in since the liaison last looked leads."""
    moved = []
    for p in performance:
        if p.value is None or p.previous_value is None or p.change is None or p.change == 0:
            continue
        relative = p.vs_previous.relative if p.vs_previous else None
        if relative is None and p.previous_value:
            relative = p.change / abs(p.previous_value)
        moved.append(
            Movement(
                metric=p.metric,
                name=p.name,
                unit=p.unit,
                period=p.period,
                value=p.value,
                previous_period=p.previous_period,
                previous_value=p.previous_value,
                change=p.change,
                relative=relative,
                judgement=judgement(p.value, p.previous_value, p.direction, p.target),
                status=p.status,
                arrived_on=arrivals.get((p.metric, p.period)),
            )
        )
    return sorted(moved, key=lambda m: (-(m.arrived_on or dt.date.min).toordinal(), -abs(m.relative or 0), m.metric))


def _question(a: Annotation, names: dict[str, str]) -> OpenQuestion:
    return OpenQuestion(
        id=a.id,
        metric=a.metric,
        metric_name=names.get(a.metric),
        department=a.department,
        period=a.period,
        body=a.body,
        asked_by=a.actor_name or a.actor,
        asked_at=a.at,
        url=f"metric.html?key={quote(a.metric, safe='')}",
    )


def _scorecard(performance: list[Performance]) -> DepartmentScorecard:
    # Key metrics lead, as on the department's page.
    ordered = sorted(performance, key=lambda p: (not p.is_key, p.metric))
    lines = [
        ScorecardLine(
            metric=p.metric,
            name=p.name,
            unit=p.unit,
            period=p.period,
            value=p.value,
            target=p.target,
            status=p.status,
            is_key=p.is_key,
        )
        for p in ordered
    ]
    return DepartmentScorecard(
        period=performance[0].period if performance else None,
        summary=summarise(performance),
        items=lines[:SCORECARD_SHOWN],
        total=len(lines),
    )


async def _open_commitments(
    session: Session, metrics: MetricsClient, code: str, as_of: dt.date
) -> list[OpenCommitment]:
    rows = await run_in_threadpool(find_commitments, session, department=code)
    # A direction's status is judged from the metric's values, so only the unresolved need their series read; an
    # action item's is known from the row. Met, missed and done ones are history, not the head's to-do list.
    pending = [c for c in rows if c.kind != "action" or c.done_at is None]
    open_items = []
    for item in await assess_all(session, metrics, pending, as_of):
        if item.assessment.status not in judge.UNRESOLVED:
            continue
        c, defined = item.commitment, item.series.metric if item.series else None
        open_items.append(
            OpenCommitment(
                id=c.id,
                kind=c.kind,
                metric=c.metric,
                metric_name=defined.name if defined else None,
                description=c.description,
                level=c.level,
                deadline=c.deadline,
                status=item.assessment.status,
            )
        )
    return open_items


def _meeting(m: Meeting) -> UpcomingMeeting:
    return UpcomingMeeting(id=m.id, kind=m.kind, held_on=m.held_on, title=m.title, departments=m.departments)


# --- the citywide board -------------------------------------------------------------------------------------------


async def _citywide(session: Session, metrics: MetricsClient, principal: Principal, as_of: dt.date, month: str) -> Home:
    performance, report, (meetings, briefings) = await asyncio.gather(
        metrics.performance(None),
        metrics.completeness(),
        run_in_threadpool(_calendar, session, principal, as_of),
    )
    off = sorted(
        (p for p in performance if p.status is Status.off_target),
        key=lambda p: (not p.is_key, p.department, p.metric),
    )
    missing = sorted(
        (
            MissingData(
                department=d.department,
                name=d.name,
                expected=d.totals.expected,
                missing=d.totals.missing,
                late=d.totals.late,
            )
            for d in report.departments
            if d.totals.missing
        ),
        key=lambda d: (-d.missing, d.department),
    )
    return Home(
        role=principal.role.value if principal.role else "viewer",
        board=Board.citywide,
        department=None,
        as_of=as_of,
        period=month,
        off_target=_section([_off_target(p) for p in off]),
        signals=_section(_signals(performance)),
        missing=MissingSection(items=missing[:SHOWN], total=len(missing), start=report.start, end=report.end),
        meetings=_section(meetings),
        briefings=_section(briefings),
    )


def _off_target(p: Performance) -> OffTarget:
    return OffTarget(
        metric=p.metric,
        department=p.department,
        name=p.name,
        unit=p.unit,
        period=p.period,
        value=p.value,
        target=p.target,
        is_key=p.is_key,
    )


def _signals(performance: list[Performance]) -> list[SignalLine]:
    """The signals each metric's shown period takes part in: news (first seen this period) first."""
    lines = []
    for p in performance:
        if p.limits is None:
            continue
        news = {(rule, way, tuple(periods)) for rule, way, periods in new_signals(p)}
        for s in p.limits.signals:
            if p.period not in s.periods:
                continue
            lines.append(
                SignalLine(
                    metric=p.metric,
                    department=p.department,
                    name=p.name,
                    period=p.period,
                    rule=s.rule,
                    direction=s.direction,
                    periods=s.periods,
                    text=signal_sentence(p, s.rule, s.direction, s.periods),
                    new=(s.rule, s.direction, tuple(s.periods)) in news,
                )
            )
    return sorted(lines, key=lambda line: (not line.new, line.department, line.metric, line.rule))


def _calendar(session: Session, principal: Principal, as_of: dt.date) -> tuple[list[UpcomingMeeting], list]:
    """Meetings from today on, and the briefings in preparation: drafts, and any for one of those meetings."""
    meetings = find_meetings(session, start=as_of)
    upcoming = {m.id: m.held_on for m in meetings}
    # The rendered HTML and PDF are the heavy columns and the board shows neither.
    query = select(Briefing).options(defer(Briefing.html), defer(Briefing.pdf), defer(Briefing.snapshot))
    wanted = query.where(
        (col(Briefing.state) == BriefingState.draft.value) | col(Briefing.meeting_id).in_(list(upcoming) or [-1])
    )
    rows = session.exec(wanted.order_by(col(Briefing.updated_at).desc(), col(Briefing.id).desc())).all()
    briefings = [
        BriefingLine(
            id=b.id,
            kind=b.kind,
            title=b.title,
            period=b.period,
            state=b.state,
            build_status=b.build_status,
            meeting_id=b.meeting_id,
            meeting_on=upcoming.get(b.meeting_id) if b.meeting_id is not None else None,
        )
        for b in rows
        if can_see(principal, b)
    ]
    # Those for the next meeting first: they are what must be ready soonest.
    briefings.sort(key=lambda b: (b.meeting_on is None, b.meeting_on or dt.date.max))
    return [_meeting(m) for m in meetings], briefings
