"""The reporting service's declarative base: its own metadata, its own Alembic history."""

import datetime as dt

from services.common.db import service_base

ReportingTable = service_base("reporting")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
