"""Commitments: the Mayor's directions given in Cabinet briefings, and the action items agreed in meetings.

A direction is a level for a metric by a deadline. Recording one sets the target in metrics, as the analyst who
records it (metrics checks their rights and audits them), with the briefing named as who set it and why. Its status
is never stored: it is judged from the metric's values each time it is read (status.py). An action item is closed by
the analyst.

Who sees what: the performance office and citywide viewers see every department's; other staff their own
department's. Only the performance office records and changes them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session, select

from services.common.auth import Principal
from services.common.errors import Conflict, Forbidden, NotFound, Unprocessable
from services.common.pagination import PageParams
from services.common.periods import Period, PeriodError
from services.reporting.base import utcnow
from services.reporting.briefings.models import Briefing
from services.reporting.briefings.snapshot import BriefingKind, CommitmentLine, CommitmentStatus, Figure
from services.reporting.clients.metrics import Metric, MetricsClient
from services.reporting.commitments import status as judge
from services.reporting.commitments.models import Commitment, CommitmentKind
from services.reporting.commitments.schemas import CommitmentCreate, CommitmentPublic, CommitmentUpdate
from services.reporting.meetings.models import Meeting

SET_BY_MAX = 200
READS_AT_ONCE = 8
REASON_MAX = 2_000


# --- where a commitment was made ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Origin:
    made_in: str | None
    made_on: dt.date | None
    # The day set_by names: the meeting's, else none known.
    meeting_day: dt.date | None = None


def _period_end(text: str) -> dt.date | None:
    try:
        return Period.parse(text).end
    except PeriodError:
        return None


def origins(session: Session, commitments: Sequence[Commitment]) -> dict[int, Origin]:
    """By commitment id: the briefing's (else the meeting's) title, and the day it was made: the meeting's date, or
    for a briefing held in no recorded meeting the last day of the period it reviewed."""
    briefing_ids = sorted({c.briefing_id for c in commitments if c.briefing_id is not None})
    briefings = {}
    if briefing_ids:
        # Not the whole row: a briefing carries its snapshot.
        rows = session.exec(
            select(Briefing.id, Briefing.title, Briefing.period, Briefing.meeting_id).where(
                Briefing.id.in_(briefing_ids)
            )
        ).all()
        briefings = {row[0]: row for row in rows}
    meeting_ids = {c.meeting_id for c in commitments if c.meeting_id is not None}
    meeting_ids |= {row[3] for row in briefings.values() if row[3] is not None}
    meetings = {}
    if meeting_ids:
        meetings = {m.id: m for m in session.exec(select(Meeting).where(Meeting.id.in_(sorted(meeting_ids)))).all()}
    found: dict[int, Origin] = {}
    for c in commitments:
        briefing = briefings.get(c.briefing_id)
        meeting = meetings.get(c.meeting_id if c.meeting_id is not None else (briefing[3] if briefing else None))
        if briefing is not None:
            made_on = meeting.held_on if meeting else _period_end(briefing[2])
            found[c.id] = Origin(briefing[1], made_on, meeting.held_on if meeting else None)
        elif meeting is not None:
            found[c.id] = Origin(meeting.title, meeting.held_on, meeting.held_on)
        else:
            found[c.id] = Origin(None, None)
    return found


# --- status from the data ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    metric: Metric | None  # None: metrics would not show it to whoever is asking
    points: list[judge.Point]


async def _series(metrics: MetricsClient, key: str) -> Series:
    try:
        metric = await metrics.metric(key)
        observed = await metrics.observations(key)
    except NotFound:
        return Series(None, [])
    points = [
        judge.Point(p.period, end, p.value, p.revision)
        for p in observed
        if not p.org_unit and (end := _period_end(p.period)) is not None
    ]
    return Series(metric, points)


async def series_of(metrics: MetricsClient, commitments: Sequence[Commitment]) -> dict[str, Series]:
    """Each directed metric's definition and series, read once however many commitments name it."""
    keys = sorted({c.metric for c in commitments if c.kind == CommitmentKind.direction and c.metric})
    # A few at a time: a citywide tracker may name a hundred metrics, and each read is two requests to metrics.
    gate = asyncio.Semaphore(READS_AT_ONCE)

    async def read(key: str) -> Series:
        async with gate:
            return await _series(metrics, key)

    found = await asyncio.gather(*(read(key) for key in keys))
    return dict(zip(keys, found, strict=True))


