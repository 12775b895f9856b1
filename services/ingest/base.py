"""The ingest service's declarative base: its own metadata, its own Alembic history."""

import datetime as dt

from services.common.db import service_base

IngestTable = service_base("ingest")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
