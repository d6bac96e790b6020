"""Evaluation runs stored under runs/ (from the sidebar launcher or `python -m core evaluate`):
list them, open one with the Metrics views, or compare two."""

from dashboard.shell import current_context
from dashboard.views.evaluation_runs import render_page

render_page(current_context())
