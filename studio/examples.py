"""Example sentences a page offers to try a run's model with: the Playground's, and the demo's when it shows any."""
from __future__ import annotations

from .runs import Run


def example_texts(run: Run, count: int = 8, max_chars: int = 200, labels: list[str] | None = None) -> list[str]:
    """A few texts of the run's test split: one label after another (in the order of `labels` when given; a label
    not in it is left out), each at most `max_chars` long, a middling one of each label before the shortest."""
    by_label: dict[str, list[str]] = {label: [] for label in labels or []}
    for row in run.predictions():
        text = str(row.get("text", "")).strip()
        label = row.get("label")
        if 0 < len(text) <= max_chars and (labels is None or label in by_label):
            by_label.setdefault(label, []).append(text)
    for texts in by_label.values():
        texts.sort(key=len)
    picked: list[str] = []
    while len(picked) < count and any(by_label.values()):
        for texts in by_label.values():
            if texts and len(picked) < count:
                picked.append(texts.pop(len(texts) // 2))  # a middling one: not the shortest fragment
    return picked
