"""Tab 2, Model: the base model, how much of it to train, the preset and the advanced settings, an estimate."""
from __future__ import annotations

import math

import gradio as gr
import torch

from .. import models, training
from ..config import METHODS, DataConfig, TrainConfig
from ..presets import DEFAULT_PRESET, PRESETS, build_config, default_freeze_layers
from .context import Studio, cached_choice, cached_model_config
from .estimate import estimate_run
from .i18n import I18N, duration_text, language_name, t

PRESET_FIELDS = ("learning_rate", "epochs", "batch_size", "patience", "evals_per_epoch")  # what a preset fills in
LORA_RANKS = [4, 8, 16, 32, 64]
BATCH_SIZES = [8, 16, 32, 64, 128]
MAX_LENGTHS = (16, 512)


# --- handlers: plain values in and out ---------------------------------------------------------
def model_choices(default_model: str) -> list[tuple[str, str]]:
    """The catalog as (label, value) pairs, with the pre-selected model first when it is not in the catalog."""
    choices = [(entry.label, entry.key) for entry in models.CATALOG]
    if default_model not in {key for _, key in choices}:
        choices.insert(0, (default_model, default_model))
    return choices


def model_facts(name: str) -> dict:
    """Width, depth and the longest input of a model, or the sentence saying why it cannot be used."""
    try:
        config = cached_model_config((name or "").strip() or models.DEFAULT_MODEL)
    except models.ModelError as err:
        return {"error": str(err)}
    return {"error": None, "layers": models.layer_count_of(config), "width": int(getattr(config, "hidden_size", 768)),
            "max_positions": int(getattr(config, "max_position_embeddings", 512) or 512)}


def counted_method(method: str) -> str:
    """The method parameters are counted for: auto is decided only when training starts, so count it as full."""
    return "full" if method in ("auto", None, "") else method


def describe_model(name: str, method: str, freeze_layers: int, lora_r: int, num_labels: int) -> dict:
    """Parameter counts for a choice (no weights loaded), or the reason it cannot be used."""
    name = (name or "").strip() or models.DEFAULT_MODEL
    counted = counted_method(method)
    # Settings of the methods not chosen do not change the counts: leave them out of the cache key.
    freeze_layers = int(freeze_layers or 0) if counted == "freeze" else 0
    lora_r = int(lora_r or 8) if counted == "lora" else 8
    try:
        return {"error": None, "method": method or "auto",
                **cached_choice(name, counted, freeze_layers, lora_r, max(2, int(num_labels or 2)))}
    except models.ModelError as err:
        return {"error": str(err)}
    except Exception as err:  # a model whose layers the studio cannot find, an odd config, ...
        return {"error": f"{name} cannot be used with this method ({type(err).__name__}: {str(err)[:200]})."}


def trainable_text(choice: dict, lang: str) -> str:
    if choice.get("error"):
        return f"⛔ {choice['error']}"
    text = t("model_trainable", lang, trainable=f"{choice['trainable']:,}", total=f"{choice['total']:,}",
             share=f"{choice['share']:.1%}")
    if choice.get("method") == "auto":
        text += " " + t("model_trainable_auto", lang)
    elif choice.get("method") == "full" and choice["trainable"] < choice["total"]:
        text += " " + t("model_trainable_full", lang)  # "full" yet under 100%: say where the rest is
    return text


def model_note(name: str, view: dict | None, lang: str) -> str:
    """What the catalog says about the model, and a warning when its vocabulary does not fit the data."""
    entry = models.catalog_entry((name or "").strip())
    if entry:
        lines = [t("model_catalog_note", lang, size=entry.params_m, languages=language_name(entry.languages, lang),
                   note=t(f"model_note_{entry.key}", lang))]
    else:
        lines = [t("model_custom_note", lang)]
    unknown = next((f for f in (view or {}).get("findings", []) if f["code"] == "unknown_tokens"), None)
    if unknown:
        advice = t("model_unknown_cjk" if unknown["details"].get("cjk") else "model_unknown_other", lang)
        lines.append(t("model_unknown_tokens", lang, share=f"{unknown['details'].get('share', 0):.0%}", advice=advice))
    return "\n\n".join(lines)


def preset_values(key: str, width: int, method: str, freeze_layers, layers: int, device_type: str) -> dict:
    """What the preset puts in the advanced fields for this model width and depth, method and device."""
    key = key if key in PRESETS else DEFAULT_PRESET
    freeze_layers = int(freeze_layers) if freeze_layers not in (None, "") else None
    train = build_config(DataConfig(), "", method or "auto", key, device_type, hidden_size=width,
                         layer_count=layers, freeze_layers=freeze_layers).train
    return {field: getattr(train, field) for field in PRESET_FIELDS}


