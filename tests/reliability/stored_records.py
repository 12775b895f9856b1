"""What a bulk record import left in the service databases, for the crash test: the stored rows' count and checksum
(computed the same way as the source file's), the jobs on both sides, and each database's integrity check."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable

from sqlalchemy import text

from services.common.db import Database
from tests.conftest import DatabaseSet

# What the checksum covers, as the source file and the database both hold it.
CHECKED = ("record_id", "department", "category", "status", "opened_at", "closed_at", "due_at", "district")


def _utc(value: object) -> str:
    """A time as both sides hold it (ISO text with an offset in the file, UTC text in SQLite, a datetime from
    PostgreSQL) written one way."""
    if value is None or value == "":
        return ""
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")


def checksum(rows: Iterable[tuple]) -> tuple[int, str]:
    """Count and sha256 of rows in CHECKED order, sorted by record id, times in UTC."""
    normal = sorted(
        (str(r[0]), str(r[1]), r[2] or "", r[3] or "", _utc(r[4]), _utc(r[5]), _utc(r[6]), str(r[7] or ""))
        for r in rows
    )
    digest = hashlib.sha256()
    for row in normal:
        digest.update(("\x1f".join(row) + "\n").encode())
    return len(normal), digest.hexdigest()


def stored_rows(dbs: DatabaseSet) -> tuple[int, int, tuple[int, str]]:
    """Rows stored, distinct record ids among them, and the checksum of what is stored."""
    db = Database(dbs.urls["metrics"])
    try:
        with db.session(write=False) as session:
            rows = session.execute(
                text(f"SELECT {', '.join(CHECKED)} FROM raw_record WHERE dataset = 'service_requests'")
            ).all()
            distinct = session.execute(
                text("SELECT count(DISTINCT record_id) FROM raw_record WHERE dataset = 'service_requests'")
            ).scalar_one()
    finally:
        db.dispose()
    return len(rows), distinct, checksum(rows)


def jobs_stored(dbs: DatabaseSet) -> tuple[list[tuple], list[tuple]]:
    """Ingest's upload jobs and metrics' import jobs: one each for one file, whatever was re-sent."""
    ingest, metrics = Database(dbs.urls["ingest"]), Database(dbs.urls["metrics"])
    try:
        with ingest.session(write=False) as session:
            uploads = session.execute(text("SELECT id, status, idempotency_key, attempts FROM record_upload")).all()
        with metrics.session(write=False) as session:
            imports = session.execute(
                text("SELECT id, status, rows_read, accepted, updated, unchanged, rejected FROM record_import")
            ).all()
    finally:
        ingest.dispose()
        metrics.dispose()
    return [tuple(u) for u in uploads], [tuple(i) for i in imports]


def integrity_problems(dbs: DatabaseSet) -> list[str]:
    """SQLite: PRAGMA integrity_check and foreign_key_check on every service database. PostgreSQL: amcheck's
    bt_index_check on every B-tree index of every service database, with heapallindexed (each table row found
    in each of its indexes) for the raw-record table."""
    problems = []
    for service, url in dbs.urls.items():
        db = Database(url)
        try:
            with db.session() as session:
                if db.is_sqlite:
                    check = [r[0] for r in session.execute(text("PRAGMA integrity_check")).all()]
                    if check != ["ok"]:
                        problems.append(f"{service}: integrity_check {check[:10]}")
                    keys = session.execute(text("PRAGMA foreign_key_check")).all()
                    if keys:
                        problems.append(f"{service}: foreign_key_check {[tuple(k) for k in keys[:10]]}")
                    continue
                session.execute(text("CREATE EXTENSION IF NOT EXISTS amcheck"))
                indexes = session.execute(
                    text(
                        "SELECT c.relname, t.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                        "JOIN pg_class t ON t.oid = i.indrelid JOIN pg_am a ON a.oid = c.relam "
                        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE a.amname = 'btree' "
                        "AND n.nspname = 'public'"
                    )
                ).all()
                if service == "metrics":
                    assert {table for _, table in indexes} >= {"raw_record", "record_import"}, indexes
                for index, table in indexes:
                    try:
                        with session.begin_nested():
                            session.execute(
                                text("SELECT bt_index_check(CAST(:index AS regclass), :heap)"),
                                {"index": index, "heap": table == "raw_record"},
                            )
                    except Exception as exc:  # noqa: BLE001 - every broken index is listed, not just the first
                        problems.append(f"{service}: {index} on {table}: {exc}")
        finally:
            db.dispose()
    return problems
