"""The studio's training against the textbook recipe, side by side, in one invocation; plus the extra measurements.

    python bench/run.py [--quick] [--out bench/out] [--datasets sst2,banking77] [--device cpu|cuda]

Every measurement runs in its own child process; its peak memory is that child's RSS high-water mark
(ru_maxrss from os.wait4, i.e. what getrusage(RUSAGE_CHILDREN) reports for one child), so the reference
and the studio are measured the same way. See BENCHMARKS.md for what each figure means.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import harness  # noqa: E402

# The shared folder beside the project; STUDIO_SHARED points elsewhere (e.g. a copy carried to a GPU machine).
SHARED = Path(os.environ.get("STUDIO_SHARED") or ROOT.parent / "shared").resolve()
SEED_RECIPE = SHARED / "bench" / "seed_recipe.py"
DATASETS = {
    # name: (train file, test file, text column, label column)
    "sst2": ("sst2/train.tsv", "sst2/dev.tsv", "sentence", "label"),
    "banking77": ("banking77/train.csv", "banking77/test.csv", "text", "category"),
}
SEED_RECIPE_SETTINGS = {"batch_size": 16, "epochs": 3, "learning_rate": 2e-5, "weight_decay": 0.01, "max_length": 128}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- one child process, measured ------------------------------------------------------------
def run_measured(cmd: list[str], log_path: Path, env: dict | None = None, timeout: float | None = None) -> dict:
    """Run cmd; stream its stdout with timestamps (seconds since spawn); its RSS high-water mark from wait4."""
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
                "TOKENIZERS_PARALLELISM": "false", **(env or {})}
    log_path.parent.mkdir(parents=True, exist_ok=True)
    lines: list[tuple[float, str]] = []
    load_before = os.getloadavg()
    with open(log_path, "w", encoding="utf-8") as err:
        err.write("$ " + " ".join(map(str, cmd)) + "\n")
        err.flush()
        t0 = time.perf_counter()
        proc = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=err, cwd=ROOT, env=full_env,
                                text=True, encoding="utf-8", errors="replace")

        def read():
            for line in proc.stdout:
                lines.append((time.perf_counter() - t0, line.rstrip("\n")))
        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        timed_out = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if timeout and time.perf_counter() - t0 > timeout:
                proc.kill()
                timed_out = True
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        reader.join(timeout=10)
        err.write("\n--- stdout ---\n" + "\n".join(f"{t:9.3f}  {line}" for t, line in lines) + "\n")
    return {"returncode": proc.returncode, "wall_s": wall, "peak_rss_mb": usage.ru_maxrss / 1024,
            "lines": lines, "timed_out": timed_out, "log": str(log_path),
            "load_average": [round(x, 2) for x in (*load_before, *os.getloadavg())]}


def result_line(lines: list[tuple[float, str]], tag: str = "BENCH_RESULT") -> dict | None:
    for _, line in reversed(lines):
        if line.startswith(tag + " "):
            return json.loads(line[len(tag) + 1:])
    return None


def tail(path: str, n: int = 6) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace").split("\n--- stdout ---")[0]
        return " | ".join(text.strip().splitlines()[-n:])
    except OSError:
        return ""


# --- data ------------------------------------------------------------------------------------
def prepare(name: str, rows: int | None, work: Path, seed: int = 42) -> dict:
    """Write the training rows (both sides train on them) and the validation rows (studio only) as files."""
    train_rel, test_rel, text_col, label_col = DATASETS[name]
    data = harness.read_rows(SHARED / "datasets" / train_rel)
    texts, labels = data.column(text_col), data.column(label_col)
    n_train, n_val = harness.default_val_rows(rows, len(data.rows))
    train_idx, val_idx = harness.train_val_indices(texts, labels, n_train, n_val, seed)
    ext = ".tsv" if data.tsv else ".csv"
    folder = work / name
    folder.mkdir(parents=True, exist_ok=True)
    train_file = harness.write_rows(folder / f"train{ext}", data, train_idx)
    val_file = harness.write_rows(folder / f"validation{ext}", data, val_idx)
    return {"name": name, "train_file": str(train_file), "validation_file": str(val_file),
            "test_file": str(SHARED / "datasets" / test_rel), "text_column": text_col, "label_column": label_col,
            "train_rows": len(train_idx), "validation_rows": len(val_idx), "pool_rows": len(data.rows),
            "classes": len(set(labels[i] for i in train_idx))}


# --- the reference -----------------------------------------------------------------------------
def run_reference(ds: dict, model: str, args, logs: Path) -> dict:
    cmd = [sys.executable, SEED_RECIPE, model, ds["train_file"], ds["test_file"], ds["text_column"], ds["label_column"]]
    cap = args.ref_caps.get(ds["name"])
    if cap:
        cmd += ["--max-steps", str(cap)]
    if args.ref_bf16:
        cmd += ["--bf16"]
    env = {"CUDA_VISIBLE_DEVICES": ""} if args.device == "cpu" else {}
    m = run_measured(cmd, logs / f"{ds['name']}-reference.log", env=env, timeout=args.timeout)
    out = None
    for _, line in reversed(m["lines"]):
        if line.startswith("{") and '"recipe"' in line:
            out = json.loads(line)
            break
    first = next((t for t, line in m["lines"] if re.search(r"['\"]loss['\"]\s*:", line)), None)
    res = {"losses": reference_losses(line for _, line in m["lines"]), "ok": out is not None, "peak_rss_mb": m["peak_rss_mb"], "process_wall_s": m["wall_s"], "first_loss_s": first,
           "log": m["log"], "command": " ".join(map(str, cmd)), "load_average": m["load_average"]}
    if out is None:
        res["error"] = f"exit {m['returncode']}{' (timed out)' if m['timed_out'] else ''}: {tail(m['log'])}"
        return res
    full_steps = harness.seed_total_steps(out["train_rows"], out["bs"], SEED_RECIPE_SETTINGS["epochs"])
    res.update({"train_samples_per_s": out["train_samples_per_s"], "train_wall_s": out["train_wall_s"],
                "accuracy": out["eval_accuracy"], "macro_f1": out["eval_macro_f1"], "steps": out["steps"],
                "full_steps": full_steps, "complete": out["steps"] >= full_steps, "train_rows": out["train_rows"],
                "device": out["device"], "raw": out})
    return res


def reference_losses(lines) -> list[tuple[int, float]]:
    """(step, loss) from the Trainer's log lines ({'loss': '0.69', ...} every 10 steps)."""
    out = []
    for line in lines:
        m = re.search(r"['\"]loss['\"]\s*:\s*['\"]?([0-9.eE+-]+)", line)
        if m and "train_loss" not in line:
            out.append((10 * (len(out) + 1), float(m.group(1))))
    return out


