"""Seconds per training epoch (train + validation): our trainer against a reference loop written
like the original's, on the same data, the same member size and the same device, in one run.

  ours       core.training.member.train_member: class-balanced batches padded to their longest
             sequence, padding masked (each LSTM direction run unpacked with the backward one on
             sequences reversed within their length, key_padding_mask, masked pooling), cosine
             restarts stepped by epoch fractions;
  reference  the original's loop: every batch padded to the file's full length and run unmasked,
             CosineAnnealingWarmRestarts(T_0=20, T_mult=2) stepped once per batch, otherwise the
             same sampler, augmentation, focal loss, AdamW and gradient clipping.
The ratio is the reference's median seconds per epoch / ours (above 1: ours is faster); the first
epoch of every run is a warm-up and not timed. The CPU-time ratio compares whole runs' process CPU
seconds, steadier than wall time while other jobs load the machine.

--shorter-share sets the share of videos shorter than the full length: 0.25 is shaped like the
original's features, 0 gives every video all 73 steps (the training augmentation still drops steps
from half the sequences, so batches mix lengths either way).

    python bench/bench_training.py --videos 96 --hidden-dim 128 --lstm-layers 2 --epochs 2 --rounds 2

With --panel-vs-cli PROJECT (a project folder, e.g. a demo build), it measures instead the
seconds per epoch of a retrain started from the app against `python -m core retrain`, for the
same member of that project, in one run, while an app-like load runs in this process (the
background TTA pass: every member over the test split in every TTA mode, again and again):

  cli      `python -m core retrain` as a separate command (its own process);
  panel    what the app's *Start retraining* does: `RetrainRegistry.submit`, a worker process;
  thread   the earlier mechanism, for the cause: the same training in a thread of this process,
           beside the TTA load (shared GIL, and torch's thread count the TTA pass sets to one).
The form's estimate (`estimate_in_own_process`, the timing process the app starts, while the
app-like load runs here) is printed beside them. Epoch 1 of every run is a warm-up and not counted.

    python bench/bench_training.py --panel-vs-cli . --member 1 --epochs 4 --rounds 2
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.classes import CLASS_NAMES
from core.device import default_device
from core.evaluation.metrics import compute_metrics
from core.features.store import FeatureSet, open_features
from core.model.checkpoints import find_ensemble_checkpoints, load_checkpoint
from core.model.inference import predict_split
from core.model.network import TemporalClassifier, TemporalModelConfig
from core.model.tta import TTA_MODES
from core.paths import ProjectPaths, features_file_name
from core.training.batches import SequenceDataset, balanced_sampler
from core.training.ensemble import load_training_splits
from core.training.estimate_process import estimate_in_own_process
from core.training.jobs import RetrainRegistry, RetrainRequest, RetrainState
from core.training.losses import FocalLoss, class_balanced_alpha
from core.training.member import TrainingConfig, train_member
from core.training.retrain import plan_retrain, retrain_member


def synthetic_split(videos: int, steps: int, dim: int, seed: int, shorter_share: float) -> FeatureSet:
    """Most videos fill every step (64 decoded frames give 73); `shorter_share` are shorter clips."""
    rng = np.random.default_rng(seed)
    labels = np.arange(videos) % len(CLASS_NAMES)
    shorter = rng.random(videos) < shorter_share
    lengths = np.where(shorter, rng.integers(steps // 4, steps, videos), steps).astype(np.int32)
    centres = rng.normal(size=(len(CLASS_NAMES), dim)).astype(np.float32)
    features = np.zeros((videos, steps, dim), dtype=np.float32)
    for i, (label, length) in enumerate(zip(labels, lengths, strict=True)):
        features[i, :length] = centres[label] + rng.normal(scale=1.0, size=(length, dim))
    names = [f"{CLASS_NAMES[k]}/bench/clip_{i}.mp4" for i, k in enumerate(labels)]
    return FeatureSet(features, labels.astype(np.int64), lengths, names, list(CLASS_NAMES), None)


def full_length_collate(steps: int):
    """The original's batches: every sequence zero-padded to the file's full length."""

    def collate(batch):
        x = torch.zeros(len(batch), steps, batch[0][0].shape[1])
        for row, (sequence, _) in enumerate(batch):
            x[row, : sequence.shape[0]] = sequence
        return x, torch.tensor([label for _, label in batch])

    return collate


def reference_epochs(
    train: FeatureSet, val: FeatureSet, model_config: TemporalModelConfig, config: TrainingConfig, device
) -> list[float]:
    """Seconds of each epoch of the original-style loop."""
    torch.manual_seed(config.base_seed)
    model = TemporalClassifier(model_config).to(device)
    criterion = FocalLoss(
        class_balanced_alpha(train.labels, model_config.num_classes, clip=config.alpha_clip),
        gamma=config.focal_gamma,
        label_smoothing=config.label_smoothing,
    ).to(device)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    scheduler = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
        optimizer, T_0=20, T_mult=2, eta_min=1e-6
    )
    steps = train.features.shape[1]
    dataset = SequenceDataset(
        train.features,
        train.num_frames,
        train.labels,
        augmentation=config.augmentation,
        seed=config.base_seed,
    )
    loader = DataLoader(
        dataset,
        batch_size=config.batch_size,
        sampler=balanced_sampler(train.labels, seed=config.base_seed),
        collate_fn=full_length_collate(steps),
    )
    val_loader = DataLoader(
        SequenceDataset(val.features, val.num_frames, val.labels),
        batch_size=config.batch_size,
        collate_fn=full_length_collate(steps),
    )
    seconds = []
    for _ in range(config.max_epochs):
        started = time.perf_counter()
        model.train()
        predictions, targets = [], []
        for x, labels in loader:
            x, labels = x.to(device), labels.to(device)
            optimizer.zero_grad()
            # Unmasked: every step counts as real, padding included.
            logits = model(x, torch.full((len(labels),), steps))
            loss = criterion(logits, labels)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip_norm)
            optimizer.step()
            scheduler.step()  # per batch: T_0=20 means 20 batches
            predictions.append(logits.argmax(1).cpu().numpy())
            targets.append(labels.cpu().numpy())
        compute_metrics(np.concatenate(targets), np.concatenate(predictions), model_config.num_classes)
        model.eval()
        with torch.no_grad():
            val_predictions = [
                model(x.to(device), torch.full((len(y),), steps)).argmax(1).cpu() for x, y in val_loader
            ]
        compute_metrics(val.labels, torch.cat(val_predictions).numpy(), model_config.num_classes)
        seconds.append(time.perf_counter() - started)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--videos", type=int, default=192, help="training videos (validation: a quarter)")
    parser.add_argument("--steps", type=int, default=73, help="stored time steps (73 for 64 frames)")
    parser.add_argument(
        "--shorter-share", type=float, default=0.25, help="share of videos shorter than --steps"
    )
    parser.add_argument("--dim", type=int, default=1280)
    parser.add_argument("--hidden-dim", type=int, default=128)
    parser.add_argument("--lstm-layers", type=int, default=2)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=48)
    parser.add_argument("--epochs", type=int, default=2, help="epochs timed per trainer (after one warm-up)")
    parser.add_argument("--rounds", type=int, default=2, help="ours-then-reference rounds, order alternating")
    parser.add_argument("--device", choices=("cpu", "cuda"))
    parser.add_argument(
        "--panel-vs-cli", type=Path, metavar="PROJECT", help="compare the retrain mechanisms instead"
    )
    parser.add_argument("--member", type=int, default=1, help="with --panel-vs-cli: the member to retrain")
    args = parser.parse_args()
    if args.panel_vs_cli is not None:
        compare_retrain_mechanisms(args.panel_vs_cli, args.member, args.epochs + 1, args.rounds)
        return
    device = torch.device(args.device) if args.device else default_device()
    train = synthetic_split(args.videos, args.steps, args.dim, seed=1, shorter_share=args.shorter_share)
    val = synthetic_split(
        max(args.videos // 4, 4), args.steps, args.dim, seed=2, shorter_share=args.shorter_share
    )
    model_config = TemporalModelConfig(
        feature_dim=args.dim,
        hidden_dim=args.hidden_dim,
        num_lstm_layers=args.lstm_layers,
        num_attention_heads=args.heads,
        num_classes=len(CLASS_NAMES),
    )
    config = TrainingConfig(max_epochs=args.epochs + 1, patience=args.epochs + 2, batch_size=args.batch_size)
    shorter = f"{np.mean(train.num_frames < args.steps):.0%} shorter"
    sizes = f"{args.videos} train / {val.num_videos} val videos of {args.steps}x{args.dim}, {shorter}"
    member = f"member H{args.hidden_dim}x{args.lstm_layers}L, batch {args.batch_size}"
    print(f"device {device}, torch threads {torch.get_num_threads()}; {sizes}; {member}")
    ours: list[float] = []
    reference: list[float] = []
    cpu: dict[str, list[float]] = {"ours": [], "reference": []}

    def time_ours() -> None:
        started = time.process_time()
        result = train_member(train, val, model_config=model_config, config=config, device=device)
        cpu["ours"].append(time.process_time() - started)
        ours.extend(result.history["time_s"][1:])

    def time_reference() -> None:
        started = time.process_time()
        reference.extend(reference_epochs(train, val, model_config, config, device)[1:])
        cpu["reference"].append(time.process_time() - started)

    # Rounds alternate which trainer goes first, so a load change on a shared machine hits both.
    for round_index in range(args.rounds):
        order = (time_ours, time_reference) if round_index % 2 == 0 else (time_reference, time_ours)
        for timed in order:
            timed()
    ours_s, reference_s = float(np.median(ours)), float(np.median(reference))
    print(f"ours       {ours_s:7.2f} s/epoch median  ({', '.join(f'{s:.2f}' for s in ours)})")
    print(f"reference  {reference_s:7.2f} s/epoch median  ({', '.join(f'{s:.2f}' for s in reference)})")
    print(f"ratio reference/ours: {reference_s / ours_s:.2f}x")
    # CPU seconds of whole runs (warm-up epoch included) are what each trainer itself spent, which
    # other jobs on a shared machine inflate far less than wall seconds.
    cpu_ours, cpu_reference = float(np.median(cpu["ours"])), float(np.median(cpu["reference"]))
    print(
        f"CPU s per run (all threads, {config.max_epochs} epochs): "
        f"ours {cpu_ours:.1f}, reference {cpu_reference:.1f}"
    )
    print(f"ratio reference/ours, CPU time: {cpu_reference / cpu_ours:.2f}x")


# --- A retrain started from the app against the command line's ---------------------------------


class AppLoad:
    """The app's background TTA pass, repeated in a thread of this process until stopped."""

    def __init__(self, paths: ProjectPaths) -> None:
        self.models = [load_checkpoint(p, "cpu").model for p in find_ensemble_checkpoints(paths.models_dir)]
        self.features = paths.features_file("test")
        self.stop = threading.Event()
        self.passes = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            with open_features(self.features) as handle:
                predict_split(self.models, handle, TTA_MODES, device="cpu")
            self.passes += 1

    def __enter__(self) -> AppLoad:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def _epoch_times(rows: list[dict]) -> list[float]:
    return [float(row["time_s"]) for row in rows][1:]


