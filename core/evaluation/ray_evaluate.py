"""Evaluation on a Ray cluster (`python -m core evaluate --engine ray`).

`run_evaluation` checks the members and the features file in the driver, as for the local
engine, and hands the prediction to `RayEvaluation`: a Ray Data pipeline gives row ranges of the
features file to a pool of actors. Each actor loads the ensemble once (one GPU each when the
cluster has GPUs), reads only its rows, predicts them with the local engine's `predict_split`
(every member, every mode) and lands the probabilities as a shard, an `.npy` file named by the
evaluation and its rows, in a shard folder beside the run. The driver then fills the run's
probabilities from the shards by row, so the run equals the local engine's. It holds the output
and one shard at a time, never the features.

Shards outlive an interrupted run and land through the same fence as extraction's shards
(core.features.ray_engine). Running the same evaluation again (same members, features file and
modes, by path, size and modification time) predicts only the rows no shard holds; shards of any
other evaluation can never be used and are deleted when a run starts.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import ray
import ray.data

from core.atomic import atomic_path
from core.evaluation.runs import EvaluationError, Placement, ProgressCallback
from core.features.ray_engine import (
    MAX_INPUT_BLOCKS,
    connect,
    default_shard_dir,
    end_earlier_runs,
    end_run,
    landing,
    remove_shards,
    start_run,
)
from core.features.store import FeatureFile, chunk_rows
from core.model.ensemble import load_ensemble
from core.model.inference import predict_split

RAY_ENGINE = "ray"
SHARD_SUFFIX = ".npy"
SHARDS_PER_ACTOR = 4
"""Below this many shards per actor, shards are made smaller so that every actor gets work."""
_SHARD_NAME = re.compile(r"^([0-9a-f]{16})-(\d{12})-(\d{12})\.npy$")


def evaluation_key(checkpoints: Sequence[Path], features: Path, modes: Sequence[str]) -> str:
    """Names one evaluation's shards: its files by path, size and modification time (hashing a
    million videos' features would cost as much as a pass over them), and its modes."""
    files = []
    for path in [features, *checkpoints]:
        stat = Path(path).stat()
        files.append([str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns])
    document = json.dumps({"files": files, "modes": list(modes)})
    return hashlib.sha256(document.encode()).hexdigest()[:16]


def shard_path(shard_dir: Path, key: str, start: int, stop: int) -> Path:
    return shard_dir / f"{key}-{start:012d}-{stop:012d}{SHARD_SUFFIX}"


@dataclass(frozen=True)
class Shard:
    path: Path
    key: str
    start: int
    stop: int


def list_shards(shard_dir: Path) -> list[Shard]:
    """Every evaluation shard in the folder, by evaluation and first row."""
    shards = []
    for path in sorted(shard_dir.glob(f"*{SHARD_SUFFIX}")) if shard_dir.is_dir() else []:
        match = _SHARD_NAME.match(path.name)
        if match:
            shards.append(Shard(path, match[1], int(match[2]), int(match[3])))
    return shards


def missing_ranges(num_videos: int, finished: Sequence[Shard], rows_per_shard: int) -> list[tuple[int, int]]:
    """The row ranges no finished shard covers, cut into ranges of at most `rows_per_shard`."""
    ranges, position = [], 0
    for shard in [*sorted(finished, key=lambda s: s.start), Shard(Path(), "", num_videos, num_videos)]:
        for start in range(position, shard.start, rows_per_shard):
            ranges.append((start, min(start + rows_per_shard, shard.start)))
        position = max(position, shard.stop)
    return ranges


