import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from fastapi.concurrency import run_in_threadpool

from services.common.errors import problem_responses
from services.common.pagination import Page, PageDep
from services.common.types import CODE_PATTERN
from services.reporting.deps import MetricsClientDep, SessionDep, SettingsDep, StaffPrincipal
from services.reporting.meetings import ical, service
from services.reporting.meetings.models import MeetingKind
from services.reporting.meetings.schemas import MeetingCreate, MeetingPublic, MeetingUpdate

router = APIRouter(tags=["meetings"])

MeetingId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Upcoming = Annotated[bool, Query(description="Only meetings held on or after today (the as_of setting)")]
CalendarDepartment = Annotated[
    str | None,
    Query(
        pattern=CODE_PATTERN,
        description="A department's calendar: its meetings and the whole Cabinet's, e.g. DPW",
    ),
]


def _first_day(start: dt.date | None, upcoming: bool, as_of: dt.date) -> dt.date | None:
    if not upcoming:
        return start
    return as_of if start is None else max(start, as_of)


@router.get("/meetings", response_model=Page[MeetingPublic], responses=problem_responses(401))
def list_meetings(
    session: SessionDep,
    principal: StaffPrincipal,
    page: PageDep,
    settings: SettingsDep,
    upcoming: Upcoming = False,
    department: CalendarDepartment = None,
    kind: MeetingKind | None = None,
    start: Annotated[dt.date | None, Query(description="Held on or after this day")] = None,
    end: Annotated[dt.date | None, Query(description="Held on or before this day")] = None,
) -> Page[MeetingPublic]:
    """The calendar, oldest first, for any staff member; notes only for those who may read them (see
    MeetingPublic)."""
    items, total = service.list_meetings(
        session,
        principal,
        page,
        kind=kind,
        department=department,
        start=_first_day(start, upcoming, settings.as_of),
        end=end,
    )
    return Page(items=items, total=total)


@router.get(
    "/meetings.ics",
    response_class=Response,
    responses={**problem_responses(401), 200: {"content": {"text/calendar": {"schema": {"type": "string"}}}}},
)
def meetings_calendar(
    session: SessionDep, _principal: StaffPrincipal, settings: SettingsDep, department: CalendarDepartment = None
) -> Response:
    """Upcoming meetings as iCalendar (RFC 5545), all-day events without notes; `department=` for one
    department's."""
    meetings = service.find_meetings(session, department=department, start=settings.as_of)
    name = f"CityStat meetings — {department}" if department else "CityStat meetings"
    filename = f"citystat-meetings{'-' + department.lower() if department else ''}.ics"
    return Response(
        ical.calendar(meetings, name=name),
        media_type=ical.MEDIA_TYPE,
        headers={"Content-Disposition": f'inline; filename="{filename}"', "X-Content-Type-Options": "nosniff"},
    )


@router.post(
    "/meetings", status_code=201, response_model=MeetingPublic, responses=problem_responses(401, 403, 422, 503)
)
async def create_meeting(
    body: MeetingCreate, session: SessionDep, principal: StaffPrincipal, metrics: MetricsClientDep
) -> MeetingPublic:
    """A roundtable (1-3 departments) or Cabinet meeting on the calendar (the performance office)."""
    service.require_office(principal)
    service.check_departments(body.kind, body.departments)
    await service.check_departments_exist(metrics, body.departments)
    return await run_in_threadpool(service.create_meeting, session, principal, body)


@router.get("/meetings/{meeting_id}", response_model=MeetingPublic, responses=problem_responses(401, 404))
def read_meeting(meeting_id: MeetingId, session: SessionDep, principal: StaffPrincipal) -> MeetingPublic:
    return service.read_meeting(session, principal, meeting_id)


@router.patch(
    "/meetings/{meeting_id}",
    response_model=MeetingPublic,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
async def update_meeting(
    meeting_id: MeetingId,
    body: MeetingUpdate,
    session: SessionDep,
    principal: StaffPrincipal,
    metrics: MetricsClientDep,
) -> MeetingPublic:
    """Date, title, departments, attendees or notes (the performance office)."""
    service.require_office(principal)
    if body.departments:
        await service.check_departments_exist(metrics, body.departments)
    return await run_in_threadpool(service.update_meeting, session, principal, meeting_id, body)


@router.delete("/meetings/{meeting_id}", status_code=204, responses=problem_responses(401, 403, 404, 409))
def delete_meeting(meeting_id: MeetingId, session: SessionDep, principal: StaffPrincipal) -> Response:
    """Only a meeting nothing points to: once a briefing or a commitment refers to it, it is part of the record."""
    service.delete_meeting(session, principal, meeting_id)
    return Response(status_code=204)
