"""A run is a folder: runs/<run_id>/ holds everything about one training run.

    config.json        the RunConfig it was started with
    events.jsonl       append-only, one JSON object a line: started, step, eval, finished, failed, ...
    status.json        {"state": queued|running|finished|stopped|failed|cancelled|interrupted, "message": ...}
    metrics.json       test metrics, written once at the end
    predictions.jsonl  every test example with its true and predicted label and confidence
    model/             save_pretrained format, loadable by transformers.pipeline
    .lock              locked (flock, shared) by every process that owns the run: the studio while it is
                       queued, the training process while it trains; "is it alive" = "is the lock held"
    stop               written to stop it: "keep" (stop and keep the best model so far) or "discard"
    output.log         what the training process printed (and its stack if it crashed)

status.json, metrics.json and model/ are written to a temporary name and renamed, so a reader
never sees half a file. The UI, the CLI and the tests all read the same folder.

The state a reader gets is derived from the folder in one order (see `derive_status`), and repaired on
disk when the process that owned the run is gone: a run cannot read "running" once nothing runs it, nor
"interrupted" beside a complete model and its scores.
"""
from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import RunConfig

ACTIVE_STATES = ("queued", "running")
FINAL_STATES = ("finished", "stopped", "failed", "cancelled", "interrupted")
LOCK_FILE = ".lock"
STOP_FILE = "stop"
OUTPUT_LOG = "output.log"
STOP_CHOICES = ("keep", "discard")


def atomic_write_json(path: Path, obj: Any) -> None:
    text = json.dumps(obj, indent=2, ensure_ascii=False)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        if err.errno not in (errno.ENOSPC, errno.EDQUOT) or not path.exists():
            raise
        # A full disk has no block for a new file, but a small file's own block can be rewritten in place.
        with open(path, "r+", encoding="utf-8") as f:
            f.write(text)
            f.truncate()


def _errno_of(err: BaseException | None) -> int | None:
    """The errno behind an error: an OSError's own, one it was raised from, or the "(os error N)" that Rust
    libraries (safetensors, tokenizers) put in their message."""
    seen = 0
    while err is not None and seen < 5:
        if isinstance(err, OSError) and err.errno:
            return err.errno
        found = re.search(r"\(os error (\d+)\)", str(err))
        if found:
            return int(found.group(1))
        err, seen = err.__cause__ or err.__context__, seen + 1
    return None


def write_failure(err: BaseException, folder: str | Path) -> str | None:
    """The sentence for a write the disk refused (full, read-only, not ours), or None for another error."""
    code = _errno_of(err)
    if code is None:
        return None
    err = OSError(code, os.strerror(code))
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        return "The disk is full: free space or choose another runs folder."
    if err.errno == errno.EROFS:
        return f"The runs folder {folder} is on a read-only disk: choose another runs folder."
    if err.errno in (errno.EACCES, errno.EPERM):
        return f"The studio may not write in {folder}: choose another runs folder or change its permissions."
    if err.errno == errno.EFBIG:
        return "A file grew past the size this system allows (the file size limit): raise it or choose another runs folder."
    return None


# --- liveness: a lock held by whoever owns the run ------------------------------------------
class Lease:
    """A shared flock on the run's .lock, held for as long as this object lives (or until release()).

    The kernel drops it when the holder dies, however it dies, so a held lock means a live owner: no pid
    that can be reused or that reads 1 in a container.
    """

    def __init__(self, run_dir: str | Path) -> None:
        self.fd: int | None = os.open(Path(run_dir) / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_SH)

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> "Lease":
        return self

    def __exit__(self, *exc) -> None:
        self.release()


