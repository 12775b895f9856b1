"""Dependency aliases for the ingest service, declared once."""

from __future__ import annotations

import datetime as dt
import math
import time
from typing import Annotated

from fastapi import BackgroundTasks, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.common.app import SettingsDep
from services.common.auth import (
    AUTH_DEPENDENCIES,
    Principal,
    PrincipalKind,
    Role,
    note_failure,
    read_session,
    refuse_while_failing,
    session_cookie,
)
from services.common.db import Database, SessionDep
from services.common.errors import Forbidden, TooManyRequests, Unauthorized
from services.ingest.accounts import service as accounts
from services.ingest.base import utcnow
from services.ingest.clients.metrics import MetricsClient
from services.ingest.submissions.pipeline import SubmissionPipeline
from services.ingest.tokens import service as tokens
from services.ingest.tokens.models import ApiToken

__all__ = [
    "AdminPrincipal",
    "CurrentPrincipal",
    "DatabaseDep",
    "MetricsClientDep",
    "PipelineDep",
    "Principal",
    "RateLimitedPrincipal",
    "SessionDep",
    "SettingsDep",
    "StaffPrincipal",
]

_bearer = HTTPBearer(auto_error=False, description="A department system's API token")
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def _load_token(db: Database, token_hash: str) -> ApiToken | None:
    with db.session(write=False) as session:
        return tokens.find_token(session, token_hash)


def _mark_used(db: Database, token: ApiToken, now: dt.datetime) -> None:
    with db.session() as session:
        tokens.mark_used(session, token.id, now)
    token.last_used_at = now  # the cached copy too, so the next request does not write again


async def _token_principal(request: Request, plaintext: str, background: BackgroundTasks) -> Principal | None:
    db: Database = request.app.state.db
    cache: tokens.TokenCache = request.app.state.token_cache
    token_hash = tokens.hash_token(plaintext)
    clock = time.monotonic()
    token = cache.get(token_hash, clock)
    if token is None:
        token = await run_in_threadpool(_load_token, db, token_hash)
        if token is None:
            return None
        cache.put(token_hash, token, clock)
    now = utcnow()
    if not tokens.is_active(token, now):
        return None
    if tokens.needs_last_used(token, now):
        # After the response, not now: a route that opens its write session before it asks who is calling holds
        # SQLite's write lock here, and waiting for it would wait for ourselves. A refused request has no
        # background tasks: its use is written by the next one that gets through.
        background.add_task(_mark_used, db, token, now)
    return Principal(kind=PrincipalKind.token, id=str(token.id), name=token.name, department=token.department_code)


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(session_cookie)],
    background: BackgroundTasks,
) -> Principal:
    """A department system by its bearer token, or a signed-in staff member by the session cookie."""
    if credentials is not None:
        refuse_while_failing(request)
        principal = await _token_principal(request, credentials.credentials, background)
        if principal is None:
            note_failure(request)
            raise Unauthorized("The token is not valid, has expired or has been revoked.", headers=_CHALLENGE)
        return principal
    signed = read_session(request, cookie)
    if signed is None:
        raise Unauthorized("Send a department API token (Authorization: Bearer ...) or sign in.", headers=_CHALLENGE)
    # Ingest keeps the accounts, so it can end a session at once: sign-out, deactivation, a new role.
    principal = await run_in_threadpool(_as_it_stands, request.app.state.db, signed)
    if principal is None:
        raise Unauthorized("This session has ended; sign in again.")
    return principal


def _as_it_stands(db: Database, signed: Principal) -> Principal | None:
    with db.session(write=False) as session:
        return accounts.current_principal_of(session, signed)


def staff_principal(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    if principal.kind is not PrincipalKind.user:
        raise Forbidden("This needs a signed-in staff member, not a department system's token.")
    return principal


def admin_principal(principal: Annotated[Principal, Depends(staff_principal)]) -> Principal:
    if principal.role is not Role.admin:
        raise Forbidden("Only an administrator may do this.")
    return principal


async def rate_limited(request: Request, principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    retry_after = request.app.state.rate_limiter.acquire(principal.actor)
    if retry_after is not None:
        raise TooManyRequests(
            "Too many requests from this client; slow down and retry.",
            headers={"Retry-After": str(max(1, math.ceil(retry_after)))},
        )
    return principal


def get_database(request: Request) -> Database:
    return request.app.state.db


def get_metrics_client(request: Request) -> MetricsClient:
    return request.app.state.metrics_client


def get_pipeline(request: Request) -> SubmissionPipeline:
    return request.app.state.pipeline


AUTH_DEPENDENCIES.update({current_principal, rate_limited, staff_principal, admin_principal})

CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
StaffPrincipal = Annotated[Principal, Depends(staff_principal)]
AdminPrincipal = Annotated[Principal, Depends(admin_principal)]
RateLimitedPrincipal = Annotated[Principal, Depends(rate_limited)]
DatabaseDep = Annotated[Database, Depends(get_database)]
MetricsClientDep = Annotated[MetricsClient, Depends(get_metrics_client)]
PipelineDep = Annotated[SubmissionPipeline, Depends(get_pipeline)]
