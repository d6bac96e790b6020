"""Demo clips for the four classes, planned per split and written as real mp4 files.

The scenes themselves live in `core.demo.scenes` (one module per class, each registered once);
this module deals clips over a class's subcategories, seeds each clip, adds the delivery
artifacts every class shares, and encodes the result. The same seed always gives the same frames.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from core.classes import CLASS_NAMES
from core.demo.scenes import Frames, render_scene, subcategories

SUBCATEGORIES: dict[str, tuple[str, ...]] = subcategories()


@dataclass(frozen=True)
class ClipSpec:
    category: str
    subcategory: str
    seed: int
    num_frames: int = 24
    width: int = 192
    height: int = 144
    fps: int = 12
    family: int = 0
    """The scene family (the split's index): see `core.demo.scenes.registry.FAMILIES`."""


def _delivery_artifacts(frames: Frames, rng: np.random.Generator) -> Frames:
    """What happens to any video on its way to a dataset, whatever its class: low-resolution
    sources, exposure and contrast changes, letterboxing, a lower frame rate, codec blocking at
    several bitrates. Applied to every class alike, they
    take away easy cues (crispness, exact colours) without changing what the content is."""
    h, w = frames.shape[1:3]
    out = frames
    if rng.random() < 0.5:
        factor = rng.uniform(2.0, 4.0)
        small = (max(int(w / factor), 8), max(int(h / factor), 8))
        out = np.stack([cv2.resize(cv2.resize(f, small, interpolation=cv2.INTER_AREA), (w, h)) for f in out])
    if rng.random() < 0.5:
        gain, bias = rng.uniform(0.6, 1.2), rng.uniform(-40, 40)
        out = np.clip(out.astype(np.float32) * gain + bias, 0, 255).astype(np.uint8)
    if rng.random() < 0.25:
        out = out.copy()
        bar = int(h * rng.uniform(0.08, 0.15))
        out[:, :bar] = 0
        out[:, h - bar :] = 0
    if rng.random() < 0.2:  # a lower source frame rate: every frame held for 2-3 frames
        hold = int(rng.integers(2, 4))
        out = out[np.arange(len(out)) // hold * hold]
    if rng.random() < 0.6:  # lossy streaming: 8x8 blocking and ringing at a random bitrate
        quality = [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(12, 60))]
        out = np.stack([_jpeg(frame, quality) for frame in out])
    return out


def _jpeg(frame: np.ndarray, params: list[int]) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", frame, params)
    return cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if ok else frame


def render_clip(spec: ClipSpec) -> Frames:
    """The clip's frames, [num_frames, height, width, 3] uint8 RGB; same spec, same frames."""
    rng = np.random.default_rng(spec.seed)
    frames = render_scene(
        spec.category, spec.subcategory, rng, spec.num_frames, spec.height, spec.width, spec.family
    )
    return _delivery_artifacts(frames, rng)


def write_clip(path: Path, frames: Frames, fps: int) -> Path:
    """Encode RGB frames as an mp4 (MPEG-4 part 2, 'mp4v', which every OpenCV build can write)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    height, width = frames.shape[1:3]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    if not writer.isOpened():
        raise OSError(f"{path}: OpenCV could not open an mp4v video writer; check the folder is writable")
    try:
        for frame in frames:
            writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    finally:
        writer.release()
    return path


def clip_seed(seed: int, category: str, subcategory: str, index: int) -> int:
    """A per-clip seed: clips of different splits (different `seed`) never share a stream."""
    keys = [seed, CLASS_NAMES.index(category), SUBCATEGORIES[category].index(subcategory), index]
    sequence = np.random.SeedSequence(keys)
    return int(sequence.generate_state(1)[0])


def plan_clips(
    seed: int,
    clips_per_class: int,
    *,
    num_frames: int = 24,
    width: int = 192,
    height: int = 144,
    fps: int = 12,
    family: int = 0,
) -> list[ClipSpec]:
    """`clips_per_class` clips per class, dealt round-robin over its subcategories, from scene
    `family` (the split's index) where a subcategory is split by family."""
    specs = []
    for category in CLASS_NAMES:
        subcategories = SUBCATEGORIES[category]
        for index in range(clips_per_class):
            sub = subcategories[index % len(subcategories)]
            specs.append(
                ClipSpec(
                    category,
                    sub,
                    clip_seed(seed, category, sub, index),
                    num_frames,
                    width,
                    height,
                    fps,
                    family,
                )
            )
    return specs


def clip_path(root: Path, spec: ClipSpec) -> Path:
    return root / spec.category / spec.subcategory / f"{spec.subcategory}_{spec.seed:010d}.mp4"


def _render_and_write(path: Path, spec: ClipSpec) -> Path:
    return write_clip(path, render_clip(spec), spec.fps)


def _one_opencv_thread() -> None:
    # The processes already share the cores: OpenCV's own threads would only contend with them.
    cv2.setNumThreads(1)


def write_planned_clips(
    jobs: Sequence[tuple[Path, ClipSpec]],
    *,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Render and write each (path, spec), on `workers` processes when more than one. Each clip
    depends on its spec alone, so the files are the same whatever the number of workers."""
    if workers > 1 and len(jobs) > 1:
        try:
            return _write_in_processes(jobs, workers, progress)
        except BrokenProcessPool:
            # A worker could not start (e.g. a calling script without a __main__ guard, which
            # spawned workers re-run): write the clips here instead, the same files.
            pass
    paths = []
    for done, (path, spec) in enumerate(jobs, start=1):
        paths.append(_render_and_write(path, spec))
        if progress is not None:
            progress(done, len(jobs))
    return paths


def _write_in_processes(
    jobs: Sequence[tuple[Path, ClipSpec]], workers: int, progress: Callable[[int, int], None] | None
) -> list[Path]:
    # spawn, not fork: the caller may be a threaded server (the app), and forking one is unsafe.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(min(workers, len(jobs)), context, _one_opencv_thread) as pool:
        futures = [pool.submit(_render_and_write, path, spec) for path, spec in jobs]
        for done, _ in enumerate(as_completed(futures), start=1):
            if progress is not None:
                progress(done, len(jobs))
        return [future.result() for future in futures]


def generate_demo_videos(
    out_dir: str | Path,
    specs: list[ClipSpec],
    *,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Render and write every planned clip under out_dir/{category}/{subcategory}/."""
    out_dir = Path(out_dir)
    return write_planned_clips(
        [(clip_path(out_dir, s), s) for s in specs], workers=workers, progress=progress
    )
