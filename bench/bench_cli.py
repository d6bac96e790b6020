"""Seconds until the command line answers, against `python -c "import torch"` in the same run.

Each case is a fresh interpreter, as a user's shell starts one: `python -m core --help`, one
command's --help, and a mistyped flag (exit code 2). The cases and the torch import take turns,
so a load that comes and goes on the machine falls on all of them alike. The ratio is a case's
median seconds / the torch import's median (below 0.5: the answer takes under half of it).

    python bench/bench_cli.py --rounds 7
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ("import torch", [sys.executable, "-c", "import torch"])
CASES: tuple[tuple[str, list[str]], ...] = (
    ("python -m core --help", [sys.executable, "-m", "core", "--help"]),
    ("python -m core train --help", [sys.executable, "-m", "core", "train", "--help"]),
    ("python -m core explain --help", [sys.executable, "-m", "core", "explain", "--help"]),
    ("python -m core train --no-such-flag", [sys.executable, "-m", "core", "train", "--no-such-flag"]),
)


def seconds(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def measure(rounds: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name, _ in (REFERENCE, *CASES)}
    for _ in range(rounds):
        for name, command in (REFERENCE, *CASES):
            times[name].append(seconds(command))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="timed runs of every case")
    args = parser.parse_args()
    seconds(REFERENCE[1])  # the first import fills the file cache; not timed
    times = measure(args.rounds)
    reference = statistics.median(times[REFERENCE[0]])
    print(f"{'case':38s} {'median s':>9s} {'min-max s':>13s} {'/ import torch':>15s}")
    for name, values in times.items():
        spread = f"{min(values):.2f}-{max(values):.2f}"
        ratio = statistics.median(values) / reference
        print(f"{name:38s} {statistics.median(values):9.2f} {spread:>13s} {ratio:15.2f}")


if __name__ == "__main__":
    main()
