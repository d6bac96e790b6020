"""`python -m core train`: train the temporal-model ensemble on extracted features."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from core.commands.cluster import add_engine_flags, import_ray_module
from core.model.config import TemporalModelConfig
from core.training.config import AugmentationConfig, TrainingConfig

if TYPE_CHECKING:
    from core.training.ensemble import MemberRunner
    from core.training.member import TrainingProgress

DEFAULTS = TrainingConfig()
MODEL_DEFAULTS = TemporalModelConfig()


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train the ensemble: checkpoints, training_metrics.csv, configuration_analysis.json",
    )
    parser.add_argument("--features", type=Path, default=Path("features_enhanced"),
                        help="folder with {train,val}_features_multiscale.h5")  # fmt: skip
    parser.add_argument("--out", type=Path, default=Path("models_enhanced"), help="output folder")
    parser.add_argument("--models", type=int, default=4, help="ensemble size (member i uses seed + i - 1)")
    parser.add_argument("--resume", action="store_true", help="keep finished members of an interrupted run")
    parser.add_argument("--overwrite", action="store_true", help="replace artifacts already in --out")
    parser.add_argument("--seed", type=int, default=DEFAULTS.base_seed, help="seed of member 1")
    parser.add_argument("--device", choices=("cpu", "cuda"), help="default: cuda when available")
    add_training_options(parser)
    add_engine_flags(
        parser,
        ray_does="the members trained in parallel as tasks",
        actors_help="members trained at once (default: all; one GPU each, or the CPUs shared)",
    )
    parser.set_defaults(func=run)


def add_training_options(parser: argparse.ArgumentParser, *, recorded_defaults: bool = False) -> None:
    """The recipe's options. With `recorded_defaults` (retrain) an option left out is absent from
    the parsed arguments, so the recipe recorded with the models applies instead."""
    own = argparse.SUPPRESS if recorded_defaults else None

    def default(value: object) -> object:
        return own or value

    parser.add_argument(
        "--epochs", type=int, default=default(DEFAULTS.max_epochs), help="maximum epochs per member"
    )
    parser.add_argument(
        "--patience", type=int, default=default(DEFAULTS.patience), help="early-stopping patience"
    )
    parser.add_argument("--batch-size", type=int, default=default(DEFAULTS.batch_size))
    parser.add_argument("--lr", type=float, default=default(DEFAULTS.learning_rate))
    parser.add_argument("--weight-decay", type=float, default=default(DEFAULTS.weight_decay))
    parser.add_argument("--gamma", type=float, default=default(DEFAULTS.focal_gamma), help="focal-loss gamma")
    parser.add_argument("--label-smoothing", type=float, default=default(DEFAULTS.label_smoothing))
    parser.add_argument("--restart-epochs", type=int, default=default(DEFAULTS.restart_epochs),
                        help="epochs to the first cosine restart (T_0)")  # fmt: skip
    parser.add_argument(
        "--restart-mult", type=int, default=default(DEFAULTS.restart_mult), help="cycle growth (T_mult)"
    )
    parser.add_argument(
        "--eta-min", type=float, default=default(DEFAULTS.eta_min), help="lowest learning rate"
    )
    parser.add_argument(
        "--betas", type=float, nargs=2, default=default(list(DEFAULTS.betas)), metavar=("B1", "B2")
    )
    parser.add_argument("--alpha-clip", type=float, nargs=2, default=default(list(DEFAULTS.alpha_clip)),
                        metavar=("LO", "HI"), help="clip range of the focal alpha")  # fmt: skip
    parser.add_argument(
        "--grad-clip", type=float, default=default(DEFAULTS.grad_clip_norm), help="gradient-norm clip"
    )
    parser.add_argument(
        "--no-augmentation",
        action="store_true",
        default=default(False),
        help="train on the features unchanged",
    )
    parser.add_argument(
        "--no-balanced-sampling",
        action="store_true",
        default=default(False),
        help="shuffle instead of balancing",
    )
    parser.add_argument("--hidden-dim", type=int, default=default(MODEL_DEFAULTS.hidden_dim))
    parser.add_argument("--lstm-layers", type=int, default=default(MODEL_DEFAULTS.num_lstm_layers))
    parser.add_argument("--heads", type=int, default=default(MODEL_DEFAULTS.num_attention_heads))
    parser.add_argument("--dropout", type=float, default=default(MODEL_DEFAULTS.dropout))


def member_runner(args: argparse.Namespace) -> MemberRunner:
    from core.training.ensemble import train_here

    if args.engine == "local":
        return train_here
    ray_train = import_ray_module("core.training.ray_train")
    return ray_train.RayTraining(address=args.address, parallel=args.actors)


def training_config_from_args(args: argparse.Namespace) -> TrainingConfig:
    return TrainingConfig(
        max_epochs=args.epochs,
        patience=args.patience,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        weight_decay=args.weight_decay,
        focal_gamma=args.gamma,
        label_smoothing=args.label_smoothing,
        restart_epochs=args.restart_epochs,
        restart_mult=args.restart_mult,
        eta_min=args.eta_min,
        betas=tuple(args.betas),
        alpha_clip=tuple(args.alpha_clip),
        grad_clip_norm=args.grad_clip,
        augmentation=AugmentationConfig(subsample_p=0.0, roll_p=0.0, noise_p=0.0)
        if args.no_augmentation
        else AugmentationConfig(),
        balanced_sampling=not args.no_balanced_sampling,
        base_seed=args.seed,
    )


def model_config_from_args(args: argparse.Namespace) -> TemporalModelConfig:
    return TemporalModelConfig(
        hidden_dim=args.hidden_dim,
        num_lstm_layers=args.lstm_layers,
        num_attention_heads=args.heads,
        dropout=args.dropout,
    )


def format_progress(progress: TrainingProgress) -> str:
    r = progress.record
    per_class = " ".join(f"{f1:5.1f}" for f1 in r.class_f1)
    return (
        f"model {progress.member}/{progress.num_models} epoch {r.epoch:3d}/{progress.max_epochs} | "
        f"train loss {r.train_loss:.4f} acc {r.train_acc:5.1f}% F1 {r.train_f1:5.1f}% | "
        f"val loss {r.val_loss:.4f} acc {r.val_acc:5.1f}% F1 {r.val_f1:5.1f}% | "
        f"class F1 [{per_class}] | lr {r.lr:.2e} | {r.time_s:.1f}s"
    )


def run(args: argparse.Namespace) -> int:
    # torch and the training stack load only when the command runs, never for --help or a flag error.
    import torch

    from core.training.ensemble import load_training_splits, train_ensemble

    runner = member_runner(args)
    train, val = load_training_splits(args.features)
    print(f"train: {train.num_videos} videos, val: {val.num_videos} videos, {train.feature_dim}-d features")
    report = train_ensemble(
        train,
        val,
        args.out,
        num_models=args.models,
        model_config=model_config_from_args(args),
        config=training_config_from_args(args),
        resume=args.resume,
        overwrite=args.overwrite,
        device=torch.device(args.device) if args.device else None,
        progress=lambda p: print(format_progress(p), flush=True),
        runner=runner,
    )
    for problem in report.rejected:
        print(f"warning: {problem}", file=sys.stderr)
    if report.skipped:
        print(f"kept finished models from the interrupted run: {report.skipped}")
    for name, entry in report.summary["checkpoints"].items():
        print(
            f"{name}: best epoch {entry['epoch']} of {entry['epochs_trained']}, "
            f"val acc {entry['val_accuracy']:.2f}%, weighted F1 {entry['val_f1_weighted']:.2f}%"
        )
    print(f"wrote {report.out_dir}")
    return 0
