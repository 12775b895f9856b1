from fastapi import APIRouter

from services.common.audit import AuditEventPublic, AuditFiltersDep
from services.common.errors import problem_responses
from services.common.pagination import Page, PageDep
from services.ingest.audit import service
from services.ingest.deps import AdminPrincipal, SessionDep

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", response_model=Page[AuditEventPublic], responses=problem_responses(401, 403))
def list_audit_events(
    session: SessionDep, page: PageDep, _admin: AdminPrincipal, filters: AuditFiltersDep
) -> Page[AuditEventPublic]:
    """Sign-ins (refused ones too), submissions, accounts and tokens, newest first: administrators only."""
    items, total = service.list_events(session, page, filters)
    return Page(items=items, total=total)
