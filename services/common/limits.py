"""Request body limit as plain ASGI middleware (Starlette sets none by default), and rate limits."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common.errors import problem_response


class _BodyTooLarge(Exception):
    pass


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


class BodySizeLimitMiddleware:
    """One limit for every route, except routes (by path ending) that take files and get their own.

    Routes in `streamed_paths` read their body as a stream (a bulk file spooled to disk): theirs is counted as it
    is read, never buffered here first, and going over the limit raises from `receive` inside the route, which
    must remove whatever it wrote (then the answer is a 413)."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        route_limits: dict[str, int] | None = None,
        streamed_paths: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.route_limits = route_limits or {}
        self.streamed_paths = tuple(streamed_paths)

    def limit_for(self, path: str) -> int:
        for ending, limit in self.route_limits.items():
            if path.endswith(ending):
                return limit
        return self.max_bytes

    def is_streamed(self, path: str) -> bool:
        return path.endswith(self.streamed_paths) if self.streamed_paths else False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        max_bytes = self.limit_for(path)
        declared = None
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > max_bytes:
                    await self._reject(max_bytes, scope, receive, send)
                    return
        if declared is None and scope.get("method") in ("POST", "PUT", "PATCH") and not self.is_streamed(path):
            # A body of unknown length (chunked) is read up to the limit before the app sees it: an app
            # that meets the limit half-way through reading says "could not parse", not 413.
            buffered = await self._read_within(max_bytes, receive)
            if buffered is None:
                await self._reject(max_bytes, scope, receive, send)
                return
            receive = _replay(buffered, receive)
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if started:
                raise
            await self._reject(max_bytes, scope, receive, send)

    @staticmethod
    async def _read_within(max_bytes: int, receive: Receive) -> list[Message] | None:
        messages, size = [], 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                return messages
            size += len(message.get("body", b""))
            if size > max_bytes:
                return None
            if not message.get("more_body", False):
                return messages

    async def _reject(self, max_bytes: int, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(413, "payload-too-large", f"The request body is larger than {max_bytes} bytes.")
        await response(scope, receive, send)


class RateLimiter:
    """A token bucket per principal, in this process's memory.

    Each process of a service keeps its own buckets, so N workers allow up to N times the rate;
    the limit protects the service from one runaway client, it is not a quota.
    """

    def __init__(self, per_minute: float, burst: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = max(1, burst)
        self._buckets: dict[str, tuple[float, float]] = {}

    def acquire(self, key: str, now: float | None = None) -> float | None:
        """Take one request's worth; None when allowed, else the seconds until one is available."""
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            return None
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / self.rate if self.rate > 0 else 60.0


class AddressLimiter(RateLimiter):
    """The token bucket keyed by client address. Anyone can bring new addresses, so buckets that have filled up
    again (the same as no bucket) are dropped once there are many: memory follows the addresses active lately."""

    prune_above = 10_000

    def acquire(self, key: str, now: float | None = None) -> float | None:
        now = time.monotonic() if now is None else now
        if len(self._buckets) >= self.prune_above and self.rate > 0:
            refilled = self.burst / self.rate
            self._buckets = {k: bucket for k, bucket in self._buckets.items() if now - bucket[1] < refilled}
        return super().acquire(key, now)


class FailureLimiter(AddressLimiter):
    """Failed authentication per key (a client address and what failed): failures take from the bucket, successes
    never do, and while it is empty the caller is refused before anything it sends is checked."""

    def wait(self, key: str, now: float | None = None) -> float | None:
        """None when `key` may try; else the seconds until it may, without taking anything."""
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(key)
        if bucket is None:
            return None
        tokens = min(float(self.burst), bucket[0] + (now - bucket[1]) * self.rate)
        return None if tokens >= 1.0 else (1.0 - tokens) / self.rate

    def failed(self, key: str, now: float | None = None) -> None:
        self.acquire(key, now)


def client_address(request: Request) -> str:
    """The address limits are kept per. Behind the proxy, uvicorn (proxy_headers) has already put the forwarded
    address here."""
    return request.client.host if request.client else "unknown"


def public_wait(request: Request) -> float | None:
    """One read of a public route by the caller's address, against the app's public limit: None when allowed, else
    the seconds to wait. The limit is a setting (PUBLIC_RATE_LIMIT_*) that load tests can raise."""
    state = request.app.state
    limiter = getattr(state, "public_limiter", None)
    if limiter is None:
        settings = state.settings
        limiter = AddressLimiter(settings.public_rate_limit_per_minute, settings.public_rate_limit_burst)
        state.public_limiter = limiter
    return limiter.acquire(client_address(request))
