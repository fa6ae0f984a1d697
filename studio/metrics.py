"""Accuracy, precision, recall, F1 and the confusion matrix, from label indices."""
from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support


def quick_scores(y_true: Sequence[int], y_pred: Sequence[int]) -> dict[str, float]:
    """What each evaluation during training reports."""
    return {"accuracy": float(accuracy_score(y_true, y_pred)),
            "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0))}


def full_report(y_true: Sequence[int], y_pred: Sequence[int], labels: list[str]) -> dict:
    """Test metrics: overall scores, one row per class, and the confusion matrix (rows = true, columns = predicted)."""
    idx = list(range(len(labels)))
    p, r, f, support = precision_recall_fscore_support(y_true, y_pred, labels=idx, zero_division=0)
    report = {"accuracy": float(accuracy_score(y_true, y_pred)), "examples": int(len(y_true))}
    for avg in ("macro", "weighted"):
        ap, ar, af, _ = precision_recall_fscore_support(y_true, y_pred, labels=idx, average=avg, zero_division=0)
        report.update({f"{avg}_precision": float(ap), f"{avg}_recall": float(ar), f"{avg}_f1": float(af)})
    report["per_class"] = [
        {"label": labels[i], "precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(support[i])}
        for i in idx]
    report["labels"] = list(labels)
    report["confusion_matrix"] = confusion_matrix(y_true, y_pred, labels=idx).tolist()
    return report


def top_confusions(report: dict, n: int = 3) -> list[tuple[str, str, int]]:
    """The (true, predicted, count) pairs the model mixes up most, off the diagonal."""
    matrix = np.array(report["confusion_matrix"])
    labels = report["labels"]
    np.fill_diagonal(matrix, 0)
    order = np.argsort(matrix, axis=None)[::-1][:n]
    pairs = [(labels[i // len(labels)], labels[i % len(labels)], int(matrix.flat[i])) for i in order]
    return [p for p in pairs if p[2] > 0]


def summarize(report: dict) -> str:
    """Test results in plain words for a domain expert."""
    acc = report["accuracy"]
    lines = [f"On {report['examples']:,} test examples the model was right {acc:.1%} of the time "
             f"(macro F1 {report['macro_f1']:.2f}, which weighs every class equally)."]
    rows = sorted(report["per_class"], key=lambda row: row["f1"])
    if len(rows) > 1 and rows[0]["f1"] < rows[-1]["f1"]:
        lines.append(f"It does best on \"{rows[-1]['label']}\" (F1 {rows[-1]['f1']:.2f}) and worst on "
                     f"\"{rows[0]['label']}\" (F1 {rows[0]['f1']:.2f}).")
    confusions = top_confusions(report, 1)
    if confusions:
        true, pred, count = confusions[0]
        lines.append(f"It confuses \"{true}\" with \"{pred}\" most: {count} test example{'s' if count > 1 else ''} of \"{true}\" {'were' if count > 1 else 'was'} labelled \"{pred}\".")
    return " ".join(lines)