def assess(commitment: Commitment, origin: Origin, series: Series | None, as_of: dt.date) -> judge.Assessment:
    if commitment.kind == CommitmentKind.action:
        done_on = commitment.done_at.date() if commitment.done_at is not None else None
        return judge.action_status(done_on=done_on, deadline=commitment.deadline, as_of=as_of)
    deadline = commitment.deadline or as_of
    if series is None or series.metric is None or commitment.level is None:
        late = as_of > deadline
        return judge.Assessment(
            CommitmentStatus.missed if late else CommitmentStatus.at_risk,
            f"The metric '{commitment.metric}' cannot be read from metrics.",
            resolved_on=deadline if late else None,
        )
    return judge.direction_status(
        series.points,
        level=commitment.level,
        direction=series.metric.direction,
        tolerance=commitment.tolerance,
        made_on=origin.made_on,
        deadline=deadline,
        as_of=as_of,
    )


def _figure(key: str | None, point: judge.Point | None) -> Figure | None:
    if key is None or point is None:
        return None
    return Figure(metric=key, period=point.period, value=point.value, revision=point.revision)


@dataclass(frozen=True)
class Assessed:
    commitment: Commitment
    origin: Origin
    series: Series | None
    assessment: judge.Assessment


async def assess_all(
    session: Session, metrics: MetricsClient, commitments: Sequence[Commitment], as_of: dt.date
) -> list[Assessed]:
    found = await run_in_threadpool(origins, session, commitments)
    series = await series_of(metrics, commitments)
    result = []
    for c in commitments:
        s = series.get(c.metric) if c.metric else None
        result.append(Assessed(c, found[c.id], s, assess(c, found[c.id], s, as_of)))
    return result


def to_public(item: Assessed) -> CommitmentPublic:
    c, metric = item.commitment, item.series.metric if item.series else None
    return CommitmentPublic(
        id=c.id,
        kind=c.kind,
        department=c.department,
        metric=c.metric,
        metric_name=metric.name if metric else None,
        unit=metric.unit if metric else None,
        direction=metric.direction if metric else None,
        description=c.description,
        level=c.level,
        tolerance=c.tolerance,
        deadline=c.deadline,
        briefing_id=c.briefing_id,
        meeting_id=c.meeting_id,
        made_in=item.origin.made_in,
        made_on=item.origin.made_on,
        target_id=c.target_id,
        status=item.assessment.status,
        status_reason=item.assessment.reason,
        latest=_figure(c.metric, item.assessment.latest),
        projected=item.assessment.projected,
        done_at=c.done_at,
        done_note=c.done_note,
        created_by=c.created_by,
        created_at=c.created_at,
        updated_at=c.updated_at,
    )


# --- reading --------------------------------------------------------------------------------------------------------


def _by_deadline(query):
    # Deadlines first, soonest first; those without one after them.
    return query.order_by(Commitment.deadline.is_(None), Commitment.deadline, Commitment.id)


