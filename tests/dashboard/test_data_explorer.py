"""The Data explorer on a project with planted leaks and flipped labels: the audit run from the
page lists them, a listed video opens in Classify on its own split, the view's choices live in the
URL, and a bad split is one message while the rest of the page works."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import h5py
import pytest
from streamlit.testing.v1 import AppTest

from core.audit.document import latest_audit, read_audit
from core.features.writer import write_feature_set
from dashboard.navigation import CLASSIFY_PAGE
from tests.audit_project import FLIPPED, LEAKS, TRAIN_COPY, AuditProject, write_audit_project
from tests.dashboard.app_pages import APP
from tests.factories import write_noise_clip

EXPLORER = "app_pages/8_Data_explorer.py"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> AuditProject:
    return write_audit_project(tmp_path_factory.mktemp("explorer"))


def open_explorer(root: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("DASHBOARD_ROOT", str(root))
    at = AppTest.from_file(APP, default_timeout=600)
    at.run()
    at.switch_page(EXPLORER).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def table_with(at: AppTest, column: str, *others: str):
    return next(df.value for df in at.dataframe if {column, *others} <= set(df.value.columns))


@pytest.fixture(scope="module")
def audited(project: AuditProject) -> AppTest:
    with pytest.MonkeyPatch.context() as patch:
        at = open_explorer(project.root, patch)
        assert any("No audit in runs/ yet" in c.value for c in at.caption)
        at.button(key="explorer_run_audit").click().run()
        assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_audit_run_on_the_page_lists_every_leak(project: AuditProject, audited: AppTest) -> None:
    leaks = table_with(audited, "match_split", "similarity")
    listed = set(zip(leaks["video"], leaks["match"], strict=True))
    assert listed == {(project.name("test", t), project.name("train", r)) for t, r in LEAKS.items()}
    within = [df.value for df in audited.dataframe if "match" in df.value.columns][1]
    assert set(within["video"]) | set(within["match"]) == {project.name("train", r) for r in TRAIN_COPY}


def test_the_page_lists_most_flipped_labels_and_saves_the_audit(
    project: AuditProject, audited: AppTest
) -> None:
    issues = table_with(audited, "suggested", "score")
    for split, rows in FLIPPED.items():
        listed = set(issues.loc[issues["split"] == split, "video"])
        assert len(listed & {project.name(split, row) for row in rows}) >= 0.75 * len(rows)
        assert len(listed) <= project.sets[split].num_videos / 5
    saved = latest_audit(project.root / "runs")
    assert saved is not None and len(read_audit(saved)["label_issues"]) == len(issues)
    assert any(f"saved as runs/{saved.name}" in c.value for c in audited.caption)


def test_slices_and_map_are_shown(audited: AppTest) -> None:
    slices = table_with(audited, "subcategory", "accuracy")
    assert list(slices["accuracy"]) == sorted(slices["accuracy"])
    assert len(audited.get("plotly_chart")) == 1
    assert any("UMAP" in c.value and c.value.startswith("All 144 videos:") for c in audited.caption)
    neighbours = table_with(audited, "similarity", "true_class")
    assert len(neighbours) == 10 and list(neighbours["similarity"]) == sorted(
        neighbours["similarity"], reverse=True
    )


def test_a_listed_video_opens_in_classify_on_its_split(
    project: AuditProject, audited: AppTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_explorer(project.root, monkeypatch)
    picker = at.selectbox(key="explorer_labels_open_video")
    val_choice = next(i for i in picker.options if "(val)" in i)
    picker.select(val_choice).run()
    at.button(key="explorer_labels_open_button").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["analysed_features"] == str(project.path("val"))
    assert at.query_params["video"] == val_choice.rsplit(" (", 1)[0]
    assert CLASSIFY_PAGE.endswith("2_Classify.py")


def test_a_shared_link_restores_the_view(project: AuditProject, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASHBOARD_ROOT", str(project.root))
    at = AppTest.from_file(APP, default_timeout=600)
    at.run()
    at.query_params.update({"explorer_colour": "right / wrong", "explorer_beside": "Model 2"})
    at.switch_page(EXPLORER).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="explorer_colour").value == "right / wrong"
    assert at.selectbox(key="explorer_beside").value == "Model 2"
    assert len(at.get("plotly_chart")) == 2
    assert sum("its last hidden layer" in m.value for m in at.markdown) == 1


def _no_names(project: AuditProject) -> None:
    with h5py.File(project.path("val"), "a") as h5:
        del h5["video_names"]


def _one_video(project: AuditProject) -> None:
    val = project.sets["val"]
    single = replace(val, features=val.features[:1], labels=val.labels[:1], num_frames=val.num_frames[:1],
                     video_names=val.video_names[:1])  # fmt: skip
    project.path("val").unlink()
    write_feature_set(project.path("val"), single)


@pytest.mark.parametrize(
    ("breaks", "message"),
    [
        (_no_names, "has no video names"),
        (_one_video, "1 video, too few"),
    ],
)
def test_a_bad_split_is_one_message_and_the_page_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, breaks, message: str
) -> None:
    project = write_audit_project(tmp_path)
    breaks(project)
    at = open_explorer(project.root, monkeypatch)
    at.button(key="explorer_run_audit").click().run()
    assert not at.exception, [e.value for e in at.exception]
    shown = [w.value for w in at.warning] + [m.value for m in at.markdown]
    assert sum(message in text for text in shown) == 1, shown
    leaks = table_with(at, "match_split", "similarity")
    assert len(leaks) == len(LEAKS)
    assert len(at.get("plotly_chart")) == 1


def test_listed_videos_show_a_frame_when_the_file_is_on_disk(
    project: AuditProject, audited: AppTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = project.name("test", FLIPPED["test"][0])
    write_noise_clip(project.root / "data" / "demo" / "test" / name)
    at = open_explorer(project.root, monkeypatch)
    issues = table_with(at, "suggested", "score")
    frames = dict(zip(issues["video"], issues["frame"], strict=True))
    assert frames[name].startswith("data:image/png;base64,")
    assert sum(isinstance(frame, str) for frame in frames.values()) == 1
