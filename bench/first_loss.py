"""Start to first loss through the studio's job manager: a training process per run, from a warm fork server.

    python bench/first_loss.py [--rounds 3] [--rows 4000] [--datasets sst2,banking77] [--out results.json]

For each data set, alternately (so both see the same machine load):
  in-process   jobs.execute() in a thread of a process that has imported the training code (how the studio
               trained before runs had a process of their own; the figure BENCHMARKS.md reported as 0.8-1.7 s)
  job manager  JobManager.submit() with the fork server already warm, to the first `step` event in the run's
               events.jsonl (what the page shows first), the run stopped right after it.
Both are also timed to the moment the training writes its status "running" (the process start's own cost).
Default preset, full fine-tuning (as bench/run.py measures it), the bundled model, the first ROWS rows of the data set's training file (stratified, seed 42).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
SHARED = Path(os.environ.get("STUDIO_SHARED") or ROOT.parent / "shared").resolve() / "datasets"
DATASETS = {"sst2": ("sst2/train.tsv", "sst2/dev.tsv", "sentence", "label", "\t"),
            "banking77": ("banking77/train.csv", "banking77/test.csv", "text", "category", ",")}


def sample(name: str, rows: int, work: Path) -> tuple[Path, Path, str, str]:
    import pandas as pd
    from sklearn.model_selection import train_test_split
    train, test, text, label, sep = DATASETS[name]
    table = pd.read_csv(SHARED / train, sep=sep)
    if len(table) > rows:
        table, _ = train_test_split(table, train_size=rows, stratify=table[label], random_state=42)
    path = work / f"{name}-train.csv"
    table[[text, label]].to_csv(path, index=False)
    test_table = pd.read_csv(SHARED / test, sep=sep)[[text, label]]
    test_path = work / f"{name}-test.csv"
    test_table.to_csv(test_path, index=False)
    return path, test_path, text, label


def config_for(train: Path, test: Path, text: str, label: str):
    from studio import models, presets
    from studio.config import DataConfig
    data = DataConfig(train_file=str(train), test_file=str(test), text_column=text, label_column=label)
    model_config = models.load_config(models.DEFAULT_MODEL)
    return presets.build_config(data, models.DEFAULT_MODEL, "full", presets.DEFAULT_PRESET, "cpu",
                                hidden_size=model_config.hidden_size, layer_count=models.layer_count_of(model_config))


def first_step_time(run, t0: float, timeout: float = 600) -> tuple[float | None, float | None]:
    """(seconds to the training's first status "running", seconds to the first step event) from t0."""
    deadline = time.time() + timeout
    offset = 0
    while time.time() < deadline:
        events, offset = run.events(offset)
        for e in events:
            if e.get("type") == "step":
                started = run.recorded_status().get("started")
                return (started - t0 if started else None), e["time"] - t0
        time.sleep(0.005)
    return None, None


def in_process(config, runs_dir: Path) -> float | None:
    from studio import jobs
    from studio.runs import Run
    t0 = time.time()
    run = Run.create(runs_dir, config)
    seen = threading.Event()
    thread = threading.Thread(target=jobs.execute, args=(run, seen.is_set), daemon=True)
    thread.start()
    took = first_step_time(run, t0)
    seen.set()
    thread.join()
    return took


def job_manager(manager, config) -> float | None:
    t0 = time.time()
    run = manager.submit(config)
    took = first_step_time(run, t0)
    manager.cancel(run.id)
    manager.wait(run.id)
    return took


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--rows", type=int, default=4000)
    p.add_argument("--datasets", default="sst2,banking77")
    p.add_argument("--out")
    a = p.parse_args()
    from studio import jobs
    from studio import training  # noqa: F401  the in-process side's imports, as the app had them
    import transformers.models.bert.modeling_bert  # noqa: F401
    work = Path(tempfile.mkdtemp(prefix="first-loss-"))
    t = time.time()
    jobs.warm_up()
    warm_s = time.time() - t
    manager = jobs.JobManager(work / "runs")
    results = {"fork_server_start_s": round(warm_s, 2), "load_average_start": os.getloadavg()[0]}
    for name in a.datasets.split(","):
        config = config_for(*sample(name, a.rows, work))
        times = {"in_process": [], "job_manager": []}
        for _ in range(a.rounds):
            times["in_process"].append(in_process(config, work / "runs-in-process"))
            times["job_manager"].append(job_manager(manager, config))
        results[name] = {k: {"to_running_median_s": round(statistics.median(t[0] for t in v), 3),
                             "to_first_step_median_s": round(statistics.median(t[1] for t in v), 2),
                             "all_s": [[round(x, 3) for x in t] for t in v]} for k, v in times.items()}
        print(name, json.dumps(results[name]), flush=True)
    results["load_average_end"] = os.getloadavg()[0]
    print(json.dumps(results, indent=2))
    if a.out:
        Path(a.out).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
