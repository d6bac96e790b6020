"""Overview: what is loaded, headline scores with 95% intervals, whether TTA helps significantly,
recorded vs recomputed numbers per checkpoint, and collapsed members."""

from dashboard.shell import current_context
from dashboard.views.overview import render_page

render_page(current_context())
