"""Accuracy, precision, recall, F1 and the confusion matrix, from label indices; the majority-label
baseline and the warnings about a model that only looks good; the results in plain words.

The plain words come from one set of details (summary_details) rendered once per language, so the
English and the Chinese summary always say the same thing.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support


def quick_scores(y_true: Sequence[int], y_pred: Sequence[int]) -> dict[str, float]:
    """What each evaluation during training reports."""
    return {"accuracy": float(accuracy_score(y_true, y_pred)),
            "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0))}


def full_report(y_true: Sequence[int], y_pred: Sequence[int], labels: list[str],
                train_labels: Sequence[int] | None = None) -> dict:
    """Test metrics: overall scores, one row per class, the confusion matrix (rows = true, columns = predicted),
    the majority-label baseline and the warnings.

    The baseline is the most common label of `train_labels` (of the test labels themselves when not given).
    """
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
    report["baseline"] = majority_baseline(y_true, labels, train_labels)
    report["warnings"] = find_warnings(y_true, y_pred, labels, report["baseline"])
    return report


def majority_baseline(y_true: Sequence[int], labels: list[str], train_labels: Sequence[int] | None = None) -> dict:
    """{"label", "accuracy", "source"}: the accuracy on the test rows of always answering the most common label."""
    y_true = np.asarray(y_true, dtype=int)
    source = "test" if train_labels is None or len(train_labels) == 0 else "train"
    counted = y_true if source == "test" else np.asarray(train_labels, dtype=int)
    majority = int(np.bincount(counted, minlength=len(labels)).argmax())  # a tie goes to the first label
    accuracy = float(np.mean(y_true == majority)) if len(y_true) else 0.0
    return {"label": labels[majority], "accuracy": accuracy, "source": source}


def find_warnings(y_true: Sequence[int], y_pred: Sequence[int], labels: list[str], baseline: dict) -> list[dict]:
    """What makes the accuracy misleading, as plain values (empty when nothing does):

    {"code": "single_label", "label"}: the same answer for every test text;
    {"code": "never_predicts", "labels"}: labels the test rows hold that the model never answers;
    {"code": "no_better_than_baseline", "accuracy", "baseline_label", "baseline_accuracy"}.
    A test split holding one label only cannot tell, so it gets none.
    """
    y_true, y_pred = np.asarray(y_true, dtype=int), np.asarray(y_pred, dtype=int)
    present = sorted(set(y_true.tolist()))
    if len(present) < 2:
        return []
    answered = set(y_pred.tolist())
    warnings = []
    if len(answered) == 1:
        warnings.append({"code": "single_label", "label": labels[next(iter(answered))]})
    never = [labels[i] for i in present if i not in answered]
    if never:
        warnings.append({"code": "never_predicts", "labels": never})
    correct = int(np.sum(y_true == y_pred))
    baseline_correct = int(np.sum(y_true == labels.index(baseline["label"])))
    if correct <= baseline_correct:
        warnings.append({"code": "no_better_than_baseline", "accuracy": correct / len(y_true),
                         "baseline_label": baseline["label"], "baseline_accuracy": baseline["accuracy"]})
    return warnings


def top_confusions(report: dict, n: int = 3) -> list[tuple[str, str, int]]:
    """The (true, predicted, count) pairs the model mixes up most, off the diagonal."""
    matrix = np.array(report["confusion_matrix"])
    labels = report["labels"]
    np.fill_diagonal(matrix, 0)
    order = np.argsort(matrix, axis=None)[::-1][:n]
    pairs = [(labels[i // len(labels)], labels[i % len(labels)], int(matrix.flat[i])) for i in order]
    return [p for p in pairs if p[2] > 0]


# --- the results in plain words ----------------------------------------------------------------
def summary_details(report: dict) -> dict:
    """The facts the summary states, from a report (or anything holding accuracy, baseline and warnings)."""
    warnings = {w["code"]: w for w in report.get("warnings") or []}
    details = {"examples": report.get("examples"), "accuracy": report["accuracy"], "macro_f1": report.get("macro_f1"),
               "baseline": report.get("baseline"), "single_label": warnings.get("single_label", {}).get("label"),
               "never_predicts": warnings.get("never_predicts", {}).get("labels", []),
               "no_better": "no_better_than_baseline" in warnings, "best": None, "worst": None, "confusion": None}
    rows = sorted(report.get("per_class") or [], key=lambda row: row["f1"])
    if len(rows) > 1 and rows[0]["f1"] < rows[-1]["f1"]:
        details["best"], details["worst"] = (rows[-1]["label"], rows[-1]["f1"]), (rows[0]["label"], rows[0]["f1"])
    if report.get("confusion_matrix"):
        details["confusion"] = next(iter(top_confusions(report, 1)), None)
    return details


def summarize(report: dict, lang: str = "en", with_warning: bool = True) -> str:
    """Test results in plain words for a domain expert: a warning first when one applies, then the accuracy
    against the majority-label baseline, the best and worst label and the main confusion."""
    chinese = _is_chinese(lang)
    warning = warning_text(report, lang) if with_warning else ""
    text = (_summary_zh if chinese else _summary_en)(summary_details(report))
    return (warning + ("" if chinese else " ") + text) if warning else text


def warning_text(report: dict, lang: str = "en") -> str:
    """The warning sentence with what to do, or "" when the accuracy is not misleading."""
    if not report.get("warnings"):
        return ""
    details = summary_details(report)
    return _warning_zh(details) if _is_chinese(lang) else _warning_en(details)


def _is_chinese(lang: str | None) -> bool:
    return str(lang or "").lower().startswith("zh")


def _close(a: float, b: float) -> bool:
    return abs(a - b) < 1e-9


# English
def _quoted_en(labels: list[str], limit: int = 4) -> str:
    names = [f'"{label}"' for label in labels[:limit]]
    if len(labels) > limit:
        return f"{', '.join(names)} and {len(labels) - limit} more"
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _summary_en(d: dict) -> str:
    lines = [f"On {d['examples']:,} test examples the model was right {d['accuracy']:.1%} of the time"
             + (f" (macro F1 {d['macro_f1']:.2f}, which weighs every class equally)" if d["macro_f1"] is not None else "")]
    if d["baseline"]:
        lines[0] += f"; always answering \"{d['baseline']['label']}\" would be right {d['baseline']['accuracy']:.1%}"
    lines[0] += "."
    if d["best"]:
        (best, best_f1), (worst, worst_f1) = d["best"], d["worst"]
        lines.append(f"It does best on \"{best}\" (F1 {best_f1:.2f}) and worst on \"{worst}\" (F1 {worst_f1:.2f}).")
    if d["confusion"]:
        true, pred, count = d["confusion"]
        lines.append(f"It confuses \"{true}\" with \"{pred}\" most: {count} test example{'s' if count > 1 else ''} "
                     f"of \"{true}\" {'were' if count > 1 else 'was'} labelled \"{pred}\".")
    return " ".join(lines)


def _warning_en(d: dict) -> str:
    acc, base = d["accuracy"], d["baseline"]
    if base and d["no_better"] and _close(acc, base["accuracy"]):
        clauses = [f"{acc:.1%} right: the same as always answering \"{base['label']}\""]
    elif base and d["no_better"]:
        clauses = [f"{acc:.1%} right: worse than always answering \"{base['label']}\" ({base['accuracy']:.1%})"]
    elif base:
        clauses = [f"{acc:.1%} right, against {base['accuracy']:.1%} for always answering \"{base['label']}\""]
    else:
        clauses = [f"{acc:.1%} right"]
    never = d["never_predicts"]
    if d["single_label"]:
        clauses.append(f"it answers \"{d['single_label']}\" for every text"
                       + (f" and never predicts {_quoted_en(never)}" if never else ""))
    elif never:
        clauses.append(f"it never predicts {_quoted_en(never)}")
    more = f"add more examples of {_quoted_en(never)}" if never else "add more examples"
    return (f"Warning: {'; '.join(clauses)}. What to do: turn on class weights, {more}, "
            "or train longer (the Best preset, with the Auto method).")


# Chinese
def _quoted_zh(labels: list[str], limit: int = 4) -> str:
    names = [f"“{label}”" for label in labels[:limit]]
    if len(labels) > limit:
        return f"{'、'.join(names)}等 {len(labels)} 个标签"
    return names[0] if len(names) == 1 else f"{'、'.join(names[:-1])}和{names[-1]}"


def _summary_zh(d: dict) -> str:
    text = f"在 {d['examples']:,} 个测试样本上，模型的正确率为 {d['accuracy']:.1%}"
    if d["macro_f1"] is not None:
        text += f"（宏平均 F1 为 {d['macro_f1']:.2f}，每个类别同等看待）"
    if d["baseline"]:
        text += f"；如果总是回答“{d['baseline']['label']}”，正确率为 {d['baseline']['accuracy']:.1%}"
    parts = [text + "。"]
    if d["best"]:
        (best, best_f1), (worst, worst_f1) = d["best"], d["worst"]
        parts.append(f"它在“{best}”上表现最好（F1 {best_f1:.2f}），在“{worst}”上最差（F1 {worst_f1:.2f}）。")
    if d["confusion"]:
        true, pred, count = d["confusion"]
        parts.append(f"它最常把“{true}”误判为“{pred}”：有 {count} 个“{true}”测试样本被标成了“{pred}”。")
    return "".join(parts)


def _warning_zh(d: dict) -> str:
    acc, base = d["accuracy"], d["baseline"]
    if base and d["no_better"] and _close(acc, base["accuracy"]):
        clauses = [f"正确率 {acc:.1%}，与总是回答“{base['label']}”相同"]
    elif base and d["no_better"]:
        clauses = [f"正确率 {acc:.1%}，还不如总是回答“{base['label']}”（{base['accuracy']:.1%}）"]
    elif base:
        clauses = [f"正确率 {acc:.1%}（总是回答“{base['label']}”为 {base['accuracy']:.1%}）"]
    else:
        clauses = [f"正确率 {acc:.1%}"]
    never = d["never_predicts"]
    if d["single_label"]:
        clauses.append(f"它对每条文本都回答“{d['single_label']}”" + (f"，从不预测{_quoted_zh(never)}" if never else ""))
    elif never:
        clauses.append(f"它从不预测{_quoted_zh(never)}")
    more = f"为{_quoted_zh(never)}添加更多样本" if never else "添加更多样本"
    return f"警告：{'；'.join(clauses)}。建议：开启类别权重、{more}，或训练更久（“最佳”预设，配合“自动”方法）。"
