"""The public datasets metrics owns: their stable Socrata-style ids, their typed columns, and the rows the public may
read. Every dataset is a Core select over public rows only, with one labelled column per public field; the executor
(executor.py) queries that select and nothing else, so a column left out here cannot be reached by any query.

A new kind of public dataset (the budget) is one more provider in `PROVIDERS`: a function from a session to the
datasets it currently makes public.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Session, col, select

from services.common.errors import NotFound
from services.common.periods import Period, PeriodError
from services.metrics.approvals.models import PeriodApproval
from services.metrics.approvals.service import month_of
from services.metrics.definitions.models import Metric
from services.metrics.definitions.service import visible_metrics_query
from services.metrics.departments.models import Department
from services.metrics.observations.models import Observation
from services.metrics.records.models import BUILTIN_DATASETS, SERVICE_REQUESTS, Dataset, RawRecord

ColumnType = Literal["text", "number", "boolean", "floating_timestamp"]

ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz23456789"
ID_PATTERN = r"^[a-z2-9]{4}-[a-z2-9]{4}$"
# When a dataset has no rows yet there is no change time to report; the day the open-data registry began stands in.
REGISTRY_EPOCH = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
LICENSE = "Open Data Commons Public Domain Dedication and License (PDDL)"
# Floating timestamps on SQLite are text in this one fixed-width shape, so that text order is time order.
SQLITE_FLOATING_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
SQLITE_LOCAL_TIME = "citystat_local_time"


def dataset_id(key: str) -> str:
    """The dataset's 4x4 id, derived from its key: the same on every server and after every restart."""
    number = int.from_bytes(hashlib.sha256(f"citystat:{key}".encode()).digest()[:8], "big")
    chars = []
    for _ in range(8):
        number, digit = divmod(number, len(ID_ALPHABET))
        chars.append(ID_ALPHABET[digit])
    return f"{''.join(chars[:4])}-{''.join(chars[4:])}"


@dataclass(frozen=True)
class OpenColumn:
    field_name: str
    name: str
    datatype: ColumnType
    description: str


@dataclass(frozen=True)
class SourceContext:
    """What building a dataset's select needs beyond the session: the database's dialect (floating timestamps are
    timestamps on PostgreSQL and fixed-width text on SQLite) and the city's time zone (raw records' instants are
    shown as the city's wall-clock time, as Socrata's floating timestamps are)."""

    dialect: str
    time_zone: str

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"


@dataclass(frozen=True)
class OpenDataset:
    key: str
    name: str
    description: str
    category: str
    columns: tuple[OpenColumn, ...]
    # The public rows, one labelled column per field of `columns`, in that order.
    rows: Callable[[Session, SourceContext], sa.Select]
    # Fields that identify a row: the executor's tie-breaker, so that paging through a result never skips a row.
    key_fields: tuple[str, ...]
    updated_at: Callable[[Session], dt.datetime | None]
    # Floating-timestamp fields shown in city time from a stored UTC instant; `rows` also selects that instant,
    # labelled by instant_label(field) and never shown, so that comparisons can read it (see instants.py).
    instants: tuple[str, ...] = ()
    publisher: str = "CityStat performance office"
    license: str = LICENSE

    @property
    def id(self) -> str:
        return dataset_id(self.key)

    @property
    def types(self) -> dict[str, str]:
        return {column.field_name: column.datatype for column in self.columns}


# --- floating timestamps ------------------------------------------------------------------------------------------


def instant_label(field_name: str) -> str:
    # Not among the dataset's columns, which are all a query can name.
    return f"__instant_{field_name}"


def floating_from_instant(column: sa.ColumnElement, ctx: SourceContext) -> sa.ColumnElement:
    """A stored UTC instant as the city's wall-clock time, without an offset."""
    if ctx.is_sqlite:
        # SQLite has no time zone database: a Python function registered on the connection (executor.prepare).
        return sa.func.citystat_local_time(column, sa.bindparam("city_time_zone", ctx.time_zone, sa.String()))
    return sa.func.timezone(sa.bindparam("city_time_zone", ctx.time_zone, sa.String()), column)


def floating_from_date(column: sa.ColumnElement, ctx: SourceContext) -> sa.ColumnElement:
    if ctx.is_sqlite:
        return sa.cast(column, sa.String()).concat(sa.literal_column("' 00:00:00.000000'", sa.String()))
    return sa.cast(column, sa.DateTime())


def _published_metric_ids() -> sa.Select:
    # The public's view of metrics is the definitions' own rule (no viewer: published only), not a copy of it.
    return visible_metrics_query(None, None).with_only_columns(col(Metric.id))


