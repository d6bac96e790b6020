"""The batcher on its own: a bounded queue refuses at once when full, and one unreadable video
fails only its own request, not the others gathered with it."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

from core.serve.batcher import QueueFull, StoredBatcher
from core.serve.engine import StoredRequest


def test_a_full_queue_refuses_and_the_waiting_are_answered():
    release = threading.Event()

    def predict(requests):
        release.wait(10)
        return [np.full((1, 1, 1), r.row, np.float32) for r in requests]

    async def scenario():
        batcher = StoredBatcher(predict, max_batch=1, max_wait_s=0, max_queue=2)
        batcher.start()
        first = asyncio.ensure_future(batcher.submit(StoredRequest(0, False)))
        await asyncio.sleep(0.01)
        while batcher.depth:
            await asyncio.sleep(0.01)  # until the worker holds the first request
        waiting = [asyncio.ensure_future(batcher.submit(StoredRequest(row, False))) for row in (1, 2)]
        await asyncio.sleep(0.01)
        assert batcher.depth == 2
        with pytest.raises(QueueFull):
            await batcher.submit(StoredRequest(3, False))
        release.set()
        answers = await asyncio.gather(first, *waiting)
        await batcher.stop()
        return [float(a.item()) for a in answers]

    assert asyncio.run(scenario()) == [0.0, 1.0, 2.0]


def test_one_bad_video_fails_only_its_own_request():
    def predict(requests):
        if any(r.row == 99 for r in requests):
            raise ValueError("video 99 has NaN")
        return [np.full((1, 1, 1), r.row, np.float32) for r in requests]

    async def scenario():
        batcher = StoredBatcher(predict, max_batch=8, max_wait_s=0.2, max_queue=8)
        batcher.start()
        answers = await asyncio.gather(
            *(batcher.submit(StoredRequest(row, False)) for row in (1, 99, 2)), return_exceptions=True
        )
        await batcher.stop()
        return answers

    good, bad, other = asyncio.run(scenario())
    assert float(good.item()) == 1.0 and float(other.item()) == 2.0
    assert isinstance(bad, ValueError) and "99" in str(bad)
