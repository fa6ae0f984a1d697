"""One blocking train(): a RunConfig in, an evaluated model in a folder out. No threads, no UI.

`_train` reads as its steps: prepare_data (read, split, tokenize once) -> build_model (the pretrained
model, its head fitted by logistic regression, the chosen share trainable) -> cache_frozen (frozen
bottom layers computed once; the surgery lives in frozen.py) -> fit (the loop: evaluate, keep the best,
checkpoint, stop early) -> keep_best -> evaluate_test -> save_run. Progress leaves through
`emit(event)`; `should_stop()` is asked before every optimizer step. A checkpoint at each evaluation
(checkpoints.py) lets `train(..., resume=True)` go on after a crash with the result it would have had.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
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

from . import card, checkpoints, data, distributed, frozen, metrics, models, probe
from .batches import Packed, epoch_order, length_grouped_batches, sorted_batches, tokenize
from .config import RunConfig
from .steps import (Stepper, autocast_for, gradient_scaler_for, optimizer_for, precision_for, set_learning_rate,
                    warmup_then_linear)

Emit = Callable[[dict], None]


class Cancelled(Exception):
    """The user pressed Stop."""


class TrainingError(RuntimeError):
    """Training could not go on; the message says why in plain words."""


class KeepBest(Exception):
    """The user asked to stop now and keep the best model so far."""


def check_stop(should_stop: Callable[[], object]) -> None:
    """Go on (a falsy answer), stop keeping the best model so far ("keep"), or stop and discard (anything else)."""
    answer = should_stop()
    if answer == "keep":
        raise KeepBest()
    if answer:
        raise Cancelled()


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
    examples, table, text_col, label_col = data.read_examples(d.train_file, d.text_column, d.label_column, d.encoding,
                                                              d.text_columns, d.label_names)
    given = {"validation": d.validation_file, "test": d.test_file}
    parts = {name: data.read_examples(path, text_col, label_col, None, d.text_columns, d.label_names,
                                      names_must_match=False)[0] if path else None for name, path in given.items()}
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
                                 f"add rows (ten or more per label) or give a separate {name} file.",
                                 code="nothing_left", rows=len(splits.train.texts), split=name)
    return splits


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
                  should_stop: Callable[[], object] = lambda: False, capture: nn.Module | None = None):
    """(mean loss, probabilities [n, classes]) over a split; one host synchronisation at the end.

    With `capture`, also the inputs of that module (the head's sentence vectors), as a third item.
    Under several processes each takes every world_size-th batch and the results are gathered.
    """
    was_training = model.training
    model.eval()
    total_loss = torch.zeros((), device=split.device)
    parts, order, seen = [], [], []
    hook = capture.register_forward_pre_hook(lambda m, args: seen.append(args[0].float())) if capture else None
    try:
        for index in sorted_batches(split.lengths(), batch_size)[distributed.rank()::distributed.world_size()]:
            check_stop(should_stop)
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
    loss, rows = total_loss.item(), np.concatenate(order) if order else np.zeros(0, np.int64)
    probs = torch.cat(parts).cpu().numpy() if parts else np.zeros((0, 0), np.float32)
    vectors = (torch.cat(seen).cpu().numpy() if seen else None) if capture is not None else None
    if distributed.active():
        shares = distributed.gather((loss, rows, probs, vectors))
        loss = sum(share[0] for share in shares)
        kept = [share for share in shares if len(share[1])]
        rows, probs = np.concatenate([k[1] for k in kept]), np.concatenate([k[2] for k in kept])
        vectors = np.concatenate([k[3] for k in kept]) if capture is not None else None
    back = np.argsort(rows)  # back to the split's row order
    if capture is None:
        return loss / len(split), probs[back]
    return loss / len(split), probs[back], vectors[back]


def subset(split: Inputs, rows: np.ndarray) -> Inputs:
    return Inputs([split.ids[i] for i in rows], split.labels[rows].tolist(), split.pad_id, split.device)


MIN_GAIN = 0.002       # validation macro-F1 must rise this much for early stopping to count it as progress
MIN_LOSS_GAIN = 0.01   # or validation loss fall by this share: a model still sharpening its answers is learning
MIN_PATIENCE_STEPS = 40  # early stopping waits at least this many optimizer steps, however short an epoch
# Validation losses of tied checkpoints closer than this (nats a row) tell nothing. spam_messy, 3,000 rows: 450
# validation rows one error from perfect at epochs 1 and 3, losses 0.0050 and 0.0052; keeping epoch 1 scored 98.2
# on the test rows, epoch 3 99.1. emotion, 100 rows: a tie at losses 1.83 and 1.92 (overfitting); the earlier
# one scored 35.3, the later 34.2.
LOSS_TIE = 0.01


def scores_of(labels: np.ndarray, probs: np.ndarray, loss: float) -> dict:
    """One evaluation: accuracy, macro-F1, loss, and whether every row got the same answer (a useless model)."""
    predicted = probs.argmax(-1)
    scores = metrics.quick_scores(labels, predicted)
    scores["loss"] = loss
    scores["single_label"] = len(set(labels.tolist())) > 1 and len(set(predicted.tolist())) == 1
    return scores


def better(scores: dict, best: dict | None) -> bool:
    """A checkpoint that answers one label for everything never beats one that does not; then macro-F1. On a tie
    the later checkpoint wins unless its validation loss is clearly higher (LOSS_TIE): it has trained longer."""
    if best is None:
        return True
    key = lambda s: (not s["single_label"], round(s["macro_f1"], 4))
    if key(scores) != key(best):
        return key(scores) > key(best)
    return scores["loss"] < best["loss"] + LOSS_TIE


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




# --- the run, step by step -------------------------------------------------------------------
def train(config: RunConfig, out_dir: str | Path, emit: Emit, should_stop: Callable[[], object] = lambda: False,
          resume: bool = False) -> dict:
    """Train as `config` says; write model/, metrics.json and predictions.jsonl into out_dir; return the test metrics.

    `should_stop()` is asked before every optimizer step: a falsy answer goes on, "keep" stops and finishes
    with the best weights so far (tested and saved like a finished run; the report says "stopped_by_user"),
    anything else raises Cancelled. At each evaluation the state is saved under out_dir/checkpoints/; with
    `resume` training goes on from there (from the start when there is none). On a CUDA out-of-memory
    error the batch is halved and training starts again (down to 4).
    """
    config.validate()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    batch_size = config.train.batch_size
    if resume:
        manifest = checkpoints.read_manifest(out_dir)
        if manifest is None:
            resume = False
            emit({"type": "note", "message": "No complete checkpoint was found, so training starts from the beginning."})
        else:
            batch_size = manifest["batch_size"]  # the batch it was running at, perhaps halved after running out of memory
    while True:
        try:
            if resume:
                return _train(config, out_dir, emit, should_stop, batch_size, resume=True)
            return _train(config, out_dir, emit, should_stop, batch_size)
        except torch.OutOfMemoryError:
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            if batch_size <= 4:
                raise TrainingError("The GPU ran out of memory even at batch size 4; lower the max length "
                                    "or pick a smaller model.") from None
            batch_size //= 2
            resume = False  # the checkpoints were for the larger batch
            emit({"type": "note", "message": f"The GPU ran out of memory; starting again with batch size {batch_size}."})
        except (Cancelled, KeepBest):  # KeepBest out here: stopped before anything was evaluated, so nothing to keep
            if distributed.is_main():
                checkpoints.remove(out_dir)  # a discarded run keeps nothing
            raise Cancelled() from None


def _train(config: RunConfig, out_dir: Path, emit: Emit, should_stop: Callable[[], object], batch_size: int,
           resume: bool = False) -> dict:
    seed_everything(config.train.seed)
    device = distributed_device() or pick_device(config.train.device)
    precision = precision_for(device)
    autocast = autocast_for(precision)
    emit = emit if distributed.is_main() else (lambda event: None)
    should_stop = agreed(should_stop)
    # Before the loop the processes do different amounts of work, so none can wait for the others' answer.
    before_fit = (lambda: False) if distributed.active() else should_stop

    prepared = prepare_data(config, device)
    config, t, m = prepared.config, prepared.config.train, prepared.config.model
    batch_size = min(batch_size, t.batch_size)
    eval_batch = max(64, batch_size * 2)
    saved = load_checkpoint(out_dir, prepared, batch_size) if resume else None

    model = models.load_model(m.name, prepared.labels).to(device)
    t_begin = time.perf_counter()  # training time counts the head's fit too
    model, head_fit, head_only = build_model(model, prepared, device, autocast, eval_batch, before_fit,
                                             saved.state["head_fit"] if saved else None)
    plan = plan_schedule(t, len(prepared.train), batch_size, head_only)
    frozen_k = frozen.frozen_depth(model, m.method, m.freeze_layers) if plan.total_steps else 0
    cached, notes = cache_frozen(model, frozen_k, prepared, device, autocast, before_fit) \
        if frozen_k and t.cache_frozen else (False, [])
    trainer = Trainer.build(model, prepared, plan, device, precision, autocast, frozen_k, cached)

    trainable, total = models.count_parameters(model)
    emit({"type": "started", "device": describe_device(device), "bf16": precision == "bf16", "precision": precision,
          "labels": prepared.labels, "train_rows": len(prepared.train), "validation_rows": len(prepared.validation or []),
          "test_rows": len(prepared.test), "split": prepared.splits.description, "total_steps": plan.total_steps,
          "steps_per_epoch": plan.steps_per_epoch, "epochs": t.epochs, "batch_size": batch_size,
          "learning_rate": t.learning_rate, "method": m.method, "freeze_layers": m.freeze_layers,
          "trainable_parameters": trainable, "total_parameters": total, "frozen_cached": cached,
          **({"resumed_from_step": saved.manifest["step"]} if saved else {}),
          **({"devices": distributed.world_size()} if distributed.active() else {})})
    if prepared.auto_note:
        emit({"type": "note", "message": prepared.auto_note})
    for note in notes:
        emit(note)
    if trainer.graphs_note:
        emit({"type": "note", "message": trainer.graphs_note})

    if saved:
        progress = trainer.restore(saved)
        emit({"type": "note", "message": f"Resumed from the checkpoint at step {progress.step} "
                                         f"(epoch {progress.step / plan.steps_per_epoch:.2f})."})
    else:
        progress = Progress()
        if head_fit is not None:
            # The first answer: the fitted head on the untouched model, scored like any checkpoint.
            if prepared.validation is not None:
                trainer.evaluate(progress, 0, emit, before_fit, probe=True)
                progress.reference = progress.best
                if plan.total_steps:
                    # Weights as built (the fitted head is in head_fit): a small write before the first step.
                    trainer.checkpoint(progress, out_dir, head_fit, time.perf_counter() - t_begin, with_weights=False)
            checked = f", {head_fit.cv:.1%} right in 3-fold cross-validation" \
                if head_fit.cv is not None and prepared.validation is None else ""
            emit({"type": "note", "message": f"Fitted the head by logistic regression on the model's sentence vectors "
                                             f"in {head_fit.seconds:.1f} s (C={head_fit.c:g}{checked}); "
                                             + ("that is the model." if head_only else "fine-tuning starts from it.")})

    fit(trainer, progress, emit, should_stop, out_dir, head_fit, t_begin)
    keep_best(trainer, progress, head_fit, emit)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    train_seconds = progress.train_seconds_before + time.perf_counter() - t_begin
    if trainer.stepper.fallback_reason:
        emit({"type": "log", "message": f"Trained without CUDA graphs ({trainer.stepper.fallback_reason})."})

    report, probs = evaluate_test(trainer, progress, prepared, train_seconds, eval_batch)
    if distributed.is_main():
        save_run(out_dir, model, prepared, report, probs)
        if not t.keep_checkpoints:
            checkpoints.remove(out_dir)
    return report


def distributed_device() -> torch.device | None:
    """Under torchrun, this process's device (its own GPU, or the CPU)."""
    if not distributed.active():
        return None
    return torch.device("cuda", torch.cuda.current_device()) if torch.distributed.get_backend() == "nccl" \
        else torch.device("cpu")


def agreed(should_stop: Callable[[], object]) -> Callable[[], object]:
    """Under several processes, rank 0's answer on every rank, so all stop at the same step."""
    if not distributed.active():
        return should_stop
    def ask() -> object:
        answer = should_stop() if distributed.is_main() else False
        code = distributed.agree(0 if not answer else 1 if answer == "keep" else 2)
        return [False, "keep", "discard"][code]
    return ask


# --- 1. data ---------------------------------------------------------------------------------
@dataclasses.dataclass
class Prepared:
    """The splits, tokenized once and packed on the training device, and the settings they resolved."""
    config: RunConfig            # with the auto method resolved for this data
    auto_note: str | None
    splits: data.Splits
    labels: list[str]
    tokenizer: object
    pad_id: int
    train: Inputs
    validation: Inputs | None    # None: no rows to spare (the head alone, its strength chosen by cross-validation)
    test: Inputs


def prepare_data(config: RunConfig, device: torch.device) -> Prepared:
    """Read, split and tokenize the data; resolve the auto method for it."""
    splits = prepare_splits(config)
    no_validation = not splits.validation.texts
    labels = splits.labels
    config, auto_note = resolve_auto(config, len(splits.train.texts), len(labels), validation=not no_validation)
    t, m = config.train, config.model
    label_index = {label: i for i, label in enumerate(labels)}
    tokenizer = models.load_tokenizer(m.name)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0

    def inputs(examples: data.Examples) -> Inputs:
        return Inputs(tokenize(tokenizer, examples.texts, t.max_length),
                      [label_index[label] for label in examples.labels], pad_id, device)
    train_set, test_set = inputs(splits.train), inputs(splits.test)
    val_set = None if no_validation else inputs(splits.validation)
    return Prepared(config, auto_note, splits, labels, tokenizer, pad_id, train_set, val_set, test_set)


# --- 2. the model ----------------------------------------------------------------------------
@dataclasses.dataclass
class HeadFit:
    """The head fitted by logistic regression, and what fitting it again on more rows needs."""
    weight: np.ndarray
    bias: np.ndarray
    c: float
    cv: float | None
    seconds: float
    vectors: np.ndarray                 # the training rows' sentence vectors it was fitted on
    labels: np.ndarray                  # and their labels
    val_vectors: np.ndarray | None      # the validation rows' sentence vectors

    def to_state(self) -> dict:
        tensor = lambda a: None if a is None else torch.as_tensor(a)
        return {"weight": tensor(self.weight), "bias": tensor(self.bias), "c": self.c, "cv": self.cv,
                "seconds": self.seconds, "vectors": tensor(self.vectors), "labels": tensor(self.labels),
                "val_vectors": tensor(self.val_vectors)}

    @classmethod
    def from_state(cls, state: dict) -> "HeadFit":
        array = lambda t: None if t is None else t.numpy()
        return cls(array(state["weight"]), array(state["bias"]), state["c"], state["cv"], state["seconds"],
                   array(state["vectors"]), array(state["labels"]), array(state["val_vectors"]))


def build_model(model: nn.Module, prepared: Prepared, device: torch.device, autocast, eval_batch: int, should_stop,
                saved_head: dict | None = None) -> tuple[nn.Module, HeadFit | None, bool]:
    """(model, the fitted head, whether the head alone is the model): the pretrained model gets a head fitted on
    its sentence vectors (or the one a checkpoint saved), then the chosen share of it is made trainable."""
    t, m = prepared.config.train, prepared.config.model
    head_only = m.method == "freeze" and frozen.frozen_depth(model, m.method, m.freeze_layers) >= models.real_layer_count(model)
    head_fit = None
    if saved_head is not None:
        head_fit = HeadFit.from_state(saved_head)
        probe.set_head(probe.head_of(model), head_fit.weight, head_fit.bias)
    elif t.warm_start or head_only:
        head_fit = fit_head(model, prepared, autocast, eval_batch, should_stop, final=head_only)
    model = models.apply_method(model, m.method, m.freeze_layers, m.lora_r, m.lora_alpha, m.lora_dropout).to(device)
    return model, head_fit, head_only


def fit_head(model: nn.Module, prepared: Prepared, autocast, eval_batch: int, should_stop,
             final: bool = False) -> HeadFit:
    """Logistic regression on the frozen model's sentence vectors, set as the model's head; `final` when no
    fine-tuning follows, so the fit is made to the tighter tolerance of a head that ships."""
    t = prepared.config.train
    t0 = time.perf_counter()
    train_set, val_set = prepared.train, prepared.validation
    loss_fn = nn.CrossEntropyLoss()
    fit_rows = probe.rows_to_fit(train_set.labels.numpy(), t.seed)
    head = probe.head_of(model)
    fit_labels = train_set.labels.numpy()[fit_rows]
    *_, vectors = predict_split(model, subset(train_set, fit_rows), eval_batch, autocast, loss_fn, should_stop,
                                capture=head)
    val_vectors = None
    if val_set is not None:
        *_, val_vectors = predict_split(model, val_set, eval_batch, autocast, loss_fn, should_stop, capture=head)
    weight, bias, c, cv = probe.fit_head(vectors, fit_labels, len(prepared.labels), t.seed, balanced=t.class_weights,
                                         tolerance=probe.FINAL_TOLERANCE if final else probe.TOLERANCE)
    probe.set_head(head, weight, bias)
    return HeadFit(weight, bias, c, cv, time.perf_counter() - t0, vectors, fit_labels, val_vectors)


# --- 3. the frozen layers, computed once -----------------------------------------------------
def cache_frozen(model: nn.Module, k: int, prepared: Prepared, device: torch.device, autocast,
                 should_stop) -> tuple[bool, list[dict]]:
    """Frozen bottom layers give the same output every epoch: compute it once for the training and validation
    rows, so each epoch trains only what is above. The test split is predicted once at the end through the
    whole model, so it needs no cache. Returns (cached, notes)."""
    splits = (prepared.train, prepared.validation)  # training steps imply validation rows
    need = sum(int(s.lengths().sum()) for s in splits) * model.config.hidden_size * 4
    if need > frozen.cache_budget_bytes(device):
        return False, [{"type": "note", "message": "Not enough memory to keep the frozen layers' outputs; "
                                                   "computing them every step instead."}]
    t0 = time.perf_counter()
    for s in splits:
        if should_stop():
            raise Cancelled()
        s.hidden = Packed(frozen.frozen_outputs(model, k, s.ids, prepared.pad_id, device, 128, device, autocast),
                          device, torch.float32)
    return True, [{"type": "note", "message": f"Computed the {k} frozen layers once ({need / 2**20:.0f} MB, "
                                              f"{time.perf_counter() - t0:.1f} s); each epoch now trains only the "
                                              "layers above them."}]


# --- 4. fit: the loop ------------------------------------------------------------------------
@dataclasses.dataclass
class Plan:
    """How long training lasts and how often it looks at validation."""
    batch_size: int
    eval_batch: int
    steps_per_epoch: int
    total_steps: int
    eval_every: int
    patience: int
    log_every: int


def plan_schedule(t, train_rows: int, batch_size: int, head_only: bool) -> Plan:
    steps_per_epoch = math.ceil(train_rows / batch_size)
    # The head alone is exactly what logistic regression fitted: nothing is left to train.
    total_steps = 0 if head_only else max(1, math.ceil(t.epochs * steps_per_epoch))
    eval_every = max(1, steps_per_epoch // max(1, t.evals_per_epoch))
    patience = max(t.patience, math.ceil(MIN_PATIENCE_STEPS / eval_every)) if t.patience else 0
    return Plan(batch_size, max(64, batch_size * 2), steps_per_epoch, total_steps, eval_every, patience,
                max(1, total_steps // 300))


@dataclasses.dataclass
class Progress:
    """Where the loop stands: with the weights and the optimizer, all a checkpoint holds."""
    step: int = 0
    seen: int = 0                                   # training rows stepped over
    epoch: list[np.ndarray] | None = None           # the current epoch's batches, in order
    position: int = 0                               # how many of them are done
    epochs_started: int = 0
    best: dict | None = None                        # the best evaluation's scores and step
    best_weights: list[torch.Tensor] | None = None  # and its trainable weights
    reference: dict | None = None                   # the last evaluation that counted as progress
    evals_without_gain: int = 0
    stopped_early: bool = False
    stopped_by_user: bool = False
    train_seconds_before: float = 0.0               # training time spent before a resume


class Trainer:
    """The model with its optimizer, schedule and step, and the splits it trains and evaluates on."""

    def __init__(self, model, prepared, plan, device, autocast, stepper, optimizer, lr_factor, rng,
                 frozen_k, cached, graphs_note):
        self.model, self.prepared, self.plan, self.device, self.autocast = model, prepared, plan, device, autocast
        self.stepper, self.optimizer, self.lr_factor, self.rng = stepper, optimizer, lr_factor, rng
        self.frozen_k, self.cached, self.graphs_note = frozen_k, cached, graphs_note
        self.eval_loss_fn = nn.CrossEntropyLoss()
        # Names taken outside skip_frozen, which renames the layers it keeps.
        names = {id(p): name for name, p in model.named_parameters()}
        self.trained_names = [names[id(p)] for p in stepper.trained]

    @classmethod
    def build(cls, model, prepared: Prepared, plan: Plan, device, precision: str, autocast, frozen_k: int,
              cached: bool) -> "Trainer":
        t = prepared.config.train
        lr_factor = warmup_then_linear(int(t.warmup_ratio * plan.total_steps), max(plan.total_steps, 1))
        use_graphs = t.cuda_graphs and device.type == "cuda" and plan.total_steps > 0
        graphs_note = None
        if use_graphs and distributed.active():
            # DDP starts its gradient all-reduce from host-side hooks that a replayed graph would skip, and a
            # rank whose share of a batch is uneven would capture other steps than the rest: eager is safe.
            use_graphs = False
            graphs_note = "CUDA graphs are off when training on several processes; each step runs eagerly."
        optimizer = optimizer_for(model, t.learning_rate, t.weight_decay, device, capturable=use_graphs)
        train_set = prepared.train
        weights = class_weight_tensor(train_set.labels.tolist(), len(prepared.labels)).to(device) if t.class_weights else None
        scaler = gradient_scaler_for(precision, device) if plan.total_steps else None
        stepper_model = model
        if distributed.active() and plan.total_steps:
            from torch.nn.parallel import DistributedDataParallel
            ids = [device.index] if device.type == "cuda" else None
            stepper_model = DistributedDataParallel(model, device_ids=ids)
        stepper = Stepper(stepper_model, optimizer, nn.CrossEntropyLoss(weight=weights), train_set.batch,
                          plan.batch_size, device, autocast, use_graphs, scaler)
        return cls(model, prepared, plan, device, autocast, stepper, optimizer, lr_factor,
                   np.random.default_rng(t.seed), frozen_k, cached, graphs_note)

    def context(self):
        """Where the model trains: above the cached frozen layers, or whole."""
        return frozen.skip_frozen(self.model, self.frozen_k) if self.cached else contextlib.nullcontext()

    def trained_weights(self) -> dict[str, torch.Tensor]:
        return dict(zip(self.trained_names, self.stepper.trained))

    def set_trained(self, weights: dict[str, torch.Tensor]) -> None:
        with torch.no_grad():
            for name, p in zip(self.trained_names, self.stepper.trained):
                p.copy_(weights[name])

    def train_mode(self) -> None:
        m = self.prepared.config.model
        frozen.freeze_dropout(self.model, m.method, m.freeze_layers, self.cached)

    def evaluate(self, progress: Progress, step: int, emit: Emit, should_stop, **extra) -> dict:
        """Score the validation split, keep the weights when they are the best so far, and log it."""
        val_set = self.prepared.validation
        stop = (lambda: False) if distributed.active() else should_stop  # a collective cannot run per batch
        loss, probs = predict_split(self.model, val_set, self.plan.eval_batch, self.autocast, self.eval_loss_fn, stop)
        scores = scores_of(val_set.labels.numpy(), probs, loss)
        improved = better(scores, progress.best)
        if improved:
            progress.best = {**scores, "step": step}
            progress.best_weights = [p.detach().clone() for p in self.stepper.trained]
        emit({"type": "eval", "step": step, "epoch": round(step / self.plan.steps_per_epoch, 3), "loss": round(loss, 5),
              "accuracy": round(scores["accuracy"], 5), "macro_f1": round(scores["macro_f1"], 5),
              "single_label": scores["single_label"], "best": improved, **extra})
        return scores

    def checkpoint(self, progress: Progress, out_dir: Path, head_fit: HeadFit | None, elapsed: float,
                   with_weights: bool = True) -> None:
        """Everything resume needs, written atomically under out_dir/checkpoints/ (rank 0 only).

        Without weights the checkpoint means "the weights as build_model makes them" (before any step)."""
        rngs = distributed.gather(checkpoints.rng_state())
        if not distributed.is_main():
            return
        prepared, s = self.prepared, self.stepper
        manifest = {"step": progress.step, "seen": progress.seen, "position": progress.position,
                    "epochs_started": progress.epochs_started,
                    "best": progress.best,
                    "best_step": progress.best["step"] if progress.best else None,
                    "reference": progress.reference, "evals_without_gain": progress.evals_without_gain,
                    "stopped_early": progress.stopped_early, "train_seconds": elapsed,
                    "loss_count": s.count, "batch_size": self.plan.batch_size,
                    "valid_for": fingerprint(prepared, self.plan.batch_size)}
        state = {"optimizer": self.optimizer.state_dict(), "rng": rngs,
                 "epoch_rng": self.rng.bit_generator.state, "loss_sum": s.loss_sum.detach().cpu(),
                 "epoch": None if progress.epoch is None else [torch.as_tensor(b) for b in progress.epoch],
                 "scaler": s.scaler.state_dict() if s.scaler is not None else None,
                 "head_fit": head_fit.to_state() if head_fit is not None else None}
        best = None if progress.best_weights is None or not with_weights \
            else dict(zip(self.trained_names, progress.best_weights))
        checkpoints.save(out_dir, manifest, state, self.trained_weights() if with_weights else {}, best)

    def restore(self, saved: checkpoints.Checkpoint) -> Progress:
        """The loop's state as the checkpoint left it: weights, optimizer, generators, epoch plan, counters."""
        mf, st = saved.manifest, saved.state
        if saved.weights:
            self.set_trained(saved.weights)
        self.optimizer.load_state_dict(st["optimizer"])
        if st["scaler"] is not None and self.stepper.scaler is not None:
            self.stepper.scaler.load_state_dict(st["scaler"])
        self.rng.bit_generator.state = st["epoch_rng"]
        rngs = st["rng"]
        checkpoints.restore_rng(rngs[distributed.rank()] if distributed.rank() < len(rngs) else rngs[0])
        self.stepper.loss_sum.copy_(st["loss_sum"].to(self.device))
        self.stepper.count = mf["loss_count"]
        names = self.trained_names
        if saved.best is None:
            best_weights = None
        elif saved.best:
            best_weights = [saved.best[n].to(self.device) for n in names]
        else:  # the best is the model as built, which it still is
            best_weights = [p.detach().clone() for p in self.stepper.trained]
        return Progress(step=mf["step"], seen=mf["seen"], position=mf["position"], epochs_started=mf["epochs_started"],
                        epoch=None if st["epoch"] is None else [b.numpy() for b in st["epoch"]],
                        best=mf["best"], best_weights=best_weights, reference=mf["reference"],
                        evals_without_gain=mf["evals_without_gain"], stopped_early=mf["stopped_early"],
                        train_seconds_before=mf["train_seconds"])


def fit(trainer: Trainer, progress: Progress, emit: Emit, should_stop, out_dir: Path, head_fit: HeadFit | None,
        t_begin: float) -> None:
    """Optimizer steps until the planned end, early stopping, or a stop that keeps the best so far."""
    plan, train_set, stepper = trainer.plan, trainer.prepared.train, trainer.stepper
    t = trainer.prepared.config.train
    started = time.perf_counter()
    session_begin, first_step = started, progress.step
    seen_at_last_log, last_log = progress.seen, started
    with trainer.context():
        trainer.model.train()
        trainer.train_mode()
        try:
            while progress.step < plan.total_steps and not progress.stopped_early:
                if progress.epoch is None or progress.position >= len(progress.epoch):
                    # On a GPU the first epoch starts with its longest batch: running out of memory shows at once.
                    first = progress.epochs_started == 0 and trainer.device.type == "cuda"
                    progress.epoch = length_grouped_batches(train_set.lengths(), plan.batch_size, trainer.rng,
                                                            longest_first=first)
                    progress.position = 0
                    progress.epochs_started += 1
                batches = progress.epoch[progress.position:]
                widths = [train_set.width_of(index) for index in batches]
                epochs_left = max(1.0, (plan.total_steps - progress.step) / plan.steps_per_epoch)
                stepper.expect({w: n * epochs_left for w, n in Counter(
                    w for w, index in zip(widths, batches) if len(index) == plan.batch_size).items()})
                shares = [distributed.share_of(index) for index in batches]
                rows_of = epoch_order([rows for rows, _ in shares], trainer.device)
                for index, rows, width, (_, scale) in zip(batches, rows_of, widths, shares):
                    check_stop(should_stop)
                    lr = t.learning_rate * trainer.lr_factor(progress.step)
                    set_learning_rate(trainer.optimizer, lr)
                    stepper.step(rows, width, scale)
                    progress.step += 1
                    progress.position += 1
                    progress.seen += len(index)
                    step = progress.step

                    if step == 1 or step % plan.log_every == 0 or step == plan.total_steps:
                        now = time.perf_counter()
                        emit({"type": "step", "step": step, "epoch": round(step / plan.steps_per_epoch, 3),
                              "loss": round(stepper.read_loss(), 5),
                              "lr": lr,
                              "samples_per_s": round((progress.seen - seen_at_last_log) / max(now - last_log, 1e-9), 1),
                              "progress": round(step / plan.total_steps, 4),
                              "eta_s": round((now - session_begin) / (step - first_step) * (plan.total_steps - step), 1)})
                        last_log, seen_at_last_log = now, progress.seen

                    if step % plan.eval_every == 0 or step == plan.total_steps:
                        scores = trainer.evaluate(progress, step, emit, should_stop)
                        note_progress(progress, scores)
                        trainer.train_mode()
                        last_log, seen_at_last_log = time.perf_counter(), progress.seen  # throughput excludes evaluation
                        patience = patience_now(plan, progress)
                        if patience and progress.evals_without_gain >= patience and step < plan.total_steps:
                            emit({"type": "note", "message": f"Stopped early at epoch {step / plan.steps_per_epoch:.1f}: "
                                                             f"validation did not improve for {patience} evaluations."})
                            progress.stopped_early = True
                        trainer.checkpoint(progress, out_dir, head_fit,
                                           progress.train_seconds_before + time.perf_counter() - t_begin)
                        if progress.stopped_early:
                            break
                    if step >= plan.total_steps:
                        break
        except KeepBest:
            if progress.best is None:
                raise Cancelled() from None  # nothing evaluated yet, so nothing to keep
            progress.stopped_by_user = True
            emit({"type": "note", "message": f"Stopped by the user at step {progress.step}; keeping the best model so "
                                             f"far (step {progress.best['step']})."})


def patience_now(plan: Plan, progress: Progress) -> int:
    """Fine-tuning from the fitted head often scores under it at its first evaluation, then passes it: while the
    head is still the one to beat, early stopping waits two evaluations. (Quick, patience 1, spam_messy at 1,000
    rows: one validation row fewer after the first epoch stopped the run and kept the head, 94.8 on the test rows
    where the default scored 98.7 on the same rows.)"""
    head_leads = progress.reference is not None and progress.reference.get("step") == 0
    return max(plan.patience, 2) if plan.patience and head_leads else plan.patience


def note_progress(progress: Progress, scores: dict) -> None:
    """Patience counts evaluations without a real gain in macro-F1 or in loss; hundredths are none."""
    reference = progress.reference
    if reference is None or scores["macro_f1"] >= reference["macro_f1"] + MIN_GAIN \
            or scores["loss"] <= reference["loss"] * (1 - MIN_LOSS_GAIN):
        progress.reference, progress.evals_without_gain = scores, 0
    else:
        progress.evals_without_gain += 1


def keep_best(trainer: Trainer, progress: Progress, head_fit: HeadFit | None, emit: Emit) -> None:
    """Put the best evaluation's weights back; when the fitted head won, fit it once more on validation rows too."""
    best = progress.best
    with trainer.context():
        if best is not None and best["step"] != progress.step:
            with torch.no_grad():
                for p, saved in zip(trainer.stepper.trained, progress.best_weights):
                    p.copy_(saved)
        if best is not None and best["step"] == 0 and head_fit is not None:
            # Once chosen, the fitted head is fitted again on the validation rows too (same C), which on a small
            # file is a quarter more data for the model that ships.
            val_set = trainer.prepared.validation
            t = trainer.prepared.config.train
            weight, bias, *_ = probe.fit_head(np.concatenate([head_fit.vectors, head_fit.val_vectors]),
                                             np.concatenate([head_fit.labels, val_set.labels.numpy()]),
                                             len(trainer.prepared.labels), t.seed, balanced=t.class_weights, c=head_fit.c,
                                             tolerance=probe.FINAL_TOLERANCE)
            probe.set_head(probe.head_of(trainer.model), weight, bias)
            emit({"type": "note", "message": "Kept the fitted head, fitted again on the training and validation "
                                             "rows together."})


# --- 5. evaluate on the test split -----------------------------------------------------------
def evaluate_test(trainer: Trainer, progress: Progress, prepared: Prepared, train_seconds: float,
                  eval_batch: int) -> tuple[dict, np.ndarray]:
    """(the report: test metrics of the model as it will be saved, with how training went; the test rows'
    probabilities)."""
    m = prepared.config.model
    test_set = prepared.test
    test_loss, probs = predict_split(trainer.model, test_set, eval_batch, trainer.autocast, trainer.eval_loss_fn)
    predicted = probs.argmax(-1)
    report = metrics.full_report(test_set.labels.numpy(), predicted, prepared.labels, prepared.train.labels.numpy())
    best = progress.best or {"macro_f1": None, "accuracy": None, "step": 0}  # no validation rows: nothing scored there
    report.update({"test_loss": test_loss, "summary": "", "best_validation_macro_f1": best["macro_f1"],
                   "best_validation_accuracy": best["accuracy"], "best_step": best["step"],
                   "method": m.method, "freeze_layers": m.freeze_layers, "auto_note": prepared.auto_note,
                   "train_seconds": round(train_seconds, 2), "steps": progress.step,
                   "train_samples_per_s": round(progress.seen / max(train_seconds, 1e-9), 1)})
    if progress.stopped_by_user:
        report["stopped_by_user"] = True
    report["summary"] = metrics.summarize(report)
    return report, probs


# --- 6. save ---------------------------------------------------------------------------------
def save_run(out_dir: Path, model: nn.Module, prepared: Prepared, report: dict, probs: np.ndarray) -> None:
    """predictions.jsonl, model/ and metrics.json, each written whole or not at all."""
    _write_predictions(out_dir, prepared.splits.test, prepared.labels, probs.argmax(-1), probs)
    save_model(model, prepared.tokenizer, out_dir / "model", prepared.config, report, prepared.splits)
    (out_dir / ".metrics.json.tmp").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(out_dir / ".metrics.json.tmp", out_dir / "metrics.json")


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


# --- resume ----------------------------------------------------------------------------------
def fingerprint(prepared: Prepared, batch_size: int) -> dict:
    """What a checkpoint is valid for: the resolved settings, the data as split, the batch and the processes."""
    digest = hashlib.sha256()
    for part in (prepared.splits.train, prepared.splits.validation, prepared.splits.test):
        for text, label in zip(part.texts, part.labels):
            digest.update(f"{text}\x1f{label}\x1e".encode("utf-8"))
        digest.update(b"\x1d")
    settings = {**prepared.config.to_dict(), "name": ""}
    settings["train"] = {k: v for k, v in settings["train"].items() if k not in IRRELEVANT_TO_RESUME}
    return {"data": digest.hexdigest(), "settings": settings, "batch_size": batch_size,
            "processes": distributed.world_size()}


# Settings that change nothing a checkpoint holds (resume may be asked for with another value).
IRRELEVANT_TO_RESUME = ("keep_checkpoints", "device", "cuda_graphs", "devices")


def load_checkpoint(out_dir: Path, prepared: Prepared, batch_size: int) -> checkpoints.Checkpoint | None:
    """The run's checkpoint, refused with a sentence when it was written for other data or settings."""
    saved = checkpoints.load(out_dir)
    if saved is None:
        return None
    expected = json.loads(json.dumps(fingerprint(prepared, batch_size)))  # the manifest's JSON types
    found = saved.manifest.get("valid_for") or {}
    differ = [what for key, what in (("data", "the data"), ("settings", "the settings"), ("batch_size", "the batch size"),
                                     ("processes", "the number of processes")) if found.get(key) != expected[key]]
    if differ:
        raise TrainingError(f"The checkpoint in {checkpoints.folder(out_dir)} was written for other "
                            f"{' and '.join(w.replace('the ', '') for w in differ)}; start a new run instead of "
                            "resuming this one.")
    return saved
