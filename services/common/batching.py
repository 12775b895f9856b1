"""Group commit: concurrent requests hand their writes to one worker that does them together.

While the worker is busy with one group, the next requests queue up and become the next group, so
under load one transaction (or one HTTP call) carries many requests' work, and with one request in
flight it carries just that one: there is no waiting for a group to fill.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

log = logging.getLogger("citystat.batching")

Item = TypeVar("Item")
Result = TypeVar("Result")

# What a group's handler answers per item: its result, or the exception that item's caller should get.
Outcome = Result | BaseException


class GroupWorker(Generic[Item, Result]):
    def __init__(
        self,
        name: str,
        handle: Callable[[list[Item]], Awaitable[list[Outcome]]],
        max_group: int = 256,
        weight: Callable[[Item], int] | None = None,
        max_weight: int | None = None,
    ) -> None:
        self.name = name
        self._handle = handle
        self._max_group = max_group
        # A group also stops growing at max_weight (e.g. rows), though it always takes one item.
        self._weight = weight or (lambda _item: 1)
        self._max_weight = max_weight
        self._held: tuple[Item, asyncio.Future] | None = None
        self._busy = False
        self._queue: asyncio.Queue[tuple[Item, asyncio.Future]] = asyncio.Queue()
        self._task: asyncio.Task | None = None
        # How well grouping works under the current load: items / groups is the mean group size.
        self.groups = 0
        self.items = 0
        self.busy_seconds = 0.0

    async def __aenter__(self) -> GroupWorker[Item, Result]:
        self._task = asyncio.create_task(self._run(), name=f"group worker {self.name}")
        return self

    async def __aexit__(self, *_exc) -> None:
        # Work already queued gets a moment to be done before the worker stops.
        for _ in range(200):
            if self._queue.empty() and self._held is None and not self._busy:
                break
            await asyncio.sleep(0.01)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        # Whoever still waits must hear that nothing was done for them.
        waiting = [self._held] if self._held else []
        while not self._queue.empty():
            waiting.append(self._queue.get_nowait())
        for _, future in waiting:
            if not future.done():
                future.set_exception(RuntimeError(f"{self.name} stopped before this was handled"))

    def stats(self) -> str:
        """Mean items per group and mean milliseconds per group, e.g. "12.3 per group, 4.1 ms"."""
        if not self.groups:
            return "idle"
        return f"{self.items / self.groups:.1f} per group, {1000 * self.busy_seconds / self.groups:.1f} ms"

    async def do(self, item: Item) -> Result:
        if self._task is None or self._task.done():
            raise RuntimeError(f"{self.name} is not running")
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        await self._queue.put((item, future))
        return await future

    async def _run(self) -> None:
        while True:
            first, self._held = (self._held or await self._queue.get()), None
            group = [first]
            weight = self._weight(first[0])
            while len(group) < self._max_group and not self._queue.empty():
                entry = self._queue.get_nowait()
                weight += self._weight(entry[0])
                if self._max_weight is not None and weight > self._max_weight:
                    self._held = entry  # it starts the next group
                    break
                group.append(entry)
            # Callers that gave up (a cancelled request) are left out.
            group = [(item, future) for item, future in group if not future.cancelled()]
            if not group:
                continue
            self.groups += 1
            self.items += len(group)
            started = time.perf_counter()
            self._busy = True
            try:
                outcomes = await self._handle([item for item, _ in group])
            except Exception as exc:  # noqa: BLE001 - each caller gets the failure; the worker lives on
                log.exception("%s: a group of %d failed", self.name, len(group))
                outcomes = [exc] * len(group)
            finally:
                self._busy = False
            self.busy_seconds += time.perf_counter() - started
            for (_, future), outcome in zip(group, outcomes, strict=True):
                if future.done():
                    continue
                if isinstance(outcome, BaseException):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)
