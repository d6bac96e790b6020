"""Scale: peak memory and seconds per video of evaluation and of the dashboard's prediction
pass, at 1k and 10k videos (100k with --huge), each measured in a fresh subprocess.

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

    python bench/bench_scale.py            # 1k and 10k
    python bench/bench_scale.py --huge     # also 100k
"""

from __future__ import annotations

import argparse
import json
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


def child(task: str, features: Path, checkpoints: list[Path], modes: tuple[str, ...]) -> None:
    """One measurement in this (fresh) process; prints JSON with seconds and peak RSS."""
    from core.evaluation.runs import run_evaluation
    from core.features.store import load_feature_index, open_features
    from core.model.ensemble import load_ensemble
    from core.model.inference import predict_split

    device = default_device()
    started = time.perf_counter()
    if task == "evaluate":
        run = run_evaluation(checkpoints, features, tta_modes=modes, device=device)
        videos = run.num_videos
    else:
        ensemble = load_ensemble(checkpoints, device)
        index = load_feature_index(features)
        with open_features(features) as handle:
            predict_split(ensemble.models, handle, modes)
        videos = len(index.labels)
    seconds = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "videos": videos, "peak_mib": peak_mib}))


def measure(task: str, features: Path, checkpoints: list[Path], tta: bool) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", task, str(features), *map(str, checkpoints)]
    command += ["--tta"] if tta else []
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--huge", action="store_true", help="also measure 100k videos")
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--tta", action="store_true", help="all four TTA modes, not only the original")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    modes = TTA_MODES if args.tta else ("original",)
    if args.child:
        child(args.child[0], Path(args.child[1]), [Path(p) for p in args.child[2:]], modes)
        return
    sizes = [1_000, 10_000, *([100_000] if args.huge else [])]
    print(f"device {default_device()}, {STEPS} steps x {args.dim}-d, 4 small members, modes {modes}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        checkpoints = write_members(folder, args.dim)
        results: dict[tuple[str, int], dict[str, float]] = {}
        for size in sizes:
            features = folder / f"test_{size}.h5"
            write_split(features, size, args.dim)
            for task in ("evaluate", "dashboard"):
                result = measure(task, features, checkpoints, args.tta)
                results[task, size] = result
                per_video_ms = 1000 * result["seconds"] / size
                print(
                    f"{task:9s} {size:>7,d} videos: peak {result['peak_mib']:7.0f} MiB, "
                    f"{per_video_ms:.3f} ms/video ({result['seconds']:.1f} s)"
                )
            features.unlink()
    for task in ("evaluate", "dashboard"):
        base = results[task, sizes[0]]
        for size in sizes[1:]:
            other = results[task, size]
            memory = other["peak_mib"] / base["peak_mib"]
            speed = (other["seconds"] / size) / (base["seconds"] / sizes[0])
            print(
                f"{task:9s} {size // 1000}k/1k: peak memory x{memory:.2f} (target <= 1.20), "
                f"s/video x{speed:.2f} (target 0.80..1.20)"
            )


if __name__ == "__main__":
    main()
