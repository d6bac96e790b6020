import json
from pathlib import Path

import numpy as np
import pytest

from core.evaluation.predictions import SplitPredictions
from core.evaluation.run_compare import compare_runs, runs_table
from core.evaluation.runs import (
    JSON_ONLY_RUN_FORMAT,
    EvaluationRun,
    list_runs,
    load_run,
    run_evaluation,
    save_run,
    sidecar_path,
)
from tests.factories import write_ensemble, write_features


def write_json_only_run(run: EvaluationRun, path: Path) -> Path:
    """A run file as format /1 wrote it: per-video probabilities per predictor and per member/mode,
    rounded to 6 decimals, everything in one JSON."""
    predictors = run.predictor_probabilities()
    document = {
        "format": JSON_ONLY_RUN_FORMAT,
        "created_utc": run.created_utc,
        "features_file": run.features_file,
        "checkpoints": run.checkpoints,
        "members": run.members,
        "tta_modes": run.tta_modes,
        "device": run.device,
        "batch_size": run.batch_size,
        "class_names": run.class_names,
        "video_names": run.video_names,
        "labels": run.labels.tolist(),
        "warnings": run.warnings,
        "predictors": {
            name: {**scores.to_dict(), "probabilities": predictors[name].round(6).tolist()}
            for name, scores in run.scores.items()
        },
        "member_mode_probabilities": run.probabilities.round(6).tolist(),
        "elapsed_s": run.elapsed_s,
    }
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def evaluated(tmp_path: Path, num_videos: int, members: int = 4, tta: tuple[str, ...] = ()) -> EvaluationRun:
    features = tmp_path / "features_enhanced" / "test_features_multiscale.h5"
    features.parent.mkdir(exist_ok=True)
    write_features(features, num_videos=num_videos, seed=5)
    checkpoints = write_ensemble(tmp_path / "models_enhanced", members=members)
    return run_evaluation(checkpoints, features, tta_modes=tta, device="cpu")


@pytest.fixture(scope="module")
def tta_run(tmp_path_factory: pytest.TempPathFactory) -> EvaluationRun:
    return evaluated(tmp_path_factory.mktemp("tta"), num_videos=10, members=2, tta=("reverse",))


def test_saved_run_round_trips_through_json_and_sidecar(tta_run: EvaluationRun, tmp_path: Path) -> None:
    path = save_run(tta_run, tmp_path / "runs" / "r.json")
    assert sidecar_path(path).is_file()
    loaded = load_run(path)
    assert loaded.scores == tta_run.scores
    assert loaded.labels.tolist() == tta_run.labels.tolist()
    np.testing.assert_array_equal(loaded.probabilities, tta_run.probabilities)
    members = ["best_ensemble_model_1", "best_ensemble_model_2"]
    assert loaded.predictor_names == [*members, "ensemble", "ensemble_tta"]
    split = SplitPredictions.from_run(loaded)
    assert split.predictor_names == loaded.predictor_names
    for name, scores in loaded.scores.items():
        assert split.metrics(name).accuracy == pytest.approx(scores.accuracy)
        assert split.metrics(name).confusion_matrix == scores.confusion_matrix


def test_json_only_run_of_format_1_still_loads(tta_run: EvaluationRun, tmp_path: Path) -> None:
    old = write_json_only_run(tta_run, tmp_path / "old.json")
    new = save_run(tta_run, tmp_path / "new.json")
    loaded_old, loaded_new = load_run(old), load_run(new)
    assert loaded_old.scores == loaded_new.scores
    assert loaded_old.tta_modes == ["original", "reverse"]
    np.testing.assert_allclose(loaded_old.probabilities, loaded_new.probabilities, atol=1e-6)
    comparison = compare_runs(loaded_old, loaded_new, "ensemble_tta")
    assert comparison.flipped.empty
    assert comparison.differences["accuracy B−A"].tolist() == [0.0] * 4
    listing = list_runs(tmp_path)
    assert sorted(path.name for path, _ in listing.runs) == ["new.json", "old.json"]
    headline = runs_table(listing.runs)["ensemble+TTA accuracy"].tolist()
    assert headline == [tta_run.scores["ensemble_tta"].accuracy] * 2


def test_new_runs_take_under_a_quarter_of_the_json_only_size(tmp_path: Path) -> None:
    run = evaluated(tmp_path, num_videos=500)
    old = write_json_only_run(run, tmp_path / "old.json")
    new = save_run(run, tmp_path / "runs" / "new.json")
    new_size = new.stat().st_size + sidecar_path(new).stat().st_size
    assert old.stat().st_size / run.num_videos > 600
    assert new_size < old.stat().st_size / 4


def test_a_run_without_its_sidecar_is_listed_as_unreadable(tta_run: EvaluationRun, tmp_path: Path) -> None:
    kept = save_run(tta_run, tmp_path / "kept.json")
    orphan = save_run(tta_run, tmp_path / "orphan.json")
    sidecar_path(orphan).unlink()
    listing = list_runs(tmp_path)
    assert [path for path, _ in listing.runs] == [kept]
    assert len(listing.unreadable) == 1 and listing.unreadable[0][1].startswith(f"{orphan}: incomplete")


def test_a_sidecar_of_another_shape_is_refused(tta_run: EvaluationRun, tmp_path: Path) -> None:
    path = save_run(tta_run, tmp_path / "r.json")
    with sidecar_path(path).open("wb") as handle:
        np.savez(handle, probabilities=tta_run.probabilities[:, :1])
    listing = list_runs(tmp_path)
    assert listing.runs == [] and "expected (2, 2, 10, 4)" in listing.unreadable[0][1]
