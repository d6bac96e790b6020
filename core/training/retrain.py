"""Retraining one ensemble member into a candidate beside the ensemble, never inside it.

The candidate for member K is trained with the recipe the ensemble was trained with (the header of
`configuration_analysis.json`, else the member's own `training_config`, else the original recipe)
and the member's architecture, under a seed no member used, on features of the member's recipe.
Its folder (`--out`) receives, together and only at the end, `best_ensemble_model_K.pt` (the
original layout), `training_metrics.csv` (its rows) and `retrain_provenance.json`; while it trains,
`retrain_state.pt` holds the last finished epoch, so an interrupted run resumes exactly there.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from core.atomic import atomic_path, atomic_paths
from core.evaluation.recorded import read_configuration_analysis
from core.features.store import FeatureSet
from core.model.checkpoints import (
    CheckpointError,
    LoadedCheckpoint,
    ensemble_member_number,
    find_ensemble_checkpoints,
    load_checkpoint,
    read_checkpoint_file,
)
from core.model.network import TemporalModelConfig
from core.model.prediction_cache import file_fingerprint
from core.outputs import PlannedOutput, check_outputs
from core.paths import (
    CONFIGURATION_ANALYSIS_JSON,
    RETRAIN_PROVENANCE_JSON,
    RETRAIN_STATE,
    TRAINING_METRICS_CSV,
    checkpoint_file_name,
    features_file_name,
)
from core.training.ensemble import history_columns, save_member_checkpoint
from core.training.member import (
    EpochRecord,
    MemberResult,
    ResumeState,
    StopCheck,
    TrainingConfig,
    TrainingError,
    train_member,
)

RETRAIN_FORMAT = "video-classifier-retrain/1"
STATE_FORMAT = "video-classifier-retrain-state/1"
ORIGINAL_FIRST_SEED = 42
# What an interrupted run must share with this one for its state to be continued.
RESUME_MUST_MATCH = ("member", "seed", "replaces", "feature_recipe", "model_config", "training_config")


@dataclass(frozen=True)
class MemberRecipe:
    """How member K of a folder was made, and the seeds every member of that folder used."""

    checkpoint: LoadedCheckpoint
    training: TrainingConfig
    training_source: str
    used_seeds: tuple[int, ...]

    @property
    def default_seed(self) -> int:
        return max(self.used_seeds, default=ORIGINAL_FIRST_SEED - 1) + 1


@dataclass(frozen=True)
class RetrainPlan:
    """One candidate: which member it replaces, and everything it is trained with."""

    models_dir: Path
    member: int
    features_dir: Path
    out_dir: Path
    seed: int
    recipe: MemberRecipe
    model_config: TemporalModelConfig
    config: TrainingConfig
    options: dict[str, Any]

    @property
    def checkpoint_path(self) -> Path:
        return self.out_dir / checkpoint_file_name(self.member)

    @property
    def history_path(self) -> Path:
        return self.out_dir / TRAINING_METRICS_CSV

    @property
    def provenance_path(self) -> Path:
        return self.out_dir / RETRAIN_PROVENANCE_JSON

    @property
    def state_path(self) -> Path:
        return self.out_dir / RETRAIN_STATE

    def request(self) -> dict[str, Any]:
        """What the candidate is: the provenance record without its results."""
        original = self.recipe.checkpoint
        feature_recipe = original.recipe.to_dict() if original.recipe else None
        return {
            "member": self.member,
            "seed": self.seed,
            "replaces": {
                "models_dir": str(self.models_dir.resolve()),
                "checkpoint": str(original.path.resolve()),
                "sha256": file_fingerprint(original.path),
                "seed": original.seed,
            },
            "features_dir": str(self.features_dir.resolve()),
            "feature_recipe": feature_recipe,
            "model_config": self.model_config.to_dict(),
            "training_config": self.config.to_dict(),
            "recipe_source": self.recipe.training_source,
            "options": self.options,
            "seeds_in_use": list(self.recipe.used_seeds),
        }


@dataclass(frozen=True)
class RetrainResult:
    plan: RetrainPlan
    result: MemberResult
    provenance: dict[str, Any]
    resumed_from_epoch: int


def _member_checkpoint(models_dir: Path, member: int) -> Path:
    found = find_ensemble_checkpoints(models_dir)
    numbers = [ensemble_member_number(p) for p in found]
    if member not in numbers:
        held = ", ".join(str(n) for n in numbers) or "none"
        raise TrainingError(
            f"{models_dir}: member {member} does not exist (it holds members {held}); "
            "choose one of those with --member"
        )
    return models_dir / checkpoint_file_name(member)


def _recorded_seed(path: Path, entries: Mapping[str, Mapping[str, Any]]) -> int:
    """A member's seed: its checkpoint's, else the run summary's, else the original's 42 + n - 1."""
    try:
        seed = read_checkpoint_file(path).get("seed")
    except CheckpointError:
        seed = None
    if seed is None:
        seed = entries.get(path.stem, {}).get("seed")
    number = ensemble_member_number(path) or 1
    return int(seed) if isinstance(seed, int) else ORIGINAL_FIRST_SEED + number - 1


def _ensemble_recipe(models_dir: Path, checkpoint: LoadedCheckpoint) -> tuple[TrainingConfig, str]:
    summary = models_dir / CONFIGURATION_ANALYSIS_JSON
    header: Any = None
    if summary.is_file():
        try:
            header = json.loads(summary.read_text(encoding="utf-8")).get("training_config")
        except (OSError, ValueError, AttributeError):
            header = None
    try:
        if isinstance(header, Mapping):
            return TrainingConfig.from_dict(header), f"{summary.name} (the ensemble's recipe)"
        if checkpoint.training_config:
            member = TrainingConfig.from_dict(checkpoint.training_config)
            return replace(member, note=""), f"{checkpoint.path.name} (the member's own recipe)"
    except (TypeError, ValueError) as exc:
        raise TrainingError(f"{models_dir}: the recorded training recipe is unreadable ({exc})") from None
    return TrainingConfig(), "the original recipe (nothing recorded)"


def member_recipe(models_dir: str | Path, member: int) -> MemberRecipe:
    """Member `member` of `models_dir`: its checkpoint, the recipe to retrain it with, and the
    seeds in use; raises TrainingError (member missing) or CheckpointError (it does not load)."""
    models_dir = Path(models_dir)
    checkpoint = load_checkpoint(_member_checkpoint(models_dir, member), "cpu")
    try:
        entries = read_configuration_analysis(models_dir / CONFIGURATION_ANALYSIS_JSON)
    except ValueError:
        entries = {}
    seeds = sorted({_recorded_seed(p, entries) for p in find_ensemble_checkpoints(models_dir)})
    training, source = _ensemble_recipe(models_dir, checkpoint)
    return MemberRecipe(checkpoint, training, source, tuple(seeds))


def check_features_fit(recipe: MemberRecipe, train: FeatureSet, val: FeatureSet) -> None:
    """The candidate must read what the member reads: same feature size, classes and recipe."""
    member = recipe.checkpoint
    for split in (train, val):
        if split.feature_dim != member.config.feature_dim:
            raise TrainingError(
                f"{split.path} holds {split.feature_dim}-d features but {member.path.name} reads "
                f"{member.config.feature_dim}-d; use the features the member was trained on"
            )
        if len(split.class_names) != member.config.num_classes:
            raise TrainingError(
                f"{split.path} has {len(split.class_names)} classes but {member.path.name} predicts "
                f"{member.config.num_classes}"
            )
        differences = member.recipe.differences(split.recipe) if member.recipe and split.recipe else []
        if differences:
            raise TrainingError(
                f"{split.path} was extracted with another recipe than {member.path.name} "
                f"({'; '.join(differences)}); retrain on features made with the member's recipe"
            )


def _check_out_dir(models_dir: Path, out_dir: Path) -> None:
    models, out = models_dir.resolve(), out_dir.resolve()
    if out == models or models in out.parents:
        raise TrainingError(
            f"{out_dir} is inside {models_dir}; a candidate never goes into the ensemble's folder, "
            "choose an --out outside it (promote it from the app once it has earned it)"
        )


def plan_retrain(
    models_dir: str | Path,
    member: int,
    features_dir: str | Path,
    out_dir: str | Path,
    *,
    seed: int | None = None,
    options: Mapping[str, Any] | None = None,
    model_options: Mapping[str, Any] | None = None,
) -> RetrainPlan:
    """Check the member, the folders and the options, before any file is touched. `options`
    replace fields of the recipe's TrainingConfig, `model_options` of the member's model config."""
    models_dir, out_dir = Path(models_dir), Path(out_dir)
    _check_out_dir(models_dir, out_dir)
    recipe = member_recipe(models_dir, member)
    seed = recipe.default_seed if seed is None else int(seed)
    options = dict(options or {})
    try:
        config = replace(recipe.training, **options)
        config = replace(config, base_seed=seed - member + 1)
        model_config = replace(recipe.checkpoint.config, **dict(model_options or {}))
    except (TypeError, ValueError) as exc:
        raise TrainingError(f"invalid training option: {exc}") from None
    everything = {**options, **dict(model_options or {})}
    shown = {k: v.to_dict() if hasattr(v, "to_dict") else v for k, v in everything.items()}
    return RetrainPlan(
        models_dir, member, Path(features_dir), out_dir, seed, recipe, model_config, config, shown
    )


def is_retrain_provenance(path: Path) -> bool:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(document, dict) and document.get("format") == RETRAIN_FORMAT


def _is_retrain_state(path: Path) -> bool:
    try:
        return read_state(path).get("format") == STATE_FORMAT
    except (OSError, ValueError, RuntimeError):
        return False


def _beside_provenance(path: Path) -> bool:
    return is_retrain_provenance(path.parent / RETRAIN_PROVENANCE_JSON)


def read_state(path: Path) -> dict[str, Any]:
    """An interrupted run's state (tensors and plain values only: `weights_only=True`)."""
    content = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(content, dict):
        raise ValueError(f"{path}: not a retrain state")
    return content