def find_commitments(
    session: Session,
    *,
    departments: Sequence[str] | set[str] | None = None,
    department: str | None = None,
    kind: CommitmentKind | None = None,
    briefing_id: int | None = None,
    meeting_id: int | None = None,
) -> list[Commitment]:
    """`departments` None: every department. `meeting_id` finds the meeting's action items and the directions
    given in the briefings held in it."""
    query = select(Commitment)
    if departments is not None:
        query = query.where(Commitment.department.in_(sorted(departments)))
    if department is not None:
        query = query.where(Commitment.department == department)
    if kind is not None:
        query = query.where(Commitment.kind == kind)
    if briefing_id is not None:
        query = query.where(Commitment.briefing_id == briefing_id)
    if meeting_id is not None:
        held_in = select(Briefing.id).where(Briefing.meeting_id == meeting_id)
        query = query.where(sa.or_(Commitment.meeting_id == meeting_id, Commitment.briefing_id.in_(held_in)))
    return list(session.exec(_by_deadline(query)).all())


async def list_commitments(
    session: Session,
    metrics: MetricsClient,
    principal: Principal,
    page: PageParams,
    *,
    as_of: dt.date,
    department: str | None = None,
    kind: CommitmentKind | None = None,
    status: CommitmentStatus | None = None,
    briefing_id: int | None = None,
    meeting_id: int | None = None,
) -> tuple[list[CommitmentPublic], int]:
    rows = await run_in_threadpool(
        find_commitments,
        session,
        departments=principal.readable_departments(),
        department=department,
        kind=kind,
        briefing_id=briefing_id,
        meeting_id=meeting_id,
    )
    if status is None:
        # Only the page shown needs its metrics read.
        shown = await assess_all(session, metrics, rows[page.offset : page.offset + page.limit], as_of)
        return [to_public(a) for a in shown], len(rows)
    # A status is computed, not stored: every candidate is judged before the page is cut.
    matching = [a for a in await assess_all(session, metrics, rows, as_of) if a.assessment.status == status]
    return [to_public(a) for a in matching[page.offset : page.offset + page.limit]], len(matching)


def _visible(session: Session, principal: Principal, commitment_id: int) -> Commitment:
    commitment = session.get(Commitment, commitment_id)
    # Another department's is as absent as a missing one: a 403 would say it exists.
    if commitment is None or not principal.can_read(commitment.department):
        raise NotFound(f"No commitment {commitment_id}.")
    return commitment


async def read_commitment(
    session: Session, metrics: MetricsClient, principal: Principal, commitment_id: int, as_of: dt.date
) -> CommitmentPublic:
    commitment = await run_in_threadpool(_visible, session, principal, commitment_id)
    return to_public((await assess_all(session, metrics, [commitment], as_of))[0])


async def tracked_commitments(
    session: Session, metrics: MetricsClient, *, departments: list[str] | None, as_of: dt.date
) -> list[CommitmentLine]:
    """What a briefing lists for `departments` (None: citywide) as of `as_of`: every commitment made by then (both
    kinds) not yet resolved, and those met, missed or done in the 90 days before; by deadline, then id."""
    rows = await run_in_threadpool(find_commitments, session, departments=departments)
    lines = []
    for item in await assess_all(session, metrics, rows, as_of):
        c, origin, assessment = item.commitment, item.origin, item.assessment
        if origin.made_on is not None and origin.made_on > as_of:
            continue
        if not judge.still_tracked(assessment, as_of):
            continue
        defined = item.series.metric if item.series is not None else None
        lines.append(
            CommitmentLine(
                id=c.id,
                kind=c.kind,
                department=c.department,
                metric=c.metric,
                metric_name=defined.name if defined else None,
                unit=defined.unit if defined else None,
                description=c.description,
                level=c.level,
                deadline=c.deadline,
                made_in=origin.made_in,
                made_on=origin.made_on,
                status=assessment.status,
                latest=_figure(c.metric, assessment.latest),
            )
        )
    return lines


# --- recording -------------------------------------------------------------------------------------------------------


def require_office(principal: Principal) -> None:
    if not principal.is_performance_office:
        raise Forbidden("Commitments are recorded by the performance office (analysts).")


