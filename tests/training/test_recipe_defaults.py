"""Every default of `python -m core train` is the original recipe (docs/formats.md, "Training recipe")."""

from __future__ import annotations

import argparse

import pytest

from core.commands import train as train_command
from core.training.member import TrainingConfig

# The original recipe, as documented in TrainingConfig's docstring and docs/formats.md.
ORIGINAL_RECIPE = {
    "epochs": 150,
    "patience": 25,
    "batch_size": 48,
    "lr": 1e-3,
    "weight_decay": 5e-4,
    "gamma": 2.0,
    "label_smoothing": 0.1,
    "restart_epochs": 20,
    "restart_mult": 2,
    "eta_min": 1e-6,
    "betas": [0.9, 0.999],
    "alpha_clip": [0.5, 10.0],
    "grad_clip": 1.0,
    "seed": 42,
    "models": 4,
    "no_augmentation": False,
    "no_balanced_sampling": False,
    "hidden_dim": 768,
    "lstm_layers": 4,
    "heads": 12,
    "dropout": 0.4,
}


def cli_defaults() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    train_command.register(parser.add_subparsers())
    return parser.parse_args(["train"])


@pytest.mark.parametrize("option", sorted(ORIGINAL_RECIPE))
def test_cli_default_is_the_original_recipe(option):
    assert getattr(cli_defaults(), option) == pytest.approx(ORIGINAL_RECIPE[option])


def test_training_config_built_from_cli_defaults_is_the_documented_default():
    assert train_command.training_config_from_args(cli_defaults()) == TrainingConfig()
