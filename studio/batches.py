"""Token ids in, padded batches out: little padding on a CPU, one gather per batch on a GPU.

Every split is tokenized once and kept as one flat tensor on the training device (`Packed`), so a
batch costs one indexing kernel instead of a Python loop and a host-to-device copy per step.
"""
from __future__ import annotations

import numpy as np
import torch


def tokenize(tokenizer, texts: list[str], max_length: int) -> list[list[int]]:
    return tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]


def length_grouped_batches(lengths, batch_size: int, rng: np.random.Generator,
                           longest_first: bool = False) -> list[np.ndarray]:
    """Shuffled batches of similar-length examples: little padding, still random order.

    With `longest_first` the batch holding the longest rows (the most memory a step will need) moves to the
    front, so running out of GPU memory happens at the first step, not late in the run.
    """
    order = rng.permutation(len(lengths))
    lengths = np.asarray(lengths)
    batches = []
    chunk = batch_size * 50
    for start in range(0, len(order), chunk):
        part = order[start:start + chunk]
        part = part[np.argsort(-lengths[part], kind="stable")]
        batches += [part[i:i + batch_size] for i in range(0, len(part), batch_size)]
    rng.shuffle(batches)
    if longest_first and batches:
        largest = max(range(len(batches)), key=lambda i: (lengths[batches[i]].max(), len(batches[i])))
        batches.insert(0, batches.pop(largest))
    return batches


def sorted_batches(lengths, batch_size: int) -> list[np.ndarray]:
    """For evaluation: batches in length order, no shuffling."""
    order = np.argsort(-np.asarray(lengths), kind="stable")
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def pad_batch(rows: list[list[int]], pad_id: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    width = padded_width(max(len(r) for r in rows), device)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, :len(r)] = torch.tensor(r, dtype=torch.long)
        mask[i, :len(r)] = 1
    return ids.to(device, non_blocking=True), mask.to(device, non_blocking=True)


def padded_width(width: int, device: torch.device) -> int:
    """On a GPU widths go up in steps of 8 (tensor cores like them, and fewer shapes mean fewer CUDA graphs);
    on a CPU every extra token costs, so there is no rounding."""
    return -(-width // 8) * 8 if device.type == "cuda" else width


def epoch_order(batches: list[np.ndarray], device: torch.device) -> list[torch.Tensor]:
    """The epoch's batches as row-number tensors on the device, sent in one copy."""
    flat = torch.as_tensor(np.concatenate(batches), dtype=torch.long).to(device)
    return list(torch.split(flat, [len(b) for b in batches]))


class Packed:
    """Rows of different lengths in one flat tensor (token ids, or hidden states [length, hidden] per row)."""

    def __init__(self, rows: list, device: torch.device, dtype: torch.dtype | None = None):
        self.lengths = np.array([len(r) for r in rows], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(self.lengths)[:-1]]) if len(rows) else np.zeros(0, np.int64)
        if rows and isinstance(rows[0], torch.Tensor):
            flat = torch.cat(rows)
        else:
            flat = torch.tensor([t for r in rows for t in r], dtype=torch.long)
        self.flat = flat.to(device=device, dtype=dtype or flat.dtype)
        self.starts = torch.as_tensor(starts, dtype=torch.long, device=device)
        self.sizes = torch.as_tensor(self.lengths, dtype=torch.long, device=device)
        self.device = device

    def __len__(self) -> int:
        return len(self.lengths)

    def width_of(self, index: np.ndarray) -> int:
        return padded_width(int(self.lengths[index].max()), self.device)

    def gather(self, index: torch.Tensor, width: int, pad_value=0) -> tuple[torch.Tensor, torch.Tensor]:
        """(values [batch, width, ...] padded with pad_value, attention mask [batch, width]) for the rows in index,
        index a tensor on the device. No host synchronisation: safe inside a CUDA graph."""
        positions = torch.arange(width, device=self.device)
        mask = positions[None, :] < self.sizes[index][:, None]
        flat_index = torch.where(mask, self.starts[index][:, None] + positions[None, :], 0)
        values = self.flat[flat_index]
        if values.ndim == 2:
            values = values.masked_fill(~mask, pad_value)
        else:
            values = values * mask[..., None].to(values.dtype)
        return values, mask.long()
