"""Checkpoints: written whole or ignored, and a resumed run ends exactly where an uninterrupted one does."""
import json

import pytest
import torch
from safetensors.torch import load_file

from studio import checkpoints, training
from studio.config import DataConfig, ModelConfig, RunConfig, TrainConfig


class Crash(Exception):
    """Stands for the process dying mid-run (a kill, a power cut): nothing after it runs."""


def tiny_config(csv, model_dir, method="full", **train):
    # Two evaluations an epoch, so a checkpoint falls in the middle of an epoch; dropout is on (the tiny BERT's
    # 0.1), so the random-number generators must come back too.
    settings = dict(epochs=3, batch_size=8, learning_rate=3e-3, patience=0, max_length=32, evals_per_epoch=2)
    settings.update(train)
    return RunConfig(data=DataConfig(train_file=str(csv)),
                     model=ModelConfig(name=str(model_dir), method=method, freeze_layers=1 if method == "freeze" else 0),
                     train=TrainConfig(**settings))


def crash_after(events, steps_past_first_eval, first_eval_step=None):
    """should_stop that dies a few steps after the first evaluation inside the loop (or after step 0's,
    the fitted head's, with first_eval_step=0)."""
    def should_stop():
        evals = [e["step"] for e in events if e["type"] == "eval" and e["step"] > 0]
        if first_eval_step is not None:
            evals = [first_eval_step]
        steps = [e["step"] for e in events if e["type"] == "step"]
        if evals and steps and steps[-1] >= evals[0] + steps_past_first_eval:
            raise Crash()
        return False
    return should_stop


def outcome(run_dir):
    metrics = json.loads((run_dir / "metrics.json").read_text())
    timing = {"train_seconds", "train_samples_per_s", "summary"}
    return ((run_dir / "predictions.jsonl").read_text(), {k: v for k, v in metrics.items() if k not in timing},
            load_file(run_dir / "model" / "model.safetensors"))


@pytest.mark.parametrize("method, crash", [("full", "mid-epoch"), ("full", "before the first evaluation"),
                                           pytest.param("freeze", "mid-epoch", marks=pytest.mark.slow)])
def test_a_resumed_run_ends_exactly_like_an_uninterrupted_one(sentiment_csv, tiny_model_dir, tmp_path, method, crash):
    config = tiny_config(sentiment_csv, tiny_model_dir, method)
    straight = []
    training.train(config, tmp_path / "straight", straight.append)

    events = []
    dies = crash_after(events, 1) if crash == "mid-epoch" else crash_after(events, 1, first_eval_step=0)
    with pytest.raises(Crash):
        training.train(config, tmp_path / "resumed", events.append, dies)
    assert checkpoints.can_resume(tmp_path / "resumed")
    assert not (tmp_path / "resumed" / "model").exists()
    crashed_at = [e["step"] for e in events if e["type"] == "step"][-1]
    later = []
    training.train(config, tmp_path / "resumed", later.append, resume=True)

    resumed_from = later[0]["resumed_from_step"]
    assert later[0]["type"] == "started" and resumed_from < crashed_at and (resumed_from > 0) == (crash == "mid-epoch")
    assert not any(e["type"] == "eval" and e.get("probe") for e in later)  # the fitted head was not fitted again
    first_step = next(e["step"] for e in later if e["type"] == "step")
    assert first_step == later[0]["resumed_from_step"] + 1  # no step was trained twice or skipped
    predictions, metrics, weights = outcome(tmp_path / "straight")
    predictions2, metrics2, weights2 = outcome(tmp_path / "resumed")
    assert predictions2 == predictions
    assert metrics2 == metrics
    assert weights2.keys() == weights.keys() and all(torch.equal(weights[k], weights2[k]) for k in weights)
    # the step losses after the checkpoint are the uninterrupted run's too
    after = {e["step"]: e["loss"] for e in later if e["type"] == "step"}
    assert after and all(e["loss"] == after[e["step"]] for e in straight if e["type"] == "step" and e["step"] in after)
    assert not (tmp_path / "resumed" / "checkpoints").exists()  # a finished run keeps none by default


