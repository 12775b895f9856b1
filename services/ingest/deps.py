"""Dependency aliases for the ingest service, declared once."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.common.app import SettingsDep
from services.common.auth import (
    AUTH_DEPENDENCIES,
    AdminPrincipal,
    Principal,
    PrincipalKind,
    StaffPrincipal,
    read_session,
    session_cookie,
)
from services.common.db import Database, SessionDep
from services.common.errors import TooManyRequests, Unauthorized
from services.ingest.base import utcnow
from services.ingest.clients.metrics import MetricsClient
from services.ingest.tokens import service as tokens

__all__ = [
    "AdminPrincipal",
    "CurrentPrincipal",
    "DatabaseDep",
    "MetricsClientDep",
    "Principal",
    "RateLimitedPrincipal",
    "SessionDep",
    "SettingsDep",
    "StaffPrincipal",
]

_bearer = HTTPBearer(auto_error=False, description="A department system's API token")
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def _token_principal(db: Database, plaintext: str) -> Principal | None:
    with db.session(write=False) as session:
        token = tokens.authenticate(session, plaintext)
        if token is None:
            return None
        principal = Principal(
            kind=PrincipalKind.token, id=str(token.id), name=token.name, department=token.department_code
        )
        now = utcnow()
        stale = tokens.needs_last_used(token, now)
    if stale:
        with db.session() as session:
            tokens.mark_used(session, token.id, now)
    return principal


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(session_cookie)],
) -> Principal:
    """A department system by its bearer token, or a signed-in staff member by the session cookie."""
    if credentials is not None:
        principal = await run_in_threadpool(_token_principal, request.app.state.db, credentials.credentials)
        if principal is None:
            raise Unauthorized("The token is not valid, has expired or has been revoked.", headers=_CHALLENGE)
        return principal
    principal = read_session(request, cookie)
    if principal is None:
        raise Unauthorized("Send a department API token (Authorization: Bearer ...) or sign in.", headers=_CHALLENGE)
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


AUTH_DEPENDENCIES.update({current_principal, rate_limited})

CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
RateLimitedPrincipal = Annotated[Principal, Depends(rate_limited)]
DatabaseDep = Annotated[Database, Depends(get_database)]
MetricsClientDep = Annotated[MetricsClient, Depends(get_metrics_client)]
