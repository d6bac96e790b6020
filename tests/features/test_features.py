import json
import warnings
import weakref

import h5py
import numpy as np
import pytest
import torch

from core.features.store import (
    MAX_CHUNK_ROWS,
    FeatureFileError,
    chunk_rows,
    load_feature_set,
    open_features,
)
from core.features.writer import FeatureWriter
from tests.factories import TINY_RECIPE, make_feature_set, write_features


def test_written_file_round_trips_and_single_video_reads(tmp_path):
    path = tmp_path / "test_features_multiscale.h5"
    original = write_features(path, num_videos=6)
    with open_features(path) as handle:
        assert handle.num_videos == 6
        assert handle.recipe == TINY_RECIPE
        assert handle.video_names == original.video_names
        np.testing.assert_array_equal(handle.read_video(3), original.video(3))
    loaded = load_feature_set(path)
    np.testing.assert_array_equal(loaded.features, original.features)
    with h5py.File(path) as h5:
        assert json.loads(h5.attrs["category_mapping"])["Gaming"] == 2
        assert h5.attrs["max_frames"] == TINY_RECIPE.sequence_length
        assert h5["features"].compression == "gzip"
        assert h5["labels"].dtype == np.int64 and h5["num_frames"].dtype == np.int32


def _write_raw(path, features, labels, num_frames, mapping=None):
    with h5py.File(path, "w") as h5:
        h5["features"] = features
        h5["labels"] = labels
        h5["num_frames"] = num_frames
        h5.attrs["category_mapping"] = json.dumps(
            mapping or {"Animation": 0, "Flat_Content": 1, "Gaming": 2, "Natural_Content": 3}
        )


def test_legacy_file_takes_names_from_processed_data_index(tmp_path):
    root = tmp_path
    features_dir = root / "features_enhanced"
    features_dir.mkdir()
    path = features_dir / "test_features_multiscale.h5"
    _write_raw(path, np.zeros((3, 5, 4), np.float32), np.array([0, 0, 2]), np.array([5, 5, 5], np.int32))
    for category, sub, names in [
        ("Animation", "b_sub", ["z.mp4"]),
        ("Animation", "a_sub", ["y.mp4", "x.mp4"]),
    ]:
        folder = root / "data" / "processed" / "test" / category / sub
        folder.mkdir(parents=True)
        torch.save({"filenames": names, "features": torch.zeros(1)}, folder / "processed_data.pt")
    with open_features(path) as handle:
        assert handle.video_names == ["y.mp4", "x.mp4", "z.mp4"]
        assert handle.recipe is None


def test_legacy_file_without_index_gets_numbered_names(tmp_path):
    path = tmp_path / "val_features_multiscale.h5"
    _write_raw(path, np.zeros((2, 5, 4), np.float32), np.array([0, 1]), np.array([5, 3], np.int32))
    with open_features(path) as handle:
        assert handle.video_names == ["video_0", "video_1"]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda f: f.pop("labels"), "missing dataset"),
        (lambda f: f.update(labels=np.array([0, 1, 2])), "inconsistent numbers of videos"),
        (lambda f: f.update(num_frames=np.array([5, 9], np.int32)), "num_frames out of range"),
        (lambda f: f.update(labels=np.array([0, 7])), "unknown label index 7"),
    ],
)
def test_bad_files_name_the_file_and_the_problem(tmp_path, mutate, message):
    arrays = {
        "features": np.zeros((2, 5, 4), np.float32),
        "labels": np.array([0, 1]),
        "num_frames": np.array([5, 3], np.int32),
    }
    mutate(arrays)
    path = tmp_path / "bad.h5"
    with h5py.File(path, "w") as h5:
        for key, value in arrays.items():
            h5[key] = value
    with pytest.raises(FeatureFileError, match=rf"bad\.h5: .*{message}"):
        open_features(path)