def check_retrain_outputs(plan: RetrainPlan, *, overwrite: bool) -> dict[str, Any] | None:
    """Refuse an --out holding anything but this run's interrupted state (unless `overwrite`);
    returns that state when the run can continue from it."""
    held = sorted(p for p in plan.out_dir.iterdir()) if plan.out_dir.is_dir() else []
    resumable = plan.state_path.is_file() and _is_retrain_state(plan.state_path)
    others = [p for p in held if not (resumable and p == plan.state_path) and not p.name.startswith(".")]
    if others and not overwrite:
        names = ", ".join(p.name for p in others[:4])
        raise TrainingError(
            f"{plan.out_dir} already holds files ({names}); pass --overwrite to replace the candidate's "
            "files there, or choose an empty --out"
        )
    check_outputs(
        [
            PlannedOutput(plan.checkpoint_path, "candidate checkpoint", _beside_provenance),
            PlannedOutput(plan.history_path, "training history", _beside_provenance),
            PlannedOutput(plan.provenance_path, "provenance record", is_retrain_provenance),
            PlannedOutput(plan.state_path, "retrain state", _is_retrain_state),
        ],
        overwrite=overwrite,
        inputs=[
            plan.recipe.checkpoint.path,
            *(plan.features_dir / features_file_name(s) for s in ("train", "val")),
        ],
    )
    if overwrite or not resumable:
        return None
    state = read_state(plan.state_path)
    request = plan.request()
    for key in RESUME_MUST_MATCH:
        if state["request"].get(key) != request.get(key):
            raise TrainingError(
                f"{plan.state_path}: cannot resume, '{key}' differs from this run's; use the same "
                "options as the interrupted run, or start over with --overwrite"
            )
    return state


