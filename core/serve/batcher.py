"""Dynamic batching: stored-video requests that arrive together are gathered, up to a batch size
or a short wait, and predicted in one pass, so many clients cost about one pass per batch. The
queue in front is bounded: past it a request is refused at once instead of piling up memory."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from core.serve.engine import StoredRequest

Predict = Callable[[Sequence[StoredRequest]], list[np.ndarray]]
_Pending = tuple[StoredRequest, asyncio.Future]


class QueueFull(Exception):
    """More requests wait than the queue holds."""


class StoredBatcher:
    def __init__(
        self,
        predict: Predict,
        *,
        max_batch: int,
        max_wait_s: float,
        max_queue: int,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        if max_batch < 1 or max_queue < 1 or max_wait_s < 0:
            raise ValueError("batch size and queue length must be at least 1 and the wait not negative")
        self._predict = predict
        self._max_batch = max_batch
        self._max_wait_s = max_wait_s
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue(maxsize=max_queue)
        self._on_batch = on_batch
        # One batch at a time: a pass already spreads over every core (core.model.cpu_threads),
        # and requests arriving meanwhile make the next batch bigger.
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="batch")
        self._task: asyncio.Task | None = None

    @property
    def depth(self) -> int:
        """Requests waiting for a batch."""
        return self._queue.qsize()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def submit(self, request: StoredRequest) -> np.ndarray:
        """The request's probabilities [members, modes, classes]; raises QueueFull at once when
        the queue is full."""
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        try:
            self._queue.put_nowait((request, future))
        except asyncio.QueueFull:
            raise QueueFull from None
        return await future

    async def _gather(self) -> list[_Pending]:
        batch = [await self._queue.get()]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._max_wait_s
        while len(batch) < self._max_batch:
            try:
                batch.append(self._queue.get_nowait())
                continue
            except asyncio.QueueEmpty:
                pass
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(self._queue.get(), remaining))
            except TimeoutError:
                break
        # Requests whose caller gave up (timed out, disconnected) are not computed.
        return [(request, future) for request, future in batch if not future.done()]

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = await self._gather()
            if not batch:
                continue
            if self._on_batch is not None:
                self._on_batch(len(batch))
            requests = [request for request, _ in batch]
            try:
                results = await loop.run_in_executor(self._executor, self._predict, requests)
            except Exception:
                # One unreadable video must not fail the others gathered with it.
                await self._answer_one_by_one(batch)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def _answer_one_by_one(self, batch: list[_Pending]) -> None:
        loop = asyncio.get_running_loop()
        for request, future in batch:
            try:
                (result,) = await loop.run_in_executor(self._executor, self._predict, [request])
            except Exception as exc:
                if not future.done():
                    future.set_exception(exc)
                continue
            if not future.done():
                future.set_result(result)
