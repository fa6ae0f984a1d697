"""Pure parts of the learning-quality benchmark (bench/quality.py): the data sets and their file formats, the
fixed test sets and training samples, the grid of cells, which cells are done, aggregation over seeds, the
done-when verdicts and the markdown report.

Nothing here trains or imports torch, scikit-learn or the studio at import time, so tests/test_bench.py checks
it quickly.
"""
from __future__ import annotations

import csv
import io
import json
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from harness import fmt, markdown_table, scores, stratified_indices

# --- the data sets and their formats ---------------------------------------------------------


@dataclass(frozen=True)
class Format:
    """How a data set's files are written: the grid writes its samples back the same way."""
    delimiter: str
    quoted: bool = False     # a quoted CSV; otherwise fields are split at the delimiter and quote marks are literal
    encoding: str = "utf-8"
    newline: str = "\n"


@dataclass(frozen=True)
class DataSet:
    name: str
    train: str               # relative to the shared datasets folder
    test: str | None         # None: a fixed stratified hold-out of `train` is the test set
    text: str
    label: str
    fmt: Format
    holdout: int = 0         # rows of `train` held out as the test set when there is no test file
    studio_reader: bool = False  # read through studio.data.read_examples: the raw file needs its repairs

    @property
    def suffix(self) -> str:
        return Path(self.train).suffix


DATASETS = {
    "sst2": DataSet("sst2", "sst2/train.tsv", "sst2/dev.tsv", "sentence", "label", Format("\t")),
    "banking77": DataSet("banking77", "banking77/train.csv", "banking77/test.csv", "text", "category",
                         Format(",", quoted=True, newline="\r\n")),
    "trec": DataSet("trec", "trec/train.csv", "trec/test.csv", "question", "label", Format("\t")),
    "emotion": DataSet("emotion", "emotion/train.txt", "emotion/test.txt", "text", "label_name", Format(";")),
    # cp1252 with unescaped quotes that spill into extra columns: the studio's reader joins them back, and the
    # samples are written as a properly quoted cp1252 CSV with the same two columns
    "spam_messy": DataSet("spam_messy", "spam_messy/spam.csv", None, "v2", "v1",
                          Format(",", quoted=True, encoding="cp1252", newline="\r\n"), holdout=1000,
                          studio_reader=True),
}
TEST_CAP = 2000
TEST_SEED = 0


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    fmt: Format

    def column(self, name: str) -> list[str]:
        j = self.header.index(name)
        return [r[j] for r in self.rows]

    def take(self, index: list[int]) -> "Table":
        return Table(self.header, [self.rows[i] for i in index], self.fmt)


def read_table(path: str | Path, fmt: Format) -> Table:
    """A file written in `fmt`: a quoted CSV through the csv module, anything else split at the delimiter."""
    raw = Path(path).read_bytes().decode(fmt.encoding)
    if fmt.quoted:
        table = [row for row in csv.reader(io.StringIO(raw, newline=""), delimiter=fmt.delimiter) if row]
    else:
        lines = [line.rstrip("\r") for line in raw.split("\n") if line.strip()]
        table = [line.split(fmt.delimiter) for line in lines]
        for i, row in enumerate(table):
            if len(row) != len(table[0]):
                raise ValueError(f"Line {i + 1} of {path} has {len(row)} fields where the header has {len(table[0])}; "
                                 "this file cannot be read without quoting.")
    return Table(table[0], table[1:], fmt)


def write_table(path: str | Path, table: Table) -> Path:
    path = Path(path)
    f_ = table.fmt
    with open(path, "w", encoding=f_.encoding, newline="") as f:
        if f_.quoted:
            csv.writer(f, delimiter=f_.delimiter, lineterminator=f_.newline).writerows([table.header, *table.rows])
        else:
            for row in [table.header, *table.rows]:
                if any(f_.delimiter in cell or "\n" in cell for cell in row):
                    raise ValueError(f"A field holds the delimiter or a line break, which {path.name} cannot quote.")
                f.write(f_.delimiter.join(row) + f_.newline)
    return path


