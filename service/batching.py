"""Requests that arrive together are answered together, off the event loop: a batcher for look-ups.

Look-ups of unsaved tracks pay a fixed cost per call (validation, normalization, hashing, most of it the
per-call overhead of vectorized kernels: about 11 ms of interpreter time for one track) that grows little with
the number of tracks in one vectorized pass (16 tracks: 17 ms). :class:`MicroBatcher` answers them on a thread of
its own, one batch at a time, and what arrives while a batch is being answered forms the next one: a lone
request goes at once, and under load batches grow by themselves so each request pays a share of the fixed
cost. The event loop only hands items over and sets results, so the calls it answers itself (stored look-ups,
listings) never wait behind a batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class MicroBatcher(Generic[Item, Result]):
    """Answers submitted items with ``answer(items) -> results`` (same length and order; an exception in place of a
    result fails only that item, an exception raised by ``answer`` fails the whole batch) run on ``executor``, one
    batch of at most ``max_batch`` items at a time (see the module docstring). Use it from one event loop."""

    def __init__(self, answer: Callable[[list[Item]], Sequence[Result | BaseException]], executor: Executor,
                 max_batch: int = 256) -> None:
        self._answer, self._executor, self._max_batch = answer, executor, max_batch
        self._pending: list[tuple[Item, asyncio.Future]] = []
        self._busy = False  # a batch is being answered, or about to be
        self.batches = 0
        """Calls of ``answer`` so far (for tests and metrics)."""

    async def submit(self, item: Item) -> Result:
        """``item``'s result, computed in a batch with whatever else is waiting."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._pending.append((item, future))
        if not self._busy:  # after this turn of the loop, so that items submitted in the same turn go together
            self._busy = True
            loop.call_soon(self._next_batch)
        return await future

    def _next_batch(self) -> None:
        """Start answering what waits (no more than ``max_batch``), or go idle when nothing does."""
        batch: list[tuple[Item, asyncio.Future]] = []
        while self._pending and not batch:
            taken, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch:]
            batch = [(item, future) for item, future in taken if not future.cancelled()]
        if not batch:
            self._busy = False
            return
        self.batches += 1
        answering = asyncio.get_running_loop().run_in_executor(self._executor, self._answer,
                                                               [item for item, _ in batch])
        answering.add_done_callback(lambda done: self._answered(batch, done))

    def _answered(self, batch: list[tuple[Item, asyncio.Future]], done: asyncio.Future) -> None:
        if done.cancelled():  # the loop is shutting down
            for _, future in batch:
                future.cancel()
            return
        error = done.exception()
        results: Sequence[Result | BaseException] = [error] * len(batch) if error is not None else done.result()
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)
        self._next_batch()
