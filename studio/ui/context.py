"""What every tab shares: the runs folder, the one JobManager of the app, the device it trains on, and cached
model look-ups."""
from __future__ import annotations

import os
import socket
import tempfile
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlparse

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
        """What a freshly opened page shows: the run training now, else the one it showed before, else the newest."""
        active = self.manager.active_runs()
        if active:
            return active[0]
        if self.find_run(remembered):
            return remembered
        latest = latest_run(self.runs_dir)
        return latest.id if latest else None


# --- model look-ups, cached, and quick to refuse a hub model when the hub is out of reach ----------
_hub_checked: dict[str, tuple[float, bool]] = {}
HUB_CHECK_SECONDS = 300


def hub_reachable() -> bool:
    """Whether the model hub answers on its port (checked at most every few minutes; 2 s at worst)."""
    host = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co").hostname or "huggingface.co"
    checked_at, ok = _hub_checked.get(host, (0.0, False))
    if time.monotonic() - checked_at < HUB_CHECK_SECONDS:
        return ok
    try:
        socket.create_connection((host, 443), timeout=2).close()
        ok = True
    except OSError:
        ok = False
    _hub_checked[host] = (time.monotonic(), ok)
    return ok


def check_reachable(name: str) -> None:
    """Refuse at once a hub model the machine cannot download (the hub client would retry for half a minute)."""
    if Path(models.resolve(name)).exists() or os.environ.get("HF_HUB_OFFLINE") not in (None, "", "0"):
        return
    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return  # a proxy may reach what a direct connection cannot: let the download try
    if not hub_reachable():
        raise models.ModelError(f"{name} would be downloaded from the Hugging Face model hub, which this machine "
                                f"cannot reach right now (offline?); use the bundled {models.DEFAULT_MODEL} or a "
                                "model folder on this machine.")


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
