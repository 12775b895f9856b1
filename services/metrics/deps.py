"""Dependency aliases for the metrics service, declared once."""

import secrets
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.common.app import SettingsDep
from services.common.auth import AUTH_DEPENDENCIES, OptionalStaff, StaffPrincipal, note_failure, refuse_while_failing
from services.common.db import SessionDep
from services.common.errors import Unauthorized

__all__ = ["InternalCaller", "OptionalStaff", "SessionDep", "SettingsDep", "StaffPrincipal"]

_bearer = HTTPBearer(auto_error=False, description="The platform's internal service token")


def require_internal_caller(
    request: Request,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    expected = settings.internal_token.get_secret_value()
    if credentials is not None:
        refuse_while_failing(request)
        if secrets.compare_digest(credentials.credentials.encode(), expected.encode()):
            return "service"
        note_failure(request)
    raise Unauthorized("This operation is for CityStat's own services.", headers={"WWW-Authenticate": "Bearer"})


AUTH_DEPENDENCIES.add(require_internal_caller)

InternalCaller = Annotated[str, Depends(require_internal_caller)]