def test_nan_values_are_reported_with_the_video(tmp_path):
    features = np.zeros((2, 5, 4), np.float32)
    features[1, 2, 0] = np.nan
    path = tmp_path / "nan.h5"
    _write_raw(path, features, np.array([0, 1]), np.array([5, 5], np.int32))
    with pytest.raises(FeatureFileError, match="NaN or inf"):
        load_feature_set(path)
    with open_features(path) as handle, pytest.raises(FeatureFileError, match="video_1"):
        handle.read_video(1)


def test_not_hdf5_and_missing_file(tmp_path):
    text = tmp_path / "notes.h5"
    text.write_text("hello")
    with pytest.raises(FeatureFileError, match="not a readable HDF5"):
        open_features(text)
    with pytest.raises(FeatureFileError, match="file not found"):
        open_features(tmp_path / "absent.h5")


def test_writer_resumes_and_refuses_other_recipe(tmp_path):
    path = tmp_path / "f.h5"
    data = make_feature_set(num_videos=3)
    with FeatureWriter(
        path, recipe=TINY_RECIPE, max_frames=data.features.shape[1], feature_dim=1280
    ) as writer:
        writer.append("a.mp4", data.video(0), 0)
    with FeatureWriter(
        path, recipe=TINY_RECIPE, max_frames=data.features.shape[1], feature_dim=1280, resume=True
    ) as writer:
        assert writer.done_names == {"a.mp4"}
        writer.append("b.mp4", data.video(1), 1)
    assert load_feature_set(path).video_names == ["a.mp4", "b.mp4"]
    other = TINY_RECIPE.__class__(num_frames=16, image_size=64)
    with pytest.raises(FeatureFileError, match="different"):
        FeatureWriter(path, recipe=other, max_frames=data.features.shape[1], feature_dim=1280, resume=True)


def test_chunks_cover_every_row_and_a_bad_chunk_names_its_videos(tmp_path):
    path = tmp_path / "test.h5"
    written = write_features(path, num_videos=7, feature_dim=8)
    with open_features(path) as handle:
        chunks = list(handle.iter_chunks(3))
    assert [(c.start, len(c.features)) for c in chunks] == [(0, 3), (3, 3), (6, 1)]
    np.testing.assert_array_equal(np.concatenate([c.features for c in chunks]), written.features)
    with h5py.File(path, "a") as h5:
        h5["features"][4, 0, 0] = np.nan
    with open_features(path) as handle, pytest.raises(FeatureFileError, match=r"1 video\(s\) contain NaN"):
        list(handle.iter_chunks(3))


def test_a_chunk_handed_out_is_not_kept_by_the_reader(tmp_path):
    # Otherwise the previous chunk stays alive while the next one is read: twice the memory.
    path = tmp_path / "test.h5"
    write_features(path, num_videos=7, feature_dim=8)
    with open_features(path) as handle:
        chunks = handle.iter_chunks(3)
        first = weakref.ref(next(chunks).features)
        assert first() is None
        assert next(chunks).start == 3


def test_opposite_infinities_in_one_video_are_caught_without_a_warning(tmp_path):
    path = tmp_path / "test.h5"
    write_features(path, num_videos=5, feature_dim=8)
    with h5py.File(path, "a") as h5:
        h5["features"][1, 0, :2] = [np.inf, -np.inf]
        h5["features"][3, 2, 5] = -np.inf
    with (
        open_features(path) as handle,
        warnings.catch_warnings(),
        pytest.raises(FeatureFileError, match=r"2 video\(s\) contain NaN or inf values") as caught,
    ):
        warnings.simplefilter("error")
        list(handle.iter_chunks(5))
    assert str(caught.value).endswith(f"{handle.video_names[1]}, {handle.video_names[3]}")


def test_chunk_rows_follow_the_byte_budget_within_limits():
    assert chunk_rows(73, 1280, budget_bytes=73 * 1280 * 4 * 10) == 10
    assert chunk_rows(73, 1280, budget_bytes=1) == 1
    assert chunk_rows(3, 8) == MAX_CHUNK_ROWS
