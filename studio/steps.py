"""One optimizer step: gather the batch, forward, loss, backward, clip, AdamW, clear the gradients.

On a CPU the step simply runs. On a GPU a small model is bound by the Python and kernel-launch
overhead of those few hundred operations, not by arithmetic (MiniLM on an H100: about 17 ms a
step run eagerly, 3 ms replayed from a CUDA graph; see BENCHMARKS.md). So on CUDA each batch
width gets its own graph: the first batch of a width runs eagerly (a real step that also warms
up), the second captures the graph, and every later one only copies its row numbers into the
graph's input and replays it. Anything unusual (a partial last batch, a capture that fails) runs
eagerly, so the result never depends on whether graphs were used.
"""
from __future__ import annotations

import contextlib
from typing import Callable

import torch
from torch import nn


# Capturing costs about as much as a few eager steps (H100, MiniLM: a 2-epoch LoRA run on banking77 trained
# in 9.9 s when a width needed 12 uses to be captured, 4.0 s at 4).
MIN_USES_FOR_A_GRAPH = 4


class Stepper:
    """Runs training steps for one split; keeps the summed loss on the device until it is read."""

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer, loss_fn: nn.Module,
                 make_batch: Callable[[torch.Tensor, int], tuple[dict, torch.Tensor]], batch_size: int,
                 device: torch.device, autocast, use_graphs: bool, scaler: "torch.amp.GradScaler | None" = None):
        self.model, self.optimizer, self.loss_fn = model, optimizer, loss_fn
        self.make_batch, self.batch_size, self.device, self.autocast = make_batch, batch_size, device, autocast
        self.trained = [p for p in model.parameters() if p.requires_grad]
        self.scaler = scaler
        # A gradient scaler reads its overflow check on the host at every step: no graph can hold that.
        self.use_graphs = use_graphs and device.type == "cuda" and scaler is None
        self.loss_sum = torch.zeros((), device=device)
        self.count = 0
        self.graphs: dict[int, tuple[torch.cuda.CUDAGraph, torch.Tensor]] = {}
        self.expected_uses: dict[int, float] | None = None
        self.seen_widths: set[int] = set()
        self.fallback_reason: str | None = None
        if self.use_graphs:
            # Graphs read and write fixed addresses: the gradients must live outside them, cleared in place.
            for p in self.trained:
                p.grad = torch.zeros_like(p)
            self.pool = torch.cuda.graph_pool_handle()

    def _compute(self, index: torch.Tensor, width: int, scale: float = 1.0) -> None:
        batch, labels = self.make_batch(index, width)
        with self.autocast():
            logits = self.model(**batch).logits
        loss = self.loss_fn(logits.float(), labels)
        scaled = loss * scale if scale != 1.0 else loss  # a share of a batch split over processes
        if self.scaler is not None:
            self.scaler.scale(scaled).backward()
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.trained, 1.0)
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            scaled.backward()
            torch.nn.utils.clip_grad_norm_(self.trained, 1.0)
            self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=not self.use_graphs)
        self.loss_sum.add_(loss.detach())

    def expect(self, uses: dict[int, float]) -> None:
        """How many more full batches each width will get; a width too rare to repay its capture runs eagerly."""
        self.expected_uses = uses

    def step(self, index: torch.Tensor, width: int, scale: float = 1.0) -> None:
        """One optimizer step on the rows in `index` (a tensor on the device), padded to `width` tokens.

        `scale` multiplies the loss before the backward pass (a process's share of a batch split over several)."""
        self.count += 1
        rare = self.expected_uses is not None and self.expected_uses.get(width, 0) < MIN_USES_FOR_A_GRAPH
        if not self.use_graphs or len(index) != self.batch_size or (rare and width not in self.graphs):
            return self._compute(index, width, scale)
        graph = self.graphs.get(width)
        if graph is None and width in self.seen_widths:
            graph = self._capture(width)
        if graph is None:
            self.seen_widths.add(width)
            return self._warm_step(index, width)
        g, static_index = graph
        static_index.copy_(index)
        g.replay()

    def _warm_step(self, index: torch.Tensor, width: int) -> None:
        side = torch.cuda.Stream(self.device)
        side.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(side):
            self._compute(index, width)
        torch.cuda.current_stream(self.device).wait_stream(side)

    def _capture(self, width: int):
        static_index = torch.zeros(self.batch_size, dtype=torch.long, device=self.device)
        g = torch.cuda.CUDAGraph()
        try:
            # thread_local: the app's other threads may use the GPU (the playground) while a run captures
            with torch.cuda.graph(g, pool=self.pool, capture_error_mode="thread_local"):
                self._compute(static_index, width)
        except torch.OutOfMemoryError:
            raise
        except Exception as err:  # a model with host-side logic in its forward: train without graphs
            self.fallback_reason = f"{type(err).__name__}: {err}"
            self.use_graphs = False
            self.graphs.clear()
            return None
        self.graphs[width] = (g, static_index)
        return self.graphs[width]

    def read_loss(self) -> float:
        """Mean loss since the last read (one host synchronisation), then start summing again."""
        value = self.loss_sum.item() / max(1, self.count)
        self.loss_sum.zero_()
        self.count = 0
        return value


