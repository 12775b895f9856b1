"""Bulk load of a spooled file of raw records: read, map each agency to a department, derive the period columns,
and upsert chunk by chunk (COPY into a temporary table on PostgreSQL, executemany on SQLite). Each chunk is one
transaction that also moves the job's progress on, so what the job says it has loaded is exactly what is stored."""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import insert, text
from sqlmodel import Session, select

from services.common.db import Database
from services.common.errors import CityStatError
from services.common.settings import Settings
from services.metrics.base import utcnow
from services.metrics.departments.models import Department
from services.metrics.records.derive import CityClock, days_between, on_time, stored_time
from services.metrics.records.models import ImportStatus, RecordImport, RecordRejection
from services.metrics.records.normalize import Rejection, Row, read_rows
from services.metrics.records.profiles import ProfileDefinition
from services.metrics.records.sla import SlaClock

log = logging.getLogger("citystat.metrics.records")

# The columns a load writes, in the order of every statement and COPY below.
COLUMNS = (
    "dataset", "record_id", "department", "category", "status", "org_unit", "district", "latitude", "longitude",
    "source", "opened_at", "closed_at", "due_at", "due_source", "opened_month", "opened_week", "opened_hour",
    "opened_weekday", "closed_month", "closed_week", "days_to_close", "on_time", "attributes", "import_id",
    "updated_at",
)  # fmt: skip
# What makes a stored record different from a loaded one (the job that wrote it and when do not).
_ATTRIBUTES = COLUMNS.index("attributes")
_WRITTEN = _ATTRIBUTES + 1  # a record's own values end with its attributes
_COMPARED = COLUMNS[2:_WRITTEN]
_PERIOD_COLUMNS = ("department", "opened_month", "opened_week", "closed_month", "closed_week")
_CODE_CLEAN = re.compile(r"[^A-Z0-9_]")
_PARAMS_PER_QUERY = 5_000


class _Reject(Exception):
    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason


@dataclass
class LoadRequest:
    job_id: str
    dataset: str
    mapping: str
    profile: ProfileDefinition
    department: str | None
    create_departments: bool
    actor: str
    media_format: str | None = None
    # An admin-defined dataset's fields (Dataset.fields); empty for service requests.
    dataset_fields: list[dict] = field(default_factory=list)


@dataclass
class _Departments:
    """Agency values to department codes: the profile's map, then the codes the city has, then (when asked)
    departments created on the way, for a city's first load of its own data."""

    profile: ProfileDefinition
    mapping: str
    known: dict[str, str]  # upper-case code -> code
    confined_to: str | None
    create: bool
    created: dict[str, str] = field(default_factory=dict)  # code -> name, this chunk's new ones
    all_created: list[str] = field(default_factory=list)
    cache: dict[str | None, str] = field(default_factory=dict)

    def take_created(self) -> list[tuple[str, str]]:
        """Departments made since the last call, to be stored with the chunk whose rows name them."""
        created, self.created = list(self.created.items()), {}
        return created

    def resolve(self, agency: str | None, agency_name: str | None) -> str:
        code = self.cache.get(agency)
        if code is None:
            code = self._resolve(agency, agency_name)
            self.cache[agency] = code
        if self.confined_to is not None and code != self.confined_to:
            raise _Reject(
                "agency", f"the record belongs to department {code}; this upload may only load {self.confined_to}'s"
            )
        return code

    def _resolve(self, agency: str | None, agency_name: str | None) -> str:
        if self.profile.department:
            return self._existing(self.profile.department, agency_name, "the profile's department")
        if agency is None:
            if self.confined_to is not None:
                return self.confined_to
            raise _Reject("agency", "the row names no agency, and the profile names no department for the feed")
        mapped = self.profile.departments.get(agency)
        if mapped:
            return self._existing(mapped, agency_name or agency, f"agency '{agency}' maps to {mapped}, which")
        existing = self.known.get(agency.upper())
        if existing:
            return existing
        if not self.create:
            raise _Reject(
                "agency",
                f"unknown department: agency '{agency}' is mapped to no CityStat department by profile "
                f"'{self.mapping}' (map it in the profile, or load with create_departments)",
            )
        code = _department_code(agency)
        if code is None:
            raise _Reject("agency", f"agency '{agency}' cannot be made into a department code (letters and digits)")
        return self._existing(code, agency_name or agency, "")

    def _existing(self, code: str, name: str | None, what: str) -> str:
        """The department `code` names, created when the load may create departments."""
        found = self.known.get(code.upper())
        if found:
            return found
        if not self.create:
            raise _Reject(
                "agency",
                f"unknown department: {what} is not a CityStat department (create it, or load with create_departments)",
            )
        self.known[code.upper()] = code
        self.created[code] = (name or code)[:200]
        self.all_created.append(code)
        return code


