"""What answers a request: the ensemble's checkpoints and the features file, loaded once with the
checks every command makes. Stored videos are read one row at a time and predicted together;
clips are featurised with the recipe the checkpoints were trained on."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.evaluation.clip_recipe import ensemble_recipe
from core.evaluation.predictions import subcategories_of
from core.evaluation.recorded import read_configuration_analysis, recorded_metrics
from core.evaluation.runs import resolve_checkpoint_paths, usable_ensemble
from core.features.backbones import BackboneError
from core.features.extraction import RecipeError, featurize_clip
from core.features.recipe import FeatureRecipe
from core.features.store import FeatureFile, FeatureSet, open_features
from core.features.weights_download import ensure_backbone_weights
from core.model.cpu_threads import configured_cpu_threads
from core.model.ensemble import Ensemble, compatibility_problems
from core.model.inference import DEFAULT_BATCH_SIZE, predict_sequence, predict_split
from core.model.prediction_cache import file_fingerprint
from core.model.tta import TTA_MODES
from core.paths import CONFIGURATION_ANALYSIS_JSON

ORIGINAL_ONLY: tuple[str, ...] = ("original",)


def modes_for(tta: bool) -> tuple[str, ...]:
    return TTA_MODES if tta else ORIGINAL_ONLY


@dataclass(frozen=True)
class StoredRequest:
    row: int
    tta: bool


@dataclass(frozen=True)
class VideoIndex:
    """Names, true classes and subcategories of the stored videos: the file's index datasets
    only, never its features."""

    names: list[str]
    labels: np.ndarray
    class_names: list[str]
    subcategories: list[str]
    rows: dict[str, int]

    @classmethod
    def of(cls, handle: FeatureFile) -> VideoIndex:
        names = list(handle.video_names)
        rows = {name: row for row, name in enumerate(names)}
        return cls(names, handle.labels.copy(), list(handle.class_names), subcategories_of(names), rows)

    def entry(self, row: int) -> dict[str, str]:
        label = self.class_names[int(self.labels[row])]
        return {"name": self.names[row], "class": label, "subcategory": self.subcategories[row]}

    def page(
        self, limit: int, offset: int, class_name: str | None, query: str | None
    ) -> tuple[int, list[dict[str, str]]]:
        """How many videos match, and `limit` of them from `offset` on, in file order."""
        keep = np.ones(len(self.names), dtype=bool)
        if class_name is not None:
            keep &= self.labels == self.class_names.index(class_name)
        if query:
            needle = query.lower()
            keep &= np.fromiter((needle in name.lower() for name in self.names), bool, len(self.names))
        matching = np.flatnonzero(keep)
        return len(matching), [self.entry(int(row)) for row in matching[offset : offset + limit]]


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, torch.Tensor):
        return value.tolist()
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)


def _padded(sequences: Sequence[np.ndarray]) -> FeatureSet:
    lengths = np.array([len(s) for s in sequences], dtype=np.int32)
    features = np.zeros((len(sequences), int(lengths.max()), sequences[0].shape[1]), dtype=np.float32)
    for i, sequence in enumerate(sequences):
        features[i, : len(sequence)] = sequence
    names = [str(i) for i in range(len(sequences))]
    return FeatureSet(features, np.zeros(len(sequences), np.int64), lengths, names, [], None)


class ServeEngine:
    """The loaded ensemble and the open features file; safe to call from several threads
    (inference only; h5py serialises its reads)."""

    def __init__(self, ensemble: Ensemble, features: FeatureFile, warnings: Sequence[str] = ()) -> None:
        self.ensemble = ensemble
        self.features = features
        self.index = VideoIndex.of(features)
        self.warnings = list(warnings)
        self.recipe: FeatureRecipe | None = None
        self.recipe_problem: str | None = None
        try:
            self.recipe = ensemble_recipe(ensemble.members, features.path)
        except RecipeError as exc:
            self.recipe_problem = str(exc)
        digest = hashlib.sha256("".join(file_fingerprint(p) for p in ensemble.paths).encode())
        self.fingerprint = digest.hexdigest()[:16]
        self._lock = threading.Lock()

    @classmethod
    def load(
        cls,
        models_dir: Path,
        features_path: Path,
        device: torch.device | str,
        checkpoints: Sequence[Path] | None = None,
    ) -> ServeEngine:
        """Raises ValueError in one line when no checkpoint loads or the file does not fit them."""
        paths, warnings = resolve_checkpoint_paths(models_dir, checkpoints)
        ensemble = usable_ensemble(paths, device)
        warnings += [f"skipped {error}" for error in ensemble.errors]
        features = open_features(features_path)
        try:
            features.require_videos()
            problems = compatibility_problems(ensemble.members, features)
            if problems:
                raise ValueError("; ".join(problems))
        except BaseException:
            features.close()
            raise
        return cls(ensemble, features, warnings)

    def close(self) -> None:
        self.features.close()

    @property
    def member_names(self) -> list[str]:
        return self.ensemble.names

    @property
    def class_names(self) -> list[str]:
        return self.index.class_names

    @property
    def device(self) -> torch.device:
        return next(self.ensemble.models[0].parameters()).device

    def prepare_backbone(self) -> None:
        """Fetch the backbone's weights now, so the first upload does not wait for them; without
        them uploads are refused with the reason."""
        if self.recipe is None:
            return
        try:
            ensure_backbone_weights(self.recipe.backbone)
        except BackboneError as exc:
            self.recipe_problem = str(exc)

    def predict_stored(self, requests: Sequence[StoredRequest]) -> list[np.ndarray]:
        """Probabilities [members, modes, classes] per request, every distinct video read once and
        all of them predicted in one pass per TTA setting; masking makes each answer independent
        of the others in the pass."""
        rows = sorted({r.row for r in requests})
        with self._lock:
            sequences = {row: self.features.read_video(row) for row in rows}
        answers: dict[tuple[int, bool], np.ndarray] = {}
        with_tta = sorted({r.row for r in requests if r.tta})
        without = sorted({r.row for r in requests if not r.tta} - set(with_tta))
        for tta, chosen in ((True, with_tta), (False, without)):
            if not chosen:
                continue
            batch = _padded([sequences[row] for row in chosen])
            size = self._batch_size(len(chosen) * len(modes_for(tta)))
            probabilities = predict_split(self.ensemble.models, batch, modes_for(tta), batch_size=size)
            for i, row in enumerate(chosen):
                answers[(row, tta)] = probabilities[:, :, i]
        # A video asked for with and without TTA in one batch: its unaugmented answer is the
        # `original` view (the first mode) of the TTA pass.
        return [
            answers[(r.row, r.tta)] if (r.row, r.tta) in answers else answers[(r.row, True)][:, :1]
            for r in requests
        ]

    def _batch_size(self, sequences: int) -> int:
        """On CPU a pass runs one (batch, member) unit per thread: a few requests are split into
        enough batches to keep every thread busy, many fill batches of the usual size."""
        if self.device.type != "cpu":
            return DEFAULT_BATCH_SIZE
        batches_per_member = -(-configured_cpu_threads() // len(self.ensemble.models))
        return max(1, min(DEFAULT_BATCH_SIZE, -(-sequences // batches_per_member)))

    def predict_clip(self, path: Path, tta: bool) -> np.ndarray:
        """A clip's probabilities [members, modes, classes], as `python -m core classify` computes them."""
        if self.recipe is None:
            raise RecipeError(self.recipe_problem or "no feature recipe for new clips")
        features = featurize_clip(path, self.recipe, device=self.device)
        return predict_sequence(self.ensemble.models, features, modes_for(tta)).probabilities

    def models_document(self) -> dict[str, Any]:
        analysis = read_configuration_analysis(self.ensemble.paths[0].parent / CONFIGURATION_ANALYSIS_JSON)
        recorded = recorded_metrics(analysis, self.ensemble.members)
        members = [
            {
                "name": m.name,
                "file": m.path.name,
                "config": m.config.to_dict(),
                "config_source": m.config_source,
                "epoch": m.epoch,
                "seed": m.seed,
                "recorded_metrics": _json_safe(recorded.get(m.name, {})),
                "recipe": None if m.recipe is None else m.recipe.to_dict(),
            }
            for m in self.ensemble.members
        ]
        return {
            "members": members,
            "missing": [f"best_ensemble_model_{n}.pt" for n in self.ensemble.missing],
            "class_names": self.class_names,
            "recipe": None if self.recipe is None else self.recipe.to_dict(),
            "uploads": self.recipe_problem or "accepted",
            "features": {"file": self.features.path.name, "videos": len(self.index.names)},
            "models": self.fingerprint,
            "device": str(self.device),
            "warnings": self.warnings,
        }
