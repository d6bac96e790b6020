"""The demo build end to end at the "ci" scale (5/3/3 clips per class for train/val/test,
10-frame 128x96 clips, 8-frame 64 px features, 4 models x up to 8 epochs): under a minute on 2 cores."""

import json

import h5py
import numpy as np
import pytest
import torch

from bench.demo_audit import reencoded_copy
from core.audit.video_copies import COPY_SIMILARITY
from core.classes import CLASS_NAMES
from core.cli import main as cli_main
from core.demo.bundle import (
    SCALES,
    DemoError,
    build_demo_bundle,
    demo_bundle_present,
    missing_artifacts,
    split_seed,
)
from core.demo.collapse import DEMO_NOTE, STARVED_SHARE, demo_note
from core.demo.leaks import cross_split_pairs, frame_copy_pairs, frame_similarities
from core.demo.numbers import numbers_from_manifest, numbers_table
from core.evaluation.predictions import SplitPredictions
from core.evaluation.runs import load_run
from core.features.store import load_feature_set
from core.model.checkpoints import find_ensemble_checkpoints, load_checkpoint
from core.paths import SPLITS, ProjectPaths
from core.training.history import best_epochs, load_training_history


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo_a")
    updates = []
    report = build_demo_bundle(
        root, seed=3, scale="ci", device="cpu", progress=lambda t, f: updates.append((t, f))
    )
    return root, report, updates


def test_ci_build_writes_everything_the_app_needs(built):
    root, report, updates = built
    paths = ProjectPaths.at(root)
    assert missing_artifacts(root) == []
    assert demo_bundle_present(root)
    ci = SCALES["ci"]
    assert report.videos == {split: 4 * ci.clips_per_class[split] for split in SPLITS}
    assert report.skipped_videos == []
    for split in SPLITS:
        clips = list((paths.demo_videos_dir / split).rglob("*.mp4"))
        assert len(clips) == report.videos[split]
        features = load_feature_set(paths.features_file(split))
        assert features.num_videos == report.videos[split]
        assert features.recipe == ci.recipe
        assert np.bincount(features.labels).tolist() == [ci.clips_per_class[split]] * 4
    checkpoints = [load_checkpoint(p, "cpu") for p in find_ensemble_checkpoints(paths.models_dir)]
    assert [c.seed for c in checkpoints] == [42, 43, 44, 45]
    assert all(
        c.recipe == ci.recipe and c.config.hidden_dim == ci.model_config.hidden_dim for c in checkpoints
    )
    history = load_training_history(paths.training_metrics_csv)
    assert sorted(history["model"].unique()) == [1, 2, 3, 4]
    assert best_epochs(history)["best_epoch"].tolist() == [c.epoch for c in checkpoints]
    run = load_run(report.run_path)
    assert report.run_path.parent == paths.runs_dir
    assert run.tta_modes == ["original", "reverse", "speed_up", "speed_down"]
    assert set(run.scores) >= {"ensemble", "ensemble_tta", "best_ensemble_model_1"}
    assert report.test_metrics["ensemble"]["accuracy"] == run.scores["ensemble"].accuracy
    manifest = json.loads((paths.demo_videos_dir / "manifest.json").read_text())
    assert manifest["split_seeds"] == {"train": 30, "val": 31, "test": 32}
    fractions = [f for _, f in updates]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert {text.split()[0] for text, _ in updates} >= {"generating", "extracting", "training", "evaluating"}
    # Counters count each split's own videos, ending at its size.
    test_videos = load_feature_set(paths.features_file("test")).num_videos
    assert f"extracting test features {test_videos}/{test_videos}" in [t.split(" (")[0] for t, _ in updates]


def test_member_1_is_starved_of_animation_and_says_so(built):
    root, report, _ = built
    paths = ProjectPaths.at(root)
    members = [load_checkpoint(p, "cpu") for p in find_ensemble_checkpoints(paths.models_dir)]
    note = demo_note(members[0])
    assert note is not None and note.note == DEMO_NOTE
    assert note.class_shares["Animation"] == STARVED_SHARE
    assert note.class_shares["Gaming"] == pytest.approx((1 - STARVED_SHARE) / 3)
    assert note.patience == SCALES["ci"].training.patience // 2
    assert [demo_note(m) for m in members[1:]] == [None, None, None]
    summary = json.loads(paths.configuration_analysis_json.read_text())
    assert summary["checkpoints"]["best_ensemble_model_1.pt"]["training_config"]["note"] == DEMO_NOTE
    animation = [report.test_metrics[f"best_ensemble_model_{m}"]["f1_per_class"][0] for m in range(1, 5)]
    assert animation[0] <= float(np.median(animation[1:])) - 30, animation
    flagged = SplitPredictions.from_run(load_run(report.run_path)).collapsed_members()
    assert ("best_ensemble_model_1", "Animation") in {(name, cls) for name, cls, _, _ in flagged}


