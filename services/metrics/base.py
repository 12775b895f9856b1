"""The metrics service's declarative base: its own metadata, its own Alembic history."""

import datetime as dt

from services.common.db import service_base

MetricsTable = service_base("metrics")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
