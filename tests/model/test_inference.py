import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core import CPU_KERNEL_CACHE_SHAPES
from core.features.store import open_features
from core.model.inference import _plan_batches, _plan_items, predict_split
from core.model.tta import TTA_MODES
from tests.factories import TINY_CONFIG, make_feature_set, make_model, write_features


def planned_lengths(num_frames, batch_size, modes=TTA_MODES):
    batches = _plan_batches(_plan_items(np.asarray(num_frames), modes), batch_size)
    return [[len(item.time_indices) for item in batch] for batch in batches]


def test_equal_length_videos_are_batched_without_padding():
    # The original's features: every video has 73 steps, so each mode has one length.
    batches = planned_lengths([73] * 30, batch_size=48)
    assert [len(set(batch)) for batch in batches] == [1] * len(batches)
    assert sorted(batch[0] for batch in batches) == [36, 73, 73, 109]
    assert [len(batch) for batch in batches] == [30, 30, 30, 30]


def test_a_long_run_is_split_into_even_batches():
    batches = planned_lengths([73] * 100, batch_size=48, modes=("original",))
    assert sorted(len(batch) for batch in batches) == [33, 33, 34]


def test_short_runs_are_pooled_into_sorted_padded_batches():
    lengths = [20, 21, 22, 23] + [40] * 10
    batches = planned_lengths(lengths, batch_size=48, modes=("original",))
    assert batches == [[40] * 10, [20, 21, 22, 23]]


def test_every_mode_and_video_is_planned_exactly_once():
    num_frames = np.random.default_rng(0).integers(3, 80, size=57)
    items = _plan_items(num_frames, TTA_MODES)
    batches = _plan_batches(items, batch_size=16)
    planned = sorted((item.mode_index, item.video_index) for batch in batches for item in batch)
    assert planned == sorted((a, i) for a in range(4) for i in range(57))
    assert max(len(batch) for batch in batches) <= 16


def test_unpadded_and_pooled_batches_give_the_same_probabilities():
    feature_set = make_feature_set(num_videos=20)
    feature_set.num_frames[:12] = feature_set.features.shape[1]
    model = make_model(TINY_CONFIG)
    planned = predict_split([model], feature_set, batch_size=48)
    one_by_one = predict_split([model], feature_set, batch_size=1)
    np.testing.assert_allclose(planned, one_by_one, atol=1e-5)


def test_batch_size_below_one_is_refused():
    with pytest.raises(ValueError, match="batch size must be at least 1, got 0"):
        predict_split([make_model(TINY_CONFIG)], make_feature_set(num_videos=2), batch_size=0)


def test_streaming_a_file_in_small_chunks_matches_the_in_memory_split(tmp_path):
    feature_set = write_features(tmp_path / "test.h5", num_videos=13)
    model = make_model(TINY_CONFIG)
    whole = predict_split([model], feature_set, batch_size=4)
    seen = []
    with open_features(tmp_path / "test.h5") as handle:
        streamed = predict_split(
            [model], handle, batch_size=4, chunk_videos=5, progress=lambda d, t: seen.append((d, t))
        )
    np.testing.assert_allclose(streamed, whole, atol=1e-5)
    assert seen[-1] == (4 * 13, 4 * 13)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_importing_core_bounds_the_cpu_kernel_cache_unless_the_user_set_it():
    # Unbounded (1024 kernels of ~0.6 MiB), memory grew with the number of batch shapes seen.
    variable = "ONEDNN_PRIMITIVE_CACHE_CAPACITY"
    code = f"import os, core; print(os.environ['{variable}'])"
    env = {key: value for key, value in os.environ.items() if key != variable}
    root = Path(__file__).resolve().parents[2]

    def capacity(extra: dict[str, str]) -> str:
        command = [sys.executable, "-c", code]
        run = subprocess.run(command, env=env | extra, cwd=root, capture_output=True, text=True, check=True)
        return run.stdout.strip()

    assert capacity({}) == str(CPU_KERNEL_CACHE_SHAPES)
    assert capacity({variable: "8"}) == "8"
