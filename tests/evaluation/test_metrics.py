import numpy as np
import pytest
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from core.evaluation.metrics import (
    Scores,
    _batched_weighted_f1,
    bootstrap_ci,
    collapsed_classes,
    compute_metrics,
    mcnemar_exact,
    pairwise_agreement,
)


@pytest.fixture
def random_predictions():
    rng = np.random.default_rng(7)
    y_true = rng.integers(0, 4, size=300)
    y_pred = np.where(rng.random(300) < 0.7, y_true, rng.integers(0, 4, size=300))
    y_pred[y_pred == 3] = 2  # class 3 never predicted: exercises zero_division
    return y_true, y_pred


def test_metrics_equal_scikit_learn(random_predictions):
    y_true, y_pred = random_predictions
    got = compute_metrics(y_true, y_pred, 4)
    precision, recall, f1, _ = precision_recall_fscore_support(
        y_true, y_pred, labels=range(4), average=None, zero_division=0
    )
    assert got.accuracy == pytest.approx(100 * accuracy_score(y_true, y_pred))
    assert got.f1_weighted == pytest.approx(
        100 * f1_score(y_true, y_pred, average="weighted", zero_division=0)
    )
    np.testing.assert_allclose(got.f1_per_class, 100 * f1)
    np.testing.assert_allclose(got.precision_per_class, 100 * precision)
    np.testing.assert_allclose(got.recall_per_class, 100 * recall)
    assert got.f1_per_class[3] == 0.0
    expected_matrix = confusion_matrix(y_true, y_pred, labels=range(4)).tolist()
    assert got.confusion_matrix == tuple(map(tuple, expected_matrix))
    assert Scores.from_dict(got.to_dict()) == got


def test_vectorised_weighted_f1_equals_scikit_learn_per_resample(random_predictions):
    y_true, y_pred = random_predictions
    rng = np.random.default_rng(1)
    rows = rng.integers(0, len(y_true), size=(5, len(y_true)))
    got = _batched_weighted_f1(y_true[rows], y_pred[rows], 4)
    expected = [
        f1_score(y_true[r], y_pred[r], average="weighted", labels=range(4), zero_division=0) for r in rows
    ]
    np.testing.assert_allclose(got, expected)


def test_bootstrap_interval_contains_point_estimate_and_is_deterministic(random_predictions):
    y_true, y_pred = random_predictions
    point = compute_metrics(y_true, y_pred, 4)
    ci = bootstrap_ci(y_true, y_pred, 4, n_resamples=500, seed=3)
    for key in ("accuracy", "f1_weighted"):
        assert ci[key].low < getattr(point, key) < ci[key].high
        assert ci[key].high - ci[key].low < 20
    assert bootstrap_ci(y_true, y_pred, 4, n_resamples=500, seed=3) == ci


@pytest.mark.parametrize(
    ("only_a", "only_b", "p_value"),
    [(1, 6, 0.125), (0, 5, 0.0625), (3, 3, 1.0), (2, 10, 158 / 4096), (0, 0, 1.0)],
)
def test_mcnemar_exact_matches_known_p_values(only_a, only_b, p_value):
    both = 20
    y_true = np.zeros(both + only_a + only_b, dtype=int)
    pred_a = np.concatenate([np.zeros(both), np.zeros(only_a), np.ones(only_b)]).astype(int)
    pred_b = np.concatenate([np.zeros(both), np.ones(only_a), np.zeros(only_b)]).astype(int)
    result = mcnemar_exact(y_true, pred_a, pred_b)
    assert (result.only_a_correct, result.only_b_correct) == (only_a, only_b)
    assert result.p_value == pytest.approx(p_value)


def test_pairwise_agreement_values():
    table = pairwise_agreement({"a": [0, 1, 2, 3], "b": [0, 1, 2, 0]}).set_index(["a", "b"])
    assert table.loc[("a", "b"), "disagreement"] == pytest.approx(25.0)
    assert table.loc[("a", "a"), "kappa"] == 1.0
    assert table.loc[("a", "b"), "kappa"] < 1.0


def test_collapsed_member_is_flagged():
    f1 = {"m1": [1.1, 93, 91, 92], "m2": [87, 92, 90, 93], "m3": [88, 94, 92, 91], "m4": [86, 93, 91, 92]}
    flagged = collapsed_classes(f1, ["Animation", "Flat_Content", "Gaming", "Natural_Content"])
    assert flagged == [("m1", "Animation", 1.1, 87.0)]


def test_confusion_bootstrap_matches_resampling_video_indices(random_predictions):
    # Drawing each resample's confusion matrix from the multinomial is the same bootstrap as
    # resampling videos: the intervals agree to Monte Carlo error.
    y_true, y_pred = random_predictions
    rows = np.random.default_rng(7).integers(0, len(y_true), size=(4000, len(y_true)))
    by_index = {
        "accuracy": 100 * (y_true[rows] == y_pred[rows]).mean(axis=1),
        "f1_weighted": 100 * _batched_weighted_f1(y_true[rows], y_pred[rows], 4),
    }
    ci = bootstrap_ci(y_true, y_pred, 4, n_resamples=4000, seed=3)
    for key, values in by_index.items():
        low, high = np.percentile(values, [2.5, 97.5])
        assert abs(ci[key].low - low) < 1.0 and abs(ci[key].high - high) < 1.0
