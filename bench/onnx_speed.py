"""ONNX and int8 against PyTorch on the CPU: p50 latency of one text, batch throughput, and label agreement on a
real test set.

    python bench/onnx_speed.py [--dataset banking77|sst2] [--max-rows 3000] [--run RUN_DIR] [--out bench/results]

Without --run it first trains a model with the studio's defaults (quick preset) on a sample of the data set's
training rows, through the command line as a user would; then it exports it (studio.export) and classifies the
whole test set with each backend. Agreement is the share of test texts that get the same label as PyTorch.
Latency: one text per call, the median of `--calls` calls on test texts after a warm-up. Throughput: the whole
test set in batches of 64, texts per second. All three use the same threads (torch's and onnxruntime's default:
every core).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
SHARED = Path(os.environ.get("STUDIO_SHARED") or ROOT.parent / "shared").resolve()
DATASETS = {
    # name: (train file, test file, text column, label column)
    "sst2": ("sst2/train.tsv", "sst2/dev.tsv", "sentence", "label"),
    "banking77": ("banking77/train.csv", "banking77/test.csv", "text", "category"),
}
BACKENDS = ("torch", "onnx", "onnx-int8")


def train_default(dataset: str, max_rows: int, runs_dir: Path, head_only: bool = False) -> Path:
    train, test, text, label = DATASETS[dataset]
    command = [sys.executable, "-m", "studio", "train", str(SHARED / "datasets" / train),
               "--test-file", str(SHARED / "datasets" / test), "--text-column", text, "--label-column", label,
               "--max-rows", str(max_rows), "--preset", "quick", "--runs-dir", str(runs_dir), "--json"]
    command += ["--freeze", "all"] if head_only else []
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    result = [json.loads(line) for line in done.stdout.splitlines() if line.startswith('{"type": "result"')]
    if done.returncode != 0 or not result:
        sys.exit(f"training failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return Path(result[-1]["run_dir"])


def test_texts(dataset: str) -> tuple[list[str], list[str]]:
    from studio import data
    _, test, text, label = DATASETS[dataset]
    frame = data.read_table(SHARED / "datasets" / test).frame
    return frame[text].astype(str).tolist(), frame[label].astype(str).tolist()


def measure(classifier, texts: list[str], calls: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    singles = [texts[i] for i in rng.choice(len(texts), size=calls + 10, replace=len(texts) < calls + 10)]
    for text in singles[:10]:
        classifier.probabilities([text])
    times = []
    for text in singles[10:]:
        start = time.perf_counter()
        classifier.probabilities([text])
        times.append(time.perf_counter() - start)
    start = time.perf_counter()
    probs = classifier.probabilities(texts, batch_size=64)
    seconds = time.perf_counter() - start
    return {"p50_ms": round(1000 * float(np.median(times)), 2), "p90_ms": round(1000 * float(np.quantile(times, 0.9)), 2),
            "batch_texts_per_s": round(len(texts) / seconds, 1), "probs": probs}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", choices=sorted(DATASETS), default="banking77")
    p.add_argument("--max-rows", type=int, default=3000, help="training rows for the model trained here")
    p.add_argument("--run", help="a finished run to use instead of training one")
    p.add_argument("--head-only", action="store_true", help="train only the classifier head (--freeze all): a model "
                   "in minutes on a busy CPU; the encoder exported is then the base model's")
    p.add_argument("--runs-dir", default=str(HERE / "out" / "onnx-runs"))
    p.add_argument("--calls", type=int, default=200, help="single-text calls for the latency")
    p.add_argument("--out", default=str(HERE / "results"))
    a = p.parse_args(argv)
    from studio import export
    from studio.inference import Classifier

    started = time.perf_counter()
    run_dir = Path(a.run) if a.run else train_default(a.dataset, a.max_rows, Path(a.runs_dir), a.head_only)
    train_s = time.perf_counter() - started
    exported = export.export_onnx(run_dir, int8=True)
    texts, truth = test_texts(a.dataset)
    results = {}
    for backend in BACKENDS:
        classifier = Classifier(run_dir / "model", backend=backend)
        figures = measure(classifier, texts, a.calls)
        probs = figures.pop("probs")
        labels = [classifier.labels[i] for i in probs.argmax(-1)]
        figures["confidence"] = probs.max(-1).tolist()
        figures["accuracy"] = round(float(np.mean([p == t for p, t in zip(labels, truth)])), 4)
        results[backend] = {**figures, "labels": labels}
    reference = results["torch"]["labels"]
    for backend in BACKENDS:
        labels = results[backend].pop("labels")
        confidence = results[backend].pop("confidence")
        differ = [c for c, x, y in zip(confidence, labels, reference) if x != y]
        # How sure this backend was where it disagreed: near 1/labels means a coin toss either way.
        results[backend]["disagreements_max_confidence"] = round(max(differ), 3) if differ else None
        results[backend]["agreement_with_torch"] = round(float(np.mean([x == y for x, y in zip(labels, reference)])), 4)
        results[backend]["same_labels"] = int(sum(x == y for x, y in zip(labels, reference)))
    import torch
    record = {"date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "dataset": a.dataset,
              "method": (json.loads((run_dir / "metrics.json").read_text()).get("method")
                         or json.loads((run_dir / "config.json").read_text())["model"]["method"]),
              "load_average": os.getloadavg()[0],
              "test_texts": len(texts), "run": str(run_dir), "train_seconds": round(train_s, 1),
              "export": {k: v for k, v in exported.items() if k not in ("onnx", "int8")},
              "cpu_threads": torch.get_num_threads(), "cores": os.cpu_count(), "results": results}
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"onnx-{a.dataset}-{run_dir.name}.json"
    path.write_text(json.dumps(record, indent=2))
    print(f"{a.dataset}: {len(texts)} test texts, {os.cpu_count()} cores; export {exported['seconds']} s, "
          f"{exported['onnx_mb']} MB (int8 {exported['int8_mb']} MB)")
    print("| backend | p50 latency, 1 text | batch throughput | test accuracy | same label as PyTorch | "
          "most sure where not |")
    print("|---|---:|---:|---:|---:|---:|")
    for backend, r in results.items():
        print(f"| {backend} | {r['p50_ms']} ms | {r['batch_texts_per_s']} texts/s | {r['accuracy']:.2%} | "
              f"{r['agreement_with_torch']:.2%} ({r['same_labels']}/{len(texts)}) | "
              f"{r['disagreements_max_confidence'] if r['disagreements_max_confidence'] is not None else '-'} |")
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
