import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from studio import runs
from studio.config import DataConfig, RunConfig


def make_run(tmp_path, name=""):
    return runs.Run.create(tmp_path, RunConfig(data=DataConfig(train_file="data.csv"), name=name))


def test_create_writes_config_status_and_empty_events(tmp_path):
    run = make_run(tmp_path, "first")
    assert run.config().name == "first"
    assert run.recorded_status()["state"] == "queued"
    assert run.events() == ([], 0)


def test_events_are_read_incrementally_and_only_whole_lines(tmp_path):
    run = make_run(tmp_path)
    run.append_event({"type": "step", "step": 1})
    events, offset = run.events()
    assert [e["step"] for e in events] == [1]
    with open(run.events_path, "a") as f:
        f.write('{"type": "step", "step": 2}\n{"type": "st')  # a writer caught mid-line
    events, offset2 = run.events(offset)
    assert [e["step"] for e in events] == [2]
    with open(run.events_path, "a") as f:
        f.write('ep", "step": 3}\n')
    events, _ = run.events(offset2)
    assert [e["step"] for e in events] == [3]


def test_status_is_written_atomically_and_keeps_start_time(tmp_path):
    run = make_run(tmp_path)
    started = run.set_status("running", "go")["started"]
    final = run.set_status("finished", "done")
    assert final["started"] == started and final["ended"] >= started
    assert not [p for p in run.path.iterdir() if p.name.endswith(".tmp")]


def test_list_latest_and_get(tmp_path):
    a = make_run(tmp_path)
    b = make_run(tmp_path)
    b.set_status("finished")
    ids = [r.id for r in runs.list_runs(tmp_path)]
    assert set(ids) == {a.id, b.id} and ids == sorted(ids, reverse=True)
    assert runs.latest_run(tmp_path, state="finished").id == b.id
    assert runs.get_run(tmp_path, a.id).id == a.id
    for bad in ("../etc", "", ".hidden", "nope"):
        with pytest.raises(KeyError):
            runs.get_run(tmp_path, bad)


HOLDER = """
import sys, time
from studio import runs
run = runs.Run(runs.Path(sys.argv[1]))
lease = runs.Lease(run.path)
run.append_event({"type": "step", "step": 1})
run.set_status("running", "Training: epoch 1 of 3.")
print("holding", flush=True)
time.sleep(600)
"""


