"""Pure helpers of the benchmark: reading and sampling the shared files, scores, ratios, targets, tables.

Nothing here trains, times or imports torch, so tests/test_bench.py can check it quickly.
"""
from __future__ import annotations

import csv
import io
import math
import os
import platform
import random
import re
from dataclasses import dataclass
from pathlib import Path

# --- the shared files ------------------------------------------------------------------------


@dataclass
class Rows:
    """A delimited file as read: header, rows of str fields, and how to write it back."""
    header: list[str]
    rows: list[list[str]]
    tsv: bool   # tab-separated without any quoting (GLUE's .tsv) rather than a quoted CSV

    def column(self, name: str) -> list[str]:
        j = self.header.index(name)
        return [r[j] for r in self.rows]


def read_rows(path: str | Path) -> Rows:
    """A .tsv is split at tabs with no quoting (quote marks are literal); anything else is read as a quoted CSV."""
    path = Path(path)
    raw = path.read_bytes().decode("utf-8")
    if path.suffix.lower() == ".tsv":
        lines = [line for line in raw.splitlines() if line.strip()]
        table = [line.split("\t") for line in lines]
        return Rows(table[0], table[1:], True)
    table = [row for row in csv.reader(io.StringIO(raw, newline="")) if row]
    return Rows(table[0], table[1:], False)


def write_rows(path: str | Path, data: Rows, index: list[int] | None = None) -> Path:
    """The header and the chosen rows (all when index is None), in the file's own format, as UTF-8."""
    path = Path(path)
    rows = data.rows if index is None else [data.rows[i] for i in index]
    with open(path, "w", encoding="utf-8", newline="") as f:
        if data.tsv:
            for row in [data.header, *rows]:
                f.write("\t".join(row) + "\n")
        else:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(data.header)
            writer.writerows(rows)
    return path


def stratified_indices(labels: list[str], n: int, seed: int = 42, candidates: list[int] | None = None) -> list[int]:
    """n indices (sorted) drawn from `candidates` (default: all) in the classes' proportions.

    Largest-remainder allocation, and every class gets at least one row where n allows, so a row limit
    keeps all classes of banking77.
    """
    pool = list(range(len(labels))) if candidates is None else list(candidates)
    if n >= len(pool):
        return sorted(pool)
    if n <= 0:
        return []
    by_class: dict[str, list[int]] = {}
    for i in pool:
        by_class.setdefault(labels[i], []).append(i)
    classes = sorted(by_class)
    total = len(pool)
    exact = {c: n * len(by_class[c]) / total for c in classes}
    quota = {c: int(math.floor(exact[c])) for c in classes}
    if n >= len(classes):
        for c in classes:
            quota[c] = max(quota[c], 1)
    left = n - sum(quota.values())
    order = sorted(classes, key=lambda c: (-(exact[c] - math.floor(exact[c])), c))
    k = 0
    while left > 0:  # hand out the remainder, largest fractional part first
        c = order[k % len(order)]
        if quota[c] < len(by_class[c]):
            quota[c] += 1
            left -= 1
        k += 1
    while left < 0:  # the minimum of one per class overshot: take back from the biggest quotas
        c = max(classes, key=lambda c: (quota[c], c))
        quota[c] -= 1
        left += 1
    rng = random.Random(seed)
    chosen = []
    for c in classes:
        chosen += rng.sample(by_class[c], min(quota[c], len(by_class[c])))
    return sorted(chosen)


def train_val_indices(texts: list[str], labels: list[str], n_train: int | None, n_val: int,
                      seed: int = 42) -> tuple[list[int], list[int]]:
    """Disjoint stratified training and validation rows of one pool.

    The validation rows are drawn from the rows not trained on, and none repeats a training text, so the
    studio's validation set is no easier than unseen data and the reference trains on exactly the same rows.
    n_train None: everything but the validation rows.
    """
    everyone = list(range(len(labels)))
    if n_train is None:
        val = stratified_indices(labels, n_val, seed)
        taken = set(val)
        train = [i for i in everyone if i not in taken]
        seen = {texts[i] for i in train}
        # a validation row whose text is also a training text moves to training (keeps the reference's rows equal)
        dup = [i for i in val if texts[i] in seen]
        val = [i for i in val if texts[i] not in seen]
        return sorted(train + dup), val
    train = stratified_indices(labels, n_train, seed)
    taken = set(train)
    seen = {texts[i] for i in train}
    rest = [i for i in everyone if i not in taken and texts[i] not in seen]
    val = stratified_indices(labels, n_val, seed + 1, candidates=rest)
    return train, val


def default_val_rows(n_train: int | None, pool: int) -> tuple[int | None, int]:
    """(training rows, validation rows): a validation set of 10% of the training rows (of the pool when unlimited)."""
    if n_train is None or n_train >= pool:
        n_val = max(1, round(0.1 * pool))
        return None, n_val
    return n_train, max(1, min(round(0.1 * n_train), pool - n_train))


