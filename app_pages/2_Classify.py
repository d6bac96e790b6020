"""Classify one clip — a test video picked by name and filters, or an uploaded file — and show
every predictor's probabilities, the verdict, and which frames the members attended to."""

from dashboard.shell import current_context
from dashboard.views.classify import render_page

render_page(current_context())