def test_keep_checkpoints_keeps_them_and_resume_without_one_starts_over(sentiment_csv, tiny_model_dir, tmp_path):
    config = tiny_config(sentiment_csv, tiny_model_dir, epochs=1, keep_checkpoints=True)
    events = []
    training.train(config, tmp_path / "run", events.append, resume=True)
    assert any("starts from the beginning" in e.get("message", "") for e in events)
    assert "resumed_from_step" not in next(e for e in events if e["type"] == "started")
    manifest = checkpoints.read_manifest(tmp_path / "run")
    assert manifest["step"] == next(e for e in events if e["type"] == "started")["total_steps"]
    assert sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir()) == ["best", "last"]


def test_a_checkpoint_for_other_data_is_refused(sentiment_csv, tiny_model_dir, tmp_path):
    events = []
    config = tiny_config(sentiment_csv, tiny_model_dir)
    with pytest.raises(Crash):
        training.train(config, tmp_path / "run", events.append, crash_after(events, 0))
    with open(sentiment_csv, "a", encoding="utf-8") as f:
        f.write("A sentence added later,positive\n")
    with pytest.raises(training.TrainingError, match="other data"):
        training.train(config, tmp_path / "run", lambda e: None, resume=True)


def test_keep_stops_and_finishes_with_the_best_weights(sentiment_csv, tiny_model_dir, tmp_path):
    # No fitted head: every evaluation is of trained weights, so the saved model must equal the best one's.
    config = tiny_config(sentiment_csv, tiny_model_dir, epochs=20, warm_start=False, keep_checkpoints=True,
                         learning_rate=1e-2)
    events = []

    def keep_after_three_evaluations():
        return "keep" if sum(e["type"] == "eval" for e in events) >= 3 else False
    report = training.train(config, tmp_path, events.append, keep_after_three_evaluations)
    evals = [e for e in events if e["type"] == "eval"]
    assert len(evals) == 3 and report["stopped_by_user"] is True
    assert report["steps"] < events[0]["total_steps"]
    best = [e for e in evals if e["best"]][-1]
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["stopped_by_user"] is True and saved["best_step"] == best["step"]
    assert saved["best_validation_macro_f1"] == pytest.approx(best["macro_f1"], abs=1e-5)
    assert len((tmp_path / "predictions.jsonl").read_text().splitlines()) == report["examples"]
    model = load_file(tmp_path / "model" / "model.safetensors")
    best_weights = load_file(tmp_path / "checkpoints" / ("last" if best["step"] == evals[-1]["step"] else "best")
                             / "weights.safetensors")
    assert all(torch.equal(model[name], w) for name, w in best_weights.items())
    last = load_file(tmp_path / "checkpoints" / "last" / "weights.safetensors")
    if best["step"] != evals[-1]["step"]:
        assert any(not torch.equal(model[name], w) for name, w in last.items())


def test_discard_stops_and_keeps_nothing(sentiment_csv, tiny_model_dir, tmp_path):
    events = []
    config = tiny_config(sentiment_csv, tiny_model_dir, keep_checkpoints=True)

    def discard_after_an_evaluation():
        return "discard" if any(e["type"] == "eval" and e["step"] > 0 for e in events) else False
    with pytest.raises(training.Cancelled):
        training.train(config, tmp_path, events.append, discard_after_an_evaluation)
    assert not (tmp_path / "model").exists() and not (tmp_path / "checkpoints").exists()
    assert not checkpoints.can_resume(tmp_path)


# --- the files -------------------------------------------------------------------------------
def write(run_dir, step, best_step, value, best_value):
    manifest = {"step": step, "best_step": best_step}
    checkpoints.save(run_dir, manifest, {"optimizer": {"x": torch.tensor([value])}},
                     {"w": torch.full((3,), float(value))}, {"w": torch.full((3,), float(best_value))})


