"""Collapse inspector: why one ensemble member fails on a class, and what it costs the ensemble."""

from dashboard.shell import current_context
from dashboard.views.collapse import render_page

render_page(current_context())