class EnsembleActor:
    """Holds the ensemble and the open features file for the actor's lifetime; predicts one row
    range per call and lands it as a shard.

    A problem with the files (a checkpoint changed since the driver checked it, NaN in the rows)
    comes back as the row's `error`, the local engine's one-line message: Ray Data would wrap an
    exception into a traceback that no longer holds the original one."""

    def __init__(
        self, checkpoints: list[str], features: str, modes: list[str], batch_size: int, device: str, key: str
    ) -> None:
        self.modes = tuple(modes)
        self.batch_size = batch_size
        self.device = device
        self.key = key
        self.problem = ""
        try:
            self.models = load_ensemble([Path(p) for p in checkpoints], device, strict=True).models
            self.features = FeatureFile(features)
        except (ValueError, OSError) as exc:
            self.problem = str(exc)

    def __call__(self, row: dict[str, Any]) -> dict[str, Any]:
        start, stop = int(row["start"]), int(row["stop"])
        result = {"start": start, "stop": stop, "error": self.problem}
        if self.problem:
            return result
        try:
            rows = self.features.read_range(start, stop)
            probabilities = predict_split(self.models, rows, self.modes, self.batch_size, self.device)
        except (ValueError, OSError) as exc:
            return {**result, "error": str(exc)}
        marker = Path(row["marker"])
        with landing(marker) as live:
            if live:
                with (
                    atomic_path(shard_path(marker.parent, self.key, start, stop)) as tmp,
                    tmp.open("wb") as out,
                ):
                    np.save(out, probabilities, allow_pickle=False)
        return result


@dataclass(frozen=True)
class ActorPlan:
    size: int
    device: str
    gpus_per_actor: int


def plan_evaluation_actors(resources: dict[str, float], actors: int | None, device: str | None) -> ActorPlan:
    """One actor per GPU where the cluster has GPUs, else one per CPU: reading a row range costs
    little next to predicting it, so no CPUs are kept back for other stages."""
    gpus = int(resources.get("GPU", 0))
    if device == "cuda" and gpus == 0:
        raise EvaluationError("--device cuda, but the Ray cluster has no GPUs")
    if gpus and device != "cpu":
        return ActorPlan(actors or gpus, "cuda", 1)
    return ActorPlan(actors or max(1, int(resources.get("CPU", 1))), "cpu", 0)


@dataclass(frozen=True)
class _Job:
    key: str
    checkpoints: list[Path]
    features: FeatureFile
    modes: tuple[str, ...]
    batch_size: int


def _cluster_address() -> str:
    return str(ray.get_runtime_context().gcs_address)


