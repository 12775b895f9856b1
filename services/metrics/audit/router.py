from fastapi import APIRouter

from services.common.audit import AuditEventPublic, AuditFiltersDep
from services.common.errors import problem_responses
from services.common.pagination import Page, PageDep
from services.metrics.audit import service
from services.metrics.deps import SessionDep, StaffPrincipal

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", response_model=Page[AuditEventPublic], responses=problem_responses(401))
def list_audit_events(
    session: SessionDep, page: PageDep, staff: StaffPrincipal, filters: AuditFiltersDep
) -> Page[AuditEventPublic]:
    """Who changed which definition, target, approval or locked value, newest first: the performance office
    sees every department's, other staff those of the departments they read."""
    items, total = service.list_events(session, page, filters, readable=staff.readable_departments())
    return Page(items=items, total=total)
