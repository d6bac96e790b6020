"""An nn.LSTM over right-padded sequences, exact on every real step, without packing.

Padding at the end never reaches a forward direction's real steps, but a backward direction would
read it first. Packing avoids that, at a cost: on CPU a packed pass leaves the fused kernel for a
step-by-step one (bench/bench_training.py, docs/retrain.md). Here each layer runs
its forward direction on the sequences as they are and its backward direction on each sequence
reversed within its own length (the padding stays at the end), both through the fused kernel with
the module's own weights, so the parameters and their names are the module's.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional


def reversal_index(lengths: torch.Tensor, steps: int) -> torch.Tensor:
    """[B, steps]: step t of each sequence reversed within its length; padded steps stay put.
    Applying it twice gives the identity."""
    positions = torch.arange(steps, device=lengths.device).unsqueeze(0)
    last = lengths.unsqueeze(1) - 1
    return torch.where(positions <= last, last - positions, positions)


def _gather_steps(sequence: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    return sequence.gather(1, index.unsqueeze(-1).expand(-1, -1, sequence.shape[2]))


def _one_direction(lstm: nn.LSTM, layer: int, suffix: str, sequence: torch.Tensor) -> torch.Tensor:
    names = ("weight_ih", "weight_hh", *(("bias_ih", "bias_hh") if lstm.bias else ()))
    weights = [getattr(lstm, f"{name}_l{layer}{suffix}") for name in names]
    start = sequence.new_zeros(1, sequence.shape[0], lstm.hidden_size)
    output, _, _ = torch.lstm(
        sequence, (start, start), weights, lstm.bias, 1, 0.0, lstm.training, False, True
    )
    return output


def lstm_over_padded(lstm: nn.LSTM, sequences: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Output [B, T, directions x hidden] of a batch-first `lstm` on right-padded `sequences`:
    on real steps what each sequence gives alone, zero on padding (as pad_packed_sequence gives)."""
    steps = sequences.shape[1]
    reverse = reversal_index(lengths, steps)
    layer_input = sequences
    for layer in range(lstm.num_layers):
        outputs = [_one_direction(lstm, layer, "", layer_input)]
        if lstm.bidirectional:
            backward = _one_direction(lstm, layer, "_reverse", _gather_steps(layer_input, reverse))
            outputs.append(_gather_steps(backward, reverse))
        layer_input = torch.cat(outputs, dim=2)
        if layer < lstm.num_layers - 1:
            layer_input = functional.dropout(layer_input, lstm.dropout, lstm.training)
    real = torch.arange(steps, device=lengths.device).unsqueeze(0) < lengths.unsqueeze(1)
    return layer_input * real.unsqueeze(-1)
