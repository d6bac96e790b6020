"""`python -m core retrain`: train a candidate for one ensemble member into another folder."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from core.commands.train import add_training_options, format_progress
from core.training.config import AugmentationConfig

# Flag destination -> TrainingConfig field, for the options given on the command line.
TRAINING_FIELDS = {
    "epochs": "max_epochs", "patience": "patience", "batch_size": "batch_size", "lr": "learning_rate",
    "weight_decay": "weight_decay", "gamma": "focal_gamma", "label_smoothing": "label_smoothing",
    "restart_epochs": "restart_epochs", "restart_mult": "restart_mult", "eta_min": "eta_min",
    "betas": "betas", "alpha_clip": "alpha_clip", "grad_clip": "grad_clip_norm",
}  # fmt: skip
MODEL_FIELDS = {
    "hidden_dim": "hidden_dim", "lstm_layers": "num_lstm_layers", "heads": "num_attention_heads",
    "dropout": "dropout",
}  # fmt: skip


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "retrain",
        help="train a candidate for one member (checkpoint, history, provenance) into --out",
        description="Every training option defaults to the recipe recorded with --models.",
    )
    parser.add_argument("--models", type=Path, default=Path("models_enhanced"), help="the ensemble's folder")
    parser.add_argument("--member", type=int, required=True, help="the member to retrain (its number K)")
    parser.add_argument(
        "--features",
        type=Path,
        default=Path("features_enhanced"),
        help="folder with {train,val}_features_multiscale.h5 of the member's recipe",
    )
    parser.add_argument("--out", type=Path, required=True, help="candidate folder (outside --models)")
    parser.add_argument("--seed", type=int, help="default: the first seed after every member's")
    parser.add_argument("--overwrite", action="store_true", help="replace the candidate's files in --out")
    parser.add_argument("--device", choices=("cpu", "cuda"), help="default: cuda when available")
    add_training_options(parser, recorded_defaults=True)
    parser.set_defaults(func=run)


def training_options(args: argparse.Namespace) -> dict[str, Any]:
    """The recipe fields the command line sets; the others keep the recorded recipe."""
    given = vars(args)
    options: dict[str, Any] = {
        field: tuple(given[dest]) if isinstance(given[dest], list) else given[dest]
        for dest, field in TRAINING_FIELDS.items()
        if dest in given
    }
    if given.get("no_augmentation"):
        options["augmentation"] = AugmentationConfig(subsample_p=0.0, roll_p=0.0, noise_p=0.0)
    if given.get("no_balanced_sampling"):
        options["balanced_sampling"] = False
    return options


def model_options(args: argparse.Namespace) -> dict[str, Any]:
    given = vars(args)
    return {field: given[dest] for dest, field in MODEL_FIELDS.items() if dest in given}


def run(args: argparse.Namespace) -> int:
    # torch and the training stack load only when the command runs, never for --help or a flag error.
    import torch

    from core.training.ensemble import load_training_splits
    from core.training.member import TrainingProgress
    from core.training.retrain import plan_retrain, retrain_member

    plan = plan_retrain(
        args.models,
        args.member,
        args.features,
        args.out,
        seed=args.seed,
        options=training_options(args),
        model_options=model_options(args),
    )
    train, val = load_training_splits(args.features)
    seeds = ", ".join(map(str, plan.recipe.used_seeds))
    print(
        f"retraining member {plan.member} of {args.models} with seed {plan.seed} "
        f"(seeds in use: {seeds}); recipe from {plan.recipe.training_source}"
    )
    report = retrain_member(
        plan,
        train,
        val,
        overwrite=args.overwrite,
        device=torch.device(args.device) if args.device else None,
        on_epoch=lambda r: print(
            format_progress(TrainingProgress(plan.member, 1, r, plan.config.max_epochs)), flush=True
        ),
    )
    if report.resumed_from_epoch:
        print(f"resumed the interrupted run after epoch {report.resumed_from_epoch}")
    result = report.provenance["result"]
    per_class = ", ".join(f"{name} {value:.1f}%" for name, value in result["val_f1_per_class"].items())
    print(
        f"candidate: best epoch {result['best_epoch']} of {result['epochs_trained']}, "
        f"val acc {result['val_accuracy']:.2f}%, class F1 {per_class}"
    )
    print(f"wrote {plan.checkpoint_path}, {plan.history_path.name}, {plan.provenance_path.name}")
    return 0
