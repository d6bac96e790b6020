"""Promotion from the Collapse inspector: the candidate's comparison on the validation split, a
second confirmation naming what falls for a worse candidate, and "Restore the previous member"
refusing after a change, then giving back the folder byte for byte."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from core.evaluation.runs import apply_swaps, default_run_path, run_evaluation, save_run
from core.model.checkpoints import find_ensemble_checkpoints
from core.training.jobs import RetrainRegistry, RetrainRequest, RetrainState
from dashboard.navigation import COLLAPSE_PAGE
from tests.dashboard.test_pages_part1 import metric_value, open_page
from tests.factories import write_features, write_project
from tests.promotion_support import best_class, make_candidate_answer, validation_run

MEMBER = 2


def folder_digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


@pytest.fixture
def worse_candidate(tmp_path: Path) -> tuple[Path, str]:
    """A finished retrain job of member 2 whose candidate answers another class than the one the
    ensemble does best on, with both validation runs stored."""
    root = write_project(tmp_path / "project", num_videos=12)
    write_features(root / "features_enhanced" / "train_features_multiscale.h5", num_videos=12, seed=3)
    request = RetrainRequest(root / "models_enhanced", root / "features_enhanced", MEMBER,
                             options={"max_epochs": 1, "batch_size": 4})  # fmt: skip
    finished = RetrainRegistry().submit(request, root / "runs" / "retrain").wait(120)
    assert finished.state is RetrainState.FINISHED, finished.error
    original = validation_run(root)
    best = best_class(original)
    make_candidate_answer(finished.candidate_dir, MEMBER, (best + 1) % len(original.class_names))
    ensemble = find_ensemble_checkpoints(root / "models_enhanced")
    swapped, record = apply_swaps(
        ensemble, {MEMBER: finished.candidate_dir / f"best_ensemble_model_{MEMBER}.pt"}
    )
    validation = root / "features_enhanced" / "val_features_multiscale.h5"
    with_candidate = run_evaluation(swapped, validation, tta_modes=(), swaps=record)
    save_run(original, default_run_path(root / "runs", "val-original"))
    save_run(with_candidate, default_run_path(root / "runs", "val-swap"))
    return root, original.class_names[best]


def test_a_worse_candidate_needs_the_second_confirmation_and_restores(worse_candidate, monkeypatch) -> None:
    root, best = worse_candidate
    models = root / "models_enhanced"
    before = folder_digest(models)
    at = open_page(root, monkeypatch, COLLAPSE_PAGE)
    at.selectbox(key="collapse_member").set_value(f"best_ensemble_model_{MEMBER}").run()
    at.selectbox(key="collapse_class").set_value(best).run()
    assert not at.exception, [e.value for e in at.exception]

    assert metric_value(at, f"{best} F1") == "0.0%"
    assert metric_value(at, "Videos fixed / broken").endswith("/ 3")
    warning = next(w.value for w in at.warning if "makes the ensemble worse" in w.value)
    assert warning.startswith(
        "On the validation split the candidate makes the ensemble worse: ensemble accuracy falls"
    )
    assert f"{best} F1 falls from 100.0% to 0.0%" in warning

    job = next(b.key for b in at.button if b.key.startswith("retrain_promote_")).removeprefix(
        "retrain_promote_"
    )
    at.checkbox(key=f"retrain_promote_sure_{job}").check().run()
    assert at.button(key=f"retrain_promote_{job}").disabled, "one tick is not enough for a worse candidate"
    second = at.checkbox(key=f"retrain_promote_worse_{job}")
    assert second.label.startswith("I accept that on the validation split ensemble accuracy falls")
    second.check().run()
    assert not at.button(key=f"retrain_promote_{job}").disabled
    assert folder_digest(models) == before

    at.button(key=f"retrain_promote_{job}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(
        s.value.startswith("Promoted; the originals are kept as best_ensemble_model_2.backup-")
        for s in at.success
    )
    assert any(f"Model {MEMBER} is a promoted retrain: seed 46, promoted " in i.value for i in at.info)
    assert folder_digest(models) != before

    history = models / "training_metrics.csv"
    promoted = history.read_bytes()
    history.write_bytes(promoted + b"\n")
    changed = folder_digest(models)
    at.button(key=f"promotion_restore_{MEMBER}").click().run()
    refusal = next(e.value for e in at.error if "nothing was restored" in e.value)
    assert "training_metrics.csv has changed since member 2 was promoted" in refusal and "\n" not in refusal
    assert folder_digest(models) == changed
    history.write_bytes(promoted)

    at.button(key=f"promotion_restore_{MEMBER}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(s.value.startswith("Restored the previous member: ") for s in at.success)
    assert folder_digest(models) == before
    assert not any("is a promoted retrain" in i.value for i in at.info)
