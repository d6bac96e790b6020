"""A promoted member is marked on Overview, Compare models and Evaluation runs (seed, when, from
where); a run made before the promotion names the backup it used; a swapped-in candidate is listed
under its own name; a score a run lacks shows as a dash."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from core.evaluation.runs import apply_swaps, default_run_path, run_evaluation, save_run
from core.model.checkpoints import find_ensemble_checkpoints
from core.training.promote import promote_candidate
from tests.dashboard.test_pages_part1 import COMPARE, OVERVIEW, open_page
from tests.dashboard.test_pages_part2 import RUNS
from tests.promotion_support import project_with_candidate

MEMBER = 2


def _save(run, runs_dir: Path, label: str, created: datetime) -> str:
    path = default_run_path(runs_dir, label)
    save_run(replace(run, created_utc=created.isoformat(timespec="seconds")), path)
    return path.name


@pytest.fixture(scope="module")
def promoted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """Member 2 promoted; a run from before, one with the candidate swapped in, one from after."""
    root = tmp_path_factory.mktemp("marks") / "project"
    candidate = project_with_candidate(root, MEMBER, root / "candidate")
    models, test = root / "models_enhanced", root / "features_enhanced" / "test_features_multiscale.h5"
    ensemble = find_ensemble_checkpoints(models)
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    names = {
        "before": _save(run_evaluation(ensemble, test, tta_modes=()), root / "runs", "before", an_hour_ago)
    }
    swapped, record = apply_swaps(ensemble, {MEMBER: candidate / f"best_ensemble_model_{MEMBER}.pt"})
    with_candidate = run_evaluation(swapped, test, tta_modes=(), swaps=record)
    names["swap"] = _save(with_candidate, root / "runs", "swap", an_hour_ago + timedelta(minutes=1))
    promote_candidate(candidate, models, stamp="20261208-030000")
    in_an_hour = datetime.now(UTC) + timedelta(hours=1)
    names["after"] = _save(run_evaluation(ensemble, test, tta_modes=()), root / "runs", "after", in_an_hour)
    return root, names


MARK = f"**Model {MEMBER}** is a promoted retrain: seed 46, promoted "


@pytest.mark.parametrize("page", [OVERVIEW, COMPARE])
def test_the_promoted_member_is_marked(promoted, monkeypatch, page) -> None:
    root, _ = promoted
    at = open_page(root, monkeypatch, page)
    mark = next(i.value for i in at.info if MARK in i.value)
    assert f"from {(root / 'candidate').resolve()}" in mark
    assert "best_ensemble_model_2.backup-20261208-030000.pt" in mark


def _display_values(element) -> pa.Table:
    return pa.ipc.open_stream(io.BytesIO(element.proto.arrow_data.styler.display_values)).read_all()


def test_runs_name_the_files_their_members_were(promoted, monkeypatch) -> None:
    root, names = promoted
    at = open_page(root, monkeypatch, RUNS)
    listing = next(d for d in at.dataframe if {"run", "members"} <= set(d.value.columns))
    table = listing.value.set_index("run")
    assert table.loc[names["swap"], "members"] == "1, Candidate 2 (seed 46), 3, 4"
    shown = _display_values(listing).to_pandas()
    assert set(shown["ensemble+TTA accuracy"]) == {"–"} and "None" not in shown.to_string()

    at.multiselect(key="runs_open").set_value([names["before"]]).run()
    assert any(
        "Model 2 in this run is `best_ensemble_model_2.backup-20261208-030000.pt`: the member before a later "
        "promotion" in i.value
        for i in at.info
    )
    assert not any(MARK in i.value for i in at.info)
    at.multiselect(key="runs_open").set_value([names["after"]]).run()
    assert any("Model 2 in this run is a promoted retrain: seed 46" in i.value for i in at.info)

    at.multiselect(key="runs_open").set_value([names["before"], names["swap"]]).run()
    difference = next(w.value for w in at.warning if "is swapped" in w.value)
    assert (
        "best_ensemble_model_2 is swapped: A uses best_ensemble_model_2.backup-20261208-030000.pt, B uses "
        in difference
    )
