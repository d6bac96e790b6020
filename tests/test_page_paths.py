from core.page_paths import canonical_path, path_key

PATHS = ["overview", "classify", "compare_models", "metrics", "training_history", "evaluation_runs"]


def test_path_key_ignores_case_spaces_and_separators() -> None:
    assert path_key("Training%20history") == "training_history"
    assert path_key("/Training-History/") == "training_history"
    assert path_key("compare  models") == "compare_models"


def test_canonical_path_finds_the_page_or_none() -> None:
    assert canonical_path("Overview", PATHS) == "overview"
    assert canonical_path("METRICS", PATHS) == "metrics"
    assert canonical_path("Evaluation%20runs", PATHS) == "evaluation_runs"
    assert canonical_path("nope", PATHS) is None
    assert canonical_path("", PATHS) is None
