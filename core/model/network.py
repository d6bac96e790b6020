"""BiLSTM + self-attention + attention pooling temporal classifier (docs/formats.md).

Module names and shapes are a compatibility contract with the original checkpoints; the
forward pass differs from the original only in that padded steps are masked everywhere, so a
video's prediction does not depend on the other videos in its batch.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from core.model.config import TemporalModelConfig
from core.model.padded_lstm import lstm_over_padded

CLASSIFIER_WIDTHS: tuple[int, int, int] = (768, 512, 256)


def _classifier_head(in_dim: int, num_classes: int, dropout: float) -> nn.Sequential:
    w1, w2, w3 = CLASSIFIER_WIDTHS
    return nn.Sequential(
        nn.Linear(in_dim, w1), nn.LayerNorm(w1), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(w1, w2), nn.LayerNorm(w2), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(w2, w3), nn.LayerNorm(w3), nn.ReLU(), nn.Dropout(dropout / 2),
        nn.Linear(w3, num_classes),
    )  # fmt: skip


def padding_mask(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """True where a step is padding, shaped [B, max_len]."""
    steps = torch.arange(max_len, device=lengths.device)
    return steps.unsqueeze(0) >= lengths.unsqueeze(1)


class TemporalClassifier(nn.Module):
    def __init__(self, config: TemporalModelConfig) -> None:
        super().__init__()
        self.config = config
        h, out = config.hidden_dim, config.lstm_out
        self.input_projection = nn.Sequential(
            nn.Linear(config.feature_dim, h), nn.LayerNorm(h), nn.ReLU(), nn.Dropout(config.dropout / 2)
        )
        self.lstm = nn.LSTM(
            h,
            h,
            config.num_lstm_layers,
            batch_first=True,
            bidirectional=config.bidirectional,
            dropout=config.dropout if config.num_lstm_layers > 1 else 0.0,
        )
        self.attention = nn.MultiheadAttention(
            out, config.num_attention_heads, dropout=config.dropout, batch_first=True
        )
        self.attention_norm = nn.LayerNorm(out)
        self.attention_dropout = nn.Dropout(config.dropout)
        self.attention_pooling = nn.Sequential(
            nn.Linear(out, out // 2), nn.LayerNorm(out // 2), nn.Tanh(), nn.Dropout(config.dropout),
            nn.Linear(out // 2, 1),
        )  # fmt: skip
        self.classifier = _classifier_head(out, config.num_classes, config.dropout)

    def forward(self, features: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        logits, _ = self.forward_with_attention(features, lengths)
        return logits

    def forward_with_attention(
        self, features: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits [B, K] and the pooling weights over time [B, T] (zero on padded steps)."""
        max_len = features.shape[1]
        lengths = lengths.to(device=features.device, dtype=torch.long).clamp(min=1, max=max_len)
        mask = padding_mask(lengths, max_len)
        sequence = self._encode(self.input_projection(features), lengths, max_len)
        attended, _ = self.attention(sequence, sequence, sequence, key_padding_mask=mask, need_weights=False)
        sequence = self.attention_norm(sequence + self.attention_dropout(attended))
        scores = self.attention_pooling(sequence).squeeze(-1).masked_fill(mask, float("-inf"))
        weights = torch.softmax(scores, dim=1)
        pooled = torch.bmm(weights.unsqueeze(1), sequence).squeeze(1)
        return self.classifier(pooled), weights

    def _encode(self, projected: torch.Tensor, lengths: torch.Tensor, max_len: int) -> torch.Tensor:
        if bool((lengths == max_len).all()):
            # No padding: one fused call over both directions and every layer.
            output, _ = self.lstm(projected)
            return output
        if projected.is_cuda:
            # cuDNN runs packed sequences natively; packing keeps the backward direction from
            # reading the padding before the real steps.
            packed = pack_padded_sequence(projected, lengths.cpu(), batch_first=True, enforce_sorted=False)
            output, _ = self.lstm(packed)
            unpacked, _ = pad_packed_sequence(output, batch_first=True, total_length=max_len)
            return unpacked
        return lstm_over_padded(self.lstm, projected, lengths)
