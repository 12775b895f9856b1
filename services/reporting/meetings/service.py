"""Meetings: the roundtables and Cabinet meetings on the calendar, with who came and what was said.

Every signed-in staff member sees the calendar, so each department knows when its turn comes. The notes are for the
performance office and for the staff of the departments the meeting was about; everyone else gets the entry without
them. A Cabinet meeting that names no department is the whole Cabinet's: it is on every department's calendar, and
its notes are the performance office's.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence

import sqlalchemy as sa
from sqlmodel import Session, func, select

from services.common.auth import Principal
from services.common.errors import Conflict, Forbidden, NotFound, Unprocessable
from services.common.pagination import PageParams
from services.reporting.base import utcnow
from services.reporting.briefings.models import Briefing
from services.reporting.clients.metrics import MetricsClient
from services.reporting.commitments.models import Commitment
from services.reporting.meetings.models import Meeting, MeetingKind
from services.reporting.meetings.schemas import (
    ROUNDTABLE_MAX_DEPARTMENTS,
    MeetingBriefing,
    MeetingCreate,
    MeetingPublic,
    MeetingUpdate,
)


def require_office(principal: Principal) -> None:
    if not principal.is_performance_office:
        raise Forbidden("Meetings are kept by the performance office (analysts).")


def covers(meeting: Meeting, department: str) -> bool:
    """Whether the meeting is on `department`'s calendar."""
    return department in meeting.departments or (meeting.kind == MeetingKind.cabinet and not meeting.departments)


def may_read_notes(principal: Principal, meeting: Meeting) -> bool:
    return principal.is_performance_office or (
        principal.department is not None and principal.department in meeting.departments
    )


def check_departments(kind: MeetingKind, departments: Sequence[str]) -> list[str]:
    if len(set(departments)) != len(departments):
        raise Unprocessable(
            "A department is named twice.", errors=[{"field": "departments", "reason": "duplicate code"}]
        )
    if kind == MeetingKind.roundtable and not 1 <= len(departments) <= ROUNDTABLE_MAX_DEPARTMENTS:
        raise Unprocessable(
            f"A roundtable is about 1 to {ROUNDTABLE_MAX_DEPARTMENTS} departments, not {len(departments)}.",
            errors=[{"field": "departments", "reason": f"1-{ROUNDTABLE_MAX_DEPARTMENTS} codes"}],
        )
    return list(departments)


async def check_departments_exist(metrics: MetricsClient, departments: Sequence[str]) -> None:
    unknown: list[tuple[int, str]] = []
    for position, code in enumerate(departments):
        try:
            await metrics.department(code)
        except NotFound:
            unknown.append((position, code))
    if unknown:
        raise Unprocessable(
            f"No department has the code {', '.join(repr(code) for _, code in unknown)}.",
            errors=[{"field": f"departments.{position}", "reason": "no such department"} for position, _ in unknown],
        )


def get_meeting(session: Session, meeting_id: int) -> Meeting:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFound(f"No meeting {meeting_id}.")
    return meeting


def to_public(session: Session, principal: Principal, meetings: Sequence[Meeting]) -> list[MeetingPublic]:
    ids = [m.id for m in meetings]
    briefings: dict[int, list[MeetingBriefing]] = {i: [] for i in ids}
    counts: Counter[int] = Counter()
    if ids:
        # Not whole rows: a briefing carries its snapshot.
        held = session.exec(
            select(Briefing.id, Briefing.kind, Briefing.title, Briefing.state, Briefing.meeting_id)
            .where(Briefing.meeting_id.in_(ids))
            .order_by(Briefing.id)
        ).all()
        meeting_of = {}
        for briefing_id, kind, title, state, meeting_id in held:
            briefings[meeting_id].append(MeetingBriefing(id=briefing_id, kind=kind, title=title, state=state))
            meeting_of[briefing_id] = meeting_id
        # Action items name the meeting; directions name a briefing held in it.
        rows = session.exec(
            select(Commitment.meeting_id, Commitment.briefing_id, Commitment.department).where(
                sa.or_(Commitment.meeting_id.in_(ids), Commitment.briefing_id.in_(sorted(meeting_of)))
            )
        ).all()
        for meeting_id, briefing_id, department in rows:
            # Counted as the caller would list them: another department's are not theirs to know of.
            if principal.can_read(department):
                counts[meeting_id if meeting_id in briefings else meeting_of[briefing_id]] += 1
    return [
        MeetingPublic(
            id=m.id,
            kind=m.kind,
            held_on=m.held_on,
            title=m.title,
            departments=m.departments,
            attendees=m.attendees,
            notes=m.notes if may_read_notes(principal, m) else None,
            briefings=briefings[m.id],
            commitments=counts[m.id],
            created_by=m.created_by,
            created_at=m.created_at,
            updated_at=m.updated_at,
        )
        for m in meetings
    ]