def seed_recipe_args(ds: DataSet) -> list[str]:
    """What seed_recipe.py needs to read the data set's files: it assumes tab for .tsv, comma otherwise, UTF-8."""
    assumed = "\t" if ds.suffix == ".tsv" else ","
    args = [] if ds.fmt.delimiter == assumed else ["--sep", ds.fmt.delimiter]
    return args + ([] if ds.fmt.encoding == "utf-8" else ["--encoding", ds.fmt.encoding])


# --- test sets and training samples ----------------------------------------------------------
@dataclass
class Pool:
    """One data set as the grid uses it: the rows training samples are drawn from, and the fixed test set."""
    ds: DataSet
    source: Table            # the training file
    candidates: list[int]    # rows of `source` a training sample may take
    test: Table

    def labels(self) -> list[str]:
        return self.source.column(self.ds.label)


def make_pool(ds: DataSet, train: Table, test: Table | None, test_cap: int = TEST_CAP) -> Pool:
    """The training pool and the test set (at most test_cap rows, a fixed stratified sample, seed 0).

    Without a test file a fixed stratified hold-out of the training file is the test set; its rows, and rows
    repeating one of its texts, are never sampled for training.
    """
    labels = train.column(ds.label)
    candidates = list(range(len(train.rows)))
    if test is None:
        held = stratified_indices(labels, ds.holdout, seed=TEST_SEED)
        texts = train.column(ds.text)
        held_texts = {texts[i] for i in held}
        held_rows = set(held)
        candidates = [i for i in candidates if i not in held_rows and texts[i] not in held_texts]
        test = train.take(held)
    if len(test.rows) > test_cap:
        test = test.take(stratified_indices(test.column(ds.label), test_cap, seed=TEST_SEED))
    return Pool(ds, train, candidates, test)


def sample_indices(pool: Pool, n: int, seed: int) -> list[int]:
    """The training rows of one (data set, N, seed): stratified, every class present where n allows."""
    return stratified_indices(pool.labels(), n, seed=seed, candidates=pool.candidates)


def sample_name(n: int, seed: int) -> str:
    return f"n{n}-s{seed}"


# --- the grid --------------------------------------------------------------------------------
STUDIO_METHODS = {  # method: (build_config method, preset)
    "default": ("auto", "balanced"),
    "quick": ("auto", "quick"),
    "best": ("auto", "best"),
    "full": ("full", "balanced"),
}
BASELINES = ("tfidf_lr", "embed_lr", "setfit")
METHODS = ("default", "quick", "best", "full", "tfidf_lr", "embed_lr", "textbook", "setfit")
CHEAP = ("tfidf_lr", "embed_lr")

# One knob at a time away from full fine-tuning with the balanced preset (itself the `full` method).
SWEEP = {
    "sweep: lr x0.5": {"method": "full", "lr_factor": 0.5},
    "sweep: lr x2": {"method": "full", "lr_factor": 2.0},
    "sweep: 3 epochs": {"method": "full", "epochs": 3},
    "sweep: 12 epochs": {"method": "full", "epochs": 12},
    "sweep: head only": {"method": "freeze", "freeze_layers": -1},
    "sweep: lora": {"method": "lora"},
}
SWEEP_DATASETS = ("sst2", "banking77")
SWEEP_N = 1000

# rough seconds per training row on one core, only to run the cheap cells first
COST_PER_ROW = {"tfidf_lr": 0.002, "embed_lr": 0.004, "setfit": 0.5, "quick": 1.0, "default": 1.5, "full": 1.5,
                "best": 3.0, "textbook": 5.0}


@dataclass(frozen=True)
class Cell:
    dataset: str
    n: int
    seed: int
    method: str

    @property
    def key(self) -> str:
        return f"{self.dataset}/{self.n}/{self.seed}/{self.method}"

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9.]+", "-", self.method.lower()).strip("-")


