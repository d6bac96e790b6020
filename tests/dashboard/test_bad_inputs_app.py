"""A project with one bad file keeps every page working: the problem is listed (in the sidebar,
or on the Evaluation runs page for a run file) and no exception reaches the user."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.paths import ProjectPaths
from dashboard.plain_text import WORD_JOINER, plain
from tests.bad_inputs import (
    BAD_RUNS,
    write_bad_checkpoint,
    write_bad_features,
    write_bad_run,
    write_good_run,
    write_nan_into,
)
from tests.dashboard.app_pages import APP, PAGES
from tests.factories import write_project

OVERVIEW, RUNS = PAGES[0], PAGES[5]


def shown(text: str) -> str:
    """What the user reads of an escaped Markdown string."""
    return re.sub(r"\\(.)", r"\1", text).replace(WORD_JOINER, "")


def bad_member(paths: ProjectPaths) -> None:
    write_bad_checkpoint(paths.checkpoint(2), "nan_weights")


def nan_validation(paths: ProjectPaths) -> None:
    write_nan_into(paths.features_file("val"))


def stray_group(paths: ProjectPaths) -> None:
    (paths.features_dir / "archive").mkdir()
    write_bad_features(paths.features_dir / "archive" / "old.h5", "features_is_a_group")


def empty_test_split(paths: ProjectPaths) -> None:
    write_bad_features(paths.features_file("test"), "no_videos")


def malformed_runs(paths: ProjectPaths) -> None:
    good = write_good_run(paths.root)
    for kind in BAD_RUNS:
        write_bad_run(paths.runs_dir / f"{kind}.json", kind, good)


# name -> (how to break a complete project, the page showing the problem, what it says)
SCENARIOS: dict[str, tuple[Callable[[ProjectPaths], None], str, list[str]]] = {
    "bad_member": (
        bad_member,
        OVERVIEW,
        ["best_ensemble_model_2.pt", "weights contain NaN or infinite values (input_projection.0.weight)"],
    ),
    "nan_validation": (
        nan_validation,
        OVERVIEW,
        ["val_features_multiscale.h5 cannot be analysed", "1 video(s) contain NaN or inf values"],
    ),
    "stray_group": (stray_group, OVERVIEW, ["old.h5", "'features' is a Group, not a dataset"]),
    "empty_test_split": (empty_test_split, OVERVIEW, ["test_features_multiscale.h5", "holds no videos"]),
    "malformed_runs": (malformed_runs, RUNS, [message for _, message in BAD_RUNS.values()]),
}


def warnings_of(at: AppTest) -> list[str]:
    return [shown(w.value) for w in [*at.sidebar.warning, *at.main.warning]]


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_every_page_renders_and_the_problem_is_listed(
    scenario: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    breaker, page_with_problem, messages = SCENARIOS[scenario]
    paths = ProjectPaths.at(write_project(tmp_path))
    breaker(paths)
    monkeypatch.setenv("DASHBOARD_ROOT", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])
        assert at.title, page
        if page == page_with_problem:
            warnings = warnings_of(at)
            for message in messages:
                assert any(message in w for w in warnings), (message, warnings)


def test_a_bad_member_leaves_the_others_in_the_ensemble(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = ProjectPaths.at(write_project(tmp_path))
    bad_member(paths)
    monkeypatch.setenv("DASHBOARD_ROOT", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    listed = [shown(m.value) for m in at.sidebar.markdown if "H16×1L" in m.value]
    assert len(listed) == 1
    assert [line.split(" — ")[0] for line in listed[0].splitlines()] == [
        f"- **best_ensemble_model_{n}**" for n in (1, 3, 4)
    ]


def test_the_stray_file_is_not_offered_as_a_split(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = ProjectPaths.at(write_project(tmp_path))
    stray_group(paths)
    monkeypatch.setenv("DASHBOARD_ROOT", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    options = at.sidebar.selectbox(key="analysed_features").options
    assert sorted(Path(option).name for option in options) == [
        "test_features_multiscale.h5",
        "val_features_multiscale.h5",
    ]


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        (
            "**x** [link](http://example.invalid).mp4",
            "\\*\\*x\\*\\* \\[link\\](http:\u2060//example.invalid).mp4",
        ),
        ("best_ensemble_model_1.pt", "best_ensemble_model_1.pt"),
        ("<b>_a_</b> $x$", r"\<b\>\_a\_\</b\> \$x\$"),
        ("- 1. item", r"\- 1. item"),
        ("1. first\nsecond", r"1\. first second"),
        ("me@x.invalid or www.x.invalid", "me\u2060@x.invalid or www\u2060.x.invalid"),
    ],
)
def test_plain_escapes_markdown_and_reads_the_same(text: str, escaped: str) -> None:
    assert plain(text) == escaped
    assert shown(plain(text)) == " ".join(text.split())