def test_best_is_written_once_per_best_step(tmp_path):
    best = tmp_path / "checkpoints" / "best" / checkpoints.WEIGHTS
    write(tmp_path, 10, 10, 1.0, 1.0)
    written = best.stat().st_mtime_ns
    write(tmp_path, 20, 10, 2.0, 1.0)
    assert best.stat().st_mtime_ns == written  # the best did not change: not written again
    saved = checkpoints.load(tmp_path)
    assert saved.manifest["step"] == 20 and saved.weights["w"][0] == 2.0 and saved.best["w"][0] == 1.0
    assert saved.state["optimizer"]["x"].item() == 2.0


def crash_writing(monkeypatch, name):
    real = checkpoints._write_folder
    def write_folder(target, manifest, files):
        if target.name == name:
            raise Crash()
        return real(target, manifest, files)
    monkeypatch.setattr(checkpoints, "_write_folder", write_folder)


def test_a_crash_between_last_and_best_loses_nothing(tmp_path, monkeypatch):
    write(tmp_path, 10, 10, 1.0, 1.0)
    crash_writing(monkeypatch, "best")
    with pytest.raises(Crash):
        write(tmp_path, 20, 20, 2.0, 2.0)  # the newest evaluation is the best; its best folder never written
    saved = checkpoints.load(tmp_path)
    assert saved.manifest["step"] == 20 and saved.best["w"][0] == 2.0  # last holds the best itself
    monkeypatch.undo()
    write(tmp_path, 30, 20, 3.0, 2.0)  # the next checkpoint writes the missing best
    assert checkpoints.load(tmp_path).best["w"][0] == 2.0


def test_a_crash_writing_last_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    write(tmp_path, 10, 10, 1.0, 1.0)
    crash_writing(monkeypatch, "last")
    with pytest.raises(Crash):
        write(tmp_path, 20, 20, 2.0, 2.0)
    saved = checkpoints.load(tmp_path)
    assert saved.manifest["step"] == 10 and saved.weights["w"][0] == 1.0


def test_a_best_lost_to_a_crash_is_written_again(tmp_path):
    write(tmp_path, 10, 10, 1.0, 1.0)
    import shutil
    shutil.rmtree(tmp_path / "checkpoints" / "best")
    write(tmp_path, 20, 10, 2.0, 1.0)
    assert checkpoints.load(tmp_path).best["w"][0] == 1.0


def test_a_half_written_checkpoint_is_never_loaded(tmp_path):
    write(tmp_path, 10, 10, 1.0, 1.0)
    last = tmp_path / "checkpoints" / "last"
    weights = last / checkpoints.WEIGHTS
    weights.write_bytes(weights.read_bytes()[:-7])  # a torn write
    assert checkpoints.load(tmp_path) is None and not checkpoints.can_resume(tmp_path)
    write(tmp_path, 20, 20, 2.0, 2.0)
    (last / checkpoints.MANIFEST).unlink()
    assert checkpoints.load(tmp_path) is None


def test_a_crash_between_the_two_renames_falls_back_to_the_previous_folder(tmp_path):
    write(tmp_path, 10, 10, 1.0, 1.0)
    root = tmp_path / "checkpoints"
    (root / "last").rename(root / ".last.old")  # the old one moved aside, the new one never renamed in
    saved = checkpoints.load(tmp_path)
    assert saved.manifest["step"] == 10 and saved.weights["w"][0] == 1.0


def test_random_number_generators_come_back(tmp_path):
    import random
    import numpy as np
    torch.save(checkpoints.rng_state(), tmp_path / "rng.pt")
    state = torch.load(tmp_path / "rng.pt", weights_only=True)  # as a checkpoint is read back
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    checkpoints.restore_rng(state)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == first
