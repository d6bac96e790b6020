"""Stage 5: training ensemble members on feature files, and reading their history back."""
