"""Engine, sessions and the per-request transaction shared by every service."""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Annotated

import anyio
import anyio.to_thread
from fastapi import Depends, Request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import registry
from sqlalchemy.pool import NullPool, QueuePool
from sqlmodel import Session, SQLModel
from starlette.concurrency import run_in_threadpool

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Write sessions closed in this process, per database: what a cache of a figure read from the database compares
# to know whether it may still hold (see write_generation).
_write_generations: dict[object, int] = {}
_generations_lock = threading.Lock()


def write_generation(url: object) -> int:
    """How many write sessions on the database at `url` (an engine's URL) this process has closed so far. Writes by
    other processes are not counted: a cache keyed on it must also expire with time."""
    return _write_generations.get(url, 0)


def _wrote(url: object) -> None:
    with _generations_lock:
        _write_generations[url] = _write_generations.get(url, 0) + 1


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
        self.request_seats = _request_seats(self.engine)
        self._seats: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )
        self._seats_lock = threading.Lock()

    def seats(self) -> asyncio.Semaphore | None:
        """The running event loop's seats for requests' sessions (None: the pool has no limit to guard)."""
        if self.request_seats is None:
            return None
        loop = asyncio.get_running_loop()
        with self._seats_lock:
            seats = self._seats.get(loop)
            if seats is None:
                seats = self._seats[loop] = asyncio.Semaphore(self.request_seats)
            return seats

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        guard = self._write_lock if (write and self.is_sqlite) else nullcontext()
        engine = self._writer_engine if write else self.engine
        try:
            with guard, Session(engine, expire_on_commit=False) as session:
                try:
                    yield session
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
        finally:
            if write:
                _wrote(self.engine.url)

    def dispose(self) -> None:
        self.engine.dispose()


def _request_seats(engine: Engine) -> int | None:
    """How many requests may hold a session of this pool at once: its size less a reserve.

    A request's session keeps its connection from its first query until the commit, across several trips through
    the thread pool (dependencies, the endpoint, serialising the answer, the commit), and between trips it waits for a
    free thread. Under load every thread could be waiting for a connection while every connection belonged to a
    request waiting for a thread: nothing moved until the pool's 30 s timeout failed them (seen with 200 users).
    With fewer seats than connections, some connections are always free or held by a thread that is running, so
    each thread waiting for one gets it; requests beyond the seats wait in the event loop, holding nothing.
    """
    pool = engine.pool
    if not isinstance(pool, QueuePool) or pool._max_overflow < 0:
        return None
    capacity = pool.size() + pool._max_overflow
    # The reserve serves background loops and the sessions code opens itself (health checks, open-data queries).
    return max(1, capacity - max(2, capacity // 4))


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request, committed before the response leaves (scope="function"), once a seat is free."""
    db: Database = request.app.state.db
    seats = db.seats()
    async with seats if seats is not None else nullcontext():
        manager = db.session(write=request.method not in SAFE_METHODS)
        # Entering may wait for SQLite's write lock, and leaving commits: both block, so both run in threads. Both are
        # shielded, so a request cancelled by its client still rolls back and hands back its connection and the
        # write lock (a cancelled wait would leave the thread to take the lock for nobody). Leaving has a thread of
        # its own, as FastAPI gives sync dependencies, so a commit never queues behind requests waiting for the pool.
        with anyio.CancelScope(shield=True):
            session = await run_in_threadpool(manager.__enter__)
        own_thread = anyio.CapacityLimiter(1)
        try:
            yield session
        except BaseException as exc:
            with anyio.CancelScope(shield=True):
                suppressed = await anyio.to_thread.run_sync(
                    manager.__exit__, type(exc), exc, exc.__traceback__, limiter=own_thread
                )
            if not suppressed:
                raise
        else:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(manager.__exit__, None, None, None, limiter=own_thread)


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