def hold_in_child(run, *prefix):
    """A real process that holds the run's lock and says it is running, as a training process does."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.Popen([*prefix, sys.executable, "-c", HOLDER, str(run.path)], stdout=subprocess.PIPE,
                             text=True, env=env)
    assert child.stdout.readline().strip() == "holding"
    return child


def test_a_run_whose_process_was_killed_reads_interrupted(tmp_path):
    run = make_run(tmp_path)
    child = hold_in_child(run)
    try:
        assert run.state == "running" and runs.lock_held(run.path)
        with pytest.raises(RuntimeError):
            runs.delete_run(tmp_path, run.id)
        last_event = run.events()[0][-1]["time"]
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    assert run.recorded_status()["state"] == "running"  # what the dead process left
    status = run.status()  # read: repaired
    assert status["state"] == "interrupted" and "start it again" in status["message"]
    assert status["ended"] == last_event  # the duration ends at the last real event, not at this read
    assert run.recorded_status()["state"] == "interrupted"  # written back
    assert [e["type"] for e in run.events()[0]].count("interrupted") == 1
    run.status()
    assert [e["type"] for e in run.events()[0]].count("interrupted") == 1  # repaired once
    runs.delete_run(tmp_path, run.id)


def test_a_queued_run_nobody_holds_is_interrupted_and_one_held_stays(tmp_path):
    orphan = make_run(tmp_path)  # created and let go: its studio is gone
    held, lease = runs.Run.create_leased(tmp_path, RunConfig(data=DataConfig(train_file="data.csv")))
    try:
        assert held.state == "queued"
        assert orphan.status()["state"] == "interrupted"
        assert "before this run started" in orphan.status()["message"]
        assert runs.repair_runs(tmp_path) == []  # already repaired; the held one is alive
    finally:
        lease.release()
    assert runs.repair_runs(tmp_path) == [held.id]


def test_the_lock_is_not_fooled_by_a_recorded_pid_that_is_alive(tmp_path):
    """The old check asked whether the recorded pid lived: as PID 1 in a container it always does."""
    run = make_run(tmp_path)
    status = run.set_status("running", "training")
    status["pid"] = 1
    (run.path / "status.json").write_text(json.dumps(status))
    assert run.state == "interrupted"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("unshare") is None, reason="no unshare on this machine")
def test_a_training_process_that_was_pid_1_in_a_container_is_noticed(tmp_path):
    """The reproduction from the audit: the owner runs as PID 1 of its own pid namespace, then dies."""
    probe = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", "true"], capture_output=True)
    if probe.returncode:
        pytest.skip(f"unshare cannot make a pid namespace here: {probe.stderr.decode().strip()}")
    run = make_run(tmp_path)
    child = hold_in_child(run, "unshare", "--pid", "--fork", "--mount-proc")
    try:
        assert run.recorded_status()["pid"] == 1 and run.state == "running"
        inner = int(Path(f"/proc/{child.pid}/task/{child.pid}/children").read_text().split()[0])
        os.kill(inner, signal.SIGKILL)  # PID 1 of the namespace
        child.wait(timeout=30)
    finally:
        child.kill()
        child.wait()
    assert run.state == "interrupted"


def test_a_complete_model_with_scores_is_finished_whatever_status_json_says(tmp_path):
    """Killed just after model/ was renamed into place and metrics.json written: the run did finish."""
    run = make_run(tmp_path)
    run.set_status("running", "Testing the model on the test split and saving it.")
    (run.model_dir).mkdir()
    (run.model_dir / "config.json").write_text("{}")
    run.write_json("metrics.json", {"accuracy": 0.75, "macro_f1": 0.7, "warnings": []})
    (run.path / ".metrics.json.tmp").write_text("{")
    status = run.status()
    assert status["state"] == "finished" and status["message"].startswith("Finished: 75.0%")
    assert not (run.path / ".metrics.json.tmp").exists()
    for wrong in ("interrupted", "cancelled", "failed"):  # what earlier versions could write beside a model
        run.set_status(wrong, "no model was saved")
        assert run.state == "finished"
    run.write_json("metrics.json", {"accuracy": 0.75, "macro_f1": 0.7, "stopped_by_user": True})
    run.set_status("interrupted", "")
    assert run.state == "stopped" and "keeping the best model" in run.status()["message"]


def test_a_model_without_scores_is_not_finished(tmp_path):
    run = make_run(tmp_path)
    run.set_status("running")
    run.model_dir.mkdir()
    (run.model_dir / "config.json").write_text("{}")
    assert run.state == "interrupted"


def test_a_kill_leaves_no_temporaries_behind(tmp_path):
    run = make_run(tmp_path)
    run.set_status("running")
    (run.path / ".model.tmp").mkdir()
    (run.path / ".model.tmp" / "model.safetensors").write_bytes(b"half")
    (run.path / ".predictions.jsonl.tmp").write_text('{"text": "a"')
    (run.path / ".status.json.123.tmp").write_text("{")
    (run.path / "checkpoints").mkdir()
    (run.path / "checkpoints" / ".last.tmp").write_bytes(b"x")
    (run.path / "checkpoints" / "last.pt").write_bytes(b"x")
    assert run.state == "interrupted"
    assert sorted(p.name for p in run.path.iterdir()) == [".lock", "checkpoints", "config.json", "events.jsonl",
                                                          "status.json"]
    assert [p.name for p in (run.path / "checkpoints").iterdir()] == ["last.pt"]


def test_the_lock_of_a_live_owner_keeps_its_temporaries(tmp_path):
    run, lease = runs.Run.create_leased(tmp_path, RunConfig(data=DataConfig(train_file="data.csv")))
    with lease:
        run.set_status("running")
        (run.path / ".model.tmp").mkdir()
        assert run.state == "running" and (run.path / ".model.tmp").exists()


def test_write_failures_get_a_sentence():
    import errno
    assert runs.write_failure(OSError(errno.ENOSPC, "No space left on device"), "runs") == \
        "The disk is full: free space or choose another runs folder."
    assert "read-only" in runs.write_failure(OSError(errno.EROFS, "Read-only file system"), "runs")
    assert runs.write_failure(OSError(errno.ENOENT, "gone"), "runs") is None
    rust = RuntimeError("Error while serializing: I/O error: No space left on device (os error 28)")  # safetensors
    assert runs.write_failure(rust, "runs").startswith("The disk is full")
    assert runs.write_failure(ValueError("x"), "runs") is None


def test_a_full_disk_still_gets_the_final_status(tmp_path, monkeypatch):
    """With no block free, a new file cannot be made, but status.json's own block can be rewritten."""
    import errno
    run = make_run(tmp_path)
    real = Path.write_text

    def full(self, *args, **kwargs):
        if self.name.endswith(".tmp"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, *args, **kwargs)
    monkeypatch.setattr(Path, "write_text", full)
    run.set_status("failed", "The disk is full: free space or choose another runs folder.")
    monkeypatch.undo()
    assert run.recorded_status()["state"] == "failed"
    assert not [p for p in run.path.iterdir() if p.name.endswith(".tmp")]


