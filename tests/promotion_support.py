"""Candidates for promotion tests: one trained for real (one epoch), and the same candidate made
deliberately worse (it answers one class for every video), with its recorded hashes kept true."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import torch

from core.evaluation.runs import EvaluationRun, run_evaluation
from core.model.checkpoints import find_ensemble_checkpoints
from core.model.inference import ENSEMBLE
from core.paths import RETRAIN_PROVENANCE_JSON, checkpoint_file_name
from core.training.ensemble import load_training_splits
from core.training.retrain import plan_retrain, retrain_member
from tests.factories import write_features, write_project

FINAL_LAYER = "classifier.12"


def project_with_candidate(root: Path, member: int, out: Path, num_videos: int = 12) -> Path:
    """A factories project with train features and a one-epoch candidate for `member` in `out`."""
    write_project(root, num_videos=num_videos)
    features = root / "features_enhanced"
    write_features(features / "train_features_multiscale.h5", num_videos=num_videos, seed=3)
    plan = plan_retrain(
        root / "models_enhanced", member, features, out, options={"max_epochs": 1, "batch_size": 4}
    )
    retrain_member(plan, *load_training_splits(features))
    return out


def validation_run(root: Path) -> EvaluationRun:
    models = find_ensemble_checkpoints(root / "models_enhanced")
    return run_evaluation(models, root / "features_enhanced" / "val_features_multiscale.h5", tta_modes=())


def best_class(run: EvaluationRun) -> int:
    """The class the ensemble scores best on (its F1 is above 0, so answering another class for
    every video makes it fall)."""
    index = int(np.argmax(run.scores[ENSEMBLE].f1_per_class))
    assert run.scores[ENSEMBLE].f1_per_class[index] > 0
    return index


def make_candidate_answer(candidate: Path, member: int, class_index: int) -> None:
    """The candidate's final layer is set to answer `class_index` for every video, with certainty;
    its recorded sha256 is updated, so only the review can refuse it."""
    path = candidate / checkpoint_file_name(member)
    content = torch.load(path, weights_only=True)
    state = content["model_state_dict"]
    state[f"{FINAL_LAYER}.weight"].zero_()
    state[f"{FINAL_LAYER}.bias"].fill_(-50.0)
    state[f"{FINAL_LAYER}.bias"][class_index] = 50.0
    torch.save(content, path)
    record = json.loads((candidate / RETRAIN_PROVENANCE_JSON).read_text())
    record["sha256"][path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    (candidate / RETRAIN_PROVENANCE_JSON).write_text(json.dumps(record, indent=2))
