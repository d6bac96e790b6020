"""Explanation cost for full-size members (1280-d, H768, 4 layers, 12 heads) on one 73-step clip:
seconds per part, each beside the reference measured in the same run: one prediction of the same
clip by the same members (`predict_sequence`, what Classify runs anyway).

The machine this runs on may be shared, so each row's reference is measured right before the row
(best of three) and the row's ratio uses that one.

Rows: each method's step scores alone; the deletion curves of all three methods and every random
order, measured together (they share their remaining clips); what `python -m core explain
--method occlusion` computes (occlusion's scores, its curve and the random orders' curves); the
whole panel (every method and every curve); Grad-CAM (the backbone on all 64 frames at 256 px plus
the gradient pass for the 16 shown frames).

    python bench/bench_explain.py [--repeats 2] [--threads N] [--members 1] [--device cpu] [--no-saliency]
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
from core.explain.deletion import RANDOM_ORDERS, curve_points
from core.explain.explanation import explain, explain_all, explanations_of_scores
from core.explain.predictor import ExplainedPredictor
from core.explain.saliency import grad_cam
from core.explain.temporal import METHODS, step_scores
from core.features.backbones import load_backbone
from core.features.recipe import FeatureRecipe
from core.model.inference import predict_sequence
from core.model.network import TemporalClassifier, TemporalModelConfig

RECIPE = FeatureRecipe()
CLASSES = ["Animation", "Flat_Content", "Gaming", "Natural_Content"]


def best_of(repeats: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2, help="best of this many runs per timing")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's own choice)")
    parser.add_argument("--members", type=int, default=1, help="explain the soft vote of this many members")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--no-saliency", action="store_true", help="skip Grad-CAM (needs no backbone)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    models = []
    for seed in range(args.members):
        torch.manual_seed(seed)
        models.append(TemporalClassifier(TemporalModelConfig()).to(args.device).eval())
    predictor = ExplainedPredictor("full-size members", tuple(models), target=0)
    sequence = np.random.default_rng(0).normal(size=(RECIPE.sequence_length, 1280)).astype(np.float32)
    print(
        f"{args.members} full-size member(s) on {args.device}, one {len(sequence)}-step clip, CPU threads "
        f"{torch.get_num_threads()}; curves at {len(curve_points(len(sequence)))} removal counts, "
        f"{RANDOM_ORDERS} random orders"
    )

    def row(name: str, work: Callable[[], object]) -> None:
        reference = best_of(3, lambda: predict_sequence(models, sequence, ("original",)))
        seconds = best_of(args.repeats, work)
        print(
            f"{name:38s} {seconds:8.3f} s  = {seconds / reference:6.1f} x one prediction ({reference:.3f} s)"
        )

    scores = {}
    for method in METHODS:
        row(f"{method} scores", lambda m=method: scores.__setitem__(m, step_scores(predictor, sequence, m)))
    row(
        "all deletion curves (shared)",
        lambda: explanations_of_scores(predictor, sequence, scores, video="v", class_names=CLASSES),
    )
    row(
        "explain --method occlusion",
        lambda: explain(predictor, sequence, "occlusion", video="v", class_names=CLASSES),
    )
    row(
        "whole panel (3 methods, all curves)",
        lambda: explain_all(predictor, sequence, video="v", class_names=CLASSES),
    )
    if not args.no_saliency:
        backbone = load_backbone(RECIPE.backbone, device=args.device)
        frames = np.random.default_rng(1).integers(0, 256, (RECIPE.num_frames, 256, 256, 3), dtype=np.uint8)
        positions = strip_positions(RECIPE.num_frames)
        row(
            f"grad-cam ({len(positions)} frames)",
            lambda: grad_cam(backbone, frames, RECIPE, predictor, positions),
        )


if __name__ == "__main__":
    main()