def parse_list(value: str, kind=str) -> list:
    return [kind(x.strip()) for x in str(value).split(",") if x.strip()]


def seeds_for(n: int, seeds: list[int], one_seed_above: int) -> list[int]:
    """All seeds up to one_seed_above rows (0: everywhere), the first seed only above it."""
    return seeds if not one_seed_above or n <= one_seed_above else seeds[:1]


def expand(datasets: list[str], sizes: list[int], seeds: list[int], methods: list[str],
           one_seed_above: int = 1000) -> list[Cell]:
    return [Cell(d, n, s, m) for d in datasets for n in sizes for s in seeds_for(n, seeds, one_seed_above)
            for m in methods]


def sweep_cells(seeds: list[int], datasets=SWEEP_DATASETS, n: int = SWEEP_N) -> list[Cell]:
    """The sweep's settings, with the default and full fine-tuning beside them on the same samples."""
    return [Cell(d, n, s, m) for d in datasets for s in seeds for m in ("default", "full", *SWEEP)]


def cost(cell: Cell) -> float:
    return COST_PER_ROW.get(cell.method, 2.0) * cell.n


def order(cells: list[Cell]) -> list[Cell]:
    """Cheap cells first; at equal cost the first seed of everything before the others."""
    return sorted(cells, key=lambda c: (cost(c), c.seed, c.dataset, c.method))


# --- cells done ------------------------------------------------------------------------------
RETRYABLE = ("failed", "timed out")


def load_records(path: str | Path) -> dict[str, dict]:
    """The records of a results file by key; a later line for a key replaces an earlier one. A line cut short
    by an interrupted run is ignored."""
    out: dict[str, dict] = {}
    path = Path(path)
    if not path.exists():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and "key" in record:
            out[record["key"]] = record
    return out


def pending(cells: list[Cell], done: dict[str, dict], retry_failed: bool = False) -> list[Cell]:
    def needed(c: Cell) -> bool:
        r = done.get(c.key)
        return r is None or (retry_failed and r.get("status") in RETRYABLE)
    return [c for c in cells if needed(c)]


def changed_samples(records, samples: dict) -> list[str]:
    """(data set, N, seed) whose training file, written again now, differs from the one recorded cells used."""
    changed = {f"{r['dataset']} N={r['n']} seed {r['seed']}" for r in records
               if (key := (r["dataset"], r["n"], r["seed"])) in samples and r.get("train_sha1")
               and r["train_sha1"] != samples[key]["train_sha1"]}
    return sorted(changed)


# --- one cell's figures ----------------------------------------------------------------------
def prediction_stats(y_true: list[str], y_pred: list[str]) -> dict:
    """Accuracy and macro-F1 (seed_recipe.py's formula), how many labels were predicted, and whether only one."""
    s = scores(y_true, y_pred, sorted(set(y_true) | set(y_pred)))
    distinct = len(set(y_pred))
    return {**s, "distinct_predicted": distinct, "single_label": distinct == 1 and len(set(y_true)) > 1}


def looks_single_label(accuracy: float, macro_f1: float, test_labels: list[str], tol: float = 6e-5) -> bool:
    """Whether figures that come without predictions (the textbook recipe prints only scores, rounded to four
    places) are those of a model answering one class c for every row: accuracy n_c / N and macro-F1
    (2 n_c / (n_c + N)) / K, where K counts the classes."""
    counts = Counter(test_labels)
    total, k = len(test_labels), len(counts)
    for n_c in counts.values():
        if abs(accuracy - n_c / total) <= tol and abs(macro_f1 - 2 * n_c / (n_c + total) / k) <= tol:
            return True
    return False


def chosen_method(method: str | None, freeze_layers: int | None = None) -> str | None:
    """How a run's method reads in the report: "head only" for freezing every layer."""
    if not method:
        return None
    if method == "freeze":
        return "head only" if (freeze_layers or 0) < 0 else f"freeze {freeze_layers}"
    return method


