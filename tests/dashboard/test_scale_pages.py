"""Every page opens on a 100k-video project once its predictions are cached (issue 13)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.features.store import open_features
from core.model.checkpoints import find_ensemble_checkpoints, load_checkpoint
from core.model.inference import predict_split
from core.model.prediction_cache import file_fingerprint, prediction_key, store_probabilities
from core.model.tta import TTA_MODES
from core.paths import ProjectPaths
from tests.dashboard.app_pages import APP, PAGES
from tests.factories import write_large_project

NUM_VIDEOS = 100_000


def cache_predictions(paths: ProjectPaths, split: str, modes: tuple[str, ...]) -> None:
    """What the app's prediction pass stores, computed with core (big batches: same result)."""
    checkpoints = find_ensemble_checkpoints(paths.models_dir)
    models = [load_checkpoint(p).model for p in checkpoints]
    features = paths.features_file(split)
    with open_features(features) as handle:
        probabilities = predict_split(models, handle, modes, batch_size=4096)
    key = prediction_key([file_fingerprint(p) for p in checkpoints], file_fingerprint(features), modes)
    store_probabilities(paths.cache_dir, key, probabilities)


@pytest.fixture(scope="module")
def large_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_large_project(tmp_path_factory.mktemp("large"), NUM_VIDEOS)
    paths = ProjectPaths.at(root)
    cache_predictions(paths, "test", TTA_MODES)
    cache_predictions(paths, "val", ("original",))
    return root


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_at_100k_videos(large_project: Path, page: str, monkeypatch) -> None:
    monkeypatch.setenv("DASHBOARD_ROOT", str(large_project))
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not any(i.value.startswith("TTA: computing") for i in at.info)
    assert "100000" in " ".join(str(m.value) for m in at.metric) or page != PAGES[0]