# --- scores ----------------------------------------------------------------------------------
def scores(y_true: list, y_pred: list, classes: list | None = None) -> dict[str, float]:
    """Accuracy and macro-F1 exactly as seed_recipe.py computes them (F1 of a class without a hit is 0)."""
    if not y_true:
        return {"accuracy": float("nan"), "macro_f1": float("nan")}
    classes = sorted(set(y_true) | set(y_pred)) if classes is None else classes
    f1s = []
    for c in classes:
        tp = sum(1 for t, p in zip(y_true, y_pred) if t == c and p == c)
        fp = sum(1 for t, p in zip(y_true, y_pred) if t != c and p == c)
        fn = sum(1 for t, p in zip(y_true, y_pred) if t == c and p != c)
        f1s.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    accuracy = sum(1 for t, p in zip(y_true, y_pred) if t == p) / len(y_true)
    return {"accuracy": accuracy, "macro_f1": sum(f1s) / len(f1s)}


def per_dataset(value: str | None, names: list[str]) -> dict[str, int | None]:
    """"300" -> every data set 300; "banking77=300,sst2=0" -> per data set (0 or absent: no cap)."""
    out: dict[str, int | None] = {n: None for n in names}
    if value in (None, ""):
        return out
    for part in str(value).split(","):
        part = part.strip()
        if not part:
            continue
        if "=" in part:
            name, n = (x.strip() for x in part.split("=", 1))
            if name not in out:
                raise ValueError(f"unknown data set {name!r} in {value!r}")
            out[name] = int(n) or None
        else:
            out = {k: int(part) or None for k in out}
    return out


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default), q in 0..100."""
    if not values:
        return float("nan")
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def seed_warmup_steps(train_rows: int, batch_size: int = 16) -> int:
    """The warm-up seed_recipe.py uses: min(500, one epoch of steps)."""
    return min(500, max(1, train_rows // batch_size))


def seed_total_steps(train_rows: int, batch_size: int = 16, epochs: float = 3) -> int:
    return math.ceil(epochs * math.ceil(train_rows / batch_size))


# --- ratios and targets ----------------------------------------------------------------------
def ratio(studio: float | None, reference: float | None) -> float | None:
    """studio / reference; None when either is missing or the reference is 0."""
    if studio is None or reference is None or _nan(studio) or _nan(reference) or reference == 0:
        return None
    return studio / reference


def _nan(x) -> bool:
    return isinstance(x, float) and math.isnan(x)


@dataclass(frozen=True)
class Target:
    """A goal one row of a table is judged by.

    on: "ratio" (studio / reference), "value" (the studio's own figure), or "delta" (studio - reference).
    needs_complete_reference: the judgment is void when the reference was capped (its accuracy and time are partial).
    """
    text: str
    on: str
    op: str
    threshold: float
    needs_complete_reference: bool = False


OPS = {">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, "<": lambda a, b: a < b}


def judge(target: Target | None, studio, reference, reference_complete: bool = True) -> bool | None:
    """True / False when the target can be judged, None when it cannot (no target, a figure missing, reference capped)."""
    if target is None:
        return None
    if target.needs_complete_reference and not reference_complete:
        return None
    if target.on == "ratio":
        x = ratio(studio, reference)
    elif target.on == "delta":
        x = None if studio is None or reference is None or _nan(studio) or _nan(reference) else studio - reference
    else:
        x = None if studio is None or _nan(studio) else studio
    if x is None:
        return None
    return OPS[target.op](x, target.threshold)


def met_text(met: bool | None, why_none: str = "n/a") -> str:
    return "yes" if met is True else "NO" if met is False else why_none


# the rows of a comparison: key in the result dicts, label, unit/format, higher is better
METRICS = [
    ("train_samples_per_s", "train samples/s", "{:.1f}"),
    ("train_wall_s", "training wall time (s)", "{:.1f}"),
    ("first_loss_s", "first logged loss, from process start (s)", "{:.1f}"),
    ("accuracy", "test accuracy", "{:.4f}"),
    ("macro_f1", "test macro-F1", "{:.4f}"),
    ("peak_rss_mb", "peak memory, RSS high-water (MB)", "{:.0f}"),
    ("process_wall_s", "whole process wall time (s)", "{:.1f}"),
]


def comparison_targets(config: str, device: str, dataset: str) -> dict[str, Target]:
    """The issue's targets for one studio configuration ("same_recipe" or "default_preset")."""
    if device == "cpu":
        if config == "same_recipe":
            return {"train_samples_per_s": Target(">= 5x", "ratio", ">=", 5.0),
                    "accuracy": Target(">= ref - 1 pt", "delta", ">=", -0.01, needs_complete_reference=True)}
        if config == "default_preset":
            return {"train_wall_s": Target("<= 1/3 (3x faster)", "ratio", "<=", 1 / 3, needs_complete_reference=True),
                    "accuracy": Target("> ref", "delta", ">", 0.0, needs_complete_reference=True)}
        return {}
    if config == "default_preset":  # GPU: absolute goals for the default a user gets
        goals = {"banking77": (0.90, 15.0), "sst2": (0.88, 12.0)}.get(dataset)
        if goals:
            acc, secs = goals
            return {"accuracy": Target(f">= {acc:.2f}", "value", ">=", acc),
                    "train_wall_s": Target(f"<= {secs:.0f} s", "value", "<=", secs)}
    return {}


def fmt(value, pattern: str = "{:.2f}") -> str:
    if value is None or _nan(value):
        return "n/a"
    if isinstance(value, str):
        return value
    return pattern.format(value)


def comparison_rows(reference: dict, studio: dict, targets: dict[str, Target], reference_complete: bool) -> list[dict]:
    """One dict per metric: label, reference, studio, ratio, target, met (all as text, plus the raw met)."""
    out = []
    for key, label, pattern in METRICS:
        r, s = reference.get(key), studio.get(key)
        target = targets.get(key)
        met = judge(target, s, r, reference_complete)
        why = "n/a (reference capped)" if target and target.needs_complete_reference and not reference_complete else "n/a"
        q = ratio(s, r)
        out.append({"key": key, "metric": label, "reference": fmt(r, pattern), "studio": fmt(s, pattern),
                    "ratio": fmt(q, "{:.2f}x"), "target": target.text if target else "-",
                    "met": met_text(met, why) if target else "-", "met_raw": met,
                    "reference_value": r, "studio_value": s, "ratio_value": q})
    return out


# --- tables ----------------------------------------------------------------------------------
def text_table(header: list[str], rows: list[list[str]], title: str | None = None) -> str:
    """A plain-text table with aligned columns (first column left-aligned, the rest right-aligned)."""
    cells = [[str(c) for c in header]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[j]) for r in cells) for j in range(len(header))]
    def line(r):
        return "  ".join(c.ljust(widths[j]) if j == 0 else c.rjust(widths[j]) for j, c in enumerate(r)).rstrip()
    rule = "  ".join("-" * w for w in widths)
    body = [line(cells[0]), rule] + [line(r) for r in cells[1:]]
    if title:
        body = [title, "=" * len(title)] + body
    return "\n".join(body)


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    def esc(c):
        return str(c).replace("|", "\\|")
    lines = ["| " + " | ".join(esc(h) for h in header) + " |",
             "|" + "|".join("---" if j == 0 else "---:" for j in range(len(header))) + "|"]
    lines += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


