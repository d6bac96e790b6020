"""Page tests start real background TTA passes; each test waits for the passes before the next
one runs, so no pass outlives its test, and fails if one failed: a page shows a failed pass only
as a warning, which no test would otherwise notice."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import finish_background_tta


@pytest.fixture(autouse=True)
def every_background_pass_finishes_cleanly() -> Iterator[None]:
    yield
    assert finish_background_tta() == []
