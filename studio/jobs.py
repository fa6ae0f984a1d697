"""Training runs supervised by the studio: one training process per run, one queue (lane) per device.

Training belongs to no page and to no web server: each run trains in a process of its own (studio.worker)
that works on the run folder, and everything it produces lands there. The studio keeps a queue per device
(one per GPU index on a box with several GPUs), starts the next run when a lane is free, and turns a
training process that dies (an exception, a segfault, the out-of-memory killer) into a `failed` status with
a sentence; the web server never goes down with it. A studio that restarts re-attaches to training
processes still alive (their lock is held) and reads the others as `interrupted` (runs.derive_status).

Stop travels through the run folder (the `stop` file, "keep" or "discard"), so it reaches any training
process, whoever started it; the process checks it before every optimizer step.
"""
from __future__ import annotations

import contextlib
import inspect
import multiprocessing
import os
import signal
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from . import runs, tracking, training
from .config import ConfigError, RunConfig
from .data import DataError
from .models import ModelError
from .runs import Lease, Run, get_run, list_runs, repair_runs

EXPECTED_ERRORS = (DataError, ModelError, ConfigError, training.TrainingError)
ATTACHED_POLL_S = 1.0  # how often a re-attached run's lock is checked (it is a file lock: microseconds)


class JobError(RuntimeError):
    """A job request that cannot be done; the message says why in one sentence."""


# --- stopping: the stop file, or a signal, read before every optimizer step ------------------------
_requested: dict[Path, str] = {}  # stops asked by a signal in this process, when the stop file cannot be written


def request_stop(run_dir: str | Path, keep: bool) -> None:
    """Ask the training of this run folder to stop: "keep" the best model so far, or "discard"."""
    path = Path(run_dir)
    how = "keep" if keep else "discard"
    if _requested.get(path) != "discard":
        _requested[path] = how
    with contextlib.suppress(OSError):
        Run(path).request_stop(keep=_requested[path] == "keep")


class StopCheck:
    """should_stop() of a run: None to go on, "keep" or "discard" once someone asked (discard wins)."""

    def __init__(self, run: Run, also: Callable[[], Any] = lambda: False) -> None:
        self.run, self.also, self.path = run, also, run.path / runs.STOP_FILE

    def __call__(self) -> str | None:
        asked = _requested.get(self.run.path)
        if asked != "discard" and os.path.exists(self.path):  # one stat per step
            asked = self.run.stop_requested() or asked
        if asked is None:
            also = self.also()
            asked = (also if also in runs.STOP_CHOICES else "discard") if also else None
        return asked


@contextlib.contextmanager
def stop_on_signals(run_dir: str | Path, say: Callable[[str], None] | None = None):
    """Within the block, SIGINT or SIGTERM stops the run at its next step, keeping the best model so far;
    a second one stops it without keeping anything; a third ends the process as Python would."""
    count = 0
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def handler(signum, frame):
        nonlocal count
        count += 1
        if count >= 3:
            signal.signal(signum, previous[signum])
            raise KeyboardInterrupt
        request_stop(run_dir, keep=count == 1)
        if say:
            say("Stopping after this step and keeping the best model so far; press Ctrl-C again to stop without "
                "keeping it." if count == 1 else "Stopping without keeping a model.")

    for sig in previous:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        _requested.pop(Path(run_dir), None)


# --- one run, in the process that trains it ---------------------------------------------------------
def phase_sentence(event: dict, epochs: float | None) -> str | None:
    """status.json's sentence after this event, when it moves the run to another phase."""
    kind = event.get("type")
    if kind == "phase":  # named by the training core where it emits them
        return {"reading_data": "Reading the data.", "tokenizing": "Tokenizing the texts.",
                "loading_model": "Loading the model.", "fitting_head": "Fitting the head on the model's sentence vectors.",
                "caching": "Computing the frozen layers once.", "evaluating": "Evaluating on the validation split.",
                "testing": "Testing the model on the test split.", "saving": "Saving the model.",
                "checkpoint": "Writing a checkpoint."}.get(event.get("phase"))
    if kind == "started":
        if not event.get("total_steps"):
            return "Testing the fitted head and saving the model."
        return f"Training: epoch 1 of {_epoch_count(event.get('epochs'))}."
    if kind == "step":
        if event.get("progress", 0) >= 1:
            return "Testing the model on the test split and saving it."
        epoch = int(event.get("epoch", 0) - 1e-9) + 1
        return f"Training: epoch {max(epoch, 1)} of {_epoch_count(epochs)}."
    if kind == "note" and str(event.get("message", "")).startswith("Stopped early"):
        return "Stopped early; testing the best checkpoint and saving it."
    return None


