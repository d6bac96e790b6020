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
from captum.attr import IntegratedGradients, Occlusion

from core.explain.methods import ATTENTION, INTEGRATED_GRADIENTS, METHODS, OCCLUSION
from core.explain.predictor import ExplainedPredictor

IG_STEPS = 32
# Occluded copies run through the model at once: enough to fill a batch, few enough for 73 steps
# of a full-size member to stay within a few hundred MB.
OCCLUSIONS_PER_BATCH = 16


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


def occlusion_scores(predictor: ExplainedPredictor, sequence: np.ndarray) -> np.ndarray:
    """[T]: p(class | clip) - p(class | clip with step t replaced by its baseline)."""
    batch = _as_batch(predictor, sequence)
    dim = batch.shape[2]
    with torch.inference_mode():
        attribution = Occlusion(_probabilities_of(predictor)).attribute(
            batch,
            sliding_window_shapes=(1, dim),
            strides=(1, dim),
            baselines=step_baseline(batch[0])[None],
            target=predictor.target,
            perturbations_per_eval=OCCLUSIONS_PER_BATCH,
        )
    # The window covers a whole step, so every feature of a step carries the step's score.
    return attribution[0, :, 0].float().cpu().numpy()


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
            internal_batch_size=steps,
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
