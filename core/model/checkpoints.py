"""Checkpoint files (DESIGN §5): safe loading of every original layout, and saving ours.

Loading never unpickles arbitrary objects (`weights_only=True`); the only non-tensor globals
allowed are numpy scalar/array reconstructors, which the original wrote into `metrics`.
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.atomic import atomic_path
from core.classes import CLASS_NAMES
from core.features.recipe import FeatureRecipe
from core.model.network import TemporalClassifier, TemporalModelConfig
from core.paths import CHECKPOINT_PATTERN

EXPECTED_MEMBERS: tuple[int, ...] = (1, 2, 3, 4)
ASSUMED_HEADS = 12
ASSUMED_DROPOUT = 0.4


class CheckpointError(ValueError):
    def __init__(self, path: str | Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = Path(path)
        self.problem = problem


@dataclass
class LoadedCheckpoint:
    name: str
    path: Path
    config: TemporalModelConfig
    model: TemporalClassifier
    config_source: str
    epoch: int | None = None
    best_val_acc: float | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    history: dict[str, Any] = field(default_factory=dict)
    class_names: list[str] = field(default_factory=lambda: list(CLASS_NAMES))
    recipe: FeatureRecipe | None = None
    seed: int | None = None
    training_config: dict[str, Any] = field(default_factory=dict)


def _numpy_safe_globals() -> list[Any]:
    multiarray = np._core.multiarray
    dtype_classes = [type(np.dtype(code)) for code in ("f4", "f8", "i4", "i8", "b1", "u1")]
    return [multiarray.scalar, multiarray._reconstruct, np.ndarray, np.dtype, *dtype_classes]


def read_checkpoint_file(path: str | Path, device: torch.device | str = "cpu") -> dict[str, Any]:
    """The raw checkpoint dict, loaded with `weights_only=True`; errors name the file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(path, "file not found")
    try:
        with torch.serialization.safe_globals(_numpy_safe_globals()):
            content = torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError as exc:
        blocked = [line.strip() for line in str(exc).splitlines() if "GLOBAL" in line]
        if blocked:
            raise CheckpointError(
                path, f"refused to load: it would import code, not just tensors ({blocked[0]})"
            ) from None
        raise CheckpointError(path, "not a PyTorch checkpoint (unreadable pickle data)") from None
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise CheckpointError(path, f"not a PyTorch checkpoint ({exc})") from None
    if not isinstance(content, Mapping):
        raise CheckpointError(path, f"expected a dict, found {type(content).__name__}")
    return dict(content)


