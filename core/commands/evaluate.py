"""`python -m core evaluate`: score checkpoints on a features file and write a run (JSON and its
`.npz` probabilities sidecar)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from core.commands.cluster import add_engine_flags, import_ray_module
from core.model.config import DEFAULT_BATCH_SIZE, TTA_MODES

if TYPE_CHECKING:
    from core.evaluation.runs import SplitEngine


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("evaluate", help="evaluate checkpoints, the ensemble and TTA on a split")
    parser.add_argument("--models", type=Path, default=Path("models_enhanced"), help="checkpoint folder")
    parser.add_argument("--checkpoints", type=Path, nargs="+", help="explicit ensemble members (files)")
    parser.add_argument("--features", type=Path, required=True, help="*_features_multiscale.h5 file")
    parser.add_argument(
        "--tta", action="store_true", help="also score the ensemble with test-time augmentation"
    )
    parser.add_argument("--tta-modes", nargs="+", choices=TTA_MODES, default=list(TTA_MODES))
    parser.add_argument(
        "--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="sequences per forward pass"
    )
    parser.add_argument("--device", choices=("cpu", "cuda"), help="default: cuda when available")
    parser.add_argument(
        "--out", type=Path, required=True, help="run JSON to write, probabilities to <name>.npz"
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace an existing file at --out or its sidecar"
    )
    parser.add_argument(
        "--swap",
        action="append",
        default=[],
        metavar="K=PATH",
        help="evaluate the ensemble with member K replaced by the checkpoint PATH (repeatable)",
    )
    add_engine_flags(
        parser,
        ray_does="row ranges of the features file predicted by an actor pool",
        actors_help="ensemble actors (default: one per GPU, else one per CPU)",
    )
    parser.set_defaults(func=run)


def ray_engine(args: argparse.Namespace) -> SplitEngine:
    module = import_ray_module("core.evaluation.ray_evaluate")
    return module.RayEvaluation.beside(args.out, address=args.address, actors=args.actors, device=args.device)


def chosen_swaps(texts: Sequence[str]) -> dict[int, Path]:
    """Every `--swap K=PATH`; the same K twice is refused: which file was meant cannot be guessed."""
    from core.evaluation.runs import EvaluationError, parse_swap

    swaps: dict[int, Path] = {}
    for text in texts:
        member, path = parse_swap(text)
        if member in swaps:
            raise EvaluationError(
                f"--swap {member}= is given twice ({swaps[member]} and {path}); swap each member once"
            )
        swaps[member] = path
    return swaps


def check_swaps_load(swaps: Mapping[int, Path]) -> None:
    """A swapped-in checkpoint that does not load refuses the run: unlike a broken member of the
    folder, skipping it would score an ensemble nobody asked for under the swap's name."""
    from core.evaluation.runs import EvaluationError
    from core.model.checkpoints import CheckpointError, load_checkpoint

    for member, path in swaps.items():
        try:
            load_checkpoint(path, "cpu")
        except CheckpointError as exc:
            raise EvaluationError(f"--swap {member}={path}: {exc.problem}; nothing evaluated") from None


def run(args: argparse.Namespace) -> int:
    # torch and h5py load only when the command runs, never for --help or a flag error.
    from tqdm import tqdm

    from core.evaluation.runs import (
        apply_swaps,
        check_run_outputs,
        resolve_checkpoint_paths,
        run_evaluation,
        save_run,
    )

    engine = ray_engine(args) if args.engine == "ray" else None
    paths, warnings = resolve_checkpoint_paths(args.models, args.checkpoints)
    chosen = chosen_swaps(args.swap)
    paths, swaps = apply_swaps(paths, chosen)
    check_run_outputs(args.out, overwrite=args.overwrite, inputs=[args.features, *paths])
    check_swaps_load(chosen)
    with tqdm(total=0, unit="seq", desc="evaluating", file=sys.stderr) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        result = run_evaluation(
            paths,
            args.features,
            tta_modes=args.tta_modes if args.tta else (),
            batch_size=args.batch_size,
            device=args.device,
            progress=progress,
            warnings=warnings,
            engine=engine,
            swaps=swaps,
        )
    # Missing or skipped members do not stop the run; each is said once, and kept in the run.
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    save_run(result, args.out)
    for member, path in swaps.items():
        print(f"{member} swapped for {path}")
    for name, scores in result.scores.items():
        print(f"{name:28s} accuracy {scores.accuracy:5.1f}%  weighted F1 {scores.f1_weighted:5.1f}%")
    if result.engine != "local":
        print(f"ran on the {result.engine} cluster at {result.address} ({result.device})")
    print(f"wrote {args.out}")
    return 0
