"""How well the studio learns at the sizes its users have, against what a user would pick instead; one command.

    python bench/quality.py [--out bench/out/quality] [--datasets sst2,...] [--sizes 100,200,500,1000,3000]
                            [--seeds 1,2,3] [--methods default,...] [--jobs 2] [--timeout S] [--retry-failed]
    python bench/quality.py --render        # measure nothing: the report of the results so far
    python bench/quality.py --check         # measure nothing: the done-when verdict per (data set, N)
    python bench/quality.py --sweep         # the studio's own knobs at N=1000 on sst2 and banking77
    python bench/quality.py --quick --out /tmp/quality-quick   # the whole path on one tiny cell, about a minute

A cell is one (data set, N, seed, method). For each (data set, N, seed) one stratified training sample is
written in the data set's own format; every method trains on that file and is scored on the data set's fixed
test set. Each cell runs in a child process of its own (the studio through bench/worker.py train, the textbook
recipe as ../shared/bench/seed_recipe.py, the baselines through bench/worker.py baseline), --jobs at a time,
each on its share of the cores. Results are appended to OUT/cells.jsonl as cells finish; a rerun skips the
cells already there. See bench/QUALITY.md.
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import importlib.util
import json
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import harness  # noqa: E402
import quality_core as core  # noqa: E402
from run import SEED_RECIPE, SHARED, result_line, run_measured, snapshot, tail  # noqa: E402

BUNDLED_KEY = "all-MiniLM-L6-v2"   # the catalog key a new user starts with
SIZES = "100,200,500,1000,3000"


def log(message: str) -> None:
    print(f"[quality {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- what to run ---------------------------------------------------------------------------------
def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=None, help="working folder: samples, runs, logs, cells.jsonl "
                   "(default bench/out/quality; with --quick bench/out/quality-quick)")
    p.add_argument("--results", default=None, help="where quality.md, quality.json and the PNGs go "
                   "(default bench/results; with --quick the --out folder)")
    p.add_argument("--datasets", default=None, help=f"comma-separated, from {', '.join(core.DATASETS)} (default: all; "
                   f"with --sweep {', '.join(core.SWEEP_DATASETS)})")
    p.add_argument("--sizes", default=SIZES, help="training rows per sample")
    p.add_argument("--seeds", default="1,2,3", help="sample seeds (also the studio's and the baselines' seed)")
    p.add_argument("--one-seed-above", type=int, default=1000,
                   help="above this many training rows only the first seed runs (0: every seed everywhere)")
    p.add_argument("--methods", default=",".join(core.METHODS), help="comma-separated, from " + ", ".join(core.METHODS))
    p.add_argument("--jobs", type=int, default=2, help="cells run at the same time")
    p.add_argument("--threads", type=int, default=0, help="threads per cell (default: the usable cores / --jobs)")
    p.add_argument("--timeout", type=float, default=3 * 3600, help="seconds one cell may run")
    p.add_argument("--retry-failed", action="store_true", help="run again the cells recorded as failed or timed out")
    p.add_argument("--studio-epochs", type=float, default=None, help="the studio's epochs, overriding the preset's")
    p.add_argument("--sweep", action="store_true", help="the studio's own knobs at N=1000 instead of the grid")
    p.add_argument("--settings", default=None, help="with --sweep, only these settings (comma-separated names "
                   "from " + "; ".join(core.SWEEP) + ")")
    p.add_argument("--render", action="store_true", help="measure nothing: write the report of the results so far")
    p.add_argument("--check", action="store_true", help="measure nothing: print the done-when verdicts; "
                   "exit 1 when one fails (a run exits 1 when one of its cells failed)")
    p.add_argument("--list", action="store_true", help="measure nothing: print the cells still to run, in order")
    p.add_argument("--quick", action="store_true", help="trec, N=100, seed 1, tfidf_lr + embed_lr + default with "
                   "the studio's epochs capped: checks the benchmark end to end in about a minute")
    a = p.parse_args(argv)
    if a.quick:
        a.datasets, a.sizes, a.seeds = a.datasets or "trec", "100", "1"
        a.methods = "tfidf_lr,embed_lr,default"
        a.studio_epochs = a.studio_epochs or 1
        a.timeout = min(a.timeout, 900)
    a.out = Path(a.out or HERE / "out" / ("quality-quick" if a.quick else "quality"))
    a.results = Path(a.results or (a.out if a.quick else HERE / "results"))
    a.sizes, a.seeds = core.parse_list(a.sizes, int), core.parse_list(a.seeds, int)
    a.methods = core.parse_list(a.methods)
    default_sets = core.SWEEP_DATASETS if a.sweep else tuple(core.DATASETS)
    a.datasets = core.parse_list(a.datasets) if a.datasets else list(default_sets)
    unknown = [d for d in a.datasets if d not in core.DATASETS] + [m for m in a.methods if m not in core.METHODS]
    if unknown:
        p.error(f"unknown data set or method: {', '.join(unknown)}")
    if not a.sizes or not a.seeds:
        p.error("--sizes and --seeds need at least one number each")
    a.threads = a.threads or max(1, harness.usable_cores() // max(1, a.jobs))
    return a


def results_file(a) -> Path:
    return a.out / ("cells-quick.jsonl" if a.quick else "cells.jsonl")


def plan(a) -> list[core.Cell]:
    if a.sweep:
        cells = core.sweep_cells(a.seeds, [d for d in a.datasets if d in core.SWEEP_DATASETS])
        chosen = core.parse_list(a.settings) if a.settings else None
        return [c for c in cells if chosen is None or c.method in chosen or not c.method.startswith("sweep:")]
    return core.expand(a.datasets, a.sizes, a.seeds, a.methods, a.one_seed_above)


# --- data ----------------------------------------------------------------------------------------
def read_source(ds: core.DataSet, path: Path) -> core.Table:
    if not ds.studio_reader:
        return core.read_table(path, ds.fmt)
    from studio import data
    examples, *_ = data.read_examples(path, ds.text, ds.label, ds.fmt.encoding)
    return core.Table([ds.label, ds.text], [[y, x] for x, y in zip(examples.texts, examples.labels)], ds.fmt)


def load_pool(name: str) -> core.Pool:
    ds = core.DATASETS[name]
    root = SHARED / "datasets"
    return core.make_pool(ds, read_source(ds, root / ds.train), read_source(ds, root / ds.test) if ds.test else None)


def write_samples(pool: core.Pool, wanted: set[tuple[int, int]], work: Path) -> dict[tuple[int, int], dict]:
    """The test file and one training file per (N, seed), in the data set's format; what every method is given."""
    ds = pool.ds
    folder = work / "data" / ds.name
    folder.mkdir(parents=True, exist_ok=True)
    test_file = core.write_table(folder / f"test{ds.suffix}", pool.test)
    test_labels = pool.test.column(ds.label)
    out = {}
    for n, seed in sorted(wanted):
        index = core.sample_indices(pool, n, seed)
        sample = folder / core.sample_name(n, seed)
        sample.mkdir(exist_ok=True)
        train_file = core.write_table(sample / f"train{ds.suffix}", pool.source.take(index))
        out[(n, seed)] = {"train_file": str(train_file), "test_file": str(test_file), "train_rows": len(index),
                          "test_rows": len(test_labels), "classes": len(set(test_labels)),
                          "train_sha1": hashlib.sha1(train_file.read_bytes()).hexdigest()[:12],
                          "test_labels": test_labels}
    return out