def _refuse(field: str, reason: str, detail: str | None = None) -> Unprocessable:
    return Unprocessable(detail or f"{field}: {reason}.", errors=[{"field": field, "reason": reason}])


def _check_shape(body: CommitmentCreate) -> None:
    if body.kind == CommitmentKind.direction:
        for field in ("metric", "level", "deadline", "briefing_id"):
            if getattr(body, field) is None:
                raise _refuse(field, "required for a direction", f"A direction needs '{field}'.")
        if body.meeting_id is not None:
            raise _refuse(
                "meeting_id",
                "not for a direction",
                "A direction belongs to its Cabinet briefing, and through it to the briefing's meeting.",
            )
        return
    for field in ("metric", "level", "tolerance", "briefing_id"):
        if getattr(body, field) is not None:
            raise _refuse(field, "not for an action item", f"An action item has no '{field}'.")
    if body.meeting_id is None:
        raise _refuse("meeting_id", "required for an action item", "An action item needs the meeting it was agreed in.")


def _set_by(title: str, day: dt.date) -> str:
    frame = "Mayor (Cabinet briefing '{}', " + day.isoformat() + ")"
    room = SET_BY_MAX - len(frame.format(""))
    return frame.format(title if len(title) <= room else title[: room - 1] + "…")


def _reason(briefing_id: int, description: str) -> str:
    text = (
        f"The Mayor's direction in Cabinet briefing {briefing_id} (reporting /briefings/{briefing_id}): {description}"
    )
    return text if len(text) <= REASON_MAX else text[: REASON_MAX - 1] + "…"


async def _direction_metric(metrics: MetricsClient, body: CommitmentCreate, as_of: dt.date) -> Metric:
    try:
        metric = await metrics.metric(body.metric)
    except NotFound:
        raise _refuse("metric", "no such metric", f"There is no metric '{body.metric}'.") from None
    if metric.department != body.department:
        raise _refuse(
            "metric",
            f"belongs to {metric.department}",
            f"The metric '{metric.key}' is {metric.department}'s, not {body.department}'s.",
        )
    if metric.state == "retired":
        raise _refuse("metric", "retired", f"The metric '{metric.key}' is retired; it takes no new target.")
    if metric.target is not None and metric.target.effective_from == as_of:
        # Metrics holds one target per start day; saying so here beats a refusal after the commitment is written.
        raise Conflict(
            f"The metric '{metric.key}' already has a target starting {as_of}: a second direction for it today "
            "would clash; correct that target in metrics instead.",
            extra={"target": metric.target.id},
        )
    return metric


def _load_origin(session: Session, body: CommitmentCreate) -> tuple[Briefing | None, Meeting | None]:
    if body.kind == CommitmentKind.direction:
        briefing = session.get(Briefing, body.briefing_id)
        if briefing is None:
            raise _refuse("briefing_id", "no such briefing", f"There is no briefing {body.briefing_id}.")
        if briefing.kind != BriefingKind.cabinet:
            raise _refuse(
                "briefing_id",
                f"a {briefing.kind} briefing, not a Cabinet briefing",
                "The Mayor's directions are given in Cabinet briefings.",
            )
        meeting = session.get(Meeting, briefing.meeting_id) if briefing.meeting_id is not None else None
        return briefing, meeting
    meeting = session.get(Meeting, body.meeting_id)
    if meeting is None:
        raise _refuse("meeting_id", "no such meeting", f"There is no meeting {body.meeting_id}.")
    if meeting.departments and body.department not in meeting.departments:
        raise _refuse(
            "department",
            "not in the meeting",
            f"The meeting was with {', '.join(meeting.departments)}, not {body.department}.",
        )
    return None, meeting


def _insert(session: Session, body: CommitmentCreate, actor: str) -> Commitment:
    commitment = Commitment(
        kind=body.kind,
        department=body.department,
        metric=body.metric,
        description=body.description,
        level=body.level,
        tolerance=body.tolerance,
        deadline=body.deadline,
        briefing_id=body.briefing_id,
        meeting_id=body.meeting_id,
        created_by=actor,
    )
    session.add(commitment)
    session.flush()
    return commitment


