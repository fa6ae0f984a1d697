"""Two or more runs side by side: settings (what differs), test scores, per-label F1, curves, and, when they were
tested on the same texts, which texts each one fixed and broke, with McNemar's exact test on those pairs.

    python -m studio compare RUN RUN [RUN ...]

`compare(runs)` returns plain values; `sentences(result, lang)` says in English or Chinese which run is better
and whether the difference is larger than chance. The first run is the reference every other run is set against.
"""
from __future__ import annotations

from math import comb
from typing import Any

from .runs import Run, current_curve
from .tracking import flat_settings

SCORES = ("accuracy", "macro_f1", "weighted_f1")
SIGNIFICANCE = 0.05

# The sentences, in both languages (the Runs tab and the command line render from this one table).
TEXT: dict[str, tuple[str, str]] = {
    "compare_better": ("**{better}** is better than **{worse}** on the same {n:,} test texts: {acc_better:.1%} against "
                       "{acc_worse:.1%} correct. Of the texts where they disagree, {better} gets {wins} right that "
                       "{worse} gets wrong, and {losses} the other way round.",
                       "在同样的 {n:,} 条测试文本上，**{better}** 比 **{worse}** 更好：正确率 {acc_better:.1%} 对 "
                       "{acc_worse:.1%}。在两者答案不同的文本中，{better} 答对而 {worse} 答错的有 {wins} 条，反过来的有 {losses} 条。"),
    "compare_significant": ("A difference this large arises by chance less than 5% of the time (McNemar's exact test, "
                            "p = {p:.3g}): it is most likely real.",
                            "这么大的差异由偶然造成的概率低于 5%（McNemar 精确检验，p = {p:.3g}）：很可能是真实的差异。"),
    "compare_chance": ("The difference could well be chance (McNemar's exact test, p = {p:.3g}); more test texts, or "
                       "the same settings trained again with another seed, would tell.",
                       "这个差异很可能只是偶然（McNemar 精确检验，p = {p:.3g}）；更多的测试文本，或换一个随机种子用相同设置"
                       "再训练一次，才能判断。"),
    "compare_tie": ("**{a}** and **{b}** are equally accurate on the same {n:,} test texts ({acc:.1%}); each gets {wins} "
                    "texts right that the other gets wrong.",
                    "在同样的 {n:,} 条测试文本上，**{a}** 和 **{b}** 的正确率相同（{acc:.1%}）；各有 {wins} 条文本是自己答对而对方答错。"),
    "compare_same": ("**{a}** and **{b}** give the same answer to every one of the {n:,} test texts.",
                     "对全部 {n:,} 条测试文本，**{a}** 和 **{b}** 的答案完全相同。"),
    "compare_not_shared": ("**{a}** and **{b}** were tested on different texts, so they cannot be compared text by "
                           "text; their accuracies ({acc_a:.1%} and {acc_b:.1%}) are only a rough guide.",
                           "**{a}** 和 **{b}** 的测试文本不同，无法逐条比较；它们的正确率（{acc_a:.1%} 和 {acc_b:.1%}）"
                           "只能作为粗略参考。"),
    "compare_no_scores": ("**{a}** has no test results yet; compare runs that finished training.",
                          "**{a}** 还没有测试结果；请比较已经训练完成的训练记录。"),
    "compare_fixed": ("{b} fixed these {count:,} texts ({a} got them wrong)", "{b} 改对了这 {count:,} 条文本（{a} 答错了）"),
    "compare_broke": ("{b} broke these {count:,} texts ({a} got them right)", "{b} 答错了这 {count:,} 条文本（{a} 答对了）"),
}


def t(key: str, lang: str = "en", **values: Any) -> str:
    english, chinese = TEXT[key]
    return (chinese if str(lang).lower().startswith("zh") else english).format(**values)


