"""Dependency aliases for the reporting service, declared once."""

from typing import Annotated

from fastapi import Depends, Request

from services.common.app import SettingsDep
from services.common.auth import CSRF_HEADER, SESSION_COOKIE, OptionalStaff, StaffPrincipal
from services.common.db import SessionDep
from services.reporting.clients.metrics import Acting, MetricsClient

__all__ = ["MetricsClientDep", "OptionalStaff", "SessionDep", "SettingsDep", "StaffPrincipal"]


def get_metrics_client(request: Request) -> MetricsClient:
    """Metrics, asked on behalf of whoever is calling: their session (and CSRF token, for writes) is passed on.

    Only a session that verifies here is passed on: metrics limits failed credentials per address, and it would
    count a bad cookie against reporting's own address (every staff member's) rather than the sender's."""
    session = request.cookies.get(SESSION_COOKIE)
    if session and request.app.state.session_codec.verify(session) is None:
        session = None
    acting = Acting(session=session, csrf=request.headers.get(CSRF_HEADER))
    return MetricsClient(request.app.state.metrics_http, acting)


MetricsClientDep = Annotated[MetricsClient, Depends(get_metrics_client)]
