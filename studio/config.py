"""Settings for one training run: data, model, training. Plain dataclasses with a JSON round-trip.

A run folder's config.json is `RunConfig.to_dict()`; the CLI, the UI and the tests all build one.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

METHODS = ("auto", "full", "freeze", "lora")


class ConfigError(ValueError):
    """A setting that cannot work; the message says which and what to choose instead. `code` (one of CONFIG_CODES)
    and the values in `details` let a page say the same sentence in another language."""

    def __init__(self, message: str, code: str | None = None, **details):
        super().__init__(message)
        self.code, self.details = code, details

    def __reduce__(self):
        return _config_error, (str(self), self.code, self.details)


def _config_error(message, code, details):
    return ConfigError(message, code, **details)


# Every code RunConfig.validate can answer with.
CONFIG_CODES = ("no_train_file", "method", "lora_rank", "freeze_layers", "learning_rate", "epochs", "batch_size",
                "max_length", "warmup", "devices", "patience", "seed", "split_shares", "max_rows",
                "no_text_columns", "unnamed_text_column", "text_column_twice", "same_column", "label_names_shape",
                "empty_label_name", "duplicate_label_name")


@dataclass
class DataConfig:
    train_file: str = ""
    validation_file: str | None = None   # a separate validation file; else carved out of train
    test_file: str | None = None         # a separate test file; else carved out of train
    text_column: str | None = None       # None: detected
    text_columns: list[str] | None = None  # several columns joined with a line break into the text; overrides text_column
    label_column: str | None = None      # None: detected
    split_column: str | None = None      # a column holding train / validation / test per row
    encoding: str | None = None          # None: detected
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    max_rows: int | None = None          # a stratified sample of the training rows, for a quick try
    label_names: dict[str, str] | None = None  # raw label -> the name the user gave it, used everywhere after loading


@dataclass
class ModelConfig:
    name: str = "all-MiniLM-L6-v2"       # catalog key, hub id or local folder
    method: str = "auto"                 # auto (chosen from the data at the start of training) | full | freeze | lora
    freeze_layers: int = 0               # with method=freeze: embeddings + this many bottom layers; -1 = all (head only)
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.1


@dataclass
class TrainConfig:
    preset: str = "balanced"
    learning_rate: float = 1e-4
    epochs: float = 5
    batch_size: int = 32
    max_length: int = 128                # tokens; longer texts are cut
    warmup_ratio: float = 0.06           # share of all optimizer steps spent warming the learning rate up
    weight_decay: float = 0.01
    patience: int = 2                    # evaluations without improvement before stopping early; 0 = never
    evals_per_epoch: int = 1
    class_weights: bool = False          # weight the loss by inverse class frequency
    seed: int = 42
    device: str = "auto"                 # auto | cpu | cuda | mps
    cache_frozen: bool = True            # compute frozen layers once and reuse their outputs every epoch
    warm_start: bool = True              # fit the head by logistic regression on the frozen model's sentence vectors first
    cuda_graphs: bool = True             # on CUDA, replay each batch width's step from a graph (far less overhead)
    devices: int = 1                     # processes to train on (GPUs, or CPU processes), launched with torchrun
    keep_checkpoints: bool = False       # keep checkpoints/ after the run finishes (else deleted; they serve resume)


@dataclass
class RunConfig:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    name: str = ""                       # a label the user gave the run
    mlflow_uri: str | None = None        # also log the run to MLflow at this tracking URI (studio.tracking)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "RunConfig":
        def build(kind, values):
            known = {f.name for f in dataclasses.fields(kind)}
            return kind(**{k: v for k, v in (values or {}).items() if k in known})
        return cls(data=build(DataConfig, raw.get("data")), model=build(ModelConfig, raw.get("model")),
                   train=build(TrainConfig, raw.get("train")), name=raw.get("name", ""),
                   mlflow_uri=raw.get("mlflow_uri"))

    def validate(self) -> "RunConfig":
        d, m, t = self.data, self.model, self.train
        if not d.train_file:
            raise ConfigError("Choose a training file first.", "no_train_file")
        if m.method not in METHODS:
            raise ConfigError(f"Training method must be one of {', '.join(METHODS)}, not {m.method!r}.", "method",
                              methods=list(METHODS), method=m.method)
        if m.method == "lora" and m.lora_r < 1:
            raise ConfigError("LoRA rank must be at least 1 (8 is a good start).", "lora_rank")
        if m.method == "freeze" and m.freeze_layers < -1:
            raise ConfigError("The number of frozen layers cannot be negative.", "freeze_layers")
        if not 0 < t.learning_rate < 1:
            raise ConfigError(f"Learning rate {t.learning_rate} is out of range; try 1e-4.", "learning_rate",
                              value=t.learning_rate)
        if t.epochs <= 0:
            raise ConfigError("Train for at least a fraction of an epoch (epochs must be above 0).", "epochs")
        if t.batch_size < 1:
            raise ConfigError("Batch size must be at least 1.", "batch_size")
        if not 8 <= t.max_length <= 8192:
            raise ConfigError(f"Max length {t.max_length} is out of range; choose between 8 and 8192 tokens.",
                              "max_length", value=t.max_length)
        if not 0 <= t.warmup_ratio < 1:
            raise ConfigError("Warm-up must be a share of training between 0 and 1, e.g. 0.06.", "warmup")
        if t.devices < 1:
            raise ConfigError("Train on at least 1 device (devices must be 1 or more).", "devices")
        if t.patience < 0:
            raise ConfigError("Early-stopping patience cannot be negative (0 turns it off).", "patience")
        if not 0 <= t.seed < 2 ** 32:  # what NumPy's and PyTorch's generators accept
            raise ConfigError("The seed must be a whole number from 0 to 4294967295.", "seed")
        for share in (d.val_fraction, d.test_fraction):
            if not 0 <= share < 0.5:
                raise ConfigError("Validation and test shares must each be between 0 and 0.5 of the data.", "split_shares")
        if d.max_rows is not None and d.max_rows < 10:
            raise ConfigError("A row limit below 10 leaves nothing to learn from; raise --max-rows.", "max_rows")
        _validate_columns(d)
        _validate_label_names(d.label_names)
        return self


def _validate_columns(d: DataConfig) -> None:
    """Columns named in the settings that cannot work together (whether they exist, the data layer checks)."""
    texts = list(d.text_columns) if d.text_columns else [d.text_column] if d.text_column else []
    if d.text_columns is not None and not d.text_columns:
        raise ConfigError("Choose at least one text column, or leave the text columns out to have them detected.",
                          "no_text_columns")
    for column in texts:
        if not isinstance(column, str) or not column.strip():
            raise ConfigError("A text column needs a name; choose the column from the list.", "unnamed_text_column")
        if texts.count(column) > 1:
            raise ConfigError(f"The column '{column}' is chosen twice as text; choose each text column once.",
                              "text_column_twice", column=column)
    if d.label_column is not None and d.label_column in texts:
        raise ConfigError(f"The column '{d.label_column}' is chosen as both the text and the label; choose another "
                          "column for one of them.", "same_column", column=d.label_column)


def _validate_label_names(names: dict | None) -> None:
    if names is None:
        return
    if not isinstance(names, dict):
        raise ConfigError("Label names are given as pairs of a label and its name, such as {\"1\": \"World\"}.",
                          "label_names_shape")
    by_name: dict[str, list[str]] = {}
    for label, name in names.items():
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"Give the label '{label}' a name, or leave it out to keep '{label}'.",
                              "empty_label_name", label=str(label))
        by_name.setdefault(name.strip(), []).append(str(label))
    for name, labels in by_name.items():
        if len(labels) > 1:
            raise ConfigError(f"The labels {' and '.join(repr(x) for x in labels)} are both named '{name}'; "
                              "give each label a name of its own.",
                              "duplicate_label_name", labels=labels, name=name)
