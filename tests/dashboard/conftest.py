"""Page tests start real background TTA passes; each test waits for its own before the next one
runs, so no pass outlives its test and competes with later tests for torch's threads."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import finish_background_tta


@pytest.fixture(autouse=True)
def no_background_pass_outlives_its_test() -> Iterator[None]:
    yield
    finish_background_tta()
