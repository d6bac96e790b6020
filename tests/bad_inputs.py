"""Broken project files, each written for real, for the tests that check a bad file becomes one
message naming it while everything else keeps working."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import torch

from core.paths import ProjectPaths
from tests.factories import TINY_CONFIG, make_model, write_project

CheckpointMutator = Callable[[dict[str, Any]], dict[str, Any]]


def _with(**changes: Any) -> CheckpointMutator:
    return lambda payload: {**payload, **changes}


def _nan_weight(payload: dict[str, Any]) -> dict[str, Any]:
    state = dict(payload["model_state_dict"])
    state["input_projection.0.weight"] = state["input_projection.0.weight"].clone().fill_(float("nan"))
    return {**payload, "model_state_dict": state}


def _inf_weight(payload: dict[str, Any]) -> dict[str, Any]:
    state = dict(payload["model_state_dict"])
    state["lstm.weight_hh_l0"] = state["lstm.weight_hh_l0"].clone()
    state["lstm.weight_hh_l0"][0, 0] = float("inf")
    return {**payload, "model_state_dict": state}


def _no_classifier_no_config(payload: dict[str, Any]) -> dict[str, Any]:
    state = {k: v for k, v in payload["model_state_dict"].items() if not k.startswith("classifier")}
    return {k: v for k, v in {**payload, "model_state_dict": state}.items() if k != "model_config"}


def _config(**changes: Any) -> CheckpointMutator:
    return lambda payload: {**payload, "model_config": {**payload["model_config"], **changes}}


# name -> (how to break a good checkpoint, what the one-line message must say)
BAD_CHECKPOINTS: dict[str, tuple[CheckpointMutator, str]] = {
    "epoch_not_a_number": (_with(epoch="abc"), "'epoch' should be a number, found 'abc'"),
    "metrics_a_list": (_with(metrics=[1, 2]), "'metrics' should be a dict, found list"),
    "no_classifier_no_config": (_no_classifier_no_config, "no classifier weights found"),
    "negative_hidden_dim": (_config(hidden_dim=-4), "disagrees with its weights: hidden_dim=-4"),
    "huge_hidden_dim": (_config(hidden_dim=10**9), "hidden_dim=1000000000 but the weights have 16"),
    "nan_weights": (_nan_weight, "weights contain NaN or infinite values (input_projection.0.weight)"),
    "inf_weights": (_inf_weight, "weights contain NaN or infinite values (lstm.weight_hh_l0)"),
    "class_names_wrong_count": (_with(class_names=["a", "b"]), "'class_names' lists 2 classes"),
    "config_not_a_dict": (_with(model_config="big"), "'model_config' should be a dict, found str"),
    "dropout_out_of_range": (_config(dropout=3), "dropout=3 is not in [0, 1)"),
}


def good_checkpoint_payload(seed: int = 0) -> dict[str, Any]:
    model = make_model(TINY_CONFIG, seed)
    return {
        "model_state_dict": model.state_dict(),
        "model_config": TINY_CONFIG.to_dict(),
        "epoch": 3,
        "metrics": {"accuracy": 90.0},
        "history": {},
    }


def write_bad_checkpoint(path: Path, kind: str, seed: int = 0) -> str:
    """Write checkpoint `kind` of BAD_CHECKPOINTS to `path`; returns the expected message part."""
    mutate, message = BAD_CHECKPOINTS[kind]
    torch.save(mutate(good_checkpoint_payload(seed)), path)
    return message


def _h5(path: Path, **datasets: Any) -> None:
    with h5py.File(path, "w") as handle:
        for name, value in datasets.items():
            handle.create_dataset(name, data=value)


def _valid_arrays(videos: int = 4, steps: int = 3, dim: int = 8) -> dict[str, Any]:
    return {
        "features": np.ones((videos, steps, dim), np.float32),
        "labels": np.arange(videos, dtype=np.int64) % 4,
        "num_frames": np.full(videos, steps, np.int32),
    }


def _features_group(path: Path) -> None:
    with h5py.File(path, "w") as handle:
        handle.create_group("features").create_dataset("x", data=np.zeros(3))
        handle.create_dataset("labels", data=np.zeros(1, np.int64))
        handle.create_dataset("num_frames", data=np.ones(1, np.int32))


def _huge_declared(path: Path) -> None:
    with h5py.File(path, "w") as handle:
        handle.create_dataset("features", shape=(250_000, 73, 1024), dtype=np.float32, compression="gzip")
        handle.create_dataset("labels", data=np.zeros(250_000, np.int64), compression="gzip")
        handle.create_dataset("num_frames", data=np.ones(250_000, np.int32), compression="gzip")


def _nan_values(path: Path) -> None:
    arrays = _valid_arrays()
    arrays["features"][1, 0, 0] = np.nan
    _h5(path, **arrays)


def _with_arrays(**changes: Any) -> Callable[[Path], None]:
    return lambda path: _h5(path, **{**_valid_arrays(), **changes})


def _duplicate_names(path: Path) -> None:
    _h5(path, **_valid_arrays(), video_names=np.array([b"a.mp4", b"b.mp4", b"a.mp4", b"c.mp4"]))


def _text_file(path: Path) -> None:
    path.write_text("not an hdf5 file")


# name -> (writer, what the one-line message must say); `huge_declared` declares ~70 GiB of
# features in a file of a few hundred KiB.
BAD_FEATURE_FILES: dict[str, tuple[Callable[[Path], None], str]] = {
    "features_is_a_group": (_features_group, "'features' is a Group, not a dataset"),
    "no_videos": (
        _with_arrays(
            features=np.zeros((0, 3, 8), np.float32),
            labels=np.zeros(0, np.int64),
            num_frames=np.zeros(0, np.int32),
        ),
        "holds no videos",
    ),
    "huge_declared": (
        _huge_declared,
        "'features' declares 250000 videos but the file stores data for only 0",
    ),
    "float_labels": (_with_arrays(labels=np.array([0.7, 1, 2, 3])), "found 0.7 at row 0"),
    "duplicate_names": (_duplicate_names, "video name 'a.mp4' appears twice (rows 0 and 2)"),
    "two_dim_features": (_with_arrays(features=np.ones((4, 8), np.float32)), "must be [videos, frames, dim]"),
    "label_out_of_range": (_with_arrays(labels=np.array([0, 1, 2, 9])), "unknown label index 9 at row 3"),
    "length_mismatch": (_with_arrays(labels=np.zeros(3, np.int64)), "inconsistent numbers of videos"),
    "not_hdf5": (_text_file, "not a readable HDF5 file"),
}
# NaN is found when the values are read, not when the file is opened.
NAN_FEATURES = (_nan_values, "1 video(s) contain NaN or inf values")


def write_bad_features(path: Path, kind: str) -> str:
    writer, message = {**BAD_FEATURE_FILES, "nan_values": NAN_FEATURES}[kind]
    writer(path)
    return message


RunMutator = Callable[[dict[str, Any]], dict[str, Any]]


def _without(key: str) -> RunMutator:
    return lambda document: {k: v for k, v in document.items() if k != key}


def _string_accuracy(document: dict[str, Any]) -> dict[str, Any]:
    predictors = {name: dict(scores) for name, scores in document["predictors"].items()}
    predictors["ensemble"]["accuracy"] = "ninety"
    return {**document, "predictors": predictors}


def _nan_accuracy(document: dict[str, Any]) -> dict[str, Any]:
    predictors = {name: dict(scores) for name, scores in document["predictors"].items()}
    predictors["ensemble"]["accuracy"] = float("nan")
    return {**document, "predictors": predictors}


# name -> (how to break a run document written by `save_run`, what the one-line message must say);
# each keeps the right `format`, so only the field checks can tell.
BAD_RUNS: dict[str, tuple[RunMutator, str]] = {
    "predictors_a_list": (
        lambda document: {**document, "predictors": list(document["predictors"])},
        "'predictors' should be a dict, found list",
    ),
    "string_accuracy": (_string_accuracy, "predictor 'ensemble': 'accuracy' should be a finite number"),
    "nan_accuracy": (_nan_accuracy, "predictor 'ensemble': 'accuracy' should be a finite number, found nan"),
    "no_features_file": (_without("features_file"), "'features_file' is missing"),
}


def write_bad_run(path: Path, kind: str, good_run: Path) -> str:
    """A copy of the run at `good_run` (same folder, sharing its sidecar) broken as BAD_RUNS[kind]."""
    mutate, message = BAD_RUNS[kind]
    path.write_text(json.dumps(mutate(json.loads(good_run.read_text()))))
    return message


def write_nan_into(path: Path, video: int = 1) -> None:
    """Put a NaN into one stored video of a valid features file (found only when values are read)."""
    with h5py.File(path, "r+") as handle:
        handle["features"][video, 0, 0] = np.nan


def write_good_run(root: Path, name: str = "good.json") -> Path:
    """A real evaluation run of the project's checkpoints on its test split, saved under runs/."""
    from core.evaluation.runs import run_evaluation, save_run
    from core.model.checkpoints import find_ensemble_checkpoints

    paths = ProjectPaths.at(root)
    checkpoints = find_ensemble_checkpoints(paths.models_dir)
    run = run_evaluation(checkpoints, paths.features_file("test"), tta_modes=(), device="cpu")
    paths.runs_dir.mkdir(parents=True, exist_ok=True)
    return save_run(run, paths.runs_dir / name)


def write_bad_project(root: Path) -> Path:
    """One project with a broken member (NaN weights), a NaN in the validation split, a stray
    HDF5 whose `features` is a group under features_enhanced/archive/, and a malformed run."""
    write_project(root)
    paths = ProjectPaths.at(root)
    good = write_good_run(root)
    write_bad_run(paths.runs_dir / "broken_run.json", "predictors_a_list", good)
    write_bad_checkpoint(paths.checkpoint(2), "nan_weights")
    write_nan_into(paths.features_file("val"))
    archive = paths.features_dir / "archive"
    archive.mkdir()
    write_bad_features(archive / "old.h5", "features_is_a_group")
    return root