# --- the studio --------------------------------------------------------------------------------
def studio_config(ds: dict, kind: str, args, model: str, hidden: int = 384, method: str = "full",
                  freeze_layers: int = 0, epochs: float | None = None) -> dict:
    from studio import presets
    from studio.config import DataConfig, ModelConfig, RunConfig
    data = DataConfig(train_file=ds["train_file"], validation_file=ds["validation_file"], test_file=ds["test_file"],
                      text_column=ds["text_column"], label_column=ds["label_column"])
    if kind == "same_recipe":
        s = SEED_RECIPE_SETTINGS
        train = presets.preset_settings("balanced", hidden, device_type=args.device)
        warmup = harness.seed_warmup_steps(ds["train_rows"], s["batch_size"])
        total = harness.seed_total_steps(ds["train_rows"], s["batch_size"], s["epochs"])
        train.batch_size, train.epochs, train.learning_rate = s["batch_size"], s["epochs"], s["learning_rate"]
        train.weight_decay, train.max_length = s["weight_decay"], s["max_length"]
        train.warmup_ratio = warmup / total
        train.patience = 0   # the reference never stops early
        train.evals_per_epoch = 1
    else:
        train = presets.preset_settings("balanced", hidden, method, freeze_layers, args.device)
    if epochs is not None:
        train.epochs = epochs
    train.device = args.device
    cfg = RunConfig(data=data, model=ModelConfig(name=model, method=method, freeze_layers=freeze_layers), train=train)
    return cfg.validate().to_dict()


def run_studio(cfg: dict, name: str, work: Path, logs: Path, args, warm: bool = False, cancel_after_first: bool = False,
               keep: bool = False) -> dict:
    folder = work / "runs" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(cfg, indent=2))
    cmd = [sys.executable, HERE / "worker.py", "train", folder / "config.json", folder / "out"]
    if warm:
        cmd.append("--warm")
    if cancel_after_first:
        cmd.append("--cancel-after-first-step")
    env = {"CUDA_VISIBLE_DEVICES": ""} if args.device == "cpu" else {}
    m = run_measured(cmd, logs / f"{name}.log", env=env, timeout=args.timeout)
    out = result_line(m["lines"])
    first = next((t for t, line in m["lines"] if line.startswith("BENCH ") and "first_step" in line), None)
    res = {"ok": out is not None and (cancel_after_first or "accuracy" in out), "peak_rss_mb": m["peak_rss_mb"],
           "process_wall_s": m["wall_s"], "first_loss_s": first, "log": m["log"], "config": cfg["train"],
           "load_average": m["load_average"],
           "model_dir": str(folder / "out" / "model")}
    if out is None:
        res["error"] = f"exit {m['returncode']}{' (timed out)' if m['timed_out'] else ''}: {tail(m['log'])}"
        return res
    res.update(out)
    res["train_wall_s"] = out.get("train_seconds")
    if not keep and not cancel_after_first:
        shutil.rmtree(folder / "out" / "model", ignore_errors=True)
    return res


