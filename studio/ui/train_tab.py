"""Tab 3, Train: start and stop a run, and follow it live from its folder (status, progress, curves, log).

The page keeps only a run id and a small cache of the events it has read; a gr.Timer asks about
once a second for the events written since (Run.events(offset)), so a tick costs one small read.
"""
from __future__ import annotations

import time

import gradio as gr

from .. import plots
from ..config import ConfigError, DataConfig, ModelConfig, RunConfig
from ..metrics import warning_text
from ..presets import DEFAULT_PRESET
from ..presets import build_config as build_run_config
from .context import Studio
from .i18n import I18N, duration_text, finding_text, plot_words, t
from .model_tab import model_facts

TICK_SECONDS = 1.0
LOG_LINES = 40


# --- starting and stopping ---------------------------------------------------------------------
def _number(value, kind=float):
    """The number in a field, or None for an empty or unreadable one (the preset's value then applies)."""
    try:
        return kind(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def build_config(view: dict, model_name: str, method: str, freeze_layers, lora_r, preset: str, learning_rate, epochs,
                 batch_size, max_length, warmup, weight_decay, patience, class_weights, seed, evals_per_epoch,
                 run_name: str = "", *, layers: int, width: int, device_type: str) -> RunConfig:
    """A RunConfig from the page's plain values through presets.build_config; the core's validate() judges it.

    Every field of the advanced settings is what the run uses; an empty one takes the preset's value.
    """
    data = DataConfig(train_file=view["path"], validation_file=view.get("validation_path"),
                      test_file=view.get("test_path"), text_column=view.get("text_column"),
                      label_column=view.get("label_column"))
    typed = {"learning_rate": _number(learning_rate), "epochs": _number(epochs), "batch_size": _number(batch_size, int),
             "max_length": _number(max_length, int), "warmup_ratio": _number(warmup),
             "weight_decay": _number(weight_decay), "patience": _number(patience, int),
             "class_weights": bool(class_weights), "seed": _number(seed, int),
             "evals_per_epoch": _number(evals_per_epoch, int), "device": device_type}
    rank = _number(lora_r, int)
    return build_run_config(data, model_name, method or "auto", preset or DEFAULT_PRESET, device_type,
                            hidden_size=width, layer_count=layers, freeze_layers=_number(freeze_layers, int),
                            lora_r=ModelConfig.lora_r if rank is None else rank, overrides=typed,
                            name=(run_name or "").strip())


def start_training(studio: Studio, view: dict | None, model_name: str, method: str, freeze_layers, lora_r,
                   preset: str, learning_rate, epochs, batch_size, max_length, warmup, weight_decay, patience,
                   class_weights, seed, evals_per_epoch, run_name: str, lang: str) -> tuple[str, str | None]:
    """(a sentence for the page, the new run's id or None).

    A start while another run trains is queued behind it (one run per device), and the sentence says so.
    """
    if not view or not view.get("rows"):
        return t("start_need_data", lang), None
    errors = [f for f in view["findings"] if f["severity"] == "error"]
    if errors:
        return t("start_data_errors", lang, problem=finding_text(errors[0], lang)), None
    if view.get("split_error"):
        return f"⛔ {view['split_error']}", None
    model_name = (model_name or "").strip() or studio.default_model
    facts = model_facts(model_name)
    if facts["error"]:
        return f"⛔ {facts['error']}", None
    busy = studio.manager.active_runs()
    try:
        config = build_config(view, model_name, method, freeze_layers, lora_r, preset, learning_rate, epochs,
                              batch_size, max_length, warmup, weight_decay, patience, class_weights, seed,
                              evals_per_epoch, run_name, layers=facts["layers"], width=facts["width"],
                              device_type=studio.device_type)
        run = studio.manager.submit(config)
    except ConfigError as err:
        return f"⛔ {err}", None
    if busy:
        return t("start_queued", lang, run=run.id, ahead=len(busy)), run.id
    return t("start_started", lang, run=run.id), run.id


def stop_training(studio: Studio, run_id: str | None, lang: str) -> str:
    if run_id and studio.manager.cancel(run_id):
        return t("stop_requested", lang)
    return t("stop_nothing", lang)


# --- following a run ---------------------------------------------------------------------------
def fresh_watch(run_id: str | None, lang: str, active: list[str]) -> dict:
    """The per-page cache: which run, how far its events were read, and what they said so far."""
    return {"run_id": run_id, "lang": lang, "offset": 0, "state": None, "message": None, "started": None,
            "steps": [], "evals": [], "log": [], "seen_active": list(active), "final": None}


def poll(studio: Studio, viewed_run: str | None, watch: dict | None, lang: str) -> dict | None:
    """What changed since the last tick, as plain values; None when nothing did.

    Keys: run_id, watch, key (run id and state), status, progress, device, loss, metric, log; a
    missing key means that part of the page stays as it is.
    """
    active = studio.manager.active_runs()
    if not viewed_run:
        viewed_run = studio.run_to_show(None)  # a page that shows nothing yet shows what a fresh page would
    seen = watch["seen_active"] if watch else []
    started_elsewhere = [r for r in active if r not in seen]
    if started_elsewhere and viewed_run not in active:
        viewed_run = started_elsewhere[0]  # another tab started a run: show it here too
    run = studio.find_run(viewed_run)
    run_id = run.id if run else None
    reset = watch is None or watch["run_id"] != run_id or watch["lang"] != lang
    watch = fresh_watch(run_id, lang, active) if reset else {**watch, "seen_active": list(active)}
    if run is None:
        if not reset:
            return None
        words = plot_words(lang)
        return {"run_id": None, "watch": watch, "key": None, "status": t("status_none", lang), "progress": "",
                "device": "", "loss": plots.loss_figure([], [], words), "metric": plots.metric_figure([], words),
                "log": ""}
    events, offset = run.events(watch["offset"])
    status = run.status()
    state, message = status.get("state", "unknown"), status.get("message", "")
    if not reset and not events and state == watch["state"] and message == watch["message"]:
        return {"watch": watch} if watch["seen_active"] != seen else None
    watch = absorb(watch, events, lang)
    watch.update(offset=offset, state=state, message=message)
    changes = {"watch": watch, "key": f"{run_id}:{state}",
               "status": status_text(run_id, run.config().name, status, watch, lang),
               "progress": progress_html(state, watch, status, lang), "device": device_text(watch, lang),
               "log": "\n".join(watch["log"])}
    if reset:
        changes["run_id"] = run_id
    if reset or any(e.get("type") in ("step", "eval") for e in events):
        words, epochs = plot_words(lang), (watch["started"] or {}).get("epochs")
        changes["loss"] = plots.loss_figure(watch["steps"], watch["evals"], words, epochs)
        changes["metric"] = plots.metric_figure(watch["evals"], words, epochs)
    return changes


def absorb(watch: dict, events: list[dict], lang: str) -> dict:
    """The cache with new events added (a new dict; lists are copied, not shared with the previous tick)."""
    watch = {**watch, "steps": list(watch["steps"]), "evals": list(watch["evals"]), "log": list(watch["log"])}
    for event in events:
        kind = event.get("type")
        if kind == "started":
            watch["started"] = event
            watch["steps"], watch["evals"] = [], []   # a restart after running out of memory begins again
        elif kind == "step":
            watch["steps"].append({k: event.get(k) for k in ("step", "epoch", "loss", "samples_per_s", "progress",
                                                              "eta_s")})
        elif kind == "eval":
            watch["evals"].append({k: event.get(k) for k in ("step", "epoch", "loss", "accuracy", "macro_f1", "best",
                                                              "probe")})
        elif kind == "finished":
            watch["final"] = event
        line = log_line(event, lang)
        if line:
            watch["log"].append(line)
    watch["log"] = watch["log"][-LOG_LINES:]
    return watch


def log_line(event: dict, lang: str) -> str | None:
    kind = event.get("type")
    clock = time.strftime("%H:%M:%S", time.localtime(event.get("time", time.time())))
    if kind == "started":
        text = t("log_started", lang, device=event.get("device", "?"), train=f"{event.get('train_rows', 0):,}",
                 steps=f"{event.get('total_steps', 0):,}", batch=event.get("batch_size", "?"))
    elif kind == "step":
        text = t("log_step", lang, step=event["step"], epoch=f"{event['epoch']:.2f}", loss=f"{event['loss']:.4f}",
                 speed=f"{event.get('samples_per_s', 0):.0f}")
    elif kind == "eval":
        text = t("log_eval_probe" if event.get("probe") else "log_eval", lang, epoch=f"{event['epoch']:.2f}",
                 loss=f"{event['loss']:.4f}", accuracy=f"{event['accuracy']:.1%}", f1=f"{event['macro_f1']:.3f}")
        if event.get("best"):
            text += " " + t("log_best", lang)
    elif kind in ("note", "failed"):
        text = event.get("message", "")
    elif kind in ("queued", "finished", "cancelled", "interrupted"):
        text = t(f"log_{kind}", lang, **{k: v for k, v in event.items() if k in ("position",)},
                 accuracy=f"{event.get('accuracy', 0):.1%}")
    else:
        return None
    return f"{clock}  {text}"


STATE_ICON = {"queued": "⏳", "running": "🏃", "finished": "✅", "failed": "⛔", "cancelled": "⏹️", "interrupted": "⚠️"}


def status_text(run_id: str, name: str, status: dict, watch: dict, lang: str) -> str:
    state = status.get("state", "unknown")
    title = f"{STATE_ICON.get(state, '•')} **{t('state_' + state, lang)}**"
    run = t("status_run", lang, run=f"{name} ({run_id})" if name else run_id)
    if state == "finished":
        final = watch.get("final") or {}
        detail = t("status_finished", lang, accuracy=f"{final.get('accuracy', 0):.1%}",
                   f1=f"{final.get('macro_f1', 0):.2f}")
        warning = warning_text(final, lang)
        if warning:
            detail += f"\n\n⚠️ {warning}"
    elif state == "failed":
        detail = status.get("message", "")
    elif state == "running" and not watch["started"]:
        detail = t("status_preparing", lang)
    elif state == "running" and watch["evals"]:
        detail = t("status_running", lang) + " " + best_so_far(watch["evals"], lang)
    else:
        detail = t(f"status_{state}", lang)
    return f"{title} · {run}\n\n{detail}"


def best_so_far(evals: list[dict], lang: str) -> str:
    """The best validation score yet, and whether it is still the first answer (the fitted head)."""
    best = [e for e in evals if e.get("best")][-1]
    key = "status_best_probe" if best.get("probe") else "status_best"
    return t(key, lang, accuracy=f"{best['accuracy']:.1%}", epoch=f"{best['epoch']:.1f}")


def progress_html(state: str, watch: dict, status: dict, lang: str) -> str:
    last = watch["steps"][-1] if watch["steps"] else None
    started = watch["started"] or {}
    share = 1.0 if state == "finished" else (last["progress"] if last else 0.0)
    if state == "running" and last:
        text = t("progress_running", lang, epoch=f"{last['epoch']:.1f}", epochs=f"{started.get('epochs', 0):g}",
                 step=f"{last['step']:,}", steps=f"{started.get('total_steps', 0):,}",
                 speed=f"{last.get('samples_per_s') or 0:,.0f}", eta=duration_text(last.get("eta_s") or 0, lang))
    elif state == "running":
        text = t("progress_preparing", lang)
    elif state == "finished" and status.get("started") and status.get("ended"):
        text = t("progress_finished", lang, duration=duration_text(status["ended"] - status["started"], lang))
    else:
        text = t(f"progress_{state}", lang) if state in ("queued", "failed", "cancelled", "interrupted") else ""
    busy = " busy" if state == "running" and not last else ""
    return (f'<div class="studio-progress {state}{busy}" data-state="{state}" data-progress="{share:.4f}">'
            f'<div class="studio-progress-track"><div class="studio-progress-fill" style="width:{share * 100:.1f}%">'
            f'</div></div><div class="studio-progress-text">{text}</div></div>')


def device_text(watch: dict, lang: str) -> str:
    started = watch["started"]
    if not started:
        return ""
    return t("device_line", lang, device=started.get("device", "?"), train=f"{started.get('train_rows', 0):,}",
             validation=f"{started.get('validation_rows', 0):,}", test=f"{started.get('test_rows', 0):,}",
             trainable=f"{started.get('trainable_parameters', 0):,}", total=f"{started.get('total_parameters', 0):,}",
             labels=len(started.get("labels", [])))


# --- the tab -----------------------------------------------------------------------------------
class TrainTab:
    def __init__(self, studio: Studio) -> None:
        self.studio = studio
        gr.Markdown(I18N("train_intro"))
        self.plan = gr.Markdown(elem_id="train-plan")   # the Model tab's estimate, repeated next to Start
        with gr.Row(equal_height=True):
            self.run_name = gr.Textbox(label=I18N("run_name"), placeholder=I18N("run_name_placeholder"), scale=3,
                                       elem_id="run-name")
            self.start = gr.Button(I18N("train_start"), variant="primary", elem_id="train-start", scale=1)
            self.stop = gr.Button(I18N("train_stop"), variant="stop", elem_id="train-stop", scale=1)
        self.message = gr.Markdown(elem_id="train-message")
        self.status = gr.Markdown(elem_id="train-status")  # filled by the first tick, in the page's language
        self.progress = gr.HTML(elem_id="train-progress")
        self.device = gr.Markdown(elem_id="train-device")
        with gr.Row():
            self.loss_plot = gr.Plot(plots.loss_figure([], []), label=I18N("loss_plot"), elem_id="loss-plot")
            self.metric_plot = gr.Plot(plots.metric_figure([]), label=I18N("metric_plot"), elem_id="metric-plot")
        gr.Markdown(I18N("plots_explained"))
        with gr.Accordion(I18N("train_log"), open=False):
            self.log = gr.Textbox(lines=10, max_lines=10, autoscroll=True, show_label=False, interactive=False,
                                  elem_id="train-log")
        self.viewed_run = gr.State(None)   # the run this page shows in Train and Evaluate
        self.watch = gr.State(None)        # what this page has read of that run's events
        self.run_key = gr.State(None)      # "<run id>:<state>": Evaluate and Playground refresh when it changes
        self.timer = gr.Timer(TICK_SECONDS)

    def wire(self, lang: gr.Radio, stored_run: gr.BrowserState, data_state: gr.State, model_settings: list) -> None:
        studio = self.studio

        def on_start(view, *settings):
            *settings, run_name, lang = settings
            message, run_id = start_training(studio, view, *settings, run_name, lang)
            if run_id is None:
                return message, gr.skip(), gr.skip()
            return message, run_id, run_id

        def on_stop(run_id, lang):
            return stop_training(studio, run_id, lang)

        def on_tick(viewed_run, watch, lang):
            changes = poll(studio, viewed_run, watch, lang)
            if changes is None:
                return (gr.skip(),) * 10
            keys = ("run_id", "run_id", "watch", "key", "status", "progress", "device", "loss", "metric", "log")
            return tuple(changes[k] if k in changes else gr.skip() for k in keys)

        self.start.click(on_start, [data_state, *model_settings, self.run_name, lang],
                         [self.message, self.viewed_run, stored_run], api_name="start_training")
        self.stop.click(on_stop, [self.viewed_run, lang], [self.message], api_name="stop_training")
        self.timer.tick(on_tick, [self.viewed_run, self.watch, lang],
                        [self.viewed_run, stored_run, self.watch, self.run_key, self.status, self.progress,
                         self.device, self.loss_plot, self.metric_plot, self.log],
                        concurrency_limit=None, show_progress="hidden", api_name="poll")
