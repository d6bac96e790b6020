"""A malformed feature file is one error naming it, raised before anything large is read."""

from __future__ import annotations

import re

import pytest

from core.features import store
from core.features.inventory import inspect_feature_file
from core.features.store import FeatureFileError, open_features
from tests.bad_inputs import BAD_FEATURE_FILES, write_bad_features
from tests.factories import write_features


@pytest.mark.parametrize("kind", sorted(BAD_FEATURE_FILES))
def test_bad_feature_file_is_one_error_naming_it(tmp_path, kind):
    path = tmp_path / "test_features_multiscale.h5"
    message = write_bad_features(path, kind)
    with pytest.raises(FeatureFileError) as caught, open_features(path) as handle:
        handle.read_all()
    text = str(caught.value)
    assert text.startswith(f"{path}: ") and message in text and "\n" not in text
    assert inspect_feature_file(path).error == text


def test_huge_declared_dataset_is_refused_when_opened(tmp_path):
    path = tmp_path / "test_features_multiscale.h5"
    write_bad_features(path, "huge_declared")
    assert path.stat().st_size < 5 * 2**20
    with pytest.raises(FeatureFileError, match="declares 250000 videos but the file stores data for only 0"):
        open_features(path)


def test_dataset_larger_than_available_memory_is_refused_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "test_features_multiscale.h5"
    write_features(path, num_videos=8)
    monkeypatch.setattr(store, "available_memory", lambda: 2**16)
    with (
        open_features(path) as handle,
        pytest.raises(FeatureFileError, match=r"'features' declares shape \(8, 9, 1280\) \(0\.4 MiB\)"),
    ):
        handle.read_all()


def test_nan_values_are_refused_when_read_but_the_file_opens(tmp_path):
    path = tmp_path / "val_features_multiscale.h5"
    message = write_bad_features(path, "nan_values")
    assert inspect_feature_file(path).error is None
    with open_features(path) as handle:
        assert handle.read_video(0).shape == (3, 8)
        with pytest.raises(FeatureFileError, match=r"video 1 .* has NaN or inf"):
            handle.read_video(1)
        with pytest.raises(FeatureFileError, match=re.escape(message)):
            handle.read_all()
