"""What every tab shares: the runs folder, the one JobManager of the app, the device it trains on, and cached
model look-ups."""
from __future__ import annotations

import os
import tempfile
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .. import models, sample_data_path, training
from ..card import model_label  # noqa: F401  (the tabs name models as the core does)
from ..jobs import JobManager
from ..runs import Run, get_run, latest_run

SAMPLE_DATA = sample_data_path()
DEFAULT_MODEL_ENV = "STUDIO_DEFAULT_MODEL"   # a model name or folder to pre-select instead of the bundled one


@dataclass
class Studio:
    runs_dir: Path
    manager: JobManager
    default_model: str = models.DEFAULT_MODEL
    sample_path: Path = SAMPLE_DATA
    downloads_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="studio-downloads-")))
    device_type: str = field(default_factory=lambda: training.pick_device().type)  # where the studio's runs train
    start_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)  # one Start at a time
    recent_starts: dict = field(default_factory=dict, repr=False)  # settings -> (run id, when): repeats are one

    @classmethod
    def create(cls, runs_dir: str | Path, default_model: str | None = None, device_type: str | None = None) -> "Studio":
        runs_dir = Path(runs_dir).resolve()
        default = default_model or os.environ.get(DEFAULT_MODEL_ENV) or models.DEFAULT_MODEL
        device_type = device_type or training.pick_device().type
        return cls(runs_dir=runs_dir, manager=JobManager(runs_dir), default_model=default, device_type=device_type)

    @property
    def uploads_dir(self) -> Path:
        return self.runs_dir / "uploads"   # not a run: it has no config.json, so list_runs skips it

    def find_run(self, run_id: str | None) -> Run | None:
        if not run_id:
            return None
        try:
            return get_run(self.runs_dir, run_id)
        except KeyError:
            return None

    def run_to_show(self, remembered: str | None = None) -> str | None:
        """What a freshly opened page shows: the run training now, else the one it showed before, else the newest
        finished run (never, by default, a failed run some other process left behind)."""
        active = self.manager.active_runs()
        if active:
            return active[0]
        if self.find_run(remembered):
            return remembered
        latest = latest_run(self.runs_dir, state="finished")
        return latest.id if latest else None


# --- model look-ups, cached, and quick to refuse a model that cannot load right now -------------
class Unavailable(models.ModelError):
    """A model that cannot be loaded on this machine now; `availability.state` says why (the page words it)."""

    def __init__(self, availability: models.Availability) -> None:
        self.availability = availability
        super().__init__(f"{availability.name} cannot be used right now ({availability.state}).")


def hub_reachable() -> bool:
    return models.hub_reachable()


def check_reachable(name: str) -> models.Availability:
    """Refuse at once a model that cannot load (the hub client would retry for half a minute)."""
    found = models.availability(name)
    if found.state == "offline" and not models.hub_offline_mode() and hub_reachable():
        found = models.Availability(found.name, "hub", found.source)  # a test or a proxy says the hub answers
    if not found.usable and found.state != "not_a_model":  # a folder that is no model: the loader says what is wrong
        raise Unavailable(found)
    return found


@lru_cache(maxsize=8)
def _tokenizer(name: str):
    return models.load_tokenizer(name)


@lru_cache(maxsize=32)
def _model_config(name: str):
    return models.load_config(name)


@lru_cache(maxsize=256)
def _choice(name: str, method: str, freeze_layers: int, lora_r: int, num_labels: int) -> dict:
    return models.describe_choice(name, method, freeze_layers, lora_r, num_labels)


def cached_tokenizer(name: str):
    check_reachable(name)
    return _tokenizer(name)


def cached_model_config(name: str):
    check_reachable(name)
    return _model_config(name)


def cached_choice(name: str, method: str, freeze_layers: int, lora_r: int, num_labels: int) -> dict:
    check_reachable(name)
    return _choice(name, method, freeze_layers, lora_r, num_labels)


@lru_cache(maxsize=64)
def _unknown_share(name: str, texts: tuple[str, ...]) -> float | None:
    return models.unknown_share(_tokenizer(name), list(texts))


def model_readiness(name: str, texts: list[str] | None) -> dict:
    """Whether `name` can load now and read the data's language, as plain values:
    state (models.Availability.state), usable, share ([UNK] share on a sample, or None), cjk, readable."""
    name = (name or "").strip() or models.DEFAULT_MODEL
    found = models.availability(name)
    if found.state == "offline" and hub_reachable():
        found = models.Availability(found.name, "hub", found.source)
    texts = [str(t) for t in (texts or []) if str(t).strip()][:200]
    cjk = models.has_cjk(texts)
    share = None
    if found.usable and texts:
        try:
            share = _unknown_share(name, tuple(texts))
        except Exception:  # a tokenizer that cannot load: the Model tab says why
            share = None
    readable = share is None or share < models.UNREADABLE_SHARE
    return {"name": name, "state": found.state, "usable": found.usable, "share": share, "cjk": cjk,
            "readable": found.usable and readable}


def usable_readers(besides: str | None = None) -> list[str]:
    """Chinese and multilingual catalog models that can load now: what to suggest for text a model cannot read."""
    names = []
    for entry in models.readers_of(cjk=True):
        if entry.key == besides:
            continue
        state = models.availability(entry.key).state
        if state in models.USABLE or (state == "offline" and hub_reachable()):
            names.append(entry.key)
    return names


def toast_errors(handler):
    """A handler whose unforeseen error reaches the page as a sentence in its language (a Gradio toast), never as
    a bare "Error" or an English exception. The page's language is the handler's last "en"/"zh-CN" argument."""
    import functools
    import traceback

    import gradio as gr

    from .i18n import normalize, t

    @functools.wraps(handler)
    def wrapper(*args, **kwargs):
        try:
            return handler(*args, **kwargs)
        except gr.Error:
            raise
        except Exception as err:
            traceback.print_exc()  # for whoever runs the studio; the page gets one sentence
            lang = next((a for a in reversed(args) if isinstance(a, str) and normalize(a) == a), "en")
            raise gr.Error(t("unexpected_error", lang, error=type(err).__name__)) from None
    return wrapper
