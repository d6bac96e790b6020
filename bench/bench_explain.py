"""Explanation cost for a full-size member (1280-d, H768, 4 layers, 12 heads) on one 73-step clip:
seconds per explanation per method, each beside the reference measured in the same run: one
prediction of the same clip by the same member (`predict_sequence`, what Classify runs anyway).

Per method the time covers the step scores and their deletion curve; the random-order curve
(shared by all methods of a clip) is timed on its own. Grad-CAM covers decoding-free work only:
the backbone on all 64 frames at 256 px plus the gradient pass for the 16 shown frames.

    python bench/bench_explain.py [--repeats 2] [--threads N] [--no-saliency]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.evaluation.clip_verdict import strip_positions
from core.explain.deletion import deletion_curve, random_deletion_curve
from core.explain.predictor import ExplainedPredictor
from core.explain.saliency import grad_cam
from core.explain.temporal import METHODS, step_scores
from core.features.backbones import load_backbone
from core.features.recipe import FeatureRecipe
from core.model.inference import predict_sequence
from core.model.network import TemporalClassifier, TemporalModelConfig

RECIPE = FeatureRecipe()


def best_of(repeats: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2, help="best of this many runs per timing")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's own choice)")
    parser.add_argument("--no-saliency", action="store_true", help="skip Grad-CAM (needs no backbone)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = TemporalClassifier(TemporalModelConfig()).eval()
    predictor = ExplainedPredictor("full-size member", (model,), target=0)
    sequence = np.random.default_rng(0).normal(size=(RECIPE.sequence_length, 1280)).astype(np.float32)
    print(f"full-size member, one {len(sequence)}-step clip, CPU threads {torch.get_num_threads()}")

    reference = best_of(args.repeats, lambda: predict_sequence([model], sequence, ("original",)))
    print(f"reference: one prediction           {reference:8.3f} s")
    rows = {}
    for method in METHODS:
        rows[method] = best_of(
            args.repeats,
            lambda m=method: deletion_curve(predictor, sequence, step_scores(predictor, sequence, m)),
        )
    rows["random-order curve (shared)"] = best_of(
        args.repeats, lambda: random_deletion_curve(predictor, sequence)
    )
    if not args.no_saliency:
        backbone = load_backbone(RECIPE.backbone, device="cpu")
        frames = np.random.default_rng(1).integers(0, 256, (RECIPE.num_frames, 256, 256, 3), dtype=np.uint8)
        positions = strip_positions(RECIPE.num_frames)
        rows[f"grad-cam ({len(positions)} frames)"] = best_of(
            args.repeats, lambda: grad_cam(backbone, frames, RECIPE, predictor, positions)
        )
    for name, seconds in rows.items():
        print(f"{name:36s} {seconds:8.3f} s  = {seconds / reference:7.1f} x one prediction")


if __name__ == "__main__":
    main()
