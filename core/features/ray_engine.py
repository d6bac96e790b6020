"""Folder extraction on a Ray cluster (`python -m core extract --engine ray`).

A Ray Data pipeline: the listed videos are decoded and sampled in CPU tasks, the backbone runs
in an actor pool (one GPU per actor when the cluster has GPUs), and CPU tasks write the results
as shards, small feature files of their own, into a shard folder. The driver then merges the
shards in listing order into the one feature file (docs/formats.md), so the output has the same rows,
order, names, labels and recipe as the local engine's. Shards outlive an interrupted run: a
resumed run skips the videos already in the output or in a shard and merges everything at the
end. On a multi-node cluster the shard folder and the videos must be on storage every node sees
(with file locks, which fence each run's shards).

An interrupted run stops its pipeline (Ray Data cancels the running tasks and kills the actor
pool) and ends its run before re-raising. Cancelling is asynchronous, so shards land through a
fence: a task lands one only under a shared lock on its run's marker file, and ending a run
takes the exclusive lock and deletes the marker. Once a run has ended (and a new run ends every
earlier one before it indexes the folder), none of its shards can appear.
"""

from __future__ import annotations

import fcntl
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import ray
import ray.data

from core.atomic import atomic_path, temp_files_in
from core.features.backbones import backbone_spec, load_backbone, resolve_weights
from core.features.extraction import (
    ExtractionOptions,
    ExtractionProgress,
    ExtractionReport,
    VideoEntry,
    check_recipe_backbone,
    featurize_frames,
    list_videos,
)
from core.features.recipe import FeatureRecipe
from core.features.store import FeatureFile, FeatureFileError
from core.features.writer import FeatureWriter
from core.video.decode import DecodedClip, VideoDecodeError, decode_uniform_frames

DEFAULT_SHARD_VIDEOS = 64
SHARD_SUFFIX = ".h5"
RUN_MARKER_SUFFIX = ".live"
DECODE_WORKER_BYTES = 512 * 2**20
MAX_INPUT_BLOCKS = 10_000
"""Up to this many videos, each is its own block, so decoding spreads over every CPU at once."""


@dataclass(frozen=True)
class RayOptions:
    address: str | None = None
    """Cluster to join (`auto`, `ray://host:10001`, `host:6379`); None starts a local one."""
    actors: int | None = None
    """Backbone actors; default one per cluster GPU, else 7/8 of the cluster's CPUs."""
    shard_videos: int = DEFAULT_SHARD_VIDEOS
    shard_dir: Path | None = None
    """Default: `<out>.shards/` beside the output file."""


def default_shard_dir(out_path: Path) -> Path:
    return out_path.with_name(out_path.name + ".shards")


def decode_row(row: dict[str, Any], recipe_json: str) -> dict[str, Any]:
    """Ray task body: one listed video -> its sampled frames, or the reason it cannot be read."""
    recipe = FeatureRecipe.from_json(recipe_json)
    try:
        clip = decode_uniform_frames(row["path"], recipe.num_frames, recipe.image_size)
    except VideoDecodeError as exc:
        empty = np.zeros((0, recipe.image_size, recipe.image_size, 3), np.uint8)
        return {
            **row,
            "frames": empty,
            "source_indices": np.zeros(0, np.int64),
            "total_frames": 0,
            "method": "",
            "error": exc.problem,
        }
    return {
        **row,
        "frames": clip.frames,
        "source_indices": clip.source_indices,
        "total_frames": clip.total_frames,
        "method": clip.method,
        "error": "",
    }


class BackboneActor:
    """Holds one backbone for the actor's lifetime; turns decoded frames into multi-scale sequences."""

    def __init__(self, recipe_json: str, weights: str, device: str, batch_size: int) -> None:
        self.recipe = FeatureRecipe.from_json(recipe_json)
        self.backbone = load_backbone(self.recipe.backbone, weights, device)
        check_recipe_backbone(self.recipe, self.backbone)
        self.batch_size = batch_size

    def __call__(self, row: dict[str, Any]) -> dict[str, Any]:
        decoded = {key: row.pop(key) for key in ("frames", "source_indices", "total_frames", "method")}
        if row["error"]:
            return {**row, "features": np.zeros((0, self.recipe.feature_dim), np.float32)}
        # Frames arrive as read-only views of the object store; torch wants arrays it may own.
        clip = DecodedClip(
            np.array(decoded["frames"]),
            decoded["source_indices"],
            int(decoded["total_frames"]),
            str(decoded["method"]),
        )
        features = featurize_frames(self.backbone, clip, self.recipe, batch_size=self.batch_size)
        return {**row, "features": features}


