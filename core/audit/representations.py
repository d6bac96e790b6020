"""One vector per video, the unit the audit compares: the frame features averaged over the video's
own frames, or what one ensemble member sees just before deciding (its last hidden layer)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from core.features.store import chunk_rows
from core.model.inference import ChunkedFeatures

ProgressCallback = Callable[[int, int], None]
EMBEDDING_BATCH = 64


def mean_features(features: ChunkedFeatures, progress: ProgressCallback | None = None) -> np.ndarray:
    """[videos, D] float32: each video's frame features averaged over its `num_frames` steps, so the
    zero padding of shorter videos never pulls their mean towards the origin. Streamed in chunks."""
    out = np.zeros((features.num_videos, features.feature_dim), dtype=np.float32)
    rows = chunk_rows(features.max_frames, features.feature_dim)
    for chunk in features.iter_chunks(rows):
        lengths = features.num_frames[chunk.start : chunk.start + len(chunk.features)]
        steps = np.arange(chunk.features.shape[1])[None, :, None] < lengths[:, None, None]
        sums = np.where(steps, chunk.features, 0.0).sum(axis=1, dtype=np.float64)
        end = chunk.start + len(lengths)
        out[chunk.start : end] = sums / lengths[:, None]
        del chunk
        if progress is not None:
            progress(end, len(out))
    return out


def _final_layer(model: nn.Module) -> nn.Module:
    classifier = getattr(model, "classifier", None)
    if not isinstance(classifier, nn.Sequential):
        raise ValueError(f"{type(model).__name__} has no classifier head to read a representation from")
    return classifier[-1]


def member_embeddings(
    model: nn.Module,
    features: ChunkedFeatures,
    batch_size: int = EMBEDDING_BATCH,
    progress: ProgressCallback | None = None,
) -> np.ndarray:
    """[videos, width] float32: the input of the member's final Linear (its last hidden layer, 256
    wide in the original head), unaugmented. Read with a hook that only records calls from this
    thread, so a cached model shared with other sessions' passes can be used as it is."""
    owner = threading.get_ident()
    captured: list[torch.Tensor] = []

    def record(_module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
        if threading.get_ident() == owner:
            captured.append(inputs[0].float().cpu())

    device = next(model.parameters()).device
    handle = _final_layer(model).register_forward_pre_hook(record)
    parts: list[np.ndarray] = []
    done = 0
    try:
        with torch.inference_mode():
            for chunk in features.iter_chunks(chunk_rows(features.max_frames, features.feature_dim)):
                lengths = features.num_frames[chunk.start : chunk.start + len(chunk.features)]
                parts.append(_embed_chunk(model, chunk.features, lengths, batch_size, device, captured))
                done += len(lengths)
                del chunk
                if progress is not None:
                    progress(done, features.num_videos)
    finally:
        handle.remove()
    return np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)


def _embed_chunk(
    model: nn.Module,
    features: np.ndarray,
    lengths: np.ndarray,
    batch_size: int,
    device: torch.device,
    captured: list[torch.Tensor],
) -> np.ndarray:
    # Sorted by length so each batch carries little padding; masking keeps results independent of it.
    order = np.argsort(lengths, kind="stable")
    out: np.ndarray | None = None
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        longest = int(lengths[rows].max())
        batch = torch.from_numpy(np.ascontiguousarray(features[rows, :longest])).to(device)
        captured.clear()
        model(batch, torch.from_numpy(lengths[rows].astype(np.int64)).to(device))
        hidden = captured[-1].numpy()
        if out is None:
            out = np.zeros((len(lengths), hidden.shape[1]), dtype=np.float32)
        out[rows] = hidden
    return out if out is not None else np.zeros((0, 0), np.float32)
