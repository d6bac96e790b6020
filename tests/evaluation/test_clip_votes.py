import numpy as np

from core.evaluation.clip_verdict import clip_result, clip_table, clip_verdict, member_votes

CLASSES = ["Animation", "Flat_Content", "Gaming", "Natural_Content"]


def _one_hot(k: int) -> np.ndarray:
    probabilities = np.full(4, 0.1)
    probabilities[k] = 0.7
    return probabilities


def test_votes_count_each_chosen_member_most_first() -> None:
    predictors = {
        "m1": _one_hot(2),
        "m2": _one_hot(2),
        "m3": _one_hot(3),
        "m4": _one_hot(2),
        "ensemble": _one_hot(0),
    }
    votes = member_votes(predictors, ["m1", "m2", "m3", "m4"], CLASSES)
    assert votes.counts == {"Gaming": 3, "Natural_Content": 1}
    assert not votes.tied
    assert votes.describe() == "3 Gaming – 1 Natural_Content"


def test_two_two_split_is_flagged_and_unchosen_members_do_not_vote() -> None:
    predictors = {"m1": _one_hot(0), "m2": _one_hot(1), "m3": _one_hot(1), "m4": _one_hot(0)}
    assert member_votes(predictors, ["m1", "m2", "m3", "m4"], CLASSES).tied
    assert member_votes(predictors, ["m1", "m2", "m3"], CLASSES).counts == {"Flat_Content": 2, "Animation": 1}
    assert not member_votes(predictors, ["m1"], CLASSES).tied


def test_an_uploads_downloadable_result_has_the_classify_commands_shape() -> None:
    names = ["A", "B"]
    predictors = {"ensemble": np.array([0.25, 0.75]), "best_ensemble_model_1": np.array([0.6, 0.4])}
    table = clip_table(predictors, names, None)
    result = clip_result("clip.mp4", clip_verdict(predictors, names, None), table, names)
    assert result["path"] == "clip.mp4"
    verdict = (result["predicted_class"], result["confidence"], result["verdict_from"])
    assert verdict == ("B", 0.75, "ensemble")
    assert result["predictors"]["best_ensemble_model_1"] == {"A": 0.6, "B": 0.4}
