"""Scale: peak memory and seconds per video of evaluation and of the dashboard's prediction
pass, at 1k and 10k videos (100k with --huge), each measured in fresh subprocesses.

Both read the features file in chunks (`FeatureFile.iter_chunks`), so peak memory should not
grow with the number of videos beyond the per-video outputs. The reference is the 1k size
measured in the same run: the bench prints 10k/1k (and 100k/1k) ratios of peak RSS (target
within 1.2x) and of seconds per video (target within 20%).

Files: 73 steps x 128-d float32 features (`--dim`), written uncompressed with h5py in the
extractor's layout (compression only slows the bench's writing); 4 small members (hidden 16,
1 LSTM layer, 2 heads); the unaugmented mode only (`--tta` adds the other three).
"Evaluate" is `core.evaluation.runs.run_evaluation` (including bootstrap scoring); the
"dashboard pass" is what `dashboard/predictions.py` does on a cache miss: the split's index
plus `predict_split` streamed from an open `FeatureFile`.

What is timed: one such call, from loading the checkpoints to the scores (evaluate) or the
probabilities (dashboard), in a process that has already imported the project and run the same
call once on a 64-video split. That untimed first call pays torch's one-off start-up in a
process (lazy kernel and thread-pool set-up), which a running dashboard has paid long before.
Each measurement is repeated in `--repeat` fresh processes (default 3): the least wall time
and the least CPU time (all threads) are reported, with the highest peak RSS (the whole
process, imports included). CPU time is printed because wall time on a shared machine
follows whatever else runs; the load average is printed at the start and the end.

    python bench/bench_scale.py            # 1k and 10k
    python bench/bench_scale.py --huge     # also 100k
"""

from __future__ import annotations

import argparse
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.classes import CLASS_NAMES
from core.device import default_device
from core.features.recipe import RECIPE_ATTR, FeatureRecipe
from core.model.tta import TTA_MODES

STEPS = 73
SMALL = {"hidden_dim": 16, "num_lstm_layers": 1, "num_attention_heads": 2, "dropout": 0.1}
WRITE_ROWS = 1024
WARMUP_VIDEOS = 64


