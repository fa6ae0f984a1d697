import json
import os
import subprocess
import sys

import pytest

from studio import runs
from studio.config import DataConfig, RunConfig


def make_run(tmp_path, name=""):
    return runs.Run.create(tmp_path, RunConfig(data=DataConfig(train_file="data.csv"), name=name))


def test_create_writes_config_status_and_empty_events(tmp_path):
    run = make_run(tmp_path, "first")
    assert run.config().name == "first"
    assert run.status()["state"] == "queued"
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


def test_runs_of_a_dead_process_become_interrupted(tmp_path):
    run = make_run(tmp_path)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    status = run.set_status("running", "training")
    status["pid"] = int(dead.stdout)
    (run.path / "status.json").write_text(json.dumps(status))
    alive = make_run(tmp_path)
    alive.set_status("running")  # this process: alive
    assert runs.mark_interrupted(tmp_path) == [run.id]
    assert run.state == "interrupted" and alive.state == "running"
    assert run.events()[0][-1]["type"] == "interrupted"


def test_delete_refuses_an_active_run(tmp_path):
    run = make_run(tmp_path)
    run.set_status("running")
    with pytest.raises(RuntimeError):
        runs.delete_run(tmp_path, run.id)
    run.set_status("failed", "boom")
    runs.delete_run(tmp_path, run.id)
    assert not run.path.exists()


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
