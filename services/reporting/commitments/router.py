from typing import Annotated

from fastapi import APIRouter, Path, Query

from services.common.errors import problem_responses
from services.common.pagination import Page, PageDep
from services.common.params import DepartmentFilter
from services.reporting.briefings.snapshot import CommitmentStatus
from services.reporting.commitments import service
from services.reporting.commitments.models import CommitmentKind
from services.reporting.commitments.schemas import CommitmentCreate, CommitmentPublic, CommitmentUpdate
from services.reporting.deps import MetricsClientDep, SessionDep, SettingsDep, StaffPrincipal

router = APIRouter(tags=["commitments"])

CommitmentId = Annotated[int, Path(ge=1, le=2**31 - 1)]
RowFilter = Annotated[int | None, Query(ge=1, le=2**31 - 1)]
_UPSTREAM = problem_responses(502, 503)


@router.get("/commitments", response_model=Page[CommitmentPublic], responses={**problem_responses(401), **_UPSTREAM})
async def list_commitments(
    session: SessionDep,
    metrics: MetricsClientDep,
    principal: StaffPrincipal,
    page: PageDep,
    settings: SettingsDep,
    department: DepartmentFilter = None,
    kind: CommitmentKind | None = None,
    status: Annotated[CommitmentStatus | None, Query(description="As of today, judged from the data")] = None,
    briefing_id: RowFilter = None,
    meeting_id: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Its action items and the directions of its briefings")
    ] = None,
) -> Page[CommitmentPublic]:
    """The commitments tracker: soonest deadline first, each with its status, why, and the latest value. Staff of a
    department see their department's; the performance office and citywide viewers every one."""
    items, total = await service.list_commitments(
        session,
        metrics,
        principal,
        page,
        as_of=settings.as_of,
        department=department,
        kind=kind,
        status=status,
        briefing_id=briefing_id,
        meeting_id=meeting_id,
    )
    return Page(items=items, total=total)


@router.post(
    "/commitments",
    status_code=201,
    response_model=CommitmentPublic,
    responses={**problem_responses(401, 403, 404, 409, 422), **_UPSTREAM},
)
async def create_commitment(
    body: CommitmentCreate,
    session: SessionDep,
    metrics: MetricsClientDep,
    principal: StaffPrincipal,
    settings: SettingsDep,
) -> CommitmentPublic:
    """Records the Mayor's direction (and sets its target in metrics, from today, as the analyst) or an action item
    (the performance office)."""
    return await service.create_commitment(session, metrics, principal, body, settings.as_of)


@router.get(
    "/commitments/{commitment_id}",
    response_model=CommitmentPublic,
    responses={**problem_responses(401, 404), **_UPSTREAM},
)
async def read_commitment(
    commitment_id: CommitmentId,
    session: SessionDep,
    metrics: MetricsClientDep,
    principal: StaffPrincipal,
    settings: SettingsDep,
) -> CommitmentPublic:
    return await service.read_commitment(session, metrics, principal, commitment_id, settings.as_of)


@router.patch(
    "/commitments/{commitment_id}",
    response_model=CommitmentPublic,
    responses={**problem_responses(401, 403, 404, 422), **_UPSTREAM},
)
async def update_commitment(
    commitment_id: CommitmentId,
    body: CommitmentUpdate,
    session: SessionDep,
    metrics: MetricsClientDep,
    principal: StaffPrincipal,
    settings: SettingsDep,
) -> CommitmentPublic:
    """Closes or reopens an action item (`done`), or rewords either kind; see CommitmentUpdate (the performance
    office)."""
    return await service.update_commitment(session, metrics, principal, commitment_id, body, settings.as_of)
