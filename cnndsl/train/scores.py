"""Per-class precision, recall, F1 and support from a confusion matrix, with macro and
weighted averages, as scikit-learn's `classification_report` gives them (computed with
torch: no scikit-learn).

An undefined ratio is 0, never NaN, and said in a note: precision of a class never
predicted, recall of a class with no samples. The macro average is over the classes
that occur (in truth or in prediction), as scikit-learn's default labels are; a class
that does neither is listed, and left out of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

#: how many class names a note lists before "and N more"
NAMED = 5


@dataclass
class Scores:
    """Per class (tensors of one value per class, float64) and the averages."""

    precision: torch.Tensor
    recall: torch.Tensor
    f1: torch.Tensor
    iou: torch.Tensor
    support: torch.Tensor           # int64: true samples (pixels) of each class
    predicted: torch.Tensor         # int64: how often each class was predicted
    macro: dict[str, float]         # precision, recall, f1, iou
    weighted: dict[str, float]
    notes: list[str] = field(default_factory=list)

    @property
    def occurring(self) -> torch.Tensor:
        return (self.support > 0) | (self.predicted > 0)


def scores(confusion: torch.Tensor, classes: list[str]) -> Scores:
    """Rows of `confusion` are the true class, columns the predicted one.

    >>> s = scores(torch.tensor([[2, 1], [0, 3]]), ["a", "b"])
    >>> [round(v, 3) for v in s.precision.tolist()], s.recall.tolist()
    ([1.0, 0.75], [0.6666666666666666, 1.0])
    """
    counts = confusion.to(torch.int64)
    tp = counts.diag().double()
    support, predicted = counts.sum(1), counts.sum(0)
    precision = _ratio(tp, predicted.double())
    recall = _ratio(tp, support.double())
    f1 = _ratio(2 * precision * recall, precision + recall)
    iou = _ratio(tp, (support + predicted).double() - tp)
    per = {"precision": precision, "recall": recall, "f1": f1, "iou": iou}
    occurring = (support > 0) | (predicted > 0)
    macro = {k: float(v[occurring].mean()) if bool(occurring.any()) else 0.0
             for k, v in per.items()}
    total = float(support.sum())
    weighted = {k: float((v * support.double()).sum()) / total if total else 0.0
                for k, v in per.items()}
    return Scores(precision, recall, f1, iou, support, predicted, macro, weighted,
                  _notes(support, predicted, classes))


def _ratio(top: torch.Tensor, bottom: torch.Tensor) -> torch.Tensor:
    """top / bottom, 0 where bottom is 0."""
    return torch.where(bottom > 0, top / bottom.clamp_min(1e-300), torch.zeros_like(top))


def _notes(support: torch.Tensor, predicted: torch.Tensor, classes: list[str]) -> list[str]:
    notes = []
    never = ((predicted == 0) & (support > 0)).nonzero().flatten().tolist()
    if never:
        notes.append(f"never predicted: {_names(never, classes)}; precision 0 (undefined)")
    absent = ((support == 0) & (predicted > 0)).nonzero().flatten().tolist()
    if absent:
        notes.append(f"no samples of {_names(absent, classes)}; recall 0 (undefined), and "
                     "every prediction of it is wrong")
    unseen = ((support == 0) & (predicted == 0)).nonzero().flatten().tolist()
    if unseen:
        notes.append(f"neither in the data nor predicted: {_names(unseen, classes)}; left "
                     "out of the macro average")
    return notes


def _names(indices: list[int], classes: list[str]) -> str:
    shown = ", ".join(f"`{classes[i]}`" for i in indices[:NAMED])
    more = len(indices) - NAMED
    return shown + (f" and {more:,} more" if more > 0 else "")