def run_marker(shard_dir: Path, run_id: str) -> Path:
    """Exists while the run may land shards (hidden, so listings and `shard_files` skip it)."""
    return shard_dir / f".{run_id}{RUN_MARKER_SUFFIX}"


def start_run(shard_dir: Path) -> Path:
    marker = run_marker(shard_dir, uuid.uuid4().hex)
    marker.touch()
    return marker


def end_run(marker: Path) -> None:
    """After this returns, no task of the run lands a shard: one landing now is waited for, and
    a later one finds the marker gone."""
    try:
        handle = marker.open("rb")
    except FileNotFoundError:
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        marker.unlink(missing_ok=True)


def end_earlier_runs(shard_dir: Path) -> None:
    """Fences off the tasks an interrupted or killed earlier run may still have on the cluster,
    so that no shard lands after this run has indexed the folder."""
    for marker in sorted(shard_dir.glob(f".*{RUN_MARKER_SUFFIX}")) if shard_dir.is_dir() else []:
        end_run(marker)


@contextmanager
def landing(marker: Path) -> Iterator[bool]:
    """Held while a shard lands: True when the shard's run has not ended."""
    try:
        handle = marker.open("rb")
    except FileNotFoundError:
        yield False
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_SH)
        # The run may have ended between the open and the lock; its marker is gone then.
        yield marker.exists()


def write_shard(
    batch: dict[str, np.ndarray], recipe_json: str, class_names: Sequence[str], marker: str
) -> dict[str, np.ndarray]:
    """Ray task body: the batch's featurised videos -> one shard file beside the run's marker,
    unless the run has ended; returns what happened to each video."""
    recipe = FeatureRecipe.from_json(recipe_json)
    errors = [str(e) for e in batch["error"]]
    with landing(Path(marker)) as live:
        if live and any(not e for e in errors):
            _write_shard_file(batch, errors, recipe, class_names, Path(marker).parent)
    return {"name": batch["name"], "error": batch["error"]}


def _write_shard_file(
    batch: dict[str, np.ndarray],
    errors: list[str],
    recipe: FeatureRecipe,
    class_names: Sequence[str],
    shard_dir: Path,
) -> None:
    first = int(np.min(batch["index"]))
    path = shard_dir / f"{first:09d}-{uuid.uuid4().hex[:8]}{SHARD_SUFFIX}"
    with (
        atomic_path(path) as tmp,
        FeatureWriter.for_recipe(tmp, recipe, class_names=class_names) as writer,
    ):
        rows = zip(batch["name"], batch["features"], batch["label"], errors, strict=True)
        for name, features, label, error in rows:
            if not error:
                writer.append(str(name), np.asarray(features, np.float32), int(label))


@dataclass
class _ShardIndex:
    """Where each video already featurised into a shard lives: name -> (shard file, row)."""

    rows: dict[str, tuple[Path, int]]
    files: list[Path]


def shard_files(shard_dir: Path) -> list[Path]:
    return sorted(shard_dir.glob(f"*{SHARD_SUFFIX}")) if shard_dir.is_dir() else []


def index_shards(shard_dir: Path, recipe: FeatureRecipe) -> _ShardIndex:
    files = shard_files(shard_dir)
    rows: dict[str, tuple[Path, int]] = {}
    for path in files:
        with FeatureFile(path) as shard:
            if shard.recipe != recipe:
                differences = "; ".join(recipe.differences(shard.recipe)) if shard.recipe else "no recipe"
                raise FeatureFileError(
                    path,
                    f"shard made with another recipe ({differences}); "
                    f"delete {shard_dir} or resume with that recipe",
                )
            for row, name in enumerate(shard.video_names):
                rows.setdefault(name, (path, row))
    return _ShardIndex(rows, files)