# --- aggregation over seeds ------------------------------------------------------------------
@dataclass
class Summary:
    dataset: str
    n: int
    method: str
    f1: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    train_seconds: list[float] = field(default_factory=list)
    single_label: int = 0            # runs that answered one label for every test row
    statuses: Counter = field(default_factory=Counter)
    chosen: Counter = field(default_factory=Counter)  # what Auto chose, over the runs
    errors: list[str] = field(default_factory=list)

    @property
    def runs(self) -> int:
        return len(self.f1)

    @property
    def f1_mean(self) -> float | None:
        return statistics.fmean(self.f1) if self.f1 else None

    @property
    def f1_std(self) -> float | None:
        return statistics.stdev(self.f1) if len(self.f1) >= 2 else None

    @property
    def accuracy_mean(self) -> float | None:
        return statistics.fmean(self.accuracy) if self.accuracy else None

    @property
    def train_seconds_mean(self) -> float | None:
        return statistics.fmean(self.train_seconds) if self.train_seconds else None

    def to_dict(self) -> dict:
        return {"dataset": self.dataset, "n": self.n, "method": self.method, "runs": self.runs,
                "macro_f1_mean": self.f1_mean, "macro_f1_std": self.f1_std,
                "macro_f1_min": min(self.f1) if self.f1 else None, "macro_f1_max": max(self.f1) if self.f1 else None,
                "accuracy_mean": self.accuracy_mean, "train_seconds_mean": self.train_seconds_mean,
                "single_label_runs": self.single_label, "statuses": dict(self.statuses), "chosen": dict(self.chosen),
                "errors": self.errors}


def summarize(records: list[dict]) -> dict[tuple[str, int, str], Summary]:
    out: dict[tuple[str, int, str], Summary] = {}
    for r in records:
        key = (r["dataset"], r["n"], r["method"])
        s = out.setdefault(key, Summary(*key))
        s.statuses[r.get("status", "failed")] += 1
        if r.get("status") != "ok":
            if r.get("status") in RETRYABLE and r.get("error"):
                s.errors.append(r["error"])
            continue
        s.f1.append(r["macro_f1"])
        s.accuracy.append(r["accuracy"])
        if r.get("train_seconds") is not None:
            s.train_seconds.append(r["train_seconds"])
        s.single_label += bool(r.get("single_label"))
        if r.get("chosen"):
            s.chosen[r["chosen"]] += 1
    return out


# --- the done-when verdict -------------------------------------------------------------------
CHEAP_SLACK = 0.005  # the default may trail the best cheap baseline by half a point


@dataclass
class Check:
    what: str
    margin: float | None     # above (+) or below (-) the threshold, in macro-F1 units (0.01 = one point)
    met: bool | None         # None: not judged, a figure is missing
    detail: str = ""


@dataclass
class Verdict:
    dataset: str
    n: int
    status: str              # "pass", "FAIL" or "incomplete"
    checks: list[Check]
    missing: list[str]

    def line(self) -> str:
        parts = [f"{c.what}: {c.detail or 'n/a'}{'' if c.met is None else (' ok' if c.met else ' FAILS')}"
                 for c in self.checks]
        missing = f"; no results for {', '.join(self.missing)}" if self.missing else ""
        return f"{self.dataset} N={self.n:,}: {self.status} ({'; '.join(parts)}{missing})"

    def to_dict(self) -> dict:
        return {"dataset": self.dataset, "n": self.n, "status": self.status, "missing": self.missing,
                "checks": [vars(c) for c in self.checks]}


