"""The demo's collapsed member: member 1 is trained, on purpose, the way the original Model 1
must effectively have been, so the app's collapse diagnostics have something real to find.

Its batches give Animation a tiny share (the other classes split the rest) and it stops early
on validation accuracy, which plateaus while the member still ignores Animation. The other
members train with the usual class-balanced batches. The recipe and a note are kept in the
member's checkpoint (`training_config`), and `demo_note` reads them back for the app.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from core.model.checkpoints import LoadedCheckpoint
from core.training.member import TrainingConfig

COLLAPSED_MEMBER = 1
STARVED_CLASS = "Animation"
STARVED_SHARE = 0.005
DEMO_NOTE = "demo: member 1 was trained to reproduce a collapsed member"


@dataclass(frozen=True)
class DemoNote:
    """How a demo member was deliberately trained differently."""

    note: str
    class_shares: dict[str, float]
    patience: int


def starved_shares(class_names: Sequence[str]) -> tuple[float, ...]:
    """Batch share per class: STARVED_SHARE for the starved class, the rest split evenly."""
    others = (1.0 - STARVED_SHARE) / (len(class_names) - 1)
    return tuple(STARVED_SHARE if name == STARVED_CLASS else others for name in class_names)


def collapsed_member_config(base: TrainingConfig, class_names: Sequence[str]) -> TrainingConfig:
    """`base` with Animation starved and half the patience, and the note that says so."""
    return replace(
        base,
        class_shares=starved_shares(class_names),
        patience=max(1, base.patience // 2),
        note=DEMO_NOTE,
    )


def describe(note: DemoNote) -> str:
    """One line for the app: the note, then how the member's batches were skewed."""
    starved = [f"{name} {100 * share:.1f}%" for name, share in note.class_shares.items() if share < 0.1]
    shares = f" (batch share: {', '.join(starved)}; patience {note.patience})" if starved else ""
    return f"{note.note}{shares}."


def demo_notes(checkpoints: Sequence[LoadedCheckpoint]) -> dict[str, DemoNote]:
    """Member name -> its demo note, for the members that carry one."""
    return {c.name: note for c in checkpoints if (note := demo_note(c)) is not None}


def demo_note(checkpoint: LoadedCheckpoint) -> DemoNote | None:
    """The demo's note on how this member was trained, or None for a normally trained member."""
    training = checkpoint.training_config
    note = training.get("note")
    if not note:
        return None
    shares = training.get("class_shares") or []
    return DemoNote(
        note=str(note),
        class_shares={name: float(s) for name, s in zip(checkpoint.class_names, shares, strict=False)},
        patience=int(training.get("patience", 0)),
    )
