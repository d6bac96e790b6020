"""`python -m core audit` on a project with planted leaks and flipped labels: every leak is found
with its match, most flipped labels are listed, the list stays short; bad inputs get one message."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import h5py
import numpy as np
import pytest

from core.audit.document import AUDIT_FORMAT, read_audit
from core.cli import main
from core.features.writer import write_feature_set
from core.paths import AUDIT_SUFFIX
from tests.audit_project import FLIPPED, LEAKS, TRAIN_COPY, AuditProject, build_sets, write_audit_project
from tests.factories import TINY_RECIPE


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> AuditProject:
    return write_audit_project(tmp_path_factory.mktemp("audit"))


@pytest.fixture(scope="module")
def document(project: AuditProject) -> dict:
    out = project.root / "runs" / f"planted{AUDIT_SUFFIX}"
    assert main(audit_args(project.root, out)) == 0
    return read_audit(out)


def audit_args(root: Path, out: Path, *extra: str) -> list[str]:
    return [
        "audit",
        "--models",
        str(root / "models_enhanced"),
        "--features",
        str(root / "features_enhanced"),
        "--out",
        str(out),
        *extra,
    ]


def test_every_planted_leak_is_found_with_its_match(project: AuditProject, document: dict) -> None:
    leaks = {(p["video"], p["match"]) for p in document["near_duplicates"] if p["split"] != p["match_split"]}
    planted = {(project.name("test", t), project.name("train", r)) for t, r in LEAKS.items()}
    assert leaks == planted
    first = document["near_duplicates"][: len(planted)]
    assert all(p["split"] == "test" and p["match_split"] == "train" and not p["within_split"] for p in first)
    assert all(p["similarity"] >= document["near_duplicate_threshold"] for p in document["near_duplicates"])


def test_a_copy_within_a_split_is_flagged_as_such(project: AuditProject, document: dict) -> None:
    within = [p for p in document["near_duplicates"] if p["within_split"]]
    copy, original = (project.name("train", row) for row in TRAIN_COPY)
    assert [{p["video"], p["match"]} for p in within] == [{copy, original}]
    assert document["near_duplicates"][-1]["within_split"]


@pytest.mark.parametrize("split", ["test", "val"])
def test_most_flipped_labels_are_listed_in_a_short_list(
    project: AuditProject, document: dict, split: str
) -> None:
    listed = [issue for issue in document["label_issues"] if issue["split"] == split]
    planted = {project.name(split, row) for row in FLIPPED[split]}
    found = planted & {issue["video"] for issue in listed}
    assert len(found) >= 0.75 * len(planted)
    assert len(listed) <= project.sets[split].num_videos / 5
    for issue in listed:
        row = project.sets[split].video_names.index(issue["video"])
        assert issue["label"] == project.sets[split].class_names[project.sets[split].labels[row]]
        if issue["video"] in planted:
            assert issue["suggested"] == project.sets[split].class_names[project.true_labels[split][row]]


def test_label_issues_are_ranked_and_training_is_kept_apart(document: dict) -> None:
    scores = [issue["score"] for issue in document["label_issues"]]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
    assert {issue["split"] for issue in document["label_issues"]} == {"test", "val"}
    assert all(issue["split"] == "train" for issue in document["label_issues_in_sample"])
    assert document["label_issue_predictor"] == dict.fromkeys(("test", "val", "train"), "ensemble")
    assert document["format"] == AUDIT_FORMAT and document["problems"] == []


def test_slices_cover_every_predictor_worst_first(project: AuditProject, document: dict) -> None:
    slices = document["slices"]
    accuracies = [row["accuracy"] for row in slices]
    assert accuracies == sorted(accuracies)
    predictors = {row["predictor"] for row in slices}
    assert predictors == {*(f"best_ensemble_model_{n}" for n in range(1, 5)), "ensemble"}
    test = [r for r in slices if r["split"] == "test" and r["predictor"] == "ensemble"]
    assert sum(r["videos"] for r in test) == project.sets["test"].num_videos
    assert {r["subcategory"] for r in test} == {"indoor", "outdoor", "studio"}
    worst = test[0]
    assert set(worst["f1_per_class"]) == set(project.sets["test"].class_names)
    assert worst["accuracy"] < 100.0


def test_the_output_rule_holds(project: AuditProject, document: dict, tmp_path: Path, capsys) -> None:
    foreign = tmp_path / "notes.json"
    foreign.write_text("{}")
    assert main(audit_args(project.root, foreign)) == 1
    assert "--overwrite" in capsys.readouterr().err and foreign.read_text() == "{}"
    own = project.root / "runs" / f"planted{AUDIT_SUFFIX}"
    assert main(audit_args(project.root, own, "--splits", "test")) == 0
    rerun = json.loads(own.read_text())
    assert set(rerun["features_files"]) == {"test"} and rerun["near_duplicates"] == []


def _rewrite_val(project: AuditProject, **changes: object) -> None:
    val = replace(project.sets["val"], **changes)
    project.path("val").unlink()
    write_feature_set(project.path("val"), val)


def _one_video(project: AuditProject) -> dict:
    val = project.sets["val"]
    return {
        "features": val.features[:1],
        "labels": val.labels[:1],
        "num_frames": val.num_frames[:1],
        "video_names": val.video_names[:1],
    }


BAD_VAL = {
    "single class": (
        lambda p: {"labels": np.zeros(p.sets["val"].num_videos, np.int64)},
        "every video is labelled",
    ),
    "other recipe": (lambda p: {"recipe": replace(TINY_RECIPE, image_size=128)}, "another recipe"),
    "one video": (_one_video, "1 video, too few"),
    "no names": (None, "has no video names"),
}


@pytest.mark.parametrize("case", BAD_VAL)
def test_a_bad_split_gets_one_message_and_the_rest_is_audited(tmp_path: Path, case: str, capsys) -> None:
    project = write_audit_project(tmp_path)
    changes, expected = BAD_VAL[case]
    if changes is None:
        with h5py.File(project.path("val"), "a") as h5:
            del h5["video_names"]
    else:
        _rewrite_val(project, **changes(project))
    out = tmp_path / "runs" / f"bad{AUDIT_SUFFIX}"
    assert main(audit_args(project.root, out)) == 0
    document = read_audit(out)
    about_val = [p for p in document["problems"] if "val_features_multiscale.h5" in p]
    assert len(about_val) == 1 and expected in about_val[0], document["problems"]
    assert {p["video"] for p in document["near_duplicates"] if not p["within_split"]} == {
        project.name("test", row) for row in LEAKS
    }
    assert {i["split"] for i in document["label_issues"]} >= {"test"}
    assert expected in capsys.readouterr().err


def test_planted_sets_are_what_the_project_holds() -> None:
    sets, true_labels = build_sets()
    changed = {split: np.flatnonzero(sets[split].labels != true_labels[split]).tolist() for split in sets}
    assert changed == {"train": [], "val": list(FLIPPED["val"]), "test": list(FLIPPED["test"])}
