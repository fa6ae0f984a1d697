"""Tab 3, Train: start and stop a run, and follow it live from its folder (status, progress, curves, log).

The page keeps only a run id and a small cache of the events it has read; a gr.Timer asks about
once a second for the events written since (Run.events(offset)), so a tick costs one small read.
"""
from __future__ import annotations

import json
import os
import time

import gradio as gr

from .. import plots
from .. import runs as runs_module
from ..config import ConfigError, DataConfig, ModelConfig, RunConfig
from ..jobs import JobError
from ..metrics import warning_text
from ..presets import DEFAULT_PRESET
from ..presets import build_config as build_run_config
from ..runs import list_runs
from .context import Studio, model_readiness, toast_errors
from .data_tab import split_error_text
from ..estimate import record_estimate, remaining_seconds
from .i18n import (I18N, STRINGS, device_words, duration_text, error_text, finding_text, note_text, plain, plot_words,
                   t)
from .model_tab import (RunChoices, advice_text, estimate_speed, model_facts, sample_texts,
                        unavailable_text)

TICK_SECONDS = 1.0
IDLE_TICK_SECONDS = 5.0   # a page showing a run that has ended asks five times less often
LOG_LINES = 40


# --- starting and stopping ---------------------------------------------------------------------
def _number(value, kind=float):
    """The number in a field, or None for an empty or unreadable one (the preset's value then applies)."""
    try:
        return kind(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def build_config(view: dict, choices: RunChoices, run_name: str = "", *, layers: int, width: int,
                 device_type: str) -> RunConfig:
    """A RunConfig from the page's named choices through presets.build_config; the core's validate() judges it.

    Every field of the advanced settings is what the run uses; an empty one takes the preset's value. The data
    settings (columns, label names, encoding, split column, sample size) come from the Data tab's view.
    """
    c = choices
    data = DataConfig(train_file=view["path"], validation_file=view.get("validation_path"),
                      test_file=view.get("test_path"), text_column=view.get("text_column"),
                      label_column=view.get("label_column"), encoding=view.get("encoding") or None,
                      split_column=view.get("split_column") or None, max_rows=_number(view.get("max_rows"), int),
                      text_columns=list(view["text_columns"]) if len(view.get("text_columns") or []) > 1 else None,
                      label_names=dict(view["label_names"]) if view.get("label_names") else None)
    typed = {"learning_rate": _number(c.learning_rate), "epochs": _number(c.epochs),
             "batch_size": _number(c.batch_size, int), "max_length": _number(c.max_length, int),
             "warmup_ratio": _number(c.warmup_ratio), "weight_decay": _number(c.weight_decay),
             "patience": _number(c.patience, int), "class_weights": bool(c.class_weights),
             "seed": _number(c.seed, int), "evals_per_epoch": _number(c.evals_per_epoch, int), "device": device_type}
    rank = _number(c.lora_r, int)
    return build_run_config(data, c.model_name, c.method or "auto", c.preset or DEFAULT_PRESET, device_type,
                            hidden_size=width, layer_count=layers, freeze_layers=_number(c.freeze_layers, int),
                            lora_r=ModelConfig.lora_r if rank is None else rank, overrides=typed,
                            name=(run_name or "").strip())


# (field, the smallest and largest value that can work, the key of the sentence saying so)
NUMBER_RULES = (("learning_rate", 1e-7, 0.5, "bad_learning_rate"), ("epochs", 0.01, 1000, "bad_epochs"),
                ("batch_size", 1, 4096, "bad_batch_size"), ("warmup_ratio", 0, 0.99, "bad_warmup"),
                ("weight_decay", 0, 1, "bad_weight_decay"), ("patience", 0, 1000, "bad_patience"),
                ("evals_per_epoch", 1, 100, "bad_evals_per_epoch"))


def check_numbers(choices: RunChoices, lang: str) -> str | None:
    """A sentence for the first advanced setting that cannot work, in the page's language; None when all can."""
    for field, low, high, key in NUMBER_RULES:
        raw = getattr(choices, field)
        if raw in (None, ""):
            continue
        value = _number(raw)
        if value is None or not low <= value <= high:
            return "⛔ " + t(key, lang, value=plain(str(raw)))
    return None


def readiness_problem(studio: Studio, view: dict, model_name: str, lang: str) -> str | None:
    """Why the chosen model cannot train on this data (cannot load, or cannot read its language), or None."""
    ready = model_readiness(model_name, sample_texts(view))
    if not ready["usable"]:
        return "⛔ " + unavailable_text(model_name, ready["state"], lang)
    if not ready["readable"]:
        return "⛔ " + t("start_unreadable", lang, share=f"{ready['share']:.0%}",
                         advice=advice_text(model_name, lang))
    return None


START_REPEAT_SECONDS = 10   # the same settings again within this many seconds is the same click, not a new run


def start_training(studio: Studio, view: dict | None, choices: RunChoices, run_name: str,
                   lang: str) -> tuple[str, str | None, str | None]:
    """(a sentence for the page, the run to show, the new run's id or None).

    A start while another run trains is queued behind it (one run per device): the sentence says so and the
    page keeps showing the running one. The same start twice in a row (a double click, a repeated request)
    queues one run only.
    """
    if not view or not view.get("rows"):
        return t("start_need_data", lang), None, None
    errors = [f for f in view["findings"] if f["severity"] == "error"]
    if errors:
        return t("start_data_errors", lang, problem=finding_text(errors[0], lang)), None, None
    if view.get("split_error"):
        return f"⛔ {plain(split_error_text(view, lang))}", None, None
    model_name = (choices.model_name or "").strip() or studio.default_model
    choices = choices.replace(model_name=model_name)
    problem = check_numbers(choices, lang) or readiness_problem(studio, view, model_name, lang)
    if problem:
        return problem, None, None
    facts = model_facts(model_name, lang)
    if facts["error"]:
        return f"⛔ {facts['error']}", None, None
    try:
        config = build_config(view, choices, run_name, layers=facts["layers"], width=facts["width"],
                              device_type=studio.device_type)
        config.validate()
    except ConfigError as err:
        return f"⛔ {plain(error_text(err, lang))}", None, None
    fingerprint = json.dumps(config.to_dict(), sort_keys=True, default=str)
    with studio.start_lock:  # one start at a time per studio: a second click waits here, then finds the first
        earlier = studio.recent_starts.get(fingerprint)
        if earlier and time.monotonic() - earlier[1] < START_REPEAT_SECONDS and studio.manager.is_active(earlier[0]):
            return t("start_already", lang, run=plain(earlier[0])), earlier[0], None
        busy = studio.manager.active_runs()
        try:
            run = studio.manager.submit(config)
        except (ConfigError, JobError) as err:
            return f"⛔ {plain(error_text(err, lang))}", None, None
        studio.recent_starts = {fingerprint: (run.id, time.monotonic())}
    record_start_estimate(studio, run, view, choices, facts)
    if busy:
        return t("start_queued", lang, run=plain(run.id), ahead=len(busy)), busy[0], run.id
    return t("start_started", lang, run=plain(run.id)), run.id, run.id


def record_start_estimate(studio: Studio, run, view: dict, choices: RunChoices, facts: dict) -> None:
    """Keep the estimate this start was made with, beside the run, for the next estimates' calibration."""
    path = getattr(run, "path", None)
    if path is None:
        return
    try:
        speed = estimate_speed(choices.model_name, choices.method, choices.freeze_layers, choices.lora_r, view,
                               choices.epochs, choices.batch_size, choices.max_length, choices.evals_per_epoch)
    except Exception:  # an estimate is a nicety; a start never fails for it
        return
    if speed:
        record_estimate(path, speed[0], speed[1], studio.device_type)


def stop_training(studio: Studio, run_id: str | None, lang: str, keep: bool = False) -> str:
    """Stop the shown run: keep=True finishes with the best model so far (tested like a finished run), else
    nothing is kept."""
    if not run_id or not studio.manager.is_active(run_id):
        return t("stop_nothing", lang)
    stopped = studio.manager.cancel(run_id, keep=keep)
    if not stopped:
        return t("stop_nothing", lang)
    return t("stop_keep_requested" if keep else "stop_requested", lang)


RESTARTABLE = ("failed", "cancelled", "stopped", "interrupted")


def can_resume(studio: Studio, run_id: str | None) -> bool:
    """Whether the run can continue from its last checkpoint (needs a manager and run folders that support it)."""
    run = studio.find_run(run_id)
    if run is None or run.state not in ("interrupted", "failed", "stopped") or studio.manager.is_active(run.id):
        return False
    try:
        return bool(runs_module.can_resume(run))
    except Exception:  # an unreadable checkpoint is not resumable; the page goes on
        return False


def run_actions(studio: Studio, run_id: str | None) -> dict:
    """Which buttons the shown run offers: stop (keep / discard), start again, resume."""
    run = studio.find_run(run_id)
    active = bool(run) and studio.manager.is_active(run.id)
    state = run.state if run else None
    return {"stop": active, "restart": bool(run) and not active and state in RESTARTABLE,
            "resume": can_resume(studio, run_id)}


def restart_run(studio: Studio, run_id: str | None, lang: str) -> tuple[str, str | None]:
    """Start the run again with the same settings, as a new run; (a sentence, the new run's id)."""
    run = studio.find_run(run_id)
    if run is None:
        return t("runs_pick", lang), None
    if studio.manager.is_active(run.id):
        return t("restart_active", lang), None
    try:
        new = studio.manager.restart(run.id)
    except (ConfigError, JobError, KeyError, ValueError, OSError) as err:
        return f"⛔ {plain(error_text(err, lang))}", None
    return t("restart_started", lang, run=plain(new.id), old=plain(run.id)), new.id


def resume_run(studio: Studio, run_id: str | None, lang: str) -> tuple[str, str | None]:
    """Continue an interrupted run from its last checkpoint, in the same folder."""
    if not can_resume(studio, run_id):
        return t("resume_unavailable", lang), None
    try:
        run = studio.manager.resume(run_id)
    except (ConfigError, KeyError, ValueError, OSError, RuntimeError) as err:
        return f"⛔ {plain(error_text(err, lang))}", None
    return t("resume_started", lang, run=plain(run.id)), run.id


def run_picker_choices(studio: Studio, lang: str, limit: int = 50) -> list[tuple[str, str]]:
    """Runs to show on the Train tab as (label, id): the active ones first, then the newest."""
    active = studio.manager.active_runs()
    found = list_runs(studio.runs_dir)
    ordered = [r for r in found if r.id in active] + [r for r in found if r.id not in active]
    choices = []
    for run in ordered[:limit]:
        name = run.config().name
        state = t("state_" + run.state, lang) if ("state_" + run.state) in STRINGS else run.state
        choices.append((f"{name + ' · ' if name else ''}{run.id} · {state}", run.id))
    return choices


# --- following a run ---------------------------------------------------------------------------
def fresh_watch(run_id: str | None, lang: str, active: list[str]) -> dict:
    """The per-page cache: which run, how far its events were read, and what they said so far."""
    return {"run_id": run_id, "lang": lang, "offset": 0, "state": None, "message": None, "started": None,
            "steps": [], "evals": [], "log": [], "seen_active": list(active), "final": None, "stamp": None,
            "interval": TICK_SECONDS}


def folder_stamp(run) -> tuple:
    """Sizes and change times of the run's events and status: equal stamps, nothing new to read."""
    stamp = []
    for name in ("events.jsonl", "status.json"):
        try:
            st = os.stat(run.path / name)
            stamp += [st.st_size, st.st_mtime_ns]
        except OSError:
            stamp += [None, None]
    return tuple(stamp)


def poll(studio: Studio, viewed_run: str | None, watch: dict | None, lang: str) -> dict | None:
    """What changed since the last tick, as plain values; None when nothing did.

    Keys: run_id, watch, key (run id and state), status, progress, device, loss, metric, log; a
    missing key means that part of the page stays as it is. A tick that finds the same run folder stamps and
    the same active runs as the last one returns None after two stats, reading nothing.
    """
    active = studio.manager.active_runs()
    if not viewed_run:
        viewed_run = studio.run_to_show(None)  # a page that shows nothing yet shows what a fresh page would
    seen = watch["seen_active"] if watch else []
    started_elsewhere = [r for r in active if r not in seen]
    if started_elsewhere and viewed_run not in active:
        viewed_run = started_elsewhere[0]  # another tab started a run: show it here too
    if watch is not None and watch["run_id"] == viewed_run and watch["lang"] == lang and active == seen \
            and watch.get("stamp") is not None:
        run = studio.find_run(viewed_run)
        if run is not None and folder_stamp(run) == watch["stamp"]:
            return None
    run = studio.find_run(viewed_run)
    run_id = run.id if run else None
    reset = watch is None or watch["run_id"] != run_id or watch["lang"] != lang
    watch = fresh_watch(run_id, lang, active) if reset else {**watch, "seen_active": list(active)}
    if run is None:
        if not reset:
            return None if watch["seen_active"] == seen else {"watch": watch}
        words = plot_words(lang)
        return {"run_id": None, "watch": watch, "key": None, "status": t("status_none", lang), "progress": "",
                "device": "", "loss": plots.loss_figure([], [], words), "metric": plots.metric_figure([], words),
                "log": ""}
    stamp = folder_stamp(run)
    events, offset = run.events(watch["offset"])
    status = run.status()
    state, message = status.get("state", "unknown"), status.get("message", "")
    if not reset and not events and state == watch["state"] and message == watch["message"]:
        return {"watch": {**watch, "stamp": stamp}}
    watch = absorb(watch, events, lang)
    watch.update(offset=offset, state=state, message=message, stamp=stamp)
    interval = TICK_SECONDS if state in ("queued", "running") or active else IDLE_TICK_SECONDS
    changes = {"watch": {**watch, "interval": interval}, "key": f"{run_id}:{state}",
               "status": status_text(run_id, run.config().name, status, watch, lang),
               "progress": progress_html(state, watch, status, lang), "device": device_text(watch, lang),
               "log": "\n".join(watch["log"])}
    if reset:
        changes["run_id"] = run_id
    if interval != watch.get("interval"):
        changes["interval"] = interval
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
            kept = event.get("resumed_from_step")  # as runs.current_curve: resumed, the curve goes on from there
            watch["steps"] = [p for p in watch["steps"] if kept is not None and p["step"] <= kept]
            watch["evals"] = [p for p in watch["evals"] if kept is not None and p["step"] <= kept]
        elif kind == "step":
            watch["steps"].append({k: event.get(k) for k in ("step", "epoch", "loss", "samples_per_s", "progress",
                                                              "eta_s", "time")})
        elif kind == "eval":
            watch["evals"].append({k: event.get(k) for k in ("step", "epoch", "loss", "accuracy", "macro_f1", "best",
                                                              "probe")})
        elif kind in ("finished", "stopped"):
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
        text = t("log_started", lang, device=device_words(event.get("device", "?"), lang),
                 train=f"{event.get('train_rows', 0):,}", steps=f"{event.get('total_steps', 0):,}",
                 batch=event.get("batch_size", "?"))
    elif kind == "step":
        text = t("log_step", lang, step=event["step"], epoch=f"{event['epoch']:.2f}", loss=f"{event['loss']:.4f}",
                 speed=f"{event.get('samples_per_s', 0):.0f}")
    elif kind == "eval":
        text = t("log_eval_probe" if event.get("probe") else "log_eval", lang, epoch=f"{event['epoch']:.2f}",
                 loss=f"{event['loss']:.4f}", accuracy=f"{event['accuracy']:.1%}", f1=f"{event['macro_f1']:.3f}")
        if event.get("best"):
            text += " " + t("log_best", lang)
    elif kind in ("note", "failed", "log"):
        text = note_text(event, lang)
    elif kind in ("queued", "finished", "cancelled", "interrupted", "stopped"):
        text = t(f"log_{kind}", lang, **{k: v for k, v in event.items() if k in ("position",)},
                 accuracy=f"{event.get('accuracy', 0):.1%}")
    else:
        return None
    return f"{clock}  {text}"


STATE_ICON = {"queued": "⏳", "running": "🏃", "finished": "✅", "failed": "⛔", "cancelled": "⏹️", "stopped": "⏹️",
              "interrupted": "⚠️"}


def run_title(run_id: str, name: str) -> str:
    """A run as the page names it, as text (a name with markup shows its characters)."""
    return plain(f"{name} ({run_id})" if name else run_id)


def status_text(run_id: str, name: str, status: dict, watch: dict, lang: str) -> str:
    state = status.get("state", "unknown")
    known = f"state_{state}" in STRINGS
    title = f"{STATE_ICON.get(state, '•')} **{t('state_' + state, lang) if known else plain(state)}**"
    run = t("status_run", lang, run=run_title(run_id, name))
    if state == "finished":
        final = watch.get("final") or {}
        detail = t("status_finished", lang, accuracy=f"{final.get('accuracy', 0):.1%}",
                   f1=f"{final.get('macro_f1', 0):.2f}")
        warning = warning_text(final, lang)
        if warning:
            detail += f"\n\n⚠️ {plain(warning)}"
    elif state == "failed":
        detail = plain(status.get("message", ""))
    elif state == "running" and not watch["started"]:
        detail = t("status_preparing", lang)
    elif state == "running" and watch["evals"]:
        detail = t("status_running", lang) + " " + best_so_far(watch["evals"], lang)
    elif f"status_{state}" in STRINGS:
        detail = t(f"status_{state}", lang)
    else:
        detail = plain(status.get("message", ""))
    return f"{title} · {run}\n\n{detail}"


def best_so_far(evals: list[dict], lang: str) -> str:
    """The best validation score yet, and whether it is still the first answer (the fitted head)."""
    best = [e for e in evals if e.get("best")][-1]
    key = "status_best_probe" if best.get("probe") else "status_best"
    return t(key, lang, accuracy=f"{best['accuracy']:.1%}", epoch=f"{best['epoch']:.1f}")


def eta_text(watch: dict, lang: str) -> str:
    """Time left at the pace this run measured so far (corrected every tick), else training's own figure."""
    last = watch["steps"][-1]
    total = (watch["started"] or {}).get("total_steps") or 0
    left = remaining_seconds(watch["steps"], total) if total else None
    return duration_text(left if left is not None else (last.get("eta_s") or 0), lang)


def progress_html(state: str, watch: dict, status: dict, lang: str) -> str:
    last = watch["steps"][-1] if watch["steps"] else None
    started = watch["started"] or {}
    share = 1.0 if state == "finished" else (last["progress"] if last else 0.0)
    if state == "running" and last:
        text = t("progress_running", lang, epoch=f"{last['epoch']:.1f}", epochs=f"{started.get('epochs', 0):g}",
                 step=f"{last['step']:,}", steps=f"{started.get('total_steps', 0):,}",
                 speed=f"{last.get('samples_per_s') or 0:,.0f}", eta=eta_text(watch, lang))
    elif state == "running":
        text = t("progress_preparing", lang)
    elif state in ("finished", "stopped") and status.get("started") and status.get("ended"):
        text = t(f"progress_{state}", lang, duration=duration_text(status["ended"] - status["started"], lang))
    else:
        text = t(f"progress_{state}", lang) if state in ("queued", "failed", "cancelled", "interrupted") else ""
    busy = " busy" if state == "running" and not last else ""
    css = state if state in STATE_ICON else "unknown"
    return (f'<div class="studio-progress {css}{busy}" data-state="{css}" data-progress="{share:.4f}">'
            f'<div class="studio-progress-track"><div class="studio-progress-fill" style="width:{share * 100:.1f}%">'
            f'</div></div><div class="studio-progress-text">{text}</div></div>')


def device_text(watch: dict, lang: str) -> str:
    started = watch["started"]
    if not started:
        return ""
    labels = len(started.get("labels", []))
    return t("device_line", lang, device=device_words(started.get("device", "?"), lang),
             train=f"{started.get('train_rows', 0):,}", validation=f"{started.get('validation_rows', 0):,}",
             test=f"{started.get('test_rows', 0):,}", trainable=f"{started.get('trainable_parameters', 0):,}",
             total=f"{started.get('total_parameters', 0):,}",
             labels=t("one_label" if labels == 1 else "labels_count", lang, n=labels))


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
        self.message = gr.Markdown(elem_id="train-message")
        with gr.Row(equal_height=True):
            # Run labels are plain text in a dropdown: a name with markup shows its characters.
            self.shown = gr.Dropdown([], label=I18N("train_shown_run"), info=I18N("train_shown_run_info"), scale=3,
                                     allow_custom_value=True, elem_id="train-shown-run")
            self.stop_keep = gr.Button(I18N("train_stop_keep"), variant="stop", elem_id="train-stop-keep", scale=1,
                                       visible=False)
            self.stop = gr.Button(I18N("train_stop"), variant="secondary", elem_id="train-stop", scale=1,
                                  visible=False)
            self.restart = gr.Button(I18N("train_restart"), elem_id="train-restart", scale=1, visible=False)
            self.resume = gr.Button(I18N("train_resume"), variant="primary", elem_id="train-resume", scale=1,
                                    visible=False)
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

    @property
    def action_buttons(self) -> list:
        return [self.stop_keep, self.stop, self.restart, self.resume]

    def wire(self, lang: gr.Radio, stored_run: gr.BrowserState, data_state: gr.State, model_settings: dict) -> None:
        studio = self.studio
        names, components = list(model_settings), list(model_settings.values())

        @toast_errors
        def on_start(view, *values):
            *values, run_name, lang = values
            message, shown, _ = start_training(studio, view, RunChoices.named(names, values), run_name, lang)
            if shown is None:
                return message, gr.skip(), gr.skip(), gr.skip()
            return message, shown, shown, gr.Timer(TICK_SECONDS)

        @toast_errors
        def on_stop(run_id, lang):
            return stop_training(studio, run_id, lang, keep=False)

        @toast_errors
        def on_stop_keep(run_id, lang):
            return stop_training(studio, run_id, lang, keep=True)

        @toast_errors
        def on_restart(run_id, lang):
            message, new = restart_run(studio, run_id, lang)
            return (message, new, new, gr.Timer(TICK_SECONDS)) if new else (message, gr.skip(), gr.skip(), gr.skip())

        @toast_errors
        def on_resume(run_id, lang):
            message, resumed = resume_run(studio, run_id, lang)
            return (message, resumed, resumed, gr.Timer(TICK_SECONDS)) if resumed else \
                (message, gr.skip(), gr.skip(), gr.skip())

        def on_pick(run_id):
            return (run_id, run_id) if studio.find_run(run_id) else (gr.skip(), gr.skip())

        def on_key(run_id, lang):
            shown = run_actions(studio, run_id)
            return (gr.update(choices=run_picker_choices(studio, lang), value=run_id),
                    gr.update(visible=shown["stop"]), gr.update(visible=shown["stop"]),
                    gr.update(visible=shown["restart"]), gr.update(visible=shown["resume"]))

        def on_tick(viewed_run, watch, lang):
            changes = poll(studio, viewed_run, watch, lang)
            if changes is None:
                return (gr.skip(),) * 11
            keys = ("run_id", "run_id", "watch", "key", "status", "progress", "device", "loss", "metric", "log")
            timer = gr.Timer(changes["interval"]) if "interval" in changes else gr.skip()
            return (*(changes[k] if k in changes else gr.skip() for k in keys), timer)

        # A click while a start is in flight is dropped (trigger_mode once); start_training also treats a repeat
        # of the same settings as the same run, whoever sends it.
        self.start.click(on_start, [data_state, *components, self.run_name, lang],
                         [self.message, self.viewed_run, stored_run, self.timer], api_name="start_training",
                         trigger_mode="once")
        self.stop.click(on_stop, [self.viewed_run, lang], [self.message], api_name="stop_training")
        self.stop_keep.click(on_stop_keep, [self.viewed_run, lang], [self.message], api_name="stop_keep_best")
        self.restart.click(on_restart, [self.viewed_run, lang], [self.message, self.viewed_run, stored_run,
                                                                 self.timer], api_name="restart_run")
        self.resume.click(on_resume, [self.viewed_run, lang], [self.message, self.viewed_run, stored_run, self.timer],
                          api_name="resume_run")
        self.shown.input(on_pick, [self.shown], [self.viewed_run, stored_run])
        lang.change(lambda: "", None, [self.message], show_progress="hidden")  # a sentence of the other language
        for trigger in (self.run_key.change, lang.change):
            trigger(on_key, [self.viewed_run, lang], [self.shown, *self.action_buttons], show_progress="hidden")
        self.timer.tick(on_tick, [self.viewed_run, self.watch, lang],
                        [self.viewed_run, stored_run, self.watch, self.run_key, self.status, self.progress,
                         self.device, self.loss_plot, self.metric_plot, self.log, self.timer],
                        concurrency_limit=None, show_progress="hidden", api_name="poll")