async def create_commitment(
    session: Session, metrics: MetricsClient, principal: Principal, body: CommitmentCreate, as_of: dt.date
) -> CommitmentPublic:
    """Written, then (a direction) its target set in metrics: if metrics refuses, the error ends the request and its
    transaction is rolled back, so reporting keeps nothing metrics did not accept."""
    require_office(principal)
    _check_shape(body)
    briefing, meeting = await run_in_threadpool(_load_origin, session, body)
    if body.kind == CommitmentKind.direction:
        if body.deadline < as_of:
            raise _refuse("deadline", "in the past", f"The deadline {body.deadline} is before today ({as_of}).")
        await _direction_metric(metrics, body, as_of)
    else:
        if body.deadline is not None and body.deadline < meeting.held_on:
            raise _refuse("deadline", "before the meeting", f"The deadline is before the meeting ({meeting.held_on}).")
        try:
            await metrics.department(body.department)
        except NotFound:
            raise _refuse(
                "department", "no such department", f"No department has the code '{body.department}'."
            ) from None
    commitment = await run_in_threadpool(_insert, session, body, principal.actor)
    if body.kind == CommitmentKind.direction:
        target = await metrics.create_target(
            body.metric,
            value=body.level,
            tolerance=body.tolerance or 0.0,
            effective_from=as_of,
            deadline=body.deadline,
            set_by=_set_by(briefing.title, meeting.held_on if meeting else as_of),
            reason=_reason(briefing.id, body.description),
        )
        commitment.target_id = target.id
        await run_in_threadpool(_flush, session, commitment)
    return to_public((await assess_all(session, metrics, [commitment], as_of))[0])


def _flush(session: Session, commitment: Commitment) -> None:
    session.add(commitment)
    session.flush()


def _apply_update(session: Session, commitment_id: int, body: CommitmentUpdate) -> Commitment:
    commitment = session.get(Commitment, commitment_id)
    if commitment is None:
        raise NotFound(f"No commitment {commitment_id}.")
    changes = body.model_dump(exclude_unset=True)
    if commitment.kind == CommitmentKind.direction:
        for field in ("level", "tolerance", "deadline"):
            if field in changes:
                raise _refuse(
                    field,
                    "a new level is a new commitment",
                    "A direction's level, band and deadline are the target it set in metrics: a new level or "
                    "timeframe is a new commitment (record another direction), and only the description changes.",
                )
        for field in ("done", "done_note"):
            if field in changes:
                raise _refuse(
                    field, "not for a direction", "A direction is met or missed by the data; it is not closed by hand."
                )
    else:
        for field in ("level", "tolerance"):
            if field in changes:
                raise _refuse(field, "not for an action item", f"An action item has no '{field}'.")
    if "description" in changes:
        if changes["description"] is None:
            raise _refuse("description", "null", "The description cannot be emptied.")
        commitment.description = changes["description"]
    if "deadline" in changes:
        commitment.deadline = changes["deadline"]
    if changes.get("done") is True and commitment.done_at is None:
        commitment.done_at = utcnow()
    elif changes.get("done") is False:
        commitment.done_at, commitment.done_note = None, None
    if "done_note" in changes:
        commitment.done_note = changes["done_note"]
    commitment.updated_at = utcnow()
    session.add(commitment)
    session.flush()
    return commitment


async def update_commitment(
    session: Session,
    metrics: MetricsClient,
    principal: Principal,
    commitment_id: int,
    body: CommitmentUpdate,
    as_of: dt.date,
) -> CommitmentPublic:
    require_office(principal)
    commitment = await run_in_threadpool(_apply_update, session, commitment_id, body)
    return to_public((await assess_all(session, metrics, [commitment], as_of))[0])