# --- one cell ------------------------------------------------------------------------------------
class Context:
    """What every cell of one invocation shares."""

    def __init__(self, a, samples: dict, commit: str):
        self.a, self.samples, self.commit = a, samples, commit
        self._model: str | None = None
        self._lock = threading.Lock()

    def model_path(self) -> str:
        with self._lock:
            if self._model is None:
                from studio import models
                self._model = models.bundled_model_path()
            return self._model

    def env(self) -> dict:
        n = str(self.a.threads)
        return {"CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": n, "MKL_NUM_THREADS": n}


def run_cell(cell: core.Cell, ctx: Context) -> dict:
    sample = ctx.samples[(cell.dataset, cell.n, cell.seed)]
    record = {"key": cell.key, "dataset": cell.dataset, "n": cell.n, "seed": cell.seed, "method": cell.method,
              **{k: v for k, v in sample.items() if k != "test_labels"}, "studio_commit": ctx.commit,
              "threads": ctx.a.threads, "finished": None}
    if cell.method == "setfit" and importlib.util.find_spec("setfit") is None:
        return {**record, "status": "not installed", "error": "setfit is not installed in this Python environment."}
    folder = ctx.a.out / "runs" / cell.dataset / core.sample_name(cell.n, cell.seed) / cell.slug
    folder.mkdir(parents=True, exist_ok=True)
    logs = ctx.a.out / "logs" / cell.dataset / f"{core.sample_name(cell.n, cell.seed)}-{cell.slug}.log"
    if cell.method == "textbook":
        record.update(run_textbook(cell, sample, ctx, logs))
    elif cell.method in core.BASELINES:
        record.update(run_baseline(cell, sample, ctx, folder, logs))
    else:
        record.update(run_studio(cell, sample, ctx, folder, logs))
    record["finished"] = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    return record


