"""Training history: loss, accuracy, F1 and learning-rate curves per model, best epochs, and an
epoch-by-epoch playback of per-class validation F1."""

from dashboard.shell import current_context
from dashboard.views.training_history import render_page

render_page(current_context())
