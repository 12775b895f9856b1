from typing import Annotated

from fastapi import APIRouter, Path

from services.common.errors import problem_responses
from services.common.pagination import Page, PageDep
from services.common.params import DepartmentCode
from services.common.periods import PeriodText
from services.metrics.approvals import service
from services.metrics.approvals.schemas import ApprovalCreate, ApprovalPublic, PeriodLockPublic
from services.metrics.deps import OptionalStaff, SessionDep, SettingsDep, StaffPrincipal

router = APIRouter(prefix="/departments", tags=["approvals"])


@router.get(
    "/{code}/approvals",
    response_model=Page[ApprovalPublic],
    responses=problem_responses(404),
    summary="The department's approved months, newest first",
)
def list_approvals(code: DepartmentCode, session: SessionDep, page: PageDep) -> Page[ApprovalPublic]:
    """Values of a month not listed here are provisional."""
    items, total = service.list_approvals(session, code, page)
    return Page(items=items, total=total)


@router.post(
    "/{code}/approvals",
    status_code=201,
    response_model=ApprovalPublic,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Approve (and lock) the department's values for a month that has ended",
)
def approve_month(
    code: DepartmentCode, body: ApprovalCreate, session: SessionDep, settings: SettingsDep, actor: StaffPrincipal
) -> ApprovalPublic:
    """The department's head, or the performance office on its behalf (recorded as such). Every value whose period
    ends in the month is approved and locked: a later change needs an analyst and a reason."""
    return service.approve(session, code, body, actor, settings.as_of)


@router.get(
    "/{code}/periods/{period}/lock",
    response_model=PeriodLockPublic,
    responses=problem_responses(404),
    summary="Whether a period's values are approved or locked, and when each was due",
)
def read_period_lock(
    code: DepartmentCode,
    period: Annotated[PeriodText, Path(description="Any period, e.g. 2017-05 or 2017-W21")],
    session: SessionDep,
    settings: SettingsDep,
    viewer: OptionalStaff,
) -> PeriodLockPublic:
    return service.period_lock(session, code, period, viewer, settings.as_of, settings.lock_after_days)
