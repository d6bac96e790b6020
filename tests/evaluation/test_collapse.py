"""core.evaluation.collapse on planned member outputs: member 1 collapsed on Animation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.classes import CLASS_NAMES
from core.evaluation.collapse import (
    class_f1_comparison,
    class_probabilities,
    confusion_rows,
    ensemble_cost,
    failure_mode,
    member_number,
    probability_summary,
    summary_line,
    weakest_class,
)
from core.evaluation.predictions import SplitPredictions
from core.training.history import class_f1_over_epochs, epoch_marks, history_frame
from tests.original_project import RECORDED, SURE, original_history, planned_logits

MEMBERS = [f"best_ensemble_model_{n}" for n in range(1, 5)]
SURE_RIGHT = np.exp(SURE) / (np.exp(SURE) + 3)
SURE_WRONG = 1 / (np.exp(SURE) + 3)


@pytest.fixture
def split() -> SplitPredictions:
    labels = np.arange(48) % 4
    logits = np.stack([planned_logits(labels, n) for n in range(1, 5)])[:, None]
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
    names = [f"{CLASS_NAMES[k]}/sub/clip_{i:02d}.mp4" for i, k in enumerate(labels)]
    return SplitPredictions(MEMBERS, ["original"], probabilities, labels, names, list(CLASS_NAMES))


def test_weakest_class_and_member_number(split):
    assert weakest_class(split, MEMBERS[0]) == 0
    assert member_number("best_ensemble_model_3", 1) == 3
    assert member_number("renamed", 2) == 2


def test_class_f1_recorded_and_recomputed(split):
    recorded = {MEMBERS[0]: {"f1_per_class": tuple(RECORDED[1]["f1"])}}
    table = class_f1_comparison(split, recorded).set_index("member")
    assert table.loc[MEMBERS[0], "Animation recorded"] == 1.10
    assert table.loc[MEMBERS[0], "Animation recomputed"] == 0.0
    assert table.loc[MEMBERS[1], "Animation recomputed"] == 100.0
    assert np.isnan(table.loc[MEMBERS[1], "Animation recorded"])


def test_confusion_rows_show_where_the_class_went(split):
    rows = confusion_rows(split, 0).set_index("member")
    assert rows.loc[MEMBERS[0], "Flat_Content"] == pytest.approx(100 * 11 / 12)
    assert rows.loc[MEMBERS[0], "Gaming"] == pytest.approx(100 / 12)
    assert rows.loc[MEMBERS[0], "Animation"] == 0.0
    assert rows.loc[MEMBERS[2], "Animation"] == 100.0
    assert (rows["videos"] == 12).all()


def test_probabilities_tell_confidently_wrong_from_undecided(split):
    probabilities = class_probabilities(split, 0)
    assert len(probabilities) == 4 * 12
    summary = probability_summary(probabilities).set_index("member")
    assert summary.loc[MEMBERS[0], "median probability"] == pytest.approx(SURE_WRONG)
    assert summary.loc[MEMBERS[0], "confidently wrong share"] == 100.0
    assert summary.loc[MEMBERS[0], "mode"] == "confidently wrong"
    assert summary.loc[MEMBERS[1], "median probability"] == pytest.approx(SURE_RIGHT)
    assert summary.loc[MEMBERS[1], "mode"] == "mostly right"
    assert failure_mode([0.3, 0.35, 0.9]) == "undecided"


def test_class_f1_over_epochs_and_marks():
    history = pd.concat([history_frame(original_history(n), n) for n in (1, 2)], ignore_index=True)
    curve = class_f1_over_epochs(history, 0)
    one = curve[curve["model"] == 1]
    assert one["f1"].tolist()[:3] == [5.0, 10.0, 15.0]
    assert one["f1"].iloc[-1] == pytest.approx(1.10)
    marks = epoch_marks(history).set_index("model")
    assert (marks.loc[1, "best_epoch"], marks.loc[1, "last_epoch"]) == (52, 77)
    assert (marks.loc[2, "best_epoch"], marks.loc[2, "last_epoch"]) == (43, 68)
    assert class_f1_over_epochs(history.drop(columns="class_0_f1"), 0).empty


def test_ensemble_with_and_without_the_member(split):
    cost = ensemble_cost(split, MEMBERS[0])
    assert cost.with_member.accuracy == pytest.approx(100 * 47 / 48)
    assert cost.without_member.accuracy == pytest.approx(100 * 47 / 48)
    assert cost.accuracy_change == 0.0
    assert cost.mcnemar.p_value == 1.0
    assert cost.gained_without["video"].tolist() == ["Animation/sub/clip_00.mp4"]
    assert cost.gained_without[["with", "without"]].values.tolist() == [["Flat_Content", "Animation"]]
    assert cost.lost_without["video"].tolist() == ["Gaming/sub/clip_02.mp4"]
    table = cost.comparison(CLASS_NAMES).set_index("metric")
    assert table.loc["F1 Gaming", "change"] == pytest.approx(
        cost.without_member.f1_per_class[2] - cost.with_member.f1_per_class[2]
    )
    with pytest.raises(ValueError, match="only this member"):
        ensemble_cost(SplitPredictions(MEMBERS[:1], ["original"], split.probabilities[:1], split.labels,
                                       split.video_names, list(CLASS_NAMES)), MEMBERS[0])  # fmt: skip


def test_summary_line(split):
    confusion = confusion_rows(split, 0).set_index("member").loc[MEMBERS[0]]
    line = summary_line("Model 1", "Animation", confusion, "confidently wrong", SURE_WRONG,
                        ensemble_cost(split, MEMBERS[0]))  # fmt: skip
    assert line == (
        "Model 1 sends 92% of Animation videos to Flat_Content (confidently wrong: median probability "
        "0.01 for Animation); dropping it leaves ensemble accuracy at "
        f"{ensemble_cost(split, MEMBERS[0]).with_member.accuracy:.1f}% (p = 1)."
    )
    healthy = confusion_rows(split, 0).set_index("member").loc[MEMBERS[1]]
    line = summary_line("Model 2", "Animation", healthy, "mostly right", SURE_RIGHT,
                        ensemble_cost(split, MEMBERS[1]))  # fmt: skip
    assert line.startswith("Model 2 gets 100% of Animation videos right (mostly right")
