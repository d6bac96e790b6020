"""Training history: loss, accuracy, F1 and learning-rate curves per model, best epochs, and an
epoch-by-epoch playback of per-class validation F1."""

from __future__ import annotations

import streamlit as st

from core.classes import CLASS_NAMES
from core.model.checkpoints import find_ensemble_checkpoints
from core.training.history import load_history_source
from dashboard.history_views import model_label, render_curves, render_playback
from dashboard.state import current_context

context = current_context()
paths = context.paths
st.title("Training history")
source = load_history_source(paths.training_metrics_csv, find_ensemble_checkpoints(paths.models_dir))
if source.csv_missing:
    st.info(f"{source.csv_problem}. Showing the {source.origin} instead.")
elif source.csv_problem:
    st.error(f"{source.csv_problem}. Fix or regenerate the file; showing the {source.origin} meanwhile.")
else:
    st.caption(f"From `{source.origin}`")
if source.empty:
    st.warning(
        f"No training history to show: no readable `{paths.training_metrics_csv.name}` in "
        f"`{paths.models_dir}`, and no checkpoint there stores a `history`."
    )
    st.stop()
history = source.table
class_names = context.split.class_names if context.split else list(CLASS_NAMES)
all_models = sorted(int(m) for m in history["model"].unique())
models = st.multiselect(
    "Models", all_models, default=all_models, format_func=model_label, key="history_models"
)
if not models:
    st.info("Choose at least one model.")
    st.stop()
render_curves(history, models)
render_playback(history, models, class_names)
