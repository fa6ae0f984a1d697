"""CPU seconds the studio spends per polling tick of one open page, when nothing changes.

Starts `launch.py` on a runs folder holding one finished run with many logged steps, connects one page
(a gradio_client session), lets its first tick read the run, then calls the page's poll N times and reads
the server process's CPU time from /proc before and after.

    PYTHONPATH=$PWD .venv/bin/python bench/poll_cost.py [--ticks 200]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fake_run(runs: Path, steps: int) -> str:
    run = runs / "20260101-000000-abcd"
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"name": "poll bench", "data": {"train_file": "x.csv"}}))
    now = time.time()
    events = [{"type": "started", "time": now, "device": "CPU", "train_rows": 1000, "total_steps": steps,
               "epochs": 5, "labels": ["a", "b"]}]
    for step in range(1, steps + 1):
        events.append({"type": "step", "time": now + step, "step": step, "epoch": step / 100, "loss": 1 / step,
                       "samples_per_s": 300, "progress": step / steps, "eta_s": steps - step})
        if step % 100 == 0:
            events.append({"type": "eval", "time": now + step, "step": step, "epoch": step / 100, "loss": 0.5,
                           "accuracy": 0.8, "macro_f1": 0.8, "best": True})
    events.append({"type": "finished", "time": now + steps, "accuracy": 0.8, "macro_f1": 0.8})
    (run / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    (run / "status.json").write_text(json.dumps({"state": "finished", "message": "", "started": now,
                                                 "ended": now + steps}))
    return run.name


def handler_cost(runs: Path, run_id: str, n: int = 2000) -> float:
    """CPU seconds of train_tab.poll itself on a tick that finds nothing new (in this process)."""
    from studio.ui import train_tab
    from studio.ui.context import Studio
    studio = Studio.create(runs)
    watch = train_tab.poll(studio, run_id, None, "en")["watch"]
    watch = (train_tab.poll(studio, run_id, watch, "en") or {}).get("watch", watch)
    start = time.process_time()
    for _ in range(n):
        train_tab.poll(studio, run_id, watch, "en")
    return (time.process_time() - start) / n


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--ticks", type=int, default=200)
    p.add_argument("--steps", type=int, default=2000)
    a = p.parse_args()
    from gradio_client import Client
    from studio.sharing import free_port
    runs = Path(tempfile.mkdtemp(prefix="poll-bench-"))
    run_id = fake_run(runs, a.steps)
    port = free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    server = subprocess.Popen([sys.executable, "launch.py", "--port", str(port), "--runs-dir", str(runs)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(240):
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        client = Client(url, verbose=False)
        for _ in range(3):
            client.predict("en", api_name="/poll")  # the first ticks read the run; later ones find nothing new
        before = cpu_seconds(server.pid)
        start = time.perf_counter()
        for _ in range(a.ticks):
            client.predict("en", api_name="/poll")
        wall = time.perf_counter() - start
        used = cpu_seconds(server.pid) - before
        print(f"{a.ticks} ticks, run with {a.steps} logged steps: {used / a.ticks * 1000:.1f} ms CPU per tick "
              f"in the studio's process ({wall / a.ticks * 1000:.1f} ms wall per tick)")
        print(f"the poll handler alone: {handler_cost(runs, a.steps and run_id) * 1000:.3f} ms CPU per tick")
        interval = getattr(__import__("studio.ui.train_tab", fromlist=["x"]), "IDLE_TICK_SECONDS", 1.0)
        print(f"a page showing an ended run ticks every {interval:g} s: "
              f"{used / a.ticks * 60 / interval:.2f} CPU-s per minute per open page")
    finally:
        server.terminate()
        server.wait(timeout=20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
