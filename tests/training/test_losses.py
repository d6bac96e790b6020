import math

import numpy as np
import pytest
import torch

from core.training.losses import FocalLoss, class_balanced_alpha


def _hand_focal(logits, target, alpha, gamma, eps, k):
    exps = [math.exp(v) for v in logits]
    log_probs = [math.log(e / sum(exps)) for e in exps]
    smoothed = [(1 - eps) * (1.0 if j == target else 0.0) + eps / k for j in range(k)]
    ce = -sum(q * lp for q, lp in zip(smoothed, log_probs, strict=True))
    return alpha[target] * (1 - math.exp(-ce)) ** gamma * ce


def test_focal_loss_matches_hand_computed_value():
    logits = [[2.0, 0.5, -1.0, 0.0], [0.1, 0.2, 0.3, 3.0]]
    targets = [0, 2]
    alpha = [1.0, 2.0, 0.5, 3.0]
    loss = FocalLoss(torch.tensor(alpha), gamma=2.0, label_smoothing=0.1)
    value = loss(torch.tensor(logits), torch.tensor(targets)).item()
    pairs = zip(logits, targets, strict=True)
    expected = np.mean([_hand_focal(lg, t, alpha, 2.0, 0.1, 4) for lg, t in pairs])
    assert value == pytest.approx(expected, rel=1e-6)
    # A number worked out on paper, so a change in the formula cannot hide behind the helper above.
    assert value == pytest.approx(0.6596, abs=2e-4)  # worked on paper: (0.0793 + 1.2399) / 2


def test_focal_loss_without_alpha_or_smoothing_is_weighted_ce():
    logits = torch.tensor([[1.0, 0.0, 0.0, 0.0]])
    ce = -math.log(math.e / (math.e + 3))
    value = FocalLoss(None, gamma=0.0, label_smoothing=0.0)(logits, torch.tensor([0])).item()
    assert value == pytest.approx(ce, rel=1e-6)


def test_class_balanced_alpha_is_clipped():
    labels = [0] * 90 + [1] * 8 + [2] * 2
    alpha = class_balanced_alpha(labels, 4).tolist()
    assert alpha[0] == pytest.approx(0.5)  # 100/(4*90)=0.28 clipped up
    assert alpha[1] == pytest.approx(100 / 32)
    assert alpha[2] == pytest.approx(10.0)  # 12.5 clipped down
    assert alpha[3] == pytest.approx(10.0)  # absent class