def test_same_seed_gives_identical_features_checkpoints_and_probabilities(built, tmp_path):
    root_a, _, _ = built
    threads_before = torch.get_num_threads()
    build_demo_bundle(tmp_path, seed=3, scale="ci", device="cpu")
    a, b = ProjectPaths.at(root_a), ProjectPaths.at(tmp_path)
    for split in SPLITS:
        with h5py.File(a.features_file(split)) as fa, h5py.File(b.features_file(split)) as fb:
            assert np.array_equal(fa["features"][()], fb["features"][()])
            assert list(fa["video_names"][()]) == list(fb["video_names"][()])
    for pa, pb in zip(
        find_ensemble_checkpoints(a.models_dir), find_ensemble_checkpoints(b.models_dir), strict=True
    ):
        sa = torch.load(pa, weights_only=True)["model_state_dict"]
        sb = torch.load(pb, weights_only=True)["model_state_dict"]
        assert all(torch.equal(sa[k], sb[k]) for k in sa)
    run_a, run_b = (load_run(next(p.runs_dir.glob("*.json"))) for p in (a, b))
    assert run_a.probabilities.shape[-2:] == (4 * SCALES["ci"].clips_per_class["test"], 4)
    assert np.array_equal(run_a.probabilities, run_b.probabilities)
    assert torch.get_num_threads() == threads_before


def test_no_test_or_val_clip_is_a_near_duplicate_of_another_split(built):
    root, _, _ = built
    paths = ProjectPaths.at(root)
    assert cross_split_pairs([paths.features_file(split) for split in SPLITS]) == []


def test_the_audit_flags_a_re_encoded_copy_of_a_train_clip_placed_in_test(built, tmp_path):
    # One train clip per class copied as a copier would (85% size, H.264 at CRF 32, the first 0.3 s
    # cut). The features' cosine misses most such copies of these small clips; the decoded frames
    # compared in order must flag every one, and flag no clip of the honest splits.
    # (At this scale the cut leaves 7 of 10 frames, fewer than the recipe extracts, so only the
    # frames are compared here; bench/demo_audit.py scores the features too on the full build.)
    videos = ProjectPaths.at(built[0]).demo_videos_dir / "train"
    originals = [next(videos.glob(f"{category}/*/*.mp4")) for category in CLASS_NAMES]
    copies = {reencoded_copy(o, tmp_path / f"copy_{i}.mp4"): o for i, o in enumerate(originals)}
    scores = frame_similarities(copies)
    assert len(scores) == 4
    assert all(score >= COPY_SIMILARITY for score in scores.values()), scores
    assert frame_copy_pairs(ProjectPaths.at(built[0]).demo_videos_dir) == []


def test_splits_use_disjoint_seeds_and_build_refuses_to_clobber(built):
    assert len({split_seed(s, split) for s in range(5) for split in SPLITS}) == 15
    root, _, _ = built
    with pytest.raises(DemoError, match="--overwrite"):
        build_demo_bundle(root, seed=3, scale="ci")
    with pytest.raises(DemoError, match="full, ci"):
        build_demo_bundle(root, scale="huge", overwrite=True)


def test_missing_artifacts_lists_what_is_absent(tmp_path):
    missing = missing_artifacts(tmp_path)
    assert "features_enhanced/test_features_multiscale.h5" in missing
    assert "models_enhanced/best_ensemble_model_4.pt" in missing
    assert missing[-1].startswith("runs/")
    assert not demo_bundle_present(tmp_path)


def test_demo_cli_builds_the_ci_scale(tmp_path, capsys):
    assert cli_main(["demo", "--root", str(tmp_path), "--scale", "ci", "--seed", "1", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "ensemble_tta" in out and "demo built in" in out
    assert missing_artifacts(tmp_path) == []


def test_the_quoted_demo_table_is_rendered_from_the_build_manifest(built):
    root, report, _ = built
    manifest = json.loads((ProjectPaths.at(root).demo_videos_dir / "manifest.json").read_text())
    table = numbers_table(numbers_from_manifest(manifest))
    ensemble = report.test_metrics["ensemble"]
    row = next(line for line in table.splitlines() if line.startswith("| Ensemble |"))
    assert row.split(" | ")[1:3] == [f"{ensemble['accuracy']:.1f}%", f"{ensemble['f1_weighted']:.1f}%"]
    assert len([line for line in table.splitlines() if line.startswith("| Model ")]) == 4
    assert f"({report.videos['test']} test videos, seed 3)" in table
