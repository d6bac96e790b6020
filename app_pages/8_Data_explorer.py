"""Data explorer: the data behind the numbers (map, neighbours, leaks, wrong labels, slices)."""

from dashboard.shell import current_context
from dashboard.views.data_explorer import render_page

render_page(current_context())