def failure(m: dict) -> dict:
    """The child's last words first (the exception's line), then the exit status and the end of its stderr."""
    status = "timed out" if m["timed_out"] else "failed"
    lines = tail(m["log"], 8).split(" | ")
    last = next((line.strip() for line in reversed(lines) if line.strip()), "")
    how = f"after {m['wall_s']:.0f} s, over the --timeout" if m["timed_out"] else f"exit {m['returncode']}"
    return {"status": status, "error": f"{last} ({how}; log {m['log']})", "stderr_tail": " | ".join(lines)}


def measured(m: dict) -> dict:
    return {"process_wall_s": round(m["wall_s"], 2), "peak_rss_mb": round(m["peak_rss_mb"]), "log": m["log"],
            "load_average": m["load_average"]}


def studio_config(cell: core.Cell, sample: dict, a) -> dict:
    """What a new user gets: presets.build_config with the bundled model, on the CPU; a sweep setting changes one knob."""
    from studio import presets
    from studio.config import DataConfig
    ds = core.DATASETS[cell.dataset]
    data = DataConfig(train_file=sample["train_file"], test_file=sample["test_file"], text_column=ds.text,
                      label_column=ds.label)
    if cell.method in core.STUDIO_METHODS:
        method, preset = core.STUDIO_METHODS[cell.method]
        knobs: dict = {}
    else:
        knobs, preset = core.SWEEP[cell.method], "balanced"
        method = knobs["method"]
    overrides = {}
    if "lr_factor" in knobs:
        base = presets.preset_settings(preset, 384, method, 0, "cpu").learning_rate
        overrides["learning_rate"] = base * knobs["lr_factor"]
    if "epochs" in knobs:
        overrides["epochs"] = knobs["epochs"]
    if a.studio_epochs:
        overrides["epochs"] = a.studio_epochs
    config = presets.build_config(data, model_name=BUNDLED_KEY, method=method, preset=preset, device_type="cpu",
                                  freeze_layers=knobs.get("freeze_layers", 0), overrides=overrides)
    config.train.device = "cpu"
    config.train.seed = cell.seed
    return config.validate().to_dict()