def test_summary_row(tmp_path):
    run = make_run(tmp_path, "mine")
    run.set_status("running")
    run.write_json("metrics.json", {"accuracy": 0.9, "macro_f1": 0.8})
    run.set_status("finished", "ok", best_validation=0.85)
    row = run.summary()
    assert (row["name"], row["state"], row["test_accuracy"], row["best_validation"], row["method"]) == \
        ("mine", "finished", 0.9, 0.85, "Auto")
    assert row["duration_s"] is not None and not row["has_model"]


@pytest.mark.parametrize("model, metrics, english, chinese", [
    ({"method": "full"}, None, "Full fine-tuning", "全部微调"),
    ({"method": "freeze", "freeze_layers": 3}, None, "3 layers frozen", "冻结 3 层"),
    ({"method": "freeze", "freeze_layers": -1}, None, "Head only", "仅训练输出层"),
    ({"method": "lora", "lora_r": 4}, None, "LoRA r=4", "LoRA r=4"),
    ({"method": "auto"}, None, "Auto", "自动"),   # not known until training has started
    ({"method": "auto"}, {"method": "freeze", "freeze_layers": -1}, "Auto: Head only", "自动: 仅训练输出层"),
    ({"method": "auto"}, {"method": "full", "freeze_layers": 0}, "Auto: Full fine-tuning", "自动: 全部微调"),
])
def test_the_method_in_both_languages_from_the_same_details(model, metrics, english, chinese):
    from studio.config import ModelConfig
    config = RunConfig(data=DataConfig(train_file="data.csv"), model=ModelConfig(**model))
    assert runs.describe_method(config, metrics) == english
    assert runs.describe_method(config, metrics, "zh-CN") == chinese
    details = runs.method_details(config, metrics)
    assert details["auto"] == (model["method"] == "auto")
    assert details["method"] == (metrics or {}).get("method", None if model["method"] == "auto" else model["method"])


def test_the_runs_table_row_names_what_auto_chose(tmp_path):
    from studio.config import ModelConfig
    run = runs.Run.create(tmp_path, RunConfig(data=DataConfig(train_file="data.csv"), model=ModelConfig(method="auto")))
    (run.path / "metrics.json").write_text(json.dumps({"method": "freeze", "freeze_layers": -1, "accuracy": 0.5}))
    row = run.summary()
    assert row["method"] == "Auto: Head only" and row["method_details"]["method"] == "freeze"


# --- disks that refuse writes: full, read-only -----------------------------------------------------
def _environment():
    return {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def _mount(*args):
    done = subprocess.run(["mount", *map(str, args)], capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"cannot mount here: {done.stderr.strip()}")


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MB disk: room for a run's files, not for the tiny model (4 MB)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    _mount("-t", "tmpfs", "-o", "size=1m", "tmpfs", disk)
    yield disk
    subprocess.run(["umount", "-l", str(disk)])


@pytest.fixture
def read_only(tmp_path):
    folder = tmp_path / "runs"
    folder.mkdir()
    stale = make_run(folder)
    stale.set_status("running", "Training: epoch 1 of 3.")
    _mount("--bind", folder, folder)
    subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], check=True)
    yield folder, stale
    subprocess.run(["umount", "-l", str(folder)])


