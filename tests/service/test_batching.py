"""The event-loop micro-batcher behind unsaved-track look-ups."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from catalog_er.service.batching import MicroBatcher

LANE = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-lane")


def _run(coroutine):
    return asyncio.run(coroutine)


def test_requests_waiting_together_are_answered_in_one_call_in_order() -> None:
    calls: list[list[int]] = []

    def answer(items: list[int]) -> list[int]:
        calls.append(items)
        return [item * 10 for item in items]

    async def main() -> list[int]:
        batcher = MicroBatcher(answer, LANE)
        return await asyncio.gather(*(batcher.submit(k) for k in range(5)))

    assert _run(main()) == [0, 10, 20, 30, 40]
    assert calls == [[0, 1, 2, 3, 4]]


def test_max_batch_splits_and_a_lone_request_is_answered_alone() -> None:
    calls: list[list[int]] = []

    def answer(items: list[int]) -> list[int]:
        calls.append(items)
        return items

    async def main() -> None:
        batcher = MicroBatcher(answer, LANE, max_batch=2)
        assert await asyncio.gather(*(batcher.submit(k) for k in range(5))) == [0, 1, 2, 3, 4]
        assert await batcher.submit(9) == 9

    _run(main())
    assert [len(c) for c in calls] == [2, 2, 1, 1]


def test_an_item_error_fails_that_item_only_and_a_batch_error_fails_all() -> None:
    def answer(items: list[int]) -> list[object]:
        if 99 in items:
            raise RuntimeError("index not ready")
        return [ValueError(f"bad {k}") if k == 2 else k for k in items]

    async def main() -> None:
        batcher = MicroBatcher(answer, LANE)
        results = await asyncio.gather(*(batcher.submit(k) for k in range(4)), return_exceptions=True)
        assert results[:2] == [0, 1] and results[3] == 3
        assert isinstance(results[2], ValueError) and str(results[2]) == "bad 2"
        failed = await asyncio.gather(batcher.submit(1), batcher.submit(99), return_exceptions=True)
        assert all(isinstance(error, RuntimeError) for error in failed)
        assert await batcher.submit(5) == 5  # the batcher survives

    _run(main())


def test_a_cancelled_request_is_left_out() -> None:
    seen: list[list[int]] = []

    def answer(items: list[int]) -> list[int]:
        seen.append(items)
        return items

    async def main() -> None:
        batcher = MicroBatcher(answer, LANE)
        doomed = asyncio.ensure_future(batcher.submit(1))
        kept = asyncio.ensure_future(batcher.submit(2))
        await asyncio.sleep(0)
        doomed.cancel()
        assert await kept == 2
        with pytest.raises(asyncio.CancelledError):
            await doomed

    _run(main())
    assert seen == [[2]]


def test_what_arrives_while_a_batch_is_answered_forms_the_next_and_the_loop_stays_free() -> None:
    started, release = threading.Event(), threading.Event()
    calls: list[list[int]] = []

    def answer(items: list[int]) -> list[int]:
        calls.append(items)
        if len(calls) == 1:
            started.set()
            assert release.wait(10)
        return items

    async def main() -> None:
        batcher = MicroBatcher(answer, LANE)
        first = asyncio.ensure_future(batcher.submit(0))
        while not started.is_set():  # the loop keeps turning while the first batch is answered on the lane
            await asyncio.sleep(0.001)
        later = [asyncio.ensure_future(batcher.submit(k)) for k in range(1, 6)]
        await asyncio.sleep(0.05)
        assert not any(f.done() for f in later) and len(calls) == 1  # they wait for the lane, not in a batch
        release.set()
        assert await asyncio.gather(first, *later) == [0, 1, 2, 3, 4, 5]

    _run(main())
    assert calls == [[0], [1, 2, 3, 4, 5]]
