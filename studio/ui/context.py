"""What every tab shares: the runs folder, the one JobManager of the app, and cached model look-ups."""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .. import models
from ..jobs import JobManager
from ..runs import Run, get_run, latest_run

SAMPLE_DATA = Path(__file__).resolve().parents[2] / "assets" / "sample_support_tickets.csv"
DEFAULT_MODEL_ENV = "STUDIO_DEFAULT_MODEL"   # a model name or folder to pre-select instead of the bundled one


@dataclass
class Studio:
    runs_dir: Path
    manager: JobManager
    default_model: str = models.DEFAULT_MODEL
    sample_path: Path = SAMPLE_DATA
    downloads_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="studio-downloads-")))

    @classmethod
    def create(cls, runs_dir: str | Path, default_model: str | None = None) -> "Studio":
        runs_dir = Path(runs_dir).resolve()
        default = default_model or os.environ.get(DEFAULT_MODEL_ENV) or models.DEFAULT_MODEL
        return cls(runs_dir=runs_dir, manager=JobManager(runs_dir), default_model=default)

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


@lru_cache(maxsize=8)
def cached_tokenizer(name: str):
    return models.load_tokenizer(name)


@lru_cache(maxsize=32)
def cached_model_config(name: str):
    return models.load_config(name)


@lru_cache(maxsize=256)
def cached_choice(name: str, method: str, freeze_layers: int, lora_r: int, num_labels: int) -> dict:
    return models.describe_choice(name, method, freeze_layers, lora_r, num_labels)