def apply_preset(key: str, name: str, method: str, freeze_layers, device_type: str) -> dict:
    """preset_values for the model named (the bundled model's size when it cannot be read)."""
    facts = model_facts(name)
    return preset_values(key, facts.get("width", 384), method, freeze_layers, facts.get("layers") or 0, device_type)


def method_fields(method: str) -> tuple[bool, bool]:
    """Whether the freeze depth and the LoRA rank are shown: each only under its own method."""
    return method == "freeze", method == "lora"


def suggested_max_length(view: dict | None, max_positions: int = 512) -> int | None:
    """Long enough for 95% of the texts, in steps of 16, within what the model accepts."""
    lengths = (view or {}).get("token_lengths")
    if not lengths:
        return None
    upper = min(MAX_LENGTHS[1], max_positions)
    return int(min(upper, max(32, math.ceil(lengths["p95"] / 16) * 16)))


def estimate_text(name: str, method: str, freeze_layers: int, lora_r: int, view: dict | None, epochs: float,
                  batch_size: int, max_length: int, evals_per_epoch: int, lang: str) -> str:
    """A rough time and memory estimate on the device training would use."""
    if not view or not view.get("split_sizes"):
        return t("estimate_needs_data", lang)
    facts = model_facts(name)
    choice = describe_model(name, method, freeze_layers, lora_r, len(view["label_counts"]))
    if facts["error"] or choice["error"]:
        return ""
    device = training.pick_device()
    train_rows, val_rows, test_rows = view["split_sizes"]
    lengths = view.get("token_lengths") or {"p50": 32, "p95": 64}
    max_length = int(max_length or 128)
    result = estimate_run(layers=facts["layers"], width=facts["width"], total_params=choice["total"],
                          trainable_params=choice["trainable"], method=counted_method(method),
                          freeze_layers=int(freeze_layers or 0),
                          train_rows=train_rows, eval_rows=val_rows + test_rows,
                          evaluations=math.ceil(float(epochs or 1) * max(1, int(evals_per_epoch or 1))),
                          epochs=float(epochs or 1), batch_size=int(batch_size or 32),
                          tokens=min(lengths["p50"], max_length), longest_tokens=min(lengths["p95"], max_length),
                          device=device.type, threads=torch.get_num_threads())
    memory_gb = max(0.1, result.memory_bytes / 1e9)
    return t("estimate", lang, time=duration_text(result.seconds, lang), memory=f"{memory_gb:.1f}",
             device=training.describe_device(device), rows=f"{train_rows:,}", epochs=epochs_text(epochs, lang),
             speed=f"{result.samples_per_s:,.0f}")


def epochs_text(epochs, lang: str) -> str:
    n = float(epochs or 1)
    return t("one_epoch" if n == 1 else "epochs_count", lang, n=f"{n:g}")