def verdict(summaries: dict, dataset: str, n: int) -> Verdict:
    """The default's mean macro-F1 >= the best cheap baseline's - 0.5 point, >= the textbook's, no run single-label."""
    def mean(method):
        s = summaries.get((dataset, n, method))
        return s.f1_mean if s and s.runs else None
    d = mean("default")
    cheap = {m: mean(m) for m in CHEAP if mean(m) is not None}
    textbook = mean("textbook")
    checks = []
    if cheap:
        best = max(cheap, key=cheap.get)
        margin = None if d is None else d - (cheap[best] - CHEAP_SLACK)
        checks.append(Check(f">= {best} - 0.5", margin, None if margin is None else margin >= 0,
                            "" if margin is None else f"{pts(d)} vs {pts(cheap[best])}, margin {100 * margin:+.1f} pts"))
    else:
        checks.append(Check(">= best cheap baseline - 0.5", None, None))
    margin = None if d is None or textbook is None else d - textbook
    checks.append(Check(">= textbook", margin, None if margin is None else margin >= 0,
                        "" if margin is None else f"{pts(d)} vs {pts(textbook)}, margin {100 * margin:+.1f} pts"))
    default = summaries.get((dataset, n, "default"))
    if default and default.runs:
        singles = default.single_label
        checks.append(Check("no single-label run", None, singles == 0, f"{singles} of {default.runs} runs"))
    else:
        checks.append(Check("no single-label run", None, None))
    if any(c.met is False for c in checks):
        status = "FAIL"
    elif any(c.met is None for c in checks):
        status = "incomplete"
    else:
        status = "pass"
    missing = [m for m in ("default", *CHEAP, "textbook") if mean(m) is None]
    return Verdict(dataset, n, status, checks, missing)


def verdicts(summaries: dict) -> list[Verdict]:
    cells = sorted({(d, n) for d, n, m in summaries if m == "default"}, key=lambda x: (dataset_rank(x[0]), x[1]))
    return [verdict(summaries, d, n) for d, n in cells]


def dataset_rank(name: str) -> int:
    names = list(DATASETS)
    return names.index(name) if name in names else len(names)


# --- the report ------------------------------------------------------------------------------
def pts(x: float | None, places: int = 1) -> str:
    return "n/a" if x is None else f"{100 * x:.{places}f}"


def cell_text(s: Summary | None) -> str:
    """mean macro-F1 x100 ± std over seeds (accuracy %), with single-label runs and failures marked."""
    if s is None:
        return "-"
    if not s.runs:
        return "not installed" if s.statuses.get("not installed") else \
            ", ".join(f"{k} x{v}" if v > 1 else k for k, v in s.statuses.items())
    spread = f" ± {pts(s.f1_std)}" if s.f1_std is not None else ""
    text = f"{pts(s.f1_mean)}{spread} ({pts(s.accuracy_mean)}%)"
    if s.single_label:
        text += f" **{s.single_label}/{s.runs} single-label**"
    lost = sum(v for k, v in s.statuses.items() if k != "ok")
    if lost:
        text += f" [{lost} failed]"
    return text


def delta_text(a: float | None, b: float | None) -> str:
    return "n/a" if a is None or b is None else f"{100 * (a - b):+.1f}"


def auto_text(s: Summary | None) -> str:
    if s is None or not s.chosen:
        return "-"
    return ", ".join(f"{k} ({v}/{s.runs})" if v != s.runs else k for k, v in s.chosen.most_common())


def dataset_table(summaries: dict, dataset: str, methods: list[str]) -> tuple[list[str], list[list[str]]]:
    sizes = sorted({n for d, n, m in summaries if d == dataset and m in methods})
    header = ["N", *methods, "default - best cheap", "default - textbook", "default training s", "Auto chose"]
    rows = []
    for n in sizes:
        get = lambda m: summaries.get((dataset, n, m))  # noqa: E731
        default = get("default")
        d = default.f1_mean if default else None
        cheap = [s.f1_mean for m in CHEAP if (s := get(m)) and s.runs]
        textbook = get("textbook")
        rows.append([f"{n:,}", *[cell_text(get(m)) for m in methods], delta_text(d, max(cheap) if cheap else None),
                     delta_text(d, textbook.f1_mean if textbook else None),
                     fmt(default.train_seconds_mean if default else None, "{:.0f}"), auto_text(default)])
    return header, rows


