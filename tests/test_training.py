import json
import math

import pytest
import torch

from studio import training
from studio.config import DataConfig, ModelConfig, RunConfig, TrainConfig


def tiny_config(csv, model_dir, **train):
    settings = dict(epochs=2, batch_size=8, learning_rate=1e-3, patience=0, max_length=32)
    settings.update(train)
    return RunConfig(data=DataConfig(train_file=str(csv)), model=ModelConfig(name=str(model_dir), method="full"),
                     train=TrainConfig(**settings))


def collect(config, out_dir, should_stop=lambda: False):
    events = []
    report = training.train(config, out_dir, events.append, should_stop)
    return report, events


def test_train_writes_an_evaluated_model(sentiment_csv, tiny_model_dir, tmp_path):
    report, events = collect(tiny_config(sentiment_csv, tiny_model_dir), tmp_path)
    kinds = [e["type"] for e in events]
    assert kinds[0] == "started" and "step" in kinds and "eval" in kinds
    steps = [e["step"] for e in events if e["type"] == "step"]
    assert steps == sorted(steps) and steps[-1] == events[0]["total_steps"]
    assert all(0 < e["progress"] <= 1 and e["eta_s"] >= 0 and e["loss"] > 0 for e in events if e["type"] == "step")
    assert set(events[0]["labels"]) == {"negative", "positive"}
    assert {"accuracy", "macro_f1", "weighted_f1", "macro_precision", "macro_recall", "confusion_matrix",
            "per_class", "summary"} <= report.keys()
    assert report["examples"] == events[0]["test_rows"]
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["accuracy"] == report["accuracy"]
    config = json.loads((tmp_path / "model" / "config.json").read_text())
    assert set(config["id2label"].values()) == {"negative", "positive"}
    assert (tmp_path / "model" / "model.safetensors").exists()
    predictions = (tmp_path / "predictions.jsonl").read_text().splitlines()
    assert len(predictions) == report["examples"]


def test_training_reduces_loss_and_learns(sentiment_csv, tiny_model_dir, tmp_path):
    config = tiny_config(sentiment_csv, tiny_model_dir, epochs=16, learning_rate=5e-3)
    config.data.val_fraction = config.data.test_fraction = 0.25
    report, events = collect(config, tmp_path)
    losses = [e["loss"] for e in events if e["type"] == "step"]
    assert sum(losses[-3:]) / 3 < sum(losses[:3]) / 3
    assert report["best_validation_macro_f1"] >= 0.5


def test_cancel_stops_within_one_step(sentiment_csv, tiny_model_dir, tmp_path):
    events = []
    def stop_after_three():
        return sum(e["type"] == "step" for e in events) >= 3
    config = tiny_config(sentiment_csv, tiny_model_dir, epochs=50)
    with pytest.raises(training.Cancelled):
        training.train(config, tmp_path, events.append, stop_after_three)
    steps = [e["step"] for e in events if e["type"] == "step"]
    assert steps[-1] == 3
    assert not (tmp_path / "model").exists()


def test_early_stopping_ends_before_the_last_epoch(sentiment_csv, tiny_model_dir, tmp_path):
    # A learning rate of ~0 never improves on the fitted head (the evaluation at step 0).
    config = tiny_config(sentiment_csv, tiny_model_dir, epochs=40, learning_rate=1e-12, patience=2)
    report, events = collect(config, tmp_path)
    evals = [e for e in events if e["type"] == "eval"]
    per_epoch = events[0]["steps_per_epoch"]
    patience = max(2, math.ceil(training.MIN_PATIENCE_STEPS / per_epoch))  # patience lasts 40 steps at least
    assert evals[0]["step"] == 0 and evals[0]["probe"]
    assert len(evals) == 1 + patience
    assert any(e["type"] == "note" and "early" in e["message"] for e in events)
    assert report["steps"] < events[0]["total_steps"]


