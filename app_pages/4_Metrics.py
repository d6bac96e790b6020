"""Metrics: per-class scores, a clickable confusion matrix, calibration and ROC/PR curves of the
analysed split, with CSV downloads."""

from dashboard.shell import current_context
from dashboard.views.metrics import render_page

render_page(current_context())
