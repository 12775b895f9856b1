"""Raw records (311 service requests, work orders, inspections) and what loading them needs: the datasets they
belong to, the mapping profiles that read real feeds, the import jobs, SLA rules and the holiday calendar."""

import datetime as dt
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from services.metrics.base import MetricsTable, utcnow

SERVICE_REQUESTS = "service_requests"


class Dataset(MetricsTable, table=True):
    """A kind of raw record defined by the performance office (work orders, inspections), with the extra fields its
    records carry beside the common ones. The built-in `service_requests` lives in code (BUILTIN_DATASETS)."""

    __tablename__ = "dataset"
    key: str = Field(primary_key=True, max_length=64)
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_type=sa.Text)
    # [{"name", "type": string|number|integer|boolean|datetime, "required", "description"}]: fields kept in
    # raw_record.attributes, beyond the common columns every record has.
    fields: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    is_builtin: bool = False
    is_published: bool = False
    created_by: str = Field(default="operator", max_length=200)
    created_at: dt.datetime = Field(default_factory=utcnow)


class RawRecord(MetricsTable, table=True):
    """One record as a department's system knows it, upserted on (dataset, record_id).

    The period columns and the on-time flag are derived once at load, in the city's time zone, so that every
    computed metric is a plain GROUP BY that indexes serve on SQLite and PostgreSQL alike."""

    __tablename__ = "raw_record"
    __table_args__ = (
        sa.Index("ix_raw_record_opened", "dataset", "opened_month", "department"),
        sa.Index("ix_raw_record_closed", "dataset", "closed_month", "department"),
    )

    dataset: str = Field(primary_key=True, max_length=64)
    record_id: str = Field(primary_key=True, max_length=128)
    department: str = Field(max_length=16)
    category: str | None = Field(default=None, max_length=200)
    status: str | None = Field(default=None, max_length=64)
    org_unit: str | None = Field(default=None, max_length=64)
    district: str | None = Field(default=None, max_length=64)
    latitude: float | None = None
    longitude: float | None = None
    source: str | None = Field(default=None, max_length=64)
    opened_at: dt.datetime
    closed_at: dt.datetime | None = None
    due_at: dt.datetime | None = None
    # "record" when the feed gave the due time, "sla" when the SLA table did; None when neither could.
    due_source: str | None = Field(default=None, max_length=8)
    opened_month: str = Field(max_length=8)
    opened_week: str = Field(max_length=8)
    # When in the day and week the request came in, on the city's clock (operational analytics): 0-23, ISO 1-7.
    opened_hour: int = Field(sa_type=sa.SmallInteger)
    opened_weekday: int = Field(sa_type=sa.SmallInteger)
    closed_month: str | None = Field(default=None, max_length=8)
    closed_week: str | None = Field(default=None, max_length=8)
    days_to_close: float | None = None
    # 1 closed on or before its due time, 0 closed late, None open or without a due time.
    on_time: int | None = Field(default=None, sa_type=sa.SmallInteger)
    attributes: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    import_id: str | None = Field(default=None, max_length=64)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class MappingProfile(MetricsTable, table=True):
    """How one feed's columns, time zone, timestamp formats and agency names map to a dataset. Built-in
    profiles live in code; these rows are the ones an admin defined through the API."""

    __tablename__ = "mapping_profile"
    name: str = Field(primary_key=True, max_length=64)
    dataset: str = Field(max_length=64)
    description: str = Field(default="", sa_type=sa.Text)
    definition: dict[str, Any] = Field(sa_type=sa.JSON)
    created_by: str = Field(max_length=200)
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)
    # Pull connectors: where the last pull got to (the feed's own change time), so the next asks for what changed.
    last_pulled_at: dt.datetime | None = None
    pull_cursor: str | None = Field(default=None, max_length=64)


class ImportStatus(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class RecordImport(MetricsTable, table=True):
    """A bulk load of one spooled file: its progress while it runs, its summary when done. The id is the one
    ingest gave the upload, so a retried hand-off finds the job it already ran."""

    __tablename__ = "record_import"
    id: str = Field(primary_key=True, max_length=64)
    dataset: str = Field(max_length=64)
    mapping: str = Field(max_length=64)
    # The department a token's upload is confined to; None for the performance office or the operator.
    department: str | None = Field(default=None, max_length=16)
    create_departments: bool = False
    status: ImportStatus = Field(default=ImportStatus.queued, sa_type=sa.String(16))
    bytes_total: int | None = Field(default=None, sa_type=sa.BigInteger)
    bytes_done: int = Field(default=0, sa_type=sa.BigInteger)
    rows_read: int = 0
    accepted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    departments_created: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    # Computed metrics recomputed after the load, and how many of their periods.
    recomputed: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    error: str | None = Field(default=None, sa_type=sa.Text)
    actor: str = Field(max_length=200)
    created_at: dt.datetime = Field(default_factory=utcnow)
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None


class RecordRejection(MetricsTable, table=True):
    """A row of an import that could not be used, with why: every one is kept, however many there are."""

    __tablename__ = "record_rejection"
    import_id: str = Field(primary_key=True, max_length=64, foreign_key="record_import.id")
    row: int = Field(primary_key=True)
    field: str = Field(max_length=64)
    reason: str = Field(sa_type=sa.Text)
    record_id: str | None = Field(default=None, max_length=128)


class DayKind(StrEnum):
    calendar = "calendar"
    business = "business"  # Monday to Friday, holidays excepted


class SlaRule(MetricsTable, table=True):
    """How long a category of request may take, for records whose feed gives no due time. A rule for a department
    wins over the citywide one (department "")."""

    __tablename__ = "sla_rule"
    dataset: str = Field(primary_key=True, max_length=64)
    department: str = Field(primary_key=True, max_length=16, default="")
    category: str = Field(primary_key=True, max_length=200)
    days: float
    day_kind: DayKind = Field(default=DayKind.calendar, sa_type=sa.String(16))
    created_by: str = Field(default="operator", max_length=200)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class Holiday(MetricsTable, table=True):
    """The city's holiday calendar: business-day SLA clocks skip these days."""

    __tablename__ = "holiday"
    day: dt.date = Field(primary_key=True)
    name: str = Field(max_length=200)


BUILTIN_DATASETS = {
    SERVICE_REQUESTS: Dataset(
        key=SERVICE_REQUESTS,
        title="Service requests",
        description="311 service requests: when each was opened, closed and due, by department, category and place.",
        fields=[],
        is_builtin=True,
        created_at=dt.datetime(2026, 11, 26, tzinfo=dt.UTC),
    )
}
