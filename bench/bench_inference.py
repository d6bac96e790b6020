"""Ensemble + TTA evaluation speed: our engine vs a reference written the way the original did it.

Reference: for each model, for each TTA mode, a separate DataLoader pass (batch 48) over the
split, padded to the batch's longest sequence, no masking, under `torch.no_grad`.
Ours: `core.model.inference.predict_split` (all members x modes in one length-sorted pass, masked,
`torch.inference_mode`). Both use the same full-size weights (1280-d, H768, 4 layers, 12 heads).
Floor: the members' LSTMs alone over every (mode, video) sequence at its true length, in
unpadded batches: the fp32 work any exact implementation must do, so reference / floor bounds
what such an implementation can gain on this machine.

With --engine ray it instead compares the two engines of `python -m core evaluate` (local and a
Ray instance on this machine), the Ray driver's peak memory at 10k and 100k videos, and the
per-actor rate that capacity plans use (bench/inference_engines.py says how).

    python bench/bench_inference.py --videos 32
    python bench/bench_inference.py --engine ray
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import DataLoader

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.features.store import FeatureSet
from core.model.inference import predict_split
from core.model.network import TemporalClassifier, TemporalModelConfig
from core.model.tta import TTA_MODES, apply_tta, tta_indices

REFERENCE_BATCH = 48


def make_split(num_videos: int, short_fraction: float, seed: int = 0) -> FeatureSet:
    """73-step videos like the original's features, plus some shorter ones that need padding."""
    rng = np.random.default_rng(seed)
    lengths = np.where(rng.random(num_videos) < short_fraction, rng.integers(30, 73, num_videos), 73)
    features = np.zeros((num_videos, 73, 1280), dtype=np.float32)
    for i, length in enumerate(lengths):
        features[i, :length] = rng.normal(size=(length, 1280))
    labels = rng.integers(0, 4, num_videos)
    names = [f"video_{i}" for i in range(num_videos)]
    classes = ["Animation", "Flat_Content", "Gaming", "Natural_Content"]
    return FeatureSet(features, labels, lengths.astype(np.int32), names, classes, None)


def reference_forward(model: TemporalClassifier, x: torch.Tensor) -> torch.Tensor:
    """The original forward pass: padding runs through the LSTM, attention and pooling."""
    sequence, _ = model.lstm(model.input_projection(x))
    attended, _ = model.attention(sequence, sequence, sequence)
    sequence = model.attention_norm(sequence + model.attention_dropout(attended))
    weights = torch.softmax(model.attention_pooling(sequence), dim=1)
    return model.classifier((weights * sequence).sum(dim=1))


def reference_predict(models: list[TemporalClassifier], data: FeatureSet) -> np.ndarray:
    out = np.zeros((len(models), len(TTA_MODES), data.num_videos, 4), dtype=np.float32)
    for m, model in enumerate(models):
        for a, mode in enumerate(TTA_MODES):
            sequences = [apply_tta(torch.from_numpy(data.video(i)), mode) for i in range(data.num_videos)]
            loader = DataLoader(
                list(range(data.num_videos)),
                batch_size=REFERENCE_BATCH,
                collate_fn=lambda rows, s=sequences: (
                    rows,
                    pad_sequence([s[r] for r in rows], batch_first=True),
                ),
            )
            with torch.no_grad():
                for rows, batch in loader:
                    out[m, a, rows] = torch.softmax(reference_forward(model, batch), dim=1).numpy()
    return out


def lstm_floor_seconds(models: list[TemporalClassifier], data: FeatureSet) -> float:
    """Every sequence step priced at the LSTM's per-step cost in a full unpadded 48 x 73 batch."""
    total_steps = sum(len(tta_indices(int(t), mode)) for mode in TTA_MODES for t in data.num_frames)
    calibration = torch.randn(REFERENCE_BATCH, 73, models[0].config.hidden_dim)
    elapsed = 0.0
    with torch.inference_mode():
        models[0].lstm(calibration)
        for model in models:
            started = time.perf_counter()
            model.lstm(calibration)
            elapsed += time.perf_counter() - started
    return elapsed / calibration.shape[0] / calibration.shape[1] * total_steps


def full_size_models(count: int) -> list[TemporalClassifier]:
    models = []
    for seed in range(42, 42 + count):
        torch.manual_seed(seed)
        models.append(TemporalClassifier(TemporalModelConfig()).eval())
    return models


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--videos", type=int, default=32)
    parser.add_argument("--short-fraction", type=float, default=0.25, help="share of videos shorter than 73")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--engine", choices=("local", "ray"), default="local", help="ray: compare the two engines"
    )
    parser.add_argument("--sizes", type=int, nargs=2, default=(10_000, 100_000), help="--engine ray: videos")
    parser.add_argument(
        "--full-videos", type=int, default=6, help="--engine ray: full-size videos for the per-actor rate"
    )
    args = parser.parse_args()
    if args.engine == "ray":
        from bench.inference_engines import compare_engines

        compare_engines(list(args.sizes), args.full_videos)
        return
    torch.set_num_threads(args.threads)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    data = make_split(args.videos, args.short_fraction)
    models = full_size_models(4)
    print(
        f"device {device}, torch threads {torch.get_num_threads()}, {args.videos} videos "
        f"({int((data.num_frames < 73).sum())} shorter than 73 steps), 4 full-size models x 4 TTA modes"
    )

    started = time.perf_counter()
    ours = predict_split(models, data, TTA_MODES, device=device)
    ours_s = time.perf_counter() - started
    if device == "cuda":
        models = [m.cpu() for m in models]
    started = time.perf_counter()
    reference = reference_predict(models, data)
    reference_s = time.perf_counter() - started

    floor_s = lstm_floor_seconds(models, data)

    unpadded = data.num_frames == 73
    diff_unpadded = float(np.abs(ours[:, :, unpadded] - reference[:, :, unpadded]).max())
    diff_padded = (
        float(np.abs(ours[:, :, ~unpadded] - reference[:, :, ~unpadded]).max()) if (~unpadded).any() else 0.0
    )
    print(f"ours       {ours_s:7.1f} s   {ours_s / args.videos:.2f} s/video")
    print(f"reference  {reference_s:7.1f} s   {reference_s / args.videos:.2f} s/video (CPU)")
    print(f"floor      {floor_s:7.1f} s   the members' LSTMs alone at full-batch speed (CPU)")
    print(f"speed-up (reference / ours) = {reference_s / ours_s:.2f}x (target >= 1.5x)")
    print(f"reference / floor = {reference_s / floor_s:.2f}x (exact fp32 bound: all but LSTM free)")
    print(f"max |p_ours - p_ref| on unpadded videos = {diff_unpadded:.2e}")
    print(
        f"max |p_ours - p_ref| on padded videos   = {diff_padded:.2e}  (the reference lets padding leak in)"
    )


if __name__ == "__main__":
    main()
