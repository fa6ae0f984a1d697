"""Training on several processes (GPUs, or CPU processes) with torch.distributed, launched by torchrun.

`python -m studio train ... --devices N` starts `torchrun --nproc_per_node N -m studio.distributed RUN_DIR`.
Every process (rank) reads the same data, builds the same model and takes its share of every global
batch; DistributedDataParallel averages the gradients, so each optimizer step is the step one process
would take on the whole batch. Evaluation is split the same way and gathered. Only rank 0 writes to the
run folder (events, checkpoints, metrics, the model). With one process nothing here does anything.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist


def launch_command(run_dir: str | Path, devices: int, resume: bool = False, echo: bool = False) -> list[str]:
    """The command that trains the run folder on `devices` processes of this machine (torchrun, one node).

    `resume` goes on from the run's checkpoint; `echo` has rank 0 print every event as a JSON line.
    """
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={int(devices)}",
            "-m", "studio.distributed", str(run_dir), *(["--resume"] if resume else []), *(["--echo"] if echo else [])]


def active() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def world_size() -> int:
    return dist.get_world_size() if active() else 1


def rank() -> int:
    return dist.get_rank() if active() else 0


def is_main() -> bool:
    return rank() == 0


def launched() -> bool:
    """Whether this process was started by torchrun with more than one process."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def init_from_env(device_preference: str = "auto") -> torch.device | None:
    """Join the process group torchrun set up: NCCL with one GPU per process, gloo on CPUs. None when not launched."""
    if not launched():
        return None
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = torch.cuda.is_available() and (not device_preference or device_preference == "auto"
                                              or str(device_preference).startswith("cuda"))
    if use_cuda:
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo")
    return torch.device("cuda", local_rank) if use_cuda else torch.device("cpu")


def shutdown() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def share_of(index: np.ndarray) -> tuple[np.ndarray, float]:
    """(this rank's rows of a global batch, the factor for its mean loss).

    A rank takes every world_size-th row starting at its rank; the factor (its share of the rows times the
    number of ranks) makes DistributedDataParallel's average of the ranks' gradients the gradient of the
    whole batch's mean loss, however unevenly the rows split. A rank left without rows steps on one row
    with a factor of 0, so every rank still joins the step.
    """
    if not active():
        return index, 1.0
    world = world_size()
    rows = index[rank()::world]
    if not len(rows):
        return index[:1], 0.0
    return rows, len(rows) * world / len(index)


def agree(value: int) -> int:
    """Rank 0's value on every rank (a stop request reaches all processes at the same step)."""
    if not active():
        return value
    device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")
    t = torch.tensor([value], dtype=torch.long, device=device)
    dist.broadcast(t, 0)
    return int(t.item())


def gather(obj: Any) -> list:
    """Every rank's `obj`, in rank order, on every rank."""
    if not active():
        return [obj]
    out: list = [None] * world_size()
    dist.all_gather_object(out, obj)
    return out


def stop_file_answer(run_dir: Path) -> str | None:
    """should_stop() of rank 0: what the run folder's stop file asks for, if it exists."""
    from .runs import Run
    return Run(run_dir).stop_requested()


def main(argv: list[str] | None = None) -> int:
    """One process of a run started by launch_command: every rank trains, rank 0 records the run in its folder."""
    import argparse
    import json
    parser = argparse.ArgumentParser(prog="python -m studio.distributed")
    parser.add_argument("run_dir")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--echo", action="store_true", help="print every event as a JSON line (rank 0)")
    a = parser.parse_args(argv)
    from . import jobs, training
    from .runs import Run
    run = Run(Path(a.run_dir))
    init_from_env(run.config().train.device)
    try:
        if is_main():
            echo = (lambda event: print(json.dumps(event, ensure_ascii=False), flush=True)) if a.echo else None
            status = jobs.execute(run, lambda: stop_file_answer(run.path), echo=echo, resume=a.resume)
            return 0 if status["state"] in ("finished", "stopped") else 1
        try:
            training.train(run.config(), run.path, lambda event: None, resume=a.resume)
        except training.Cancelled:
            pass
        return 0
    finally:
        shutdown()


if __name__ == "__main__":
    sys.exit(main())
