"""The worker pool of an inference pass, and torch's thread count while passes overlap.

On CPU a pass runs its units on one worker per configured thread, each worker with one intra-op
thread. Under OpenMP, `torch.set_num_threads` sets the calling thread's count and also the
count every thread started later begins with, so giving the workers one thread changes a
process-wide setting. Passes overlap (the app's background TTA pass and a page's own pass), so
that change is shared and counted: the first pass in records the configured count, every pass
sizes its pool from that record (a thread started during another pass began with one thread),
and the last pass out restores it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import torch


class _SharedThreadCount:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._passes = 0
        self._configured = 1

    def enter(self) -> int:
        """The configured thread count, recorded by the first of the overlapping passes."""
        with self._lock:
            if self._passes == 0:
                self._configured = torch.get_num_threads()
            self._passes += 1
            return self._configured

    def configured(self) -> int:
        with self._lock:
            return self._configured if self._passes else torch.get_num_threads()

    def leave(self) -> None:
        with self._lock:
            self._passes -= 1
            if self._passes == 0:
                torch.set_num_threads(self._configured)


_SHARED = _SharedThreadCount()


def _one_intra_op_thread() -> None:
    torch.set_num_threads(1)


@contextmanager
def unit_pool(target: torch.device) -> Iterator[ThreadPoolExecutor]:
    """Workers for a pass's (batch, member) units: on CPU one per configured thread, each with
    one intra-op thread; on an accelerator one, which only queues work for the device."""
    if target.type != "cpu":
        with ThreadPoolExecutor(1) as pool:
            yield pool
        return
    workers = _SHARED.enter()
    try:
        with ThreadPoolExecutor(workers, initializer=_one_intra_op_thread) as pool:
            yield pool
    finally:
        _SHARED.leave()


def configured_cpu_threads() -> int:
    """Torch's thread count as configured: a thread started while a pass runs began with one."""
    return _SHARED.configured()
