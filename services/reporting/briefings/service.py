"""Briefings: drafts built from metrics, published ones frozen.

A draft holds the snapshot of its last build and is rebuilt when its selection changes or when asked. Publishing
rebuilds it a last time, renders it, and keeps the HTML, its sha256 and the PDF: what was published is served as it
was, whatever metrics says later.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable

from sqlalchemy import func, or_
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool

from services.common.auth import Principal
from services.common.errors import Conflict, Forbidden, NotFound, Unprocessable
from services.common.pagination import PageParams
from services.common.periods import Frequency, Period, PeriodError
from services.reporting.briefings.build import BuildRequest, Selection, build_snapshot, default_title
from services.reporting.briefings.build import suggest_cabinet_metrics as _suggest
from services.reporting.briefings.models import Briefing, BriefingState, BuildStatus
from services.reporting.briefings.schemas import (
    CABINET_MAX,
    CABINET_MIN,
    BriefingCreate,
    BriefingListed,
    BriefingPublic,
    BriefingUpdate,
    BuildProgress,
    SelectionIn,
    SuggestionPublic,
)
from services.reporting.briefings.snapshot import BriefingKind, MeetingInfo, Snapshot
from services.reporting.clients.metrics import MetricsClient
from services.reporting.commitments.service import tracked_commitments
from services.reporting.meetings.models import Meeting
from services.reporting.render.html import render_html
from services.reporting.render.pdf import render_pdf

# The period each kind is built for.
KIND_FREQUENCY = {
    BriefingKind.roundtable: Frequency.month,
    BriefingKind.cabinet: Frequency.month,
    BriefingKind.memo: Frequency.month,
    BriefingKind.annual: Frequency.year,
    BriefingKind.frontline: Frequency.week,
}
# How many departments each kind takes: (fewest, most).
KIND_DEPARTMENTS = {
    BriefingKind.roundtable: (1, 3),
    BriefingKind.cabinet: (0, 20),
    BriefingKind.memo: (0, 0),
    BriefingKind.annual: (0, 0),
    BriefingKind.frontline: (1, 1),
}
MEETING_KIND = {BriefingKind.roundtable: "roundtable", BriefingKind.cabinet: "cabinet"}


def utcnow() -> dt.datetime:
    # Whole seconds: a published briefing prints its publication time, and it must read back the same everywhere.
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


# --- who sees what -----------------------------------------------------------------------------------------------


def require_office(principal: Principal) -> None:
    if not principal.is_performance_office:
        raise Forbidden("Only the performance office (analysts and administrators) prepares and publishes briefings.")


def can_see(principal: Principal, briefing: Briefing) -> bool:
    """The performance office sees everything; other staff see published briefings that concern their department,
    and the citywide ones (memo, annual report)."""
    if principal.is_performance_office:
        return True
    if briefing.state != BriefingState.published:
        return False
    readable = principal.readable_departments()
    return readable is None or not briefing.departments or bool(readable & set(briefing.departments))


def get_visible(session: Session, principal: Principal, briefing_id: int) -> Briefing:
    briefing = session.get(Briefing, briefing_id)
    if briefing is None or not can_see(principal, briefing):
        raise NotFound(f"There is no briefing {briefing_id} you can see.")
    return briefing


def list_briefings(
    session: Session,
    principal: Principal,
    page: PageParams,
    *,
    kind: BriefingKind | None,
    period: str | None,
    state: BriefingState | None,
    department: str | None,
) -> tuple[list[Briefing], int]:
    query = select(Briefing)
    if kind is not None:
        query = query.where(Briefing.kind == kind.value)
    if period is not None:
        query = query.where(Briefing.period == period)
    if state is not None:
        query = query.where(Briefing.state == state.value)
    if not principal.is_performance_office:
        query = query.where(Briefing.state == BriefingState.published.value)
    # Departments are a JSON list: filtered here rather than in SQL, the same way on both databases.
    rows = session.exec(query.order_by(Briefing.period.desc(), Briefing.id.desc())).all()
    wanted = [
        b
        for b in rows
        if can_see(principal, b) and (department is None or department in b.departments or not b.departments)
    ]
    return wanted[page.offset : page.offset + page.limit], len(wanted)


def listed(briefing: Briefing) -> BriefingListed:
    return BriefingListed.model_validate(_fields(briefing))


def public(briefing: Briefing) -> BriefingPublic:
    return BriefingPublic.model_validate(
        {**_fields(briefing), "selection": briefing.selection, "snapshot": briefing.snapshot}
    )


def _fields(b: Briefing) -> dict:
    return {
        "id": b.id,
        "kind": b.kind,
        "title": b.title,
        "period": b.period,
        "departments": b.departments,
        "meeting_id": b.meeting_id,
        "state": b.state,
        "automatic": b.automatic,
        "build": BuildProgress(status=b.build_status, done=b.build_done, total=b.build_total, error=b.build_error),
        "created_by": b.created_by,
        "created_at": b.created_at,
        "updated_at": b.updated_at,
        "published_at": b.published_at,
        "published_by": b.published_by,
        "html_sha256": b.html_sha256,
    }


# --- drafts ------------------------------------------------------------------------------------------------------


def _check_period(kind: BriefingKind, text: str) -> None:
    wanted = KIND_FREQUENCY[kind]
    try:
        period = Period.parse(text)
    except PeriodError as exc:
        raise Unprocessable(str(exc), errors=[{"field": "period", "reason": str(exc)}]) from exc
    if period.frequency is not wanted:
        example = {Frequency.month: "2017-06", Frequency.year: "2016", Frequency.week: "2017-W23"}[wanted]
        reason = f"a {kind.value} briefing is built for a {wanted.value}, e.g. {example}"
        raise Unprocessable(
            f"The period '{text}' does not fit: {reason}.", errors=[{"field": "period", "reason": reason}]
        )


async def _check_departments(metrics: MetricsClient, kind: BriefingKind, codes: list[str]) -> dict[str, str]:
    fewest, most = KIND_DEPARTMENTS[kind]
    if len(set(codes)) != len(codes):
        raise Unprocessable("A department is named twice.", errors=[{"field": "departments", "reason": "repeated"}])
    if not fewest <= len(codes) <= most:
        reason = (
            "takes no departments (it is citywide)"
            if most == 0
            else f"takes {fewest} to {most} departments"
            if fewest != most
            else f"takes exactly {fewest} department"
        )
        raise Unprocessable(f"A {kind.value} briefing {reason}.", errors=[{"field": "departments", "reason": reason}])
    names: dict[str, str] = {}
    for position, code in enumerate(codes):
        try:
            names[code] = (await metrics.department(code)).name
        except NotFound as exc:
            raise Unprocessable(
                f"There is no department '{code}'.",
                errors=[{"field": f"departments.{position}", "reason": "no such department"}],
            ) from exc
    return names


def _check_meeting(session: Session, kind: BriefingKind, meeting_id: int | None) -> None:
    if meeting_id is None:
        return
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise Unprocessable(
            f"There is no meeting {meeting_id}.", errors=[{"field": "meeting_id", "reason": "no such meeting"}]
        )
    if MEETING_KIND.get(kind) != meeting.kind:
        reason = f"a {kind.value} briefing cannot belong to a {meeting.kind} meeting"
        raise Unprocessable(f"The meeting does not fit: {reason}.", errors=[{"field": "meeting_id", "reason": reason}])


def _selection_rows(selection: list[SelectionIn]) -> list[dict]:
    keys = [item.metric for item in selection]
    if len(set(keys)) != len(keys):
        raise Unprocessable(
            "A metric is in the selection twice.", errors=[{"field": "selection", "reason": "repeated metric"}]
        )
    return [item.model_dump() for item in selection]


async def suggestions(
    metrics: MetricsClient, period: str, departments: list[str], limit: int
) -> list[SuggestionPublic]:
    _check_period(BriefingKind.cabinet, period)
    return [
        SuggestionPublic.model_validate(s.model_dump())
        for s in await _suggest(metrics, period, list(departments), limit=limit)
    ]


async def create_briefing(
    session: Session, metrics: MetricsClient, principal: Principal, body: BriefingCreate, *, automatic: bool = False
) -> Briefing:
    require_office(principal)
    _check_period(body.kind, body.period)
    names = await _check_departments(metrics, body.kind, body.departments)
    _check_meeting(session, body.kind, body.meeting_id)
    if body.kind is BriefingKind.cabinet:
        if body.selection is None:
            suggested = await _suggest(metrics, body.period, list(body.departments), limit=CABINET_MAX)
            selection = [{"metric": s.metric, "explanation": None, "reason": s.reason} for s in suggested]
        else:
            selection = _selection_rows(body.selection)
    elif body.selection:
        raise Unprocessable(
            "Only a Cabinet briefing takes a selection of metrics.",
            errors=[{"field": "selection", "reason": f"a {body.kind.value} briefing shows its metrics by itself"}],
        )
    else:
        selection = []
    briefing = Briefing(
        kind=body.kind.value,
        title=body.title or default_title(body.kind, body.period, names),
        period=body.period,
        departments=list(body.departments),
        meeting_id=body.meeting_id,
        selection=selection,
        automatic=automatic,
        created_by=principal.actor,
    )
    session.add(briefing)
    session.flush()
    return briefing


def editable_draft(session: Session, principal: Principal, briefing_id: int) -> Briefing:
    require_office(principal)
    briefing = get_visible(session, principal, briefing_id)
    if briefing.state == BriefingState.published:
        raise Conflict(f"Briefing {briefing_id} is published: it is frozen and cannot change.")
    return briefing


def update_briefing(session: Session, principal: Principal, briefing_id: int, body: BriefingUpdate) -> bool:
    """Applies the changes; True when the briefing needs a rebuild (its metrics or their order changed)."""
    briefing = editable_draft(session, principal, briefing_id)
    rebuild = False
    fields = body.model_fields_set
    if "title" in fields and body.title is not None:
        briefing.title = body.title
    if "meeting_id" in fields:
        _check_meeting(session, BriefingKind(briefing.kind), body.meeting_id)
        briefing.meeting_id = body.meeting_id
        rebuild = True
    if "selection" in fields and body.selection is not None:
        if briefing.kind != BriefingKind.cabinet:
            raise Unprocessable(
                "Only a Cabinet briefing takes a selection of metrics.",
                errors=[{"field": "selection", "reason": "not a Cabinet briefing"}],
            )
        rows = _selection_rows(body.selection)
        if [r["metric"] for r in rows] != [r["metric"] for r in briefing.selection] or briefing.snapshot is None:
            rebuild = True
        elif briefing.snapshot is not None:
            briefing.snapshot = with_explanations(briefing.snapshot, rows)
        briefing.selection = rows
    if rebuild:
        queue_build(briefing)
    briefing.updated_at = utcnow()
    session.add(briefing)
    session.flush()
    return rebuild


def with_explanations(snapshot: dict, rows: list[dict]) -> dict:
    explanations = {row["metric"]: row.get("explanation") for row in rows}
    reasons = {row["metric"]: row.get("reason") for row in rows}
    panels = [
        {**panel, "explanation": explanations.get(panel["metric"]), "reason": reasons.get(panel["metric"])}
        for panel in snapshot.get("panels", [])
    ]
    return {**snapshot, "panels": panels}


def queue_build(briefing: Briefing) -> None:
    briefing.build_status = BuildStatus.queued
    briefing.build_done = 0
    briefing.build_total = 0
    briefing.build_error = None


def delete_draft(session: Session, principal: Principal, briefing_id: int) -> None:
    briefing = editable_draft(session, principal, briefing_id)
    from services.reporting.commitments.models import Commitment  # commitments point at briefings

    if session.exec(select(func.count()).where(Commitment.briefing_id == briefing_id)).one():
        raise Conflict(f"Briefing {briefing_id} has commitments recorded in it; it cannot be deleted.")
    session.delete(briefing)
    session.flush()


# --- building ----------------------------------------------------------------------------------------------------


def build_request(briefing: Briefing) -> BuildRequest:
    return BuildRequest(
        kind=BriefingKind(briefing.kind),
        period=briefing.period,
        departments=list(briefing.departments),
        selection=[Selection.model_validate(row) for row in briefing.selection],
        title=briefing.title,
    )


def meeting_info(session: Session, meeting_id: int | None) -> MeetingInfo | None:
    meeting = session.get(Meeting, meeting_id) if meeting_id is not None else None
    if meeting is None:
        return None
    return MeetingInfo(
        id=meeting.id,
        kind=meeting.kind,
        held_on=meeting.held_on,
        title=meeting.title,
        departments=list(meeting.departments),
        attendees=list(meeting.attendees),
    )


async def compute_snapshot(
    read_session: Session,
    metrics: MetricsClient,
    briefing: Briefing,
    *,
    as_of: dt.date,
    read_at: dt.datetime,
    progress: Callable[[int, int], None] | None = None,
) -> Snapshot:
    """What the briefing shows now. Reads only: the caller stores it."""
    kind = BriefingKind(briefing.kind)
    commitments = []
    if kind in (BriefingKind.cabinet, BriefingKind.roundtable):
        commitments = await tracked_commitments(
            read_session, metrics, departments=list(briefing.departments) or None, as_of=as_of
        )
    return await build_snapshot(
        metrics,
        build_request(briefing),
        as_of=as_of,
        read_at=read_at,
        commitments=commitments,
        meeting=meeting_info(read_session, briefing.meeting_id),
        progress=progress,
    )


# --- publishing --------------------------------------------------------------------------------------------------


def rendered(briefing: Briefing, snapshot: Snapshot | None = None) -> str:
    snapshot = snapshot or Snapshot.model_validate(briefing.snapshot)
    return render_html(
        snapshot,
        briefing_id=briefing.id,
        state=BriefingState(briefing.state).value,
        published_at=briefing.published_at,
        published_by=briefing.published_by,
    )


async def publish(
    session: Session, metrics: MetricsClient, principal: Principal, briefing_id: int, *, as_of: dt.date
) -> Briefing:
    briefing = editable_draft(session, principal, briefing_id)
    if briefing.build_status in (BuildStatus.queued, BuildStatus.building) and briefing.snapshot is not None:
        raise Conflict(f"Briefing {briefing_id} is being rebuilt; publish it once the build has finished.")
    if briefing.kind == BriefingKind.cabinet and not CABINET_MIN <= len(briefing.selection) <= CABINET_MAX:
        reason = f"a Cabinet briefing reviews {CABINET_MIN} to {CABINET_MAX} metrics; it has {len(briefing.selection)}"
        raise Unprocessable(f"It cannot be published yet: {reason}.", errors=[{"field": "selection", "reason": reason}])
    published_at = utcnow()
    # The numbers as they stand at publication, read once more: the frozen copy is the newest one.
    snapshot = await compute_snapshot(session, metrics, briefing, as_of=as_of, read_at=published_at)
    briefing.snapshot = snapshot.model_dump(mode="json")
    briefing.state = BriefingState.published
    briefing.published_at = published_at
    # Shown on the briefing: a person's name, with the actor id the audit trail knows them by.
    briefing.published_by = f"{principal.name} ({principal.actor})"[:200]
    briefing.build_status = BuildStatus.ready
    html = rendered(briefing, Snapshot.model_validate(briefing.snapshot))
    briefing.html = html
    briefing.html_sha256 = hashlib.sha256(html.encode()).hexdigest()
    briefing.pdf = await run_in_threadpool(render_pdf, html)
    briefing.updated_at = published_at
    session.add(briefing)
    session.flush()
    return briefing


def html_of(briefing: Briefing) -> str:
    if briefing.state == BriefingState.published and briefing.html is not None:
        return briefing.html
    if briefing.snapshot is None:
        raise Conflict(f"Briefing {briefing.id} has not been built yet: {briefing.build_status}.")
    return rendered(briefing)


async def pdf_of(briefing: Briefing) -> bytes:
    if briefing.state == BriefingState.published and briefing.pdf is not None:
        return briefing.pdf
    return await run_in_threadpool(render_pdf, html_of(briefing))


def unfinished_builds(session: Session) -> list[Briefing]:
    states = (BuildStatus.queued.value, BuildStatus.building.value)
    return list(session.exec(select(Briefing).where(or_(*(Briefing.build_status == s for s in states)))).all())
