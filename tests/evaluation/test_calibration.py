import numpy as np
import pytest
from sklearn.metrics import auc, roc_curve

from core.evaluation.calibration import (
    MAX_CURVE_POINTS,
    calibration_table,
    class_calibration_table,
    class_expected_calibration_error,
    expected_calibration_error,
    precision_recall_curves,
    reliability_bins,
    roc_curves,
)

CLASSES = ["A", "B", "C"]


def test_reliability_bins_match_hand_counts() -> None:
    # confidences 0.9 (right), 0.95 (wrong), 0.55 (right), 0.45 (wrong)
    probabilities = np.array([[0.9, 0.05, 0.05], [0.95, 0.03, 0.02], [0.2, 0.55, 0.25], [0.3, 0.25, 0.45]])
    labels = np.array([0, 1, 1, 0])
    bins = reliability_bins(labels, probabilities, n_bins=10)
    assert bins["count"].tolist() == [0, 0, 0, 0, 1, 1, 0, 0, 1, 1]
    assert bins.loc[8, "confidence"] == pytest.approx(90.0)
    assert bins.loc[8, "accuracy"] == pytest.approx(100.0)
    assert bins.loc[9, "accuracy"] == pytest.approx(0.0)
    assert bins.loc[4, "accuracy"] == pytest.approx(0.0)
    assert np.isnan(bins.loc[0, "accuracy"])
    assert bins.loc[3, "bin_low"] == pytest.approx(30.0)


def test_confidence_on_a_bin_edge_goes_to_the_lower_bin() -> None:
    probabilities = np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]])
    bins = reliability_bins(np.array([0, 0]), probabilities, n_bins=2)
    assert bins["count"].tolist() == [1, 1]
    seventy = reliability_bins(np.array([0]), np.array([[0.7, 0.3, 0.0]]), n_bins=10)
    assert seventy["count"].tolist()[6] == 1


def test_ece_is_the_weighted_gap() -> None:
    probabilities = np.array([[0.9, 0.05, 0.05], [0.95, 0.03, 0.02], [0.2, 0.55, 0.25], [0.3, 0.25, 0.45]])
    labels = np.array([0, 1, 1, 0])
    # |100-90| + |0-95| + |100-55| + |0-45|, each bin holding one of four videos
    expected = (10 + 95 + 45 + 45) / 4
    assert expected_calibration_error(labels, probabilities) == pytest.approx(expected)


def test_perfectly_calibrated_one_hot_has_zero_ece() -> None:
    labels = np.array([0, 1, 2, 1])
    probabilities = np.eye(3)[labels]
    assert expected_calibration_error(labels, probabilities) == pytest.approx(0.0)
    table = calibration_table(labels, {"m": probabilities})
    assert table.loc[0, "accuracy"] == pytest.approx(100.0)
    assert table.loc[0, "mean_confidence"] == pytest.approx(100.0)


def test_roc_auc_per_class_one_vs_rest() -> None:
    labels = np.array([0, 0, 1, 1])
    probabilities = np.array([[0.8, 0.2, 0.0], [0.4, 0.6, 0.0], [0.6, 0.4, 0.0], [0.1, 0.9, 0.0]])
    curves = roc_curves(labels, probabilities, CLASSES)
    # class C has no positives: no ROC curve
    assert [c.class_name for c in curves] == ["A", "B"]
    # class A scores: positives 0.8, 0.4; negatives 0.6, 0.1 -> 3 of 4 pairs ranked right
    assert curves[0].area == pytest.approx(0.75)
    assert curves[0].x[0] == 0.0 and curves[0].y[-1] == 1.0


def test_precision_recall_curve_of_a_perfect_ranking() -> None:
    labels = np.array([0, 1, 2, 0])
    probabilities = np.eye(3)[labels] * 0.7 + 0.1
    curves = precision_recall_curves(labels, probabilities, CLASSES)
    assert [c.area for c in curves] == pytest.approx([1.0, 1.0, 1.0])


def test_curves_of_a_large_split_are_thinned_but_keep_their_area_and_ends():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 20_000)
    probabilities = rng.dirichlet(np.ones(4), size=20_000)
    probabilities[np.arange(20_000), labels] += 0.3
    names = ["a", "b", "c", "d"]
    for curves, full in (
        (roc_curves(labels, probabilities, names), roc_curve),
        (precision_recall_curves(labels, probabilities, names), None),
    ):
        for k, curve in enumerate(curves):
            assert len(curve.x) <= MAX_CURVE_POINTS
            if full is not None:
                fpr, tpr, _ = full(labels == k, probabilities[:, k])
                assert curve.area == pytest.approx(auc(fpr, tpr))
                assert (curve.x[0], curve.x[-1]) == (fpr[0], fpr[-1])


def test_per_class_calibration_by_hand() -> None:
    probabilities = np.array([[0.9, 0.05, 0.05], [0.95, 0.03, 0.02], [0.2, 0.55, 0.25], [0.3, 0.25, 0.45]])
    labels = np.array([0, 1, 1, 0])
    # Class A, p(A) = 0.9 (an A), 0.95, 0.2, 0.3 (an A), each alone in its bin:
    # |100-90| + |0-95| + |0-20| + |100-30|, over four videos.
    expected_a = (10 + 95 + 20 + 70) / 4
    assert class_expected_calibration_error(labels, probabilities, 0) == pytest.approx(expected_a)
    table = class_calibration_table(labels, {"m": probabilities}, CLASSES)
    assert table["class"].tolist() == CLASSES
    assert table.loc[0, "ece"] == pytest.approx(expected_a)
    assert table.loc[1, "mean_probability"] == pytest.approx(100 * (0.05 + 0.03 + 0.55 + 0.25) / 4)
    assert table["share"].tolist() == pytest.approx([50.0, 50.0, 0.0])


def test_per_class_calibration_of_one_hot_probabilities_is_zero() -> None:
    labels = np.array([0, 1, 2, 1])
    table = class_calibration_table(labels, {"m": np.eye(3)[labels]}, CLASSES)
    assert table["ece"].tolist() == pytest.approx([0.0, 0.0, 0.0])