def _epoch_count(epochs) -> str:
    if not epochs:
        return "?"
    return str(int(epochs)) if float(epochs).is_integer() else f"{float(epochs):g}"


def execute(run: Run, should_stop: Callable[[], Any] = lambda: False,
            echo: Callable[[dict], None] | None = None, resume: bool = False) -> dict:
    """Train one run in this process, holding its lock, recording everything in its folder; the final status.

    Stops when `should_stop()` or the run's stop file says so. A disk that refuses a write ends the run as
    `failed` with a sentence, its half-written files removed; nothing escapes as a traceback.
    """
    with Lease(run.path):
        return _execute(run, StopCheck(run, should_stop), echo, resume)


def _execute(run: Run, stop: StopCheck, echo, resume: bool) -> dict:
    config = run.config()
    phase = {"sentence": None, "epochs": None}
    tracker = tracking.Tracker.for_run(run.path, config)  # a tracking failure is a note, never a stop

    def emit(event: dict) -> None:
        event = run.append_event(event)
        tracker.on_event(event)
        if echo:
            echo(event)
        if event.get("type") == "started":
            phase["epochs"] = event.get("epochs")
        sentence = phase_sentence(event, phase["epochs"])
        if sentence and sentence != phase["sentence"]:
            phase["sentence"] = sentence
            run.set_status("running", sentence)

    try:
        try:
            run.set_status("running", "Reading the data, loading the model and fitting its head."
                           if not resume else "Resuming from the last checkpoint.")
            report = training.train(config, run.path, emit, stop, resume=resume)
        except training.Cancelled:
            runs.remove_temporaries(run.path)
            emit({"type": "cancelled"})
            return run.set_status("cancelled", "Stopped before the end; no model was saved. "
                                               "Start again to train a model.")
        except EXPECTED_ERRORS as err:
            return _failed(run, emit, str(err))
        except Exception as err:  # a crash must become a readable status, never a dead process or thread
            sentence = runs.write_failure(err, run.path.parent)
            if sentence:
                return _failed(run, emit, sentence)
            with contextlib.suppress(OSError):
                (run.path / "error.log").write_text(traceback.format_exc(), encoding="utf-8")
            message = (f"Training stopped with an unexpected error ({type(err).__name__}: {str(err)[:300]}). "
                       f"Details are in {run.path / 'error.log'}; your data and earlier runs are untouched.")
            return _failed(run, emit, message, crashed=True)
        stopped = bool(report.get("stopped_by_user"))
        emit({"type": "stopped" if stopped else "finished", "accuracy": report["accuracy"],
              "macro_f1": report["macro_f1"], "baseline": report.get("baseline"),
              "warnings": report.get("warnings", [])})
        return run.set_status("stopped" if stopped else "finished", runs.finished_sentence(report, stopped),
                              best_validation=report.get("best_validation_macro_f1"))
    except OSError as err:  # the disk refused the end itself (an event, the status)
        sentence = runs.write_failure(err, run.path.parent) or f"Could not write in the run folder ({err})."
        return _failed(run, None, sentence)
    finally:
        with contextlib.suppress(OSError):
            (run.path / runs.STOP_FILE).unlink(missing_ok=True)
        tracker.close()


def _failed(run: Run, emit, message: str, crashed: bool = False) -> dict:
    """The `failed` status with its sentence, written even on a full disk once the leftovers are gone."""
    runs.remove_temporaries(run.path)
    if emit:
        with contextlib.suppress(OSError):
            emit({"type": "failed", "message": message})
    extra = {"crashed": True} if crashed else {}
    try:
        return run.set_status("failed", message, **extra)
    except OSError:
        return {**run.recorded_status(), "state": "failed", "message": message, **extra}


def _waiting_message(ahead: int) -> str:
    return (f"Waiting: {ahead} run{'s' if ahead > 1 else ''} ahead of this one on this device; "
            "it starts by itself when they end.")


