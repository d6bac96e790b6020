"""Classifying a clip that is not stored (an upload, a URL): one bounded set of slots, the work
done off the event loop one clip at a time (a clip's backbone pass already uses every core), and
each failure turned into its status and one line."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from core.features.backbones import BackboneError
from core.features.extraction import RecipeError
from core.serve.engine import ServeEngine
from core.serve.errors import ApiError, busy
from core.video.decode import VideoDecodeError
from core.video.url_fetch import FetchLimits, UrlFetchError, UrlRefused, UrlTooLarge, fetched_video


class ClipWorker:
    def __init__(self, engine: ServeEngine, slots: int, timeout_s: float) -> None:
        self.engine = engine
        self.slots = slots
        self.timeout_s = timeout_s
        self.busy_slots = 0
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="clip")

    @contextmanager
    def slot(self) -> Iterator[None]:
        """A place among the clips in progress, refused (503) when all are taken."""
        if self.busy_slots >= self.slots:
            raise busy(f"{self.slots} uploads or URLs are being classified already; retry shortly")
        self.busy_slots += 1
        try:
            yield
        finally:
            self.busy_slots -= 1

    async def run(self, work: Callable[[], np.ndarray]) -> np.ndarray:
        loop = asyncio.get_running_loop()
        try:
            return await asyncio.wait_for(loop.run_in_executor(self._executor, work), self.timeout_s)
        except TimeoutError:
            raise busy(f"the clip was not classified within {self.timeout_s:g} s") from None

    async def classify_file(self, path: Path, display_name: str, tta: bool) -> np.ndarray:
        if self.engine.recipe is None:
            raise ApiError(503, f"this server cannot classify new clips: {self.engine.recipe_problem}")
        try:
            return await self.run(lambda: self.engine.predict_clip(path, tta))
        except VideoDecodeError as exc:
            problem = f"{display_name}: {exc.problem}"
            raise ApiError(422, f"{problem}; send a video file with a few seconds of frames") from None
        except (RecipeError, BackboneError) as exc:
            raise ApiError(503, f"this server cannot classify new clips: {exc}") from None

    async def classify_url(
        self, url: str, tta: bool, limits: FetchLimits, temp_dir: Path | None, timing: dict[str, float]
    ) -> np.ndarray:
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        with contextlib.ExitStack() as stack:
            try:
                download = fetched_video(url, limits, temp_dir)
                path = await loop.run_in_executor(None, stack.enter_context, download)
            except UrlRefused as exc:
                raise ApiError(400, str(exc)) from None
            except UrlTooLarge as exc:
                raise ApiError(413, str(exc)) from None
            except UrlFetchError as exc:
                raise ApiError(422, str(exc)) from None
            timing["fetch_s"] = time.perf_counter() - started
            return await self.classify_file(path, url, tta)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
