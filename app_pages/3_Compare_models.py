"""Compare models: per-model vs ensemble vs TTA scores, how much the members agree, an ensemble
composer over stored probabilities, and the videos the members disagree on."""

from dashboard.shell import current_context
from dashboard.views.compare import render_page

render_page(current_context())
