"""Tracking: the run's events read back from TensorBoard's event files and from the MLflow store, with the
libraries' own readers; a tracking failure leaves one note and the run finishes."""
import csv

import pytest

from studio import tracking
from studio.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from studio.jobs import execute
from studio.runs import Run

from conftest import SENTIMENT


def _run(tmp_path, tiny_model_dir, **config) -> Run:
    data_path = tmp_path / "reviews.csv"
    with open(data_path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["review", "sentiment"])
        w.writerows((f"{text} ({i})" if i else text, label) for i in range(4) for text, label in SENTIMENT)
    run_config = RunConfig(data=DataConfig(train_file=str(data_path)),
                           model=ModelConfig(name=str(tiny_model_dir), method="full"),
                           train=TrainConfig(epochs=2, batch_size=8, learning_rate=1e-3, patience=0, max_length=32,
                                             evals_per_epoch=2),
                           name="tracked", **config)
    return Run.create(tmp_path / "runs", run_config)


@pytest.fixture(scope="module")
def tracked(tmp_path_factory, tiny_model_dir):
    tmp_path = tmp_path_factory.mktemp("tracked")
    uri = tracking.default_mlflow_uri(tmp_path / "runs")
    run = _run(tmp_path, tiny_model_dir, mlflow_uri=uri)
    assert execute(run)["state"] == "finished"
    return run, uri


def test_tensorboard_reads_back_the_curves_scores_and_settings(tracked):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    run, _ = tracked
    events, _ = run.events()
    steps = [e for e in events if e["type"] == "step"]
    evals = [e for e in events if e["type"] == "eval"]
    board = EventAccumulator(str(run.path))   # the run folder itself: `tensorboard --logdir runs` names it by its id
    board.Reload()
    tags = set(board.Tags()["scalars"])
    assert {"train/loss", "train/learning_rate", "train/samples_per_s", "validation/loss", "validation/accuracy",
            "validation/macro_f1", "test/accuracy", "test/macro_f1"} <= tags
    assert [(s.step, round(s.value, 5)) for s in board.Scalars("train/loss")] == [(e["step"], e["loss"]) for e in steps]
    assert [s.value for s in board.Scalars("train/learning_rate")] == pytest.approx([e["lr"] for e in steps])
    assert [(s.step, round(s.value, 5)) for s in board.Scalars("validation/macro_f1")] == \
        [(e["step"], e["macro_f1"]) for e in evals]
    assert board.Scalars("test/accuracy")[-1].value == pytest.approx(run.metrics()["accuracy"])
    from tensorboard.plugins.hparams import plugin_data_pb2
    plugin = board.PluginTagToContent("hparams")
    start = plugin_data_pb2.HParamsPluginData.FromString(plugin["_hparams_/session_start_info"]).session_start_info
    assert start.hparams["train.learning_rate"].number_value == pytest.approx(1e-3)
    assert start.hparams["model.method"].string_value == "full"


def test_mlflow_store_holds_the_run_metrics_settings_and_model(tracked):
    from mlflow.tracking import MlflowClient
    run, uri = tracked
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name(tracking.EXPERIMENT)
    assert experiment, [e for e in run.events()[0] if e["type"] == "note"]
    [found] = client.search_runs([experiment.experiment_id], f"tags.mlflow.runName = '{run.id}'")
    assert found.info.status == "FINISHED"
    assert found.data.params["train.batch_size"] == "8" and found.data.params["name"] == "tracked"
    steps = [e for e in run.events()[0] if e["type"] == "step"]
    history = client.get_metric_history(found.info.run_id, "train/loss")
    assert [(m.step, round(m.value, 5)) for m in history] == [(e["step"], e["loss"]) for e in steps]
    assert found.data.metrics["test/macro_f1"] == pytest.approx(run.metrics()["macro_f1"])
    assert found.info.artifact_uri.startswith((run.path.parent / "mlartifacts").as_uri())   # beside the store
    artefacts = {a.path for a in client.list_artifacts(found.info.run_id, "model")}
    assert {"model/config.json", "model/model.safetensors"} <= artefacts