def run_studio(cell: core.Cell, sample: dict, ctx: Context, folder: Path, logs: Path) -> dict:
    try:
        cfg = studio_config(cell, sample, ctx.a)
    except ValueError as err:
        return {"status": "failed", "error": f"The configuration was refused: {err}"}
    (folder / "config.json").write_text(json.dumps(cfg, indent=2))
    cmd = [sys.executable, HERE / "worker.py", "train", folder / "config.json", folder / "out",
           "--threads", str(ctx.a.threads)]
    m = run_measured(cmd, logs, env=ctx.env(), timeout=ctx.a.timeout)
    out = result_line(m["lines"])
    shutil.rmtree(folder / "out" / "model", ignore_errors=True)  # ~90 MB a run; the predictions stay
    if not out or "accuracy" not in out:
        return {**failure(m), **measured(m)}
    predictions = [json.loads(line) for line in
                   (folder / "out" / "predictions.jsonl").read_text(encoding="utf-8").splitlines()]
    stats = core.prediction_stats([p["label"] for p in predictions], [p["predicted"] for p in predictions])
    t = cfg["train"]
    return {"status": "ok", "accuracy": out["accuracy"], "macro_f1": out["macro_f1"],
            "train_seconds": out["train_seconds"], "distinct_predicted": stats["distinct_predicted"],
            "single_label": stats["single_label"], "notes": out.get("notes") or [],
            "chosen": core.chosen_method(out.get("method"), out.get("freeze_layers")),
            "steps": out.get("steps"), "epochs_done": out.get("epochs_done"), "best_step": out.get("best_step"),
            "batch_size": out.get("batch_size"), "learning_rate": out.get("learning_rate"),
            "validation_rows": out.get("validation_rows"),
            "evals": [{k: e[k] for k in ("step", "loss", "accuracy", "macro_f1")} for e in out.get("evals") or []],
            "config": {"method": cfg["model"]["method"], "freeze_layers": cfg["model"]["freeze_layers"],
                       "preset": t["preset"], "epochs": t["epochs"], "learning_rate": t["learning_rate"],
                       "batch_size": t["batch_size"], "seed": t["seed"]},
            **measured(m)}


def textbook_command(cell: core.Cell, sample: dict, model: str) -> list:
    """seed_recipe.py as it is, on the cell's files; only told how to read them."""
    ds = core.DATASETS[cell.dataset]
    return [sys.executable, SEED_RECIPE, model, sample["train_file"], sample["test_file"], ds.text, ds.label,
            *core.seed_recipe_args(ds)]


def run_textbook(cell: core.Cell, sample: dict, ctx: Context, logs: Path) -> dict:
    m = run_measured(textbook_command(cell, sample, ctx.model_path()), logs, env=ctx.env(), timeout=ctx.a.timeout)
    out = None
    for _, line in reversed(m["lines"]):
        if line.startswith("{") and '"recipe"' in line:
            out = json.loads(line)
            break
    if out is None:
        return {**failure(m), **measured(m)}
    acc, f1 = out["eval_accuracy"], out["eval_macro_f1"]
    return {"status": "ok", "accuracy": acc, "macro_f1": f1, "train_seconds": out["train_wall_s"],
            "distinct_predicted": None, "single_label": core.looks_single_label(acc, f1, sample["test_labels"]),
            "steps": out["steps"], **measured(m)}


def baseline_spec(cell: core.Cell, sample: dict, model: str, out: Path, folder: Path) -> dict:
    """What bench/worker.py baseline reads: the cell's files, its seed, the model, the data set's vector cache."""
    return {"method": cell.method, "dataset": cell.dataset, "seed": cell.seed, "train_file": sample["train_file"],
            "test_file": sample["test_file"], "out_dir": str(folder), "model": model,
            "cache": str(out / "embeddings" / cell.dataset)}


def run_baseline(cell: core.Cell, sample: dict, ctx: Context, folder: Path, logs: Path) -> dict:
    spec = baseline_spec(cell, sample, ctx.model_path(), ctx.a.out, folder)
    (folder / "spec.json").write_text(json.dumps(spec, indent=2))
    cmd = [sys.executable, HERE / "worker.py", "baseline", folder / "spec.json", "--threads", str(ctx.a.threads)]
    m = run_measured(cmd, logs, env=ctx.env(), timeout=ctx.a.timeout)
    out = result_line(m["lines"])
    if not out:
        return {**failure(m), **measured(m)}
    return {"status": "ok", **{k: out[k] for k in ("accuracy", "macro_f1", "train_seconds", "distinct_predicted",
                                                   "single_label")},
            **{k: out[k] for k in ("C", "cv", "cv_macro_f1", "embed_seconds") if k in out}, **measured(m)}