def precision_for(device: torch.device, capability: tuple[int, int] | None = None) -> str:
    """"bf16" where the GPU computes it natively (compute capability 8.0 and up: A100, RTX 30xx and later, H100),
    "fp16" with a gradient scaler on older NVIDIA GPUs (T4, V100), "fp32" elsewhere.

    torch.cuda.is_bf16_supported() also answers yes where bf16 is only emulated, which on a T4 or V100 is
    slower than fp32; the compute capability says what the hardware does.
    """
    if device.type != "cuda":
        return "fp32"
    if capability is None:
        if getattr(torch.version, "hip", None):  # AMD: no compute capability in NVIDIA's sense
            return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        capability = torch.cuda.get_device_capability(device)
    return "bf16" if tuple(capability) >= (8, 0) else "fp16"


def autocast_for(precision: str) -> Callable[[], contextlib.AbstractContextManager]:
    """The autocast context to run forward passes in, for a precision of precision_for."""
    return {"bf16": bf16_autocast, "fp16": fp16_autocast}.get(precision, contextlib.nullcontext)


def gradient_scaler_for(precision: str, device: torch.device) -> "torch.amp.GradScaler | None":
    """fp16 gradients underflow without loss scaling; bf16 and fp32 need none."""
    return torch.amp.GradScaler(device.type) if precision == "fp16" else None


def fp16_autocast():
    """fp16 autocast on CUDA for GPUs without native bf16 (paired with a gradient scaler)."""
    return torch.autocast("cuda", dtype=torch.float16, cache_enabled=False)


def bf16_autocast():
    """bf16 autocast on CUDA, without the weight-cast cache: a CUDA graph must recompute the casts at every replay."""
    return torch.autocast("cuda", dtype=torch.bfloat16, cache_enabled=False)


def set_learning_rate(optimizer: torch.optim.Optimizer, value: float) -> None:
    """Works for a float learning rate and for the tensor one a CUDA graph reads at each replay."""
    for group in optimizer.param_groups:
        if isinstance(group["lr"], torch.Tensor):
            group["lr"].fill_(value)
        else:
            group["lr"] = value


def warmup_then_linear(warmup_steps: int, total_steps: int) -> Callable[[int], float]:
    """The learning-rate factor for the step about to be taken: linear warm-up, then linear decay to zero."""
    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / max(1, warmup_steps)
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))
    return factor


def optimizer_for(model: nn.Module, lr: float, weight_decay: float, device: torch.device,
                  capturable: bool = False) -> torch.optim.Optimizer:
    """AdamW without weight decay on biases and norms; fused on CUDA, and graph-capturable when asked."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (no_decay if p.ndim < 2 or "LayerNorm" in name or "layer_norm" in name else decay).append(p)
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    cuda = device.type == "cuda"
    rate = torch.tensor(lr, dtype=torch.float32, device=device) if capturable and cuda else lr
    return torch.optim.AdamW(groups, lr=rate, fused=cuda, capturable=capturable and cuda)

