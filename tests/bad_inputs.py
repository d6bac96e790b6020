"""Broken project files, each written for real, for the tests that check a bad file becomes one
message naming it while everything else keeps working."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from tests.factories import TINY_CONFIG, make_model

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