def brief(r: dict) -> str:
    where = f"{r['dataset']} N={r['n']:,} seed {r['seed']} {r['method']}"
    if r.get("status") != "ok":
        return f"{where}: {r.get('status', 'failed').upper()} {(r.get('error') or '')[:200]}"
    flag = " SINGLE LABEL" if r.get("single_label") else ""
    chose = f" (chose {r['chosen']})" if r.get("chosen") and r["method"] in core.STUDIO_METHODS else ""
    return (f"{where}: macro-F1 {100 * r['macro_f1']:.1f}, accuracy {100 * r['accuracy']:.1f}%, "
            f"{harness.fmt(r.get('train_seconds'), '{:.1f}')} s training{chose}{flag}")


# --- the grid ------------------------------------------------------------------------------------
def run_cells(todo: list[core.Cell], ctx: Context, path: Path) -> list[dict]:
    """--jobs cells at a time, in the given order; each record is appended the moment its cell finishes."""
    records = []
    with ThreadPoolExecutor(max_workers=ctx.a.jobs) as pool:
        futures = {pool.submit(run_cell, cell, ctx): cell for cell in todo}
        try:
            for k, future in enumerate(as_completed(futures), 1):
                cell = futures[future]
                try:
                    record = future.result()
                except Exception as err:  # a broken cell is recorded, the grid goes on
                    record = {"key": cell.key, "dataset": cell.dataset, "n": cell.n, "seed": cell.seed,
                              "method": cell.method, "status": "failed", "error": f"{type(err).__name__}: {err}"}
                with open(path, "a", encoding="utf-8") as f:
                    f.write(json.dumps(record) + "\n")
                records.append(record)
                log(f"{k}/{len(todo)} {brief(record)}")
        except KeyboardInterrupt:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return records


