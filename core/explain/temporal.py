"""One score per stored time step of a clip's real (unpadded) sequence, towards the explained class.

- occlusion: the drop in the class probability when one step is replaced by the baseline;
- integrated gradients: gradients of the class probability along the straight path from the
  baseline to the clip, summed over each step's features;
- attention: the pooling weights the model itself put on each step (mean over the ensemble).

The baseline of step t is the mean of the clip's other real steps (zeros for a one-step clip):
a step is asked what it adds beyond the rest of the same clip, never compared with padding,
and padded steps past the true length are neither read nor scored.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from captum.attr import IntegratedGradients

from core.explain.methods import ATTENTION, INTEGRATED_GRADIENTS, METHODS, OCCLUSION
from core.explain.predictor import BATCH_ELEMENTS, ExplainedPredictor

IG_STEPS = 32


def step_baseline(sequence: torch.Tensor) -> torch.Tensor:
    """[T, D]: each step replaced by the mean of the other real steps."""
    steps = sequence.shape[0]
    if steps == 1:
        return torch.zeros_like(sequence)
    return (sequence.sum(dim=0, keepdim=True) - sequence) / (steps - 1)


def _as_batch(predictor: ExplainedPredictor, sequence: np.ndarray) -> torch.Tensor:
    if sequence.ndim != 2 or len(sequence) == 0:
        raise ValueError(f"expected one clip's [steps, features] sequence, got shape {sequence.shape}")
    return torch.from_numpy(np.ascontiguousarray(sequence, dtype=np.float32)).to(predictor.device)[None]


def _probabilities_of(predictor: ExplainedPredictor) -> Callable[[torch.Tensor], torch.Tensor]:
    def forward(features: torch.Tensor) -> torch.Tensor:
        lengths = torch.full((features.shape[0],), features.shape[1], device=features.device)
        return predictor.probabilities(features, lengths)

    return forward


def occlusions_per_batch(steps: int, feature_dim: int) -> int:
    """Occluded copies per forward pass: every step's at once when they fit BATCH_ELEMENTS."""
    return max(1, min(steps, BATCH_ELEMENTS // (steps * feature_dim)))


def occlusion_scores(predictor: ExplainedPredictor, sequence: np.ndarray) -> np.ndarray:
    """[T]: p(class | clip) - p(class | clip with step t replaced by its baseline).

    The same numbers as captum's `Occlusion` with a window of one whole step (tested), built
    without its full-size masks: those hold several temporaries the size of every copy, ~8x the
    copies themselves, which on a 300-step clip is most of the explanation's memory and time. The
    copies of a batch run through every member of the predictor together."""
    batch = _as_batch(predictor, sequence)[0]
    steps, dim = batch.shape
    baseline = step_baseline(batch)
    per_batch = occlusions_per_batch(steps, dim)
    scores = torch.zeros(steps, dtype=torch.float64)
    with torch.inference_mode():
        whole = predictor.target_probability(batch[None], torch.tensor([steps], device=batch.device))
        for start in range(0, steps, per_batch):
            occluded = torch.arange(start, min(start + per_batch, steps), device=batch.device)
            copies = batch.expand(len(occluded), steps, dim).clone()
            copies[torch.arange(len(occluded)), occluded] = baseline[occluded]
            lengths = torch.full((len(occluded),), steps, device=batch.device)
            probabilities = predictor.target_probability(copies, lengths)
            scores[start : start + len(occluded)] = (whole - probabilities).double().cpu()
    return scores.float().numpy()


def gradient_batch(steps: int, feature_dim: int, path_steps: int) -> int:
    """Path points per forward and backward pass: the backward pass keeps every layer's
    activations, a few times the input's size, so a quarter of BATCH_ELEMENTS of input."""
    return max(1, min(path_steps, BATCH_ELEMENTS // (4 * steps * feature_dim)))


def integrated_gradient_scores(
    predictor: ExplainedPredictor, sequence: np.ndarray, steps: int = IG_STEPS
) -> np.ndarray:
    """[T]: integrated gradients of p(class) from the baseline clip, summed over each step's
    features; the scores add up to p(class | clip) - p(class | baseline clip), up to the
    integral's approximation."""
    batch = _as_batch(predictor, sequence)
    with torch.enable_grad():
        attribution = IntegratedGradients(_probabilities_of(predictor)).attribute(
            batch,
            baselines=step_baseline(batch[0])[None],
            target=predictor.target,
            n_steps=steps,
            internal_batch_size=gradient_batch(len(sequence), sequence.shape[1], steps),
        )
    return attribution[0].sum(dim=1).detach().float().cpu().numpy()


def attention_scores(predictor: ExplainedPredictor, sequence: np.ndarray) -> np.ndarray:
    """[T]: the pooling weights (they do not depend on the class)."""
    _as_batch(predictor, sequence)
    return predictor.attention(sequence)


def step_scores(predictor: ExplainedPredictor, sequence: np.ndarray, method: str) -> np.ndarray:
    if method == OCCLUSION:
        return occlusion_scores(predictor, sequence)
    if method == INTEGRATED_GRADIENTS:
        return integrated_gradient_scores(predictor, sequence)
    if method == ATTENTION:
        return attention_scores(predictor, sequence)
    raise ValueError(f"unknown method {method!r}; known: {', '.join(METHODS)}")