def extract_state_dict(path: Path, content: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    for key in ("model_state_dict", "state_dict"):
        if isinstance(content.get(key), Mapping):
            state = content[key]
            break
    else:
        state = content
    tensors = {k.removeprefix("module."): v for k, v in state.items() if isinstance(v, torch.Tensor)}
    if "input_projection.0.weight" not in tensors:
        raise CheckpointError(
            path, "no temporal-model weights found (expected 'model_state_dict' or a bare state dict)"
        )
    return tensors


def _largest_head_count(embed_dim: int, preferred: int) -> int:
    return next(h for h in range(min(preferred, embed_dim), 0, -1) if embed_dim % h == 0)


def infer_config(state_dict: Mapping[str, torch.Tensor]) -> TemporalModelConfig:
    """Model config from tensor shapes; head count and dropout leave no trace in shapes.

    The original always used 12 heads and dropout 0.4, so those are assumed (the head count
    falls back to the largest divisor of the attention width when 12 does not divide it).
    """
    hidden_dim, feature_dim = state_dict["input_projection.0.weight"].shape
    layers = sum(1 for key in state_dict if re.fullmatch(r"lstm\.weight_ih_l\d+", key))
    bidirectional = "lstm.weight_ih_l0_reverse" in state_dict
    lstm_out = hidden_dim * 2 if bidirectional else hidden_dim
    final_layers = [k for k in state_dict if re.fullmatch(r"classifier\.\d+\.weight", k)]
    last = max(final_layers, key=lambda k: int(k.split(".")[1]))
    return TemporalModelConfig(
        feature_dim=int(feature_dim),
        hidden_dim=int(hidden_dim),
        num_classes=int(state_dict[last].shape[0]),
        num_lstm_layers=layers,
        num_attention_heads=_largest_head_count(lstm_out, ASSUMED_HEADS),
        dropout=ASSUMED_DROPOUT,
        bidirectional=bidirectional,
    )


def _build_model(
    path: Path, config: TemporalModelConfig, state: dict[str, torch.Tensor]
) -> TemporalClassifier:
    try:
        model = TemporalClassifier(config)
    except (AssertionError, ValueError, TypeError) as exc:
        raise CheckpointError(path, f"model_config cannot build a model ({exc}): {config}") from None
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        details = "; ".join(line.strip() for line in str(exc).splitlines()[1:4] if line.strip())
        raise CheckpointError(path, f"weights do not match its model configuration: {details}") from None
    return model.eval()


def _optional_recipe(path: Path, raw: object) -> FeatureRecipe | None:
    if raw is None:
        return None
    try:
        return FeatureRecipe.from_dict(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise CheckpointError(path, f"'feature_recipe' is malformed ({exc})") from None


def load_checkpoint(path: str | Path, device: torch.device | str | None = None) -> LoadedCheckpoint:
    path = Path(path)
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    content = read_checkpoint_file(path, "cpu")
    state = extract_state_dict(path, content)
    if isinstance(content.get("model_config"), Mapping):
        config = TemporalModelConfig.from_dict(dict(content["model_config"]))
        source = "model_config"
    else:
        config = infer_config(state)
        source = "inferred from tensor shapes (attention heads and dropout assumed)"
    model = _build_model(path, config, state).to(device)
    return LoadedCheckpoint(
        name=path.stem,
        path=path,
        config=config,
        model=model,
        config_source=source,
        epoch=_optional_int(content.get("epoch")),
        best_val_acc=_optional_float(content.get("best_val_acc")),
        metrics=dict(content.get("metrics") or {}),
        history=dict(content.get("history") or {}),
        class_names=list(content.get("class_names") or CLASS_NAMES),
        recipe=_optional_recipe(path, content.get("feature_recipe")),
        seed=_optional_int(content.get("seed")),
        training_config=dict(content.get("training_config") or {}),
    )


def _optional_int(value: object) -> int | None:
    return None if value is None else int(value)  # type: ignore[call-overload]


def _optional_float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def check_feature_dim(checkpoint: LoadedCheckpoint, feature_dim: int, features_path: str | Path) -> None:
    if checkpoint.config.feature_dim != feature_dim:
        raise CheckpointError(
            checkpoint.path,
            f"expects {checkpoint.config.feature_dim}-d features but {features_path} holds {feature_dim}-d; "
            "evaluate it on features extracted with the backbone it was trained on",
        )


def save_checkpoint(
    path: str | Path,
    model: TemporalClassifier,
    *,
    epoch: int | None = None,
    best_val_acc: float | None = None,
    metrics: Mapping[str, Any] | None = None,
    history: Mapping[str, Any] | None = None,
    optimizer_state: Mapping[str, Any] | None = None,
    class_names: Sequence[str] = CLASS_NAMES,
    recipe: FeatureRecipe | None = None,
    seed: int | None = None,
    training_config: Mapping[str, Any] | None = None,
) -> Path:
    """Write the original layout plus our keys, atomically (a crash leaves the old file intact)."""
    path = Path(path)
    payload: dict[str, Any] = {
        "model_state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "model_config": model.config.to_dict(),
        "epoch": epoch,
        "best_val_acc": best_val_acc,
        "metrics": dict(metrics or {}),
        "history": dict(history or {}),
        "class_names": list(class_names),
        "feature_recipe": recipe.to_dict() if recipe else None,
        "seed": seed,
        "training_config": dict(training_config or {}),
    }
    if optimizer_state is not None:
        payload["optimizer_state_dict"] = optimizer_state
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return path


def ensemble_member_number(path: Path) -> int | None:
    match = CHECKPOINT_PATTERN.match(path.name)
    return int(match.group(1)) if match else None


def find_ensemble_checkpoints(folder: str | Path) -> list[Path]:
    """Every `best_ensemble_model_<n>.pt` in `folder`, in order of n."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if ensemble_member_number(p) is not None]
    return sorted(found, key=lambda p: ensemble_member_number(p) or 0)


def missing_ensemble_members(paths: Sequence[Path]) -> list[int]:
    present = {ensemble_member_number(p) for p in paths}
    return [n for n in EXPECTED_MEMBERS if n not in present]