def write_split(path: Path, num_videos: int, dim: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    recipe = FeatureRecipe(num_frames=STEPS // 3 + 1)
    with h5py.File(path, "w") as h5:
        features = h5.create_dataset("features", (num_videos, STEPS, dim), np.float32, chunks=(1, STEPS, dim))
        for start in range(0, num_videos, WRITE_ROWS):
            rows = min(WRITE_ROWS, num_videos - start)
            features[start : start + rows] = rng.normal(size=(rows, STEPS, dim)).astype(np.float32)
        h5["labels"] = np.arange(num_videos) % len(CLASS_NAMES)
        h5["num_frames"] = rng.integers(STEPS // 2, STEPS + 1, num_videos).astype(np.int32)
        names = [f"{CLASS_NAMES[i % 4]}/clip_{i:06d}.mp4" for i in range(num_videos)]
        h5["video_names"] = np.array(names, dtype=h5py.string_dtype())
        h5.attrs["category_mapping"] = json.dumps({n: i for i, n in enumerate(CLASS_NAMES)})
        h5.attrs[RECIPE_ATTR] = recipe.to_json()


def write_members(folder: Path, dim: int) -> list[Path]:
    import torch

    from core.model.checkpoints import save_checkpoint
    from core.model.network import TemporalClassifier, TemporalModelConfig

    paths = []
    for n in range(1, 5):
        torch.manual_seed(n)
        model = TemporalClassifier(TemporalModelConfig(feature_dim=dim, **SMALL))
        path = folder / f"best_ensemble_model_{n}.pt"
        save_checkpoint(path, model, recipe=FeatureRecipe(num_frames=STEPS // 3 + 1), seed=n)
        paths.append(path)
    return paths


def run_task(task: str, features: Path, checkpoints: list[Path], modes: tuple[str, ...]) -> int:
    """One evaluation, or one dashboard prediction pass; the number of videos it covered."""
    from core.evaluation.runs import run_evaluation
    from core.features.store import load_feature_index, open_features
    from core.model.ensemble import load_ensemble
    from core.model.inference import predict_split

    device = default_device()
    if task == "evaluate":
        return run_evaluation(checkpoints, features, tta_modes=modes, device=device).num_videos
    ensemble = load_ensemble(checkpoints, device)
    index = load_feature_index(features)
    with open_features(features) as handle:
        predict_split(ensemble.models, handle, modes)
    return len(index.labels)


def child(task: str, warmup: Path, features: Path, checkpoints: list[Path], modes: tuple[str, ...]) -> None:
    """One measurement in this (fresh) process; prints JSON with seconds and peak RSS.

    The task runs once on the small warm-up split first, untimed: torch's one-off start-up in a
    process (lazy kernel and thread-pool set-up) is paid there, as a running dashboard has paid
    it. The timed call still loads the checkpoints, opens the file and (evaluate) scores."""
    run_task(task, warmup, checkpoints, modes)
    started, cpu_started = time.perf_counter(), cpu_seconds()
    videos = run_task(task, features, checkpoints, modes)
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu_started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "videos": videos, "peak_mib": peak_mib}))


def cpu_seconds() -> float:
    """CPU time of every thread of this process: unlike wall time, barely moved by other load."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(
    task: str, warmup: Path, features: Path, checkpoints: list[Path], tta: bool, repeat: int
) -> dict[str, float]:
    """The least wall and CPU time of `repeat` fresh processes, and the highest peak memory among
    them: the fastest run is the least disturbed by other load, the highest peak the safe bound."""
    command = [sys.executable, __file__, "--child", task, str(warmup), str(features), *map(str, checkpoints)]
    command += ["--tta"] if tta else []
    results = []
    for _ in range(repeat):
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        results.append(json.loads(output.strip().splitlines()[-1]))
    return {
        "seconds": min(result["seconds"] for result in results),
        "cpu_seconds": min(result["cpu_seconds"] for result in results),
        "peak_mib": max(result["peak_mib"] for result in results),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--huge", action="store_true", help="also measure 100k videos")
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--tta", action="store_true", help="all four TTA modes, not only the original")
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes per measurement")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    modes = TTA_MODES if args.tta else ("original",)
    if args.child:
        task, warmup, features, *checkpoints = args.child
        child(task, Path(warmup), Path(features), [Path(p) for p in checkpoints], modes)
        return
    sizes = [1_000, 10_000, *([100_000] if args.huge else [])]
    print(
        f"device {default_device()}, {STEPS} steps x {args.dim}-d, 4 small members, modes {modes}, "
        f"best of {args.repeat}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        checkpoints = write_members(folder, args.dim)
        warmup = folder / "warmup.h5"
        write_split(warmup, WARMUP_VIDEOS, args.dim, seed=1)
        results: dict[tuple[str, int], dict[str, float]] = {}
        for size in sizes:
            features = folder / f"test_{size}.h5"
            write_split(features, size, args.dim)
            for task in ("evaluate", "dashboard"):
                result = measure(task, warmup, features, checkpoints, args.tta, args.repeat)
                results[task, size] = result
                wall_ms, cpu_ms = (1000 * result[key] / size for key in ("seconds", "cpu_seconds"))
                print(
                    f"{task:9s} {size:>7,d} videos: peak {result['peak_mib']:5.0f} MiB, "
                    f"{wall_ms:.3f} ms/video wall ({result['seconds']:.1f} s), {cpu_ms:.3f} ms/video CPU",
                    flush=True,
                )
            features.unlink()
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    for task in ("evaluate", "dashboard"):
        base = results[task, sizes[0]]
        for size in sizes[1:]:
            other = results[task, size]
            memory = other["peak_mib"] / base["peak_mib"]
            wall, cpu = ((other[key] / size) / (base[key] / sizes[0]) for key in ("seconds", "cpu_seconds"))
            print(
                f"{task:9s} {size // 1000}k/1k: peak memory x{memory:.2f} (target <= 1.20), "
                f"s/video wall x{wall:.2f}, CPU x{cpu:.2f} (target 0.80..1.20)"
            )


if __name__ == "__main__":
    main()