COMPARISON_HEADER = ["metric", "reference", "studio", "ratio (studio/ref)", "target", "met?"]


def comparison_table_rows(rows: list[dict]) -> list[list[str]]:
    return [[r["metric"], r["reference"], r["studio"], r["ratio"], r["target"], r["met"]] for r in rows]


# --- extras ----------------------------------------------------------------------------------
EXTRA_TARGETS = {
    "cpu": {
        "first_loss_s": Target("< 5 s", "value", "<", 5.0),
        "playground_p50_ms": Target("< 30 ms", "value", "<", 30.0),
        "batch_sentences_per_s": Target("> 500/s", "value", ">", 500.0),
        "inspect_s": Target("< 20 s", "value", "<", 20.0),
        "inspect_peak_mb": Target("< 2048 MB", "value", "<", 2048.0),
        "freeze4_speedup": Target(">= 2x", "value", ">=", 2.0),
    },
    "cuda": {
        "playground_p50_ms": Target("< 30 ms (CPU)", "value", "<", 30.0),
        "batch_sentences_per_s": Target("> 500/s (CPU)", "value", ">", 500.0),
        "inspect_s": Target("< 20 s", "value", "<", 20.0),
        "inspect_peak_mb": Target("< 2048 MB", "value", "<", 2048.0),
        "mfu": Target(">= 30% of bf16 peak", "value", ">=", 0.30),
    },
}


def extra_row(label: str, value, pattern: str, target: Target | None) -> list[str]:
    met = judge(target, value, None) if target else None
    return [label, fmt(value, pattern), target.text if target else "-", met_text(met) if target else "-"]


# --- the machine -----------------------------------------------------------------------------
def cpu_model(cpuinfo: str | None = None) -> str:
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return platform.processor() or platform.machine()
    for line in cpuinfo.splitlines():
        m = re.match(r"model name\s*:\s*(.+)", line)
        if m:
            return m.group(1).strip()
    return platform.processor() or platform.machine()


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def shared_note(load_average: list[float] | None, cores: int, own_threads: int | None = None) -> str | None:
    """A warning when the one-minute load average before or after a measurement says other work shared the cores.

    load_average: [1, 5, 15-minute before, 1, 5, 15-minute after]. The measured process itself adds up to
    own_threads (default: cores) to the load, so only load above that (plus 0.7 of slack) counts.
    """
    if not load_average or len(load_average) < 4:
        return None
    own = cores if own_threads is None else own_threads
    worst = max(load_average[0], load_average[3])
    if worst > own + 0.7:
        return (f"load average {load_average[0]:.1f} before, {load_average[3]:.1f} after on {cores} cores: "
                "other processes probably shared the cores during this measurement")
    return None

