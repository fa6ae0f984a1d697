"""The Runs tab's compare panel and export controls, through their handlers, and mounted in the studio."""
import json
import shutil

import pytest

from studio import tracking
from studio.config import DataConfig, RunConfig, TrainConfig
from studio.metrics import full_report
from studio.runs import Run
from studio.ui import compare, export_controls
from studio.ui.context import Studio

LABELS = ["neg", "pos"]


def _run(runs_dir, lr, truth, predicted):
    run = Run.create(runs_dir, RunConfig(data=DataConfig(train_file="r.csv"), train=TrainConfig(learning_rate=lr)))
    with open(run.path / "predictions.jsonl", "w", encoding="utf-8") as f:
        for i, (true, pred) in enumerate(zip(truth, predicted)):
            f.write(json.dumps({"text": f"text {i}", "label": LABELS[true], "predicted": LABELS[pred]}) + "\n")
    run.write_json("metrics.json", full_report(truth, predicted, LABELS))
    run.append_event({"type": "step", "step": 1, "loss": 0.7})
    run.append_event({"type": "eval", "step": 1, "loss": 0.6, "accuracy": 0.7, "macro_f1": 0.68})
    run.set_status("finished", "Finished.")
    return run


@pytest.fixture
def studio(tmp_path):
    return Studio.create(tmp_path / "runs", device_type="cpu")


def test_compare_panel_shows_verdict_settings_scores_curves_and_texts(studio):
    truth = [i % 2 for i in range(40)]
    a = _run(studio.runs_dir, 1e-4, truth, [1 - t if i < 12 else t for i, t in enumerate(truth)])
    b = _run(studio.runs_dir, 2e-4, truth, [1 - t if 30 <= i < 32 else t for i, t in enumerate(truth)])
    verdict, settings, scores, figure, heading, examples = compare.run_compare(studio, [a.id, b.id], "en")
    assert f"is better than" in verdict and "most likely real" in verdict
    assert "fixed these 12 texts" in heading and "broke these 2 texts" in heading and len(examples) == 14
    styled = settings.to_html()
    assert settings.data.iloc[0, 0] == "train.learning_rate" and compare.DIFFERS in styled
    assert list(scores.columns) == ["Score", a.id, b.id, f"Δ {b.id}"]
    assert scores.iloc[0].tolist() == ["Accuracy", "0.700", "0.950", "+0.250"]
    assert {trace.name for trace in figure.data} >= {f"{a.id} · training loss", f"{b.id} · validation loss"}
    chinese = compare.run_compare(studio, [a.id, b.id], "zh-CN")
    assert "更好" in chinese[0] and "改对了这 12 条文本" in chinese[4]
    assert compare.run_compare(studio, [a.id], "en")[0] == "Pick two or more finished runs to compare."


def test_export_controls_refuse_with_a_sentence(studio, monkeypatch, tmp_path):
    from studio.ui.i18n import t
    assert export_controls.export_onnx(studio, None, False) == t("runs_pick", "en")
    assert export_controls.push(studio, "no-such-run", "me/model", "", False) == t("runs_pick", "en")
    run = Run.create(studio.runs_dir, RunConfig(data=DataConfig(train_file="r.csv")))
    assert run.id in export_controls.export_onnx(studio, run.id, True)   # no model yet: says which run
    assert export_controls.push(studio, run.id, "", "", False).startswith("⛔ Name the repository")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert "has no trained model" in export_controls.push(studio, run.id, "me/model", "", False)


def test_a_finished_run_goes_to_mlflow_from_the_runs_tab(studio, tiny_run_dir):
    from mlflow.tracking import MlflowClient
    run_dir = studio.runs_dir / tiny_run_dir.name
    shutil.copytree(tiny_run_dir, run_dir)
    message = export_controls.to_mlflow(studio, run_dir.name)
    assert message.startswith("✅") and "mlflow ui --backend-store-uri sqlite:///" in message
    client = MlflowClient(tracking.default_mlflow_uri(studio.runs_dir))
    experiment = client.get_experiment_by_name(tracking.EXPERIMENT)
    [found] = client.search_runs([experiment.experiment_id])
    assert found.data.tags["mlflow.runName"] == run_dir.name and found.info.status == "FINISHED"
    assert found.data.metrics["test/accuracy"] == pytest.approx(Run(run_dir).metrics()["accuracy"])
    assert "model/config.json" in {a.path for a in client.list_artifacts(found.info.run_id, "model")}


def test_the_runs_tab_mounts_the_panel_and_the_controls(tmp_path):
    from studio.ui.app import build_app
    app = build_app(str(tmp_path / "runs"), device_type="cpu")
    names = {fn.api_name for fn in app.fns.values()}
    assert {"compare_runs", "export_onnx", "push_hub", "send_mlflow"} <= names
