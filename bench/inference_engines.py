"""`python bench/bench_inference.py --engine ray`: the two engines of `python -m core evaluate`.

Every measurement is one `run_evaluation` (checkpoints loaded, file streamed, scores computed) in
a fresh process, which prints its wall time and its peak RSS; for `ray` that process is the
driver, and it starts a throwaway Ray instance on this machine inside the clock (actor start-up
included), as `evaluate --engine ray` does without `--address`.

1. ray / local: videos/s of the two engines on the same split of small features (8 steps x
   16-d, 4 small members, the unaugmented mode), at 10k and 100k videos.
2. Driver memory: the ray driver's peak RSS at 100k videos over 10k (target <= 1.2x): the driver
   holds the run's output, never the features.
3. Per-actor rates for capacity planning: one 1-CPU actor (`--actors 1`) on full-size members
   (4 x H768, 4 LSTM layers, 12 heads, 1280-d, 73 steps) with the 4 TTA modes, timed between its
   first and last finished shard so that start-up is left out.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.classes import CLASS_NAMES
from core.model.checkpoints import save_checkpoint
from core.model.network import TemporalClassifier, TemporalModelConfig
from core.model.tta import TTA_MODES

SMALL_STEPS, SMALL_DIM = 8, 16
SMALL_MEMBER = TemporalModelConfig(
    feature_dim=SMALL_DIM, hidden_dim=16, num_lstm_layers=1, num_attention_heads=2, dropout=0.1
)
FULL_STEPS = 73
WRITE_ROWS = 8192
MEMORY_TARGET = 1.2


def write_split(path: Path, num_videos: int, steps: int, dim: int, seed: int = 0) -> Path:
    """A split in the extractor's layout, written in blocks (one row a call is too slow for 100k)."""
    rng = np.random.default_rng(seed)
    with h5py.File(path, "w") as h5:
        features = h5.create_dataset(
            "features", (num_videos, steps, dim), np.float32, chunks=(min(64, num_videos), steps, dim)
        )
        for start in range(0, num_videos, WRITE_ROWS):
            rows = min(WRITE_ROWS, num_videos - start)
            features[start : start + rows] = rng.normal(size=(rows, steps, dim)).astype(np.float32)
        h5["labels"] = np.arange(num_videos) % len(CLASS_NAMES)
        h5["num_frames"] = rng.integers(steps // 2, steps + 1, num_videos).astype(np.int32)
        names = [f"{CLASS_NAMES[i % 4]}/clip_{i:07d}.mp4" for i in range(num_videos)]
        h5["video_names"] = np.array(names, dtype=h5py.string_dtype())
        h5.attrs["category_mapping"] = json.dumps({n: i for i, n in enumerate(CLASS_NAMES)})
    return path


def write_members(folder: Path, config: TemporalModelConfig) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(1, 5):
        torch.manual_seed(41 + n)
        path = folder / f"best_ensemble_model_{n}.pt"
        save_checkpoint(path, TemporalClassifier(config).eval(), seed=41 + n)
        paths.append(path)
    return paths


def child(spec: dict) -> None:
    """One evaluation in this fresh process; prints JSON: wall seconds, peak RSS, shard times."""
    from core.evaluation.ray_evaluate import RayEvaluation
    from core.evaluation.runs import run_evaluation

    engine = None
    if spec["engine"] == "ray":
        engine = RayEvaluation(
            Path(spec["shards"]), actors=spec.get("actors"), rows_per_shard=spec.get("rows_per_shard")
        )
    stamps: list[tuple[float, int]] = []
    started = time.perf_counter()
    run = run_evaluation(
        [Path(p) for p in spec["checkpoints"]],
        spec["features"],
        tta_modes=tuple(spec["modes"]),
        device="cpu",
        engine=engine,
        progress=lambda done, total: stamps.append((time.perf_counter() - started, done)),
    )
    seconds = time.perf_counter() - started
    sequences = len(spec["checkpoints"]) * len(run.tta_modes)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "videos": run.num_videos,
                "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "first": [stamps[0][0], stamps[0][1] // sequences],
                "last": [stamps[-1][0], stamps[-1][1] // sequences],
            }
        )
    )


def measure(spec: dict) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, json.dumps(spec)], capture_output=True, text=True, check=False
    )
    if result.returncode:
        raise RuntimeError(f"measurement {spec['engine']} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def steady_rate(result: dict) -> float:
    """Videos/s between the first and the last finished shard: start-up left out."""
    (t0, v0), (t1, v1) = result["first"], result["last"]
    return (v1 - v0) / max(t1 - t0, 1e-9)


def compare_engines(sizes: list[int], full_videos: int) -> None:
    print(f"load average at the start {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        small = [str(p) for p in write_members(root / "small", SMALL_MEMBER)]
        driver: dict[int, float] = {}
        for size in sizes:
            features = str(write_split(root / f"split_{size}.h5", size, SMALL_STEPS, SMALL_DIM))
            spec = {"checkpoints": small, "features": features, "modes": [], "shards": str(root / "shards")}
            local = measure({**spec, "engine": "local"})
            on_ray = measure({**spec, "engine": "ray"})
            driver[size] = on_ray["peak_mib"]
            for name, result in (("local", local), ("ray", on_ray)):
                print(
                    f"{name:5s} {size:>7,} videos: {result['seconds']:6.1f} s  "
                    f"{size / result['seconds']:8.0f} videos/s  peak RSS {result['peak_mib']:5.0f} MiB  "
                    f"(steady {steady_rate(result):.0f} videos/s once started)"
                )
            print(f"ray / local at {size:,} videos = {local['seconds'] / on_ray['seconds']:.2f}x")
        low, high = min(sizes), max(sizes)
        ratio = driver[high] / driver[low]
        print(
            f"ray driver peak RSS {high:,} / {low:,} videos = {ratio:.2f}x "
            f"(target <= {MEMORY_TARGET}x): {'met' if ratio <= MEMORY_TARGET else 'NOT met'}"
        )
        full_size = TemporalModelConfig()
        full = [str(p) for p in write_members(root / "full", full_size)]
        features = str(write_split(root / "full.h5", full_videos, FULL_STEPS, full_size.feature_dim))
        spec = {"checkpoints": full, "features": features, "modes": list(TTA_MODES), "engine": "ray"}
        actor = measure({**spec, "shards": str(root / "full"), "actors": 1, "rows_per_shard": 1})
        rate = steady_rate(actor)
        print(
            f"full-size, 4 members x 4 TTA modes: {rate:.3f} videos/s per 1-CPU actor "
            f"({1 / rate:.1f} s/video; {full_videos} videos, {actor['seconds']:.0f} s with start-up)"
        )
        print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    child(json.loads(sys.argv[1]))
