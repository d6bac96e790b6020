"""The unpacked pass over padded batches is the packed one: same outputs on real steps, zeros on
padding, same gradients, and the padding's content changes nothing, in training as in inference."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from core.model.network import TemporalClassifier, TemporalModelConfig
from core.model.padded_lstm import lstm_over_padded, reversal_index

LENGTHS = torch.tensor([11, 4, 7, 11, 1])


def packed_pass(lstm: nn.LSTM, sequences: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    packed = pack_padded_sequence(sequences, lengths, batch_first=True, enforce_sorted=False)
    output, _ = lstm(packed)
    return pad_packed_sequence(output, batch_first=True, total_length=sequences.shape[1])[0]


def test_reversal_index_reverses_each_sequence_within_its_length():
    index = reversal_index(torch.tensor([3, 1, 4]), 4)
    assert index.tolist() == [[2, 1, 0, 3], [0, 1, 2, 3], [3, 2, 1, 0]]


@pytest.mark.parametrize("bidirectional", [True, False])
@pytest.mark.parametrize("layers", [1, 3])
def test_outputs_and_gradients_equal_the_packed_pass(bidirectional, layers):
    torch.manual_seed(0)
    lstm = nn.LSTM(6, 5, layers, batch_first=True, bidirectional=bidirectional).train()
    sequences = torch.randn(len(LENGTHS), int(LENGTHS.max()), 6)
    results = []
    for run in (packed_pass, lstm_over_padded):
        lstm.zero_grad()
        inputs = sequences.clone().requires_grad_(True)
        output = run(lstm, inputs, LENGTHS)
        (output * torch.linspace(-1, 1, output.shape[-1])).sum().backward()
        results.append((output.detach(), inputs.grad, [p.grad.clone() for p in lstm.parameters()]))
    (packed, packed_input_grad, packed_grads), (ours, input_grad, grads) = results
    torch.testing.assert_close(ours, packed, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(input_grad, packed_input_grad, atol=1e-6, rtol=1e-5)
    for mine, theirs in zip(grads, packed_grads, strict=True):
        torch.testing.assert_close(mine, theirs, atol=1e-6, rtol=1e-5)


def test_padding_content_changes_no_training_loss_or_gradient():
    config = TemporalModelConfig(
        feature_dim=8, hidden_dim=6, num_lstm_layers=2, num_attention_heads=2, dropout=0.0
    )
    torch.manual_seed(3)
    model = TemporalClassifier(config).train()
    clean = torch.randn(len(LENGTHS), int(LENGTHS.max()), 8)
    real = torch.arange(clean.shape[1]).unsqueeze(0) < LENGTHS.unsqueeze(1)
    clean[~real] = 0.0
    garbage = clean.clone()
    garbage[~real] = 7.0
    losses, gradients = [], []
    for batch in (clean, garbage):
        model.zero_grad()
        loss = nn.functional.cross_entropy(model(batch, LENGTHS), torch.tensor([0, 1, 2, 3, 0]))
        loss.backward()
        losses.append(loss.item())
        gradients.append([p.grad.clone() for p in model.parameters()])
    assert losses[0] == pytest.approx(losses[1], abs=1e-6)
    for a, b in zip(*gradients, strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)