_TRUE, _FALSE = {"true", "yes", "y", "1", "t"}, {"false", "no", "n", "0", "f"}


class _AttributeSchema:
    """An admin-defined dataset's own fields: each kept value converted to its declared type, a required one
    present. A value that does not fit rejects its row, naming the field."""

    def __init__(self, fields: list[dict]) -> None:
        self.fields = [(f["name"], f.get("type", "string"), bool(f.get("required"))) for f in fields]

    def check(self, attributes: dict | None) -> dict | None:
        attributes = dict(attributes or {})
        for name, kind, required in self.fields:
            value = attributes.get(name)
            if value is None or value == "":
                if required:
                    raise _Reject(name, f"the dataset requires {name}, and the row has none")
                attributes.pop(name, None)
                continue
            attributes[name] = self._typed(name, kind, value)
        return attributes or None

    @staticmethod
    def _typed(name: str, kind: str, value: object) -> object:
        text = str(value).strip()
        try:
            if kind == "number":
                number = value if isinstance(value, int | float) and not isinstance(value, bool) else float(text)
                if not math.isfinite(number):
                    raise ValueError
                return number
            if kind == "integer":
                if isinstance(value, bool):
                    raise ValueError
                return value if isinstance(value, int) else int(text)
            if kind == "boolean":
                if isinstance(value, bool):
                    return value
                if text.lower() in _TRUE:
                    return True
                if text.lower() in _FALSE:
                    return False
                raise ValueError
            if kind == "datetime":
                moment = dt.datetime.fromisoformat(text)
                if moment.utcoffset() is None:
                    raise ValueError
                return moment.isoformat()
        except ValueError:
            raise _Reject(name, f"'{text[:60]}' is not a {kind} (the dataset declares {name} as one)") from None
        return text


def _department_code(agency: str) -> str | None:
    code = _CODE_CLEAN.sub("", agency.upper())
    if not code:
        return None
    if not code[0].isalpha():
        code = f"D{code}"
    return code[:16] if len(code) >= 2 else None


@dataclass
class _Chunk:
    rows: dict[str, tuple] = field(default_factory=dict)
    rejections: list[dict] = field(default_factory=list)
    read: int = 0
    new_departments: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class ChunkOutcome:
    accepted: int = 0
    updated: int = 0
    unchanged: int = 0
    touched: set[tuple[str, str]] = field(default_factory=set)