def studio_commit() -> str | None:
    """The measured studio's commit, +changes when its files differ from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "studio"], cwd=ROOT, capture_output=True,
                               text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+changes" if dirty else "")


def machine(a) -> dict:
    from importlib.metadata import PackageNotFoundError, version

    def v(package):
        try:
            return version(package)
        except PackageNotFoundError:
            return None
    return {"cpu": harness.cpu_model(), "cores": harness.usable_cores(), "jobs": a.jobs, "threads": a.threads,
            "torch": v("torch"), "transformers": v("transformers"), "sklearn": v("scikit-learn"),
            "python": sys.version.split()[0]}


# --- the report ----------------------------------------------------------------------------------
def png_blocker() -> str | None:
    """Why the plots cannot be photographed here, or None."""
    if importlib.util.find_spec("playwright") is None:
        return "Playwright is not installed"
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        return "no Chromium on this machine (the Debian package puts it at /usr/bin/chromium)"
    return None


def plots(records: list[dict], out: Path, results: Path) -> tuple[dict[str, str], str | None]:
    """A learning curve per data set as HTML in `out` and, where Chromium is at hand, as a PNG in `results`."""
    try:
        import plotly.graph_objects as go
    except ImportError:
        return {}, "plotly is not installed: no plots."
    summaries = core.summarize(records)
    blocker = png_blocker()
    pngs = {}
    for dataset in sorted({r["dataset"] for r in records}, key=core.dataset_rank):
        fig = go.Figure()
        sizes = set()
        for method in core.method_columns(summaries, dataset):
            xs, ys, errs = core.curve(summaries, dataset, method)
            if xs:
                sizes.update(xs)
                fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", name=method,
                                         error_y={"type": "data", "array": errs, "visible": True},
                                         line={"width": 3 if method == "default" else 1.5}))
        if not sizes:
            continue
        fig.update_xaxes(type="log", title_text="training rows (N, log scale)", tickvals=sorted(sizes))
        fig.update_yaxes(title_text="test macro-F1 x100 (error bars: std over seeds)")
        fig.update_layout(title=f"{dataset}: learning curves", width=1100, height=650)
        html = out / f"quality-{dataset}.html"
        fig.write_html(html, include_plotlyjs="directory")
        png = results / f"quality-{dataset}.png"
        if blocker is None and snapshot(html, png):
            pngs[dataset] = png.name
    note = None
    if not pngs and blocker:
        note = f"Learning-curve PNGs skipped: {blocker}; the curves are in {out}/quality-<data set>.html."
    return pngs, note


def read_meta(a) -> dict:
    path = a.out / ("meta-quick.json" if a.quick else "meta.json")
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"quick": a.quick}


def write_report(a) -> list[dict]:
    records = list(core.load_records(results_file(a)).values())
    if not records:
        log(f"no results in {results_file(a)} yet: nothing to render")
        return []
    a.results.mkdir(parents=True, exist_ok=True)
    meta = read_meta(a)
    pngs, note = plots(records, a.out, a.results)
    md = core.render_markdown(records, meta, pngs, note)
    (a.results / "quality.md").write_text(md, encoding="utf-8")
    summaries = core.summarize(records)
    raw = {"meta": meta, "records": sorted(records, key=lambda r: r["key"]),
           "summaries": [s.to_dict() for s in summaries.values()],
           "verdicts": [v.to_dict() for v in core.verdicts(summaries)]}
    (a.results / "quality.json").write_text(json.dumps(raw, indent=2), encoding="utf-8")
    log(f"wrote {a.results / 'quality.md'} and quality.json" + (f", {len(pngs)} PNG(s)" if pngs else "")
        + (f"; {note}" if note else ""))
    return records


def print_verdicts(records: list[dict]) -> int:
    """The verdict per (data set, N) on stdout; 1 when one fails."""
    found = core.verdicts(core.summarize(records))
    if not found:
        print("No results of the default yet: nothing to judge.")
        return 0
    for v in found:
        print(v.line())
    failing = [v for v in found if v.status == "FAIL"]
    print(f"\n{sum(v.status == 'pass' for v in found)} pass, {len(failing)} fail, "
          f"{sum(v.status == 'incomplete' for v in found)} incomplete of {len(found)}.")
    if failing:
        print("Failing:")
        for v in failing:
            print("  " + ", ".join([f"{v.dataset} N={v.n:,}"] + [f"{c.what}: {c.detail}" for c in v.checks
                                                                   if c.met is False]))
    return 1 if failing else 0


# --- main ----------------------------------------------------------------------------------------
def main(argv=None) -> int:
    a = parse_args(argv)
    if a.render or a.check:
        records = write_report(a) if a.render else list(core.load_records(results_file(a)).values())
        return print_verdicts(records) if a.check else 0
    if not (SHARED / "datasets").is_dir() or ("textbook" in a.methods and not SEED_RECIPE.exists()):
        print(f"{SHARED / 'datasets'} or {SEED_RECIPE} is missing; set STUDIO_SHARED to a copy of ../shared",
              file=sys.stderr)
        return 2
    path = results_file(a)
    cells = plan(a)
    todo = core.order(core.pending(cells, core.load_records(path), a.retry_failed))
    log(f"{len(cells)} cells, {len(cells) - len(todo)} already in {path}, {len(todo)} to run, "
        f"{a.jobs} at a time with {a.threads} thread(s) each")
    if a.list:
        print("\n".join(cell.key for cell in todo))
        return 0
    a.out.mkdir(parents=True, exist_ok=True)
    meta = {"date": dt.datetime.now().astimezone().isoformat(timespec="seconds"), "quick": a.quick,
            "command": "python bench/quality.py " + " ".join(sys.argv[1:] if argv is None else argv),
            "machine": machine(a)}
    (a.out / ("meta-quick.json" if a.quick else "meta.json")).write_text(json.dumps(meta, indent=2))
    t0 = time.perf_counter()
    samples = {}
    for name in sorted({c.dataset for c in todo}, key=core.dataset_rank):
        wanted = {(c.n, c.seed) for c in todo if c.dataset == name}
        for (n, seed), info in write_samples(load_pool(name), wanted, a.out).items():
            samples[(name, n, seed)] = info
    for key in core.changed_samples(core.load_records(path).values(), samples):
        log(f"WARNING: the training file of {key} differs from the one its earlier cells were measured on")
    finished = run_cells(todo, Context(a, samples, studio_commit()), path)
    failed = [r["key"] for r in finished if r.get("status") in core.RETRYABLE]
    log(f"{len(todo)} cells in {(time.perf_counter() - t0) / 60:.1f} min" +
        (f"; {len(failed)} failed: {', '.join(failed)}" if failed else ""))
    print_verdicts(write_report(a))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
