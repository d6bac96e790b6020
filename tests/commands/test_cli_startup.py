"""The command line answers at once: building the parser, --help and a flag error load none of
the heavy libraries the commands use (they load inside the command that runs)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from core.cli import COMMANDS
from core.features.backbones import BACKBONES
from core.features.choices import BACKBONE_NAMES

ROOT = Path(__file__).parents[2]
HEAVY = ("torch", "torchvision", "timm", "faiss", "umap", "numba", "captum", "h5py", "pandas", "cv2",
         "scipy", "sklearn", "cleanlab", "plotly", "streamlit", "ray")  # fmt: skip

PROBE = """
import json, sys
from core.cli import COMMANDS, build_parser, main
build_parser()
codes = {}
for argv in (["--help"], *([name, "--help"] for name in COMMANDS), ["train", "--no-such-flag"]):
    try:
        main(argv)
    except SystemExit as exit:
        codes[" ".join(argv)] = exit.code
heavy = sorted(name for name in sys.argv[1:] if name in sys.modules)
print(json.dumps({"codes": codes, "heavy": heavy}), file=sys.stderr)
"""


def test_parser_help_and_a_flag_error_import_no_heavy_library():
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *HEAVY], capture_output=True, text=True, check=True, cwd=ROOT
    )
    probe = json.loads(result.stderr.strip().splitlines()[-1])
    assert probe["heavy"] == []
    assert probe["codes"] == {
        "--help": 0,
        **{f"{name} --help": 0 for name in COMMANDS},
        "train --no-such-flag": 2,
    }


def test_the_parser_offers_exactly_the_backbones_that_can_be_built():
    assert tuple(BACKBONES) == BACKBONE_NAMES
