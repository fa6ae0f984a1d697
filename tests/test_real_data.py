"""Training on the shared real data sets with the bundled model: slow (minutes), runs in CI."""
import pytest

from conftest import shared_dataset
from studio import inference, jobs, presets
from studio.config import DataConfig, ModelConfig, RunConfig
from studio.runs import Run

pytestmark = pytest.mark.slow


def train_run(tmp_path, data: DataConfig, preset="quick", **model):
    config = RunConfig(data=data, model=ModelConfig(**model), train=presets.preset_settings(preset, 384))
    run = Run.create(tmp_path, config)
    status = jobs.execute(run)
    assert status["state"] == "finished", status["message"]
    return run


def test_sst2_sample_learns_sentiment(tmp_path):
    train = shared_dataset("sst2", "train.tsv")
    run = train_run(tmp_path, DataConfig(train_file=str(train), test_file=str(shared_dataset("sst2", "dev.tsv")),
                                         max_rows=1200), preset=presets.DEFAULT_PRESET)  # what a user gets
    metrics = run.metrics()
    assert metrics["examples"] == 872
    assert metrics["accuracy"] >= 0.75, metrics["summary"]
    classifier = inference.load_classifier(run.model_dir)
    assert classifier.predict_one("a wonderful , moving film").label == "1"
    assert classifier.predict_one("dull , lifeless and far too long").label == "0"


def test_messy_spam_export_trains_with_frozen_layers(tmp_path):
    spam = shared_dataset("spam_messy", "spam.csv")
    run = train_run(tmp_path, DataConfig(train_file=str(spam), max_rows=1500), method="freeze", freeze_layers=4)
    metrics = run.metrics()
    assert set(metrics["labels"]) == {"ham", "spam"}
    assert metrics["accuracy"] >= 0.9, metrics["summary"]
    assert any(e.get("type") == "note" and "frozen layers once" in e.get("message", "") for e in run.events()[0])
