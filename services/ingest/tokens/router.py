import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool

from services.common.errors import Unprocessable, problem_responses
from services.common.pagination import Page, PageDep
from services.common.params import DepartmentFilter
from services.ingest.audit.service import record
from services.ingest.deps import AdminPrincipal, MetricsClientDep, SessionDep, SettingsDep
from services.ingest.tokens import service
from services.ingest.tokens.schemas import TokenCreate, TokenCreated, TokenPublic

router = APIRouter(prefix="/tokens", tags=["tokens"])


@router.get("", response_model=Page[TokenPublic], responses=problem_responses(401, 403))
def list_tokens(
    session: SessionDep, page: PageDep, _admin: AdminPrincipal, department: DepartmentFilter = None
) -> Page[TokenPublic]:
    items, total = service.list_tokens(session, department, page)
    return Page(items=items, total=total)


@router.post("", status_code=201, response_model=TokenCreated, responses=problem_responses(401, 403, 503))
async def create_token(
    body: TokenCreate, session: SessionDep, admin: AdminPrincipal, metrics: MetricsClientDep, settings: SettingsDep
) -> TokenCreated:
    if not await metrics.department_exists(body.department):
        raise Unprocessable(
            f"No department has the code '{body.department}'.", errors=[{"field": "department", "reason": "unknown"}]
        )
    days = body.expires_in_days or settings.token_default_days

    def create() -> TokenCreated:
        token, plaintext = service.create_token(
            session, body.department, body.name, lifetime=dt.timedelta(days=days), created_by=admin.actor
        )
        record(
            session,
            admin,
            "token.created",
            department=token.department_code,
            subject=f"token:{token.id}",
            detail={"name": token.name, "expires_at": token.expires_at.isoformat()},
        )
        return TokenCreated(**service.to_public(token).model_dump(), token=plaintext)

    return await run_in_threadpool(create)


# Bounded like the column: a larger id is a 422, not an overflow in the database driver.
TokenId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.delete("/{token_id}", response_model=TokenPublic, responses=problem_responses(401, 403, 404))
def revoke_token(token_id: TokenId, request: Request, session: SessionDep, admin: AdminPrincipal) -> TokenPublic:
    token = service.revoke_token(session, token_id)
    request.app.state.token_cache.forget(token.id)
    record(session, admin, "token.revoked", department=token.department_code, subject=f"token:{token.id}")
    return service.to_public(token)
