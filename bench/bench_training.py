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
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.classes import CLASS_NAMES
from core.device import default_device
from core.evaluation.metrics import compute_metrics
from core.features.store import FeatureSet
from core.model.network import TemporalClassifier, TemporalModelConfig
from core.training.batches import SequenceDataset, balanced_sampler
from core.training.losses import FocalLoss, class_balanced_alpha
from core.training.member import TrainingConfig, train_member


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
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