def test_frozen_cache_matches_recomputing(sentiment_csv, tiny_model_dir, tmp_path):
    base = dict(epochs=2, learning_rate=1e-3)
    results = {}
    for cache in (True, False):
        config = tiny_config(sentiment_csv, tiny_model_dir, cache_frozen=cache, **base)
        config.model = ModelConfig(name=str(tiny_model_dir), method="freeze", freeze_layers=1)
        report, events = collect(config, tmp_path / str(cache))
        results[cache] = ([e["loss"] for e in events if e["type"] == "step"], events[0]["frozen_cached"])
    assert results[True][1] is True and results[False][1] is False
    assert results[True][0] == pytest.approx(results[False][0], rel=1e-3)


def test_frozen_layers_do_not_change(sentiment_csv, tiny_model_dir, tmp_path):
    from safetensors.torch import load_file
    # Without the fitted head every checkpoint kept is a trained one, so the top layer must have moved.
    config = tiny_config(sentiment_csv, tiny_model_dir, warm_start=False)
    config.model = ModelConfig(name=str(tiny_model_dir), method="freeze", freeze_layers=1)
    collect(config, tmp_path)
    before = load_file(tiny_model_dir / "model.safetensors")
    after = load_file(tmp_path / "model" / "model.safetensors")
    key = "encoder.layer.0.attention.self.query.weight"
    assert torch.equal(before[key], after["bert." + key])
    top = "encoder.layer.1.attention.self.query.weight"
    assert not torch.equal(before[top], after["bert." + top])


def test_lora_run_saves_a_plain_model(sentiment_csv, tiny_model_dir, tmp_path):
    config = tiny_config(sentiment_csv, tiny_model_dir)
    config.model = ModelConfig(name=str(tiny_model_dir), method="lora", lora_r=4, lora_alpha=8)
    collect(config, tmp_path)
    from transformers import pipeline
    classify = pipeline("text-classification", model=str(tmp_path / "model"), truncation=True)
    assert classify("great service")[0]["label"] in {"negative", "positive"}


def test_class_weights_favour_the_rare_class():
    weights = training.class_weight_tensor([0, 0, 0, 1], 2)
    assert weights[1] == pytest.approx(3 * weights[0])


def test_bad_file_raises_a_data_error(tmp_path, tiny_model_dir):
    from studio.data import DataError
    bad = tmp_path / "one_class.csv"
    bad.write_text("text,label\n" + "".join(f"sentence number {i},same\n" for i in range(30)))
    with pytest.raises(DataError):
        training.train(tiny_config(bad, tiny_model_dir), tmp_path, lambda e: None)


@pytest.mark.parametrize("names", [("train", "validation", "test"), ("train", "eval", "test")])
def test_split_column_is_respected(tmp_path, tiny_model_dir, names):
    # "eval" and "dev" are among the data layer's split names; training reads the column through it.
    from conftest import SENTIMENT
    rows = ["text,label,split"] + [f"\"{text} {i}\",{label},{names[i]}" for i in range(3) for text, label in SENTIMENT]
    path = tmp_path / "split.csv"
    path.write_text("\n".join(rows) + "\n")
    config = tiny_config(path, tiny_model_dir, epochs=1)
    config.data.split_column = "split"
    _, events = collect(config, tmp_path / "out")
    assert (events[0]["train_rows"], events[0]["validation_rows"], events[0]["test_rows"]) == (16, 16, 16)


def test_a_split_column_that_is_not_there_says_so(sentiment_csv, tmp_path, tiny_model_dir):
    from studio.data import DataError
    config = tiny_config(sentiment_csv, tiny_model_dir, epochs=1)
    config.data.split_column = "nope"
    with pytest.raises(DataError, match="no column called 'nope'"):
        collect(config, tmp_path / "out2")


def test_too_few_rows_to_hold_out_says_so(tmp_path, tiny_model_dir):
    from studio.data import DataError
    path = tmp_path / "five.csv"
    path.write_text("text,label\nthe first,x\nthe second,x\nthe third,y\nthe fourth,y\nthe fifth,y\n")
    with pytest.raises(DataError, match="nothing is left over"):
        training.train(tiny_config(path, tiny_model_dir), tmp_path / "out", lambda e: None)