def _shard_rows_in_order(
    entries: Sequence[VideoEntry], index: _ShardIndex
) -> Iterator[tuple[VideoEntry, np.ndarray]]:
    """Each entry's features from its shard; shards hold contiguous runs of the listing, so
    keeping one shard open at a time reads each file once."""
    current: FeatureFile | None = None
    try:
        for entry in entries:
            path, row = index.rows[entry.name]
            if current is None or current.path != path:
                if current is not None:
                    current.close()
                current = FeatureFile(path)
            yield entry, current.read_video(row)
    finally:
        if current is not None:
            current.close()


def merge_shards(entries: Sequence[VideoEntry], index: _ShardIndex, writer: FeatureWriter) -> int:
    """Append, in listing order, every entry found in a shard and missing from the output."""
    pending = [e for e in entries if e.name in index.rows and e.name not in writer.done_names]
    for entry, features in _shard_rows_in_order(pending, index):
        writer.append(entry.name, features, entry.label)
    return len(pending)


def remove_shards(shard_dir: Path, files: Sequence[Path], suffix: str = SHARD_SUFFIX) -> None:
    """Removes `files`, then the folder once nothing else is in it.

    Callers have ended every run on the folder, so no task can be writing a shard: a shard's
    temp file still there was left by a task killed mid-write (Ray cancels with force) and
    goes too, whatever process id it names."""
    for path in [*files, *temp_files_in(shard_dir, f"*{suffix}")]:
        path.unlink(missing_ok=True)
    if shard_dir.is_dir() and not any(shard_dir.iterdir()):
        shard_dir.rmdir()


@dataclass(frozen=True)
class _ActorPlan:
    size: int
    device: str
    gpus_per_actor: int


