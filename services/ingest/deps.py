"""Dependency aliases for the ingest service, declared once."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.common.app import SettingsDep
from services.common.db import Database, SessionDep
from services.common.errors import Unauthorized
from services.ingest.clients.metrics import MetricsClient
from services.ingest.tokens.service import authenticate

__all__ = ["CurrentPrincipal", "DatabaseDep", "MetricsClientDep", "Principal", "SessionDep", "SettingsDep"]

_bearer = HTTPBearer(auto_error=False, description="A department system's API token")


@dataclass(frozen=True)
class Principal:
    department: str
    token_id: int
    name: str


def current_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None:
        raise Unauthorized(
            "A department API token is required (Authorization: Bearer ...).", headers=challenge
        )
    db: Database = request.app.state.db
    with db.session(write=False) as session:
        token = authenticate(session, credentials.credentials)
    if token is None:
        raise Unauthorized("The token is not valid or has been revoked.", headers=challenge)
    return Principal(department=token.department_code, token_id=token.id, name=token.name)


def get_database(request: Request) -> Database:
    return request.app.state.db


def get_metrics_client(request: Request) -> MetricsClient:
    return request.app.state.metrics_client


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
DatabaseDep = Annotated[Database, Depends(get_database)]
MetricsClientDep = Annotated[MetricsClient, Depends(get_metrics_client)]
