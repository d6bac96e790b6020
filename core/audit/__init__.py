"""The data behind the numbers: near-duplicate videos (leaks between splits), likely wrong labels,
per-slice scores, and 2-D maps of the videos; `python -m core audit` and the Data explorer page."""
