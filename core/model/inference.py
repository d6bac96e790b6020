"""Ensemble + TTA inference: one call gives every member's softmax for every mode and video.

Within each chunk of videos read from the split, sequences of all (mode, video) pairs are
sorted by length and batched together, equal lengths unpadded where possible, and each batch
runs through every member once; masking in the model makes the result independent of how
videos are grouped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from itertools import groupby, pairwise
from typing import Protocol

import numpy as np
import torch
from torch import nn

from core.features.store import FeatureChunk, chunk_rows
from core.model.config import DEFAULT_BATCH_SIZE
from core.model.cpu_threads import unit_pool
from core.model.tta import TTA_MODES, tta_indices, validate_modes

ProgressCallback = Callable[[int, int], None]
# Below this many sequences an LSTM batch costs more per sequence than packing it with others.
MIN_UNPADDED_BATCH = 8
ENSEMBLE = "ensemble"
ENSEMBLE_TTA = "ensemble_tta"
TTA_PREFIX = "TTA "


def _num_classes(models: Sequence[nn.Module]) -> int:
    counts = [model.config.num_classes for model in models]
    if len(set(counts)) > 1:
        listing = ", ".join(f"model {i} {count}" for i, count in enumerate(counts, start=1))
        raise ValueError(
            f"the models predict different numbers of classes ({listing}); they cannot be averaged"
        )
    return counts[0]


def _model_device(models: Sequence[nn.Module]) -> torch.device:
    return next(models[0].parameters()).device


def _is_on(model: nn.Module, target: torch.device) -> bool:
    device = _model_device([model])
    return device.type == target.type and target.index in (None, device.index)


@dataclass(frozen=True)
class _Item:
    mode_index: int
    video_index: int
    time_indices: torch.Tensor


def _plan_items(num_frames: np.ndarray, modes: Sequence[str]) -> list[_Item]:
    items = [
        _Item(a, i, tta_indices(int(length), mode))
        for a, mode in enumerate(modes)
        for i, length in enumerate(num_frames)
    ]
    return sorted(items, key=_item_length)


def _item_length(item: _Item) -> int:
    return len(item.time_indices)


def _balanced_chunks(group: list[_Item], batch_size: int) -> list[list[_Item]]:
    # Even chunks: a run of 100 becomes 34+33+33, not 48+48+4 with a slow 4-sequence batch.
    count = -(-len(group) // batch_size)
    bounds = np.linspace(0, len(group), count + 1).round().astype(int)
    return [group[lo:hi] for lo, hi in pairwise(bounds.tolist())]


def _plan_batches(items: list[_Item], batch_size: int) -> list[list[_Item]]:
    """Batches of length-sorted items. A run of equal lengths makes batches without padding,
    which take the LSTM's fused CPU kernel; a padded batch has to be packed, ~25% slower per
    sequence. Runs too short to batch well on their own are pooled into padded batches."""
    runs = [list(run) for _, run in groupby(items, key=_item_length)]
    min_run = min(MIN_UNPADDED_BATCH, batch_size)
    groups = [run for run in runs if len(run) >= min_run]
    pooled = [item for run in runs if len(run) < min_run for item in run]
    if pooled:
        groups.append(pooled)
    return [chunk for group in groups for chunk in _balanced_chunks(group, batch_size)]


def _gather_batch(features: torch.Tensor, batch: Sequence[_Item]) -> tuple[torch.Tensor, torch.Tensor]:
    lengths = torch.tensor([len(item.time_indices) for item in batch])
    padded = features.new_zeros((len(batch), int(lengths.max()), features.shape[2]))
    for row, item in enumerate(batch):
        padded[row, : len(item.time_indices)] = features[item.video_index, item.time_indices]
    return padded, lengths


def _run_unit(
    model: nn.Module,
    features: torch.Tensor,
    batch: Sequence[_Item],
    target: torch.device,
    out: np.ndarray,
    m: int,
) -> None:
    # inference_mode is thread-local, so each worker enters it itself.
    with torch.inference_mode():
        padded, lengths = _gather_batch(features, batch)
        logits = model(padded.to(target, non_blocking=True), lengths.to(target))
        probs = torch.softmax(logits.float(), dim=1).cpu().numpy()
    out[m, [item.mode_index for item in batch], [item.video_index for item in batch]] = probs


class ChunkedFeatures(Protocol):
    """A split that can be read a chunk of videos at a time: an open `FeatureFile` streams from
    disk, a `FeatureSet` hands out views of its in-memory array."""

    @property
    def num_videos(self) -> int: ...

    @property
    def max_frames(self) -> int: ...

    @property
    def feature_dim(self) -> int: ...

    @property
    def num_frames(self) -> np.ndarray: ...

    def iter_chunks(self, rows: int) -> Iterator[FeatureChunk]: ...


def _predict_chunk(
    models: Sequence[nn.Module],
    chunk: FeatureChunk,
    num_frames: np.ndarray,
    modes: Sequence[str],
    batch_size: int,
    target: torch.device,
    pool: ThreadPoolExecutor,
    out: np.ndarray,
    on_unit: Callable[[int], None],
) -> None:
    features = torch.from_numpy(np.ascontiguousarray(chunk.features))
    batches = _plan_batches(_plan_items(num_frames, modes), batch_size)
    chunk_out = np.zeros((len(models), len(modes), len(num_frames), out.shape[3]), np.float32)
    futures = {
        pool.submit(_run_unit, models[m], features, batch, target, chunk_out, m): len(batch)
        for batch in batches
        for m in range(len(models))
    }
    try:
        for future in as_completed(futures):
            future.result()
            on_unit(futures[future])
    except BaseException:
        for future in futures:
            future.cancel()
        raise
    out[:, :, chunk.start : chunk.start + len(num_frames)] = chunk_out


def predict_split(
    models: Sequence[nn.Module],
    features: ChunkedFeatures,
    modes: Sequence[str] = TTA_MODES,
    batch_size: int = DEFAULT_BATCH_SIZE,
    device: torch.device | str | None = None,
    progress: ProgressCallback | None = None,
    chunk_videos: int | None = None,
) -> np.ndarray:
    """Softmax probabilities shaped [members, modes, videos, classes].

    The split is read `chunk_videos` videos at a time (by default about `CHUNK_BYTES` of
    padded features) and batches are planned by length within each chunk, so memory is
    bounded by the chunk and only the output grows with the number of videos; masking makes
    the result independent of the grouping.

    On CPU the (batch, member) units run concurrently, one per core with one intra-op thread
    each. On an idle machine this matches giving every op all cores (both are bound by the
    LSTM's FLOPs); when other processes compete for the cores it degrades far less, because no
    op waits on a descheduled sibling thread. Each unit writes its own slice of the output.
    `progress(done, total)` counts sequences (member x mode x video). If it raises, pending
    units are cancelled and the exception propagates.
    """
    if not models:
        raise ValueError("no models to predict with")
    if batch_size < 1:
        raise ValueError(f"batch size must be at least 1, got {batch_size}")
    modes = validate_modes(tuple(modes))
    target = torch.device(device) if device is not None else _model_device(models)
    for model in models:
        # Only a model elsewhere is moved: even a no-op `.to()` rebuilds an LSTM's flat-weight
        # list, which breaks a forward pass another thread runs on the same module (the app's
        # background TTA pass shares its cached models with the page's passes).
        if not _is_on(model, target):
            model.to(target)
        model.eval()
    rows = chunk_videos or chunk_rows(features.max_frames, features.feature_dim)
    out = np.zeros((len(models), len(modes), features.num_videos, _num_classes(models)), np.float32)
    total = len(models) * len(modes) * features.num_videos
    done = 0

    def on_unit(sequences: int) -> None:
        nonlocal done
        done += sequences
        if progress is not None:
            progress(done, total)

    with unit_pool(target) as pool:
        for chunk in features.iter_chunks(rows):
            lengths = features.num_frames[chunk.start : chunk.start + len(chunk.features)]
            _predict_chunk(models, chunk, lengths, modes, batch_size, target, pool, out, on_unit)
            # Released before the next read, so two chunks are never held at once.
            del chunk
    _require_finite(out)
    return out


class NonFinitePredictions(ValueError):
    """A model produced NaN or infinite probabilities; averaging them would poison the ensemble."""


def _require_finite(probabilities: np.ndarray) -> None:
    """Checked where the numbers enter: nothing averaged, scored or stored may hold NaN."""
    bad = ~np.isfinite(probabilities).all(axis=-1)
    if bad.any():
        members = np.flatnonzero(bad.any(axis=tuple(range(1, bad.ndim)))) + 1
        raise NonFinitePredictions(
            f"model(s) {', '.join(map(str, members))} of {probabilities.shape[0]} gave NaN or infinite "
            f"probabilities for {int(bad.sum())} sequence(s)"
        )


@dataclass(frozen=True)
class SequencePrediction:
    probabilities: np.ndarray
    attention: np.ndarray
    modes: tuple[str, ...]


def predict_sequence(
    models: Sequence[nn.Module], features: np.ndarray, modes: Sequence[str] = TTA_MODES
) -> SequencePrediction:
    """One video: probabilities [members, modes, classes] and the pooling attention [members, T]
    of the unaugmented sequence (which time steps each member relied on)."""
    modes = validate_modes(tuple(modes))
    target = _model_device(models)
    sequence = torch.from_numpy(np.ascontiguousarray(features, dtype=np.float32)).to(target)
    length = sequence.shape[0]
    probabilities = np.zeros((len(models), len(modes), _num_classes(models)), dtype=np.float32)
    attention = np.zeros((len(models), length), dtype=np.float32)
    with torch.inference_mode():
        for a, mode in enumerate(modes):
            indices = tta_indices(length, mode).to(target)
            batch = sequence[indices].unsqueeze(0)
            lengths = torch.tensor([len(indices)], device=target)
            for m, model in enumerate(models):
                logits, weights = model.forward_with_attention(batch, lengths)
                probabilities[m, a] = torch.softmax(logits.float(), dim=1)[0].cpu().numpy()
                if mode == "original":
                    attention[m] = weights[0].float().cpu().numpy()
    _require_finite(probabilities)
    return SequencePrediction(probabilities, attention, modes)


def combine_probabilities(
    probabilities: np.ndarray,
    members: Sequence[int] | None = None,
    weights: Sequence[float] | None = None,
    mode_indices: Sequence[int] | None = None,
) -> np.ndarray:
    """Soft vote over stored probabilities [M, A, ..., K]: weighted mean over the chosen members,
    then mean over the chosen TTA modes. No model is re-run."""
    members = list(range(probabilities.shape[0])) if members is None else list(members)
    mode_indices = [0] if mode_indices is None else list(mode_indices)
    if not members:
        raise ValueError("choose at least one ensemble member")
    if not mode_indices:
        raise ValueError("choose at least one TTA mode")
    w = np.ones(len(members)) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (len(members),) or (w < 0).any() or w.sum() <= 0:
        raise ValueError("weights must be non-negative, one per member, and not all zero")
    chosen = probabilities[members][:, mode_indices]
    per_mode = np.tensordot(w / w.sum(), chosen, axes=(0, 0))
    return per_mode.mean(axis=0)


def tta_predictor_name(mode: str) -> str:
    return f"{TTA_PREFIX}{mode}"


def predictor_probabilities(
    probabilities: np.ndarray,
    member_names: Sequence[str],
    modes: Sequence[str],
    *,
    members: Sequence[str] | None = None,
    tta: bool = True,
    per_mode: bool = False,
) -> dict[str, np.ndarray]:
    """Every predictor of stored probabilities [members, modes, ..., classes], by name: each
    chosen member alone (unaugmented), their ensemble, and, with `tta` and more than the original
    mode computed, the ensemble per mode (`per_mode`) and the ensemble over all modes."""
    chosen = list(member_names) if members is None else list(members)
    if not chosen:
        raise ValueError("choose at least one ensemble member")
    indices = [list(member_names).index(name) for name in chosen]
    original = list(modes).index("original")
    predictors = {name: probabilities[m, original] for name, m in zip(chosen, indices, strict=True)}
    predictors[ENSEMBLE] = combine_probabilities(probabilities, indices, mode_indices=[original])
    if tta and len(modes) > 1:
        if per_mode:
            for a, mode in enumerate(modes):
                name = tta_predictor_name(mode)
                predictors[name] = combine_probabilities(probabilities, indices, None, [a])
        predictors[ENSEMBLE_TTA] = combine_probabilities(probabilities, indices, None, range(len(modes)))
    return predictors
