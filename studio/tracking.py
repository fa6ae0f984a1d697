"""Experiment tracking: the run's events, as they are written, also go to TensorBoard and (if asked) MLflow.

    tracker = Tracker.for_run(run_dir, config)     # once, before training
    tracker.on_event(event)                        # for every event the run writes; closes itself on the last one
    tracker.close()                                # safe to call again

TensorBoard event files go into the run folder itself (when the `tensorboard` package is installed, with the
`tracking` extra; without it nothing is written and nothing is said), so `tensorboard --logdir runs` lists every
run by its id: training loss, learning rate and samples/s at each logged step; validation loss, accuracy and
macro-F1 at each evaluation; the test metrics at the end; the settings as hyperparameters (the HParams tab)
beside the final scores. MLflow gets the same metrics, the settings as parameters and the model folder as an
artefact, in a run named after the run's id; it is on when the run's config names a tracking URI
(`RunConfig.mlflow_uri`, set by `train --mlflow [URI]`) or STUDIO_MLFLOW_URI is set for the process (every run
the studio trains then logs).

A tracker never stops training: the first error of a backend turns that backend off and leaves one note in the
run's events saying so.
"""
from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from typing import Any, Callable

MLFLOW_ENV = "STUDIO_MLFLOW_URI"
EXPERIMENT = "text-classifier-studio"
FINAL_EVENTS = ("finished", "failed", "cancelled", "interrupted", "stopped")
WITH_MODEL = ("finished", "stopped")  # "stopped": stopped by the user, the best model so far tested and saved
STEP_SCALARS = {"loss": "train/loss", "lr": "train/learning_rate", "samples_per_s": "train/samples_per_s"}
EVAL_SCALARS = {"loss": "validation/loss", "accuracy": "validation/accuracy", "macro_f1": "validation/macro_f1"}
TEST_METRICS = ("accuracy", "macro_f1", "weighted_f1", "macro_precision", "macro_recall", "test_loss")


def default_mlflow_uri(runs_dir: str | Path) -> str:
    """A local MLflow store beside the runs: runs/mlflow.db (SQLite; MLflow's file store is retired)."""
    return f"sqlite:///{(Path(runs_dir).resolve() / 'mlflow.db').as_posix()}"


def artifact_location(uri: str) -> str | None:
    """Where a local SQLite store keeps its artefacts: mlartifacts/ beside the database (MLflow's own default is
    ./mlruns in whatever folder the process started in). None for a server, which decides for itself."""
    if not uri.startswith("sqlite:///"):
        return None
    return (Path(uri[len("sqlite:///"):]).parent / "mlartifacts").resolve().as_uri()


def flat_settings(config: Any) -> dict[str, Any]:
    """The run's settings as one flat dict of plain values: data.text_column, train.learning_rate, ..."""
    raw = config.to_dict() if hasattr(config, "to_dict") else dict(config or {})
    flat: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, (bool, int, float, str)):
            flat[prefix] = value
        else:   # None, lists: as text, which both TensorBoard and MLflow accept
            flat[prefix] = json.dumps(value, ensure_ascii=False)
    walk("", raw)
    return flat


def test_scores(run_dir: Path, event: dict) -> dict[str, float]:
    """The final test metrics: metrics.json when it is there, else what the finished event carries."""
    try:
        metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        metrics = event
    return {f"test/{k}": float(metrics[k]) for k in TEST_METRICS if isinstance(metrics.get(k), (int, float))}


class TensorBoardWriter:
    def __init__(self, run_dir: Path, settings: dict[str, Any]) -> None:
        from torch.utils.tensorboard import SummaryWriter
        self.writer = SummaryWriter(log_dir=str(run_dir), flush_secs=10)
        self.settings = settings
        self.last_step = 0

    def on_event(self, event: dict, run_dir: Path) -> None:
        kind = event.get("type")
        if kind == "step":
            self.last_step = event["step"]
            for key, tag in STEP_SCALARS.items():
                if isinstance(event.get(key), (int, float)):
                    self.writer.add_scalar(tag, event[key], event["step"], walltime=event.get("time"))
        elif kind == "eval":
            for key, tag in EVAL_SCALARS.items():
                if isinstance(event.get(key), (int, float)):
                    self.writer.add_scalar(tag, event[key], event["step"], walltime=event.get("time"))
            self.writer.flush()
        elif kind in WITH_MODEL:
            scores = test_scores(run_dir, event)
            for tag, value in scores.items():
                self.writer.add_scalar(tag, value, self.last_step, walltime=event.get("time"))
            self.hparams(scores)

    def hparams(self, scores: dict[str, float]) -> None:
        """The settings and the final scores in TensorBoard's HParams tab, in this run's own folder."""
        from torch.utils.tensorboard.summary import hparams
        for summary in hparams(self.settings, scores):
            self.writer.file_writer.add_summary(summary)
        self.writer.flush()

    def close(self, finished: bool) -> None:
        if not finished:
            self.hparams({})
        self.writer.close()


