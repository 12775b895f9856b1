"""The open-data query time limit: a runaway query is cut off with a reason the client can act on, and on SQLite
what counts is the query's own work, not time spent waiting for a core on a busy server."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from services.common.db import Database
from services.metrics.opendata.executor import STATEMENT_TIMEOUT_SECONDS, client_fault, query_time_limit
from services.metrics.opendata.registry import SourceContext

# Counting to a hundred million by recursion: minutes of work on either engine, unless something stops it.
RUNAWAY = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000000) SELECT count(*) FROM c"


def _context(db: Database) -> SourceContext:
    return SourceContext(dialect=db.engine.dialect.name, time_zone="America/New_York")


def test_a_runaway_query_is_cut_off_with_a_reason_for_the_client(metrics_db):
    started = time.monotonic()
    with metrics_db.session(write=False) as session, pytest.raises(DBAPIError) as cut_off:  # noqa: PT012
        with query_time_limit(session, _context(metrics_db), 0.3):
            session.execute(text(RUNAWAY)).all()
    assert time.monotonic() - started < 30, "the limit did not stop the query"
    assert client_fault(cut_off.value) == (
        f"The query needed more than {STATEMENT_TIMEOUT_SECONDS:g} seconds of the database's time; ask for less."
    )


def test_on_sqlite_time_spent_waiting_is_not_counted(tmp_path):
    """A query that waits half a second (as it would for a core under load) and then does a little work finishes
    under a 0.2 s limit: the limit is the thread's processor time. A clock would have cut it off."""
    db = Database(f"sqlite:///{tmp_path / 'limit.db'}")
    try:
        with db.session(write=False) as session:
            connection = session.connection().connection.driver_connection
            connection.create_function("wait_once", 1, lambda x: time.sleep(0.5) if x == 1 else None)
            started = time.monotonic()
            with query_time_limit(session, _context(db), 0.2):
                # Enough rows after the wait for the progress handler to be asked many times.
                counted = session.execute(text(
                    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000) "
                    "SELECT count(wait_once(x)) + count(*) FROM c"
                )).scalar_one()  # fmt: skip
            assert time.monotonic() - started >= 0.5
            assert counted == 200000
    finally:
        db.dispose()
