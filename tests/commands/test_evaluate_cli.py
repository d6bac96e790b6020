import json
import subprocess
import sys

import numpy as np
import pytest

from core.cli import main
from core.evaluation.metrics import compute_metrics
from core.evaluation.runs import list_runs, load_run, run_evaluation
from core.model.inference import combine_probabilities
from tests.factories import TINY_CONFIG, make_model, write_ensemble, write_features


@pytest.fixture
def bundle(tmp_path):
    models = tmp_path / "models_enhanced"
    features = tmp_path / "features_enhanced" / "test_features_multiscale.h5"
    features.parent.mkdir()
    write_ensemble(models)
    write_features(features, num_videos=12)
    return tmp_path, models, features


def test_evaluate_writes_every_predictor_with_metrics_equal_to_core(bundle, capsys):
    root, models, features = bundle
    out = root / "runs" / "first.json"
    code = main(
        ["evaluate", "--models", str(models), "--features", str(features), "--tta", "--out", str(out)]
    )
    assert code == 0
    document = json.loads(out.read_text())
    assert document["probabilities_file"] == "first.npz"
    assert "member_mode_probabilities" not in document
    run = load_run(out)
    assert run.predictor_names == [f"best_ensemble_model_{n}" for n in range(1, 5)] + [
        "ensemble",
        "ensemble_tta",
    ]
    assert run.class_names == ["Animation", "Flat_Content", "Gaming", "Natural_Content"]
    assert len(run.video_names) == len(run.labels) == 12
    with np.load(root / "runs" / "first.npz", allow_pickle=False) as sidecar:
        raw = sidecar["probabilities"]
    assert raw.shape == (4, 4, 12, 4)
    tta = combine_probabilities(raw, mode_indices=range(4))
    np.testing.assert_allclose(run.predictor_probabilities()["ensemble_tta"], tta, atol=1e-6)
    expected = compute_metrics(run.labels, tta.argmax(axis=1), 4)
    stored = run.scores["ensemble_tta"]
    assert stored.accuracy == pytest.approx(expected.accuracy)
    assert stored.f1_weighted == pytest.approx(expected.f1_weighted)
    assert stored.f1_per_class == pytest.approx(expected.f1_per_class)
    assert stored.confusion_matrix == expected.confusion_matrix
    stored_matrix = document["predictors"]["ensemble_tta"]["confusion_matrix"]
    assert stored_matrix == [list(row) for row in expected.confusion_matrix]
    assert sum(map(sum, run.scores["ensemble"].confusion_matrix)) == 12
    assert list_runs(root / "runs").runs[0][0] == out


def test_missing_member_warns_and_explicit_checkpoints_pick_members(bundle, capsys):
    root, models, features = bundle
    (models / "best_ensemble_model_3.pt").unlink()
    out = root / "r.json"
    assert main(["evaluate", "--models", str(models), "--features", str(features), "--out", str(out)]) == 0
    assert "best_ensemble_model_3.pt is missing" in capsys.readouterr().err
    run = load_run(out)
    assert run.members == ["best_ensemble_model_1", "best_ensemble_model_2", "best_ensemble_model_4"]
    assert "ensemble_tta" not in run.scores
    assert "best_ensemble_model_3.pt is missing" in run.warnings[0]
    picked = root / "p.json"
    member = str(models / "best_ensemble_model_2.pt")
    assert main(["evaluate", "--checkpoints", member, "--features", str(features), "--out", str(picked)]) == 0
    assert load_run(picked).members == ["best_ensemble_model_2"]


def test_evaluation_matches_direct_prediction(bundle):
    _, models, features = bundle
    run = run_evaluation(sorted(models.glob("*.pt")), features, tta_modes=())
    assert run.tta_modes == ["original"]
    ensemble = run.scores["ensemble"]
    assert 0.0 <= ensemble.accuracy <= 100.0
    assert ensemble.accuracy_ci.low <= ensemble.accuracy <= ensemble.accuracy_ci.high
    assert ensemble.f1_weighted_ci.low <= ensemble.f1_weighted <= ensemble.f1_weighted_ci.high


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("no_models", "no best_ensemble_model_<n>.pt checkpoints found"),
        ("wrong_dim", "expects 1280-d features"),
        ("bad_features", "not a readable HDF5 file"),
    ],
)
def test_cli_exits_non_zero_with_one_line_reason(tmp_path, setup, message):
    models = tmp_path / "models"
    features = tmp_path / "test_features_multiscale.h5"
    if setup != "no_models":
        write_ensemble(models, members=1)
    if setup == "bad_features":
        features.write_text("junk")
    else:
        write_features(features, num_videos=4, feature_dim=1280 if setup != "wrong_dim" else 64)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "core",
            "evaluate",
            "--models",
            str(models),
            "--features",
            str(features),
            "--out",
            str(tmp_path / "o.json"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and message in last
    assert not (tmp_path / "o.json").exists() and not (tmp_path / "o.npz").exists()


def test_tiny_config_is_usable(bundle):
    assert make_model(TINY_CONFIG).config.hidden_dim == 16