# --- the training process and how it ended ---------------------------------------------------------
def process_context():
    """Training processes come from a fork server that has imported torch and the training code once."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["studio.worker"])
        return ctx
    return multiprocessing.get_context("spawn")


def warm_up() -> None:
    """Start the fork server now (it imports torch once), so the first Start does not wait for it."""
    ctx = process_context()
    if ctx.get_start_method() == "forkserver":
        from multiprocessing import forkserver
        forkserver.ensure_running()


def warm_up_in_background() -> None:
    threading.Thread(target=warm_up, name="training-warm-up", daemon=True).start()


def _process_main(target: Callable | None, run_dir: str, env: dict[str, str], resume: bool) -> None:
    """The first thing a training process does: a session of its own (Ctrl-C in the studio's terminal is for the
    studio to handle), the GPU of its lane (before anything touches CUDA), then the training."""
    os.setsid()
    os.environ.update(env)
    if target is None:
        from .worker import fresh_if_cuda_was_forked, train_run as target
        fresh_if_cuda_was_forked(run_dir, resume)
    target(run_dir, resume)


def crash_sentence(exitcode: int | None, run: Run) -> str:
    """What a training process that ended without writing its own status died of, in one sentence."""
    log = run.path / runs.OUTPUT_LOG
    if exitcode is not None and exitcode < 0:
        sig = -exitcode
        if sig == signal.SIGKILL:
            why = ("The training process was killed (SIGKILL), most often by the system when memory ran out; "
                   "try a smaller batch size or max length, or close other programs.")
        elif sig == signal.SIGSEGV:
            why = f"The training process crashed in native code (segmentation fault); details are in {log}."
        elif sig == signal.SIGABRT:
            why = f"The training process aborted (SIGABRT); details are in {log}."
        else:
            name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
            why = f"The training process was ended by signal {name}."
    else:
        why = f"The training process ended unexpectedly (exit code {exitcode}); details are in {log}."
    return why + " Your data and earlier runs are untouched."


def visible_devices(gpu: int | None) -> dict[str, str]:
    """The environment that gives a training process the one GPU of its lane (or none to choose from)."""
    if gpu is None:
        return {}
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    ids = [d.strip() for d in listed.split(",") if d.strip()] if listed else None
    return {"CUDA_VISIBLE_DEVICES": ids[gpu] if ids and gpu < len(ids) else str(gpu)}


def gpu_count() -> int:
    import torch
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def lane_for(device: str, gpus: int, load: dict[str, int]) -> tuple[str, int | None]:
    """(lane key, GPU index) for a run asking for `device`: a GPU it names, else the least busy GPU (lowest
    index first); CPU and MPS have one lane each."""
    wanted = training.pick_device(device)
    if wanted.type != "cuda" or gpus <= 0:
        return wanted.type, None
    if wanted.index is not None:
        return f"cuda:{wanted.index}", wanted.index
    index = min(range(gpus), key=lambda i: (load.get(f"cuda:{i}", 0), i))
    return f"cuda:{index}", index


@dataclass
class _Job:
    run: Run
    lane: str
    gpu: int | None = None
    lease: Lease | None = None           # held by the studio while the run is its own (queued or training)
    resume: bool = False
    process: Any = None                  # the training process, once started; None for a re-attached run
    attached: bool = False               # a training process of an earlier studio, followed through its lock
    env: dict[str, str] = field(default_factory=dict)


class _Lane:
    """The queue and the supervising thread of one device."""

    def __init__(self) -> None:
        self.queue: deque[_Job] = deque()
        self.current: _Job | None = None
        self.thread: threading.Thread | None = None

    def load(self) -> int:
        return len(self.queue) + (self.current is not None)


class JobManager:
    """Accepts runs, trains them one at a time per device in training processes of their own, stops them on
    request, and follows training processes a previous studio started."""

    def __init__(self, runs_dir: str | Path, gpus: int | None = None, target: Callable | None = None,
                 warm: bool = False) -> None:
        self.runs_dir = Path(runs_dir)
        with contextlib.suppress(OSError):  # a read-only runs folder still lists its runs
            self.runs_dir.mkdir(parents=True, exist_ok=True)
        self.gpus = gpu_count() if gpus is None else gpus
        self._target = target  # the training process's function (studio.worker.train_run unless a test says)
        self._lock = threading.Condition()
        self._lanes: dict[str, _Lane] = {}
        self._jobs: dict[str, _Job] = {}
        self._closing = False
        self.interrupted = repair_runs(self.runs_dir)
        self.attached = self._reattach()
        if warm:
            warm_up_in_background()

    # --- requests ------------------------------------------------------------------------------
    def submit(self, config: RunConfig) -> Run:
        """Create the run folder and queue it; returns at once. A runs folder that refuses the new run's files
        (full, read-only) raises JobError with the sentence."""
        config.validate()
        try:
            run, lease = Run.create_leased(self.runs_dir, config)
        except OSError as err:
            sentence = runs.write_failure(err, self.runs_dir)
            if sentence is None:
                raise
            raise JobError(sentence) from None
        return self._enqueue(_Job(run, "", lease=lease), config)

    def restart(self, run_id: str) -> Run:
        """A new run with the same settings as this one."""
        return self.submit(self.run(run_id).config())

    def resume(self, run_id: str) -> Run:
        """Continue an interrupted (or crashed) run in its own folder, from its last checkpoint."""
        run = self.run(run_id)
        if self.is_active(run_id) or runs.lock_held(run.path):
            raise JobError("This run is still in progress; there is nothing to resume.")
        if "resume" not in inspect.signature(training.train).parameters:
            raise JobError("This version of the studio cannot resume a run; start it again with the same settings.")
        if not runs.can_resume(run):
            raise JobError("This run has no checkpoint to continue from; start it again with the same settings.")
        lease = Lease(run.path)
        with contextlib.suppress(OSError):
            (run.path / runs.STOP_FILE).unlink(missing_ok=True)
        run.set_status("queued", "Waiting to resume.", crashed=False)
        return self._enqueue(_Job(run, "", lease=lease, resume=True), run.config())

    def cancel(self, run_id: str, keep: bool = False) -> bool:
        """Stop a run: a queued one never starts; a training one stops before its next optimizer step, keeping
        the best model so far when `keep` (the run ends `stopped`), else keeping nothing (`cancelled`).
        Works for any run in progress in this runs folder, whoever started it. False when none is."""
        with self._lock:
            job = self._jobs.get(run_id)
            lane = self._lanes.get(job.lane) if job else None
            if job and lane and job in lane.queue:
                lane.queue.remove(job)
                with contextlib.suppress(OSError):
                    job.run.append_event({"type": "cancelled"})
                    job.run.set_status("cancelled", "Cancelled before it started.")
                self._finish(job)
                self._requeue_messages(lane)
                return True
        try:
            run = self.run(run_id)
        except KeyError:
            return False
        if not (job or runs.lock_held(run.path)):
            return False
        try:
            run.request_stop(keep=keep)
        except OSError:  # a disk that takes no file: a signal, which the training process reads as keep
            process = job.process if job else None
            if process is None or process.pid is None:
                return False
            for _ in range(1 if keep else 2):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGTERM)
        return True

    def active_runs(self) -> list[str]:
        """Ids of runs training or waiting here (re-attached ones included), training ones first."""
        with self._lock:
            ids = [lane.current.run.id for lane in self._lanes.values() if lane.current]
            return ids + [job.run.id for lane in self._lanes.values() for job in lane.queue]

    def is_active(self, run_id: str) -> bool:
        return run_id in self.active_runs()

    def wait(self, run_id: str, timeout: float | None = None) -> bool:
        """Block until the run is no longer queued or training here; False on timeout."""
        with self._lock:
            return self._lock.wait_for(lambda: run_id not in self._jobs, timeout)

    def run(self, run_id: str) -> Run:
        return get_run(self.runs_dir, run_id)

    def shutdown(self, keep: bool = True, wait: bool = True, timeout: float | None = None) -> list[str]:
        """Stop everything this studio runs: queued runs are cancelled, training ones stop at their next step
        (keeping the best model so far when `keep`); with `wait`, return once they have ended. The ids stopped."""
        with self._lock:
            self._closing = True
            queued = [job for lane in self._lanes.values() for job in lane.queue]
            training_now = [lane.current for lane in self._lanes.values() if lane.current]
            for lane in self._lanes.values():
                lane.queue.clear()
        for job in queued:
            with contextlib.suppress(OSError):
                job.run.append_event({"type": "cancelled"})
                job.run.set_status("cancelled", "The studio shut down before this run started; start it again.")
            with self._lock:
                self._finish(job)
        for job in training_now:
            if not job.attached:  # a run an earlier studio started goes on; this studio only watched it
                self.cancel(job.run.id, keep=keep)
        if wait:
            deadline = None if timeout is None else time.monotonic() + timeout
            for job in training_now:
                if not job.attached:
                    left = None if deadline is None else max(0.0, deadline - time.monotonic())
                    self.wait(job.run.id, left)
        return [job.run.id for job in queued + training_now if not job.attached]

    # --- lanes ----------------------------------------------------------------------------------
    def _enqueue(self, job: _Job, config: RunConfig) -> Run:
        run = job.run
        with self._lock:
            if self._closing:
                job.lease.release()
                raise JobError("The studio is shutting down; start the run again once it is back.")
            load = {key: lane.load() for key, lane in self._lanes.items()}
            job.lane, job.gpu = lane_for(config.train.device or "auto", self.gpus, load)
            job.env = visible_devices(job.gpu)
            lane = self._lanes.setdefault(job.lane, _Lane())
            waiting = lane.load()
            self._jobs[run.id] = job
            lane.queue.append(job)
            with contextlib.suppress(OSError):  # a disk that fills now: the run still trains, or fails saying so
                run.set_status("queued", _waiting_message(waiting) if waiting else run.recorded_status().get(
                    "message", "Waiting to start."), lane=job.lane, gpu=job.gpu)
                run.append_event({"type": "queued", "position": waiting, "lane": job.lane, "gpu": job.gpu})
            self._start_lane(job.lane, lane)
        return run

    def _start_lane(self, key: str, lane: _Lane) -> None:
        if lane.thread is None or not lane.thread.is_alive():
            lane.thread = threading.Thread(target=self._work, args=(lane,), name=f"lane-{key}", daemon=True)
            lane.thread.start()

    def _requeue_messages(self, lane: _Lane) -> None:
        ahead = lane.current is not None
        for position, job in enumerate(lane.queue, start=ahead):
            if position:
                with contextlib.suppress(OSError):
                    job.run.set_status("queued", _waiting_message(position))

    def _finish(self, job: _Job) -> None:
        """(Under the lock.) The job leaves the studio: its lease is let go, waiters wake."""
        if job.lease:
            job.lease.release()
        self._jobs.pop(job.run.id, None)
        self._lock.notify_all()

    def _work(self, lane: _Lane) -> None:
        job = lane.current  # a re-attached run: followed first
        while True:
            if job is None:
                with self._lock:
                    if not lane.queue:
                        lane.thread = None
                        return
                    job = lane.queue.popleft()
                    lane.current = job
                    self._requeue_messages(lane)
            try:
                self._follow(job) if job.attached else self._train(job)
            except Exception:  # the supervisor must outlive anything; the run still gets an honest state
                traceback.print_exc()
                with contextlib.suppress(OSError):
                    _failed(job.run, None, "The studio lost track of this run's training process; "
                                           "start it again.", crashed=True)
            finally:
                with self._lock:
                    lane.current = None
                    self._finish(job)
            job = None

    def _train(self, job: _Job) -> None:
        """Start the run's training process, wait for it, and record how it ended if it could not."""
        process = process_context().Process(target=_process_main,
                                            args=(self._target, str(job.run.path), job.env, job.resume),
                                            name=f"train-{job.run.id}")
        process.start()
        job.process = process
        process.join()
        if job.run.recorded_status().get("state") in runs.ACTIVE_STATES:  # it died before writing its end
            _failed(job.run, job.run.append_event, crash_sentence(process.exitcode, job.run), crashed=True)

    def _follow(self, job: _Job) -> None:
        """A run trained by a process this studio did not start: wait for its lock to be let go."""
        while runs.lock_held(job.run.path):
            time.sleep(ATTACHED_POLL_S)
        job.run.status()  # repaired now if it died without writing its end

    def _reattach(self) -> list[str]:
        """Runs that training processes of an earlier studio (or the command line) are still training."""
        found = []
        for run in list_runs(self.runs_dir):
            status = run.recorded_status()
            if status.get("state") == "running" and runs.lock_held(run.path):
                job = _Job(run, status.get("lane") or "cpu", gpu=status.get("gpu"), attached=True)
                with self._lock:
                    lane = self._lanes.setdefault(job.lane, _Lane())
                    if lane.current is not None:  # two on one device (the command line's, say): follow both
                        lane = self._lanes.setdefault(f"{job.lane}+{run.id}", _Lane())
                    self._jobs[run.id] = job
                    lane.current = job
                    self._start_lane(job.lane, lane)
                found.append(run.id)
        return found
