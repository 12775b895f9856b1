"""Dependency aliases for the reporting service, declared once."""

from typing import Annotated

from fastapi import Depends, Request

from services.common.app import SettingsDep
from services.common.auth import CSRF_HEADER, SESSION_COOKIE, OptionalStaff, StaffPrincipal
from services.common.db import SessionDep
from services.reporting.clients.metrics import Acting, MetricsClient

__all__ = ["MetricsClientDep", "OptionalStaff", "SessionDep", "SettingsDep", "StaffPrincipal"]


def get_metrics_client(request: Request) -> MetricsClient:
    """Metrics, asked on behalf of whoever is calling: their session (and CSRF token, for writes) is passed on."""
    acting = Acting(session=request.cookies.get(SESSION_COOKIE), csrf=request.headers.get(CSRF_HEADER))
    return MetricsClient(request.app.state.metrics_http, acting)


MetricsClientDep = Annotated[MetricsClient, Depends(get_metrics_client)]