# --- extras ------------------------------------------------------------------------------------
def generate_csv(path: Path, rows: int, seed: int = 0) -> int:
    """rows lines of `text,label`: 12-17 pseudo-words (about 95 characters) and one of 5 labels; returns bytes."""
    rng = random.Random(seed)
    letters = "etaoinshrdlucmfwypvbgk"
    vocab = ["".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(5000)]
    labels = ["billing", "delivery", "returns", "account", "other"]
    weights = [40, 25, 15, 12, 8]
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("text,label\n")
        chunk = []
        for i in range(rows):
            words = rng.choices(vocab, k=rng.randint(12, 17))
            chunk.append(f"{' '.join(words)},{rng.choices(labels, weights)[0]}\n")
            if len(chunk) >= 50_000:
                f.write("".join(chunk))
                chunk = []
        f.write("".join(chunk))
    return path.stat().st_size


def measure_inspect(work: Path, logs: Path, rows: int) -> dict:
    path = work / "inspect" / f"generated_{rows}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    size = generate_csv(path, rows)
    gen_s = time.perf_counter() - t
    m = run_measured([sys.executable, "-m", "studio", "inspect", path, "--json"], logs / "inspect.log")
    report = None
    try:
        report = json.loads("\n".join(line for _, line in m["lines"]))
    except ValueError:
        pass
    shutil.rmtree(path.parent, ignore_errors=True)
    return {"ok": report is not None and m["returncode"] in (0, 1), "rows": rows, "file_mb": size / 2**20,
            "generate_s": gen_s, "inspect_s": m["wall_s"], "peak_rss_mb": m["peak_rss_mb"],
            "exit_code": m["returncode"], "rows_reported": report.get("rows") if report else None,
            "findings": [f["code"] for f in report["findings"]] if report else None, "log": m["log"],
            "load_average": m["load_average"]}


def measure_inference(model_dir: str | None, work: Path, logs: Path, calls: int, batch_n: int) -> dict:
    dev = harness.read_rows(SHARED / "datasets" / "sst2" / "dev.tsv").column("sentence")
    pool = harness.read_rows(SHARED / "datasets" / "sst2" / "train.tsv").column("sentence")
    rng = random.Random(1)
    batch = rng.sample(pool, min(batch_n, len(pool)))
    texts = work / "infer_texts.json"
    texts.write_text(json.dumps({"one": dev, "batch": batch}))
    cmd = [sys.executable, HERE / "worker.py", "infer", model_dir or "bundled", texts, "--calls", str(calls),
           "--scratch", work]
    m = run_measured(cmd, logs / "inference.log", env={"CUDA_VISIBLE_DEVICES": ""})
    out = result_line(m["lines"])
    res = {"ok": out is not None, "peak_rss_mb": m["peak_rss_mb"], "log": m["log"], "load_average": m["load_average"],
           "model": "trained default-preset model" if model_dir else "bundled model, untrained head"}
    if out:
        res.update(out)
    else:
        res["error"] = tail(m["log"])
    return res


def measure_freezing(ds: dict, args, model: str, work: Path, logs: Path) -> dict:
    """One epoch each of full fine-tuning, freeze 2, freeze 4 and head only, on a sample of the first data set."""
    train_rows = min(args.freeze_rows, ds["train_rows"])
    sub = dict(ds, name=ds["name"] + "-freeze")
    data = harness.read_rows(ds["train_file"])
    idx = harness.stratified_indices(data.column(ds["label_column"]), train_rows, 7)
    folder = work / "freeze"
    folder.mkdir(parents=True, exist_ok=True)
    sub["train_file"] = str(harness.write_rows(folder / ("train" + Path(ds["train_file"]).suffix), data, idx))
    sub["train_rows"] = len(idx)
    out = {"rows": len(idx), "validation_rows": ds["validation_rows"], "data": ds["name"], "runs": {}}
    for label, method, k in (("full", "full", 0), ("freeze 2", "freeze", 2), ("freeze 4", "freeze", 4),
                             ("head only", "freeze", -1)):
        cfg = studio_config(sub, "default_preset", args, model, method=method, freeze_layers=k, epochs=1)
        cfg["train"]["patience"] = 0
        log(f"freezing: {label} (1 epoch over {len(idx)} rows)")
        r = run_studio(cfg, f"freeze-{label.replace(' ', '')}", work, logs, args)
        cache_s = None
        for note in r.get("notes") or []:
            mm = re.search(r"frozen layers once \((\d+) MB, ([\d.]+) s\)", note)
            if mm:
                cache_s, r["cache_mb"] = float(mm.group(2)), int(mm.group(1))
        r["cache_s"] = cache_s
        out["runs"][label] = r
    base = out["runs"]["full"].get("train_seconds")
    for label, r in out["runs"].items():
        r["speedup"] = harness.ratio(base, r.get("train_seconds"))
        r["speedup_with_cache"] = harness.ratio(base, (r.get("train_seconds") or 0) + (r.get("cache_s") or 0)) \
            if r.get("train_seconds") else None
    return out


