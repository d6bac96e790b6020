"""Step scores, deletion curves and the step-to-frame mapping, on real (tiny) models."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from captum.attr import Occlusion

from core.explain.deletion import (
    MAX_CURVE_POINTS,
    curve_area,
    curve_points,
    deletion_curves,
    drop_after,
    random_orders,
    ranking,
)
from core.explain.explanation import explain, explain_all, faithful_methods, most_faithful
from core.explain.frames import decoded_frame_count, scores_by_frame, step_frame_weights
from core.explain.predictor import ExplainedPredictor
from core.explain.temporal import (
    integrated_gradient_scores,
    occlusion_scores,
    step_baseline,
    step_scores,
)
from core.features.recipe import FeatureRecipe
from core.model.inference import predict_sequence
from tests.factories import TINY_CONFIG, make_model

CLASSES = ["Animation", "Flat_Content", "Gaming", "Natural_Content"]


def sequence(steps: int = 6, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(steps, TINY_CONFIG.feature_dim)).astype(np.float32)


def probability(predictor: ExplainedPredictor, features: np.ndarray) -> float:
    batch = torch.from_numpy(features)[None]
    with torch.inference_mode():
        return float(predictor.target_probability(batch, torch.tensor([len(features)]))[0])


@pytest.fixture(scope="module")
def member() -> ExplainedPredictor:
    return ExplainedPredictor("m", (make_model(seed=3),), target=2)


def test_the_baseline_of_a_step_is_the_mean_of_the_others() -> None:
    x = torch.tensor([[1.0, 0.0], [3.0, 2.0], [5.0, 4.0]])
    torch.testing.assert_close(step_baseline(x), torch.tensor([[4.0, 3.0], [3.0, 2.0], [2.0, 1.0]]))
    torch.testing.assert_close(step_baseline(x[:1]), torch.zeros(1, 2))


def test_occlusion_is_the_probability_lost_when_a_step_takes_its_baseline(member) -> None:
    x = sequence()
    scores = occlusion_scores(member, x)
    baseline = step_baseline(torch.from_numpy(x)).numpy()
    for t in (0, 3, 5):
        occluded = x.copy()
        occluded[t] = baseline[t]
        assert scores[t] == pytest.approx(probability(member, x) - probability(member, occluded), abs=1e-5)


def test_occlusion_gives_captums_numbers(member) -> None:
    x = sequence(7)
    batch = torch.from_numpy(x)[None]

    def forward(features: torch.Tensor) -> torch.Tensor:
        return member.probabilities(features, torch.full((len(features),), 7))

    expected = Occlusion(forward).attribute(
        batch, sliding_window_shapes=(1, x.shape[1]), strides=(1, x.shape[1]),
        baselines=step_baseline(batch[0])[None], target=member.target,
    )[0, :, 0]  # fmt: skip
    np.testing.assert_allclose(occlusion_scores(member, x), expected.numpy(), atol=1e-6)


def test_integrated_gradients_add_up_to_the_change_from_the_baseline_clip(member) -> None:
    x = sequence()
    scores = integrated_gradient_scores(member, x, steps=64)
    baseline = step_baseline(torch.from_numpy(x)).numpy()
    expected = probability(member, x) - probability(member, baseline)
    assert scores.sum() == pytest.approx(expected, abs=2e-3)


@pytest.mark.parametrize("steps", [1, 9, 30])
def test_every_method_scores_exactly_the_real_steps(member, steps) -> None:
    x = sequence(steps)
    for method in ("occlusion", "integrated_gradients", "attention"):
        assert step_scores(member, x, method).shape == (steps,)
    assert step_scores(member, x, "attention").sum() == pytest.approx(1.0, abs=1e-5)


def test_the_ensemble_explains_the_mean_softmax_of_its_members() -> None:
    models = (make_model(seed=1), make_model(seed=2))
    x = sequence()
    ensemble = ExplainedPredictor("ensemble", models, target=1)
    stored = predict_sequence(list(models), x, ("original",)).probabilities[:, 0, 1].mean()
    assert probability(ensemble, x) == pytest.approx(float(stored), abs=1e-6)
    attention = predict_sequence(list(models), x, ("original",)).attention.mean(axis=0)
    np.testing.assert_allclose(step_scores(ensemble, x, "attention"), attention, atol=1e-6)


def test_a_deletion_curve_removes_steps_in_ranked_order_keeping_time_order(member) -> None:
    x = sequence(5)
    scores = np.array([0.1, 0.5, -0.2, 0.3, 0.0])
    assert ranking(scores).tolist() == [1, 3, 0, 4, 2]
    curve = deletion_curves(member, x, [ranking(scores)])[0]
    assert curve.shape == (5,)
    assert curve[0] == pytest.approx(probability(member, x), abs=1e-6)
    assert curve[2] == pytest.approx(probability(member, x[[0, 2, 4]]), abs=1e-6)
    assert curve[4] == pytest.approx(probability(member, x[[2]]), abs=1e-6)


def test_random_orders_are_seeded_and_shared_clips_run_once(member, monkeypatch) -> None:
    x = sequence(7)
    orders = random_orders(7, 4)
    assert [o.tolist() for o in orders] == [o.tolist() for o in random_orders(7, 4)]
    rows = []
    real = ExplainedPredictor.target_probability
    monkeypatch.setattr(
        ExplainedPredictor, "target_probability", lambda self, f, n: rows.append(len(f)) or real(self, f, n)
    )
    curves = deletion_curves(member, x, [orders[0], orders[0].copy(), orders[1]])
    np.testing.assert_array_equal(curves[0], curves[1])
    # 7 clips per order, the whole clip and the last (a one-step clip) shared by all.
    distinct = {tuple(sorted(o[k:])) for o in (orders[0], orders[1]) for k in range(7)}
    assert sum(rows) == len(distinct) < 14
    for k in (0, 3, 6):
        assert curves[2, k] == pytest.approx(probability(member, x[np.sort(orders[1][k:])]), abs=1e-6)


def test_curve_area_and_drop() -> None:
    assert curve_area(np.array([1.0, 0.0, 0.0])) == pytest.approx(0.25)
    assert curve_area(np.array([0.4])) == pytest.approx(0.4)
    assert curve_area(np.array([1.0, 0.0, 0.0]), np.array([0, 1, 4]), steps=5) == pytest.approx(0.125)
    assert drop_after(np.array([0.9, 0.5, 0.2]), 1) == pytest.approx(0.4)
    assert drop_after(np.array([0.9, 0.5, 0.2]), 3) == pytest.approx(0.7)
    assert drop_after(np.array([0.9, 0.5, 0.2]), 3, np.array([0, 2, 6])) == pytest.approx(0.4)


def test_long_clips_measure_the_curve_at_a_bounded_number_of_points() -> None:
    assert curve_points(9).tolist() == list(range(9))
    points = curve_points(300)
    assert points[0] == 0 and points[-1] == 299 and points[:4].tolist() == [0, 1, 2, 3]
    assert len(points) <= MAX_CURVE_POINTS + 3 and np.all(np.diff(points) > 0)


def test_explanations_share_the_random_curve_and_name_the_most_faithful(member) -> None:
    x = sequence(6)
    parts = []
    explanations = explain_all(
        member, x, video="v.mp4", class_names=CLASSES, progress=lambda d, t: parts.append((d, t))
    )
    assert parts == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert set(explanations) == {"occlusion", "integrated_gradients", "attention"}
    curves = {e.random.curves.tobytes() for e in explanations.values()}
    assert len(curves) == 1
    single = explain(member, x, "occlusion", video="v.mp4", class_names=CLASSES)
    np.testing.assert_allclose(single.steps, explanations["occlusion"].steps, atol=1e-6)
    np.testing.assert_allclose(single.deletion_curve, explanations["occlusion"].deletion_curve, atol=1e-6)
    written = single.to_json_dict()
    assert written["target"] == "Gaming"
    assert list(written)[:7] == [
        "video", "member", "target", "method", "steps", "deletion_curve", "random_deletion_curve"
    ]  # fmt: skip


@pytest.mark.parametrize("seed", range(4))
def test_faithful_means_below_every_random_order(member, seed) -> None:
    explanations = explain_all(member, sequence(8, seed), video="v.mp4", class_names=CLASSES)
    for explanation in explanations.values():
        written = explanation.to_json_dict()
        assert len(written["random_deletion_areas"]) >= 8
        assert written["faithful"] == (written["deletion_area"] < min(written["random_deletion_areas"]))
        assert written["deletion_area"] == pytest.approx(
            curve_area(explanation.deletion_curve, explanation.points, 8), abs=1e-6
        )
        np.testing.assert_allclose(
            written["random_deletion_curve"], explanation.random.curves.mean(0), atol=1e-6
        )
    faithful = faithful_methods(list(explanations.values()))
    best = most_faithful(list(explanations.values()))
    assert (best is None) == (not faithful)
    if best is not None:
        assert best.faithful and best.deletion_area == min(e.deletion_area for e in faithful)


def test_steps_map_onto_the_frames_they_average() -> None:
    recipe = FeatureRecipe(num_frames=64)
    assert decoded_frame_count(73, recipe) == 64
    weights = step_frame_weights(73, 64, recipe.scales)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)
    assert weights[10, 10] > 0 and weights[70, :].nonzero()[0].tolist() == [
        61
    ]  # 63 * 70 / 72 = 61.25, floored
    assert weights[0].nonzero()[0].tolist() == [0]
    scores = np.random.default_rng(0).normal(size=73)
    by_frame = scores_by_frame(scores, recipe)
    assert by_frame.shape == (64,) and by_frame.sum() == pytest.approx(scores.sum())
    demo = FeatureRecipe(num_frames=8, image_size=64)
    assert decoded_frame_count(9, demo) == 8 and decoded_frame_count(500, demo) is None
    assert scores_by_frame(np.ones(9), None) is None
