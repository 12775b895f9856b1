"""Many more requests at once than the pool has connections and the thread pool has threads: every one is answered.

Found by the load test (test_locust_load.py): a request's session keeps its connection across several trips
through the thread pool, so with the threads all waiting for a connection and the connections all held by requests
waiting for a thread, nothing moved until SQLAlchemy's 30 s pool timeout answered 500s. Requests now take a seat
before their session (services.common.db.get_session). Runs on the pass's engine: the pool's size is the engine's.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from services.common.db import Database, SessionDep

REQUESTS = 300


def _app(db: Database) -> FastAPI:
    app = FastAPI()
    app.state.db = db

    @app.get("/read")
    def read(session: SessionDep) -> dict:
        session.execute(text("SELECT 1"))
        time.sleep(0.005)  # a little work in the thread while the connection is held
        return {"ok": True}

    return app


def test_requests_beyond_the_pool_and_the_threads_wait_for_a_seat_and_are_all_answered(database_set):
    db = Database(database_set.urls["metrics"])
    assert db.request_seats is not None and db.request_seats < db.engine.pool.size() + db.engine.pool._max_overflow

    async def burst() -> Counter:
        transport = httpx.ASGITransport(app=_app(db), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=120) as client:
            answers = await asyncio.gather(*(client.get("/read") for _ in range(REQUESTS)), return_exceptions=True)
        return Counter(getattr(answer, "status_code", type(answer).__name__) for answer in answers)

    started = time.monotonic()
    try:
        statuses = asyncio.run(burst())
    finally:
        db.dispose()
    elapsed = time.monotonic() - started
    # Before the seats, 251 of 300 (SQLite) and 233 of 300 (PostgreSQL) were 500s, once the pool's timeout ran out.
    assert statuses == Counter({200: REQUESTS}), statuses
    assert elapsed < 25, f"{REQUESTS} requests took {elapsed:.1f} s: some waited out the pool's timeout"
