"""Training presets a domain expert can trust without touching a knob.

The numbers come from measurement on the shared data sets (see BENCHMARKS.md), not from a
tutorial: small models like the bundled MiniLM want a learning rate about five times the
textbook 2e-5 (on sst2, 2e-4 overshot: 82.9% dev accuracy against 85.1% at 1e-4), and base-size
models about twice it.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .config import METHODS, ConfigError, DataConfig, ModelConfig, RunConfig, TrainConfig


@dataclass(frozen=True)
class Preset:
    key: str
    title: str
    description: str
    epochs: float
    lr_small: float      # models with hidden size <= 512 (MiniLM and the like)
    lr_base: float       # BERT-base and larger
    patience: int
    evals_per_epoch: int


PRESETS = {
    "quick": Preset("quick", "Quick", "A first model in a few minutes: 3 passes over the data.",
                    epochs=3, lr_small=2e-4, lr_base=5e-5, patience=1, evals_per_epoch=1),
    "balanced": Preset("balanced", "Balanced", "The default: up to 6 passes, stops early when validation stops improving.",
                       epochs=6, lr_small=1e-4, lr_base=4e-5, patience=2, evals_per_epoch=1),
    "best": Preset("best", "Best", "Longest training for the last points of accuracy: up to 12 passes.",
                   epochs=12, lr_small=1.5e-4, lr_base=3e-5, patience=3, evals_per_epoch=2),
}
DEFAULT_PRESET = "balanced"


# Fewer trained weights want bigger steps: LoRA adapters start at zero, a lone head sits on frozen features.
METHOD_LR_FACTOR = {"auto": 1.0, "full": 1.0, "freeze": 1.0, "lora": 10.0, "head": 50.0}


def default_batch_size(device_type: str) -> int:
    """32 on a CPU. 64 on a GPU, where a small model's step is bound by overhead, not arithmetic: twice the
    rows per step cost little more, so an epoch takes about half the time (BENCHMARKS.md)."""
    return 64 if device_type == "cuda" else 32


def default_freeze_layers(layer_count: int) -> int:
    """The freeze depth offered first: the bottom half of the layers (at least one)."""
    return max(1, layer_count // 2)


def preset_settings(key: str, hidden_size: int = 384, method: str = "full", freeze_layers: int = 0,
                    device_type: str = "cpu") -> TrainConfig:
    """A full TrainConfig for a preset, a model of the given width, a training method and the device it trains on."""
    if key not in PRESETS:
        raise ConfigError(f"Unknown preset {key!r}; choose one of {', '.join(PRESETS)}.")
    p = PRESETS[key]
    head_only = method == "freeze" and freeze_layers < 0
    factor = METHOD_LR_FACTOR["head" if head_only else method]
    lr = (p.lr_small if hidden_size <= 512 else p.lr_base) * factor
    batch = default_batch_size(device_type)
    # Bigger batches take bigger steps: the rate grows with the square root of the batch (measured on an H100:
    # batch 64 at 1.5e-4 kept banking77 at 92% where 1e-4 fell to 89%, and sst2 at 88%).
    lr *= (batch / 32) ** 0.5
    return dataclasses.replace(TrainConfig(), preset=key, epochs=p.epochs, patience=p.patience,
                               evals_per_epoch=p.evals_per_epoch, learning_rate=lr,
                               batch_size=batch)


def model_settings(model_name: str, method: str = "auto", layer_count: int = 0, freeze_layers: int | None = 0,
                   lora_r: int = 8) -> ModelConfig:
    """How much of the model trains. Freezing every layer counts as head only (-1); a setting of a method not
    chosen keeps its default, so config.json holds only what the run uses."""
    if method not in METHODS:
        raise ConfigError(f"Training method must be one of {', '.join(METHODS)}, not {method!r}.")
    if method != "freeze":
        freeze_layers = 0
    elif freeze_layers is None:
        freeze_layers = default_freeze_layers(layer_count)
    elif layer_count and (freeze_layers < 0 or freeze_layers >= layer_count):
        freeze_layers = -1
    rank = lora_r if method == "lora" else ModelConfig.lora_r
    return ModelConfig(name=model_name, method=method, freeze_layers=freeze_layers, lora_r=rank, lora_alpha=2 * rank)


def build_config(data: DataConfig, model_name: str, method: str = "auto", preset: str = DEFAULT_PRESET,
                 device_type: str = "cpu", hidden_size: int = 384, layer_count: int = 0,
                 freeze_layers: int | None = 0, lora_r: int = 8, overrides: dict | None = None,
                 name: str = "") -> RunConfig:
    """The one place a run's settings are put together, for the CLI, the UI and the benchmarks alike.

    The preset gives every training value for this model width, method and device (the caller says which
    device: nothing here looks at the machine). `overrides` holds what the user set by hand, by TrainConfig
    field name; a None there leaves the preset's value. `freeze_layers=None` with method freeze: the default
    depth for `layer_count` layers.
    """
    model = model_settings(model_name, method, layer_count, freeze_layers, lora_r)
    train = preset_settings(preset, hidden_size, method, model.freeze_layers, device_type)
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    for key, value in (overrides or {}).items():
        if key not in known:
            raise ConfigError(f"Unknown training setting {key!r}.")
        if value is not None:
            setattr(train, key, value)
    return RunConfig(data=data, model=model, train=train, name=name)
