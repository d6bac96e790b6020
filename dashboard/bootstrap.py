"""First launch on a machine with no artifacts: build the demo bundle, with visible progress."""

from __future__ import annotations

import os

import streamlit as st

from core.model.ensemble import has_any_artifacts
from core.paths import ProjectPaths
from dashboard.cache import demo_build_lock
from dashboard.plain_text import code

DEMO_SCALE_ENV = "DASHBOARD_DEMO_SCALE"


def ensure_demo_bundle(paths: ProjectPaths) -> None:
    """Build the demo bundle when the project holds no checkpoints and no features at all.

    One build per process: a second browser session waits on the lock and then finds the
    artifacts the first one wrote."""
    if has_any_artifacts(paths):
        return
    st.title("Setting up the demo bundle")
    st.write(
        f"No checkpoints in {code(paths.models_dir)} and no features in {code(paths.features_dir)}. "
        "Building a small demo dataset and ensemble so every page has something to show; "
        "put your own `models_enhanced/` and `features_enhanced/` here to analyse your classifier."
    )
    # Imported here: the generator and trainer are only needed on a machine without artifacts.
    from core.demo.bundle import DemoError, build_demo_bundle

    bar = st.progress(0.0, text="Waiting for another session's build…")
    with demo_build_lock():
        if not has_any_artifacts(paths):
            try:
                # Never with overwrite: the user's own files under data/demo/ stop the build.
                build_demo_bundle(
                    paths.root,
                    scale=os.environ.get(DEMO_SCALE_ENV, "full"),
                    progress=lambda stage, fraction: bar.progress(min(max(fraction, 0.0), 1.0), text=stage),
                )
            except DemoError as exc:
                bar.empty()
                st.error(str(exc), icon="🛑")
                st.stop()
    bar.empty()
    st.rerun()
