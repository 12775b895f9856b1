"""Engine, sessions and the per-request transaction shared by every service."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import registry
from sqlalchemy.pool import NullPool
from sqlmodel import Session, SQLModel

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def service_base(name: str) -> type[SQLModel]:
    """A declarative base with its own metadata, so each service migrates only its tables."""
    base = type(f"{name.title()}Table", (SQLModel,), {}, registry=registry())
    return base


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # pysqlite's implicit transactions would start writers as readers and let them
    # deadlock on upgrade; we take control of BEGIN ourselves.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(conn) -> None:
    # A writer takes the lock up front: a deferred BEGIN that later upgrades to a writer fails at once with
    # "database is locked" when another process wrote meanwhile, instead of waiting out busy_timeout.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("sqlite_writer") else "BEGIN")


def create_db_engine(url: str, *, pooled: bool = True) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            **({} if pooled else {"poolclass": NullPool}),
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if not pooled:
        return create_engine(url, poolclass=NullPool)
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


class Database:
    """An engine plus the rule that SQLite writers take turns instead of spinning in its busy handler."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_db_engine(url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._write_lock = threading.Lock()
        self._writer_engine = self.engine.execution_options(sqlite_writer=True) if self.is_sqlite else self.engine

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        guard = self._write_lock if (write and self.is_sqlite) else nullcontext()
        engine = self._writer_engine if write else self.engine
        with guard, Session(engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request, committed before the response leaves (scope="function")."""
    db: Database = request.app.state.db
    with db.session(write=request.method not in SAFE_METHODS) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
