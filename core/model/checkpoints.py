"""Checkpoint files (docs/formats.md): safe loading of every original layout, and saving ours.

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
# The config fields that tensor shapes determine; a `model_config` must agree with them.
SHAPE_FIELDS: tuple[str, ...] = (
    "feature_dim",
    "hidden_dim",
    "num_classes",
    "num_lstm_layers",
    "bidirectional",
)


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

    @property
    def recorded_val_acc(self) -> float | None:
        """Our `best_val_acc`, else the original's `metrics['accuracy']` (the saved epoch's
        validation accuracy, percent, possibly a numpy scalar)."""
        if self.best_val_acc is not None:
            return self.best_val_acc
        value = self.metrics.get("accuracy")
        if isinstance(value, int | float | np.number) and not isinstance(value, bool):
            return float(value)
        return None


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
    Raises KeyError when the classifier's final layer is missing.
    """
    hidden_dim, feature_dim = state_dict["input_projection.0.weight"].shape
    layers = sum(1 for key in state_dict if re.fullmatch(r"lstm\.weight_ih_l\d+", key))
    bidirectional = "lstm.weight_ih_l0_reverse" in state_dict
    lstm_out = hidden_dim * 2 if bidirectional else hidden_dim
    final_layers = [k for k in state_dict if re.fullmatch(r"classifier\.\d+\.weight", k)]
    if not final_layers:
        raise KeyError("classifier")
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


def _config_from_weights(path: Path, state: Mapping[str, torch.Tensor]) -> TemporalModelConfig:
    try:
        return infer_config(state)
    except KeyError:
        raise CheckpointError(path, "no classifier weights found ('classifier.<n>.weight')") from None


def _declared_config(path: Path, raw: object, from_weights: TemporalModelConfig) -> TemporalModelConfig:
    """`model_config` as written, checked against the weights before anything is allocated: a
    config may not ask for sizes its tensors do not have."""
    if not isinstance(raw, Mapping):
        raise CheckpointError(path, f"'model_config' should be a dict, found {type(raw).__name__}")
    try:
        config = TemporalModelConfig.from_dict(dict(raw))
    except TypeError as exc:
        raise CheckpointError(path, f"'model_config' is malformed ({exc})") from None
    disagreements = [
        f"{name}={getattr(config, name)!r} but the weights have {getattr(from_weights, name)!r}"
        for name in SHAPE_FIELDS
        if getattr(config, name) != getattr(from_weights, name)
    ]
    if disagreements:
        raise CheckpointError(path, "'model_config' disagrees with its weights: " + "; ".join(disagreements))
    heads, dropout = config.num_attention_heads, config.dropout
    if not isinstance(heads, int) or heads < 1 or config.lstm_out % heads:
        raise CheckpointError(
            path, f"'model_config' num_attention_heads={heads!r} does not divide {config.lstm_out}"
        )
    if not isinstance(dropout, int | float) or not 0 <= dropout < 1:
        raise CheckpointError(path, f"'model_config' dropout={dropout!r} is not in [0, 1)")
    return config


_NUMPY_FLOATS = (torch.float16, torch.float32, torch.float64)


def _is_finite(tensor: torch.Tensor) -> bool:
    # Checked in numpy, on one thread: torch's check hands each tensor to its thread pool, and on a
    # busy machine waiting for the second thread cost milliseconds per tensor, most of a load.
    values = tensor.detach() if tensor.dtype in _NUMPY_FLOATS else tensor.detach().float()
    return bool(np.isfinite(values.numpy()).all())


def _check_finite(path: Path, state: Mapping[str, torch.Tensor]) -> None:
    bad = [name for name, tensor in state.items() if tensor.is_floating_point() and not _is_finite(tensor)]
    if bad:
        more = f" and {len(bad) - 1} more" if len(bad) > 1 else ""
        raise CheckpointError(
            path, f"weights contain NaN or infinite values ({bad[0]}{more}); retrain or restore it"
        )


def _build_model(
    path: Path, config: TemporalModelConfig, state: dict[str, torch.Tensor]
) -> TemporalClassifier:
    try:
        # On the meta device: no memory and no random initialisation for weights the checkpoint
        # replaces at once (~0.4 s per full-size member).
        with torch.device("meta"):
            model = TemporalClassifier(config)
    except (AssertionError, ValueError, TypeError, RuntimeError) as exc:
        raise CheckpointError(path, f"model_config cannot build a model ({exc}): {config}") from None
    # Assigned, not copied, so the tensors are cast to the float32 a copy into the model gave.
    weights = {name: value.float() if value.is_floating_point() else value for name, value in state.items()}
    try:
        model.load_state_dict(weights, strict=True, assign=True)
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
    _check_finite(path, state)
    config = _config_from_weights(path, state)
    source = "inferred from tensor shapes (attention heads and dropout assumed)"
    if content.get("model_config") is not None:
        config = _declared_config(path, content["model_config"], config)
        source = "model_config"
    model = _build_model(path, config, state).to(device)
    return LoadedCheckpoint(
        name=path.stem,
        path=path,
        config=config,
        model=model,
        config_source=source,
        epoch=_optional_number(path, content, "epoch", int),
        best_val_acc=_optional_number(path, content, "best_val_acc", float),
        metrics=_optional_dict(path, content, "metrics"),
        history=_optional_dict(path, content, "history"),
        class_names=_class_names(path, content, config.num_classes),
        recipe=_optional_recipe(path, content.get("feature_recipe")),
        seed=_optional_number(path, content, "seed", int),
        training_config=_optional_dict(path, content, "training_config"),
    )


def _optional_number(path: Path, content: Mapping[str, Any], key: str, kind: type[int] | type[float]) -> Any:
    value = content.get(key)
    if value is None:
        return None
    try:
        number = kind(value)
    except (TypeError, ValueError, OverflowError):
        raise CheckpointError(path, f"'{key}' should be a number, found {value!r}") from None
    if not np.isfinite(number):
        raise CheckpointError(path, f"'{key}' should be a finite number, found {value!r}")
    return number


def _optional_dict(path: Path, content: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = content.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise CheckpointError(path, f"'{key}' should be a dict, found {type(value).__name__}")
    return dict(value)


def _class_names(path: Path, content: Mapping[str, Any], num_classes: int) -> list[str]:
    names = content.get("class_names")
    if names is None:
        return list(CLASS_NAMES)
    if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
        raise CheckpointError(path, "'class_names' should be a list of strings")
    if len(names) != num_classes:
        raise CheckpointError(
            path, f"'class_names' lists {len(names)} classes but the model predicts {num_classes}"
        )
    return list(names)



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