class _Probe:
    """An exclusive try-lock: got means nobody holds the run (and no other reader repairs it meanwhile)."""

    def __init__(self, run_dir: Path) -> None:
        self.fd: int | None = None
        self.got = True
        try:
            self.fd = os.open(run_dir / LOCK_FILE, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.got = False

    def __enter__(self) -> "_Probe":
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            os.close(self.fd)


def lock_held(run_dir: str | Path) -> bool:
    with _Probe(Path(run_dir)) as probe:
        return not probe.got


# Names a killed writer can leave behind: save_pretrained's folder, the write-then-rename files, checkpoints'.
def temporaries(run_dir: Path) -> list[Path]:
    found = [p for p in run_dir.glob(".*.tmp")] + [p for p in run_dir.glob(".*.part")]
    for sub in ("checkpoints",):
        if (run_dir / sub).is_dir():
            found += [p for p in (run_dir / sub).rglob("*") if p.name.endswith((".tmp", ".part"))
                      or p.name.startswith(".tmp")]
    return found


def remove_temporaries(run_dir: str | Path) -> list[str]:
    """Delete what a killed writer left half-written; the names removed."""
    removed = []
    for path in temporaries(Path(run_dir)):
        try:
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
            removed.append(path.name)
        except FileNotFoundError:
            pass
        except OSError:
            pass  # a read-only folder: the reader still gets the right state
    return removed


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
        run, lease = cls.create_leased(runs_dir, config)
        lease.release()
        return run

    @classmethod
    def create_leased(cls, runs_dir: str | Path, config: RunConfig) -> tuple["Run", Lease]:
        """A new queued run and the lease that keeps it alive: taken before status.json says "queued", so no
        reader ever sees a queued run that nobody holds."""
        runs_dir = Path(runs_dir)
        runs_dir.mkdir(parents=True, exist_ok=True)
        run_id = time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)
        path = runs_dir / run_id
        path.mkdir()
        try:
            lease = Lease(path)
            run = cls(path)
            atomic_write_json(path / "config.json", config.to_dict())
            run.events_path.touch()
            run.set_status("queued", "Waiting to start.")
        except OSError:
            shutil.rmtree(path, ignore_errors=True)  # a disk that refuses the first files: no half-made run
            raise
        return run, lease

    def append_event(self, event: dict[str, Any]) -> dict[str, Any]:
        event = {"time": round(time.time(), 3), **event}
        # One write of one line in append mode: readers see whole lines or nothing new.
        with open(self.events_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(event, ensure_ascii=False) + "\n")
        return event

    def set_status(self, state: str, message: str = "", **extra: Any) -> dict[str, Any]:
        previous = self.recorded_status()
        status = {**previous, **extra, "state": state, "message": message,
                  "updated": round(time.time(), 3), "pid": os.getpid()}
        if state == "running" and "started" not in previous:
            status["started"] = status["updated"]
        if state in FINAL_STATES:
            status["ended"] = extra.get("ended") or status["updated"]
        else:
            status.pop("ended", None)
        atomic_write_json(self.path / "status.json", status)
        return status

    def write_json(self, name: str, obj: Any) -> None:
        atomic_write_json(self.path / name, obj)

    # --- reading -------------------------------------------------------------------------
    def recorded_status(self) -> dict[str, Any]:
        """status.json as written, true or not."""
        return read_json(self.path / "status.json") or {}

    def status(self) -> dict[str, Any]:
        """The run's status as the folder proves it; repaired on disk when its owner is gone."""
        recorded = self.recorded_status()
        derived = derive_status(self, recorded)
        if derived is recorded:
            return recorded
        return self._repair(derived)

    def _repair(self, derived: dict[str, Any]) -> dict[str, Any]:
        with _Probe(self.path) as probe:
            if not probe.got:
                return derived  # an owner still holds it: it writes its own status; this reader only reports
            recorded = self.recorded_status()  # again, under the lock: another reader may have repaired it
            derived = derive_status(self, recorded, owner_alive=False)
            if derived is recorded:
                return recorded
            remove_temporaries(self.path)
            try:
                if recorded.get("state") in ACTIVE_STATES:
                    scores = {k: (self.metrics() or {}).get(k) for k in ("accuracy", "macro_f1")} \
                        if derived["state"] in ("finished", "stopped") else {}
                    self.append_event({"type": derived["state"], "message": derived["message"], **scores,
                                       "repaired": True})
                atomic_write_json(self.path / "status.json", derived)
            except OSError:
                pass  # a read-only or full disk: the reader still gets the right state
            return derived

    def can_resume(self) -> bool:
        return can_resume(self)

    def stop_requested(self) -> str | None:
        """"keep" or "discard" when someone asked this run to stop, else None."""
        try:
            text = (self.path / STOP_FILE).read_text(encoding="utf-8").strip()
        except (FileNotFoundError, UnicodeDecodeError):
            return None
        except OSError:
            return None
        return text if text in STOP_CHOICES else "discard" if text else None

    def request_stop(self, keep: bool = False) -> None:
        """Ask the process training this run to stop at its next step (it reads the stop file)."""
        atomic_write_text(self.path / STOP_FILE, "keep" if keep else "discard")

    def last_event_time(self) -> float | None:
        """The time of the last whole event: when something last really happened in this run."""
        try:
            with open(self.events_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(0, size - 8192))
                tail = f.read()
        except OSError:
            return None
        for line in reversed(tail.split(b"\n")):
            try:
                return float(json.loads(line)["time"])
            except (ValueError, KeyError, TypeError):
                continue
        return None

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
        started, ended = status.get("started"), status.get("ended")
        if not ended:  # still going: as far as its last event (or status) says it got
            ended = max(filter(None, (self.last_event_time(), status.get("updated"))), default=None)
        return {
            "id": self.id, "name": config.name, "state": status.get("state", "unknown"),
            "message": status.get("message", ""), "model": config.model.name,
            "method": describe_method(config, metrics), "method_details": method_details(config, metrics),
            "data": Path(config.data.train_file).name,
            "best_validation": status.get("best_validation"),
            "test_accuracy": metrics.get("accuracy"), "test_macro_f1": metrics.get("macro_f1"),
            "warnings": metrics.get("warnings", []),
            "duration_s": round(ended - started, 1) if started and ended else None,
            "created": self.id[:15], "has_model": self.has_model(), "gpu": status.get("gpu"),
            "can_resume": self.can_resume(),
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


def current_curve(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events with the step and eval events a later `started` replaced: a run started again after running out
    of memory begins its curves anew, and a resumed run goes on from its checkpoint's step, replacing what the
    interrupted process logged past it."""
    out: list[dict[str, Any]] = []
    for event in events:
        if event.get("type") == "started":
            kept = event.get("resumed_from_step")
            out = [e for e in out if e.get("type") not in ("step", "eval")
                   or (kept is not None and e.get("step", 0) <= kept)]
        out.append(event)
    return out


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
    found = [Run(p) for p in runs_dir.iterdir()
             if not p.name.startswith(".") and p.is_dir() and (p / "config.json").exists()]
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


def atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


# --- the state, from what is on disk -----------------------------------------------------------
def has_checkpoint(run_dir: str | Path) -> bool:
    """Whether training can continue from a checkpoint in this folder (the checkpoints module decides)."""
    if not (Path(run_dir) / "checkpoints").is_dir():
        return False
    try:
        from . import checkpoints
    except ImportError:
        return False
    try:
        return bool(checkpoints.can_resume(run_dir))
    except Exception:  # a checkpoint it cannot read is one it cannot resume from
        return False


def can_resume(run: Run) -> bool:
    """An interrupted run, or one whose process crashed, that left a checkpoint to continue from."""
    status = run.status()
    resumable = status.get("state") == "interrupted" or (status.get("state") == "failed" and status.get("crashed"))
    return bool(resumable) and has_checkpoint(run.path)


def _gone_message(run: Run, recorded: dict[str, Any]) -> str:
    if recorded.get("state") == "queued":
        return "The studio stopped before this run started; start it again."
    if has_checkpoint(run.path):
        return ("The training process ended before the run finished (killed, or the computer stopped); "
                "resume it to continue from its last checkpoint.")
    return ("The training process ended before the run finished (killed, or the computer stopped); "
            "start it again with the same settings.")


def derive_status(run: Run, recorded: dict[str, Any], owner_alive: bool | None = None) -> dict[str, Any]:
    """The state the folder proves, in one order; `recorded` itself when it is still true.

    1. model/ complete and metrics.json: finished (stopped, when the user stopped it and kept the best).
    2. else an owner holds the lock: what the owner recorded (queued or running).
    3. else a final state recorded by the run's own process: that state.
    4. else (recorded queued or running, nobody holds it): interrupted, ended at its last real event.
    """
    state = recorded.get("state")
    if run.has_model() and (run.path / "metrics.json").exists():
        if state in ("finished", "stopped"):
            return recorded
        metrics = run.metrics() or {}
        stopped = bool(metrics.get("stopped_by_user")) or state == "stopped"
        return {**recorded, "state": "stopped" if stopped else "finished",
                "message": finished_sentence(metrics, stopped), "ended": recorded.get("ended")
                or run.last_event_time() or recorded.get("updated")}
    if state not in ACTIVE_STATES:
        return recorded
    if owner_alive is None:
        owner_alive = lock_held(run.path)
    if owner_alive:
        return recorded
    return {**recorded, "state": "interrupted", "message": _gone_message(run, recorded),
            "ended": run.last_event_time() or recorded.get("updated")}


def finished_sentence(report: dict[str, Any], stopped: bool = False) -> str:
    """The final status of a run with a model: the test accuracy, and the warning when that number is misleading."""
    from .metrics import warning_text
    accuracy = report.get("accuracy")
    scored = f"{accuracy:.1%} of test examples classified correctly." if accuracy is not None else "the model was saved."
    message = (f"Stopped by you, keeping the best model so far: {scored}" if stopped else f"Finished: {scored}")
    warning = warning_text(report) if accuracy is not None else ""
    return f"{message} {warning}" if warning else message


def repair_runs(runs_dir: str | Path) -> list[str]:
    """Read every run's state (repairing what its dead owner left); the ids that became interrupted."""
    marked = []
    for run in list_runs(runs_dir):
        if run.recorded_status().get("state") in ACTIVE_STATES and run.status().get("state") == "interrupted":
            marked.append(run.id)
    return marked


mark_interrupted = repair_runs  # the earlier name


def delete_run(runs_dir: str | Path, run_id: str) -> None:
    run = get_run(runs_dir, run_id)
    if run.status().get("state") in ACTIVE_STATES:
        raise RuntimeError("This run is still in progress; stop it before deleting it.")
    shutil.rmtree(run.path)