def measure_mfu(logs: Path) -> dict:
    m = run_measured([sys.executable, HERE / "worker.py", "mfu"], logs / "mfu.log")
    out = result_line(m["lines"]) or {"error": tail(m["log"])}
    out["peak_rss_mb"] = m["peak_rss_mb"]
    return out


# --- the machine -------------------------------------------------------------------------------
def machine(device: str) -> dict:
    import torch
    import transformers
    info = {"cpu": harness.cpu_model(), "cores": harness.usable_cores(), "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__, "transformers": transformers.__version__, "python": sys.version.split()[0],
            "device": device, "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "load_average_at_start": os.getloadavg()}
    try:
        import psutil
        info["ram_gb"] = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:
        pass
    if device == "cuda":
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


# --- reporting ---------------------------------------------------------------------------------
def config_title(kind: str, studio: dict) -> str:
    """The table title, from the settings the studio run actually used (presets change over time)."""
    c = studio.get("config") or {}
    if kind == "same_recipe":
        how = (f"batch {c['batch_size']}, {c['epochs']:g} epochs, lr {c['learning_rate']:g}; " if c else "") + \
              "dynamic padding, length-grouped batches"
        return f"studio, same recipe ({how})"
    how = (f"{c['preset']}: batch {c['batch_size']}, up to {c['epochs']:g} epochs, lr {c['learning_rate']:g}, "
           f"patience {c['patience']}" if c else "presets.preset_settings('balanced')")
    return f"studio, default preset ({how})"


def dataset_tables(ds_result: dict, device: str, cores: int) -> list[tuple[str, list[dict], list[str]]]:
    out = []
    ref = ds_result["reference"]
    complete = bool(ref.get("complete")) if ref.get("ok") else True  # no reference: figures missing, not capped
    for kind in ("same_recipe", "default_preset"):
        studio = ds_result.get(kind) or {}
        targets = harness.comparison_targets(kind, device, ds_result["name"])
        rows = harness.comparison_rows(ref, studio, targets, complete)
        notes = [ds_result["fairness"]]
        if not complete and ref.get("ok"):
            notes.append(f"Reference capped at {ref.get('steps')} of {ref.get('full_steps')} steps (--ref-max-steps): "
                         "its samples/s are comparable; its accuracy, F1 and wall time are those of a partial run, "
                         "so targets that depend on them read n/a.")
        if ref.get("error") == "skipped":
            notes.append("Reference skipped (--skip reference).")
        elif not ref.get("ok"):
            notes.append(f"Reference failed: {ref.get('error')}")
        if not studio:
            notes.append("Studio run skipped.")
        elif not studio.get("ok"):
            notes.append(f"Studio run failed: {studio.get('error')}")
        else:
            done = studio.get("epochs_done")
            notes.append(f"Studio: {studio.get('steps')} steps ({done} epochs) of batch {studio.get('batch_size')}, "
                         f"lr {studio.get('learning_rate')}; best validation checkpoint at step {studio.get('best_step')}; "
                         "training wall time includes its validation passes (the reference runs none).")
        for who, r in (("reference", ref), ("studio", studio)):
            shared = harness.shared_note(r.get("load_average"), cores)
            if shared:
                notes.append(f"SHARED MACHINE ({who}): {shared}.")
        if ref.get("first_loss_s") is not None:
            notes.append("First logged loss: the reference logs every 10 steps (Trainer logging_steps=10); "
                         "the studio logs every max(1, total_steps // 300) steps. Both timed from process spawn.")
        title = f"{ds_result['name']}: reference vs {config_title(kind, studio)}"
        out.append((title, rows, notes))
    return out


def extras_rows(results: dict, device: str) -> list[list[str]]:
    T = harness.EXTRA_TARGETS[device]
    rows = []
    for name, fl in (results.get("first_loss") or {}).items():
        rows.append(harness.extra_row(f"start to first loss, warm process, bundled model ({name}) (s)",
                                      fl.get("call_to_first_step_s"), "{:.2f}", T.get("first_loss_s")))
    inf = results.get("inference")
    if inf is not None:
        rows.append(harness.extra_row("playground latency p50, one sentence (ms)", inf.get("p50_ms"), "{:.1f}",
                                      T.get("playground_p50_ms")))
        rows.append(harness.extra_row("playground latency p95, one sentence (ms)", inf.get("p95_ms"), "{:.1f}", None))
        rows.append(harness.extra_row(f"batch classification, {inf.get('batch_sentences', '?')} short sentences "
                                      "(sentences/s)", inf.get("batch_sentences_per_s"), "{:.0f}",
                                      T.get("batch_sentences_per_s")))
    ins = results.get("inspect")
    if ins is not None:
        rows.append(harness.extra_row(f"inspect, {ins.get('rows', 0):,}-row CSV of {ins.get('file_mb', 0):.0f} MB (s)",
                                      ins.get("inspect_s"), "{:.1f}", T.get("inspect_s")))
        rows.append(harness.extra_row("inspect peak memory (MB)", ins.get("peak_rss_mb"), "{:.0f}",
                                      T.get("inspect_peak_mb")))
    fr = (results.get("freezing") or {}).get("runs") or {}
    for label, r in fr.items():
        rows.append(harness.extra_row(f"one epoch, {label} (s)", r.get("train_seconds"), "{:.1f}", None))
        if label != "full":
            rows.append(harness.extra_row(f"  {label}: one-time cache of the frozen layers (s)", r.get("cache_s"), "{:.1f}", None))
            target = T.get("freeze4_speedup") if label == "freeze 4" else None
            rows.append(harness.extra_row(f"  {label}: epoch speed-up vs full", r.get("speedup"), "{:.2f}x", target))
    mfu = results.get("mfu")
    if mfu:
        rows.append(harness.extra_row("BERT-base training step, batch 64 x 128, bf16: MFU", mfu.get("mfu"), "{:.1%}",
                                      T.get("mfu")))
    return rows


def render(results: dict) -> tuple[str, str]:
    """(plain text, markdown)."""
    m = results["machine"]
    head = [f"Date: {m['date']}",
            f"Machine: {m['cpu']}, {m['cores']} usable cores, {m.get('ram_gb', '?')} GB RAM; torch {m['torch']} "
            f"({m['torch_threads']} threads), transformers {m['transformers']}, python {m['python']}",
            f"Device: {m['device']}{' (' + m['gpu'] + ')' if m.get('gpu') else ''}; model: {results['model']}",
            f"Load average at start {fmt_load(m.get('load_average_at_start'))}, at end {fmt_load(m.get('load_average_at_end'))}"
            + (f" ({results['note']})" if results.get("note") else ""),
            f"Command: {results['command']}"]
    if results.get("quick"):
        head.append("QUICK MODE: tiny data and capped runs to check the harness works; these figures say nothing "
                    "about the targets.")
    text, md = ["\n".join(head)], ["# Benchmark results\n", "\n".join(f"- {h}" for h in head)]
    for ds in results["datasets"]:
        for title, rows, notes in dataset_tables(ds, m["device"], m["cores"]):
            table = harness.comparison_table_rows(rows)
            text.append(harness.text_table(harness.COMPARISON_HEADER, table, title) + "\n" +
                        "\n".join(f"  * {n}" for n in notes))
            md.append(f"## {title}\n\n" + harness.markdown_table(harness.COMPARISON_HEADER, table) + "\n\n" +
                      "\n".join(f"- {n}" for n in notes))
    header = ["measurement", "value", "target", "met?"]
    rows = extras_rows(results, m["device"])
    notes = extras_notes(results)
    text.append(harness.text_table(header, rows, "Extra measurements") + "\n" + "\n".join(f"  * {n}" for n in notes))
    md.append("## Extra measurements\n\n" + harness.markdown_table(header, rows) + "\n\n" + "\n".join(f"- {n}" for n in notes))
    return "\n\n".join(text) + "\n", "\n\n".join(md) + "\n"


def extras_notes(results: dict) -> list[str]:
    notes = []
    cores = results["machine"]["cores"]  # the measuring machine's, also when rendering elsewhere
    parts = [(f"start to first loss ({n})", r) for n, r in (results.get("first_loss") or {}).items()]
    parts += [("playground and batch classification", results.get("inference") or {}),
              ("inspect", results.get("inspect") or {})]
    parts += [(f"freezing: {k}", r) for k, r in ((results.get("freezing") or {}).get("runs") or {}).items()]
    for what, r in parts:
        shared = harness.shared_note(r.get("load_average"), cores)
        if shared:
            notes.append(f"SHARED MACHINE ({what}): {shared}.")
    inf = results.get("inference") or {}
    if inf.get("ok"):
        notes.append(f"Playground: Classifier.predict_one on sst2 dev sentences, {inf['calls']} calls after a warm-up, "
                     f"{inf['torch_threads']} torch threads, {inf['model']}. Batch: Classifier.predict over "
                     f"{inf['batch_sentences']} sst2 training phrases (mean {inf['mean_tokens']:.1f} tokens).")
    elif inf:
        notes.append(f"Inference measurement failed: {inf.get('error')}")
    ins = results.get("inspect") or {}
    if ins:
        notes.append(f"inspect: `python -m studio inspect FILE --json` as a child process; exit {ins.get('exit_code')}, "
                     f"{ins.get('rows_reported')} rows reported; findings {ins.get('findings')}; generating the file took "
                     f"{ins.get('generate_s', 0):.1f} s (not counted).")
    fr = results.get("freezing")
    if fr:
        notes.append(f"Freezing: default preset (method-aware lr), 1 epoch over {fr['rows']} {fr['data']} rows, "
                     f"{fr['validation_rows']} validation rows; epoch time = the studio's train_seconds (one epoch plus "
                     "one validation pass); the frozen layers' outputs for the training and validation rows are computed once "
                     "before training and that time is reported separately.")
        for label, r in fr["runs"].items():
            if not r.get("ok"):
                notes.append(f"Freezing run {label} failed: {r.get('error')}")
    for name, fl in (results.get("first_loss") or {}).items():
        if fl.get("call_to_first_step_s") is not None:
            notes.append(f"Start to first loss ({name}): train() called in a process that already imported transformers; "
                         f"to the `started` event {fl.get('call_to_started_s')} s (reading, tokenizing, loading the model), "
                         f"to the first `step` event {fl.get('call_to_first_step_s')} s; default preset.")
        elif fl:
            notes.append(f"Start to first loss ({name}) failed: {fl.get('error')}")
    mfu = results.get("mfu")
    if mfu:
        notes.append(f"MFU: {mfu.get('device_name')}, step {harness.fmt(mfu.get('step_s'), '{:.4f}')} s, "
                     f"{harness.fmt((mfu.get('achieved_flops') or 0) / 1e12, '{:.1f}')} TFLOP/s achieved of "
                     f"{harness.fmt((mfu.get('peak_bf16_flops') or 0) / 1e12, '{:.0f}')} peak. {mfu.get('error', '')}")
    return notes


def fmt_load(load) -> str:
    return "n/a" if not load else " ".join(f"{x:.2f}" for x in load)


def plots(results: dict, out: Path) -> str | None:
    try:
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots
    except ImportError:
        return None
    names = [d["name"] for d in results["datasets"]]
    panels = [("train_samples_per_s", "Training samples/s (higher is better)"),
              ("train_wall_s", "Training wall time, s (lower is better)"),
              ("accuracy", "Test accuracy"), ("peak_rss_mb", "Peak memory, MB")]
    fig = make_subplots(rows=3, cols=2, subplot_titles=[p[1] for p in panels] +
                        ["One epoch with K layers frozen (purple) and the one-time cache (orange), s",
                         "Training loss by step (reference: its log every 10 steps)"])
    colors = {"reference": "#6b7280", "same_recipe": "#2563eb", "default_preset": "#16a34a"}
    legend = {"reference": "reference (seed recipe)", "same_recipe": "studio, same recipe",
              "default_preset": "studio, default preset"}
    for i, (key, _) in enumerate(panels):
        r, c = divmod(i, 2)
        for who in ("reference", "same_recipe", "default_preset"):
            ys = [(d.get(who) or {}).get(key) for d in results["datasets"]]
            fig.add_trace(go.Bar(x=names, y=ys, name=legend[who], marker_color=colors[who], showlegend=i == 0,
                                 legendgroup=who), row=r + 1, col=c + 1)
    fr = (results.get("freezing") or {}).get("runs") or {}
    if fr:
        labels = list(fr)
        fig.add_trace(go.Bar(x=labels, y=[fr[k].get("train_seconds") for k in labels], name="epoch",
                             marker_color="#9333ea", showlegend=False), row=3, col=1)
        fig.add_trace(go.Bar(x=labels, y=[fr[k].get("cache_s") or 0 for k in labels], name="one-time cache",
                             marker_color="#f59e0b", showlegend=False), row=3, col=1)
    for d in results["datasets"]:
        for who in ("reference", "same_recipe", "default_preset"):
            losses = (d.get(who) or {}).get("losses") or []
            if losses:
                fig.add_trace(go.Scatter(x=[s for s, *_ in losses], y=[p[1] for p in losses], mode="lines",
                                         name=f"loss: {d['name']}, {legend[who]}",
                                         line={"dash": "dot" if who == "reference" else "solid"}), row=3, col=2)
    fig.update_layout(barmode="group", height=1100, title=f"Studio vs seed recipe — {results['machine']['date']}, "
                      f"{results['machine']['cpu']}, device {results['machine']['device']}")
    fig.update_xaxes(title_text="step", row=3, col=2)
    path = out / "comparison.html"
    fig.write_html(path, include_plotlyjs="directory")
    snapshot(path, out / "comparison.png")
    return str(path)


def snapshot(html: Path, png: Path) -> bool:
    """A PNG of the plot page, for keeping beside the figures; through the headless Chromium the end-to-end
    test uses. Skipped (False) when Playwright or Chromium is missing."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return False
    if not chromium:
        return False
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run"]
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=flags)
            page = browser.new_page(viewport={"width": 1400, "height": 1150})
            page.goto(html.as_uri())
            page.wait_for_selector(".main-svg", timeout=30_000)
            page.screenshot(path=str(png), full_page=True)
            browser.close()
    except Exception as err:  # a plot that cannot be photographed must not lose the figures
        log(f"no PNG of the plots: {err}")
        return False
    return True


# --- main --------------------------------------------------------------------------------------
def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="tiny data and capped runs: checks the harness in a few minutes")
    p.add_argument("--out", default=str(HERE / "out"))
    p.add_argument("--datasets", default="sst2,banking77")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.add_argument("--model", default=None, help="model folder (default: the bundled all-MiniLM-L6-v2)")
    p.add_argument("--sst2-rows", type=int, default=None, help="training rows sampled from sst2 (default 4000; 20000 on cuda)")
    p.add_argument("--banking77-rows", type=int, default=None, help="training rows of banking77 (default: all but validation)")
    p.add_argument("--ref-max-steps", default=None,
                   help="cap the reference at this many steps (then only its samples/s compare): N for every data set, "
                        "or per data set, e.g. banking77=300,sst2=0 (0: no cap)")
    p.add_argument("--ref-bf16", action="store_true", help="give the reference --bf16 too (it is fp32 by default)")
    p.add_argument("--studio-epochs", type=float, default=None, help="override the studio's epochs (quick checks)")
    p.add_argument("--freeze-rows", type=int, default=2000)
    p.add_argument("--inspect-rows", type=int, default=1_000_000)
    p.add_argument("--latency-calls", type=int, default=200)
    p.add_argument("--batch-sentences", type=int, default=2000)
    p.add_argument("--skip", default="", help="comma-separated parts to leave out: reference,same_recipe,"
                   "default_preset,first_loss,freezing,inference,inspect,mfu")
    p.add_argument("--timeout", type=float, default=4 * 3600, help="seconds one child process may run")
    p.add_argument("--note", default="", help="a remark recorded with the machine, e.g. 'other jobs shared the cores'")
    p.add_argument("--render", metavar="RESULTS_JSON", help="measure nothing: print and write the tables (and plots) "
                   "of an earlier run's results.json into --out")
    a = p.parse_args(argv)
    if a.quick:
        a.sst2_rows = a.sst2_rows or 300
        a.banking77_rows = a.banking77_rows or 800
        a.ref_max_steps = a.ref_max_steps or "10"
        a.studio_epochs = a.studio_epochs or 1
        a.freeze_rows = min(a.freeze_rows, 300)
        a.inspect_rows = min(a.inspect_rows, 50_000)
        a.latency_calls = min(a.latency_calls, 30)
        a.batch_sentences = min(a.batch_sentences, 300)
    if a.sst2_rows is None:
        a.sst2_rows = 20_000 if a.device == "cuda" else 4000
    try:
        a.ref_caps = harness.per_dataset(a.ref_max_steps, list(DATASETS))
    except ValueError as err:
        p.error(f"--ref-max-steps: {err}")
    return a


def write_outputs(results: dict, out: Path) -> None:
    text, md = render(results)
    print(text)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.txt").write_text(text, encoding="utf-8")
    (out / "results.md").write_text(md, encoding="utf-8")
    (out / "results.json").write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    plot = plots(results, out)
    log(f"wrote {out / 'results.txt'}, results.md, results.json" + (f", {Path(plot).name} (+ .png)" if plot else
        " (plotly is not installed: no plots)") + f"; {results.get('bench_wall_s', 0) / 60:.1f} min of measuring")


def main(argv=None) -> int:
    a = parse_args(argv)
    if a.render:
        results = json.loads(Path(a.render).read_text(encoding="utf-8"))
        for d in results["datasets"]:  # results written before the reference's losses were kept
            ref = d.get("reference") or {}
            if not ref.get("losses") and ref.get("log") and Path(ref["log"]).exists():
                ref["losses"] = reference_losses(Path(ref["log"]).read_text(encoding="utf-8", errors="replace").splitlines())
        write_outputs(results, Path(a.out))
        return 0
    import torch
    if a.device == "cuda" and not torch.cuda.is_available():
        print("no CUDA device", file=sys.stderr)
        return 2
    datasets = [d.strip() for d in a.datasets.split(",") if d.strip()]
    unknown = [d for d in datasets if d not in DATASETS]
    if unknown:
        print(f"unknown data set(s) {', '.join(unknown)}; choose from {', '.join(DATASETS)}", file=sys.stderr)
        return 2
    if not SEED_RECIPE.exists() or not (SHARED / "datasets").is_dir():
        print(f"the reference {SEED_RECIPE} or {SHARED / 'datasets'} is missing", file=sys.stderr)
        return 2
    skip = {s.strip() for s in a.skip.split(",") if s.strip()}
    from studio import models
    model = a.model or models.bundled_model_path()
    hidden = getattr(models.load_config(model), "hidden_size", 384)
    out = Path(a.out)
    logs = out / "logs"
    out.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(logs, ignore_errors=True)
    results = {"machine": machine(a.device), "model": "bundled all-MiniLM-L6-v2" if not a.model else a.model,
               "quick": a.quick, "note": a.note, "settings": {k: v for k, v in vars(a).items()},
               "command": "python bench/run.py " + " ".join(sys.argv[1:] if argv is None else argv),
               "datasets": [], "first_loss": {}}
    t_all = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="studio-bench-") as tmp:
        work = Path(tmp)
        keep_model = None
        for name in datasets:
            rows = a.sst2_rows if name == "sst2" else a.banking77_rows
            ds = prepare(name, rows, work)
            fair = (f"Same rows for both: {ds['train_rows']:,} training rows (stratified, seed 42) of {name}'s "
                    f"{ds['pool_rows']:,}; the studio also gets {ds['validation_rows']:,} validation rows drawn from the "
                    f"rest of the training file (none repeats a training text), which neither side trains on; "
                    f"test: {Path(ds['test_file']).name}.")
            entry = {"name": name, "train_rows": ds["train_rows"], "validation_rows": ds["validation_rows"],
                     "classes": ds["classes"], "fairness": fair, "reference": {"ok": False, "error": "skipped"}}
            results["datasets"].append(entry)
            log(f"{name}: {ds['train_rows']} training rows, {ds['validation_rows']} validation rows, {ds['classes']} classes")
            if "reference" not in skip:
                cap = a.ref_caps.get(name)
                log(f"{name}: reference (seed_recipe.py{' --max-steps ' + str(cap) if cap else ''})")
                entry["reference"] = run_reference(ds, model, a, logs)
                log(f"{name}: reference -> {brief(entry['reference'])}")
            for kind in ("same_recipe", "default_preset"):
                if kind in skip:
                    continue
                cfg = studio_config(ds, kind, a, model, hidden, epochs=a.studio_epochs)
                log(f"{name}: studio {kind}")
                keep = keep_model is None and kind == "default_preset"
                entry[kind] = run_studio(cfg, f"{name}-{kind}", work, logs, a, keep=keep)
                if keep and entry[kind].get("ok"):
                    keep_model = entry[kind]["model_dir"]
                log(f"{name}: studio {kind} -> {brief(entry[kind])}")
            if "first_loss" not in skip:
                cfg = studio_config(ds, "default_preset", a, model, hidden)
                log(f"{name}: start to first loss (warm process)")
                results["first_loss"][name] = run_studio(cfg, f"{name}-first-loss", work, logs, a, warm=True,
                                                         cancel_after_first=True)
            if "freezing" not in skip and "freezing" not in results:
                results["freezing"] = measure_freezing(ds, a, model, work, logs)
        if "inference" not in skip:
            log("inference: playground latency and batch throughput")
            results["inference"] = measure_inference(keep_model, work, logs, a.latency_calls, a.batch_sentences)
        if "inspect" not in skip:
            log(f"inspect: generating a {a.inspect_rows:,}-row CSV")
            results["inspect"] = measure_inspect(work, logs, a.inspect_rows)
        if a.device == "cuda" and "mfu" not in skip:
            log("MFU: BERT-base training step")
            results["mfu"] = measure_mfu(logs)
    results["machine"]["load_average_at_end"] = os.getloadavg()
    results["bench_wall_s"] = time.perf_counter() - t_all
    write_outputs(results, out)
    return 0


def brief(r: dict) -> str:
    if not r.get("ok"):
        return f"FAILED: {r.get('error')}"
    return (f"{r.get('train_samples_per_s')} samples/s, {harness.fmt(r.get('train_wall_s'), '{:.1f}')} s training, "
            f"accuracy {harness.fmt(r.get('accuracy'), '{:.4f}')}, peak {r.get('peak_rss_mb', 0):.0f} MB")


if __name__ == "__main__":
    sys.exit(main())
