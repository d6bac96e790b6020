"""The demo bundle: procedural clips -> features -> a small 4-model ensemble -> an evaluation run,
written into a project root's standard folders so every page of the app works on a fresh machine.

Splits come from disjoint generator seeds (seed*10 + 0/1/2 for train/val/test), and subcategories
whose clips are alike draw each split from its own scene family. The same seed gives identical
clips, feature files, checkpoint tensors and evaluation probabilities on one machine: every clip
depends on its own spec (whichever worker process renders it), and extraction, training and
evaluation run seeded, in this process, on a fixed number of torch threads.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from core.atomic import atomic_write_text
from core.classes import CLASS_NAMES
from core.demo.clips import clip_path, plan_clips, write_planned_clips
from core.demo.collapse import COLLAPSED_MEMBER, collapsed_member_config
from core.demo.scales import SCALES, DemoScale
from core.demo.time_left import BuildTimeLeft, probe_epoch_seconds
from core.device import default_device
from core.evaluation.runs import default_run_path, run_evaluation, save_run
from core.features.extraction import ExtractionOptions, ExtractionProgress, extract_directory
from core.features.store import load_feature_set
from core.model.checkpoints import find_ensemble_checkpoints
from core.model.tta import TTA_MODES
from core.paths import SPLITS, ProjectPaths
from core.training.ensemble import train_ensemble
from core.training.eta import Remaining, describe_remaining
from core.training.member import TrainingProgress

DemoProgress = Callable[[str, float], None]
MANIFEST_NAME = "manifest.json"
NUM_MODELS = 4
BUILD_TORCH_THREADS = 1
"""Torch's CPU threads for the whole build (extraction, training, evaluation). Float sums split
across threads round differently with their number (docs/demo.md), and the first launch builds on
whatever thread the app runs it, so the build fixes the count: the same seed then gives the same
bits. One thread also keeps a busy machine from stalling the build: OpenMP threads that wait for
each other at every operation were measured 20 times slower than one thread under load."""


class DemoError(ValueError):
    """The demo bundle cannot be built here; the message says what to do."""


@dataclass
class DemoReport:
    root: Path
    scale: str
    seed: int
    videos: dict[str, int]
    checkpoints: list[Path]
    run_path: Path
    test_metrics: dict[str, dict[str, Any]]
    stage_seconds: dict[str, float] = field(default_factory=dict)
    skipped_videos: list[tuple[str, str]] = field(default_factory=list)
    stage_cpu_seconds: dict[str, float] = field(default_factory=dict)
    """CPU time per stage, this process and its worker processes together: less sensitive than
    the wall clock to other jobs on the machine."""

    @property
    def total_seconds(self) -> float:
        return sum(self.stage_seconds.values())


MAX_RENDER_WORKERS = 4
"""Render processes at most: each holds about 250 MB (its own OpenCV, scikit-image and the
photographs, measured on the full build), and the full demo's 54 CPU seconds of rendering leave
little to gain beyond four."""


def render_workers() -> int:
    """One render process per CPU core this process may run on (its affinity, not the machine's
    count), at most MAX_RENDER_WORKERS."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return min(cores, MAX_RENDER_WORKERS)


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Torch's intra-op thread count set to `count` inside the block, restored after it."""
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


class _StageClock:
    """Wall-clock and CPU seconds of each stage of a build."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), _cpu_seconds()
        yield
        self.wall[name] = time.perf_counter() - wall
        self.cpu[name] = _cpu_seconds() - cpu


def split_seed(seed: int, split: str) -> int:
    return seed * 10 + SPLITS.index(split)


def expected_artifacts(root: str | Path) -> list[Path]:
    """The files the app needs: three feature files, four checkpoints, the history and summary."""
    paths = ProjectPaths.at(root)
    return [
        *(paths.features_file(split) for split in SPLITS),
        *(paths.checkpoint(i) for i in range(1, NUM_MODELS + 1)),
        paths.training_metrics_csv,
        paths.configuration_analysis_json,
    ]


def missing_artifacts(root: str | Path) -> list[str]:
    """What the app would lack, as paths relative to `root` (empty when everything is there)."""
    paths = ProjectPaths.at(root)
    missing = [str(p.relative_to(paths.root)) for p in expected_artifacts(root) if not p.is_file()]
    if not any(paths.runs_dir.glob("*.json")):
        missing.append("runs/*.json (an evaluation run)")
    return missing


def demo_bundle_present(root: str | Path) -> bool:
    """True when the demo build's manifest and every artifact the app needs are in place."""
    return (ProjectPaths.at(root).demo_videos_dir / MANIFEST_NAME).is_file() and not missing_artifacts(root)