def history_table(records: list[dict[str, Any]], num_classes: int) -> pd.DataFrame:
    return pd.DataFrame(records, columns=history_columns(num_classes))


def _provenance(plan: RetrainPlan, result: MemberResult, class_names: list[str]) -> dict[str, Any]:
    metrics = result.best_metrics
    return {
        "format": RETRAIN_FORMAT,
        "complete": True,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        **plan.request(),
        "class_names": class_names,
        "files": {"checkpoint": plan.checkpoint_path.name, "history": plan.history_path.name},
        "result": {
            "best_epoch": result.best_epoch,
            "epochs_trained": result.epochs_trained,
            "stopped_early": result.stopped_early,
            "val_accuracy": metrics.accuracy,
            "val_f1_weighted": metrics.f1_weighted,
            "val_f1_per_class": dict(zip(class_names, metrics.f1_per_class, strict=True)),
        },
    }


def _write_candidate(
    plan: RetrainPlan, result: MemberResult, rows: list[dict[str, Any]], train: FeatureSet
) -> dict[str, Any]:
    """Checkpoint, history and provenance land together or not at all; then the state goes."""
    class_names = list(train.class_names)
    provenance = _provenance(plan, result, class_names)
    targets = [plan.checkpoint_path, plan.history_path, plan.provenance_path]
    with atomic_paths(targets) as (checkpoint_tmp, history_tmp, provenance_tmp):
        save_member_checkpoint(checkpoint_tmp, result, train, seed=plan.seed, config=plan.config)
        history_table(rows, len(class_names)).to_csv(history_tmp, index=False)
        # What promotion checks: a file replaced after this point is refused, not promoted.
        provenance["sha256"] = {
            plan.checkpoint_path.name: file_fingerprint(checkpoint_tmp),
            plan.history_path.name: file_fingerprint(history_tmp),
        }
        provenance_tmp.write_text(json.dumps(provenance, indent=2) + "\n", encoding="utf-8")
    plan.state_path.unlink(missing_ok=True)
    return provenance


