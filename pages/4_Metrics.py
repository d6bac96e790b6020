"""Metrics: per-class scores, a clickable confusion matrix, calibration and ROC/PR curves of the
analysed split, with CSV downloads."""

from __future__ import annotations

import streamlit as st

from dashboard.metric_views import render_metric_views
from dashboard.state import current_context, require_split

context = current_context()
split = require_split(context)
st.title("Metrics")
st.caption(
    f"`{context.analysed.path.name}` · {len(split.video_names)} videos · "
    f"{len(split.member_names)} members · TTA modes: {', '.join(split.modes)}"
)
render_metric_views(split, key="metrics", file_stem=context.analysed.path.stem)