class _StageProgress:
    """One overall bar for the build, with the time left measured so far."""

    def __init__(self, callback: DemoProgress | None, scale: DemoScale, device: torch.device | None) -> None:
        self.callback = callback
        clips = sum(scale.clips_per_class.values()) * len(CLASS_NAMES)
        # Timed only when someone watches: a few training batches, seconds on a loaded machine.
        epoch_s = None
        if callback is not None:
            videos = {split: count * len(CLASS_NAMES) for split, count in scale.clips_per_class.items()}
            steps = scale.recipe.sequence_length
            target = device or default_device()
            epoch_s = probe_epoch_seconds(scale.model_config, scale.training, steps, videos, target)
        self.time_left = BuildTimeLeft(clips, NUM_MODELS, scale.training.max_epochs, epoch_s)

    def _show(self, remaining: Remaining, text: str) -> None:
        if self.callback is not None:
            self.callback(f"{text} · {describe_remaining(remaining)}", self.time_left.fraction_done())

    def report(self, stage: str, done: float, text: str) -> None:
        """`done` units of `stage`: clips, videos, or (evaluate) its fraction."""
        self._show(self.time_left.update(stage, done), text)

    def epoch(self, member: int, epoch: int, text: str) -> None:
        self._show(self.time_left.epoch_done(member, epoch), text)

    def finish(self, text: str) -> None:
        if self.callback is not None:
            self.callback(text, 1.0)


# What the demo writes under data/demo/: its manifest and <split>/<category>/<sub>/<sub>_<seed>.mp4.
_DEMO_FILE = re.compile(r"(manifest\.json|[^/]+/[^/]+/([^/]+)/\2_\d{10}\.mp4)")


def foreign_demo_files(paths: ProjectPaths) -> list[Path]:
    """Files under data/demo/ that a demo build did not write: a rebuild would delete them."""
    folder = paths.demo_videos_dir
    if not folder.is_dir():
        return []
    files = (p for p in sorted(folder.rglob("*")) if p.is_file() or p.is_symlink())
    return [p for p in files if not _DEMO_FILE.fullmatch(p.relative_to(folder).as_posix())]


def remove_earlier_demo_videos(paths: ProjectPaths) -> None:
    """The files an earlier demo build wrote under data/demo/, and the folders they leave empty;
    a file the demo did not write stays, even with `--overwrite`."""
    folder = paths.demo_videos_dir
    if not folder.is_dir():
        return
    foreign = set(foreign_demo_files(paths))
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_dir() and not path.is_symlink():
            with suppress(OSError):
                path.rmdir()
        elif path not in foreign:
            path.unlink()
    with suppress(OSError):
        folder.rmdir()


def _check_target_free(paths: ProjectPaths, overwrite: bool) -> None:
    occupied = [p for p in expected_artifacts(paths.root) if p.exists()] + foreign_demo_files(paths)
    if occupied and not overwrite:
        names = ", ".join(str(p.relative_to(paths.root)) for p in occupied[:3])
        raise DemoError(
            f"{paths.root} already holds files the demo build would replace ({names}, ...). "
            "Use another root folder, or pass --overwrite to replace them"
        )


def _generate_videos(
    paths: ProjectPaths, scale: DemoScale, seed: int, stages: _StageProgress
) -> dict[str, int]:
    remove_earlier_demo_videos(paths)
    plans = {
        split: plan_clips(
            split_seed(seed, split),
            scale.clips_per_class[split],
            num_frames=scale.clip_frames,
            width=scale.width,
            height=scale.height,
            fps=scale.fps,
            family=SPLITS.index(split),
        )
        for split in SPLITS
    }
    jobs = [
        (clip_path(paths.demo_videos_dir / split, spec), spec)
        for split, specs in plans.items()
        for spec in specs
    ]

    def on_clip(done: int, count: int) -> None:
        stages.report("generate", done, f"generating clips {done}/{count}")

    write_planned_clips(jobs, workers=render_workers(), progress=on_clip)
    return {split: len(specs) for split, specs in plans.items()}


