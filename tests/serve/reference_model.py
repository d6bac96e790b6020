"""An independent implementation of the temporal model and TTA, written from the documented
layout (docs/formats.md) in float64 numpy: what the server's numbers are checked against."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

CLASSIFIER_LINEARS = (0, 4, 8, 12)


def _weights(state: Mapping[str, torch.Tensor]) -> dict[str, np.ndarray]:
    return {k: v.detach().double().numpy() for k, v in state.items()}


def _linear(w: dict[str, np.ndarray], name: str, x: np.ndarray) -> np.ndarray:
    return x @ w[f"{name}.weight"].T + w[f"{name}.bias"]


def _layer_norm(w: dict[str, np.ndarray], name: str, x: np.ndarray) -> np.ndarray:
    centred = x - x.mean(-1, keepdims=True)
    normalised = centred / np.sqrt((centred**2).mean(-1, keepdims=True) + 1e-5)
    return normalised * w[f"{name}.weight"] + w[f"{name}.bias"]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _lstm_direction(w: dict[str, np.ndarray], suffix: str, x: np.ndarray) -> np.ndarray:
    w_ih, w_hh = w[f"lstm.weight_ih_{suffix}"], w[f"lstm.weight_hh_{suffix}"]
    bias = w[f"lstm.bias_ih_{suffix}"] + w[f"lstm.bias_hh_{suffix}"]
    hidden = w_hh.shape[1]
    h, c = np.zeros(hidden), np.zeros(hidden)
    out = np.zeros((len(x), hidden))
    steps = range(len(x) - 1, -1, -1) if suffix.endswith("reverse") else range(len(x))
    for t in steps:
        i, f, g, o = np.split(w_ih @ x[t] + w_hh @ h + bias, 4)
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        h = _sigmoid(o) * np.tanh(c)
        out[t] = h
    return out


def _attention(w: dict[str, np.ndarray], x: np.ndarray, heads: int) -> np.ndarray:
    q, k, v = np.split(x @ w["attention.in_proj_weight"].T + w["attention.in_proj_bias"], 3, axis=-1)
    size = x.shape[1] // heads
    out = np.zeros_like(x)
    for head in range(heads):
        cols = slice(head * size, (head + 1) * size)
        scores = q[:, cols] @ k[:, cols].T / np.sqrt(size)
        out[:, cols] = _softmax(scores) @ v[:, cols]
    return _linear(w, "attention.out_proj", out)


def logits(state: Mapping[str, torch.Tensor], sequence: np.ndarray, heads: int) -> np.ndarray:
    """One unpadded sequence [T, D] through the model in evaluation mode."""
    w = _weights(state)
    x = np.maximum(_layer_norm(w, "input_projection.1", _linear(w, "input_projection.0", sequence)), 0)
    layers = sum(1 for key in w if key.startswith("lstm.weight_ih_l") and not key.endswith("reverse"))
    for layer in range(layers):
        directions = [_lstm_direction(w, f"l{layer}", x)]
        if f"lstm.weight_ih_l{layer}_reverse" in w:
            directions.append(_lstm_direction(w, f"l{layer}_reverse", x))
        x = np.concatenate(directions, axis=1)
    x = _layer_norm(w, "attention_norm", x + _attention(w, x, heads))
    pooling = np.tanh(_layer_norm(w, "attention_pooling.1", _linear(w, "attention_pooling.0", x)))
    weights = _softmax(_linear(w, "attention_pooling.4", pooling)[:, 0])
    h = weights @ x
    for index in CLASSIFIER_LINEARS[:-1]:
        h = np.maximum(_layer_norm(w, f"classifier.{index + 1}", _linear(w, f"classifier.{index}", h)), 0)
    return _linear(w, f"classifier.{CLASSIFIER_LINEARS[-1]}", h)


def tta_view(sequence: np.ndarray, mode: str) -> np.ndarray:
    length = len(sequence)
    if mode == "reverse":
        return sequence[::-1]
    if mode == "speed_up" and length > 10:
        return sequence[np.linspace(0, length - 1, length // 2).astype(np.int64)]
    if mode == "speed_down" and length > 5:
        slow = np.linspace(0, length - 1, int(length * 1.5)).astype(np.int64)
        return sequence[np.minimum(slow, length - 1)]
    return sequence


def member_probabilities(state: Mapping[str, torch.Tensor], sequence: np.ndarray, heads: int,
                         modes: tuple[str, ...]) -> np.ndarray:  # fmt: skip
    """[modes, classes]."""
    return np.stack([_softmax(logits(state, tta_view(sequence, mode), heads)) for mode in modes])
