"""A run's time and memory before it starts, calibrated by this machine's own measured pace. Plain arithmetic.

The anchor is a measurement (bench/run.py, a quiet 2-core CPU): all-MiniLM-L6-v2 (6 layers, 384
wide), full fine-tuning on sst2 sentences of about 13 tokens. Per sample that is a fixed part (the
optimizer, paid once per batch and scaled by the trainable weights) plus a part that grows with the
tokens and with layers x width^2, plus a per-step overhead. Other models and methods are scaled
from there. Checked against the default preset in BENCHMARKS.md (CPU run of 2026-11-23): sst2,
4,000 rows, estimated 161 s, measured 141 s; banking77 350 s against 393 s.

A CUDA GPU is anchored on an H100 instead: a step replayed from a CUDA graph costs about 4 ms
whatever the batch for a small model, plus arithmetic measured on BERT-base (22.6 ms for 64 x 128
tokens), plus capturing the graphs once; evaluation runs eagerly, about 6 ms a batch. An Apple GPU
is taken as ten times the CPU. Good to a factor of two, not better.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .runs import list_runs

REF_WORK = 6 * 384 ** 2          # layers x width^2 of the measured model
REF_PARAMS = 22.7e6              # its parameters
REF_THREADS = 2
SECONDS_PER_TOKEN = 0.0002       # per sample, per token, at REF_WORK on REF_THREADS threads
SECONDS_PER_STEP = 0.055         # Python and data handling per optimizer step, whatever the model
SECONDS_FIXED = 0.004            # per sample at batch 32, for REF_PARAMS trainable parameters (optimizer, embeddings)
SPEEDUP = {"cpu": 1.0, "mps": 10.0}
GPU_SECONDS_PER_STEP = 0.004     # a replayed training step of a small model, mostly fixed overhead
GPU_SECONDS_PER_TOKEN = 2.8e-6 / 8  # per token at REF_WORK (BERT-base, 8x the work, 22.6 ms for 8,192 tokens)
GPU_SETUP_SECONDS = 2.0          # warming up and capturing one graph per batch width
GPU_SECONDS_PER_EVAL_BATCH = 0.006
FORWARD_SHARE = 1 / 3            # a forward pass alone costs about a third of forward + backward
BYTES_PER_ACTIVATION = 48        # per token, per width unit, per trained layer (fp32, attention included)


@dataclass
class Estimate:
    seconds: float
    memory_bytes: float
    samples_per_s: float


def estimate_run(*, layers: int, width: int, total_params: int, trainable_params: int, method: str,
                 freeze_layers: int, train_rows: int, eval_rows: int, evaluations: int, epochs: float,
                 batch_size: int, tokens: float, longest_tokens: float, device: str, threads: int) -> Estimate:
    layers = max(1, layers)
    batch_size = max(1, batch_size)
    work = layers * width ** 2 / REF_WORK
    trained_layers = layers
    if method == "freeze":
        trained_layers -= layers if freeze_layers < 0 else min(freeze_layers, layers)
    # Frozen layers are computed once (a forward pass); trained ones every step, forward and backward.
    train_share = trained_layers / layers if method == "freeze" else (0.8 if method == "lora" else 1.0)
    memory = (total_params * 4 + trainable_params * 12
              + batch_size * longest_tokens * width * max(1, trained_layers) * BYTES_PER_ACTIVATION)
    if device == "cuda":
        seconds, samples_per_s = _gpu_time(work * tokens, train_share, train_rows, eval_rows, evaluations, epochs,
                                           batch_size)
        return Estimate(seconds=seconds, memory_bytes=memory, samples_per_s=samples_per_s)
    speed = SPEEDUP.get(device, 1.0) * (threads / REF_THREADS if device == "cpu" else 1.0)
    per_token = SECONDS_PER_TOKEN * work * tokens / speed
    optimizer = SECONDS_FIXED * (trainable_params / REF_PARAMS) * (32 / batch_size)
    fixed = (SECONDS_PER_STEP / batch_size + optimizer) / speed
    per_sample = per_token * train_share + fixed
    seconds = train_rows * epochs * per_sample
    if method == "freeze":
        seconds += (train_rows + eval_rows) * per_token * FORWARD_SHARE * (1 - trained_layers / layers)
    seconds += eval_rows * (evaluations + 1) * per_token * FORWARD_SHARE
    return Estimate(seconds=seconds, memory_bytes=memory, samples_per_s=1 / per_sample if per_sample else 0.0)


def _gpu_time(work_tokens: float, train_share: float, train_rows: int, eval_rows: int, evaluations: int,
              epochs: float, batch_size: int) -> tuple[float, float]:
    """(seconds, samples/s) on a CUDA GPU: a fixed cost per replayed step plus arithmetic; work_tokens is the
    per-example work relative to the anchor model (layers x width^2) times the tokens."""
    per_example = GPU_SECONDS_PER_TOKEN * work_tokens
    per_step = GPU_SECONDS_PER_STEP + batch_size * per_example * train_share
    steps = -(-train_rows // batch_size) * epochs
    eval_batches = -(-eval_rows // max(64, 2 * batch_size))
    seconds = (GPU_SETUP_SECONDS + steps * per_step
               + (evaluations + 1) * (eval_batches * GPU_SECONDS_PER_EVAL_BATCH + eval_rows * per_example * FORWARD_SHARE))
    return seconds, batch_size / per_step


# --- calibration: this machine's own measured pace ------------------------------------------------
ESTIMATE_FILE = "estimate.json"   # written beside a run's events when it starts from the page
CALIBRATION_RUNS = 3              # the newest runs with both an estimate and measured steps


def record_estimate(run_dir, samples_per_s: float, seconds: float, device: str) -> None:
    """Keep the estimate shown when a run started, so later estimates can learn from how far off it was."""
    path = Path(run_dir) / ESTIMATE_FILE
    try:
        path.write_text(json.dumps({"samples_per_s": samples_per_s, "seconds": seconds, "device": device}),
                        encoding="utf-8")
    except OSError:
        pass  # an estimate that cannot be kept costs nothing but the calibration


def measured_speed(events: list[dict]) -> float | None:
    """Training texts per second over a run's logged steps (the first step, which warms up, left out)."""
    speeds = sorted(e["samples_per_s"] for e in events
                    if e.get("type") == "step" and e.get("step", 0) > 1 and e.get("samples_per_s"))
    return speeds[len(speeds) // 2] if speeds else None


def calibration(runs_dir, device: str) -> float | None:
    """How many times longer than estimated this machine's recent runs took per text (the median of the newest
    few), or None before any run measured one. Estimates are multiplied by it."""
    ratios = []
    for run in list_runs(runs_dir):
        try:
            kept = json.loads((Path(run.path) / ESTIMATE_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if kept.get("device") != device or not kept.get("samples_per_s"):
            continue
        speed = measured_speed(run.events()[0])
        if speed:
            ratios.append(kept["samples_per_s"] / speed)
        if len(ratios) == CALIBRATION_RUNS:
            break
    if not ratios:
        return None
    ratios.sort()
    return max(0.1, min(10.0, ratios[len(ratios) // 2]))


def remaining_seconds(steps: list[dict], total_steps: int, window: int = 20) -> float | None:
    """Time left at the pace measured over the last `window` logged steps (evaluations between them included, so
    the pace corrects itself as the run goes); None before two steps were logged. `steps` hold step and time."""
    timed = [s for s in steps if s.get("time") is not None and s.get("step")]
    if len(timed) < 2:
        return None
    recent = timed[-window:]
    first, last = recent[0], recent[-1]
    if last["step"] <= first["step"]:
        return None
    pace = (last["time"] - first["time"]) / (last["step"] - first["step"])
    return max(0.0, (total_steps - last["step"]) * pace)
