"""`python -m core classify`: classify video clips with the ensemble, featurised as it was trained.

The work behind the command; `core.commands.classify` only parses its flags."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from core.commands.weights import fetch_weights
from core.evaluation.clip_recipe import ensemble_recipe
from core.evaluation.runs import resolve_checkpoint_paths, usable_ensemble
from core.features.backbones import BackboneError
from core.features.extraction import RecipeError, featurize_clip
from core.features.recipe import FeatureRecipe
from core.model.checkpoints import LoadedCheckpoint
from core.model.inference import (
    ENSEMBLE,
    ENSEMBLE_TTA,
    predict_sequence,
    predictor_probabilities,
    tta_predictor_name,
)
from core.model.tta import TTA_MODES
from core.video.decode import VideoDecodeError
from core.video.url_fetch import FetchLimits, UrlFetchError, UrlRefused, UrlTooLarge, fetched_video, is_url

EXIT_CLIP_FAILED = 1


def by_class(probabilities: np.ndarray, class_names: Sequence[str]) -> dict[str, float]:
    return {name: round(float(p), 6) for name, p in zip(class_names, probabilities, strict=True)}


def classify_clip(
    path: Path, members: Sequence[LoadedCheckpoint], recipe: FeatureRecipe, args: argparse.Namespace
) -> dict[str, Any]:
    features = featurize_clip(path, recipe, weights=args.weights, device=args.device)
    modes = TTA_MODES if args.tta else ("original",)
    prediction = predict_sequence([member.model for member in members], features, modes)
    names = [member.name for member in members]
    predictors = predictor_probabilities(prediction.probabilities, names, modes, per_mode=True)
    verdict_source = ENSEMBLE_TTA if args.tta else ENSEMBLE
    verdict = predictors[verdict_source]
    class_names = members[0].class_names
    result: dict[str, Any] = {
        "path": str(path),
        "predicted_class": class_names[int(np.argmax(verdict))],
        "confidence": round(float(np.max(verdict)), 6),
        "verdict_from": verdict_source,
        "models": {name: by_class(predictors[name], class_names) for name in names},
        "ensemble": by_class(predictors[ENSEMBLE], class_names),
    }
    if args.tta:
        per_mode = {mode: predictors[tta_predictor_name(mode)] for mode in modes}
        result["tta_modes"] = {mode: by_class(p, class_names) for mode, p in per_mode.items()}
        result["ensemble_tta"] = by_class(predictors[ENSEMBLE_TTA], class_names)
    return result


def classify_source(
    source: str, members: Sequence[LoadedCheckpoint], recipe: FeatureRecipe, args: argparse.Namespace
) -> dict[str, Any]:
    """A file, or a URL fetched (checked, capped) to a temporary file for the time it takes."""
    if not is_url(source):
        return classify_clip(Path(source), members, recipe, args)
    limits = FetchLimits(max_bytes=args.max_download_mb * 2**20, allow_private=args.allow_private_urls)
    with fetched_video(source, limits) as path:
        return {**classify_clip(path, members, recipe, args), "path": source}


def format_probabilities(label: str, probabilities: dict[str, float]) -> str:
    cells = "  ".join(f"{name} {100 * p:5.1f}%" for name, p in probabilities.items())
    return f"  {label:28s} {cells}"


def print_result(result: dict[str, Any]) -> None:
    """A clip's probabilities; a failed clip's one line went to stderr already."""
    if "error" in result:
        return
    print(result["path"])
    for name, probabilities in result["models"].items():
        print(format_probabilities(name, probabilities))
    print(format_probabilities("ensemble", result["ensemble"]))
    for mode, probabilities in result.get("tta_modes", {}).items():
        print(format_probabilities(f"ensemble, TTA {mode}", probabilities))
    if "ensemble_tta" in result:
        print(format_probabilities("ensemble + TTA", result["ensemble_tta"]))
    confidence = 100 * result["confidence"]
    print(f"  verdict: {result['predicted_class']} ({confidence:.1f}%, {result['verdict_from']})")


def run(args: argparse.Namespace) -> int:
    paths, warnings = resolve_checkpoint_paths(args.models, args.checkpoints)
    ensemble = usable_ensemble(paths, args.device)
    for warning in [*warnings, *(f"skipped {error}" for error in ensemble.errors)]:
        print(f"warning: {warning}", file=sys.stderr)
    members = ensemble.members
    recipe = ensemble_recipe(members, args.features)
    fetch_weights(recipe.backbone, args.weights)
    results = []
    for clip in args.clips:
        try:
            results.append(classify_source(clip, members, recipe, args))
        except (VideoDecodeError, BackboneError, RecipeError, UrlRefused, UrlTooLarge, UrlFetchError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            results.append({"path": clip, "error": str(exc)})
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for result in results:
            print_result(result)
    return EXIT_CLIP_FAILED if any("error" in result for result in results) else 0
