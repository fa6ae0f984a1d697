"""A run is a folder: runs/<run_id>/ holds everything about one training run.

    config.json        the RunConfig it was started with
    events.jsonl       append-only, one JSON object a line: started, step, eval, finished, failed, ...
    status.json        {"state": queued|running|finished|failed|cancelled|interrupted, "message": ...}
    metrics.json       test metrics, written once at the end
    predictions.jsonl  every test example with its true and predicted label and confidence
    model/             save_pretrained format, loadable by transformers.pipeline

status.json, metrics.json and model/ are written to a temporary name and renamed, so a reader
never sees half a file. The UI, the CLI and the tests all read the same folder.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import RunConfig

ACTIVE_STATES = ("queued", "running")
FINAL_STATES = ("finished", "failed", "cancelled", "interrupted")


def atomic_write_json(path: Path, obj: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(obj, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class Run:
    path: Path

    @property
    def id(self) -> str:
        return self.path.name

    @property
    def model_dir(self) -> Path:
        return self.path / "model"

    @property
    def events_path(self) -> Path:
        return self.path / "events.jsonl"

    # --- writing -------------------------------------------------------------------------
    @classmethod
    def create(cls, runs_dir: str | Path, config: RunConfig) -> "Run":
        runs_dir = Path(runs_dir)
        runs_dir.mkdir(parents=True, exist_ok=True)
        run_id = time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)
        path = runs_dir / run_id
        path.mkdir()
        run = cls(path)
        atomic_write_json(path / "config.json", config.to_dict())
        run.events_path.touch()
        run.set_status("queued", "Waiting to start.")
        return run

    def append_event(self, event: dict[str, Any]) -> dict[str, Any]:
        event = {"time": round(time.time(), 3), **event}
        # One write of one line in append mode: readers see whole lines or nothing new.
        with open(self.events_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(event, ensure_ascii=False) + "\n")
        return event

    def set_status(self, state: str, message: str = "", **extra: Any) -> dict[str, Any]:
        previous = self.status()
        status = {**previous, **extra, "state": state, "message": message,
                  "updated": round(time.time(), 3), "pid": os.getpid()}
        if state == "running" and "started" not in previous:
            status["started"] = status["updated"]
        if state in FINAL_STATES:
            status["ended"] = status["updated"]
        atomic_write_json(self.path / "status.json", status)
        return status

    def write_json(self, name: str, obj: Any) -> None:
        atomic_write_json(self.path / name, obj)

    # --- reading -------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        return read_json(self.path / "status.json") or {}

    @property
    def state(self) -> str:
        return self.status().get("state", "unknown")

    def config(self) -> RunConfig:
        return RunConfig.from_dict(read_json(self.path / "config.json") or {})

    def metrics(self) -> dict[str, Any] | None:
        return read_json(self.path / "metrics.json")

    def predictions(self) -> list[dict[str, Any]]:
        path = self.path / "predictions.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]

    def events(self, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
        """Events from byte `offset` on, and the offset to pass next time (only whole lines)."""
        try:
            with open(self.events_path, "rb") as f:
                f.seek(offset)
                chunk = f.read()
        except FileNotFoundError:
            return [], offset
        end = chunk.rfind(b"\n") + 1
        lines = chunk[:end].decode("utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()], offset + end

    def has_model(self) -> bool:
        return (self.model_dir / "config.json").exists()

    def summary(self) -> dict[str, Any]:
        """One row of the runs table."""
        status, config, metrics = self.status(), self.config(), self.metrics() or {}
        started, ended = status.get("started"), status.get("ended") or status.get("updated")
        return {
            "id": self.id, "name": config.name, "state": status.get("state", "unknown"),
            "message": status.get("message", ""), "model": config.model.name,
            "method": describe_method(config, metrics), "method_details": method_details(config, metrics),
            "data": Path(config.data.train_file).name,
            "best_validation": status.get("best_validation"),
            "test_accuracy": metrics.get("accuracy"), "test_macro_f1": metrics.get("macro_f1"),
            "warnings": metrics.get("warnings", []),
            "duration_s": round(ended - started, 1) if started and ended else None,
            "created": self.id[:15], "has_model": self.has_model(),
        }


def method_details(config: RunConfig, metrics: dict | None = None) -> dict[str, Any]:
    """How much of the model a run trains, as plain values; for Auto, what it chose once training has started
    (metrics.json names it), else `method` None."""
    m, chosen = config.model, metrics or {}
    if m.method == "auto":
        return {"auto": True, "method": chosen.get("method"), "freeze_layers": chosen.get("freeze_layers", 0),
                "lora_r": m.lora_r}
    return {"auto": False, "method": m.method, "freeze_layers": m.freeze_layers, "lora_r": m.lora_r}


_METHOD_WORDS = {
    "en": {"auto": "Auto", "full": "Full fine-tuning", "head": "Head only", "frozen": "{n} layers frozen"},
    "zh": {"auto": "自动", "full": "全部微调", "head": "仅训练输出层", "frozen": "冻结 {n} 层"},
}


def describe_method(config: RunConfig, metrics: dict | None = None, lang: str = "en") -> str:
    """The method in a few words, in English or Chinese (lang "zh..."): "Full fine-tuning", "Auto: Head only"."""
    d = method_details(config, metrics)
    words = _METHOD_WORDS["zh" if str(lang or "").lower().startswith("zh") else "en"]
    if d["method"] == "freeze":
        chosen = words["head"] if d["freeze_layers"] < 0 else words["frozen"].format(n=d["freeze_layers"])
    elif d["method"] == "lora":
        chosen = f"LoRA r={d['lora_r']}"
    else:
        chosen = words["full"] if d["method"] == "full" else None
    if d["auto"]:
        return f"{words['auto']}: {chosen}" if chosen else words["auto"]
    return chosen or str(d["method"])


def list_runs(runs_dir: str | Path) -> list[Run]:
    """Every run in runs_dir, newest first."""
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        return []
    found = [Run(p) for p in runs_dir.iterdir() if p.is_dir() and (p / "config.json").exists()]
    return sorted(found, key=lambda r: r.id, reverse=True)


def get_run(runs_dir: str | Path, run_id: str) -> Run:
    # A run id is a folder name: refuse anything that could walk out of runs_dir.
    if not run_id or "/" in run_id or "\\" in run_id or run_id.startswith("."):
        raise KeyError(f"No run called {run_id!r}.")
    run = Run(Path(runs_dir) / run_id)
    if not (run.path / "config.json").exists():
        raise KeyError(f"No run called {run_id!r} in {runs_dir}.")
    return run


def latest_run(runs_dir: str | Path, state: str | None = None, with_model: bool = False) -> Run | None:
    for run in list_runs(runs_dir):
        if (state is None or run.state == state) and (not with_model or run.has_model()):
            return run
    return None


def mark_interrupted(runs_dir: str | Path) -> list[str]:
    """Runs left queued or running by a process that no longer exists become `interrupted`."""
    marked = []
    for run in list_runs(runs_dir):
        status = run.status()
        if status.get("state") in ACTIVE_STATES and not _pid_alive(status.get("pid")):
            run.set_status("interrupted", "The studio stopped while this run was in progress; start it again.")
            run.append_event({"type": "interrupted"})
            marked.append(run.id)
    return marked


def delete_run(runs_dir: str | Path, run_id: str) -> None:
    run = get_run(runs_dir, run_id)
    if run.state in ACTIVE_STATES and _pid_alive(run.status().get("pid")):
        raise RuntimeError("This run is still in progress; stop it before deleting it.")
    shutil.rmtree(run.path)