def mcnemar_p(wins: int, losses: int) -> float:
    """Two-sided exact McNemar test: the chance of a split at least this uneven of the texts where two models
    disagree, if each were equally likely to be the one that is right (a binomial with p = 1/2)."""
    n = wins + losses
    if n == 0:
        return 1.0
    tail = sum(comb(n, k) for k in range(min(wins, losses) + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def display_name(run: Run) -> str:
    name = run.config().name
    return f"{name} ({run.id})" if name else run.id


def _curves(run: Run) -> dict[str, list[tuple[int, float]]]:
    events = current_curve(run.events()[0])
    curves = {"train_loss": [], "validation_loss": [], "validation_macro_f1": [], "validation_accuracy": []}
    for e in events:
        if e.get("type") == "step" and isinstance(e.get("loss"), (int, float)):
            curves["train_loss"].append((e["step"], e["loss"]))
        elif e.get("type") == "eval":
            for key in ("loss", "macro_f1", "accuracy"):
                if isinstance(e.get(key), (int, float)):
                    curves[f"validation_{key}"].append((e["step"], e[key]))
    return curves


def _aligned(a: list[dict], b: list[dict]) -> list[tuple[dict, dict]] | None:
    """The two runs' predictions paired text by text when they were tested on the same texts, else None."""
    if not a or len(a) != len(b):
        return None
    if [(r["text"], r["label"]) for r in a] == [(r["text"], r["label"]) for r in b]:
        return list(zip(a, b))
    by_text = {r["text"]: r for r in b}
    if len(by_text) != len(b) or len({r["text"] for r in a}) != len(a):
        return None   # repeated texts in another order cannot be paired with certainty
    if any(r["text"] not in by_text or by_text[r["text"]]["label"] != r["label"] for r in a):
        return None
    return [(r, by_text[r["text"]]) for r in a]


def pair(reference: Run, other: Run) -> dict[str, Any]:
    """`other` against `reference`, text by text when they share a test set."""
    paired = _aligned(reference.predictions(), other.predictions())
    result: dict[str, Any] = {"a": reference.id, "b": other.id, "shared_test": paired is not None}
    if paired is None:
        return result
    fixed = [y["text"] for x, y in paired if x["predicted"] != x["label"] and y["predicted"] == y["label"]]
    broken = [x["text"] for x, y in paired if x["predicted"] == x["label"] and y["predicted"] != y["label"]]
    result.update(examples=len(paired), fixed=fixed, broken=broken, fixed_count=len(fixed), broken_count=len(broken),
                  a_correct=sum(x["predicted"] == x["label"] for x, _ in paired),
                  b_correct=sum(y["predicted"] == y["label"] for _, y in paired),
                  same_answers=sum(x["predicted"] == y["predicted"] for x, y in paired),
                  p_value=mcnemar_p(len(fixed), len(broken)))
    result["better"] = "b" if len(fixed) > len(broken) else "a" if len(broken) > len(fixed) else None
    result["significant"] = result["p_value"] < SIGNIFICANCE
    return result


def compare(runs: list[Run]) -> dict[str, Any]:
    """Everything the Runs tab and the command line show about `runs` (two or more), the first as reference."""
    if len(runs) < 2:
        raise ValueError("Pick two or more runs to compare.")
    settings = [flat_settings(run.config()) for run in runs]
    keys = list(dict.fromkeys(k for s in settings for k in s))
    metrics = [run.metrics() or {} for run in runs]
    labels = list(dict.fromkeys(label for m in metrics for label in m.get("labels", [])))
    per_label = []
    for label in labels:
        f1 = [next((c["f1"] for c in m.get("per_class", []) if c["label"] == label), None) for m in metrics]
        per_label.append({"label": label, "f1": f1})
    return {
        "runs": [{"id": run.id, "name": display_name(run), "state": run.state,
                  **{k: m.get(k) for k in SCORES}, "examples": m.get("examples")} for run, m in zip(runs, metrics)],
        "settings": [{"key": k, "values": [s.get(k) for s in settings],
                      "differs": len({repr(s.get(k)) for s in settings}) > 1} for k in keys],
        "per_label": per_label,
        "curves": {run.id: _curves(run) for run in runs},
        "pairs": [pair(runs[0], other) for other in runs[1:]],
    }


def sentences(result: dict[str, Any], lang: str = "en") -> list[str]:
    """For each run against the first: which is better, and whether the difference is larger than chance."""
    names = {r["id"]: r["name"] for r in result["runs"]}
    accuracy = {r["id"]: r["accuracy"] for r in result["runs"]}
    said = []
    for p in result["pairs"]:
        a, b = names[p["a"]], names[p["b"]]
        missing = next((names[i] for i in (p["a"], p["b"]) if accuracy[i] is None), None)
        if missing:
            said.append(t("compare_no_scores", lang, a=missing))
        elif not p["shared_test"]:
            said.append(t("compare_not_shared", lang, a=a, b=b, acc_a=accuracy[p["a"]], acc_b=accuracy[p["b"]]))
        elif p["fixed_count"] == p["broken_count"] == 0:
            said.append(t("compare_same", lang, a=a, b=b, n=p["examples"]))
        elif p["better"] is None:
            said.append(t("compare_tie", lang, a=a, b=b, n=p["examples"], acc=p["a_correct"] / p["examples"],
                          wins=p["fixed_count"]))
        else:
            better, worse = (b, a) if p["better"] == "b" else (a, b)
            wins, losses = ((p["fixed_count"], p["broken_count"]) if p["better"] == "b"
                            else (p["broken_count"], p["fixed_count"]))
            correct = {"a": p["a_correct"], "b": p["b_correct"]}
            other = "a" if p["better"] == "b" else "b"
            said.append(t("compare_better", lang, better=better, worse=worse, n=p["examples"], wins=wins, losses=losses,
                          acc_better=correct[p["better"]] / p["examples"], acc_worse=correct[other] / p["examples"]))
            said.append(t("compare_significant" if p["significant"] else "compare_chance", lang, p=p["p_value"]))
    return said


def report(result: dict[str, Any], examples: int = 5, lang: str = "en") -> str:
    """The comparison as plain text for the command line."""
    runs = result["runs"]
    lines = ["Runs:"]
    for r in runs:
        scores = "  ".join(f"{k} {r[k]:.4f}" if r[k] is not None else f"{k} -" for k in SCORES)
        lines.append(f"  {r['name']}: {r['state']}  {scores}")
    differing = [s for s in result["settings"] if s["differs"]]
    lines.append("Settings that differ:" if differing else "Settings: all the same.")
    for s in differing:
        lines.append(f"  {s['key']}: " + " | ".join(str(v) for v in s["values"]))
    if result["per_label"]:
        lines.append("F1 per label (" + " | ".join(r["id"] for r in runs) + "):")
        for row in result["per_label"]:
            values = [f"{v:.3f}" if v is not None else "-" for v in row["f1"]]
            first = row["f1"][0]
            changes = [f"{v - first:+.3f}" for v in row["f1"][1:] if v is not None and first is not None]
            lines.append(f"  {row['label']}: " + " | ".join(values) + (f"  ({', '.join(changes)})" if changes else ""))
    lines += [""] + sentences(result, lang)
    names = {r["id"]: r["name"] for r in runs}
    for p in result["pairs"]:
        if not p["shared_test"]:
            continue
        for key, texts in (("compare_fixed", p["fixed"]), ("compare_broke", p["broken"])):
            if texts:
                lines.append(t(key, lang, a=names[p["a"]], b=names[p["b"]], count=len(texts)) + ":")
                lines += [f"  - {text[:160]}" for text in texts[:examples]]
                if len(texts) > examples:
                    lines.append(f"  ... and {len(texts) - examples:,} more")
    return "\n".join(line.replace("**", "") for line in lines)