def method_columns(summaries: dict, dataset: str) -> list[str]:
    """The methods that have a record for this data set, in the grid's order; those never installed are left out
    (the report says so once)."""
    present = {m for d, n, m in summaries if d == dataset and not m.startswith("sweep:")}
    cols = [m for m in METHODS if m in present] + sorted(present - set(METHODS))
    return [m for m in cols if not all_not_installed(summaries, m)]


def all_not_installed(summaries: dict, method: str) -> bool:
    mine = [s for (d, n, m), s in summaries.items() if m == method]
    return bool(mine) and all(set(s.statuses) == {"not installed"} for s in mine)


SWEEP_LABELS = {"default": "default (Auto)", "full": "full (balanced preset: lr x1, 6 epochs)"}


def sweep_table(summaries: dict) -> tuple[list[str], list[list[str]], list[str]] | None:
    """Rows: default, full and the sweep's settings; a column per sweep data set at N=1000; the best per data set."""
    def at(d, m):
        return summaries.get((d, SWEEP_N, m))
    datasets = [d for d in SWEEP_DATASETS if any(at(d, m) for m in SWEEP)]
    if not datasets:
        return None
    names = [m for m in ("default", "full", *SWEEP) if any(at(d, m) for d in datasets)]
    header = ["setting", *[f"{d} (N={SWEEP_N:,})" for d in datasets]]
    rows = [[SWEEP_LABELS.get(m, m.removeprefix("sweep: ")), *[cell_text(at(d, m)) for d in datasets]] for m in names]
    best = []
    for d in datasets:
        scored = {m: s.f1_mean for m in names if (s := at(d, m)) and s.runs}
        if not scored:
            continue
        top = max(scored, key=scored.get)
        default = scored.get("default")
        best.append(f"{d}: best setting {SWEEP_LABELS.get(top, top.removeprefix('sweep: '))} at {pts(scored[top])} "
                    f"macro-F1; the default {pts(default)} ({delta_text(default, scored[top])} against the best).")
    return header, rows, best


def render_markdown(records: list[dict], meta: dict | None = None, png: dict[str, str] | None = None,
                    png_note: str | None = None) -> str:
    summaries = summarize(records)
    meta = meta or {}
    out = ["# Learning quality: the studio's default against what a user would pick instead", ""]
    if meta.get("quick"):
        out += ["QUICK MODE: one data set, one small sample, the studio's epochs capped; this checks that the "
                "benchmark works and says nothing about learning quality.", ""]
    out += [f"- {line}" for line in header_lines(meta, records)] + [""]
    out += ["Cells: mean macro-F1 x100 ± its standard deviation over the seeds (mean accuracy %). "
            "**k/n single-label**: k of the n runs answered one label for every test row. "
            "`default - best cheap`: against the better of tfidf_lr and embed_lr, in macro-F1 points.", ""]
    for dataset in sorted({r["dataset"] for r in records}, key=dataset_rank):
        methods = method_columns(summaries, dataset)
        if not methods:
            continue
        header, rows = dataset_table(summaries, dataset, methods)
        out += [f"## {dataset}", "", dataset_note(records, dataset), "", markdown_table(header, rows), ""]
        if png and dataset in png:
            out += [f"![{dataset}: macro-F1 against training rows]({png[dataset]})", ""]
        notes = dataset_notes(records, summaries, dataset)
        out += [f"- {line}" for line in notes] + ([""] if notes else [])
    not_installed = sorted({m for (d, n, m) in summaries if all_not_installed(summaries, m)})
    if not_installed:
        out += [f"Not installed in the measuring environment, so left out of the tables: {', '.join(not_installed)}.", ""]
    if png_note:
        out += [png_note, ""]
    sweep = sweep_table(summaries)
    if sweep:
        header, rows, best = sweep
        out += ["## The studio's own knobs (N=1,000)", "",
                "One setting changed at a time away from full fine-tuning with the balanced preset; the same samples "
                "and test sets as the grid.", "", markdown_table(header, rows), ""] + [f"- {b}" for b in best] + [""]
    found = verdicts(summaries)
    if found:
        out += ["## Done when", "",
                "The default's mean macro-F1 is at least the best cheap baseline's minus 0.5 point and at least the "
                "textbook recipe's, and no run of the default answers a single label.", ""]
        out += [f"- {v.line()}" for v in found] + [""]
    return "\n".join(out).rstrip() + "\n"


