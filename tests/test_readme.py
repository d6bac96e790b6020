"""README stays short, and every demo number the docs quote comes from a build of the current
recipe: the quoted tables are the rendering of docs/demo_numbers.json, which
`bench/demo_numbers.py` writes from a fresh full build and which records that build's recipe.

What this does not do is build the full demo (minutes on a 2-core machine): `python
bench/demo_numbers.py --check` does, and since two builds with the same seed are identical on one
machine it must reproduce the file exactly there. tests/demo/test_demo_bundle.py checks the
rendering on a real CI-scale build."""

from __future__ import annotations

from pathlib import Path

from core.demo.bundle import SCALES
from core.demo.numbers import numbers_table, quoted_block, read_numbers

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
NUMBERS = ROOT / "docs" / "demo_numbers.json"
QUOTING = (README, ROOT / "docs" / "demo.md")
MAX_README_CHARS = 14_000


def test_readme_is_short() -> None:
    assert len(README.read_text()) < MAX_README_CHARS


def test_quoted_demo_numbers_come_from_a_build_of_the_current_full_recipe() -> None:
    numbers = read_numbers(NUMBERS)
    assert numbers["scale"] == SCALES["full"].to_dict(), (
        "the full demo's recipe changed since docs/demo_numbers.json was made: "
        "run python bench/demo_numbers.py"
    )
    assert numbers["seed"] == 0
    table = numbers_table(numbers)
    for document in QUOTING:
        assert quoted_block(document.read_text()) == table, document.name


def test_the_readme_links_only_to_files_that_exist() -> None:
    text = README.read_text()
    for target in (part.split(")")[0] for part in text.split("](")[1:]):
        if not target.startswith("http"):
            assert (ROOT / target.split("#")[0]).exists(), target
    for image in (part.split('"')[0] for part in text.split('src="')[1:]):
        assert (ROOT / image).is_file(), image