def time_cli(paths: ProjectPaths, member: int, epochs: int, scratch: Path) -> list[float]:
    out = scratch / f"cli-{time.monotonic_ns()}"
    command = [
        sys.executable, "-m", "core", "retrain", "--models", str(paths.models_dir), "--member", str(member),
        "--features", str(paths.features_dir), "--out", str(out), "--epochs", str(epochs),
        "--patience", str(epochs + 1), "--device", "cpu",
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, cwd=Path(__file__).resolve().parents[1])
    return _epoch_times(pd.read_csv(out / "training_metrics.csv").to_dict("records"))


def time_panel(paths: ProjectPaths, member: int, epochs: int, scratch: Path) -> list[float]:
    options = {"max_epochs": epochs, "patience": epochs + 1}
    request = RetrainRequest(paths.models_dir, paths.features_dir, member, None, options, "cpu")
    snapshot = RetrainRegistry().submit(request, scratch / "jobs").wait()
    if snapshot.state is not RetrainState.FINISHED:
        raise RuntimeError(f"the panel's job ended {snapshot.state}: {snapshot.error}")
    return _epoch_times(snapshot.rows)


def time_thread(paths: ProjectPaths, member: int, epochs: int, scratch: Path) -> list[float]:
    options = {"max_epochs": epochs, "patience": epochs + 1}
    out = scratch / f"thread-{time.monotonic_ns()}"
    plan = plan_retrain(paths.models_dir, member, paths.features_dir, out, options=options)
    train, val = load_training_splits(paths.features_dir)
    rows: list[dict] = []

    def work() -> None:
        cpu = torch.device("cpu")
        retrain_member(plan, train, val, device=cpu, on_epoch=lambda r: rows.append(r.to_row()))

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    return _epoch_times(rows)