# --- the tab -----------------------------------------------------------------------------------
class ModelTab:
    def __init__(self, studio: Studio) -> None:
        self.studio = studio
        default = studio.default_model
        facts = model_facts(default)
        describe_model(default, "auto", 0, 8, 2)  # warm the cache: the page's first answers come at once
        width = facts.get("width", 384)
        layers = facts.get("layers") or 6
        depth = default_freeze_layers(layers)
        start = preset_values(DEFAULT_PRESET, width, "auto", depth, layers, studio.device_type)
        fixed = TrainConfig()  # the settings no preset changes
        gr.Markdown(I18N("model_intro"))
        with gr.Row():
            with gr.Column(scale=3):
                self.model_choice = gr.Dropdown(model_choices(default), value=default, allow_custom_value=True,
                                                label=I18N("model_choice"), info=I18N("model_choice_info"),
                                                elem_id="model-choice")
            with gr.Column(scale=2):
                self.note = gr.Markdown(model_note(default, None, "en"), elem_id="model-note")
        self.method = gr.Radio([(I18N(f"method_{m}"), m) for m in METHODS], value="auto", label=I18N("method"),
                               info=I18N("method_info"), elem_id="method")
        gr.Markdown(I18N("method_help"), elem_id="method-help")
        with gr.Row():
            self.freeze_depth = gr.Slider(0, layers, value=depth, step=1, label=I18N("freeze_depth"),
                                          info=I18N("freeze_depth_info"), visible=False, elem_id="freeze-depth")
            self.lora_rank = gr.Dropdown(LORA_RANKS, value=8, label=I18N("lora_rank"), info=I18N("lora_rank_info"),
                                         visible=False, elem_id="lora-rank")
        self.trainable = gr.Markdown(elem_id="trainable-params")
        with gr.Row(equal_height=True):
            self.preset = gr.Radio([(I18N(f"preset_{key}"), key) for key in PRESETS], value=DEFAULT_PRESET,
                                   label=I18N("preset"), elem_id="preset", scale=2)
            self.preset_note = gr.Markdown(elem_id="preset-note")  # filled on load, in the page's language
        with gr.Accordion(I18N("advanced"), open=False, elem_id="advanced"):
            with gr.Row():
                self.learning_rate = gr.Number(start["learning_rate"], label=I18N("learning_rate"),
                                               info=I18N("learning_rate_info"), minimum=1e-7, maximum=0.5,
                                               step=1e-5, elem_id="learning-rate")
                self.epochs = gr.Number(start["epochs"], label=I18N("epochs"), info=I18N("epochs_info"),
                                        minimum=0.1, maximum=100, step=0.5, elem_id="epochs")
                self.batch_size = gr.Dropdown(BATCH_SIZES, value=start["batch_size"], label=I18N("batch_size"),
                                              info=I18N("batch_size_info"), allow_custom_value=True,
                                              elem_id="batch-size")
            with gr.Row():
                longest = min(MAX_LENGTHS[1], facts.get("max_positions", MAX_LENGTHS[1]))
                self.max_length = gr.Slider(MAX_LENGTHS[0], longest, value=min(fixed.max_length, longest), step=8,
                                            label=I18N("max_length"),
                                            info=I18N("max_length_info"), elem_id="max-length")
                self.warmup = gr.Slider(0, 0.3, value=fixed.warmup_ratio, step=0.01, label=I18N("warmup"),
                                        info=I18N("warmup_info"), elem_id="warmup")
                self.weight_decay = gr.Number(fixed.weight_decay, label=I18N("weight_decay"),
                                              info=I18N("weight_decay_info"), minimum=0, maximum=1, step=0.01,
                                              elem_id="weight-decay")
            with gr.Row():
                self.patience = gr.Slider(0, 10, value=start["patience"], step=1, label=I18N("patience"),
                                          info=I18N("patience_info"), elem_id="patience")
                self.evals_per_epoch = gr.Slider(1, 10, value=start["evals_per_epoch"], step=1,
                                                 label=I18N("evals_per_epoch"), info=I18N("evals_per_epoch_info"),
                                                 elem_id="evals-per-epoch")
                self.class_weights = gr.Checkbox(fixed.class_weights, label=I18N("class_weights"),
                                                 info=I18N("class_weights_info"), elem_id="class-weights")
                self.seed = gr.Number(fixed.seed, label=I18N("seed"), info=I18N("seed_info"), precision=0,
                                      elem_id="seed")
            self.max_length_hint = gr.Markdown(elem_id="max-length-hint")
        self.estimate = gr.Markdown(elem_id="model-estimate")

    @property
    def settings(self) -> list:
        """The inputs a run's config is built from, in the order train_tab.start_training takes them."""
        return [self.model_choice, self.method, self.freeze_depth, self.lora_rank, self.preset, self.learning_rate,
                self.epochs, self.batch_size, self.max_length, self.warmup, self.weight_decay, self.patience,
                self.class_weights, self.seed, self.evals_per_epoch]

    @property
    def preset_fields(self) -> list:
        """The advanced fields a preset fills, in the order of PRESET_FIELDS."""
        return [self.learning_rate, self.epochs, self.batch_size, self.patience, self.evals_per_epoch]

    def wire(self, lang: gr.Radio, data_state: gr.State) -> None:
        device_type = self.studio.device_type
        choice_inputs = [self.model_choice, self.method, self.freeze_depth, self.lora_rank, data_state, lang]
        estimate_inputs = [self.model_choice, self.method, self.freeze_depth, self.lora_rank, data_state,
                           self.epochs, self.batch_size, self.max_length, self.evals_per_epoch, lang]

        def filled(values: dict) -> tuple:
            return tuple(values[field] for field in PRESET_FIELDS)

        def on_choice(name, method, freeze_layers, lora_r, view, lang):
            choice = describe_model(name, method, freeze_layers, lora_r, len((view or {}).get("label_counts") or {}))
            return trainable_text(choice, lang)

        def on_model(name, preset, method, freeze_layers, view, lang):
            facts = model_facts(name)
            if facts["error"]:
                return (gr.skip(),) * (2 + len(PRESET_FIELDS)) + (model_note(name, view, lang),)
            layers = max(1, facts["layers"])
            depth = min(int(freeze_layers or 0), layers)
            values = preset_values(preset, facts["width"], method, depth, facts["layers"], device_type)
            suggested = suggested_max_length(view, facts["max_positions"])
            slider = gr.update(maximum=layers, value=depth)
            max_length = gr.update(maximum=min(MAX_LENGTHS[1], facts["max_positions"]),
                                   **({"value": suggested} if suggested else {}))
            return (slider, *filled(values), max_length, model_note(name, view, lang))

        def on_preset(preset, name, method, freeze_layers, lang):
            return (*filled(apply_preset(preset, name, method, freeze_layers, device_type)), preset_note(preset, lang))

        def on_method(method, preset, name, freeze_layers):
            show_depth, show_rank = method_fields(method)
            return (gr.update(visible=show_depth), gr.update(visible=show_rank),
                    *filled(apply_preset(preset, name, method, freeze_layers, device_type)))

        def on_depth(freeze_layers, preset, name, method):
            # Only under freeze does the depth change the preset (at the maximum only the head trains).
            if method != "freeze":
                return (gr.skip(),) * len(PRESET_FIELDS)
            return filled(apply_preset(preset, name, method, freeze_layers, device_type))

        def on_data(view, name, lang):
            suggested = suggested_max_length(view, model_facts(name).get("max_positions", 512))
            hint = t("max_length_hint", lang, p50=view["token_lengths"]["p50"], p95=view["token_lengths"]["p95"],
                     suggested=suggested) if suggested else ""
            return (gr.update(value=suggested) if suggested else gr.skip(), hint, model_note(name, view, lang))

        for trigger in (self.model_choice.change, self.method.change, self.freeze_depth.change, self.lora_rank.change,
                        data_state.change):
            trigger(on_choice, choice_inputs, [self.trainable], show_progress="hidden",
                    api_name="describe_model" if trigger == self.model_choice.change else None)
        self.model_choice.change(on_model, [self.model_choice, self.preset, self.method, self.freeze_depth, data_state,
                                            lang],
                                 [self.freeze_depth, *self.preset_fields, self.max_length, self.note])
        self.preset.change(on_preset, [self.preset, self.model_choice, self.method, self.freeze_depth, lang],
                           [*self.preset_fields, self.preset_note])
        self.method.change(on_method, [self.method, self.preset, self.model_choice, self.freeze_depth],
                           [self.freeze_depth, self.lora_rank, *self.preset_fields], show_progress="hidden")
        self.freeze_depth.change(on_depth, [self.freeze_depth, self.preset, self.model_choice, self.method],
                                 self.preset_fields, show_progress="hidden")
        data_state.change(on_data, [data_state, self.model_choice, lang], [self.max_length, self.max_length_hint,
                                                                            self.note])
        for trigger in (self.method.change, self.freeze_depth.change, self.lora_rank.change, data_state.change,
                        self.model_choice.change, self.epochs.change, self.batch_size.change, self.max_length.change,
                        self.evals_per_epoch.change):
            trigger(estimate_text, estimate_inputs, [self.estimate], show_progress="hidden")

    @property
    def relabel_inputs(self) -> list:
        return [self.model_choice, self.method, self.freeze_depth, self.lora_rank, self.preset, self.epochs,
                self.batch_size, self.max_length, self.evals_per_epoch]

    def relabel_outputs(self) -> list:
        return [self.trainable, self.note, self.preset_note, self.estimate]


def preset_note(preset: str, lang: str) -> str:
    return t(f"preset_{preset if preset in PRESETS else DEFAULT_PRESET}_note", lang)


def relabel(name, method, freeze_layers, lora_r, preset, epochs, batch_size, max_length, evals_per_epoch, view, lang):
    """The Model tab's own sentences, in the page's language (on load and when the language changes)."""
    choice = describe_model(name, method, freeze_layers, lora_r, len((view or {}).get("label_counts") or {}))
    return (trainable_text(choice, lang), model_note(name, view, lang), preset_note(preset, lang),
            estimate_text(name, method, freeze_layers, lora_r, view, epochs, batch_size, max_length,
                          evals_per_epoch, lang))

