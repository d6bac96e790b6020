"""Promotion and its undoing: the folder is byte-identical after promote + restore, and every
refused promotion (a replaced candidate file, another recipe, a concurrent promotion, a failure
while writing) or refused restore leaves the ensemble's folder exactly as it was, with no file
left behind. One candidate is trained for the module; every test leaves its project as it found it."""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from pathlib import Path

import pytest
import torch

from core.model.promotions import PROMOTIONS_JSON, read_promotions
from core.paths import RETRAIN_PROVENANCE_JSON
from core.training.ensemble import load_training_splits
from core.training.member import TrainingError
from core.training.promote import promote_candidate, restore_member
from core.training.promote_lock import promotion_lock
from core.training.retrain import plan_retrain, retrain_member
from tests.factories import write_features, write_project

MEMBER = 2


def folder_digest(folder: Path) -> dict[str, str]:
    """Every entry of the folder, hidden ones included (a left-behind lock or temp file counts)."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = write_project(tmp_path_factory.mktemp("promotion") / "project", num_videos=12)
    features = root / "features_enhanced"
    write_features(features / "train_features_multiscale.h5", num_videos=12, seed=3)
    plan = plan_retrain(root / "models_enhanced", MEMBER, features, root / "candidate",
                        options={"max_epochs": 1, "batch_size": 4})  # fmt: skip
    retrain_member(plan, *load_training_splits(features))
    return root / "models_enhanced", root / "candidate"


@pytest.fixture
def project(trained: tuple[Path, Path]):
    models, candidate = trained
    before, candidate_before = folder_digest(models), folder_digest(candidate)
    saved = {p.name: p.read_bytes() for p in candidate.iterdir()}
    yield models, candidate
    for name, data in saved.items():
        (candidate / name).write_bytes(data)
    assert folder_digest(models) == before, "a test left the ensemble's folder changed"
    assert folder_digest(candidate) == candidate_before


def test_promote_then_restore_gives_back_the_folder_byte_for_byte(project):
    models, candidate = project
    before = folder_digest(models)
    promotion = promote_candidate(candidate, models, stamp="20261208-010000")
    after, name = folder_digest(models), f"best_ensemble_model_{MEMBER}.pt"
    assert after[name] == folder_digest(candidate)[name]
    assert after[f"best_ensemble_model_{MEMBER}.backup-20261208-010000.pt"] == before[name]
    assert after["training_metrics.backup-20261208-010000.csv"] == before["training_metrics.csv"]
    assert (
        after["configuration_analysis.backup-20261208-010000.json"] == before["configuration_analysis.json"]
    )
    (record,) = read_promotions(models)
    assert (record.member, record.seed, record.candidate) == (MEMBER, 46, str(candidate.resolve()))
    assert record == promotion.record
    assert record.checkpoint_backup == f"best_ensemble_model_{MEMBER}.backup-20261208-010000.pt"
    assert set(after) == set(before) | {PROMOTIONS_JSON, *(p.name for p in promotion.backups)}

    restored = restore_member(models, MEMBER)
    assert restored.record == record
    assert folder_digest(models) == before


def _rewrite_candidate(candidate: Path, change) -> None:
    """A candidate whose checkpoint is changed and whose record agrees with the change (so only the
    fit to the ensemble can refuse it)."""
    path = candidate / f"best_ensemble_model_{MEMBER}.pt"
    content = torch.load(path, weights_only=True)
    change(content)
    torch.save(content, path)
    record = json.loads((candidate / RETRAIN_PROVENANCE_JSON).read_text())
    record["sha256"][path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    (candidate / RETRAIN_PROVENANCE_JSON).write_text(json.dumps(record))


def _refused(models: Path, candidate: Path, match: str) -> None:
    before = folder_digest(models)
    with pytest.raises(TrainingError, match=match) as refusal:
        promote_candidate(candidate, models)
    assert "\n" not in str(refusal.value)
    assert folder_digest(models) == before


def test_a_replaced_candidate_file_is_refused(project):
    models, candidate = project
    shutil.copyfile(models / "best_ensemble_model_3.pt", candidate / f"best_ensemble_model_{MEMBER}.pt")
    _refused(models, candidate, "has changed since the candidate wrote it")


def test_a_changed_candidate_history_is_refused(project):
    models, candidate = project
    with (candidate / "training_metrics.csv").open("a") as handle:
        handle.write("\n")
    _refused(models, candidate, "training_metrics.csv has changed since the candidate wrote it")


def test_a_candidate_without_recorded_hashes_is_refused(project):
    models, candidate = project
    record = json.loads((candidate / RETRAIN_PROVENANCE_JSON).read_text())
    del record["sha256"]
    (candidate / RETRAIN_PROVENANCE_JSON).write_text(json.dumps(record))
    _refused(models, candidate, "records no file hashes")


def _wider_input(content: dict) -> None:
    """A member reading 4 more feature dimensions, its config and weights consistent."""
    weight = content["model_state_dict"]["input_projection.0.weight"]
    wider = weight.shape[1] + 4
    content["model_state_dict"]["input_projection.0.weight"] = torch.zeros(weight.shape[0], wider)
    content["model_config"]["feature_dim"] = wider


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda c: c["feature_recipe"].update(image_size=96), "its feature recipe differs"),
        (lambda c: c.update(class_names=list(reversed(c["class_names"]))), "its classes are"),
        (_wider_input, "it reads 1284-d features, best_ensemble_model_1 1280-d"),
    ],
    ids=["recipe", "classes", "feature_dim"],
)
def test_a_candidate_that_reads_other_features_is_refused(project, change, match):
    models, candidate = project
    _rewrite_candidate(candidate, change)
    _refused(models, candidate, f"does not fit the ensemble: {match}")


def test_a_failure_while_writing_leaves_no_backup_behind(project, monkeypatch):
    models, candidate = project

    copy = shutil.copyfile

    def corrupting_copy(source, target, **options):
        copy(source, target, **options)
        if Path(source).parent == candidate:
            Path(target).write_bytes(Path(target).read_bytes()[:-1])

    monkeypatch.setattr("core.training.promote.shutil.copyfile", corrupting_copy)
    _refused(models, candidate, "changed while it was being promoted")


def test_a_promotion_while_another_holds_the_folder_is_refused(project):
    models, candidate = project
    with promotion_lock(models):
        before = folder_digest(models)
        with pytest.raises(TrainingError, match="another promotion or restore is running"):
            promote_candidate(candidate, models)
        with pytest.raises(TrainingError, match="another promotion or restore is running"):
            restore_member(models, MEMBER)
        assert folder_digest(models) == before


def test_two_promotions_started_together_exactly_one_happens(project):
    models, candidate = project
    before = folder_digest(models)
    start, outcomes = threading.Barrier(2), []

    def promote() -> None:
        start.wait()
        try:
            outcomes.append(promote_candidate(candidate, models))
        except TrainingError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=promote) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    refused = [o for o in outcomes if isinstance(o, TrainingError)]
    assert len(outcomes) == 2 and len(refused) == 1, outcomes
    reason = str(refused[0])
    assert "another promotion" in reason or "has changed since the candidate was trained" in reason
    assert len(read_promotions(models)) == 1
    restore_member(models, MEMBER)
    assert folder_digest(models) == before


def test_a_restore_is_refused_when_anything_changed_since_the_promotion(project):
    models, candidate = project
    promote_candidate(candidate, models, stamp="20261208-020000")
    history = models / "training_metrics.csv"
    promoted = history.read_bytes()
    history.write_bytes(promoted + b"\n")
    changed = folder_digest(models)
    with pytest.raises(TrainingError, match=r"training_metrics\.csv has changed since member 2 was promoted"):
        restore_member(models, MEMBER)
    assert folder_digest(models) == changed
    with pytest.raises(TrainingError, match="member 1 has no recorded promotion"):
        restore_member(models, 1)
    history.write_bytes(promoted)
    restore_member(models, MEMBER)
