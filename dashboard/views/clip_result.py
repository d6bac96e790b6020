"""Beside a clip's probabilities: a note when a TTA mode leaves the sequence as it is, and the
downloads of an upload's result (the `classify --json` shape, and the probability table)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import streamlit as st

from core.evaluation.clip_verdict import Verdict, clip_result
from core.model.inference import SequencePrediction
from core.model.tta import unchanged_modes


def render_unchanged_modes(prediction: SequencePrediction) -> None:
    """Say so when a TTA mode gives back the original sequence: its row repeats the original's,
    and the TTA mean counts the original view once more."""
    length = int(prediction.attention.shape[-1])
    same = unchanged_modes(length, prediction.modes)
    if same:
        st.caption(
            f":material/info: On this {length}-step sequence {', '.join(same)} "
            f"{'leaves' if len(same) == 1 else 'leave'} the sequence unchanged (speed_up needs more than 10 "
            "steps, speed_down more than 5), so the TTA mean counts the original view more than once."
        )


def render_downloads(file_name: str, verdict: Verdict, table: pd.DataFrame, class_names: list[str]) -> None:
    stem = Path(file_name).stem
    left, right = st.columns(2)
    left.download_button(
        "Result as JSON",
        json.dumps(clip_result(file_name, verdict, table, class_names), indent=2),
        file_name=f"{stem}_result.json",
        mime="application/json",
        icon=":material/download:",
        key="classify_download_json",
    )
    right.download_button(
        "Probabilities as CSV",
        table.to_csv(index=False),
        file_name=f"{stem}_probabilities.csv",
        mime="text/csv",
        icon=":material/download:",
        key="classify_download_csv",
    )