def form_estimate(paths: ProjectPaths, member: int) -> float:
    return estimate_in_own_process(paths.models_dir, member, paths.features_dir, "cpu").seconds_per_epoch


def compare_retrain_mechanisms(project: Path, member: int, epochs: int, rounds: int) -> None:
    paths = ProjectPaths.at(project)
    for split in ("train", "val", "test"):
        if not (paths.features_dir / features_file_name(split)).is_file():
            raise SystemExit(f"{paths.features_dir}: no {split} features; build one: python -m core demo")
    timers: dict[str, Callable[[ProjectPaths, int, int, Path], list[float]]] = {
        "cli": time_cli,
        "panel": time_panel,
        "thread": time_thread,
    }
    seconds: dict[str, list[float]] = {name: [] for name in timers}
    with tempfile.TemporaryDirectory(prefix=".bench-", dir=paths.root) as scratch, AppLoad(paths) as load:
        estimates: list[float] = []
        for round_index in range(rounds):
            estimates.append(form_estimate(paths, member))
            names = list(timers) if round_index % 2 == 0 else list(reversed(timers))
            for name in names:
                seconds[name].extend(timers[name](paths, member, epochs, Path(scratch)))
        passes = load.passes
    print(f"member {member} of {paths.models_dir}, {epochs} epochs x {rounds} rounds, torch threads "
          f"{torch.get_num_threads()}, {passes} TTA passes of app load meanwhile")  # fmt: skip
    medians = {name: float(np.median(values)) for name, values in seconds.items()}
    for name, values in seconds.items():
        print(f"{name:7s} {medians[name]:7.2f} s/epoch median  ({', '.join(f'{s:.2f}' for s in values)})")
    estimate = float(np.median(estimates))
    print(f"form estimate {estimate:.2f} s/epoch median  ({', '.join(f'{s:.2f}' for s in estimates)}): "
          f"{estimate / medians['panel']:.2f}x the panel's epochs (target 0.67x to 1.5x)")  # fmt: skip
    print(f"ratio panel/cli: {medians['panel'] / medians['cli']:.2f}x (target at most 1.3x); "
          f"thread/cli: {medians['thread'] / medians['cli']:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
