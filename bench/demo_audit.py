"""The demo against its own audit, on a finished build:

1. the near-duplicate pairs that cross splits (test-train, test-val, val-train) at the audit's
   default threshold: a demo whose splits are honest has none;
2. the audit is still sensitive: four train clips (one per class) re-encoded as a copy would be
   (scaled to 85%, H.264 at CRF 32, the first 0.3 s trimmed), extracted as a test split, must
   each be flagged against its original, by the features' cosine or by the decoded frames
   compared in order (core/audit/video_copies.py);
3. the decoded frames find no test or val clip that copies a clip of another split.

    python -m core demo --root /tmp/demo && python bench/demo_audit.py --root /tmp/demo

Needs PyAV (requirements-dev.txt) for the H.264 re-encode. Exits 1 when either check fails.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import av
import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.audit.duplicates import NEAR_DUPLICATE_SIMILARITY
from core.audit.video_copies import COPY_SIMILARITY
from core.classes import CLASS_NAMES
from core.demo.leaks import copy_similarities, cross_split_pairs, frame_copy_pairs, frame_similarities
from core.features.extraction import ExtractionOptions, extract_directory
from core.features.store import open_features
from core.paths import SPLITS, ProjectPaths

SCALE, CRF, TRIM_S = 0.85, 32, 0.3


def _read_frames(path: Path) -> tuple[list[np.ndarray], float]:
    capture = cv2.VideoCapture(str(path))
    fps = capture.get(cv2.CAP_PROP_FPS) or 12.0
    frames = []
    ok, frame = capture.read()
    while ok:
        frames.append(frame)
        ok, frame = capture.read()
    capture.release()
    return frames, fps


def reencoded_copy(
    source: Path, target: Path, scale: float = SCALE, crf: int = CRF, trim_s: float = TRIM_S
) -> Path:
    """`source` as a copy found elsewhere would be: scaled, re-encoded with H.264 at `crf` and
    its first `trim_s` seconds cut."""
    frames, fps = _read_frames(source)
    frames = frames[round(trim_s * fps) :]
    height, width = frames[0].shape[:2]
    size = (int(width * scale) // 2 * 2, int(height * scale) // 2 * 2)  # H.264 wants even sides
    target.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(target), "w") as container:
        stream = container.add_stream("libx264", rate=round(fps), options={"crf": str(crf)})
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for frame in frames:
            small = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(small, format="bgr24")))
        container.mux(stream.encode())
    return target


def copy_scores(
    root: Path, work: Path, *, scale: float = SCALE, crf: int = CRF, trim_s: float = TRIM_S
) -> dict[str, tuple[str, float, float]]:
    """Re-encode the first train clip of each class into a test split under `work`, extract it
    with the build's recipe, and score it against the build's train and val features as the audit
    does: copy name -> (original name, features' cosine, aligned-thumbnail similarity)."""
    paths = ProjectPaths.at(root)
    with open_features(paths.features_file("train")) as train:
        names, recipe = train.video_names, train.recipe
    if recipe is None:
        raise ValueError(f"{paths.features_file('train')} records no feature recipe")
    originals: dict[str, str] = {}
    for category in CLASS_NAMES:
        name = next(n for n in names if n.startswith(f"{category}/"))
        copy = str(Path(name).with_name(f"copy_{Path(name).name}"))
        reencoded_copy(paths.demo_videos_dir / "train" / name, work / "videos" / copy, scale, crf, trim_s)
        originals[copy] = name
    features = work / "features"
    features.mkdir(parents=True, exist_ok=True)
    for split in ("train", "val"):
        shutil.copy(paths.features_file(split), features / paths.features_file(split).name)
    extract_directory(
        work / "videos",
        features / paths.features_file("test").name,
        ExtractionOptions(recipe=recipe, class_names=CLASS_NAMES, device="cpu", resume=False),
    )
    scores = copy_similarities(sorted(features.glob("*.h5")), originals)
    frames = frame_similarities(
        {work / "videos" / c: paths.demo_videos_dir / "train" / o for c, o in originals.items()}
    )
    return {c: (originals[c], score, frames[work / "videos" / c]) for c, score in scores.items()}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--root", type=Path, required=True, help="a finished `python -m core demo` build")
    parser.add_argument("--scale", type=float, default=SCALE, help="frame size of the copies")
    parser.add_argument("--crf", type=int, default=CRF, help="H.264 constant rate factor of the copies")
    parser.add_argument("--trim", type=float, default=TRIM_S, help="seconds cut from the copies' start")
    args = parser.parse_args()
    paths = ProjectPaths.at(args.root)
    pairs = cross_split_pairs([paths.features_file(split) for split in SPLITS])
    print(f"near-duplicate pairs across splits in the build: {len(pairs)}")
    for pair in pairs:
        where = f"{pair['split']} {pair['video']} ~ {pair['match_split']} {pair['match']}"
        print(f"  {pair['similarity']:.3f} {where}")
    with tempfile.TemporaryDirectory() as folder:
        scores = copy_scores(args.root, Path(folder), scale=args.scale, crf=args.crf, trim_s=args.trim)
    missed = 0
    for original, score, frames in scores.values():
        flagged = score >= NEAR_DUPLICATE_SIMILARITY or frames >= COPY_SIMILARITY
        missed += not flagged
        print(
            f"re-encoded copy of train {original}: cosine {score:.3f} (threshold "
            f"{NEAR_DUPLICATE_SIMILARITY}), frames {frames:.3f} (threshold {COPY_SIMILARITY}), "
            + ("flagged" if flagged else "NOT flagged")
        )
    copies = frame_copy_pairs(paths.demo_videos_dir)
    print(f"clips whose frames copy a clip of another split: {len(copies)}")
    for pair in copies:
        where = f"{pair['split']} {pair['video']} ~ {pair['match_split']} {pair['match']}"
        print(f"  {pair['similarity']:.3f} {where}")
    return 1 if pairs or missed or copies else 0


if __name__ == "__main__":
    sys.exit(main())