class MlflowWriter:
    def __init__(self, run_dir: Path, settings: dict[str, Any], uri: str) -> None:
        from mlflow.tracking import MlflowClient
        self.client = MlflowClient(tracking_uri=uri)
        experiment = self.client.get_experiment_by_name(EXPERIMENT)
        experiment_id = experiment.experiment_id if experiment else self.client.create_experiment(
            EXPERIMENT, artifact_location=artifact_location(uri))
        run = self.client.create_run(experiment_id, run_name=run_dir.name, tags={"studio.run_dir": str(run_dir)})
        self.run_id = run.info.run_id
        items = list(settings.items())
        from mlflow.entities import Param
        for start in range(0, len(items), 100):   # MLflow takes at most 100 parameters a call
            self.client.log_batch(self.run_id, params=[Param(k, str(v)[:6000]) for k, v in items[start:start + 100]])
        self.last_step = 0

    def _metrics(self, values: dict[str, float], step: int, timestamp: float | None) -> None:
        from mlflow.entities import Metric
        millis = int((timestamp or 0) * 1000)
        self.client.log_batch(self.run_id, metrics=[Metric(k, float(v), millis, step)
                                                    for k, v in values.items()])

    def on_event(self, event: dict, run_dir: Path) -> None:
        kind = event.get("type")
        if kind == "step":
            self.last_step = event["step"]
            self._metrics({tag: event[key] for key, tag in STEP_SCALARS.items()
                           if isinstance(event.get(key), (int, float))}, event["step"], event.get("time"))
        elif kind == "eval":
            self._metrics({tag: event[key] for key, tag in EVAL_SCALARS.items()
                           if isinstance(event.get(key), (int, float))}, event["step"], event.get("time"))
        elif kind in WITH_MODEL:
            self._metrics(test_scores(run_dir, event), self.last_step, event.get("time"))
            if (run_dir / "model").is_dir():
                self.client.log_artifacts(self.run_id, str(run_dir / "model"), "model")

    def close(self, finished: bool) -> None:
        self.client.set_terminated(self.run_id, "FINISHED" if finished else "FAILED")


class Tracker:
    """Hands each event of one run to its tracking backends; see the module's docstring."""

    def __init__(self, run_dir: Path, backends: dict[str, Any], note: Callable[[str], None]) -> None:
        self.run_dir, self.backends, self.note = run_dir, backends, note
        self.finished = False
        self.closed = False

    @classmethod
    def for_run(cls, run_dir: str | Path, config: Any = None, mlflow_uri: str | None = None,
                note: Callable[[str], None] | None = None) -> "Tracker":
        """The tracker of one run. `note(sentence)` records a tracking failure; by default a note event appended
        to the run's events.jsonl."""
        run_dir = Path(run_dir)
        note = note or (lambda sentence: _append_note(run_dir, sentence))
        tracker = cls(run_dir, {}, note)
        settings = flat_settings(config)
        uri = mlflow_uri or getattr(config, "mlflow_uri", None) or os.environ.get(MLFLOW_ENV)
        if tensorboard_installed():  # nobody asked for it: without the package, no note on every run
            tracker._add("TensorBoard", lambda: TensorBoardWriter(run_dir, settings))
        if uri:
            tracker._add("MLflow", lambda: MlflowWriter(run_dir, settings, uri))
        return tracker

    def _add(self, name: str, make: Callable[[], Any]) -> None:
        try:
            self.backends[name] = make()
        except Exception as err:  # a missing library or an unreachable store must not stop training
            self._failed(name, err)

    def _failed(self, name: str, err: Exception) -> None:
        self.backends.pop(name, None)
        hint = " (pip install 'studio[tracking]')" if isinstance(err, ImportError) else ""
        self.note(f"Logging to {name} stopped ({type(err).__name__}: {str(err)[:200]}){hint}; training goes on "
                  "and the run folder keeps everything.")

    def on_event(self, event: dict) -> None:
        if self.closed:
            return
        for name, backend in list(self.backends.items()):
            try:
                backend.on_event(event, self.run_dir)
            except Exception as err:
                self._failed(name, err)
        if event.get("type") in WITH_MODEL:
            self.finished = True
        if event.get("type") in FINAL_EVENTS:
            self.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for name, backend in list(self.backends.items()):
            try:
                backend.close(self.finished)
            except Exception as err:
                self._failed(name, err)


def tensorboard_installed() -> bool:
    return importlib.util.find_spec("tensorboard") is not None


def _append_note(run_dir: Path, sentence: str) -> None:
    from .runs import Run
    try:
        Run(run_dir).append_event({"type": "note", "message": sentence})
    except OSError:
        pass


def replay(run_dir: str | Path, mlflow_uri: str | None = None, tensorboard: bool = False) -> Tracker:
    """Send a finished run's recorded events to MLflow (and TensorBoard, if asked) after the fact: the same
    adapter over the same events, for a run trained without tracking."""
    from .runs import Run
    run = Run(Path(run_dir))
    settings = flat_settings(run.config())
    tracker = Tracker(run.path, {}, note=lambda sentence: None)
    errors: list[str] = []
    tracker.note = errors.append
    if tensorboard:
        tracker._add("TensorBoard", lambda: TensorBoardWriter(run.path, settings))
    if mlflow_uri:
        tracker._add("MLflow", lambda: MlflowWriter(run.path, settings, mlflow_uri))
    for event in run.events()[0]:
        tracker.on_event(event)
    tracker.close()
    tracker.errors = errors
    return tracker
