"""A rough estimate of a run's time and memory before it starts. Plain arithmetic, no gradio.

The anchor is a measurement (bench/run.py, a quiet 2-core CPU): all-MiniLM-L6-v2 (6 layers, 384
wide), full fine-tuning on sst2 sentences of about 13 tokens, trained about 120 samples/s at batch
32 and 80 at batch 16. Per sample that is a fixed part (the optimizer and embeddings, paid once per
batch) plus a part that grows with the tokens and with layers x width^2, plus a per-step overhead. Other models, methods and devices are scaled from there; a
GPU is assumed to be about a hundred times faster. Good to a factor of two, not better.
"""
from __future__ import annotations

from dataclasses import dataclass

REF_WORK = 6 * 384 ** 2          # layers x width^2 of the measured model
REF_PARAMS = 22.7e6              # its parameters
REF_THREADS = 2
SECONDS_PER_TOKEN = 0.0002       # per sample, per token, at REF_WORK on REF_THREADS threads
SECONDS_PER_STEP = 0.055         # Python and data handling per optimizer step, whatever the model
SECONDS_FIXED = 0.004            # per sample at batch 32, for REF_PARAMS trainable parameters (optimizer, embeddings)
SPEEDUP = {"cpu": 1.0, "mps": 10.0, "cuda": 100.0}
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
    work = layers * width ** 2 / REF_WORK
    speed = SPEEDUP.get(device, 1.0) * (threads / REF_THREADS if device == "cpu" else 1.0)
    per_token = SECONDS_PER_TOKEN * work * tokens / speed
    trained_layers = layers
    if method == "freeze":
        frozen = layers if freeze_layers < 0 else min(freeze_layers, layers)
        trained_layers = layers - frozen
    # Frozen layers are computed once (a forward pass); trained ones every step, forward and backward.
    train_share = trained_layers / layers if method == "freeze" else (0.8 if method == "lora" else 1.0)
    batch_size = max(1, batch_size)
    optimizer = SECONDS_FIXED * (trainable_params / REF_PARAMS) * (32 / batch_size)
    fixed = (SECONDS_PER_STEP / batch_size + optimizer) / speed
    per_sample = per_token * train_share + fixed
    seconds = train_rows * epochs * per_sample
    if method == "freeze":
        seconds += (train_rows + eval_rows) * per_token * FORWARD_SHARE * (1 - trained_layers / layers)
    seconds += eval_rows * (evaluations + 1) * per_token * FORWARD_SHARE
    memory = (total_params * 4 + trainable_params * 12
              + batch_size * longest_tokens * width * max(1, trained_layers) * BYTES_PER_ACTIVATION)
    return Estimate(seconds=seconds, memory_bytes=memory, samples_per_s=1 / per_sample if per_sample else 0.0)
