"""The retrain form's epoch estimate, timed where the job will run: in a short-lived process
started as the job's worker is (the same interpreter and environment, torch's own thread count),
not in the app's process, whose background passes change torch's thread count and compete with
the timed batches.

    python -m core.training.estimate_process --models DIR --member K --features DIR --device cpu

prints the estimate as one JSON line, or one line saying why it could not on stderr (exit 1).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import asdict, fields
from pathlib import Path

import torch

from core.training.ensemble import load_training_splits
from core.training.estimate import EpochEstimate, estimate_epoch
from core.training.jobs import CODE_ROOT, worker_environment
from core.training.retrain import check_features_fit, member_recipe

ESTIMATE_MODULE = "core.training.estimate_process"
# Loading torch and the features, then a few batches of a full-size member on a busy CPU.
ESTIMATE_TIMEOUT_S = 300.0
TIMED_BATCHES = 2
# Batches are timed for at least this long: two alone, on a busy CPU, may both catch a stall.
TIMED_SECONDS = 3.0


class EstimateFailed(ValueError):
    """The timing process gave no estimate; the message is its one-line reason."""


_INTEGERS = ("train_batches", "val_batches", "measured_batches", "hidden_dim", "max_epochs")


def parse_estimate(line: str) -> EpochEstimate:
    """The estimate the timing process printed; EstimateFailed for anything but a whole one."""
    try:
        values = json.loads(line)
    except ValueError:
        raise EstimateFailed("the timing process printed no estimate") from None
    wanted = {f.name for f in fields(EpochEstimate)}
    if not isinstance(values, dict) or set(values) != wanted:
        raise EstimateFailed("the timing process printed an incomplete estimate")
    numbers = [values[name] for name in wanted - {"device"}]
    if not isinstance(values["device"], str) or not all(
        isinstance(n, int | float) and not isinstance(n, bool) and n > 0 for n in numbers
    ):
        raise EstimateFailed("the timing process printed an estimate that is not positive")
    return EpochEstimate(**{**values, **{name: int(values[name]) for name in _INTEGERS}})


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def estimate_in_own_process(
    models_dir: Path,
    member: int,
    features_dir: Path,
    device: str,
    timeout_s: float = ESTIMATE_TIMEOUT_S,
) -> EpochEstimate:
    """Seconds per epoch of member `member` on `features_dir`'s splits and `device`, timed on a
    few real batches in a process of its own; raises EstimateFailed with its one-line reason."""
    command = [
        sys.executable, "-m", ESTIMATE_MODULE, "--models", str(models_dir), "--member", str(member),
        "--features", str(features_dir), "--device", device,
    ]  # fmt: skip
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            stdin=subprocess.DEVNULL,
            env=worker_environment(),
            cwd=CODE_ROOT,
        )
    except subprocess.TimeoutExpired:
        raise EstimateFailed(f"timing the batches took longer than {timeout_s:g} s") from None
    if done.returncode != 0:
        reason = _last_line(done.stderr) or f"the timing process exited with status {done.returncode}"
        raise EstimateFailed(reason)
    return parse_estimate(_last_line(done.stdout))


def _measure(args: argparse.Namespace) -> EpochEstimate:
    recipe = member_recipe(args.models, args.member)
    train, val = load_training_splits(args.features)
    check_features_fit(recipe, train, val)
    return estimate_epoch(
        train,
        val,
        recipe.checkpoint.config,
        recipe.training,
        torch.device(args.device),
        batches=TIMED_BATCHES,
        min_seconds=TIMED_SECONDS,
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {ESTIMATE_MODULE}", description=__doc__)
    parser.add_argument("--models", type=Path, required=True)
    parser.add_argument("--member", type=int, required=True)
    parser.add_argument("--features", type=Path, required=True)
    parser.add_argument("--device", choices=("cpu", "cuda"), required=True)
    args = parser.parse_args(argv)
    try:
        estimate = _measure(args)
    # The process's one answer when it cannot time: the form shows this line.
    except Exception as exc:
        print(f"{type(exc).__name__}: {exc}".replace("\n", " "), file=sys.stderr)
        return 1
    print(json.dumps(asdict(estimate)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
