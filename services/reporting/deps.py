"""Dependency aliases for the reporting service, declared once."""

from typing import Annotated

from fastapi import Depends, Request

from services.common.app import SettingsDep
from services.common.db import SessionDep
from services.reporting.clients.metrics import MetricsClient

__all__ = ["MetricsClientDep", "SessionDep", "SettingsDep"]


def get_metrics_client(request: Request) -> MetricsClient:
    return request.app.state.metrics_client


MetricsClientDep = Annotated[MetricsClient, Depends(get_metrics_client)]
