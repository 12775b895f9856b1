import datetime as dt
import secrets
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from fastapi.concurrency import run_in_threadpool

from services.common.auth import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    FailureKind,
    Principal,
    PrincipalKind,
    note_failure,
    principal_claims,
    refuse_while_failing,
)
from services.common.errors import TooManyRequests, Unauthorized, Unprocessable, problem_responses
from services.common.pagination import Page, PageDep
from services.ingest.accounts import service
from services.ingest.accounts.schemas import LoginRequest, Me, SessionStarted, UserCreate, UserPublic, UserUpdate
from services.ingest.audit.service import record, record_apart
from services.ingest.base import utcnow
from services.ingest.deps import (
    AdminPrincipal,
    CurrentPrincipal,
    DatabaseDep,
    MetricsClientDep,
    SessionDep,
    SettingsDep,
)

auth_router = APIRouter(prefix="/auth", tags=["auth"])
users_router = APIRouter(prefix="/users", tags=["users"])


def _set_session_cookies(response: Response, token: str, csrf: str, lifetime: dt.timedelta, secure: bool) -> None:
    seconds = int(lifetime.total_seconds())
    response.set_cookie(
        SESSION_COOKIE, token, max_age=seconds, path="/", httponly=True, samesite="strict", secure=secure
    )
    # Readable by our scripts (not HttpOnly) so they can echo it as X-CSRF-Token; useless to another site.
    response.set_cookie(CSRF_COOKIE, csrf, max_age=seconds, path="/", httponly=False, samesite="strict", secure=secure)


@auth_router.post("/login", response_model=SessionStarted, responses=problem_responses(401, 429))
async def login(
    body: LoginRequest, request: Request, response: Response, db: DatabaseDep, settings: SettingsDep
) -> SessionStarted:
    username = body.username.strip().lower()
    # Per address first: one address trying many usernames meets this limit, many addresses trying one username
    # the next.
    refuse_while_failing(request, FailureKind.sign_in)
    if request.app.state.login_limiter.acquire(f"login:{username}") is not None:
        raise TooManyRequests("Too many sign-in attempts for this user; wait a minute.", headers={"Retry-After": "60"})

    def check() -> SessionStarted | None:
        with db.session() as session:
            user = service.authenticate(session, username, body.password)
            if user is None:
                return None
            csrf = secrets.token_urlsafe(32)
            principal = service.to_principal(user, csrf)
            record(session, principal, "auth.login", department=user.department_code, subject=user.username)
            lifetime = dt.timedelta(hours=settings.session_hours)
            token = request.app.state.session_codec.issue(principal_claims(principal), lifetime)
            _set_session_cookies(response, token, csrf, lifetime, settings.secure_cookies)
            return SessionStarted(user=service.to_public(user), csrf_token=csrf, expires_at=utcnow() + lifetime)

    started = await run_in_threadpool(check)
    if started is None:
        note_failure(request, FailureKind.sign_in)
        anonymous = Principal(kind=PrincipalKind.user, id="?", name=username[:64])
        await run_in_threadpool(record_apart, db, anonymous, "auth.login", subject=username[:64], outcome="rejected")
        raise Unauthorized("The username or password is wrong, or the account is disabled.")
    return started


@auth_router.post("/logout", status_code=204, responses=problem_responses(401, 403))
def logout(response: Response, principal: CurrentPrincipal, session: SessionDep) -> Response:
    """Ends the session here and everywhere this user is signed in (a copied cookie is refused too)."""
    if principal.kind is PrincipalKind.user:
        service.end_sessions(session, int(principal.id))
    record(session, principal, "auth.logout", department=principal.department)
    response.status_code = 204
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@auth_router.get("/me", response_model=Me, responses=problem_responses(401))
def me(principal: CurrentPrincipal) -> Me:
    return Me(
        kind=str(principal.kind),
        id=principal.id,
        name=principal.name,
        role=principal.role,
        department=principal.department,
        citywide=principal.is_citywide,
    )


async def _check_department(metrics: MetricsClientDep, code: str | None) -> None:
    if code is not None and not await metrics.department_exists(code):
        raise Unprocessable(
            f"No department has the code '{code}'.", errors=[{"field": "department", "reason": "unknown"}]
        )


@users_router.get("", response_model=Page[UserPublic], responses=problem_responses(401, 403))
def list_users(session: SessionDep, page: PageDep, _admin: AdminPrincipal) -> Page[UserPublic]:
    items, total = service.list_users(session, page)
    return Page(items=items, total=total)


@users_router.post("", status_code=201, response_model=UserPublic, responses=problem_responses(401, 403, 409, 503))
async def create_user(
    body: UserCreate, session: SessionDep, admin: AdminPrincipal, metrics: MetricsClientDep
) -> UserPublic:
    await _check_department(metrics, body.department)

    def create() -> UserPublic:
        user = service.create_user(session, body, admin.actor)
        record(
            session,
            admin,
            "user.created",
            department=user.department_code,
            subject=user.username,
            detail={"role": user.role},
        )
        return service.to_public(user)

    return await run_in_threadpool(create)


# Bounded like the column: a larger id is a 422, not an overflow in the database driver.
UserId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@users_router.get("/{user_id}", response_model=UserPublic, responses=problem_responses(401, 403, 404))
def read_user(user_id: UserId, session: SessionDep, _admin: AdminPrincipal) -> UserPublic:
    return service.to_public(service.get_user(session, user_id))


@users_router.patch("/{user_id}", response_model=UserPublic, responses=problem_responses(401, 403, 404, 503))
async def update_user(
    user_id: UserId, body: UserUpdate, session: SessionDep, admin: AdminPrincipal, metrics: MetricsClientDep
) -> UserPublic:
    await _check_department(metrics, body.department)

    def update() -> UserPublic:
        user = service.update_user(session, user_id, body, admin)
        changed = sorted(k for k in body.model_dump(exclude_unset=True) if k != "password")
        if body.password:
            changed.append("password")
        record(
            session,
            admin,
            "user.updated",
            department=user.department_code,
            subject=user.username,
            detail={"changed": changed},
        )
        return service.to_public(user)

    return await run_in_threadpool(update)
