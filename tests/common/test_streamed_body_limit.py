"""Routes that read their body as a stream are never buffered by the body limit; it is counted as they read."""

from __future__ import annotations

import asyncio

from starlette.types import Message, Receive, Scope, Send

from services.common.limits import BodySizeLimitMiddleware

CHUNK = b"x" * 1000


def _scope(path: str, headers: list[tuple[bytes, bytes]] | None = None) -> Scope:
    return {"type": "http", "method": "POST", "path": path, "headers": headers or []}


class _Client:
    """Sends a body of `chunks` chunks (no declared length: chunked) and keeps what it was sent back."""

    def __init__(self, chunks: int) -> None:
        self.left = chunks
        self.pulled = 0
        self.sent: list[Message] = []

    async def receive(self) -> Message:
        self.pulled += 1
        self.left -= 1
        return {"type": "http.request", "body": CHUNK, "more_body": self.left > 0}

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int:
        return next(m["status"] for m in self.sent if m["type"] == "http.response.start")


async def _answer(send: Send, status: int = 200) -> None:
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def _run(middleware: BodySizeLimitMiddleware, scope: Scope, client: _Client) -> None:
    asyncio.run(middleware(scope, client.receive, client.send))


async def _reads_one_chunk(_scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    await _answer(send)


def test_a_streamed_route_sees_its_first_chunk_before_the_rest_arrives():
    middleware = BodySizeLimitMiddleware(_reads_one_chunk, 1_000_000, streamed_paths=("/records",))
    streamed = _Client(chunks=50)
    _run(middleware, _scope("/api/ingest/records"), streamed)
    assert (streamed.status, streamed.pulled) == (200, 1)
    # Every other route keeps the old way: its chunked body is read (within the limit) before the app runs.
    buffered = _Client(chunks=50)
    _run(middleware, _scope("/api/ingest/submissions/csv"), buffered)
    assert (buffered.status, buffered.pulled) == (200, 50)


def test_a_streamed_route_over_its_limit_is_stopped_while_reading_and_answered_413():
    cleaned: list[int] = []

    async def spools(_scope: Scope, receive: Receive, send: Send) -> None:
        written = 0
        try:
            while True:
                message = await receive()
                written += len(message.get("body", b""))
                if not message.get("more_body"):
                    break
        except BaseException:
            cleaned.append(written)  # the route removes what it wrote, then lets the error go
            raise
        await _answer(send, 202)

    middleware = BodySizeLimitMiddleware(spools, 1_000, route_limits={"/records": 10_500}, streamed_paths=("/records",))
    client = _Client(chunks=50)
    _run(middleware, _scope("/api/ingest/records"), client)
    assert client.status == 413
    # Stopped at the chunk that crossed the limit, not after the whole body.
    assert client.pulled == 11 and cleaned == [10_000]
    body = b"".join(m.get("body", b"") for m in client.sent if m["type"] == "http.response.body")
    assert b"10500 bytes" in body

    within = _Client(chunks=10)
    _run(middleware, _scope("/api/ingest/records"), within)
    assert within.status == 202


def test_a_declared_length_over_the_limit_is_refused_before_reading():
    middleware = BodySizeLimitMiddleware(_reads_one_chunk, 1_000, streamed_paths=("/records",))
    client = _Client(chunks=5)
    _run(middleware, _scope("/api/ingest/records", [(b"content-length", b"5000")]), client)
    assert (client.status, client.pulled) == (413, 0)