def _train_command(data, model, runs_dir):
    return [sys.executable, "-m", "studio", "train", str(data), "--model", str(model), "--method", "full",
            "--epochs", "1", "--batch-size", "8", "--max-length", "32", "--patience", "0", "--runs-dir", str(runs_dir)]


@pytest.mark.slow
def test_a_full_disk_fails_the_run_with_a_sentence_in_the_cli_and_in_the_studio(small_disk, sentiment_csv,
                                                                               tiny_model_dir):
    from studio import jobs
    from studio.config import ModelConfig, TrainConfig
    sentence = "The disk is full: free space or choose another runs folder."
    done = subprocess.run(_train_command(sentiment_csv, tiny_model_dir, small_disk / "cli"), capture_output=True,
                          text=True, env=_environment())
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == sentence
    (run,) = runs.list_runs(small_disk / "cli")
    assert run.status()["state"] == "failed" and run.status()["message"] == sentence
    assert runs.temporaries(run.path) == [] and not run.has_model()
    assert run.events()[0][-1] == {**run.events()[0][-1], "type": "failed", "message": sentence}

    manager = jobs.JobManager(small_disk / "studio")
    config = RunConfig(data=DataConfig(train_file=str(sentiment_csv)), model=ModelConfig(name=str(tiny_model_dir),
                       method="full"), train=TrainConfig(epochs=1, batch_size=8, max_length=32, patience=0))
    run = manager.submit(config)
    assert manager.wait(run.id, timeout=300)
    assert run.status()["state"] == "failed" and run.status()["message"] == sentence
    assert runs.temporaries(run.path) == [] and not run.has_model()
    again = manager.submit(config)  # the studio goes on taking runs
    assert manager.cancel(again.id)
    assert manager.wait(again.id, timeout=300)


@pytest.mark.slow
def test_the_cli_on_a_read_only_runs_folder_says_so_in_one_sentence(read_only, sentiment_csv, tiny_model_dir):
    folder, stale = read_only
    done = subprocess.run(_train_command(sentiment_csv, tiny_model_dir, folder), capture_output=True, text=True,
                          env=_environment())
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == \
        f"The runs folder {folder} is on a read-only disk: choose another runs folder."


def test_listing_a_read_only_runs_folder_shows_the_stale_run_interrupted(read_only):
    folder, stale = read_only
    assert [r.id for r in runs.list_runs(folder)] == [stale.id] and stale.state == "interrupted"
    assert stale.recorded_status()["state"] == "running"  # nothing could be written, nothing broke
    done = subprocess.run([sys.executable, "-m", "studio", "runs", "--runs-dir", str(folder)], capture_output=True,
                          text=True, env=_environment())
    assert done.returncode == 0 and "interrupted" in done.stdout and "Traceback" not in done.stderr


def test_a_resumed_run_replaces_the_curve_past_its_checkpoint_and_a_restart_begins_it_anew():
    events = [{"type": "started"}, {"type": "step", "step": 1}, {"type": "eval", "step": 2},
              {"type": "step", "step": 3}, {"type": "eval", "step": 4}, {"type": "note", "message": "kept"},
              {"type": "started", "resumed_from_step": 2}, {"type": "step", "step": 3, "loss": 0.5}]
    steps = [(e["type"], e["step"]) for e in runs.current_curve(events) if "step" in e]
    assert steps == [("step", 1), ("eval", 2), ("step", 3)]
    assert runs.current_curve(events)[-1]["loss"] == 0.5 and {"type": "note", "message": "kept"} in runs.current_curve(events)
    again = events[:4] + [{"type": "started"}, {"type": "step", "step": 1, "loss": 0.9}]
    assert [e.get("step") for e in runs.current_curve(again) if e["type"] == "step"] == [1]
