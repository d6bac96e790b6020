"""What an explanation explains: the probability one member, or the ensemble's soft vote, gives
one class. Members and classes are resolved from what a user typed, with one message when they
do not exist."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.model.checkpoints import LoadedCheckpoint, ensemble_member_number

ENSEMBLE_NAME = "ensemble"
# Input floats per forward pass of perturbed copies (64 MB): the 73-step clips of a full-size
# member fit about 170 at once, 300-step ones about 40; activations stay within a few hundred MB.
BATCH_ELEMENTS = 16 * 1024 * 1024


@dataclass(frozen=True)
class ExplainedPredictor:
    """A member (one model) or the ensemble (several, softmax averaged) and the class explained."""

    name: str
    models: tuple[nn.Module, ...]
    target: int

    @property
    def device(self) -> torch.device:
        return next(self.models[0].parameters()).device

    def probabilities(self, features: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Mean softmax over the models, [B, K], for padded features [B, T, D]."""
        if not torch.is_grad_enabled():
            return self._mean_softmax(features, lengths)
        # A cuDNN LSTM cannot run backward in eval mode; the native kernel can, with the same result.
        with torch.backends.cudnn.flags(enabled=False):
            return self._mean_softmax(features, lengths)

    def _mean_softmax(self, features: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        total = sum(torch.softmax(model(features, lengths).float(), dim=1) for model in self.models)
        return total / len(self.models)

    def target_probability(self, features: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.probabilities(features, lengths)[:, self.target]

    def attention(self, sequence: np.ndarray) -> np.ndarray:
        """The models' mean pooling weight per step [T] of one unpadded sequence [T, D]."""
        batch = torch.from_numpy(np.ascontiguousarray(sequence, dtype=np.float32)).to(self.device)[None]
        lengths = torch.tensor([len(sequence)], device=self.device)
        with torch.inference_mode():
            weights = [model.forward_with_attention(batch, lengths)[1][0] for model in self.models]
        return torch.stack(weights).mean(dim=0).float().cpu().numpy()


def _member_label(member: LoadedCheckpoint, position: int) -> str:
    number = ensemble_member_number(Path(member.path))
    return f"{number or position} ({member.name})"


def find_member(members: Sequence[LoadedCheckpoint], requested: str) -> LoadedCheckpoint:
    """A member by its number K (`best_ensemble_model_K.pt`, else its position) or by its name."""
    for position, member in enumerate(members, start=1):
        number = ensemble_member_number(Path(member.path)) or position
        if requested in (member.name, str(number)):
            return member
    listing = ", ".join(_member_label(m, i) for i, m in enumerate(members, start=1))
    raise ValueError(f"member {requested} does not exist; the loaded members are {listing}")


def class_index_of(class_names: Sequence[str], requested: str) -> int:
    if requested not in class_names:
        raise ValueError(f"class {requested!r} does not exist; the classes are {', '.join(class_names)}")
    return list(class_names).index(requested)


def explained_predictor(
    members: Sequence[LoadedCheckpoint], member: str | None, target: int
) -> ExplainedPredictor:
    """`member` None explains the ensemble of all `members`."""
    if member is None:
        return ExplainedPredictor(ENSEMBLE_NAME, tuple(m.model for m in members), target)
    chosen = find_member(members, member)
    return ExplainedPredictor(chosen.name, (chosen.model,), target)


def predicted_class(members: Sequence[LoadedCheckpoint], member: str | None, sequence: np.ndarray) -> int:
    """The class the member (or the ensemble) predicts for one unpadded sequence [T, D]."""
    predictor = explained_predictor(members, member, 0)
    batch = torch.from_numpy(np.ascontiguousarray(sequence, dtype=np.float32)).to(predictor.device)[None]
    with torch.inference_mode():
        probabilities = predictor.probabilities(batch, torch.tensor([len(sequence)], device=predictor.device))
    return int(probabilities[0].argmax())