# --- observations -------------------------------------------------------------------------------------------------

OBSERVATION_COLUMNS = (
    OpenColumn("metric", "Metric", "text", "The metric's stable key."),
    OpenColumn("metric_name", "Metric name", "text", "What the metric measures."),
    OpenColumn("department", "Department", "text", "The code of the department the metric belongs to."),
    OpenColumn("period", "Period", "text", "The period the value is for: 2017-06, 2017-W23, 2017-Q2, 2017 or FY2017."),
    OpenColumn("period_start", "Period start", "floating_timestamp", "The first day of the period."),
    OpenColumn("value", "Value", "number", "The value; ratios are fractions (0.95 is 95%)."),
    OpenColumn("numerator", "Numerator", "number", "For a rate: what was counted, when the department sent it."),
    OpenColumn("denominator", "Denominator", "number", "For a rate: out of how many, when the department sent it."),
    OpenColumn("org_unit", "Org unit", "text", "The division or facility the value is for; empty for the department."),
    OpenColumn(
        "provisional", "Provisional", "boolean", "True until the department approves the month the period ends in."
    ),
)


def _period_end_months(session: Session, ctx: SourceContext) -> sa.FromClause:
    """Each stored period with the month whose approval covers it, as a table built from one bound JSON parameter:
    the same rule as the observation series (approvals.month_of), without a row of SQL per period."""
    ends: dict[str, str] = {}
    for period in session.exec(select(Observation.period).distinct()):
        try:
            ends[period] = month_of(Period.parse(period))
        except PeriodError:
            continue  # never approved, so shown as provisional
    mapping = sa.bindparam("period_end_months", json.dumps(ends, sort_keys=True), sa.String())
    if ctx.is_sqlite:
        return sa.func.json_each(mapping).table_valued("key", "value").alias("period_end")
    return sa.func.jsonb_each_text(sa.cast(mapping, JSONB)).table_valued("key", "value").alias("period_end")


def _observation_rows(session: Session, ctx: SourceContext) -> sa.Select:
    period_end = _period_end_months(session, ctx)
    return (
        sa.select(
            col(Metric.key).label("metric"),
            col(Metric.name).label("metric_name"),
            col(Department.code).label("department"),
            col(Observation.period).label("period"),
            floating_from_date(col(Observation.period_start), ctx).label("period_start"),
            col(Observation.value).label("value"),
            col(Observation.numerator).label("numerator"),
            col(Observation.denominator).label("denominator"),
            sa.func.nullif(col(Observation.org_unit), "").label("org_unit"),
            col(PeriodApproval.id).is_(None).label("provisional"),
        )
        .select_from(Observation)
        .join(Metric, col(Metric.id) == col(Observation.metric_id))
        .join(Department, col(Department.id) == col(Metric.department_id))
        .outerjoin(period_end, period_end.c.key == col(Observation.period))
        .outerjoin(
            PeriodApproval,
            sa.and_(
                col(PeriodApproval.department_id) == col(Metric.department_id),
                col(PeriodApproval.period) == period_end.c.value,
            ),
        )
        .where(col(Observation.metric_id).in_(_published_metric_ids()))
    )


def _observations_updated(session: Session) -> dt.datetime | None:
    published = _published_metric_ids()
    latest = session.exec(
        select(sa.func.max(col(Observation.updated_at))).where(col(Observation.metric_id).in_(published))
    ).one()
    if latest is None:
        latest = session.exec(select(sa.func.max(col(Metric.updated_at))).where(col(Metric.id).in_(published))).one()
    return latest


OBSERVATIONS = OpenDataset(
    key="observations",
    name="Performance metric values",
    description=(
        "Every value of every metric the city publishes, by period and org unit. Values the department has not yet "
        "approved are marked provisional and may still change."
    ),
    category="Performance",
    columns=OBSERVATION_COLUMNS,
    rows=_observation_rows,
    key_fields=("metric", "period", "org_unit"),
    updated_at=_observations_updated,
)


def _observation_datasets(_session: Session) -> Iterable[OpenDataset]:
    yield OBSERVATIONS


# --- raw records ----------------------------------------------------------------------------------------------------

