import time

import pytest

from studio import jobs, runs, training
from studio.config import DataConfig, ModelConfig, RunConfig, TrainConfig


def config_for(csv, model_dir, **train):
    settings = dict(epochs=1, batch_size=8, learning_rate=1e-3, patience=0, max_length=32)
    settings.update(train)
    return RunConfig(data=DataConfig(train_file=str(csv)), model=ModelConfig(name=str(model_dir), method="full"),
                     train=TrainConfig(**settings))


def wait_for_state(run, states, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if run.state in states:
            return run.state
        time.sleep(0.05)
    raise AssertionError(f"run stayed {run.state}")


def wait_for_event(run, kind, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if any(e["type"] == kind for e in run.events()[0]):
            return
        time.sleep(0.05)
    raise AssertionError(f"no {kind} event in {run.events()[0]}")


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


# --- training processes that crash: targets run in the training process (imported there by name) --------
def _crash_at_step(n, crash):
    """Patch the optimizer step in this (training) process to crash at step n, then train as the studio does."""
    from studio import steps
    real = steps.Stepper.step
    calls = []

    def step(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == n:
            crash()
        return real(self, *args, **kwargs)
    steps.Stepper.step = step


def raise_mid_training(run_dir, resume):
    from studio import worker
    def crash():
        raise RuntimeError("something deep broke")
    _crash_at_step(2, crash)
    worker.train_run(run_dir, resume)


def segfault_mid_training(run_dir, resume):
    import ctypes
    from studio import worker
    _crash_at_step(2, lambda: ctypes.string_at(0))
    worker.train_run(run_dir, resume)


def killed_mid_training(run_dir, resume):
    import os
    import signal
    from studio import worker
    _crash_at_step(2, lambda: os.kill(os.getpid(), signal.SIGKILL))
    worker.train_run(run_dir, resume)


def test_an_exception_in_training_fails_the_run_and_the_next_run_trains(sentiment_csv, tiny_model_dir, tmp_path):
    manager = jobs.JobManager(tmp_path, target=raise_mid_training)
    bad = manager.submit(config_for(sentiment_csv, tiny_model_dir))
    assert manager.wait(bad.id, timeout=120)
    assert bad.state == "failed"
    assert "something deep broke" in bad.status()["message"] and (bad.path / "error.log").exists()
    manager._target = None  # the studio's own training process from here on
    good = manager.submit(config_for(sentiment_csv, tiny_model_dir))
    assert manager.wait(good.id, timeout=120)
    assert good.state == "finished"


@pytest.mark.parametrize("target, words", [(segfault_mid_training, "segmentation fault"),
                                           (killed_mid_training, "SIGKILL")])
def test_a_training_process_that_dies_fails_with_a_sentence(target, words, sentiment_csv, tiny_model_dir, tmp_path):
    manager = jobs.JobManager(tmp_path, target=target)
    run = manager.submit(config_for(sentiment_csv, tiny_model_dir))
    assert manager.wait(run.id, timeout=120)
    status = run.status()
    assert status["state"] == "failed" and words in status["message"] and status["crashed"]
    assert "Traceback" not in status["message"]
    assert run.events()[0][-1]["type"] == "failed"
    assert not runs.lock_held(run.path) and not manager.active_runs()
    if words == "segmentation fault":
        assert "Fatal Python error" in (run.path / runs.OUTPUT_LOG).read_text()  # the stack, for a bug report


def test_a_training_process_killed_from_outside_fails_and_the_lane_goes_on(sentiment_csv, tiny_model_dir, tmp_path):
    import os
    import signal
    manager = jobs.JobManager(tmp_path)
    first = manager.submit(config_for(sentiment_csv, tiny_model_dir, epochs=200))
    second = manager.submit(config_for(sentiment_csv, tiny_model_dir))
    wait_for_event(first, "step")
    pid = first.recorded_status()["pid"]
    assert pid != os.getpid()  # it trains in a process of its own
    os.kill(pid, signal.SIGKILL)
    assert manager.wait(first.id, timeout=60)
    assert first.state == "failed" and "SIGKILL" in first.status()["message"]
    assert manager.wait(second.id, timeout=120)
    assert second.state == "finished"


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


# --- lanes: one per device, one per GPU index --------------------------------------------------------
def test_lane_for_spreads_runs_over_gpus_and_keeps_a_named_one():
    assert jobs.lane_for("cpu", 4, {}) == ("cpu", None)
    assert jobs.lane_for("cuda", 0, {}) == ("cuda", None)  # no GPU counted: one lane for the device type
    assert jobs.lane_for("cuda", 3, {}) == ("cuda:0", 0)
    assert jobs.lane_for("cuda", 3, {"cuda:0": 1}) == ("cuda:1", 1)
    assert jobs.lane_for("cuda", 3, {"cuda:0": 1, "cuda:1": 1, "cuda:2": 1}) == ("cuda:0", 0)
    assert jobs.lane_for("cuda:2", 3, {"cuda:2": 5}) == ("cuda:2", 2)


def test_visible_devices_follow_the_studios_own_list(monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert jobs.visible_devices(None) == {} and jobs.visible_devices(1) == {"CUDA_VISIBLE_DEVICES": "1"}
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "4,6")
    assert jobs.visible_devices(1) == {"CUDA_VISIBLE_DEVICES": "6"}


def report_gpu_and_wait(run_dir, resume):
    """A training process that records the GPU it was given, then waits for the test's go."""
    import os
    from pathlib import Path
    from studio import runs
    run = runs.Run(Path(run_dir))
    with runs.Lease(run.path):
        run.set_status("running", "holding its GPU", visible=os.environ.get("CUDA_VISIBLE_DEVICES"))
        deadline = time.time() + 120
        while not (run.path.parent / "go").exists() and time.time() < deadline:
            time.sleep(0.05)
        run.set_status("cancelled", "done")


def test_separate_runs_train_on_separate_gpus_at_once(tmp_path, monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    manager = jobs.JobManager(tmp_path, gpus=3, target=report_gpu_and_wait)
    config = RunConfig(data=DataConfig(train_file="unused.csv"), train=TrainConfig(device="cuda"))
    started = [manager.submit(config) for _ in range(4)]
    try:
        for run in started[:3]:
            wait_for_state(run, ("running",))
        assert [r.status()["visible"] for r in started[:3]] == ["0", "1", "2"]  # all three at once
        assert [r.status()["gpu"] for r in started] == [0, 1, 2, 0]
        assert started[3].state == "queued" and "1 run ahead" in started[3].status()["message"]
    finally:
        (tmp_path / "go").touch()
    assert manager.wait(started[3].id, timeout=60)
    assert started[3].status()["visible"] == "0"


# --- stopping, resuming, restarting ------------------------------------------------------------------
def test_the_stop_file_is_read_as_keep_or_discard(tmp_path):
    run = runs.Run.create(tmp_path, RunConfig(data=DataConfig(train_file="unused.csv")))
    check = jobs.StopCheck(run)
    assert check() is None
    run.request_stop(keep=True)
    assert check() == "keep"
    run.request_stop(keep=False)
    assert check() == "discard"
    (run.path / runs.STOP_FILE).unlink()
    assert jobs.StopCheck(run, lambda: True)() == "discard"  # a caller's own flag still stops it


def test_a_run_stopped_with_keep_ends_stopped_with_its_model(tmp_path, monkeypatch):
    """The report of a run stopped by the user with the best model kept makes the run `stopped`."""
    run = runs.Run.create(tmp_path, RunConfig(data=DataConfig(train_file="unused.csv")))
    run.request_stop(keep=True)
    asked = []

    def train(config, out_dir, emit, should_stop, **kwargs):
        asked.append(should_stop())
        emit({"type": "started", "total_steps": 10, "epochs": 2})
        (out_dir / "model").mkdir()
        (out_dir / "model" / "config.json").write_text("{}")
        (out_dir / "metrics.json").write_text('{"accuracy": 0.8, "macro_f1": 0.8, "stopped_by_user": true}')
        return {"accuracy": 0.8, "macro_f1": 0.8, "stopped_by_user": True}
    monkeypatch.setattr(training, "train", train)
    status = jobs.execute(run)
    assert asked == ["keep"]
    assert status["state"] == "stopped" and run.state == "stopped" and "keeping the best model" in status["message"]
    assert run.events()[0][-1]["type"] == "stopped"
    assert not (run.path / runs.STOP_FILE).exists()  # a later resume must not stop at once


def test_status_follows_the_phase_of_training(tmp_path, monkeypatch):
    run = runs.Run.create(tmp_path, RunConfig(data=DataConfig(train_file="unused.csv")))
    seen = []

    def train(config, out_dir, emit, should_stop, **kwargs):
        seen.append(run.status()["message"])
        for event in ({"type": "phase", "phase": "loading_model"}, {"type": "started", "total_steps": 4, "epochs": 2},
                      {"type": "step", "step": 1, "epoch": 0.5, "progress": 0.25},
                      {"type": "step", "step": 3, "epoch": 1.5, "progress": 0.75},
                      {"type": "step", "step": 4, "epoch": 2.0, "progress": 1.0}):
            emit(event)
            seen.append(run.status()["message"])
        raise training.TrainingError("stop here")
    monkeypatch.setattr(training, "train", train)
    jobs.execute(run)
    assert seen == ["Reading the data, loading the model and fitting its head.", "Loading the model.",
                    "Training: epoch 1 of 2.", "Training: epoch 1 of 2.", "Training: epoch 2 of 2.",
                    "Testing the model on the test split and saving it."]


def test_resume_and_restart(sentiment_csv, tiny_model_dir, tmp_path):
    import inspect
    manager = jobs.JobManager(tmp_path, target=report_gpu_and_wait)
    (tmp_path / "go").touch()
    run = manager.submit(config_for(sentiment_csv, tiny_model_dir))
    assert manager.wait(run.id, timeout=60)
    again = manager.restart(run.id)
    assert again.id != run.id and again.config() == run.config()
    assert manager.wait(again.id, timeout=60)
    with pytest.raises(jobs.JobError) as refused:
        manager.resume(run.id)  # cancelled, no checkpoint
    expected = "cannot resume" if "resume" not in inspect.signature(training.train).parameters else "no checkpoint"
    assert expected in str(refused.value)


# --- the studio goes away and comes back --------------------------------------------------------------
STUDIO = """
import sys, time
from studio import jobs
from studio.config import DataConfig, ModelConfig, RunConfig, TrainConfig
if __name__ == "__main__":
    manager = jobs.JobManager(sys.argv[1])
    config = RunConfig(data=DataConfig(train_file=sys.argv[2]), model=ModelConfig(name=sys.argv[3], method="full"),
                       train=TrainConfig(epochs=200, batch_size=8, learning_rate=1e-3, patience=0, max_length=32))
    print(manager.submit(config).id, flush=True)
    time.sleep(600)
"""


def test_a_studio_killed_mid_training_leaves_it_going_and_the_next_one_reattaches(sentiment_csv, tiny_model_dir,
                                                                                   tmp_path):
    import os
    import signal
    import subprocess
    import sys
    script = tmp_path / "studio_process.py"
    script.write_text(STUDIO)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    studio = subprocess.Popen([sys.executable, str(script), str(tmp_path / "runs"), str(sentiment_csv),
                               str(tiny_model_dir)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        run = runs.Run(tmp_path / "runs" / studio.stdout.readline().strip())
        wait_for_event(run, "step")
        os.kill(studio.pid, signal.SIGKILL)  # the web server dies; its training process must not
        studio.wait(timeout=30)
    finally:
        studio.kill()
        studio.wait()
    steps = sum(e["type"] == "step" for e in run.events()[0])
    deadline = time.time() + 60
    while sum(e["type"] == "step" for e in run.events()[0]) <= steps and time.time() < deadline:
        time.sleep(0.1)
    assert sum(e["type"] == "step" for e in run.events()[0]) > steps  # still training
    assert run.state == "running"
    manager = jobs.JobManager(tmp_path / "runs")  # the studio starts again
    assert manager.attached == [run.id] and manager.active_runs() == [run.id] and not manager.interrupted
    assert manager.cancel(run.id)  # the Stop button reaches a process this studio did not start
    assert manager.wait(run.id, timeout=120)
    assert not runs.lock_held(run.path), (run.recorded_status(), run.events()[0][-3:])
    assert run.state == "cancelled", (run.recorded_status(), run.events()[0][-3:])


def test_a_studio_on_a_read_only_runs_folder_with_a_stale_run_starts(tmp_path):
    import subprocess
    folder = tmp_path / "runs"
    run = runs.Run.create(folder, RunConfig(data=DataConfig(train_file="unused.csv")))
    run.set_status("running", "Training: epoch 1 of 3.")
    mounted = subprocess.run(["mount", "--bind", "-o", "ro", str(folder), str(folder)], capture_output=True)
    if mounted.returncode:
        pytest.skip(f"cannot mount a read-only folder here: {mounted.stderr.decode().strip()}")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], check=True)
        with pytest.raises(OSError):
            (folder / "probe").write_text("x")  # really read-only, even for root
        manager = jobs.JobManager(folder)
        assert manager.interrupted == [run.id] and run.state == "interrupted"
        assert run.recorded_status()["state"] == "running"  # nothing could be written, and nothing broke
        with pytest.raises(jobs.JobError, match="read-only disk: choose another runs folder"):
            manager.submit(RunConfig(data=DataConfig(train_file="unused.csv")))
    finally:
        subprocess.run(["umount", str(folder)], check=True)