def create_meeting(session: Session, principal: Principal, body: MeetingCreate) -> MeetingPublic:
    require_office(principal)
    meeting = Meeting(
        kind=body.kind,
        held_on=body.held_on,
        title=body.title,
        departments=check_departments(body.kind, body.departments),
        attendees=list(body.attendees),
        notes=body.notes,
        created_by=principal.actor,
    )
    session.add(meeting)
    session.flush()
    return to_public(session, principal, [meeting])[0]


def update_meeting(session: Session, principal: Principal, meeting_id: int, body: MeetingUpdate) -> MeetingPublic:
    require_office(principal)
    meeting = get_meeting(session, meeting_id)
    changes = body.model_dump(exclude_unset=True)
    for name in ("held_on", "title", "departments", "attendees", "notes"):
        if name in changes and changes[name] is None:
            raise Unprocessable(f"'{name}' cannot be emptied with null.", errors=[{"field": name, "reason": "null"}])
    if "departments" in changes:
        departments = check_departments(meeting.kind, changes["departments"])
        dropped = set(meeting.departments) - set(departments)
        if dropped:
            kept = session.exec(
                select(Commitment.department).where(
                    Commitment.meeting_id == meeting.id, Commitment.department.in_(sorted(dropped))
                )
            ).all()
            if kept:
                raise Conflict(
                    f"{', '.join(sorted(set(kept)))} still has commitments from this meeting; "
                    "they stay with it, so the department stays on it."
                )
        changes["departments"] = departments
    for name, value in changes.items():
        setattr(meeting, name, value)
    meeting.updated_at = utcnow()
    session.add(meeting)
    session.flush()
    return to_public(session, principal, [meeting])[0]


def delete_meeting(session: Session, principal: Principal, meeting_id: int) -> None:
    require_office(principal)
    meeting = get_meeting(session, meeting_id)
    briefings = session.exec(select(func.count()).select_from(Briefing).where(Briefing.meeting_id == meeting_id)).one()
    commitments = session.exec(
        select(func.count()).select_from(Commitment).where(Commitment.meeting_id == meeting_id)
    ).one()
    if briefings or commitments:
        raise Conflict(
            f"Meeting {meeting_id} has {briefings} briefing(s) and {commitments} commitment(s) pointing to it; "
            "it is part of the record and stays."
        )
    session.delete(meeting)
    session.flush()


def find_meetings(
    session: Session,
    *,
    kind: MeetingKind | None = None,
    department: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> list[Meeting]:
    """Oldest first, as a calendar reads."""
    query = select(Meeting)
    if kind is not None:
        query = query.where(Meeting.kind == kind)
    if start is not None:
        query = query.where(Meeting.held_on >= start)
    if end is not None:
        query = query.where(Meeting.held_on <= end)
    meetings = session.exec(query.order_by(Meeting.held_on, Meeting.id)).all()
    # The departments are a JSON list, which SQLite and PostgreSQL search differently; a city holds a few dozen
    # meetings a year, so they are filtered here.
    return [m for m in meetings if department is None or covers(m, department)]


def list_meetings(
    session: Session,
    principal: Principal,
    page: PageParams,
    *,
    kind: MeetingKind | None,
    department: str | None,
    start: dt.date | None,
    end: dt.date | None,
) -> tuple[list[MeetingPublic], int]:
    meetings = find_meetings(session, kind=kind, department=department, start=start, end=end)
    shown = meetings[page.offset : page.offset + page.limit]
    return to_public(session, principal, shown), len(meetings)


def read_meeting(session: Session, principal: Principal, meeting_id: int) -> MeetingPublic:
    return to_public(session, principal, [get_meeting(session, meeting_id)])[0]
