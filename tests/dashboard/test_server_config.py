"""The app's own Streamlit settings: read next to streamlit_app.py wherever the app is started."""

from __future__ import annotations

import tomllib
from pathlib import Path

CONFIG = Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml"


def test_the_file_watcher_is_off_so_generated_folders_are_never_watched():
    settings = tomllib.loads(CONFIG.read_text())
    assert settings["server"]["fileWatcherType"] == "none"
