"""Background training: one worker thread per device, a queue in front of it, a cancel flag per run.

Training belongs to the process, not to a page: a job keeps going whoever is watching, and
everything it produces lands in its run folder.
"""
from __future__ import annotations

import threading
import traceback
from collections import deque
from pathlib import Path
from typing import Callable

from . import metrics, tracking, training
from .config import ConfigError, RunConfig
from .data import DataError
from .models import ModelError
from .runs import Run, get_run, mark_interrupted

EXPECTED_ERRORS = (DataError, ModelError, ConfigError, training.TrainingError)


def execute(run: Run, should_stop: Callable[[], bool] = lambda: False,
            echo: Callable[[dict], None] | None = None) -> dict:
    """Train one run in this thread, recording everything in its folder; return the final status."""
    tracker = tracking.Tracker.for_run(run.path, run.config())  # TensorBoard, MLflow: closes on the final event

    def emit(event: dict) -> None:
        event = run.append_event(event)
        tracker.on_event(event)
        if echo:
            echo(event)

    run.set_status("running", "Reading the data and loading the model.")
    try:
        report = training.train(run.config(), run.path, emit, should_stop)
    except training.Cancelled:
        emit({"type": "cancelled"})
        return run.set_status("cancelled", "Stopped before the end; no model was saved. Start again to train a model.")
    except EXPECTED_ERRORS as err:
        emit({"type": "failed", "message": str(err)})
        return run.set_status("failed", str(err))
    except Exception as err:  # a crash must become a readable status, never a dead thread
        (run.path / "error.log").write_text(traceback.format_exc(), encoding="utf-8")
        message = (f"Training stopped with an unexpected error ({type(err).__name__}: {str(err)[:300]}). "
                   f"Details are in {run.path / 'error.log'}; your data and earlier runs are untouched.")
        emit({"type": "failed", "message": message})
        return run.set_status("failed", message)
    emit({"type": "finished", "accuracy": report["accuracy"], "macro_f1": report["macro_f1"],
          "baseline": report.get("baseline"), "warnings": report.get("warnings", [])})
    return run.set_status("finished", finished_message(report), best_validation=report.get("best_validation_macro_f1"))


def finished_message(report: dict) -> str:
    """The final status: the test accuracy, and the warning when that number is misleading."""
    message = f"Finished: {report['accuracy']:.1%} of test examples classified correctly."
    warning = metrics.warning_text(report)
    return f"{message} {warning}" if warning else message


def _waiting_message(ahead: int) -> str:
    return (f"Waiting: {ahead} run{'s' if ahead > 1 else ''} ahead of this one on this device; "
            "it starts by itself when they end.")


class _Lane:
    """The queue and worker of one device."""

    def __init__(self) -> None:
        self.queue: deque[Run] = deque()
        self.current: Run | None = None
        self.thread: threading.Thread | None = None


class JobManager:
    """Accepts runs, trains them one at a time per device in background threads, cancels on request."""

    def __init__(self, runs_dir: str | Path) -> None:
        self.runs_dir = Path(runs_dir)
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self.interrupted = mark_interrupted(self.runs_dir)
        self._lock = threading.Condition()
        self._lanes: dict[str, _Lane] = {}
        self._stop_flags: dict[str, threading.Event] = {}

    def submit(self, config: RunConfig) -> Run:
        """Create the run folder and queue it; returns at once."""
        config.validate()
        device = training.pick_device(config.train.device).type
        run = Run.create(self.runs_dir, config)
        with self._lock:
            lane = self._lanes.setdefault(device, _Lane())
            waiting = len(lane.queue) + (lane.current is not None)
            self._stop_flags[run.id] = threading.Event()
            lane.queue.append(run)
            if waiting:
                run.set_status("queued", _waiting_message(waiting))
            run.append_event({"type": "queued", "position": waiting})
            if lane.thread is None or not lane.thread.is_alive():
                lane.thread = threading.Thread(target=self._work, args=(lane,), name=f"train-{device}", daemon=True)
                lane.thread.start()
        return run

    def cancel(self, run_id: str) -> bool:
        """Stop a run: a queued one never starts, a running one stops before its next optimizer step."""
        with self._lock:
            flag = self._stop_flags.get(run_id)
            if flag is None:
                return False
            flag.set()
            for lane in self._lanes.values():
                for run in list(lane.queue):
                    if run.id == run_id:
                        lane.queue.remove(run)
                        run.append_event({"type": "cancelled"})
                        run.set_status("cancelled", "Cancelled before it started.")
                        self._stop_flags.pop(run_id, None)
                        self._lock.notify_all()
            return True

    def active_runs(self) -> list[str]:
        """Ids of runs training or waiting in this process, running first."""
        with self._lock:
            ids = [lane.current.id for lane in self._lanes.values() if lane.current]
            return ids + [run.id for lane in self._lanes.values() for run in lane.queue]

    def is_active(self, run_id: str) -> bool:
        return run_id in self.active_runs()

    def wait(self, run_id: str, timeout: float | None = None) -> bool:
        """Block until the run is no longer queued or running here; False on timeout."""
        with self._lock:
            return self._lock.wait_for(lambda: run_id not in self._stop_flags, timeout)

    def run(self, run_id: str) -> Run:
        return get_run(self.runs_dir, run_id)

    def _work(self, lane: _Lane) -> None:
        while True:
            with self._lock:
                if not lane.queue:
                    lane.thread = None
                    return
                run = lane.queue.popleft()
                lane.current = run
                flag = self._stop_flags[run.id]
                for ahead, waiting in enumerate(lane.queue, start=1):
                    waiting.set_status("queued", _waiting_message(ahead))
            try:
                execute(run, flag.is_set)
            finally:
                with self._lock:
                    lane.current = None
                    self._stop_flags.pop(run.id, None)
                    self._lock.notify_all()