def _extract_features(
    paths: ProjectPaths,
    scale: DemoScale,
    videos: dict[str, int],
    device: torch.device | None,
    stages: _StageProgress,
) -> list[tuple[str, str]]:
    skipped: list[tuple[str, str]] = []
    before = 0
    for split in SPLITS:

        def on_video(p: ExtractionProgress, before: int = before, split: str = split) -> None:
            stages.report(
                "extract",
                before + p.done,
                f"extracting {split} features {p.done}/{videos[split]} ({p.videos_per_s:.1f} videos/s)",
            )

        report = extract_directory(
            paths.demo_videos_dir / split,
            paths.features_file(split),
            ExtractionOptions(recipe=scale.recipe, class_names=CLASS_NAMES, device=device, resume=False),
            progress=on_video,
        )
        skipped.extend(report.skipped)
        before += videos[split]
    return skipped


def _train_models(
    paths: ProjectPaths, scale: DemoScale, device: torch.device | None, stages: _StageProgress
) -> list[Path]:
    train = load_feature_set(paths.features_file("train"))
    val = load_feature_set(paths.features_file("val"))

    def on_epoch(p: TrainingProgress) -> None:
        stages.epoch(
            p.member,
            p.record.epoch,
            f"training model {p.member}/{p.num_models}, epoch {p.record.epoch}: "
            f"val acc {p.record.val_acc:.1f}%",
        )

    report = train_ensemble(
        train,
        val,
        paths.models_dir,
        num_models=NUM_MODELS,
        model_config=scale.model_config,
        config=scale.training,
        member_configs={COLLAPSED_MEMBER: collapsed_member_config(scale.training, train.class_names)},
        overwrite=True,
        device=device,
        progress=on_epoch,
    )
    return report.checkpoints


def _evaluate(
    paths: ProjectPaths, device: torch.device | None, stages: _StageProgress
) -> tuple[Path, dict[str, dict[str, Any]]]:
    def on_batch(done: int, total: int) -> None:
        stages.report("evaluate", done / max(total, 1), f"evaluating on the test split {done}/{total}")

    run = run_evaluation(
        find_ensemble_checkpoints(paths.models_dir),
        paths.features_file("test"),
        tta_modes=TTA_MODES,
        device=device,
        progress=on_batch,
    )
    run_path = save_run(run, default_run_path(paths.runs_dir, "demo"))
    return run_path, {
        name: {"accuracy": s.accuracy, "f1_weighted": s.f1_weighted, "f1_per_class": list(s.f1_per_class)}
        for name, s in run.scores.items()
    }


def build_demo_bundle(
    root: str | Path,
    *,
    seed: int = 0,
    scale: str = "full",
    overwrite: bool = False,
    device: torch.device | str | None = None,
    progress: DemoProgress | None = None,
) -> DemoReport:
    """Generate clips, extract features, train and evaluate the demo ensemble under `root`."""
    if scale not in SCALES:
        raise DemoError(f"unknown demo scale {scale!r}; choose one of {', '.join(SCALES)}")
    chosen = SCALES[scale]
    paths = ProjectPaths.at(root)
    _check_target_free(paths, overwrite)
    device = torch.device(device) if device is not None else None
    clock = _StageClock()
    with torch_threads(BUILD_TORCH_THREADS):
        # Built under the build's thread count: its training probe then times what training will do.
        stages = _StageProgress(progress, chosen, device)
        with clock.stage("generate"):
            videos = _generate_videos(paths, chosen, seed, stages)
        with clock.stage("extract"):
            skipped = _extract_features(paths, chosen, videos, device, stages)
        with clock.stage("train"):
            checkpoints = _train_models(paths, chosen, device, stages)
        with clock.stage("evaluate"):
            run_path, metrics = _evaluate(paths, device, stages)

    report = DemoReport(
        paths.root, scale, seed, videos, checkpoints, run_path, metrics, clock.wall, skipped, clock.cpu
    )
    _write_manifest(paths, chosen, report)
    stages.finish(f"demo ready in {report.total_seconds:.0f}s")
    return report


def _write_manifest(paths: ProjectPaths, scale: DemoScale, report: DemoReport) -> None:
    manifest = {
        "seed": report.seed,
        "scale": scale.to_dict(),
        "videos": report.videos,
        "split_seeds": {split: split_seed(report.seed, split) for split in SPLITS},
        "run": str(report.run_path.relative_to(paths.root)),
        "test_metrics": report.test_metrics,
        "stage_seconds": {k: round(v, 2) for k, v in report.stage_seconds.items()},
        "stage_cpu_seconds": {k: round(v, 2) for k, v in report.stage_cpu_seconds.items()},
        "skipped_videos": [list(item) for item in report.skipped_videos],
    }
    atomic_write_text(paths.demo_videos_dir / MANIFEST_NAME, json.dumps(manifest, indent=2) + "\n")
