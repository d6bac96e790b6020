"""Which features files the pages analyse, on real HDF5 files and checkpoints."""

from __future__ import annotations

from pathlib import Path

from core.evaluation.split_choice import (
    chosen_or_default,
    default_analysed,
    readable_features,
    validation_file,
)
from core.features.inventory import FeatureFileInfo, feature_files, inspect_feature_file
from core.model.checkpoints import load_checkpoint
from tests.factories import write_ensemble, write_features


def infos_of(folder: Path) -> list[FeatureFileInfo]:
    return [inspect_feature_file(p) for p in feature_files(folder)]


def write_split_files(folder: Path) -> None:
    folder.mkdir()
    write_features(folder / "train_features_multiscale.h5", num_videos=8)
    write_features(folder / "val_features_multiscale.h5", num_videos=8, seed=1)
    write_features(folder / "test_features_multiscale.h5", num_videos=8, seed=2)
    (folder / "broken_features_multiscale.h5").write_bytes(b"not an HDF5 file")


def test_unreadable_files_are_left_out_and_test_is_the_default(tmp_path: Path) -> None:
    write_split_files(tmp_path / "features")
    infos = infos_of(tmp_path / "features")
    readable = readable_features(infos)
    assert len(infos) == 4
    assert sorted(info.split for info in readable) == ["test", "train", "val"]
    assert default_analysed(infos).split == "test"


def test_default_falls_back_to_the_first_readable_file_then_none(tmp_path: Path) -> None:
    folder = tmp_path / "features"
    folder.mkdir()
    (folder / "test_features_multiscale.h5").write_bytes(b"broken")
    write_features(folder / "val_features_multiscale.h5", num_videos=4)
    assert default_analysed(infos_of(folder)).split == "val"
    assert default_analysed([info for info in infos_of(folder) if info.error]) is None


def test_a_chosen_readable_file_wins_over_the_default(tmp_path: Path) -> None:
    write_split_files(tmp_path / "features")
    infos = infos_of(tmp_path / "features")
    val = next(info for info in infos if info.split == "val")
    broken = next(info for info in infos if info.error)
    assert chosen_or_default(infos, str(val.path)) == val
    assert chosen_or_default(infos, str(broken.path)).split == "test"
    assert chosen_or_default(infos, None).split == "test"


def test_validation_file_must_fit_the_members(tmp_path: Path) -> None:
    features = tmp_path / "features"
    features.mkdir()
    write_features(features / "val_features_multiscale.h5", num_videos=4, feature_dim=64)
    write_features(features / "test_features_multiscale.h5", num_videos=4)
    (tmp_path / "models").mkdir()
    members = [load_checkpoint(p) for p in write_ensemble(tmp_path / "models", members=2)]
    assert validation_file(infos_of(features), members) is None
    write_features(features / "val_features_multiscale.h5", num_videos=4)
    chosen = validation_file(infos_of(features), members)
    assert chosen is not None and chosen.path.name == "val_features_multiscale.h5"
