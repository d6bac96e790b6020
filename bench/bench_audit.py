"""Audit at scale: seconds and peak memory of `python -m core audit`'s work at 1k / 10k (/ 100k
with --huge) videos, and the near-duplicate index's recall against exact brute-force search at 10k,
measured in the same run.

Each size runs in a fresh process (peak RSS is per process, imports included) on two files in the
extractor's layout, train (80%) and test (20%): `--steps` x `--dim` float32 features drawn around 64
cluster centres, 1% of the test videos planted as near-copies of train videos (cosine ~0.99 after
centring). What is timed, per stage:
  read      every split's index and time-averaged features (`core.audit.splits.read_splits`, chunked)
  index     the near-duplicate search (`core.audit.duplicates.near_duplicates`: faiss, exact up to
            5k vectors, inverted lists above)
  labels    cleanlab's confident learning on test (`core.audit.label_issues.label_issues`)
  slices    per-slice scores of 5 predictors on both splits (`core.audit.slices.slice_rows`)
  map       the page's 2-D map (`core.audit.embedding_map.embedding_map`): every video up to
            100k drawn, UMAP on a 10k sample, the rest placed by their nearest sampled videos
Probabilities are synthetic (the labels' class made likely, 2% of test labels flipped): inference
at scale is bench/bench_scale.py's subject, and the audit reuses the app's prediction cache.

The reference: at 10k the exact search (a chunked brute-force `unit @ unit.T`, the same pairs by
definition) runs in the same process; the bench prints the index's recall of those pairs (want
>= 0.99) and its speed-up over brute force. UMAP compiles itself on a first call in a process
(numba); that one-off is timed separately ("map warm-up", 300 videos) so "map" is the layout.

    python bench/bench_audit.py            # 1k and 10k
    python bench/bench_audit.py --huge     # also 100k
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

CENTRES = 64
SUBCATEGORIES = 8
PLANTED_SHARE = 0.01
FLIPPED_SHARE = 0.02
TRAIN_SHARE = 0.8


def _vectors(rng: np.random.Generator, centres: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    cluster = rng.integers(0, len(centres), count)
    return centres[cluster] + rng.normal(size=(count, centres.shape[1])), cluster % len(CLASS_NAMES)


def write_split(
    path: Path, vectors: np.ndarray, labels: np.ndarray, steps: int, rng: np.random.Generator
) -> None:
    count, dim = vectors.shape
    names = [f"{CLASS_NAMES[k]}/sub{i % SUBCATEGORIES}/{path.stem}_{i:06d}.mp4" for i, k in enumerate(labels)]
    with h5py.File(path, "w") as h5:
        features = h5.create_dataset(
            "features", (count, steps, dim), dtype=np.float32, chunks=(min(256, count), steps, dim)
        )
        for start in range(0, count, 8192):
            block = vectors[start : start + 8192, None, :] + 0.05 * rng.normal(
                size=(len(vectors[start : start + 8192]), steps, dim)
            )
            features[start : start + len(block)] = block.astype(np.float32)
        h5["labels"] = labels.astype(np.int64)
        h5["num_frames"] = np.full(count, steps, dtype=np.int32)
        h5["video_names"] = np.array(names, dtype=h5py.string_dtype())
        h5.attrs["category_mapping"] = json.dumps({name: i for i, name in enumerate(CLASS_NAMES)})


def write_project(folder: Path, videos: int, dim: int, steps: int, seed: int = 0) -> dict[str, Path]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=1.0, size=(CENTRES, dim))
    train_count = int(videos * TRAIN_SHARE)
    train, train_labels = _vectors(rng, centres, train_count)
    test, test_labels = _vectors(rng, centres, videos - train_count)
    planted = max(1, int(len(test) * PLANTED_SHARE))
    sources = rng.choice(train_count, planted, replace=False)
    test[:planted] = train[sources] + rng.normal(scale=0.08, size=(planted, dim))
    test_labels[:planted] = train_labels[sources]
    paths = {"train": folder / "train_features_multiscale.h5", "test": folder / "test_features_multiscale.h5"}
    write_split(paths["train"], train, train_labels, steps, rng)
    write_split(paths["test"], test, test_labels, steps, rng)
    return paths


def synthetic_probabilities(true_labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An ensemble's stand-in: each video's true class likely (so a flipped label is contradicted)."""
    probabilities = rng.dirichlet(np.ones(len(CLASS_NAMES)) * 0.5, size=len(true_labels))
    probabilities[np.arange(len(true_labels)), true_labels] += 2.0
    return probabilities / probabilities.sum(axis=1, keepdims=True)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(videos: int, folder: Path, dim: int, steps: int, recall: bool) -> dict[str, object]:
    from core.audit import duplicates
    from core.audit.embedding_map import embedding_map
    from core.audit.label_issues import label_issues
    from core.audit.slices import slice_rows
    from core.audit.splits import read_splits, stacked_means

    paths = write_project(folder, videos, dim, steps)
    rng = np.random.default_rng(1)
    result: dict[str, object] = {"videos": videos}
    timings = {}
    started = time.perf_counter()
    embedding_map(rng.normal(size=(300, 16)).astype(np.float32))
    timings["map warm-up"] = time.perf_counter() - started
    started = time.perf_counter()
    reading = read_splits(list(paths.values()))
    timings["read"] = time.perf_counter() - started
    vectors, refs = stacked_means(reading.splits)
    unit = duplicates.unit_vectors(vectors)
    started = time.perf_counter()
    pairs = duplicates.near_duplicates(unit, refs)
    timings["index"] = time.perf_counter() - started
    test = next(s for s in reading.splits if s.split == "test")
    flipped = rng.choice(test.num_videos, int(test.num_videos * FLIPPED_SHARE), replace=False)
    true_labels = test.index.labels.copy()
    given = true_labels.copy()
    given[flipped] = (given[flipped] + 1) % len(CLASS_NAMES)
    probabilities = synthetic_probabilities(true_labels, rng)
    started = time.perf_counter()
    issues = label_issues("test", given, probabilities, test.index.video_names, test.index.class_names)
    timings["labels"] = time.perf_counter() - started
    started = time.perf_counter()
    for split in reading.splits:
        predictors = {
            f"p{i}": rng.dirichlet(np.ones(len(CLASS_NAMES)), size=split.num_videos) for i in range(5)
        }
        slice_rows(
            split.split, split.index.labels, split.index.video_names, split.index.class_names, predictors
        )
    timings["slices"] = time.perf_counter() - started
    started = time.perf_counter()
    layout = embedding_map(vectors)
    timings["map"] = time.perf_counter() - started
    planted = {test.index.video_names[i] for i in range(max(1, int(test.num_videos * PLANTED_SHARE)))}
    leaks = {p["video"] for p in pairs if not p["within_split"]}
    flipped_names = {test.index.video_names[i] for i in flipped}
    result.update(
        seconds={k: round(v, 2) for k, v in timings.items()},
        peak_rss_mib=round(peak_rss_mib()),
        pairs=len(pairs),
        planted_leaks_found=f"{len(planted & leaks)}/{len(planted)}",
        label_issues=len(issues),
        flipped_found=f"{len(flipped_names & {i['video'] for i in issues})}/{len(flipped_names)}",
        map_points=len(layout.rows),
    )
    if recall:
        started = time.perf_counter()
        exact = duplicates.exact_pairs(unit, duplicates.NEAR_DUPLICATE_SIMILARITY)
        brute = time.perf_counter() - started
        sims, ids = duplicates.search(duplicates.build_index(unit), unit, duplicates.MATCHES_PER_VIDEO + 1)
        found = {
            (a, b) for a, b, _ in duplicates.close_pairs(sims, ids, duplicates.NEAR_DUPLICATE_SIMILARITY)
        }
        result.update(
            exact_pairs=len(exact),
            recall=round(len(found & exact) / max(1, len(exact)), 4),
            brute_force_s=round(brute, 2),
            index_speedup=round(brute / timings["index"], 1),
        )
    return result


def run_size(videos: int, dim: int, steps: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="bench_audit_") as folder:
        command = [sys.executable, __file__, "--worker", str(videos), "--dir", folder, "--dim", str(dim),
                   "--steps", str(steps)]  # fmt: skip
        if videos == 10_000:
            command.append("--recall")
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(done.stderr[-2000:])
        return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--huge", action="store_true", help="also 100k videos")
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--recall", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.dir, args.dim, args.steps, args.recall)))
        return
    print(f"load average {os.getloadavg()[0]:.1f}; {args.steps} steps x {args.dim}-d features", flush=True)
    for videos in (1_000, 10_000, *((100_000,) if args.huge else ())):
        print(json.dumps(run_size(videos, args.dim, args.steps)), flush=True)
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