class _CountingReader:
    """The spooled file as read so far: progress is the bytes of the file itself, gzipped or not."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.done = 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.done += len(data)
        return data

    def readinto(self, buffer) -> int:  # noqa: ANN001 - a writable buffer, as io's protocol has it
        count = self.raw.readinto(buffer)
        self.done += count or 0
        return count

    def readable(self) -> bool:
        return True

    def __getattr__(self, name: str):  # noqa: ANN204 - everything else as the raw file has it
        return getattr(self.raw, name)


class RecordLoader:
    def __init__(self, db: Database, request: LoadRequest, time_zone: str, chunk_rows: int) -> None:
        self.db = db
        self.request = request
        self.clock = CityClock(time_zone)
        self.time_zone = time_zone
        self.chunk_rows = chunk_rows
        self.is_sqlite = db.is_sqlite
        self.file_size: int | None = None
        self.attribute_schema = _AttributeSchema(request.dataset_fields) if request.dataset_fields else None

    def run(self, path: Path) -> set[tuple[str, str]]:
        """Load the file; the periods (department, month or week) whose records changed."""
        self.file_size = path.stat().st_size
        with path.open("rb") as raw:
            counting = _CountingReader(raw)
            items = read_rows(counting, self.request.profile, format=self.request.media_format or "auto")
            return self.load(items, lambda: counting.done)

    def load(self, items: Iterable[Row | Rejection], position: Callable[[], int]) -> set[tuple[str, str]]:
        """Load rows already read (from a file, a pull, or the demo city's generator); `position` is the progress
        so far in the job's own unit (bytes of a file, rows of a generator)."""
        request = self.request
        with self.db.session() as session:
            known = {code.upper(): code for code in session.exec(select(Department.code))}
            self.sla = SlaClock.load(session, request.dataset, self.time_zone)
        self.departments = _Departments(
            request.profile, request.mapping, known, request.department, request.create_departments
        )
        touched: set[tuple[str, str]] = set()
        # One writer thread stores a chunk while this one reads and derives the next: the database's work
        # (sqlite3 and psycopg let go of the GIL for it) overlaps Python's.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="record-writer") as writer:
            pending: Future[ChunkOutcome] | None = None
            for chunk in self._chunks(items):
                chunk.new_departments = self.departments.take_created()
                done = position()
                if pending is not None:
                    touched |= pending.result().touched
                pending = writer.submit(self._store, chunk, done)
            if pending is not None:
                touched |= pending.result().touched
        return touched

    def _chunks(self, items: Iterable[Row | Rejection]) -> Iterator[_Chunk]:
        chunk = _Chunk()
        record = self._record
        for item in items:
            chunk.read += 1
            if isinstance(item, Rejection):
                chunk.rejections.append(
                    {"row": item.row, "field": item.field, "reason": item.reason, "record_id": item.record_id}
                )
            else:
                try:
                    values = record(item)
                except _Reject as problem:
                    chunk.rejections.append(
                        {"row": item.row, "field": problem.field, "reason": problem.reason, "record_id": item.record_id}
                    )
                else:
                    # A record twice in one file: the later row wins, as it would in a later file.
                    chunk.rows[item.record_id] = values
            if chunk.read >= self.chunk_rows:
                yield chunk
                chunk = _Chunk()
        yield chunk

    def _record(self, row: Row) -> tuple:
        """The row as stored: times as UTC text, attributes as JSON text, the derived columns worked out."""
        department = self.departments.resolve(row.agency, row.agency_name)
        opened = row.opened_at
        opened_month, opened_week, opened_hour, opened_weekday = self.clock.stamp(opened)
        closed = row.closed_at
        if closed is None:
            closed_month = closed_week = days = None
        else:
            closed_month, closed_week, _, _ = self.clock.stamp(closed)
            days = days_between(opened, closed)
        due, due_source = row.due_at, "record"
        if due is None:
            due = self.sla.due_at(department, row.category, opened)
            due_source = "sla" if due is not None else None
        attributes = row.attributes if self.attribute_schema is None else self.attribute_schema.check(row.attributes)
        return (
            self.request.dataset,
            row.record_id,
            department,
            row.category,
            row.status,
            row.org_unit,
            row.district,
            row.latitude,
            row.longitude,
            row.source,
            stored_time(opened),
            stored_time(closed),
            stored_time(due),
            due_source,
            opened_month,
            opened_week,
            opened_hour,
            opened_weekday,
            closed_month,
            closed_week,
            days,
            on_time(closed, due),
            json.dumps(attributes, sort_keys=True) if attributes else None,
        )

    def _store(self, chunk: _Chunk, bytes_done: int) -> ChunkOutcome:
        request = self.request
        with self.db.session() as session:
            if chunk.new_departments:
                session.execute(
                    insert(Department),
                    [{"code": code, "name": name, "created_at": utcnow()} for code, name in chunk.new_departments],
                )
            outcome = (
                self._upsert_sqlite(session, chunk.rows)
                if self.is_sqlite
                else self._upsert_postgres(session, chunk.rows)
            )
            if chunk.rejections:
                session.execute(insert(RecordRejection), [{"import_id": request.job_id, **r} for r in chunk.rejections])
            job = session.get(RecordImport, request.job_id, with_for_update=not self.is_sqlite)
            job.bytes_done = bytes_done
            if job.bytes_total is None:
                job.bytes_total = self.file_size
            job.rows_read += chunk.read
            job.accepted += outcome.accepted
            job.updated += outcome.updated
            job.unchanged += outcome.unchanged
            job.rejected += len(chunk.rejections)
            job.departments_created = list(self.departments.all_created)
            session.add(job)
        return outcome

    # --- SQLite: compare in Python, executemany only what is new or changed -------------------------------------

    def _upsert_sqlite(self, session: Session, rows: dict[str, tuple]) -> ChunkOutcome:
        outcome = ChunkOutcome()
        if not rows:
            return outcome
        cursor = session.connection().connection.driver_connection.cursor()
        now = stored_time(utcnow())
        job_id = self.request.job_id
        stored = self._stored_sqlite(cursor, list(rows))
        writes = []
        touched = outcome.touched
        for record_id, values in rows.items():
            before = stored.get(record_id)
            if before is None:
                outcome.accepted += 1
            elif before == values[2:_WRITTEN]:
                outcome.unchanged += 1
                continue
            else:
                outcome.updated += 1
                _touch(touched, before, 2)
            _touch(touched, values)
            writes.append((*values, job_id, now))
        if writes:
            updates = ", ".join(f"{name} = excluded.{name}" for name in COLUMNS[2:])
            cursor.executemany(
                f"INSERT INTO raw_record ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))}) "
                f"ON CONFLICT (dataset, record_id) DO UPDATE SET {updates}",
                writes,
            )
        cursor.close()
        return outcome

    def _stored_sqlite(self, cursor, record_ids: list[str]) -> dict[str, tuple]:  # noqa: ANN001 - sqlite3 cursor
        stored: dict[str, tuple] = {}
        for start in range(0, len(record_ids), _PARAMS_PER_QUERY):
            part = record_ids[start : start + _PARAMS_PER_QUERY]
            cursor.execute(
                f"SELECT record_id, {', '.join(_COMPARED)} FROM raw_record "
                f"WHERE dataset = ? AND record_id IN ({', '.join('?' * len(part))})",
                [self.request.dataset, *part],
            )
            for found in cursor.fetchall():
                stored[found[0]] = _normal_json(found[1:])
        return stored

    # --- PostgreSQL: COPY into a temporary table, then one upsert that says what it did ------------------------------

    def _upsert_postgres(self, session: Session, rows: dict[str, tuple]) -> ChunkOutcome:
        outcome = ChunkOutcome()
        if not rows:
            return outcome
        connection = session.connection()
        connection.exec_driver_sql(
            "CREATE TEMPORARY TABLE IF NOT EXISTS raw_record_load "
            "(LIKE raw_record INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        # The times are UTC text, as SQLite keeps them: read them in UTC.
        connection.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
        now = stored_time(utcnow())
        job_id = self.request.job_id
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(f"COPY raw_record_load ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            write = copy.write_row
            for values in rows.values():
                write((*values, job_id, now))
        previous = connection.exec_driver_sql(
            f"SELECT {', '.join('r.' + name for name in _PERIOD_COLUMNS)} FROM raw_record r "
            "JOIN raw_record_load l ON r.dataset = l.dataset AND r.record_id = l.record_id "
            f"WHERE {' OR '.join(_distinct('r', 'l', name) for name in _COMPARED)}"
        ).all()
        for department, *periods in previous:
            outcome.touched.update((department, period) for period in periods if period is not None)
        changed = " OR ".join(_distinct("raw_record", "excluded", name) for name in _COMPARED)
        written = connection.exec_driver_sql(
            f"INSERT INTO raw_record ({', '.join(COLUMNS)}) SELECT {', '.join(COLUMNS)} FROM raw_record_load "
            f"ON CONFLICT (dataset, record_id) DO UPDATE SET "
            f"{', '.join(f'{name} = excluded.{name}' for name in COLUMNS[2:])} WHERE {changed} "
            "RETURNING record_id, (xmax = 0) AS inserted"
        ).all()
        for record_id, inserted in written:
            if inserted:
                outcome.accepted += 1
            else:
                outcome.updated += 1
            _touch(outcome.touched, rows[record_id])
        outcome.unchanged = len(rows) - outcome.accepted - outcome.updated
        cursor.close()
        return outcome


def _distinct(left: str, right: str, name: str) -> str:
    # json has no equality operator in PostgreSQL; its text (written with sorted keys) compares instead.
    if name == "attributes":
        return f"{left}.{name}::text IS DISTINCT FROM {right}.{name}::text"
    return f"{left}.{name} IS DISTINCT FROM {right}.{name}"


def _normal_json(values: tuple) -> tuple:
    # Attributes come back as the JSON text they were stored as; compare them as written (sorted keys).
    attributes = values[-1]
    if attributes is None:
        return values
    return (*values[:-1], json.dumps(json.loads(attributes), sort_keys=True))


_PERIOD_POSITIONS = tuple(COLUMNS.index(name) for name in _PERIOD_COLUMNS)


def _touch(touched: set[tuple[str, str]], values: tuple, shift: int = 0) -> None:
    """The (department, period) pairs a record counts in; `shift` for a tuple that starts at column `shift`."""
    department, *periods = (values[position - shift] for position in _PERIOD_POSITIONS)
    for period in periods:
        if period is not None:
            touched.add((department, period))


def start_job(db: Database, request: LoadRequest, bytes_total: int | None) -> tuple[RecordImport, bool]:
    """The job for this id, ready to run; and whether it must run (False: it already finished)."""
    with db.session() as session:
        job = session.get(RecordImport, request.job_id)
        if job is not None and job.status == ImportStatus.done:
            return job, False
        if job is None:
            job = RecordImport(
                id=request.job_id,
                dataset=request.dataset,
                mapping=request.mapping,
                department=request.department,
                create_departments=request.create_departments,
                actor=request.actor,
            )
        else:
            # A hand-off tried again after a failure: start the counts afresh; what was loaded stays (upserts).
            session.execute(text("DELETE FROM record_rejection WHERE import_id = :id"), {"id": request.job_id})
            for name in ("bytes_done", "rows_read", "accepted", "updated", "unchanged", "rejected"):
                setattr(job, name, 0)
            job.error = None
        job.status = ImportStatus.running
        job.bytes_total = bytes_total
        job.started_at = utcnow()
        job.finished_at = None
        session.add(job)
        session.flush()
        return job, True


def finish_job(db: Database, job_id: str, *, error: str | None = None, recomputed: dict | None = None) -> RecordImport:
    with db.session() as session:
        job = session.get(RecordImport, job_id)
        job.status = ImportStatus.failed if error else ImportStatus.done
        job.error = error
        if recomputed is not None:
            job.recomputed = recomputed
        job.finished_at = utcnow()
        session.add(job)
        session.flush()
        return job


def load_spooled_file(db: Database, request: LoadRequest, path: Path, settings: Settings) -> RecordImport:
    """Run one import job to its end: loaded and recomputed, or failed with a reason. Never raises for bad data."""
    from services.metrics.records.compute import recompute_for_import

    loader = RecordLoader(db, request, settings.time_zone, settings.bulk_chunk_rows)
    try:
        touched = loader.run(path)
    except CityStatError as exc:
        return finish_job(db, request.job_id, error=exc.detail)
    except Exception:
        log.exception("record import %s failed", request.job_id)
        finish_job(db, request.job_id, error="The import stopped on an internal error; it can be sent again.")
        raise
    with db.session() as session:
        recomputed = recompute_for_import(session, request.dataset, touched, settings=settings)
    return finish_job(db, request.job_id, recomputed=recomputed)
