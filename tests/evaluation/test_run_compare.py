from pathlib import Path

import numpy as np
import pytest

from core.evaluation.metrics import compute_metrics
from core.evaluation.run_compare import (
    RIGHT_TO_WRONG,
    WRONG_TO_RIGHT,
    RunMismatchError,
    compare_runs,
    composition_differences,
    runs_table,
)
from core.evaluation.runs import EvaluationRun
from core.model.inference import predictor_probabilities

CLASSES = ["Animation", "Flat_Content", "Gaming", "Natural_Content"]


def make_run(
    predicted: list[int], labels: list[int], tta: bool = False, names: list[str] | None = None
) -> EvaluationRun:
    """One member whose verdicts are `predicted` (the same on every TTA mode), scored for real."""
    modes = ["original", "reverse"] if tta else ["original"]
    probabilities = np.full((1, len(modes), len(predicted), 4), 0.1, dtype=np.float32)
    probabilities[:, :, np.arange(len(predicted)), predicted] = 0.7
    predictors = predictor_probabilities(probabilities, ["m1"], modes)
    return EvaluationRun(
        created_utc="2025-01-01T00:00:00+00:00",
        features_file="/p/features_enhanced/test_features_multiscale.h5",
        checkpoints=["/p/models_enhanced/m1.pt"],
        members=["m1"],
        tta_modes=modes,
        device="cpu",
        batch_size=8,
        class_names=CLASSES,
        video_names=names or [f"v{i}.mp4" for i in range(len(labels))],
        labels=np.asarray(labels, dtype=np.int64),
        warnings=[],
        scores={name: compute_metrics(labels, p.argmax(axis=1), 4) for name, p in predictors.items()},
        probabilities=probabilities,
        elapsed_s=1.5,
    )


def test_runs_table_shows_headline_numbers() -> None:
    labels = [0, 1, 2, 3]
    table = runs_table(
        [
            (Path("b.json"), make_run([0, 1, 2, 0], labels, tta=True)),
            (Path("a.json"), make_run([0, 0, 0, 0], labels)),
        ]
    )
    assert table["run"].tolist() == ["b.json", "a.json"]
    assert table["ensemble accuracy"].tolist() == [75.0, 25.0]
    assert table.loc[0, "ensemble+TTA accuracy"] == 75.0
    assert table["videos"].tolist() == [4, 4]
    assert np.isnan(table.loc[1, "ensemble+TTA accuracy"])
    assert table["TTA modes"].tolist() == ["reverse", "off"]
    assert table.loc[0, "features"] == "test_features_multiscale.h5"
    assert table.loc[0, "members"] == ["m1"]


def test_composition_differences_name_members_and_modes() -> None:
    labels = [0, 1, 2, 3]
    a = make_run([0, 1, 2, 0], labels, tta=True)
    b = make_run([0, 1, 2, 0], labels)
    assert composition_differences(a, a) == []
    assert composition_differences(a, b) == ["TTA modes differ: A reverse, B off"]
    b.members.append("m2")
    assert composition_differences(a, b) == [
        "members differ: A has 1, B has 2; only in B: m2",
        "TTA modes differ: A reverse, B off",
    ]


def test_runs_table_of_no_runs_has_the_columns() -> None:
    assert "ensemble accuracy" in runs_table([]).columns


def test_compare_lists_flips_both_ways_with_mcnemar() -> None:
    labels = [0, 1, 2, 3, 0, 1]
    a = make_run([0, 1, 0, 0, 1, 1], labels)  # right: 0, 1, 5
    b = make_run([0, 2, 2, 3, 0, 1], labels)  # right: 0, 2, 3, 4, 5
    comparison = compare_runs(a, b, "ensemble")
    flipped = comparison.flipped
    assert flipped["video"].tolist() == ["v1.mp4", "v2.mp4", "v3.mp4", "v4.mp4"]
    assert flipped["change"].tolist() == [RIGHT_TO_WRONG, WRONG_TO_RIGHT, WRONG_TO_RIGHT, WRONG_TO_RIGHT]
    assert flipped.loc[0, "predicted A"] == "Flat_Content" and flipped.loc[0, "predicted B"] == "Gaming"
    assert (comparison.right_to_wrong, comparison.wrong_to_right) == (1, 3)
    assert comparison.mcnemar.only_a_correct == 1 and comparison.mcnemar.only_b_correct == 3
    # exact binomial: P(X<=1 | n=4, p=.5) * 2 = 2 * 5/16
    assert comparison.mcnemar.p_value == pytest.approx(0.625)
    differences = comparison.differences.set_index("predictor")
    assert differences.loc["ensemble", "accuracy B−A"] == pytest.approx(100 * 5 / 6 - 50.0)


def test_compare_refuses_runs_on_other_videos() -> None:
    a = make_run([0, 1], [0, 1])
    b = make_run([0, 1], [0, 1], names=["x.mp4", "y.mp4"])
    with pytest.raises(RunMismatchError, match="different videos"):
        compare_runs(a, b, "ensemble")
    with pytest.raises(RunMismatchError, match="different true classes"):
        compare_runs(a, make_run([0, 1], [1, 1]), "ensemble")


def test_compare_names_a_missing_predictor() -> None:
    labels = [0, 1]
    with pytest.raises(RunMismatchError, match="ensemble_tta"):
        compare_runs(make_run([0, 1], labels), make_run([0, 1], labels, tta=True), "ensemble_tta")
