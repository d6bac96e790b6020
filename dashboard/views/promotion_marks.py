"""The mark a promoted member carries on every page that lists members (Overview, Compare
models): which member is a promoted retrain, its seed, when, and from which job; an unreadable
promotion record is named in one line."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.model.promotions import PromotionRecord, PromotionRecordError, current_promotions, read_promotions
from core.paths import checkpoint_file_name
from dashboard.cache import fingerprint
from dashboard.context import DashboardContext
from dashboard.plain_text import code, plain
from dashboard.theme import short_name


def folder_promotions(models_dir: Path) -> list[PromotionRecord]:
    """The folder's recorded promotions; an unreadable record is reported once and ignored."""
    try:
        return read_promotions(models_dir)
    except PromotionRecordError as exc:
        st.warning(plain(exc), icon=":material/report:")
        return []


def render_promotion_marks(context: DashboardContext) -> None:
    models_dir = context.paths.models_dir
    if not folder_promotions(models_dir):
        return
    for number, record in sorted(current_promotions(models_dir, fingerprint).items()):
        name = short_name(checkpoint_file_name(number)[:-3])
        st.info(
            f"**{name}** is a {plain(record.describe())} (the member before it is kept as "
            f"{code(record.checkpoint_backup)}; *Restore the previous member* on the Collapse inspector "
            "puts it back).",
            icon=":material/upgrade:",
        )
