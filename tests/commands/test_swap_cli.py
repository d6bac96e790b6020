"""`evaluate --swap K=PATH` with a swap file that does not load, or the same K twice: the run is
refused in one line naming the file (exit 1) and nothing is written, instead of scoring the
ensemble without that member under the swap's name."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from core.cli import main
from core.evaluation.runs import load_run
from core.paths import ProjectPaths
from tests.commands.test_output_rule_cli import digest, one_error_line
from tests.factories import write_project


@pytest.fixture(scope="module")
def paths(tmp_path_factory: pytest.TempPathFactory) -> ProjectPaths:
    return ProjectPaths.at(write_project(tmp_path_factory.mktemp("swap"), num_videos=8))


def evaluate(paths: ProjectPaths, *swaps: str) -> int:
    out = paths.runs_dir / "swapped.json"
    features = str(paths.features_file("test"))
    arguments = ["evaluate", "--models", str(paths.models_dir), "--features", features, "--out", str(out),
                 "--device", "cpu"]  # fmt: skip
    for swap in swaps:
        arguments += ["--swap", swap]
    return main(arguments)


def nan_weights(path: Path, good: Path) -> None:
    checkpoint = torch.load(good, weights_only=True)
    name = next(iter(checkpoint["model_state_dict"]))
    checkpoint["model_state_dict"][name] = torch.full_like(checkpoint["model_state_dict"][name], float("nan"))
    torch.save(checkpoint, path)


BAD_SWAPS: dict[str, Callable[[Path, Path], None]] = {
    "not a checkpoint": lambda path, good: path.write_bytes(b"not a checkpoint at all"),
    "truncated": lambda path, good: path.write_bytes(good.read_bytes()[:1000]),
    "NaN weights": nan_weights,
    "a bare list": lambda path, good: torch.save([1, 2, 3], path),
    "a FIFO": lambda path, good: os.mkfifo(path),
}


@pytest.mark.parametrize("bad", BAD_SWAPS)
def test_a_swap_file_that_does_not_load_refuses_the_run(bad, paths, tmp_path, capsys):
    swap = tmp_path / "candidate.pt"
    BAD_SWAPS[bad](swap, paths.checkpoint(1))
    before = digest(paths.root)
    code: list[int] = []
    worker = threading.Thread(target=lambda: code.append(evaluate(paths, f"1={swap}")), daemon=True)
    worker.start()
    worker.join(60)
    assert code, "evaluate did not return within 60 s"
    line = one_error_line(code[0], capsys.readouterr().err)
    assert str(swap) in line
    assert digest(paths.root) == before


def test_the_same_member_swapped_twice_is_refused(paths, tmp_path, capsys):
    first, second = tmp_path / "a.pt", tmp_path / "b.pt"
    shutil.copy(paths.checkpoint(1), first)
    shutil.copy(paths.checkpoint(2), second)
    before = digest(paths.root)
    line = one_error_line(evaluate(paths, f"1={first}", f"1={second}"), capsys.readouterr().err)
    assert "given twice" in line and str(first) in line and str(second) in line
    assert digest(paths.root) == before


def test_a_swap_that_loads_is_evaluated_in_the_members_place(paths, tmp_path, capsys):
    swap = tmp_path / "candidate.pt"
    shutil.copy(paths.checkpoint(2), swap)
    assert evaluate(paths, f"1={swap}") == 0, capsys.readouterr().err
    run = load_run(paths.runs_dir / "swapped.json")
    assert run.swaps == {"best_ensemble_model_1": str(swap.resolve())} and len(run.members) == 4
    assert run.warnings == []
