"""`python -m core extract`: featurise a labelled video folder into a feature file (docs/formats.md).

The work behind the command; `core.commands.extract` only parses its flags."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from functools import partial

from tqdm import tqdm

from core.commands.weights import fetch_weights
from core.features.backbones import backbone_spec
from core.features.extraction import (
    ExtractionOptions,
    ExtractionProgress,
    ExtractionReport,
    extract_directory,
)
from core.features.recipe import FeatureRecipe
from core.features.writer import is_written_features_file
from core.outputs import PlannedOutput, check_outputs

EXIT_SKIPPED = 1


def recipe_from_args(args: argparse.Namespace) -> FeatureRecipe:
    spec = backbone_spec(args.backbone)
    return FeatureRecipe(
        backbone=spec.name,
        num_frames=args.frames,
        image_size=args.image_size,
        scales=tuple(args.scales),
        normalization=args.normalization or spec.normalization,
        feature_dim=spec.feature_dim,
    )


def print_report(report: ExtractionReport) -> None:
    if report.already_present:
        print(f"{report.already_present} video(s) were already in {report.out_path} (resumed)")
    print(f"wrote {report.written} video(s) to {report.out_path}")
    if report.skipped:
        print(f"skipped {len(report.skipped)} file(s):", file=sys.stderr)
        for name, reason in report.skipped:
            print(f"  {name}: {reason}", file=sys.stderr)


def ray_engine(args: argparse.Namespace) -> Callable[..., ExtractionReport]:
    """`extract_directory_ray` bound to the cluster flags; Ray is imported only here."""
    try:
        from core.features.ray_engine import DEFAULT_SHARD_VIDEOS, RayOptions, extract_directory_ray
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] != "ray":
            raise
        raise ValueError("--engine ray needs Ray: pip install -r requirements-ray.txt") from None
    cluster = RayOptions(
        address=args.address,
        actors=args.actors,
        shard_videos=args.shard_videos or DEFAULT_SHARD_VIDEOS,
        shard_dir=args.shards,
    )
    return partial(extract_directory_ray, cluster=cluster)


def check_extraction_output(args: argparse.Namespace) -> bool:
    """Refuse an OUT that is someone else's file; returns whether OUT can be resumed."""
    planned = PlannedOutput(args.out, "feature file", is_written_features_file)
    check_outputs([planned], overwrite=args.overwrite)
    return not args.no_resume and is_written_features_file(args.out)


def run(args: argparse.Namespace) -> int:
    recipe = recipe_from_args(args)
    resume = check_extraction_output(args)
    fetch_weights(recipe.backbone, args.weights)
    with tqdm(total=0, unit="video", desc="extracting", file=sys.stderr) as bar:

        def progress(update: ExtractionProgress) -> None:
            bar.total = update.total
            bar.set_postfix_str(
                f"{update.videos_per_s:.2f} videos/s, ETA {update.eta_s:.0f}s, {update.current}"
            )
            bar.update(update.done - bar.n)

        engine = extract_directory if args.engine == "local" else ray_engine(args)
        options = ExtractionOptions(
            recipe=recipe,
            class_names=args.classes,
            weights=args.weights,
            batch_size=args.batch_size,
            device=args.device,
            resume=resume,
        )
        report = engine(args.videos, args.out, options, progress=progress)
    print_report(report)
    return EXIT_SKIPPED if report.skipped else 0