def test_a_tracking_failure_leaves_one_note_and_training_finishes(tmp_path, tiny_model_dir):
    run = _run(tmp_path, tiny_model_dir, mlflow_uri="nosuchscheme://nowhere")
    assert execute(run)["state"] == "finished" and run.has_model()
    notes = [e["message"] for e in run.events()[0] if e["type"] == "note" and "MLflow" in e["message"]]
    assert len(notes) == 1 and "training goes on" in notes[0]


def test_a_backend_that_breaks_midway_is_turned_off_with_one_note(tmp_path):
    class Broken:
        def on_event(self, event, run_dir):
            raise OSError("disk full")

        def close(self, finished):
            raise AssertionError("a failed backend is not closed again")
    said = []
    tracker = tracking.Tracker(tmp_path, {"MLflow": Broken()}, said.append)
    for step in range(3):
        tracker.on_event({"type": "step", "step": step, "loss": 1.0})
    tracker.on_event({"type": "finished"})
    assert len(said) == 1 and "disk full" in said[0] and tracker.closed


@pytest.mark.parametrize("final, finished", [("finished", True), ("stopped", True), ("cancelled", False)])
def test_a_run_stopped_keeping_its_best_model_is_closed_as_finished(tmp_path, final, finished):
    class Recorder:
        def __init__(self):
            self.seen, self.closed_as = [], None

        def on_event(self, event, run_dir):
            self.seen.append(event["type"])

        def close(self, finished):
            self.closed_as = finished
    backend = Recorder()
    tracker = tracking.Tracker(tmp_path, {"TensorBoard": backend}, lambda sentence: None)
    tracker.on_event({"type": final})
    assert backend.seen == [final] and backend.closed_as is finished and tracker.closed


def test_settings_are_flattened_to_plain_values():
    flat = tracking.flat_settings(RunConfig(data=DataConfig(train_file="a.csv")))
    assert flat["data.train_file"] == "a.csv" and flat["train.epochs"] == 5 and flat["data.test_file"] == "null"
    assert all(isinstance(v, (bool, int, float, str)) for v in flat.values())


def test_cli_train_with_mlflow_logs_to_the_store_beside_the_runs(tmp_path, tiny_model_dir, sentiment_csv, capsys):
    from mlflow.tracking import MlflowClient
    from studio.__main__ import main
    runs_dir = tmp_path / "runs"
    assert main(["train", str(sentiment_csv), "--model", str(tiny_model_dir), "--method", "full", "--epochs", "1",
                 "--max-length", "32", "--runs-dir", str(runs_dir), "--mlflow"]) == 0
    [run_dir] = [p for p in runs_dir.iterdir() if (p / "config.json").exists()]
    assert Run(run_dir).config().mlflow_uri == tracking.default_mlflow_uri(runs_dir)
    client = MlflowClient(tracking.default_mlflow_uri(runs_dir))
    [found] = client.search_runs([client.get_experiment_by_name(tracking.EXPERIMENT).experiment_id])
    assert found.data.tags["mlflow.runName"] == run_dir.name and found.info.status == "FINISHED"
    assert list(run_dir.glob("events.out.tfevents.*"))


def test_without_the_tracking_extra_a_run_gets_no_note_unless_mlflow_was_asked_for(tmp_path, monkeypatch):
    import sys
    for name in ("tensorboard", "mlflow", "mlflow.tracking"):
        monkeypatch.setitem(sys.modules, name, None)  # as if not installed: importing it raises ImportError
    monkeypatch.setattr(tracking, "tensorboard_installed", lambda: False)
    notes = []
    config = RunConfig(data=DataConfig(train_file="a.csv"))
    quiet = tracking.Tracker.for_run(tmp_path, config, note=notes.append)
    assert quiet.backends == {} and notes == []
    asked = tracking.Tracker.for_run(tmp_path, config, mlflow_uri=tracking.default_mlflow_uri(tmp_path),
                                     note=notes.append)
    assert asked.backends == {} and len(notes) == 1 and "MLflow" in notes[0] and "studio[tracking]" in notes[0]