def plan_actors(resources: dict[str, float], actors: int | None, device: str | None) -> _ActorPlan:
    """GPU actors, one GPU each, where the cluster has GPUs; else one-CPU actors on all but an
    eighth of the CPUs (at least one), which decode and write shards: decoding a video costs
    about 4% of its backbone time on a CPU (bench/bench_extraction.py --engine ray)."""
    gpus = int(resources.get("GPU", 0))
    cpus = int(resources.get("CPU", 1))
    if device == "cuda" and gpus == 0:
        raise ValueError("--device cuda, but the Ray cluster has no GPUs")
    if gpus and device != "cpu":
        return _ActorPlan(actors or gpus, "cuda", 1)
    return _ActorPlan(actors or max(1, cpus - max(1, cpus // 8)), "cpu", 0)


@dataclass(frozen=True)
class _Job:
    """What every stage of one pipeline run needs to know."""

    recipe: FeatureRecipe
    class_names: list[str]
    weights: Path
    batch_size: int
    shard_dir: Path
    shard_videos: int


def _todo_rows(todo: Sequence[VideoEntry], listed: Sequence[VideoEntry]) -> list[dict[str, Any]]:
    """Pipeline input rows; `index` is the listing position that names the shards."""
    order = {entry.name: i for i, entry in enumerate(listed)}
    return [{"index": order[e.name], "path": str(e.path), "name": e.name, "label": e.label} for e in todo]


def build_pipeline(rows: list[dict[str, Any]], job: _Job, plan: _ActorPlan, marker: Path) -> ray.data.Dataset:
    recipe_json = job.recipe.to_json()
    dataset = ray.data.from_items(rows, override_num_blocks=max(1, min(len(rows), MAX_INPUT_BLOCKS)))
    pipeline = (
        # The memory reservation also keeps Ray from fusing decoding into the CPU actors, which
        # would serialise decoding and inference in one process.
        dataset.map(
            decode_row,
            fn_kwargs={"recipe_json": recipe_json},
            num_cpus=1,
            memory=decode_memory_bytes(job.recipe),
        )
        .map(
            BackboneActor,
            fn_constructor_kwargs={
                "recipe_json": recipe_json,
                "weights": str(job.weights),
                "device": plan.device,
                "batch_size": job.batch_size,
            },
            compute=ray.data.ActorPoolStrategy(size=plan.size),
            num_cpus=1,
            num_gpus=plan.gpus_per_actor,
        )
        .map_batches(
            write_shard,
            fn_kwargs={
                "recipe_json": recipe_json,
                "class_names": job.class_names,
                "marker": str(marker),
            },
            batch_size=job.shard_videos,
            num_cpus=1,
        )
    )
    # Keeping rows in listing order makes every shard a contiguous run of the listing, so the
    # merge reads shards one after another.
    pipeline.context.execution_options.preserve_order = True
    return pipeline


def decode_memory_bytes(recipe: FeatureRecipe) -> int:
    """Scheduling reservation of one decoding task: the worker (OpenCV, NumPy) plus its frames."""
    return DECODE_WORKER_BYTES + 2 * recipe.num_frames * recipe.image_size**2 * 3


def connect(address: str | None) -> bool:
    """Join (or start) a cluster unless this process already has one; True when we connected."""
    if ray.is_initialized():
        return False
    ray.init(address=address)
    return True


def extract_directory_ray(
    videos_dir: Path,
    out_path: Path,
    options: ExtractionOptions,
    progress: Callable[[ExtractionProgress], None] | None = None,
    cluster: RayOptions = RayOptions(),
) -> ExtractionReport:
    """`extract_directory` on a Ray cluster: same output file, same resume and skip rules.

    Raises like `extract_directory` before any work when the recipe, weights or output file
    are unusable; a video that cannot be decoded is reported and skipped.
    """
    out_path = Path(out_path)
    recipe = options.recipe
    listing = list_videos(Path(videos_dir), options.class_names)
    check_recipe_backbone(recipe, backbone_spec(recipe.backbone))
    job = _Job(
        recipe=recipe,
        class_names=list(options.class_names),
        weights=resolve_weights(recipe.backbone, options.weights).resolve(),
        batch_size=options.batch_size,
        shard_dir=Path(cluster.shard_dir or default_shard_dir(out_path)),
        shard_videos=cluster.shard_videos,
    )
    device = None if options.device is None else str(options.device)
    end_earlier_runs(job.shard_dir)
    if not options.resume:
        remove_shards(job.shard_dir, shard_files(job.shard_dir))
    recovered = index_shards(job.shard_dir, recipe)
    report = ExtractionReport(written=0, skipped=list(listing.rejected), out_path=out_path)
    with FeatureWriter.for_recipe(
        out_path, recipe, class_names=options.class_names, resume=options.resume
    ) as writer:
        report.already_present = sum(entry.name in writer.done_names for entry in listing.videos)
        done = writer.done_names | recovered.rows.keys()
        todo = [entry for entry in listing.videos if entry.name not in done]
        if todo:
            job.shard_dir.mkdir(parents=True, exist_ok=True)
            report.skipped += _featurise_into_shards(
                _todo_rows(todo, listing.videos), job, cluster, device, progress
            )
        index = index_shards(job.shard_dir, recipe)
        report.written = merge_shards(listing.videos, index, writer)
    remove_shards(job.shard_dir, index.files)
    return report


def _featurise_into_shards(
    rows: list[dict[str, Any]],
    job: _Job,
    cluster: RayOptions,
    device: str | None,
    progress: Callable[[ExtractionProgress], None] | None,
) -> list[tuple[str, str]]:
    """Runs the pipeline over `rows`; returns the (name, reason) of the videos it could not read.
    However it ends, no shard of this run lands after it returns or raises."""
    connected = connect(cluster.address)
    marker = start_run(job.shard_dir)
    try:
        plan = plan_actors(ray.cluster_resources(), cluster.actors, device)
        pipeline = build_pipeline(rows, job, plan, marker)
        if progress is not None:
            pipeline.context.enable_progress_bars = False
        skipped: list[tuple[str, str]] = []
        started = time.perf_counter()
        # Closing the iterator shuts the pipeline down at once, in this thread: Ray Data cancels
        # the running tasks (ray.cancel, force) and kills the actor pool. A cancelled task can
        # still be finishing a shard, which the run's end below fences off.
        with closing(iter(pipeline.iter_rows())) as results:
            for done, row in enumerate(results, start=1):
                if row["error"]:
                    skipped.append((str(row["name"]), str(row["error"])))
                if progress is not None:
                    rate = done / max(time.perf_counter() - started, 1e-9)
                    eta = (len(rows) - done) / rate
                    progress(ExtractionProgress(done, len(rows), str(row["name"]), rate, eta))
        return skipped
    finally:
        end_run(marker)
        if connected:
            ray.shutdown()
