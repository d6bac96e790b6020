"""One promotion or restore at a time per ensemble folder.

Promotions of different members also share `training_metrics.csv`, `configuration_analysis.json`
and the promotion record, so the lock covers the whole folder. It is the commands' own output lock
(`core.outputs.hold_output`) on the folder's `promotion`: an exclusive, non-blocking `flock` on the
hidden `.promotion.output-lock`, so the second writer is refused at once instead of waiting, a
writer killed mid-way releases it with its process, and the file is removed on release, leaving no
file behind a refused or finished promotion.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from core.outputs import OutputBusy, OutputRefused, hold_output
from core.training.member import TrainingError

LOCKED_NAME = "promotion"


@contextmanager
def promotion_lock(models_dir: str | Path) -> Iterator[None]:
    """Hold the folder's promotion lock for the block; raises TrainingError when another process
    or thread holds it."""
    models_dir = Path(models_dir)
    if not models_dir.is_dir():
        raise TrainingError(f"{models_dir}: cannot take the promotion lock (not a folder)")
    with ExitStack() as stack:
        try:
            stack.enter_context(hold_output(models_dir / LOCKED_NAME))
        except OutputBusy:
            raise TrainingError(
                f"{models_dir}: another promotion or restore is running in this folder; "
                "wait for it to finish, then look again before trying"
            ) from None
        except OutputRefused as exc:
            raise TrainingError(f"{models_dir}: cannot take the promotion lock ({exc})") from None
        yield
