"""Atomic saves: a killed writer leaves the old file intact and its temp file is cleaned up by the
next save; results get normal permissions; a live writer's temp file is never touched."""

from __future__ import annotations

import os
import signal
import stat
from pathlib import Path

from core.atomic import atomic_path, atomic_write_text, remove_stale_temp_files, temp_files_in
from tests.factories import start_slow_writer


def temp_files(target: Path) -> list[Path]:
    return sorted(target.parent.glob(f".{target.name}.*.tmp"))


def test_sigkill_mid_write_keeps_the_old_file_and_the_next_save_removes_the_leftover(tmp_path):
    target = tmp_path / "run.json"
    atomic_write_text(target, "old")
    writer = start_slow_writer(target)
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=10)
    assert target.read_text() == "old"
    assert len(temp_files(target)) == 1
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
    assert temp_files(target) == []


def test_a_live_writers_temp_file_is_left_alone(tmp_path):
    target = tmp_path / "model.pt"
    writer = start_slow_writer(target)
    try:
        assert remove_stale_temp_files(target) == []
        atomic_write_text(target, "mine")
        assert len(temp_files(target)) == 1
        assert temp_files_in(tmp_path, "*.pt") == temp_files(target)
        assert temp_files_in(tmp_path, "*.h5") == []
    finally:
        writer.kill()
        writer.wait(timeout=10)
    assert target.read_text() == "mine"


def test_saved_files_respect_the_umask(tmp_path):
    previous = os.umask(0o027)
    try:
        atomic_write_text(tmp_path / "a.json", "{}")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == 0o640
    atomic_write_text(tmp_path / "b.json", "{}")
    assert stat.S_IMODE((tmp_path / "b.json").stat().st_mode) == 0o666 & ~previous


def test_a_failed_block_leaves_no_file(tmp_path):
    target = tmp_path / "x.txt"
    try:
        with atomic_path(target) as tmp:
            tmp.write_text("partial")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert not target.exists() and temp_files(target) == []
