import pytest

from core.evaluation.confusion import confusion_cells


def test_cells_carry_counts_and_row_percentages() -> None:
    cells = confusion_cells([[3, 1], [0, 0]], ["A", "B"])
    assert cells["count"].tolist() == [3, 1, 0, 0]
    assert cells["row_percent"].tolist() == pytest.approx([75.0, 25.0, 0.0, 0.0])
    assert cells.loc[1, ["true_class", "predicted_class"]].tolist() == ["A", "B"]
    assert cells.loc[2, ["true_index", "predicted_index"]].tolist() == [1, 0]
