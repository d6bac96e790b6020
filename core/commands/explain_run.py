"""`python -m core explain`: which stored time steps drove a member's or the ensemble's vote on one
clip, how faithful that ranking is, and (with --saliency) which regions of the frames.

The work behind the command; `core.commands.explain` only parses its flags."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.atomic import atomic_paths
from core.commands.weights import fetch_weights
from core.evaluation.clip_recipe import ensemble_recipe
from core.evaluation.clip_verdict import strip_positions
from core.evaluation.runs import resolve_checkpoint_paths, usable_ensemble
from core.explain.clips import (
    ClipToExplain,
    decoded_frames,
    featurized_clip,
    stored_clip,
    video_file_places,
)
from core.explain.explanation import Explanation, curve_note, explain
from core.explain.predictor import (
    ExplainedPredictor,
    class_index_of,
    explained_predictor,
    find_member,
    predicted_class,
)
from core.explain.saliency import (
    COLORMAP_NAME,
    SaliencyMaps,
    grad_cam,
    saliency_file_names,
    write_overlays,
)
from core.features.backbones import load_backbone
from core.features.recipe import FeatureRecipe
from core.model.checkpoints import LoadedCheckpoint
from core.outputs import PlannedOutput, check_outputs
from core.paths import ProjectPaths

JSON_KEYS = ("video", "member", "target", "method", "steps", "deletion_curve", "random_deletion_curve")


def check_source(args: argparse.Namespace) -> None:
    stored = args.features is not None or args.video is not None
    if args.clip is not None and stored:
        raise ValueError("give either --clip or --features with --video, not both")
    if args.clip is None and (args.features is None or args.video is None):
        raise ValueError("give the clip: --features FILE --video NAME, or --clip PATH")
    if args.clip is not None and not args.clip.is_file():
        raise ValueError(f"{args.clip}: clip not found")


def is_explanation(path: Path) -> bool:
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(content, dict) and all(key in content for key in JSON_KEYS)


def planned_outputs(args: argparse.Namespace, frame_count: int) -> list[PlannedOutput]:
    outputs = [PlannedOutput(args.out, "explanation", is_explanation)]
    if args.saliency is not None:
        names = saliency_file_names(strip_positions(frame_count))
        outputs += [PlannedOutput(args.saliency / name, "saliency image") for name in names]
    return outputs


def stored_or_planned_clip(args: argparse.Namespace) -> ClipToExplain | None:
    """The stored clip, or None for --clip (featurised only once the outputs are cleared)."""
    if args.clip is None:
        return stored_clip(args.features, args.video)
    return None


def clip_recipe(
    args: argparse.Namespace, members: list[LoadedCheckpoint], clip: ClipToExplain | None
) -> FeatureRecipe | None:
    if clip is not None:
        return clip.recipe
    return ensemble_recipe(members, args.features or ProjectPaths.at().features_file("test"))


def check_saliency_source(
    args: argparse.Namespace, clip: ClipToExplain | None, recipe: FeatureRecipe | None
) -> None:
    """--saliency needs the decoded frames: a recipe and, for a stored video, its file on disk."""
    if args.saliency is None or clip is None:
        return
    if recipe is None:
        raise ValueError(
            f"{args.features} records no feature recipe, so the video's frames cannot be decoded"
        )
    if clip.video_path is None:
        looked = ", ".join(map(str, video_file_places(args.features, clip.name)))
        raise ValueError(
            f"the video file of {clip.name} is not on disk (looked for {looked}); --saliency needs it"
        )


def choose_target(args: argparse.Namespace, members: list[LoadedCheckpoint], clip: ClipToExplain) -> int:
    if args.target is not None:
        return class_index_of(clip.class_names, args.target)
    return predicted_class(members, args.member, clip.sequence)


def saliency_maps(
    args: argparse.Namespace, clip: ClipToExplain, predictor: ExplainedPredictor
) -> SaliencyMaps | None:
    if args.saliency is None or clip.recipe is None:
        return None
    frames = decoded_frames(clip)
    backbone = load_backbone(clip.recipe.backbone, args.weights, args.device)
    return grad_cam(backbone, frames, clip.recipe, predictor, strip_positions(len(frames)))


def explanation_json(explanation: Explanation, saliency: SaliencyMaps | None) -> dict:
    content = explanation.to_json_dict()
    if saliency is not None:
        content["saliency"] = {
            "colormap": COLORMAP_NAME,
            "peak": round(saliency.peak, 9),
            "frames": [int(p) for p in saliency.positions],
            "flat_frames": [int(p) for p in saliency.positions[saliency.flat]],
        }
    return content


def write_results(
    explanation: Explanation, saliency: SaliencyMaps | None, outputs: list[PlannedOutput]
) -> None:
    """The JSON and the overlays land together, or none of them."""
    with atomic_paths([output.path for output in outputs]) as temps:
        content = explanation_json(explanation, saliency)
        temps[0].write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
        if saliency is not None:
            write_overlays(saliency, temps[1:])


def run(args: argparse.Namespace) -> int:
    check_source(args)
    paths, warnings = resolve_checkpoint_paths(args.models, args.checkpoints)
    ensemble = usable_ensemble(paths, args.device)
    members = ensemble.members
    if args.member is not None:
        find_member(members, args.member)
    class_names = list(members[0].class_names)
    clip = stored_or_planned_clip(args)
    if args.target is not None:
        class_index_of(clip.class_names if clip else class_names, args.target)
    recipe = clip_recipe(args, members, clip)
    check_saliency_source(args, clip, recipe)
    outputs = planned_outputs(args, recipe.num_frames if recipe else 0)
    inputs = [*paths, *(p for p in (args.features, args.clip) if p is not None)]
    check_outputs(outputs, overwrite=args.overwrite, inputs=inputs)
    for warning in [*warnings, *(f"skipped {error}" for error in ensemble.errors)]:
        print(f"warning: {warning}", file=sys.stderr)
    if clip is None:
        fetch_weights(recipe.backbone, args.weights)  # type: ignore[union-attr]
        clip = featurized_clip(args.clip, recipe, class_names, weights=args.weights, device=args.device)  # type: ignore[arg-type]
    predictor = explained_predictor(members, args.member, choose_target(args, members, clip))
    explanation = explain(
        predictor, clip.sequence, args.method, video=clip.name, class_names=clip.class_names
    )
    write_results(explanation, saliency_maps(args, clip, predictor), outputs)
    print(summary_line(explanation, args.out))
    return 0


def summary_line(explanation: Explanation, out: Path) -> str:
    randoms = explanation.random_deletion_areas
    verdict = (
        "faithful (below every random order)"
        if explanation.faithful
        else "not faithful (not below every random order)"
    )
    note = curve_note(explanation)
    return (
        f"{explanation.video}: {explanation.member} towards {explanation.target} by {explanation.method}; "
        f"deletion area {explanation.deletion_area:.4f}, {len(randoms)} random orders "
        f"{randoms.min():.4f}-{randoms.max():.4f}: {verdict}"
        f"{f'; {note}' if note else ''}; wrote {out}"
    )
