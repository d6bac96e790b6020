"""On a fresh machine the demo bundle's member 1 is flagged as collapsed on Overview, labelled as
deliberately trained that way, and inspectable in the Collapse inspector."""

from __future__ import annotations

from pathlib import Path

from core.demo.collapse import DEMO_NOTE, demo_note, describe
from core.model.checkpoints import load_checkpoint
from dashboard.navigation import COLLAPSE_PAGE
from tests.dashboard.test_pages_part1 import open_page

OVERVIEW = "app_pages/1_Overview.py"


def test_demo_member_1_is_flagged_labelled_and_inspectable(demo_root: Path, monkeypatch) -> None:
    monkeypatch.setenv("DASHBOARD_DEMO_SCALE", "ci")
    overview = open_page(demo_root, monkeypatch, OVERVIEW)
    flags = [w.value for w in overview.warning if "looks collapsed" in w.value]
    assert any(flag.startswith("**Model 1** looks collapsed on **Animation**") for flag in flags), flags
    member_1 = load_checkpoint(demo_root / "models_enhanced" / "best_ensemble_model_1.pt", "cpu")
    expected = describe(demo_note(member_1))
    assert expected.startswith(f"{DEMO_NOTE} (batch share: Animation 0.5%; patience ")
    notes = [c.value for c in overview.caption if DEMO_NOTE in c.value]
    assert notes and set(notes) == {expected}
    assert len(notes) == len([flag for flag in flags if flag.startswith("**Model 1**")])

    inspector = open_page(demo_root, monkeypatch, COLLAPSE_PAGE)
    assert inspector.title[0].value == "Collapse inspector"
    assert any(DEMO_NOTE in info.value for info in inspector.info)
    assert any(info.value.startswith("Model 1 sends") for info in inspector.info)
