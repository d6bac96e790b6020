"""Re-encoded copies found from the decoded frames (core/audit/video_copies.py), on real mp4s."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from bench.demo_audit import reencoded_copy
from core.audit.video_copies import COPY_SIMILARITY, aligned_similarity, copy_matches, frame_thumbnails


def write_panning_clip(path: Path, seed: int, frames: int = 24) -> Path:
    """A 192x144, 12 fps clip panning across a smooth random landscape, as a scene would."""
    rng = np.random.default_rng(seed)
    world = cv2.resize(rng.integers(0, 256, (12, 24, 3), dtype=np.uint8), (384, 144), cv2.INTER_CUBIC)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 12, (192, 144))
    for step in range(frames):
        writer.write(np.ascontiguousarray(world[:, step * 8 : step * 8 + 192]))
    writer.release()
    return path


def test_a_heavy_re_encode_is_flagged_and_a_clip_of_the_same_kind_is_not(tmp_path):
    original = frame_thumbnails(write_panning_clip(tmp_path / "original.mp4", seed=1))
    copy = frame_thumbnails(reencoded_copy(tmp_path / "original.mp4", tmp_path / "copy.mp4"))
    other = frame_thumbnails(write_panning_clip(tmp_path / "other.mp4", seed=2))
    assert len(copy) == len(original) - 4  # 0.3 s at 12 fps cut
    assert aligned_similarity(copy, original) >= COPY_SIMILARITY
    assert aligned_similarity(other, original) < COPY_SIMILARITY
    assert [(q, r) for q, r, _ in copy_matches([other, copy], [original])] == [(1, 0)]


def test_frames_count_in_order_not_as_a_set(tmp_path):
    original = frame_thumbnails(write_panning_clip(tmp_path / "original.mp4", seed=1))
    assert aligned_similarity(original, original) == pytest.approx(1.0)
    assert aligned_similarity(original[::-1], original) < COPY_SIMILARITY


def test_a_file_without_frames_is_named(tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    with pytest.raises(ValueError, match=r"broken\.mp4: no frame could be decoded"):
        frame_thumbnails(broken)
