"""`python -m core promote`: the validation comparison is printed, a worse candidate is refused
without --accept-worse (folder byte-identical), a promotion is undone with --restore."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from core.cli import main as cli_main
from tests.promotion_support import best_class, make_candidate_answer, project_with_candidate, validation_run

MEMBER = 2


def folder_digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


@pytest.fixture(scope="module")
def worse(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """A project whose candidate for member 2 answers another class than the ensemble's best one."""
    root = tmp_path_factory.mktemp("promote_cli") / "project"
    candidate = project_with_candidate(root, MEMBER, root / "candidate")
    run = validation_run(root)
    best = best_class(run)
    make_candidate_answer(candidate, MEMBER, (best + 1) % len(run.class_names))
    return root, candidate, run.class_names[best]


def _promote(root: Path, candidate: Path, *extra: str) -> int:
    return cli_main(
        ["promote", "--models", str(root / "models_enhanced"), "--features", str(root / "features_enhanced"),
         "--member", str(MEMBER), "--candidate", str(candidate), *extra]
    )  # fmt: skip


def test_a_worse_candidate_is_refused_then_accepted_then_restored(worse, capsys):
    root, candidate, best = worse
    models = root / "models_enhanced"
    before = folder_digest(models)

    assert _promote(root, candidate, "--class", best) == 1
    printed = capsys.readouterr()
    assert (
        "on val_features_multiscale.h5 (6 videos), the ensemble as it is -> with the candidate:"
        in printed.out
    )
    assert f"{best} F1 100.0% -> 0.0%" in printed.out and "McNemar exact p" in printed.out
    error = printed.err.strip()
    assert error.startswith("error: on val_features_multiscale.h5 the candidate makes the ensemble worse: ")
    assert f"{best} F1 falls from 100.0% to 0.0%" in error and "--accept-worse" in error
    assert len(error.splitlines()) == 1
    assert folder_digest(models) == before

    assert _promote(root, candidate, "--class", best, "--accept-worse") == 0
    printed = capsys.readouterr().out
    assert (
        "promoting although" in printed
        and "kept the replaced files as best_ensemble_model_2.backup-" in printed
    )
    assert folder_digest(models) != before

    assert cli_main(["promote", "--models", str(models), "--member", str(MEMBER), "--restore"]) == 0
    assert "restored member 2" in capsys.readouterr().out
    assert folder_digest(models) == before

    assert cli_main(["promote", "--models", str(models), "--member", str(MEMBER), "--restore"]) == 1
    assert "member 2 has no recorded promotion to undo" in capsys.readouterr().err
    assert folder_digest(models) == before


def test_a_candidate_for_another_member_or_without_validation_is_refused(worse, capsys, tmp_path):
    root, candidate, _ = worse
    models = root / "models_enhanced"
    before = folder_digest(models)
    assert cli_main(["promote", "--models", str(models), "--member", "3", "--candidate", str(candidate)]) == 1
    assert "the candidate replaces member 2, not 3" in capsys.readouterr().err
    no_validation = ["--features", str(tmp_path)]
    assert _promote(root, candidate, *no_validation) == 1
    assert "no validation split to judge the candidate on" in capsys.readouterr().err
    assert folder_digest(models) == before
