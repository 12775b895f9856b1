"""The audit trails of ingest and metrics are append-only in the database itself (migrations ingest 0005 and
metrics 0007): an UPDATE, a DELETE (and on PostgreSQL a TRUNCATE) of audit_event fails whoever sends it, on this
pass's engine; going one migration down lifts the refusal and coming back up restores it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from services.common.auth import OPERATOR
from services.common.db import Database
from services.common.migrations import alembic_config, upgrade
from services.ingest.audit.service import record as record_ingest
from services.metrics.audit.service import record as record_metrics
from tests.conftest import DATABASE, POSTGRES_URL, _postgres_admin

RECORD = {"ingest": record_ingest, "metrics": record_metrics}
# The revision that made each audit trail append-only.
REVISION = {"ingest": "0005", "metrics": "0007"}


def _one_event(db: Database, service: str) -> int:
    with db.session() as session:
        RECORD[service](session, OPERATOR, "test.recorded", department="DPW", subject="first")
    with db.session(write=False) as session:
        return session.execute(text("SELECT id FROM audit_event WHERE action = 'test.recorded'")).scalar_one()


def _refused(db: Database, statement: str) -> str:
    with pytest.raises(DBAPIError) as refused:
        with db.session() as session:
            session.execute(text(statement))
    return str(refused.value.orig)


@pytest.mark.parametrize("service", sorted(RECORD))
def test_audit_rows_cannot_be_changed_or_removed(clean_db, service):
    db = Database(clean_db.urls[service])
    try:
        event_id = _one_event(db, service)
        assert "append-only" in _refused(db, f"UPDATE audit_event SET subject = 'rewritten' WHERE id = {event_id}")
        assert "append-only" in _refused(db, "UPDATE audit_event SET actor = 'user:1'")
        assert "append-only" in _refused(db, f"DELETE FROM audit_event WHERE id = {event_id}")
        assert "append-only" in _refused(db, "DELETE FROM audit_event")
        if DATABASE == "postgresql":
            assert "append-only" in _refused(db, "TRUNCATE audit_event")
        with db.session(write=False) as session:
            rows = session.execute(text("SELECT id, subject, actor FROM audit_event")).all()
        assert [tuple(r) for r in rows] == [(event_id, "first", "operator")]
        # Appending still works, which is the whole point.
        with db.session() as session:
            RECORD[service](session, OPERATOR, "test.recorded", subject="second")
        with db.session(write=False) as session:
            assert session.execute(text("SELECT count(*) FROM audit_event")).scalar_one() == 2
    finally:
        db.dispose()


@contextmanager
def _fresh_database(tmp_path, service: str) -> Iterator[str]:
    """One service's database alone, at head, on this pass's engine."""
    if DATABASE == "sqlite":
        url = f"sqlite:///{tmp_path / f'{service}.db'}"
    else:
        name = f"appendonly_{service}_{uuid.uuid4().hex[:8]}"
        with _postgres_admin() as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        url = make_url(POSTGRES_URL).set(database=name).render_as_string(False)
    try:
        upgrade(service, url)
        yield url
    finally:
        if DATABASE != "sqlite":
            with _postgres_admin() as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.parametrize("service", sorted(RECORD))
def test_the_migration_goes_down_and_up(tmp_path, service):
    with _fresh_database(tmp_path, service) as url:
        _down_and_up(url, service)


def _down_and_up(url: str, service: str) -> None:
    db = Database(url)
    try:
        config = alembic_config(service, url)
        event_id = _one_event(db, service)
        previous = f"{int(REVISION[service]) - 1:04d}"
        command.downgrade(config, previous)
        db.dispose()  # connections made before the downgrade may have the old schema cached (SQLite)
        with db.session() as session:
            session.execute(text(f"UPDATE audit_event SET subject = 'changed' WHERE id = {event_id}"))
        command.upgrade(config, "head")
        db.dispose()
        assert "append-only" in _refused(db, f"DELETE FROM audit_event WHERE id = {event_id}")
        with db.session(write=False) as session:
            assert session.execute(text("SELECT subject FROM audit_event")).scalar_one() == "changed"
    finally:
        db.dispose()