def header_lines(meta: dict, records: list[dict]) -> list[str]:
    m = meta.get("machine") or {}
    lines = []
    if m:
        lines.append(f"Machine: {m.get('cpu')}, {m.get('cores')} usable cores; {m.get('jobs')} cells at a time, "
                     f"{m.get('threads')} thread(s) each; torch {m.get('torch')}, transformers {m.get('transformers')}, "
                     f"scikit-learn {m.get('sklearn')}, python {m.get('python')}")
    if meta.get("date"):
        lines.append(f"Date: {meta['date']}")
    if meta.get("command"):
        lines.append(f"Command: {meta['command']}")
    commits = sorted({r.get("studio_commit") for r in records if r.get("studio_commit")})
    if commits:
        lines.append(f"Studio commit(s) measured: {', '.join(commits)}")
    lines.append("Model: the bundled all-MiniLM-L6-v2 for every neural method; CPU only.")
    return lines


def dataset_note(records: list[dict], dataset: str) -> str:
    mine = [r for r in records if r["dataset"] == dataset and r.get("test_rows")]
    ds = DATASETS.get(dataset)
    test = mine[0]["test_rows"] if mine else None
    classes = mine[0].get("classes") if mine else None
    where = (f"a fixed stratified hold-out of {ds.train} (seed {TEST_SEED}), never sampled for training"
             if ds and ds.test is None else f"{ds.test}" if ds else "?")
    cap = f" (a fixed stratified sample of it, seed {TEST_SEED})" if ds and ds.test and test == TEST_CAP else ""
    return f"{fmt(classes, '{}')} classes; test set: {fmt(test, '{:,}')} rows of {where}{cap}."


def dataset_notes(records: list[dict], summaries: dict, dataset: str) -> list[str]:
    notes = []
    autos = Counter(n for r in records if r["dataset"] == dataset and r["method"] in STUDIO_METHODS
                    for n in r.get("notes") or [] if n.startswith("Auto"))
    for note, count in autos.most_common(4):
        notes.append(f"The studio said ({count} run{'s' if count > 1 else ''}): \"{note}\"")
    for (d, n, m), s in sorted(summaries.items(), key=lambda kv: (kv[0][1], kv[0][2])):
        if d == dataset and s.errors:
            notes.append(f"{m} at N={n:,}: {len(s.errors)} run(s) failed, e.g.: {s.errors[0][:300]}")
    textbook = [s for (d, n, m), s in summaries.items() if d == dataset and m == "textbook" and s.runs]
    if textbook:
        notes.append("textbook: seed_recipe.py prints scores only; its single-label mark is inferred from them "
                     "(accuracy and macro-F1 both exactly those of one class answered everywhere).")
    return notes


def curve(summaries: dict, dataset: str, method: str) -> tuple[list[int], list[float], list[float]]:
    """Points of one learning curve: N, mean macro-F1 x100, std x100 (0 with one seed)."""
    points = sorted((n, s) for (d, n, m), s in summaries.items() if d == dataset and m == method and s.runs)
    return ([n for n, _ in points], [100 * s.f1_mean for _, s in points],
            [100 * (s.f1_std or 0.0) for _, s in points])
