"""Tab 2, Model: the base model, how much of it to train, the preset and the advanced settings, an estimate."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import gradio as gr
import torch

from .. import models, training
from ..config import METHODS, DataConfig, ModelConfig, TrainConfig
from ..presets import DEFAULT_PRESET, PRESETS, build_config, default_freeze_layers
from .context import (Studio, Unavailable, cached_choice, cached_model_config, model_readiness, toast_errors,
                      usable_readers)
from ..estimate import calibration, estimate_run
from .i18n import I18N, device_words, duration_text, error_text, language_name, plain, t

PRESET_FIELDS = ("learning_rate", "epochs", "batch_size", "patience", "evals_per_epoch")  # what a preset fills in
LORA_RANKS = [4, 8, 16, 32, 64]
BATCH_SIZES = [8, 16, 32, 64, 128]
MAX_LENGTHS = (16, 512)


@dataclass(frozen=True)
class RunChoices:
    """What the Model tab hands to Start, by name (a None or empty field takes the preset's value)."""
    model_name: str = models.DEFAULT_MODEL
    method: str = "auto"
    freeze_layers: int | None = None
    lora_r: int | None = ModelConfig.lora_r
    preset: str = DEFAULT_PRESET
    learning_rate: float | None = None
    epochs: float | None = None
    batch_size: int | None = None
    max_length: int | None = None
    warmup_ratio: float | None = None
    weight_decay: float | None = None
    patience: int | None = None
    class_weights: bool = False
    seed: int | None = None
    evals_per_epoch: int | None = None

    @classmethod
    def named(cls, names, values) -> "RunChoices":
        return cls(**dict(zip(names, values)))

    def replace(self, **changes) -> "RunChoices":
        return dataclasses.replace(self, **changes)


SETTING_NAMES = tuple(f.name for f in dataclasses.fields(RunChoices))


# --- handlers: plain values in and out ---------------------------------------------------------
def state_word(state: str, lang: str) -> str:
    """A model's availability in two or three words, for the picker's labels."""
    return t(f"avail_{state}", lang)


def model_choices(default_model: str, lang: str = "en", extra: str | None = None) -> list[tuple[str, str]]:
    """The catalog as (label, value) pairs, each saying whether it can be used now; the pre-selected model (and a
    folder the user chose) first when not in the catalog."""
    choices = []
    for entry in models.CATALOG:
        state = models.availability(entry.key).state
        label = t("model_label", lang, model=entry.key, size=entry.params_m,
                  languages=language_name(entry.languages, lang), state=state_word(state, lang))
        choices.append((label, entry.key))
    for name in (extra, default_model):
        if name and name not in {key for _, key in choices}:
            state = models.availability(name).state
            choices.insert(0, (f"{name} · {state_word(state, lang)}", name))
    return choices


def unavailable_text(name: str, state: str, lang: str) -> str:
    """Why a model cannot be used right now, and what the user can do, in the page's language."""
    return t(f"model_cannot_{state}", lang, name=plain(name))


def model_facts(name: str, lang: str = "en") -> dict:
    """Width, depth and the longest input of a model, or the sentence saying why it cannot be used."""
    try:
        config = cached_model_config((name or "").strip() or models.DEFAULT_MODEL)
    except Unavailable as err:
        return {"error": unavailable_text(name, err.availability.state, lang), "state": err.availability.state}
    except models.ModelError as err:
        return {"error": error_text(err, lang)}
    return {"error": None, "layers": models.layer_count_of(config), "width": int(getattr(config, "hidden_size", 768)),
            "max_positions": int(getattr(config, "max_position_embeddings", 512) or 512)}


def counted_method(method: str) -> str:
    """The method parameters are counted for: auto is decided only when training starts, so count it as full."""
    return "full" if method in ("auto", None, "") else method


def describe_model(name: str, method: str, freeze_layers: int, lora_r: int, num_labels: int, lang: str = "en") -> dict:
    """Parameter counts for a choice (no weights loaded), or the reason it cannot be used."""
    name = (name or "").strip() or models.DEFAULT_MODEL
    counted = counted_method(method)
    # Settings of the methods not chosen do not change the counts: leave them out of the cache key.
    freeze_layers = int(freeze_layers or 0) if counted == "freeze" else 0
    lora_r = int(lora_r or 8) if counted == "lora" else 8
    try:
        return {"error": None, "method": method or "auto",
                **cached_choice(name, counted, freeze_layers, lora_r, max(2, int(num_labels or 2)))}
    except Unavailable as err:
        return {"error": unavailable_text(name, err.availability.state, lang)}
    except models.ModelError as err:
        return {"error": error_text(err, lang)}
    except Exception as err:  # a model whose layers the studio cannot find, an odd config, ...
        return {"error": f"{name} cannot be used with this method ({type(err).__name__}: {str(err)[:200]})."}


def trainable_text(choice: dict, lang: str) -> str:
    if choice.get("error"):
        return f"⛔ {choice['error']}"
    text = t("model_trainable", lang, trainable=f"{choice['trainable']:,}", total=f"{choice['total']:,}",
             share=share_text(choice["share"]))
    if choice.get("method") == "auto":
        text += " " + t("model_trainable_auto", lang)
    elif choice.get("method") == "full" and choice["trainable"] < choice["total"]:
        text += " " + t("model_trainable_full", lang)  # "full" yet under 100%: say where the rest is
    return text


def share_text(share: float) -> str:
    """A share of parameters: "<0.1%" rather than a "(0.0%)" that reads as nothing at all."""
    return "<0.1%" if 0 < share < 0.001 else f"{share:.1%}"


def sample_texts(view: dict | None) -> list[str]:
    return (view or {}).get("sample_texts") or []


def model_note(name: str, view: dict | None, lang: str) -> str:
    """What the catalog says about the model, whether it can be used right now, and whether it reads the data."""
    name = (name or "").strip() or models.DEFAULT_MODEL
    entry = models.catalog_entry(name)
    if entry:
        lines = [t("model_catalog_note", lang, size=entry.params_m, languages=language_name(entry.languages, lang),
                   note=t(f"model_note_{entry.key}", lang))]
    else:
        lines = [t("model_custom_note", lang)]
    ready = model_readiness(name, sample_texts(view))
    if not ready["usable"]:
        lines.append(f"⛔ {unavailable_text(name, ready['state'], lang)}")
        if ready["cjk"]:
            lines.append(advice_text(name, lang))
        return "\n\n".join(lines)
    lines.append(t(f"model_ready_{ready['state']}", lang))
    share = ready["share"]
    if share is not None and share >= models.UNREADABLE_SHARE:
        lines.append(t("model_cannot_read", lang, share=f"{share:.0%}", advice=advice_text(name, lang)))
    elif share is not None and share > 0.05:
        advice = t("model_unknown_cjk" if ready["cjk"] else "model_unknown_other", lang)
        lines.append(t("model_unknown_tokens", lang, share=f"{share:.0%}", advice=advice))
    return "\n\n".join(lines)


def advice_text(name: str, lang: str) -> str:
    """What to pick instead for text this model cannot read: only models that can load now, else how to get one."""
    readers = usable_readers(besides=name)
    if readers:
        return t("model_pick_reader", lang, models=", ".join(readers))
    return t("model_no_reader", lang)


def use_folder(folder: str, lang: str) -> tuple[dict | None, str]:
    """(the picker's new choices and value, a sentence) for a model folder the user typed."""
    folder = (folder or "").strip()
    if not folder:
        return None, t("model_folder_empty", lang)
    found = models.availability(folder if models.looks_like_folder(folder) else "./" + folder)
    if found.state != "folder":
        state = found.state if found.state in ("missing_folder", "not_a_model") else "missing_folder"
        return None, "⛔ " + unavailable_text(folder, state, lang)
    return {"choices": model_choices(folder, lang), "value": found.name}, t("model_folder_used", lang,
                                                                              folder=plain(found.name))


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


def estimate_speed(name: str, method: str, freeze_layers, lora_r, view: dict | None, epochs, batch_size,
                   max_length, evals_per_epoch) -> tuple[float, float] | None:
    """(texts per second, seconds) the estimate expects for these settings before calibration; None without data
    or a usable model."""
    if not view or not view.get("split_sizes"):
        return None
    facts = model_facts(name)
    choice = describe_model(name, method, freeze_layers, lora_r, len(view["label_counts"]))
    if facts["error"] or choice["error"]:
        return None
    device = training.pick_device()
    train_rows, val_rows, test_rows = view["split_sizes"]
    if view.get("max_rows"):
        train_rows = min(train_rows, int(view["max_rows"]))
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
    return result.samples_per_s, result.seconds, result.memory_bytes, train_rows


def estimate_text(name: str, method: str, freeze_layers: int, lora_r: int, view: dict | None, epochs: float,
                  batch_size: int, max_length: int, evals_per_epoch: int, lang: str, runs_dir=None) -> str:
    """A time and memory estimate on the device training would use, scaled by how this machine's recent runs
    compared with their estimates (runs_dir) when there are any."""
    if not view or not view.get("split_sizes"):
        return t("estimate_needs_data", lang)
    found = estimate_speed(name, method, freeze_layers, lora_r, view, epochs, batch_size, max_length,
                           evals_per_epoch)
    if found is None:
        return ""
    speed, seconds, memory_bytes, train_rows = found
    device = training.pick_device().type
    factor = calibration(runs_dir, device) if runs_dir else None
    if factor:
        seconds, speed = seconds * factor, speed / factor
    text = t("estimate", lang, time=duration_text(seconds, lang), memory=f"{max(0.1, memory_bytes / 1e9):.1f}",
             device=device_words(device, lang), rows=f"{train_rows:,}", epochs=epochs_text(epochs, lang),
             speed=f"{speed:,.0f}")
    return text + " " + t("estimate_calibrated" if factor else "estimate_uncalibrated", lang)


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
                self.note = gr.Markdown(elem_id="model-note")  # filled on load, in the page's language
        with gr.Row(equal_height=False):
            self.folder = gr.Textbox(label=I18N("model_folder"), info=I18N("model_folder_info"), scale=3,
                                     placeholder="/home/me/models/bert-base-chinese", elem_id="model-folder")
            self.use_folder = gr.Button(I18N("model_folder_use"), scale=1, size="md", elem_id="model-folder-use")
        self.folder_message = gr.Markdown(elem_id="model-folder-message")
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
                                               info=I18N("learning_rate_info"), step=1e-5,
                                               elem_id="learning-rate")
                self.epochs = gr.Number(start["epochs"], label=I18N("epochs"), info=I18N("epochs_info"),
                                        step=0.5, elem_id="epochs")
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
                                              info=I18N("weight_decay_info"), step=0.01,
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
        with gr.Accordion(I18N("glossary_title"), open=False, elem_id="model-glossary"):
            gr.Markdown(I18N("glossary"))

    @property
    def settings(self) -> dict:
        """The components a run's settings come from, by RunChoices field name (the order the API takes them)."""
        components = {"model_name": self.model_choice, "method": self.method, "freeze_layers": self.freeze_depth,
                      "lora_r": self.lora_rank, "preset": self.preset, "learning_rate": self.learning_rate,
                      "epochs": self.epochs, "batch_size": self.batch_size, "max_length": self.max_length,
                      "warmup_ratio": self.warmup, "weight_decay": self.weight_decay, "patience": self.patience,
                      "class_weights": self.class_weights, "seed": self.seed,
                      "evals_per_epoch": self.evals_per_epoch}
        assert tuple(components) == SETTING_NAMES
        return components

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
            choice = describe_model(name, method, freeze_layers, lora_r, len((view or {}).get("label_counts") or {}),
                                    lang)
            return trainable_text(choice, lang)

        def on_estimate(*values):
            return estimate_text(*values, runs_dir=self.studio.runs_dir)

        @toast_errors
        def on_folder(folder, lang):
            picked, message = use_folder(folder, lang)
            return (gr.update(**picked) if picked else gr.skip()), message

        def on_model(name, preset, method, freeze_layers, view, lang):
            facts = model_facts(name, lang)
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
            return (gr.update(value=suggested) if suggested else gr.skip(), max_length_hint(view, name, lang),
                    model_note(name, view, lang))

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
            trigger(on_estimate, estimate_inputs, [self.estimate], show_progress="hidden")
        self.use_folder.click(on_folder, [self.folder, lang], [self.model_choice, self.folder_message],
                              api_name="use_model_folder")
        self.folder.submit(on_folder, [self.folder, lang], [self.model_choice, self.folder_message])

    @property
    def relabel_inputs(self) -> list:
        return [self.model_choice, self.method, self.freeze_depth, self.lora_rank, self.preset, self.epochs,
                self.batch_size, self.max_length, self.evals_per_epoch]

    def relabel_outputs(self) -> list:
        return [self.trainable, self.note, self.preset_note, self.estimate, self.model_choice, self.max_length_hint]


def preset_note(preset: str, lang: str) -> str:
    return t(f"preset_{preset if preset in PRESETS else DEFAULT_PRESET}_note", lang)


def relabel(name, method, freeze_layers, lora_r, preset, epochs, batch_size, max_length, evals_per_epoch, view, lang,
            runs_dir=None):
    """The Model tab's own sentences, in the page's language (on load and when the language changes)."""
    choice = describe_model(name, method, freeze_layers, lora_r, len((view or {}).get("label_counts") or {}), lang)
    return (trainable_text(choice, lang), model_note(name, view, lang), preset_note(preset, lang),
            estimate_text(name, method, freeze_layers, lora_r, view, epochs, batch_size, max_length,
                          evals_per_epoch, lang, runs_dir=runs_dir),
            gr.update(choices=model_choices(name, lang)), max_length_hint(view, name, lang))


def max_length_hint(view: dict | None, name: str, lang: str) -> str:
    """How long the texts are and the max length suggested for them, in the page's language."""
    suggested = suggested_max_length(view, model_facts(name).get("max_positions", 512))
    if not suggested:
        return ""
    return t("max_length_hint", lang, p50=view["token_lengths"]["p50"], p95=view["token_lengths"]["p95"],
             suggested=suggested)
