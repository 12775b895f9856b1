from typing import Annotated

from fastapi import APIRouter, Query

from services.common.audit import AuditEventPublic
from services.common.errors import problem_responses
from services.common.pagination import Page, PageDep
from services.common.params import DepartmentFilter
from services.ingest.audit import service
from services.ingest.deps import AdminPrincipal, SessionDep

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", response_model=Page[AuditEventPublic], responses=problem_responses(401, 403))
def list_audit_events(
    session: SessionDep,
    page: PageDep,
    _admin: AdminPrincipal,
    department: DepartmentFilter = None,
    actor: Annotated[str | None, Query(max_length=200, description="e.g. user:7, token:3, operator")] = None,
    action: Annotated[str | None, Query(max_length=64, description="e.g. submission.accepted")] = None,
) -> Page[AuditEventPublic]:
    items, total = service.list_events(session, page, department=department, actor=actor, action=action)
    return Page(items=items, total=total)