@dataclass(frozen=True)
class RayEvaluation:
    """A `SplitEngine` (core.evaluation.runs) on a Ray cluster."""

    shard_dir: Path
    address: str | None = None
    """Cluster to join (`auto`, `ray://host:10001`, `host:6379`); None: RAY_ADDRESS, else a local one."""
    actors: int | None = None
    """Default: one per cluster GPU, else one per CPU."""
    device: str | None = None
    rows_per_shard: int | None = None
    """Default: a streamed chunk of the file (core.features.store.chunk_rows), smaller when
    that would leave actors idle."""
    keep_shards: bool = True
    """Whether an interrupted or failed run leaves its shards for the next run to resume from."""
    stay_connected: bool = False
    """Keep this process joined to the cluster after the run: the app's runs may overlap, and one
    that ended must not disconnect another."""

    @classmethod
    def beside(cls, run_path: Path, **options: Any) -> RayEvaluation:
        """Shards in `<run>.shards/` beside the run file."""
        return cls(default_shard_dir(Path(run_path)), **options)

    def __call__(
        self,
        checkpoints: Sequence[Path],
        features: FeatureFile,
        modes: tuple[str, ...],
        batch_size: int,
        progress: ProgressCallback | None,
    ) -> tuple[np.ndarray, Placement]:
        key = evaluation_key(checkpoints, features.path, modes)
        end_earlier_runs(self.shard_dir)
        shards = list_shards(self.shard_dir)
        remove_shards(self.shard_dir, [s.path for s in shards if s.key != key], SHARD_SUFFIX)
        finished = [s for s in shards if s.key == key]
        shape = (len(checkpoints), len(modes), features.num_videos, len(features.class_names))
        connected = connect(self.address)
        try:
            plan = plan_evaluation_actors(ray.cluster_resources(), self.actors, self.device)
            todo = missing_ranges(features.num_videos, finished, self._rows_per_shard(features, plan))
            if todo:
                job = _Job(key, list(checkpoints), features, modes, batch_size)
                self._predict_into_shards(todo, job, plan, progress)
            placement = Placement(plan.device, RAY_ENGINE, _cluster_address())
        finally:
            if connected and not self.stay_connected:
                ray.shutdown()
        return self._merge(key, shape), placement

    def _rows_per_shard(self, features: FeatureFile, plan: ActorPlan) -> int:
        if self.rows_per_shard:
            return self.rows_per_shard
        spread = math.ceil(features.num_videos / (plan.size * SHARDS_PER_ACTOR))
        return max(1, min(chunk_rows(features.max_frames, features.feature_dim), spread))

    def _predict_into_shards(
        self,
        todo: list[tuple[int, int]],
        job: _Job,
        plan: ActorPlan,
        progress: ProgressCallback | None,
    ) -> None:
        """However it ends, no shard of this run lands after it returns or raises; one that
        fails or is interrupted keeps its shards only with `keep_shards`."""
        self.shard_dir.mkdir(parents=True, exist_ok=True)
        marker = start_run(self.shard_dir)
        sequences_per_video = len(job.checkpoints) * len(job.modes)
        total = sequences_per_video * job.features.num_videos
        done = total - sequences_per_video * sum(stop - start for start, stop in todo)
        rows = [{"start": start, "stop": stop, "marker": str(marker)} for start, stop in todo]
        pipeline = ray.data.from_items(rows, override_num_blocks=max(1, min(len(rows), MAX_INPUT_BLOCKS)))
        pipeline = pipeline.map(
            EnsembleActor,
            fn_constructor_kwargs={
                "checkpoints": [str(Path(p).resolve()) for p in job.checkpoints],
                "features": str(job.features.path.resolve()),
                "modes": list(job.modes),
                "batch_size": job.batch_size,
                "device": plan.device,
                "key": job.key,
            },
            compute=ray.data.ActorPoolStrategy(size=plan.size),
            num_cpus=1,
            num_gpus=plan.gpus_per_actor,
        )
        if progress is not None:
            pipeline.context.enable_progress_bars = False
        try:
            # Closing the iterator shuts the pipeline down at once: Ray Data cancels the running
            # tasks and kills the actor pool; the run's end below fences off a late shard.
            with closing(iter(pipeline.iter_rows())) as results:
                for row in results:
                    if row["error"]:
                        raise EvaluationError(str(row["error"]))
                    done += sequences_per_video * (int(row["stop"]) - int(row["start"]))
                    if progress is not None:
                        progress(done, total)
        except BaseException:
            end_run(marker)
            if not self.keep_shards:
                remove_shards(self.shard_dir, [s.path for s in list_shards(self.shard_dir)], SHARD_SUFFIX)
            raise
        end_run(marker)

    def _merge(self, key: str, shape: tuple[int, int, int, int]) -> np.ndarray:
        """The run's probabilities from its shards, read one at a time; the shards are then deleted."""
        shards = [shard for shard in list_shards(self.shard_dir) if shard.key == key]
        out = np.zeros(shape, np.float32)
        covered = np.zeros(shape[2], bool)
        for shard in shards:
            part = np.load(shard.path, allow_pickle=False)
            expected = (*shape[:2], shard.stop - shard.start, shape[3])
            if part.shape != expected:
                raise EvaluationError(f"{shard.path}: probabilities shaped {part.shape}, expected {expected}")
            out[:, :, shard.start : shard.stop] = part
            covered[shard.start : shard.stop] = True
        if not covered.all():
            first = int(np.argmin(covered))
            raise EvaluationError(f"{self.shard_dir}: no shard holds row {first}; run the evaluation again")
        remove_shards(self.shard_dir, [s.path for s in shards], SHARD_SUFFIX)
        return out
