"""Frozen bottom layers computed once: the model surgery that lets training skip them.

With the embeddings and the bottom k layers frozen, their output for a row is the same every epoch.
`frozen_outputs` runs only those layers once per row; inside `skip_frozen` the model then takes those
outputs as `inputs_embeds` and runs only the layers above them, so every epoch trains at the cost of
the top of the model alone.
"""
from __future__ import annotations

import contextlib

import torch
from torch import nn

from . import models
from .batches import pad_batch, sorted_batches


class _Passthrough(nn.Module):
    """Stands in for the embeddings: the input already is the output of the frozen layers."""
    def forward(self, *args, inputs_embeds=None, **kwargs):
        if inputs_embeds is None:  # DistilBERT hands it over by position: embeddings(input_ids, inputs_embeds)
            inputs_embeds = next(a for a in args if torch.is_tensor(a) and a.is_floating_point())
        return inputs_embeds


def layer_slot(model: nn.Module, layers: nn.ModuleList) -> tuple[nn.Module, str]:
    """The module holding the layer stack and the attribute name it is held under."""
    owner = next(m for m in model.modules() if any(c is layers for c in m.children()))
    return owner, next(name for name, c in owner.named_children() if c is layers)


@contextlib.contextmanager
def skip_frozen(model: nn.Module, k: int):
    """Within the block the model takes the hidden states after layer k as `inputs_embeds`."""
    base, layers = models.base_of(model), models.layers_of(model)
    owner, attr = layer_slot(model, layers)
    embeddings = base.embeddings
    base.embeddings = _Passthrough()
    setattr(owner, attr, nn.ModuleList(list(layers)[k:]))
    try:
        yield
    finally:
        base.embeddings = embeddings
        setattr(owner, attr, layers)


@contextlib.contextmanager
def only_bottom(model: nn.Module, k: int):
    """Run just the embeddings and the bottom k layers (the rest is skipped, not computed and thrown away)."""
    layers = models.layers_of(model)
    owner, attr = layer_slot(model, layers)
    setattr(owner, attr, nn.ModuleList(list(layers)[:k]))
    try:
        yield
    finally:
        setattr(owner, attr, layers)


@torch.inference_mode()
def frozen_outputs(model: nn.Module, k: int, ids: list[list[int]], pad_id: int, device: torch.device,
                   batch_size: int, store: torch.device, autocast) -> list[torch.Tensor]:
    """Hidden states after the embeddings and the bottom k layers, one [length, hidden] tensor per example."""
    base, layers = models.base_of(model), models.layers_of(model)
    captured = {}
    hook = (layers[k - 1] if k > 0 else base.embeddings).register_forward_hook(
        lambda m, i, out: captured.__setitem__("h", out[0] if isinstance(out, tuple) else out))
    out: list[torch.Tensor | None] = [None] * len(ids)
    try:
        with only_bottom(model, k):
            for batch in sorted_batches([len(r) for r in ids], batch_size):
                input_ids, mask = pad_batch([ids[i] for i in batch], pad_id, device)
                with autocast():
                    base(input_ids=input_ids, attention_mask=mask)
                hidden = captured["h"].float()
                for row, i in enumerate(batch):
                    out[i] = hidden[row, :len(ids[i])].to(store).clone()
    finally:
        hook.remove()
    return out


def cache_budget_bytes(device: torch.device) -> int:
    """How much memory the cached frozen outputs may take."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free * 0.3)
    try:
        import psutil
        return int(psutil.virtual_memory().available * 0.25)
    except ImportError:
        return 2 * 1024 ** 3


def frozen_depth(model: nn.Module, method: str, freeze_layers: int) -> int:
    """How many bottom layers are frozen and can be computed once (0 when none or not a freeze run)."""
    if method != "freeze":
        return 0
    n = len(models.layers_of(model))
    return n if freeze_layers < 0 else min(freeze_layers, n)


def freeze_dropout(model: nn.Module, method: str, freeze_layers: int, cached: bool) -> None:
    """Frozen layers run in eval mode, so they give the same output whether cached or not."""
    if method != "freeze" or cached:
        return
    k = frozen_depth(model, method, freeze_layers)
    models.embeddings_of(model).eval()
    for layer in models.layers_of(model)[:k]:
        layer.eval()
