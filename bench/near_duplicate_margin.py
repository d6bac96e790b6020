"""Can any representation of a finished demo build tell heavy re-encoded copies from look-alikes?

For each candidate representation the bench prints the similarity of every re-encoded copy to its
original (copies of `--per-class` train clips per class, made as bench/demo_audit.py makes them:
scaled to 85%, H.264 at CRF 32, the first 0.3 s cut) and the closest pair of genuinely different
clips across splits (test-train, test-val, val-train). The margin is the weakest copy minus the
closest look-alike pair: a single threshold can flag every copy and no look-alike only when it is
positive. Candidates:
  centred mean    the audit's vectors: clip-mean features centred on every audited clip, cosine
  PCA-whitened    the same, projected on the top k principal axes and whitened (k = 32, 128)
  per-step        each step centred on the mean step and normalised, cosine averaged over aligned
                  steps, best of shifts -2..2 (a trim moves the sampled frames)
  CSLS            2 cos - mean cos of each clip's 10 nearest clips (penalises dense look-alike
                  families)
  thumbnails      the decoded frames as grey thumbnails (16x12 and 32x24, each centred and
                  normalised; reads the videos, not the features), either each frame matched to
                  its best frame of the other clip, or frame by frame in order at the best shift
                  (core/audit/video_copies.py's comparison: a trim drops whole frames from the
                  start); every pair is compared, a few minutes on a busy machine

    python bench/near_duplicate_margin.py --root /tmp/demo

Needs PyAV (requirements-dev.txt). Prints measurements only; exits 0.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from demo_audit import reencoded_copy

from core.audit.video_copies import aligned_similarity, frame_thumbnails
from core.classes import CLASS_NAMES
from core.features.extraction import ExtractionOptions, extract_directory
from core.features.store import open_features
from core.paths import SPLITS, ProjectPaths

THUMBNAILS = ((16, 12), (32, 24))
SHIFTS = range(-2, 3)
CSLS_NEIGHBOURS = 10


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12)


def centred_mean(steps: np.ndarray) -> np.ndarray:
    means = steps.mean(axis=1)
    unit = _unit(means - means.mean(axis=0))
    return unit @ unit.T


def pca_whitened(components: int) -> Callable[[np.ndarray], np.ndarray]:
    def similarity(steps: np.ndarray) -> np.ndarray:
        means = steps.mean(axis=1)
        centred = means - means.mean(axis=0)
        _, spread, axes = np.linalg.svd(centred, full_matrices=False)
        unit = _unit(centred @ axes[:components].T / spread[:components])
        return unit @ unit.T

    return similarity


def per_step_aligned(steps: np.ndarray) -> np.ndarray:
    unit = _unit(steps - steps.reshape(-1, steps.shape[2]).mean(axis=0))
    length = steps.shape[1]
    best = np.full((len(steps), len(steps)), -np.inf)
    for shift in SHIFTS:
        first = unit[:, max(shift, 0) : length + min(shift, 0)]
        second = unit[:, max(-shift, 0) : length - max(shift, 0)]
        best = np.maximum(best, np.einsum("itd,jtd->ij", first, second) / first.shape[1])
    return best


def csls(steps: np.ndarray) -> np.ndarray:
    cosine = centred_mean(steps)
    others = cosine - np.diag(np.full(len(cosine), np.inf))
    density = np.sort(others, axis=1)[:, -CSLS_NEIGHBOURS:].mean(axis=1)
    return 2 * cosine - density[:, None] - density[None, :]


def thumbnail_match(clips: list[np.ndarray]) -> np.ndarray:
    frames = np.concatenate(clips)
    owner = np.concatenate([np.full(len(c), i) for i, c in enumerate(clips)])
    similarity = np.zeros((len(clips), len(clips)))
    for row, clip in enumerate(clips):
        best = np.full((len(clips), len(clip)), -1.0)
        np.maximum.at(best, owner, (clip @ frames.T).T)
        similarity[row] = best.mean(axis=1)
    return np.minimum(similarity, similarity.T)


def thumbnail_aligned(clips: list[np.ndarray]) -> np.ndarray:
    similarity = np.eye(len(clips))
    for row, clip in enumerate(clips):
        for other in range(row + 1, len(clips)):
            similarity[row, other] = similarity[other, row] = aligned_similarity(clip, clips[other])
    return similarity


def make_copies(root: Path, work: Path, per_class: int) -> dict[str, str]:
    paths = ProjectPaths.at(root)
    with open_features(paths.features_file("train")) as train:
        names, recipe = train.video_names, train.recipe
    originals = {}
    for category in CLASS_NAMES:
        ofclass = [n for n in names if n.startswith(f"{category}/")]
        for name in ofclass[:: max(1, len(ofclass) // per_class)][:per_class]:
            copy = str(Path(name).with_name(f"copy_{Path(name).name}"))
            reencoded_copy(paths.demo_videos_dir / "train" / name, work / "videos" / copy)
            originals[copy] = name
    extract_directory(
        work / "videos",
        work / "copies.h5",
        ExtractionOptions(recipe=recipe, class_names=CLASS_NAMES, device="cpu", resume=False),
    )
    return originals


def read_steps(path: Path) -> tuple[np.ndarray, list[str]]:
    with open_features(path) as handle:
        data = handle.read_all()
    if np.any(data.num_frames != data.features.shape[1]):
        raise ValueError(f"{path}: the bench expects clips of one length, as the demo writes them")
    return data.features.astype(np.float64), list(data.video_names)


def report(name: str, similarity: np.ndarray, splits: np.ndarray, copy_pairs: list[tuple[int, int]]) -> None:
    original = splits != "copy"
    crossing = np.triu((splits[:, None] != splits[None, :]) & original[:, None] & original[None, :], 1)
    closest = similarity[crossing].max()
    copies = np.array([similarity[a, b] for a, b in copy_pairs])
    print(
        f"{name:32s} copies {copies.min():7.3f} (weakest) {np.median(copies):7.3f} (median)"
        f"  closest look-alike {closest:7.3f}  margin {copies.min() - closest:+.3f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--root", type=Path, required=True, help="a finished `python -m core demo` build")
    parser.add_argument("--per-class", type=int, default=4, help="train clips copied per class")
    args = parser.parse_args()
    paths = ProjectPaths.at(args.root)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        originals = make_copies(args.root, work, args.per_class)
        parts = [(split, *read_steps(paths.features_file(split))) for split in SPLITS]
        parts.append(("copy", *read_steps(work / "copies.h5")))
        videos = [
            (paths.demo_videos_dir / split / name) if split != "copy" else work / "videos" / name
            for split, _, names in parts
            for name in names
        ]
        clips = {size: [frame_thumbnails(video, size) for video in videos] for size in THUMBNAILS}
    steps = np.concatenate([p[1] for p in parts])
    splits = np.array([split for split, _, names in parts for _ in names])
    row = {(split, name): i for i, (split, name) in enumerate((s, n) for s, _, ns in parts for n in ns)}
    copy_pairs = [(row["copy", copy], row["train", original]) for copy, original in originals.items()]
    print(f"{len(copy_pairs)} copies, {int((splits != 'copy').sum())} clips in the build")
    candidates: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        "centred mean (audit)": centred_mean,
        "PCA-whitened, k=32": pca_whitened(32),
        "PCA-whitened, k=128": pca_whitened(128),
        "per-step, aligned": per_step_aligned,
        "CSLS, 10 neighbours": csls,
    }
    for name, similarity in candidates.items():
        report(name, similarity(steps), splits, copy_pairs)
    for (width, height), sized in clips.items():
        report(f"thumbnails {width}x{height}, best", thumbnail_match(sized), splits, copy_pairs)
        report(f"thumbnails {width}x{height}, aligned", thumbnail_aligned(sized), splits, copy_pairs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
