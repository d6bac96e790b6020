"""Which file each member of a stored run was: a swapped candidate under its own name, the backup
for a run older than a promotion, the promotion for a run made after it."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from core.evaluation.run_members import candidate_name, file_used, listed_members, promotion_in_run
from core.model.promotions import PromotionRecord
from tests.evaluation.test_run_compare import make_run

MODELS = Path("/p/models_enhanced")


def _record(when: str) -> PromotionRecord:
    return PromotionRecord(
        member=1,
        promoted_utc=when,
        stamp="20250102-000000",
        seed=46,
        candidate="/p/runs/retrain/job1/candidate",
        job="job1",
        installed={"best_ensemble_model_1.pt": "new"},
        backups={
            "best_ensemble_model_1.pt": {
                "name": "best_ensemble_model_1.backup-20250102-000000.pt",
                "sha256": "old",
            }
        },
    )


def _run(created: str):
    run = make_run([0, 1], [0, 1])
    return replace(run, created_utc=created, members=["best_ensemble_model_1"],
                   checkpoints=[str(MODELS / "best_ensemble_model_1.pt")])  # fmt: skip


def test_a_run_before_a_promotion_names_the_backup_and_one_after_names_the_promotion() -> None:
    promotions = [_record("2025-01-02T00:00:00+00:00")]
    before, after = _run("2025-01-01T00:00:00+00:00"), _run("2025-01-03T00:00:00")
    assert (
        file_used(before, "best_ensemble_model_1", MODELS, promotions)
        == "best_ensemble_model_1.backup-20250102-000000.pt"
    )
    assert promotion_in_run(before, "best_ensemble_model_1", MODELS, promotions) is None
    assert file_used(after, "best_ensemble_model_1", MODELS, promotions) == "best_ensemble_model_1.pt"
    assert promotion_in_run(after, "best_ensemble_model_1", MODELS, promotions) == promotions[0]
    assert (
        promotions[0].describe() == "promoted retrain: seed 46, promoted 2025-01-02 00:00 UTC from job job1"
    )
    elsewhere = Path("/q/models_enhanced")
    assert file_used(before, "best_ensemble_model_1", elsewhere, promotions) == "best_ensemble_model_1.pt"


def test_a_swapped_member_is_listed_under_the_candidates_name(tmp_path: Path) -> None:
    candidate = tmp_path / "job7" / "candidate"
    candidate.mkdir(parents=True)
    (candidate / "retrain_provenance.json").write_text(json.dumps({"member": 1, "seed": 46}))
    checkpoint = candidate / "best_ensemble_model_1.pt"
    run = replace(_run("2025-01-01T00:00:00+00:00"), swaps={"best_ensemble_model_1": str(checkpoint)})
    assert listed_members(run, tmp_path) == ["candidate_1_seed46"]
    assert listed_members(run, tmp_path / "job7" / "elsewhere") == ["candidate/best_ensemble_model_1"], (
        "a provenance record outside the project is not read"
    )
    assert file_used(run, "best_ensemble_model_1", MODELS, []) == str(checkpoint)
    assert candidate_name(tmp_path / "other" / "best_ensemble_model_1.pt") == "other/best_ensemble_model_1"
    (candidate / "retrain_provenance.json").write_text("[1, 2]")
    assert candidate_name(checkpoint, tmp_path) == "candidate/best_ensemble_model_1"