def retrain_member(
    plan: RetrainPlan,
    train: FeatureSet,
    val: FeatureSet,
    *,
    overwrite: bool = False,
    device: torch.device | None = None,
    on_epoch: Callable[[EpochRecord], None] | None = None,
    should_stop: StopCheck | None = None,
) -> RetrainResult:
    """Train the candidate the plan describes (continuing an interrupted run of the same plan)
    and write its files; a stopped or failed run leaves only its last epoch's state."""
    check_features_fit(plan.recipe, train, val)
    state = check_retrain_outputs(plan, overwrite=overwrite)
    if overwrite:
        # A fresh start; the earlier candidate's files stay until the new ones replace them.
        plan.state_path.unlink(missing_ok=True)
    rows: list[dict[str, Any]] = list(state["rows"]) if state else []
    request = plan.request()

    def save_state(member_state: ResumeState) -> None:
        with atomic_path(plan.state_path) as tmp:
            content = {"format": STATE_FORMAT, "request": request, "rows": rows, "member": member_state}
            torch.save(content, tmp)

    def record(epoch: EpochRecord) -> None:
        rows.append(epoch.to_row())
        if on_epoch is not None:
            on_epoch(epoch)

    result = train_member(
        train,
        val,
        model_config=plan.model_config,
        config=plan.config,
        member=plan.member,
        device=device,
        on_epoch=record,
        resume=state["member"] if state else None,
        on_state=save_state,
        should_stop=should_stop,
    )
    provenance = _write_candidate(plan, result, rows, train)
    return RetrainResult(plan, result, provenance, int(state["member"]["epoch"]) if state else 0)
