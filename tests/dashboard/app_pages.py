"""The app's entry script and page scripts, as AppTest addresses them."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "streamlit_app.py")
PAGES: list[str] = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "app_pages").glob("[0-9]*_*.py"))
