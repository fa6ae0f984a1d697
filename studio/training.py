"""One blocking train(): a RunConfig in, an evaluated model in a folder out. No threads, no UI.

Reads top to bottom: data -> tokens -> model -> batches -> loop (evaluate, keep the best,
stop early) -> test -> save. Progress leaves through `emit(event)`; `should_stop()` is checked
before every optimizer step.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import random
import shutil
import time
from collections import Counter
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from . import card, data, metrics, models, probe
from .batches import Packed, epoch_order, length_grouped_batches, pad_batch, sorted_batches, tokenize
from .steps import Stepper, bf16_autocast, optimizer_for, set_learning_rate, warmup_then_linear
from .config import RunConfig

Emit = Callable[[dict], None]


class Cancelled(Exception):
    """The user pressed Stop."""


class TrainingError(RuntimeError):
    """Training could not go on; the message says why in plain words."""


# --- device ----------------------------------------------------------------------------------
def pick_device(preference: str = "auto") -> torch.device:
    if preference not in ("auto", "", None):
        return torch.device(preference)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def describe_device(device: torch.device) -> str:
    if device.type == "cuda":
        return f"GPU: {torch.cuda.get_device_name(device)}"
    if device.type == "mps":
        return "Apple GPU (MPS)"
    return f"CPU ({torch.get_num_threads()} threads)"


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# --- data ------------------------------------------------------------------------------------
# A validation score on 30 rows moves 3 points per row: small files give validation at least this many rows
# (up to a quarter of the file), so choosing the checkpoint and stopping early rest on something.
MIN_VALIDATION_ROWS = 50


def validation_fraction(rows: int, asked: float) -> float:
    return max(asked, min(MIN_VALIDATION_ROWS / max(rows, 1), 0.25))


def prepare_splits(config: RunConfig) -> data.Splits:
    """Read the files named in the config and split them as asked; a DataError when they cannot be used."""
    d = config.data
    examples, table, text_col, label_col = data.read_examples(d.train_file, d.text_column, d.label_column, d.encoding)
    given = {"validation": d.validation_file, "test": d.test_file}
    parts = {name: data.read_examples(path, text_col, label_col)[0] if path else None for name, path in given.items()}
    if d.split_column:
        from_column = data.partition_by_split(examples, data.split_values_of(table, d.split_column, examples))
        examples = from_column["train"]
        parts = {name: parts[name] or (from_column[name] if len(from_column[name]) else None) for name in parts}
    if d.max_rows and len(examples.texts) > d.max_rows:
        examples = data.stratified_sample(examples, d.max_rows, seed=config.train.seed)
    splits = data.make_splits(examples, parts["validation"], parts["test"], None,
                              validation_fraction(len(examples.texts), d.val_fraction), d.test_fraction,
                              config.train.seed)
    for name, part in (("validation", splits.validation), ("test", splits.test)):
        if not part.texts and not (name == "validation" and can_skip_validation(config)):
            raise data.DataError(f"With {len(splits.train.texts):,} usable rows nothing is left over for {name}; "
                                 f"add rows (ten or more per label) or give a separate {name} file.")
    return splits


# --- frozen layers computed once -------------------------------------------------------------
class _Passthrough(nn.Module):
    """Stands in for the embeddings: the input already is the output of the frozen layers."""
    def forward(self, *args, inputs_embeds=None, **kwargs):
        if inputs_embeds is None:  # DistilBERT hands it over by position: embeddings(input_ids, inputs_embeds)
            inputs_embeds = next(a for a in args if torch.is_tensor(a) and a.is_floating_point())
        return inputs_embeds


def _layer_slot(model: nn.Module, layers: nn.ModuleList) -> tuple[nn.Module, str]:
    """The module holding the layer stack and the attribute name it is held under."""
    owner = next(m for m in model.modules() if any(c is layers for c in m.children()))
    return owner, next(name for name, c in owner.named_children() if c is layers)


@contextlib.contextmanager
def skip_frozen(model: nn.Module, k: int):
    """Within the block the model takes the hidden states after layer k as `inputs_embeds`."""
    base, layers = models.base_of(model), models.layers_of(model)
    owner, attr = _layer_slot(model, layers)
    embeddings = base.embeddings
    base.embeddings = _Passthrough()
    setattr(owner, attr, nn.ModuleList(list(layers)[k:]))
    try:
        yield
    finally:
        base.embeddings = embeddings
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
        with _only_bottom(model, k):
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


@contextlib.contextmanager
def _only_bottom(model: nn.Module, k: int):
    """Run just the embeddings and the bottom k layers (the rest is skipped, not computed and thrown away)."""
    layers = models.layers_of(model)
    owner, attr = _layer_slot(model, layers)
    setattr(owner, attr, nn.ModuleList(list(layers)[:k]))
    try:
        yield
    finally:
        setattr(owner, attr, layers)


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


# --- evaluation ------------------------------------------------------------------------------
class Inputs:
    """One split ready for the model: token ids, or the frozen layers' outputs when those are skipped,
    packed on the training device with the labels."""

    def __init__(self, ids: list[list[int]], labels: list[int], pad_id: int, device: torch.device):
        self.ids, self.pad_id, self.device = ids, pad_id, device
        self.labels = torch.tensor(labels, dtype=torch.long)
        self.labels_on_device = self.labels.to(device)
        self.tokens = Packed(ids, device)
        self.hidden: Packed | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def lengths(self) -> np.ndarray:
        return self.tokens.lengths

    def width_of(self, index: np.ndarray) -> int:
        return self.tokens.width_of(index)

    def batch(self, index: torch.Tensor, width: int) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """(model inputs, labels) for the rows in index, a tensor on the device."""
        if self.hidden is not None:
            hidden, mask = self.hidden.gather(index, width)
            inputs = {"inputs_embeds": hidden, "attention_mask": mask}
        else:
            ids, mask = self.tokens.gather(index, width, self.pad_id)
            inputs = {"input_ids": ids, "attention_mask": mask}
        return inputs, self.labels_on_device[index]


@torch.inference_mode()
def predict_split(model: nn.Module, split: Inputs, batch_size: int, autocast, loss_fn: nn.Module,
                  should_stop: Callable[[], bool] = lambda: False, capture: nn.Module | None = None):
    """(mean loss, probabilities [n, classes]) over a split; one host synchronisation at the end.

    With `capture`, also the inputs of that module (the head's sentence vectors), as a third item.
    """
    was_training = model.training
    model.eval()
    total_loss = torch.zeros((), device=split.device)
    parts, order, seen = [], [], []
    hook = capture.register_forward_pre_hook(lambda m, args: seen.append(args[0].float())) if capture else None
    try:
        for index in sorted_batches(split.lengths(), batch_size):
            if should_stop():
                raise Cancelled()
            inputs, labels = split.batch(torch.as_tensor(index, device=split.device), split.width_of(index))
            with autocast():
                logits = model(**inputs).logits.float()
            total_loss += loss_fn(logits, labels) * len(index)
            parts.append(torch.softmax(logits, -1))
            order.append(index)
    finally:
        if hook:
            hook.remove()
        model.train(was_training)
    back = np.argsort(np.concatenate(order))  # back to the split's row order
    probs = torch.cat(parts).cpu().numpy()[back]
    if capture is None:
        return total_loss.item() / len(split), probs
    return total_loss.item() / len(split), probs, torch.cat(seen).cpu().numpy()[back]


def subset(split: Inputs, rows: np.ndarray) -> Inputs:
    return Inputs([split.ids[i] for i in rows], split.labels[rows].tolist(), split.pad_id, split.device)


MIN_GAIN = 0.002       # validation macro-F1 must rise this much for early stopping to count it as progress
MIN_LOSS_GAIN = 0.01   # or validation loss fall by this share: a model still sharpening its answers is learning
MIN_PATIENCE_STEPS = 40  # early stopping waits at least this many optimizer steps, however short an epoch


def scores_of(labels: np.ndarray, probs: np.ndarray, loss: float) -> dict:
    """One evaluation: accuracy, macro-F1, loss, and whether every row got the same answer (a useless model)."""
    predicted = probs.argmax(-1)
    scores = metrics.quick_scores(labels, predicted)
    scores["loss"] = loss
    scores["single_label"] = len(set(labels.tolist())) > 1 and len(set(predicted.tolist())) == 1
    return scores


def better(scores: dict, best: dict | None) -> bool:
    """A checkpoint that answers one label for everything never beats one that does not; then macro-F1, then loss."""
    if best is None:
        return True
    key = lambda s: (not s["single_label"], round(s["macro_f1"], 4), -s["loss"])
    return key(scores) > key(best)


# --- the auto method -------------------------------------------------------------------------
HEAD_ONLY_PER_LABEL = 8  # fewer training rows per label than this: the head alone, fitted by logistic regression
SMALL_DATA_ROWS = 2000   # below this many training rows, batch 16: twice the optimizer steps per pass
MIN_STEPS = 150          # fine-tuning takes at least this many optimizer steps, however small the file
MAX_EPOCHS = 30


def can_skip_validation(config: RunConfig) -> bool:
    """The head alone needs no validation rows: cross-validation on the training rows chooses its strength."""
    m = config.model
    return m.method == "auto" or (m.method == "freeze" and m.freeze_layers < 0)


def resolve_auto(config: RunConfig, train_rows: int, num_labels: int,
                 validation: bool = True) -> tuple[RunConfig, str | None]:
    """The concrete method and schedule for `auto`, and one sentence saying why; other methods pass unchanged."""
    if config.model.method != "auto":
        return config, None
    per_label = train_rows / max(num_labels, 1)
    if not validation:
        model = dataclasses.replace(config.model, method="freeze", freeze_layers=-1)
        return dataclasses.replace(config, model=model), (
            "Auto: most labels have too few rows to set any aside for validation, so only the head is fitted, on "
            "the model's sentence vectors (logistic regression, its strength chosen by cross-validation).")
    if per_label < HEAD_ONLY_PER_LABEL:
        model = dataclasses.replace(config.model, method="freeze", freeze_layers=-1)
        return dataclasses.replace(config, model=model), (
            f"Auto: with about {per_label:.0f} training rows per label, fine-tuning would mostly memorise them, so "
            "only the head is fitted, on the model's sentence vectors (logistic regression).")
    t = config.train
    batch = min(t.batch_size, 16) if train_rows < SMALL_DATA_ROWS else t.batch_size
    lr = t.learning_rate * (batch / t.batch_size) ** 0.5  # the presets' rule: the rate follows the batch's square root
    epochs = max(t.epochs, min(MAX_EPOCHS, MIN_STEPS / math.ceil(train_rows / batch)))
    train = dataclasses.replace(t, batch_size=batch, learning_rate=lr, epochs=round(epochs, 2))
    model = dataclasses.replace(config.model, method="full")
    why = "Auto: full fine-tuning, starting from a head fitted by logistic regression on the model's sentence vectors"
    if train_rows < SMALL_DATA_ROWS:
        why += f"; with {train_rows:,} training rows, batch {batch} and at least {MIN_STEPS} optimizer steps"
    return dataclasses.replace(config, model=model, train=train), why + "."


def class_weight_tensor(labels: list[int], num_classes: int) -> torch.Tensor:
    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
    weights = len(labels) / (num_classes * np.maximum(counts, 1))
    return torch.tensor(weights, dtype=torch.float32)


def train(config: RunConfig, out_dir: str | Path, emit: Emit, should_stop: Callable[[], bool] = lambda: False) -> dict:
    """Train as `config` says; write model/, metrics.json and predictions.jsonl into out_dir; return the test metrics.

    On a CUDA out-of-memory error the batch is halved and training starts again (down to 4).
    """
    config.validate()
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    batch_size = config.train.batch_size
    while True:
        try:
            return _train(config, Path(out_dir), emit, should_stop, batch_size)
        except torch.OutOfMemoryError:
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            if batch_size <= 4:
                raise TrainingError("The GPU ran out of memory even at batch size 4; lower the max length "
                                    "or pick a smaller model.") from None
            batch_size //= 2
            emit({"type": "note", "message": f"The GPU ran out of memory; starting again with batch size {batch_size}."})


def _train(config: RunConfig, out_dir: Path, emit: Emit, should_stop: Callable[[], bool], batch_size: int) -> dict:
    seed_everything(config.train.seed)
    device = pick_device(config.train.device)
    use_bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
    autocast = bf16_autocast if use_bf16 else contextlib.nullcontext

    # Data: read, split, tokenize once, and keep on the training device.
    splits = prepare_splits(config)
    no_validation = not splits.validation.texts
    labels = splits.labels
    config, auto_note = resolve_auto(config, len(splits.train.texts), len(labels), validation=not no_validation)
    t, m = config.train, config.model
    batch_size = min(batch_size, t.batch_size)
    label_index = {label: i for i, label in enumerate(labels)}
    tokenizer = models.load_tokenizer(m.name)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    def inputs(examples: data.Examples) -> Inputs:
        return Inputs(tokenize(tokenizer, examples.texts, t.max_length),
                      [label_index[label] for label in examples.labels], pad_id, device)
    train_set, test_set = inputs(splits.train), inputs(splits.test)
    val_set = None if no_validation else inputs(splits.validation)
    eval_loss_fn = nn.CrossEntropyLoss()
    eval_batch = max(64, batch_size * 2)

    # Model: pretrained body, a head fitted on its sentence vectors, the chosen share of it trainable.
    model = models.load_model(m.name, labels).to(device)
    head_only = m.method == "freeze" and _frozen_depth(model, m) >= models.real_layer_count(model)
    probe_seconds, probe_c = None, None
    t_begin = time.perf_counter()  # training time counts the head's fit too
    if t.warm_start or head_only:
        t0 = time.perf_counter()
        fit_rows = probe.rows_to_fit(train_set.labels.numpy(), t.seed)
        head = probe.head_of(model)
        fit_labels = train_set.labels.numpy()[fit_rows]
        *_, vectors = predict_split(model, subset(train_set, fit_rows), eval_batch, autocast, eval_loss_fn,
                                    should_stop, capture=head)
        if val_set is not None:
            *_, val_vectors = predict_split(model, val_set, eval_batch, autocast, eval_loss_fn, should_stop,
                                            capture=head)
        weight, bias, probe_c, probe_cv = probe.fit_head(vectors, fit_labels, len(labels), t.seed,
                                                         balanced=t.class_weights)
        probe.set_head(head, weight, bias)
        probe_seconds = time.perf_counter() - t0
    model = models.apply_method(model, m.method, m.freeze_layers, m.lora_r, m.lora_alpha, m.lora_dropout).to(device)
    trainable, total = models.count_parameters(model)

    # The head alone is exactly what logistic regression fitted: nothing is left to train.
    steps_per_epoch = math.ceil(len(train_set) / batch_size)
    total_steps = 0 if head_only else max(1, math.ceil(t.epochs * steps_per_epoch))

    # Frozen bottom layers give the same output every epoch: compute it once and train only what is above.
    # The test split is predicted once at the end through the whole model, so it needs no cache.
    frozen_k = _frozen_depth(model, m) if total_steps else 0
    cached, notes = False, []
    if frozen_k and t.cache_frozen:
        hidden_size = model.config.hidden_size
        need = sum(int(s.lengths().sum()) for s in (train_set, val_set)) * hidden_size * 4  # steps imply validation
        if need <= cache_budget_bytes(device):
            t0 = time.perf_counter()
            for s in (train_set, val_set):
                if should_stop():
                    raise Cancelled()
                s.hidden = Packed(frozen_outputs(model, frozen_k, s.ids, pad_id, device, 128, device, autocast),
                                  device, torch.float32)
            cached = True
            notes.append({"type": "note", "message": f"Computed the {frozen_k} frozen layers once "
                                             f"({need / 2**20:.0f} MB, {time.perf_counter() - t0:.1f} s); "
                                             "each epoch now trains only the layers above them."})
        else:
            notes.append({"type": "note", "message": "Not enough memory to keep the frozen layers' outputs; "
                                             "computing them every step instead."})

    lr_factor = warmup_then_linear(int(t.warmup_ratio * total_steps), max(total_steps, 1))
    use_graphs = t.cuda_graphs and device.type == "cuda" and total_steps > 0
    optimizer = optimizer_for(model, t.learning_rate, t.weight_decay, device, capturable=use_graphs)
    weights = class_weight_tensor(train_set.labels.tolist(), len(labels)).to(device) if t.class_weights else None
    stepper = Stepper(model, optimizer, nn.CrossEntropyLoss(weight=weights), train_set.batch, batch_size, device,
                      autocast, use_graphs)
    evals_per_epoch = max(1, t.evals_per_epoch)
    eval_every = max(1, steps_per_epoch // evals_per_epoch)
    patience = max(t.patience, math.ceil(MIN_PATIENCE_STEPS / eval_every)) if t.patience else 0
    log_every = max(1, total_steps // 300)

    emit({"type": "started", "device": describe_device(device), "bf16": use_bf16, "labels": labels,
          "train_rows": len(train_set), "validation_rows": len(val_set or []), "test_rows": len(test_set),
          "split": splits.description, "total_steps": total_steps, "steps_per_epoch": steps_per_epoch,
          "epochs": t.epochs, "batch_size": batch_size, "learning_rate": t.learning_rate,
          "method": m.method, "freeze_layers": m.freeze_layers,
          "trainable_parameters": trainable, "total_parameters": total, "frozen_cached": cached})
    if auto_note:
        emit({"type": "note", "message": auto_note})
    for note in notes:
        emit(note)

    trained = stepper.trained
    best = None

    def evaluate(step: int, **extra) -> dict:
        """Score the validation split, keep the weights when they are the best so far, and log it."""
        nonlocal best
        loss, probs = predict_split(model, val_set, eval_batch, autocast, eval_loss_fn, should_stop)
        scores = scores_of(val_set.labels.numpy(), probs, loss)
        improved = better(scores, best)
        if improved:
            best = {**scores, "step": step, "state": [p.detach().clone() for p in trained]}
        emit({"type": "eval", "step": step, "epoch": round(step / steps_per_epoch, 3), "loss": round(loss, 5),
              "accuracy": round(scores["accuracy"], 5), "macro_f1": round(scores["macro_f1"], 5),
              "single_label": scores["single_label"], "best": improved, **extra})
        return scores

    started = time.perf_counter()
    if probe_seconds is not None:
        # The first answer: the fitted head on the untouched model, scored like any checkpoint.
        if val_set is not None:
            evaluate(0, probe=True)
        checked = f", {probe_cv:.1%} right in 3-fold cross-validation" if probe_cv is not None and val_set is None else ""
        emit({"type": "note", "message": f"Fitted the head by logistic regression on the model's sentence vectors "
                                         f"in {probe_seconds:.1f} s (C={probe_c:g}{checked}); "
                                         + ("that is the model." if head_only else "fine-tuning starts from it.")})

    rng = np.random.default_rng(t.seed)
    reference = best  # the last evaluation that counted as progress
    evals_without_gain = 0
    step = seen = seen_at_last_log = 0
    last_log = time.perf_counter()
    context = skip_frozen(model, frozen_k) if cached else contextlib.nullcontext()
    stopped_early = False

    with context:
        model.train()
        _freeze_dropout(model, m, cached)
        while step < total_steps and not stopped_early:
            batches = length_grouped_batches(train_set.lengths(), batch_size, rng)
            widths = [train_set.width_of(index) for index in batches]
            epochs_left = max(1.0, (total_steps - step) / steps_per_epoch)
            stepper.expect({w: n * epochs_left for w, n in Counter(
                w for w, index in zip(widths, batches) if len(index) == batch_size).items()})
            for index, rows, width in zip(batches, epoch_order(batches, device), widths):
                if should_stop():
                    raise Cancelled()
                lr = t.learning_rate * lr_factor(step)
                set_learning_rate(optimizer, lr)
                stepper.step(rows, width)
                step += 1
                seen += len(index)

                if step == 1 or step % log_every == 0 or step == total_steps:
                    now = time.perf_counter()
                    elapsed = now - started
                    emit({"type": "step", "step": step, "epoch": round(step / steps_per_epoch, 3),
                          "loss": round(stepper.read_loss(), 5),
                          "lr": lr,
                          "samples_per_s": round((seen - seen_at_last_log) / max(now - last_log, 1e-9), 1),
                          "progress": round(step / total_steps, 4),
                          "eta_s": round(elapsed / step * (total_steps - step), 1)})
                    last_log, seen_at_last_log = now, seen

                if step % eval_every == 0 or step == total_steps:
                    scores = evaluate(step)
                    # Patience counts evaluations without a real gain in macro-F1 or in loss; hundredths are none.
                    if reference is None or scores["macro_f1"] >= reference["macro_f1"] + MIN_GAIN \
                            or scores["loss"] <= reference["loss"] * (1 - MIN_LOSS_GAIN):
                        reference, evals_without_gain = scores, 0
                    else:
                        evals_without_gain += 1
                    _freeze_dropout(model, m, cached)
                    last_log, seen_at_last_log = time.perf_counter(), seen  # throughput excludes evaluation time
                    if patience and evals_without_gain >= patience and step < total_steps:
                        emit({"type": "note", "message": f"Stopped early at epoch {step / steps_per_epoch:.1f}: "
                                                         f"validation did not improve for {patience} evaluations."})
                        stopped_early = True
                        break
                if step >= total_steps:
                    break

        # The best evaluation's weights.
        if best is not None and best["step"] != step:
            with torch.no_grad():
                for p, saved in zip(trained, best["state"]):
                    p.copy_(saved)
        if best is not None and best["step"] == 0 and probe_seconds is not None:
            # The fitted head won: once chosen, it is fitted again on the validation rows too (same C),
            # which on a small file is a quarter more data for the model that ships.
            weight, bias, *_ = probe.fit_head(np.concatenate([vectors, val_vectors]),
                                             np.concatenate([fit_labels, val_set.labels.numpy()]), len(labels),
                                             t.seed, balanced=t.class_weights, c=probe_c)
            probe.set_head(probe.head_of(model), weight, bias)
            emit({"type": "note", "message": "Kept the fitted head, fitted again on the training and validation "
                                             "rows together."})
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        train_seconds = time.perf_counter() - t_begin
    if stepper.fallback_reason:
        emit({"type": "log", "message": f"Trained without CUDA graphs ({stepper.fallback_reason})."})
    test_loss, probs = predict_split(model, test_set, eval_batch, autocast, eval_loss_fn)

    predicted = probs.argmax(-1)
    report = metrics.full_report(test_set.labels.numpy(), predicted, labels, train_set.labels.numpy())
    best = best or {"macro_f1": None, "accuracy": None, "step": 0}  # no validation rows: nothing was scored there
    report.update({"test_loss": test_loss, "summary": "", "best_validation_macro_f1": best["macro_f1"],
                   "best_validation_accuracy": best["accuracy"], "best_step": best["step"],
                   "method": m.method, "freeze_layers": m.freeze_layers, "auto_note": auto_note,
                   "train_seconds": round(train_seconds, 2), "steps": step,
                   "train_samples_per_s": round(seen / max(train_seconds, 1e-9), 1)})
    report["summary"] = metrics.summarize(report)
    _write_predictions(out_dir, splits.test, labels, predicted, probs)
    save_model(model, tokenizer, out_dir / "model", config, report, splits)
    (out_dir / ".metrics.json.tmp").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(out_dir / ".metrics.json.tmp", out_dir / "metrics.json")
    return report


def _frozen_depth(model: nn.Module, m) -> int:
    """How many bottom layers are frozen and can be computed once (0 when none or not a freeze run)."""
    if m.method != "freeze":
        return 0
    n = len(models.layers_of(model))
    return n if m.freeze_layers < 0 else min(m.freeze_layers, n)


def _freeze_dropout(model: nn.Module, m, cached: bool) -> None:
    """Frozen layers run in eval mode, so they give the same output whether cached or not."""
    if m.method != "freeze" or cached:
        return
    k = _frozen_depth(model, m)
    models.embeddings_of(model).eval()
    for layer in models.layers_of(model)[:k]:
        layer.eval()


def _write_predictions(out_dir: Path, test: data.Examples, labels: list[str], predicted, probs) -> None:
    tmp = out_dir / ".predictions.jsonl.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        for text, true, pred, p in zip(test.texts, test.labels, predicted, probs):
            f.write(json.dumps({"text": text, "label": true, "predicted": labels[pred],
                                "confidence": round(float(p[pred]), 5)}, ensure_ascii=False) + "\n")
    os.replace(tmp, out_dir / "predictions.jsonl")


def save_model(model: nn.Module, tokenizer, target: Path, config: RunConfig, report: dict, splits: data.Splits) -> None:
    """save_pretrained into a temporary folder, then rename: model/ is complete or absent."""
    tmp = target.with_name(".model.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    plain = models.merge_for_saving(model).to("cpu")
    plain.save_pretrained(tmp, safe_serialization=True)
    tokenizer.model_max_length = config.train.max_length  # pipeline(..., truncation=True) then cuts where training did
    tokenizer.save_pretrained(tmp)
    (tmp / card.FILE_NAME).write_text(model_card(config, report, splits, plain.config), encoding="utf-8")
    if target.exists():
        shutil.rmtree(target)
    os.replace(tmp, target)


def model_card(config: RunConfig, report: dict, splits: data.Splits, model_config=None) -> str:
    """model/README.md: the card of studio.card, with each label's rows in the three splits."""
    counts = [Counter(part.labels) for part in (splits.train, splits.validation, splits.test)]
    label_counts = {label: tuple(c[label] for c in counts) for label in splits.labels}
    return card.model_card(config, report, splits.labels, splits.description, label_counts,
                           card.pooling_line(model_config))
