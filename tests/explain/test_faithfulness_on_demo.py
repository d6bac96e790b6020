"""On the demo bundle: removing the 3 steps occlusion ranks highest lowers the target probability
more than removing 3 random steps (mean of the random orders) for at least 80% of the test videos;
the same rate is reported for attention and integrated gradients, with the share of videos on
which each method is faithful (its area below every random order's)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.explain.deletion import drop_after
from core.explain.explanation import explain_all
from core.explain.predictor import explained_predictor, predicted_class
from core.features.store import load_feature_set
from core.model.checkpoints import find_ensemble_checkpoints
from core.model.ensemble import load_ensemble
from core.paths import ProjectPaths

REMOVED = 3


def beats_random_rates(root: Path, member: str | None) -> tuple[dict[str, float], dict[str, float]]:
    paths = ProjectPaths.at(root)
    split = load_feature_set(paths.features_file("test"))
    members = load_ensemble(find_ensemble_checkpoints(paths.models_dir), "cpu", strict=True).members
    wins = {"occlusion": 0, "integrated_gradients": 0, "attention": 0}
    faithful = dict.fromkeys(wins, 0)
    for index in range(split.num_videos):
        sequence = split.video(index)
        predictor = explained_predictor(members, member, predicted_class(members, member, sequence))
        explanations = explain_all(
            predictor, sequence, video=split.video_names[index], class_names=split.class_names
        )
        for method, explanation in explanations.items():
            ranked = drop_after(explanation.deletion_curve, REMOVED, explanation.points)
            wins[method] += ranked > drop_after(
                explanation.random_deletion_curve, REMOVED, explanation.points
            )
            faithful[method] += explanation.faithful
            assert explanation.faithful == (
                explanation.deletion_area < explanation.random_deletion_areas.min()
            )
    share = split.num_videos
    return {m: c / share for m, c in wins.items()}, {m: c / share for m, c in faithful.items()}


@pytest.mark.parametrize("member", [None, "1", "2", "3", "4"], ids=["ensemble", "m1", "m2", "m3", "m4"])
def test_occlusion_beats_random_deletion_on_the_demo(demo_root, member, record_property, capsys) -> None:
    rates, faithful = beats_random_rates(demo_root, member)
    for method, rate in rates.items():
        record_property(f"{method}_beats_random", rate)
        record_property(f"{method}_faithful", faithful[method])
    with capsys.disabled():
        listing = ", ".join(f"{method} {rate:.0%}" for method, rate in rates.items())
        kept = ", ".join(f"{method} {rate:.0%}" for method, rate in faithful.items())
        print(f"\n{member or 'ensemble'}: top-{REMOVED} removal beats random on {listing} of test videos; "
              f"faithful on {kept}")  # fmt: skip
    assert rates["occlusion"] >= 0.8