# The columns every record has. `attributes` is never among them: it may hold names and addresses.
RECORD_COLUMNS = (
    OpenColumn("record_id", "Record id", "text", "The id the department's system gave the record."),
    OpenColumn("department", "Department", "text", "The code of the department responsible."),
    OpenColumn("category", "Category", "text", "The kind of request or job (e.g. Pothole)."),
    OpenColumn("status", "Status", "text", "The status the source system last reported."),
    OpenColumn("opened_at", "Opened", "floating_timestamp", "When it was opened, city time."),
    OpenColumn("closed_at", "Closed", "floating_timestamp", "When it was closed, city time; empty while open."),
    OpenColumn("due_at", "Due", "floating_timestamp", "When it was due, city time, from the record or the SLA."),
    OpenColumn("org_unit", "Org unit", "text", "The division or facility that handled it."),
    OpenColumn("district", "District", "text", "The council district or area."),
    OpenColumn("latitude", "Latitude", "number", "Where, as the source system located it."),
    OpenColumn("longitude", "Longitude", "number", "Where, as the source system located it."),
    OpenColumn("source", "Source", "text", "How it was reported (phone, app, web...)."),
    OpenColumn("days_to_close", "Days to close", "number", "Days from opening to closing; empty while open."),
    OpenColumn("on_time", "On time", "boolean", "Closed by its due time; empty while open or without a due time."),
)


RECORD_INSTANTS = ("opened_at", "closed_at", "due_at")


def _record_rows(key: str) -> Callable[[Session, SourceContext], sa.Select]:
    def rows(_session: Session, ctx: SourceContext) -> sa.Select:
        return sa.select(
            col(RawRecord.record_id).label("record_id"),
            col(RawRecord.department).label("department"),
            col(RawRecord.category).label("category"),
            col(RawRecord.status).label("status"),
            floating_from_instant(col(RawRecord.opened_at), ctx).label("opened_at"),
            floating_from_instant(col(RawRecord.closed_at), ctx).label("closed_at"),
            floating_from_instant(col(RawRecord.due_at), ctx).label("due_at"),
            col(RawRecord.org_unit).label("org_unit"),
            col(RawRecord.district).label("district"),
            col(RawRecord.latitude).label("latitude"),
            col(RawRecord.longitude).label("longitude"),
            col(RawRecord.source).label("source"),
            col(RawRecord.days_to_close).label("days_to_close"),
            (col(RawRecord.on_time) == 1).label("on_time"),
            *(col(getattr(RawRecord, name)).label(instant_label(name)) for name in RECORD_INSTANTS),
        ).where(col(RawRecord.dataset) == key)

    return rows


def _records_updated(key: str, created_at: dt.datetime) -> Callable[[Session], dt.datetime | None]:
    def updated(session: Session) -> dt.datetime | None:
        latest = session.exec(select(sa.func.max(col(RawRecord.updated_at))).where(col(RawRecord.dataset) == key)).one()
        return latest or created_at

    return updated


def record_datasets(session: Session) -> list[Dataset]:
    """Every raw-record dataset, built-in ones first (a built-in's publication is stored as a row of `dataset` beside
    its definition in code; see records.service.get_dataset)."""
    from services.metrics.records.service import get_dataset

    stored = session.exec(select(Dataset.key).order_by(col(Dataset.key))).all()
    keys = [*BUILTIN_DATASETS, *(key for key in stored if key not in BUILTIN_DATASETS)]
    return [get_dataset(session, key) for key in keys]


def published_record_datasets(session: Session) -> list[Dataset]:
    """Raw-record datasets the performance office published."""
    return [dataset for dataset in record_datasets(session) if dataset.is_published]


def _record_datasets(session: Session) -> Iterable[OpenDataset]:
    for dataset in published_record_datasets(session):
        yield OpenDataset(
            key=f"records.{dataset.key}",
            name=dataset.title,
            description=dataset.description
            or f"{dataset.title}: each record's department, category, status, times and place.",
            category="Service requests" if dataset.key == SERVICE_REQUESTS else "Operations",
            columns=RECORD_COLUMNS,
            rows=_record_rows(dataset.key),
            key_fields=("record_id",),
            updated_at=_records_updated(dataset.key, dataset.created_at),
            instants=RECORD_INSTANTS,
        )


def _budget_datasets(session: Session) -> Iterable[OpenDataset]:
    # Imported here: the budget's provider builds on this module's OpenDataset.
    from services.metrics.budget.opendata import budget_datasets

    return budget_datasets(session)


# --- the registry -----------------------------------------------------------------------------------------------------

PROVIDERS: list[Callable[[Session], Iterable[OpenDataset]]] = [
    _observation_datasets,
    _record_datasets,
    _budget_datasets,
]


def public_datasets(session: Session) -> list[OpenDataset]:
    return [dataset for provider in PROVIDERS for dataset in provider(session)]


def find_dataset(session: Session, id: str) -> OpenDataset:
    for dataset in public_datasets(session):
        if dataset.id == id:
            return dataset
    # The same answer for an unknown id and an unpublished dataset.
    raise NotFound(f"No public dataset has the id '{id}'.")
