"""The training process of one run: started by the JobManager, it works on the run folder and nothing else.

The studio starts it from a fork server that has imported this module (so torch, transformers and the
training code) once: a run pays for a fork, not for those imports, before its first loss (BENCHMARKS.md,
"Start to first loss"). It holds the run's lock while it lives (runs.Lease, taken in jobs.execute), writes
what it prints to output.log (with the Python stack if it crashes in native code), and stops at the next
optimizer step when the stop file appears or on SIGTERM/SIGINT (keeping the best model so far).
"""
from __future__ import annotations

import faulthandler
import os
import subprocess
import sys
from pathlib import Path

from . import jobs, runs, training  # noqa: F401  (imported once in the fork server: that is the point)


def preload() -> None:
    """What every run needs and would otherwise import on its own clock, after Start (all lazy elsewhere)."""
    import charset_normalizer  # noqa: F401  reading the data
    import sklearn.linear_model  # noqa: F401  the fitted head
    import sklearn.model_selection  # noqa: F401  splits
    import transformers
    for name in ("AutoConfig", "AutoTokenizer", "AutoModelForSequenceClassification", "pipeline"):
        getattr(transformers, name)
    from transformers.models.bert import modeling_bert, tokenization_bert  # noqa: F401  the bundled model's family


preload()


def train_run(run_dir: str, resume: bool = False) -> None:
    """Train the run in `run_dir` in this process (what the JobManager's training processes run)."""
    run = runs.Run(Path(run_dir))
    _output_to(run.path / runs.OUTPUT_LOG)
    with jobs.stop_on_signals(run.path):
        devices = getattr(run.config().train, "devices", 1) or 1
        if devices > 1:
            _train_distributed(run, devices, resume)
        else:
            jobs.execute(run, resume=resume)
    sys.stdout.flush()
    sys.stderr.flush()


def fresh_if_cuda_was_forked(run_dir: str, resume: bool) -> None:
    """A fork of a process that had started CUDA cannot use it: become a fresh interpreter for this run
    (it keeps its pid, its session and the studio's watch over it; it only pays for the imports)."""
    import torch
    if torch.cuda._is_in_bad_fork():
        os.execv(sys.executable, [sys.executable, "-m", "studio.worker", run_dir, *(["--resume"] if resume else [])])


def main(argv: list[str] | None = None) -> int:
    """python -m studio.worker RUN_DIR [--resume]: train a run folder in this process, as the studio does."""
    import argparse
    p = argparse.ArgumentParser(prog="python -m studio.worker", description=main.__doc__)
    p.add_argument("run_dir")
    p.add_argument("--resume", action="store_true")
    a = p.parse_args(argv)
    train_run(a.run_dir, a.resume)
    return 0


def _output_to(log: Path) -> None:
    """stdout and stderr into the run's output.log (the studio's terminal may be gone); a crash's stack too."""
    try:
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    except OSError:
        fd = os.open(os.devnull, os.O_WRONLY)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    faulthandler.enable(sys.stderr)


def _train_distributed(run: runs.Run, devices: int, resume: bool) -> None:
    """Several processes through torchrun (studio.distributed): this process holds the run and waits for them."""
    from . import distributed
    with runs.Lease(run.path):
        run.set_status("running", f"Starting {devices} training processes.")
        extra = {"resume": True} if resume else {}
        command = distributed.launch_command(run.path, devices, **extra)
        code = subprocess.call(command, env=os.environ.copy())
        if run.recorded_status().get("state") in runs.ACTIVE_STATES:
            jobs._failed(run, run.append_event, jobs.crash_sentence(code, run), crashed=code < 0)


if __name__ == "__main__":
    sys.exit(main())
