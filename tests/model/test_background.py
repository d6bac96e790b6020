import numpy as np

from core.model.background import BackgroundPredictions
from core.model.inference import predict_split
from core.model.tta import TTA_MODES
from tests.factories import TINY_CONFIG, make_model, write_features


def test_background_pass_hands_over_the_same_probabilities_and_reruns_once_finished(tmp_path):
    data = write_features(tmp_path / "test.h5", num_videos=6)
    model = make_model(TINY_CONFIG)
    registry, results = BackgroundPredictions(), []
    job = registry.start("k", [model], tmp_path / "test.h5", TTA_MODES[1:], results.append)
    progress = job.wait(60)
    assert progress.finished and progress.error is None and progress.fraction == 1.0
    np.testing.assert_allclose(results[0], predict_split([model], data, TTA_MODES[1:]), atol=1e-5)
    again = registry.start("k", [model], tmp_path / "test.h5", TTA_MODES[1:], results.append)
    assert again is not job
    again.wait(60)
    assert len(results) == 2


def test_a_failed_pass_keeps_its_error_and_is_not_retried(tmp_path):
    registry = BackgroundPredictions()
    missing = tmp_path / "missing.h5"
    job = registry.start("k", [make_model(TINY_CONFIG)], missing, ("reverse",), lambda p: None)
    progress = job.wait(60)
    assert progress.finished and "file not found" in progress.error
    assert registry.start("k", [make_model(TINY_CONFIG)], missing, ("reverse",), lambda p: None) is job
