"""The shared Database: SQLite writers that take turns across processes, not only across threads."""

import sqlite3

import pytest
from sqlalchemy import text

from services.common.db import Database


@pytest.fixture
def sqlite_db(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'turns.db'}")
    with db.session() as session:
        session.execute(text("CREATE TABLE t (n INTEGER)"))
    yield db, tmp_path / "turns.db"
    db.dispose()


def _other_process_can_write(path) -> bool:
    # Another process's connection, with no busy wait: does it get the write lock right now?
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc)
        return False
    finally:
        other.close()


def test_a_write_session_holds_the_write_lock_from_its_first_statement(sqlite_db):
    db, path = sqlite_db
    with db.session() as session:
        # Only a read so far: a deferred BEGIN would not have the lock yet, and its later upgrade to a
        # writer would fail at once ("database is locked") if another process wrote in between.
        assert session.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
        assert not _other_process_can_write(path)
        session.execute(text("INSERT INTO t VALUES (1)"))
    assert _other_process_can_write(path)


def test_a_read_session_leaves_the_write_lock_free(sqlite_db):
    db, path = sqlite_db
    with db.session(write=False) as session:
        assert session.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
        assert _other_process_can_write(path)
