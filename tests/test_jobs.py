import time

import pytest

from studio import jobs, training
from studio.config import DataConfig, ModelConfig, RunConfig, TrainConfig


def config_for(csv, model_dir, **train):
    settings = dict(epochs=1, batch_size=8, learning_rate=1e-3, patience=0, max_length=32)
    settings.update(train)
    return RunConfig(data=DataConfig(train_file=str(csv)), model=ModelConfig(name=str(model_dir), method="full"),
                     train=TrainConfig(**settings))


def wait_for_state(run, states, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if run.state in states:
            return run.state
        time.sleep(0.05)
    raise AssertionError(f"run stayed {run.state}")


def test_a_job_trains_in_the_background(sentiment_csv, tiny_model_dir, tmp_path):
    manager = jobs.JobManager(tmp_path)
    run = manager.submit(config_for(sentiment_csv, tiny_model_dir))
    assert manager.wait(run.id, timeout=120)
    assert run.state == "finished" and run.has_model()
    rows = run.predictions()
    assert run.metrics()["accuracy"] == pytest.approx(sum(r["predicted"] == r["label"] for r in rows) / len(rows))
    kinds = [e["type"] for e in run.events()[0]]
    assert kinds[0] == "queued" and kinds[1] == "started" and kinds[-1] == "finished"


def test_second_job_waits_for_the_first(sentiment_csv, tiny_model_dir, tmp_path):
    manager = jobs.JobManager(tmp_path)
    first = manager.submit(config_for(sentiment_csv, tiny_model_dir, epochs=3))
    second = manager.submit(config_for(sentiment_csv, tiny_model_dir))
    assert second.state == "queued" and "Waiting" in second.status()["message"]
    wait_for_state(first, ("running",))
    assert second.state == "queued"
    assert manager.active_runs() == [first.id, second.id]
    assert manager.wait(second.id, timeout=180)
    first_end = first.status()["ended"]
    assert second.status()["started"] >= first_end
    assert first.state == second.state == "finished"


def test_cancel_a_running_job(sentiment_csv, tiny_model_dir, tmp_path):
    manager = jobs.JobManager(tmp_path)
    run = manager.submit(config_for(sentiment_csv, tiny_model_dir, epochs=200))
    deadline = time.time() + 60
    while not any(e["type"] == "step" for e in run.events()[0]) and time.time() < deadline:
        time.sleep(0.05)
    steps_before = sum(e["type"] == "step" for e in run.events()[0])
    assert manager.cancel(run.id)
    assert manager.wait(run.id, timeout=30)
    assert run.state == "cancelled" and not run.has_model()
    steps_after = sum(e["type"] == "step" for e in run.events()[0])
    assert steps_after <= steps_before + 2  # within a step of the request (plus one logged while cancelling)


def test_cancel_a_queued_job_never_starts_it(sentiment_csv, tiny_model_dir, tmp_path):
    manager = jobs.JobManager(tmp_path)
    first = manager.submit(config_for(sentiment_csv, tiny_model_dir, epochs=3))
    second = manager.submit(config_for(sentiment_csv, tiny_model_dir))
    assert manager.cancel(second.id)
    assert second.state == "cancelled"
    manager.wait(first.id, timeout=120)
    assert second.state == "cancelled"
    assert not any(e["type"] == "started" for e in second.events()[0])


def test_a_crash_becomes_a_failed_status_and_the_worker_survives(sentiment_csv, tiny_model_dir, tmp_path, monkeypatch):
    real_train = training.train
    calls = []
    def crash_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("something deep broke")
        return real_train(*args, **kwargs)
    monkeypatch.setattr(training, "train", crash_once)
    manager = jobs.JobManager(tmp_path)
    bad = manager.submit(config_for(sentiment_csv, tiny_model_dir))
    good = manager.submit(config_for(sentiment_csv, tiny_model_dir))
    manager.wait(good.id, timeout=120)
    assert bad.state == "failed"
    assert "something deep broke" in bad.status()["message"] and (bad.path / "error.log").exists()
    assert good.state == "finished"


def test_bad_data_fails_with_the_data_sentence(tmp_path, tiny_model_dir):
    path = tmp_path / "one.csv"
    path.write_text("text,label\n" + "".join(f"row {i} text,only\n" for i in range(20)))
    manager = jobs.JobManager(tmp_path / "runs")
    run = manager.submit(config_for(path, tiny_model_dir))
    manager.wait(run.id, timeout=60)
    assert run.state == "failed"
    message = run.status()["message"]
    assert "label" in message.lower() and "Traceback" not in message


def test_out_of_memory_halves_the_batch(sentiment_csv, tiny_model_dir, tmp_path, monkeypatch):
    import torch
    real = training._train
    sizes = []
    def oom_at_16(config, out_dir, emit, should_stop, batch_size):
        sizes.append(batch_size)
        if batch_size > 8:
            raise torch.OutOfMemoryError("CUDA out of memory")
        return real(config, out_dir, emit, should_stop, batch_size)
    monkeypatch.setattr(training, "_train", oom_at_16)
    events = []
    training.train(config_for(sentiment_csv, tiny_model_dir, batch_size=32), tmp_path, events.append)
    assert sizes == [32, 16, 8]
    assert any("batch size 8" in e.get("message", "") for e in events)


def test_invalid_config_is_refused_before_queueing(tmp_path, sentiment_csv, tiny_model_dir):
    from studio.config import ConfigError
    manager = jobs.JobManager(tmp_path / "runs")
    with pytest.raises(ConfigError):
        manager.submit(config_for(sentiment_csv, tiny_model_dir, learning_rate=5.0))
    assert not list((tmp_path / "runs").iterdir())


def test_a_model_that_answers_one_label_is_called_out(one_text_csv, tiny_model_dir, tmp_path):
    """Every text is the same, so every answer is: the run must say so instead of headlining its accuracy."""
    from studio.runs import Run
    config = config_for(one_text_csv, tiny_model_dir)
    config.model.method = "full"
    run = Run.create(tmp_path / "runs", config)
    assert jobs.execute(run)["state"] == "finished", run.status()
    answered = {p["predicted"] for p in run.predictions()}
    assert len(answered) == 1
    label = answered.pop()
    other = "spam" if label == "ham" else "ham"
    report = run.metrics()
    assert report["baseline"]["label"] == "ham" and report["baseline"]["source"] == "train"
    codes = {w["code"]: w for w in report["warnings"]}
    assert codes["single_label"]["label"] == label and codes["never_predicts"]["labels"] == [other]
    assert "no_better_than_baseline" in codes
    sentence = f'answers "{label}" for every text and never predicts "{other}"'
    message = run.status()["message"]
    assert message.startswith("Finished:") and sentence in message and "class weights" in message
    assert report["summary"].startswith("Warning:") and sentence in report["summary"]
    assert 'always answering "ham" would be right' in report["summary"]
    finished = [e for e in run.events()[0] if e["type"] == "finished"][0]
    assert finished["warnings"] == report["warnings"]
    assert sentence in (run.model_dir / "README.md").read_text(encoding="utf-8")
