"""The Train and Runs tabs' controls over a run, called directly: stop (keep the best model or discard), start
again with the same settings, resume, which run a page shows, a repeated Start, and text shown as text.

A fake manager that trains nothing stands in for the job manager (tests/test_jobs.py tests the real one): the
handler's own logic (which method it calls, with what, and what it says) is what is tested here."""
from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from conftest import write_reviews_csv
from studio.config import DataConfig, RunConfig
from studio.runs import Run
from studio.ui import data_tab, evaluate_tab, model_tab, playground_tab, runs_tab, train_tab
from studio.ui.context import Studio

QUICK = dict(method="full", freeze_layers=0, lora_r=8, preset="quick", learning_rate=5e-3, epochs=1, batch_size=8,
             max_length=32, warmup_ratio=0.0, weight_decay=0.0, patience=0, class_weights=False, seed=1,
             evals_per_epoch=1)


class FakeManager:
    """A job manager with the agreed API (submit, cancel(keep=), resume, restart), training nothing."""

    def __init__(self, runs_dir):
        self.runs_dir = runs_dir
        self.active: list[str] = []
        self.calls: list[tuple] = []
        self.leases = []

    def submit(self, config):
        run, lease = Run.create_leased(self.runs_dir, config.validate())
        self.leases.append(lease)  # held, as a training process holds it: the run reads as queued, not interrupted
        self.active.append(run.id)
        self.calls.append(("submit", run.id))
        return run

    def cancel(self, run_id, keep=False):
        self.calls.append(("cancel", run_id, keep))
        return run_id in self.active

    def resume(self, run_id):
        self.calls.append(("resume", run_id))
        self.active.append(run_id)
        return Run(self.runs_dir / run_id)

    def restart(self, run_id):
        self.calls.append(("restart", run_id))
        return self.submit(Run(self.runs_dir / run_id).config())

    def active_runs(self):
        return list(self.active)

    def is_active(self, run_id):
        return run_id in self.active


@pytest.fixture
def reviews(tmp_path):
    path = tmp_path / "reviews.csv"
    return write_reviews_csv(path)


@pytest.fixture
def studio(tmp_path, tiny_model_dir):
    studio = Studio.create(tmp_path / "runs", default_model=str(tiny_model_dir))
    studio.manager = FakeManager(studio.runs_dir)
    return studio


@pytest.fixture
def view(studio, reviews):
    return data_tab.analyse(str(reviews), model_name=studio.default_model)


def _choices(studio, **settings):
    return model_tab.RunChoices(model_name=studio.default_model, **{**QUICK, **settings})


def _finished_like(studio, state: str, message: str = "") -> Run:
    run = Run.create(studio.runs_dir, RunConfig(data=DataConfig(train_file="x.csv"), name="old"))
    run.set_status(state, message)
    return run


# --- stop ----------------------------------------------------------------------------------------
def test_stop_and_keep_asks_the_manager_to_keep_the_best_model(studio, view):
    _, shown, run_id = train_tab.start_training(studio, view, _choices(studio), "", "en")
    assert "best model so far is kept" in train_tab.stop_training(studio, run_id, "en", keep=True)
    assert "不会保存模型" in train_tab.stop_training(studio, run_id, "zh-CN", keep=False)
    assert studio.manager.calls[-2:] == [("cancel", run_id, True), ("cancel", run_id, False)]


def test_a_run_that_is_not_training_has_nothing_to_stop(studio):
    run = _finished_like(studio, "failed", "boom")
    assert "nothing to stop" in train_tab.stop_training(studio, run.id, "en", keep=True)
    assert not [c for c in studio.manager.calls if c[0] == "cancel"]


# --- start again, resume ---------------------------------------------------------------------------
@pytest.mark.parametrize("state", ["failed", "cancelled", "stopped", "interrupted"])
def test_an_ended_run_offers_start_again_with_the_same_settings(studio, state):
    run = _finished_like(studio, state)
    assert train_tab.run_actions(studio, run.id) == {"stop": False, "restart": True, "resume": False}
    message, new = train_tab.restart_run(studio, run.id, "en")
    assert new and new != run.id and run.id in message
    assert Run(studio.runs_dir / new).config().to_dict() == run.config().to_dict()
    assert ("restart", run.id) in studio.manager.calls


def test_resume_is_offered_only_where_the_run_can_resume(studio, monkeypatch):
    run = _finished_like(studio, "interrupted")
    monkeypatch.setattr(train_tab.runs_module, "can_resume", lambda r: r.id == run.id, raising=False)
    other = _finished_like(studio, "interrupted")
    assert train_tab.run_actions(studio, run.id)["resume"] and not train_tab.run_actions(studio, other.id)["resume"]
    message, resumed = train_tab.resume_run(studio, run.id, "en")
    assert resumed == run.id and "Resuming" in message and ("resume", run.id) in studio.manager.calls
    message, resumed = train_tab.resume_run(studio, other.id, "zh-CN")
    assert resumed is None and "无法继续" in message


def test_a_finished_run_offers_neither(studio):
    run = _finished_like(studio, "finished")
    assert train_tab.run_actions(studio, run.id) == {"stop": False, "restart": False, "resume": False}


# --- which run --------------------------------------------------------------------------------------
def test_a_fresh_page_does_not_attach_to_a_failed_run_left_by_the_command_line(studio):
    finished = _finished_like(studio, "finished")
    failed = _finished_like(studio, "failed", "a CLI run that crashed")
    newest = failed.path.with_name(finished.id[:15] + "-zzzz")  # the newest folder, even within the same second
    failed.path.rename(newest)
    failed = Run(newest)
    assert studio.run_to_show(None) == finished.id
    assert studio.run_to_show(failed.id) == failed.id  # the one this browser showed before is kept


def test_a_queued_start_keeps_the_running_run_shown(studio, view):
    _, shown_first, first = train_tab.start_training(studio, view, _choices(studio), "", "en")
    message, shown, second = train_tab.start_training(studio, view, _choices(studio, epochs=2), "", "en")
    assert shown_first == first and shown == first and second != first
    assert "queued" in message and second in message
    labels = [label for label, _ in train_tab.run_picker_choices(studio, "en")]
    assert len(labels) == 2 and all("Queued" in label for label in labels)  # both queued in the fake manager


def test_the_same_start_twice_queues_one_run(studio, view):
    first = train_tab.start_training(studio, view, _choices(studio), "", "en")
    again = train_tab.start_training(studio, view, _choices(studio), "", "en")
    assert first[2] and again[2] is None and again[1] == first[2] and "just started" in again[0]
    assert [c for c in studio.manager.calls if c[0] == "submit"] == [("submit", first[2])]


def test_two_starts_at_once_queue_one_run(studio, view):
    results = []
    threads = [threading.Thread(target=lambda: results.append(
        train_tab.start_training(studio, view, _choices(studio), "", "en"))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len([c for c in studio.manager.calls if c[0] == "submit"]) == 1
    assert sorted(r[2] is None for r in results) == [False, True]


def test_a_bad_number_gets_a_sentence_in_the_page_language(studio, view):
    message, _, run_id = train_tab.start_training(studio, view, _choices(studio, learning_rate=5), "", "zh-CN")
    assert run_id is None and "学习率" in message and "0.0001" in message
    message, _, _ = train_tab.start_training(studio, view, _choices(studio, batch_size=0), "", "en")
    assert "Batch size 0 cannot work" in message


# --- user text shown as text -----------------------------------------------------------------------
MARKUP = "<b>bold</b> <script>alert(1)</script> *star*"


def test_run_names_and_labels_are_shown_as_text(studio):
    run = Run.create(studio.runs_dir, RunConfig(data=DataConfig(train_file="x.csv"), name=MARKUP))
    run.set_status("failed", "The label <script>x</script> broke it.")
    changes = train_tab.poll(studio, run.id, None, "en")
    assert "<b>" not in changes["status"] and "&lt;b&gt;bold&lt;/b&gt;" in changes["status"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in changes["status"] and "\\*star\\*" in changes["status"]
    assert "&lt;script&gt;x&lt;/script&gt;" in changes["status"]
    assert "<b>" not in evaluate_tab.header_markdown(evaluate_tab.evaluation(studio, run.id), "en")


def test_a_label_with_markup_reads_as_typed_in_the_playground(monkeypatch, studio):
    class Classifier:
        def predict_one(self, text):
            return SimpleNamespace(label="<script>spam</script>", confidence=0.33,
                                   scores={"<script>spam</script>": 0.33, "<b>ham</b>": 0.67})
    monkeypatch.setattr(playground_tab, "load_classifier", lambda folder: Classifier())
    monkeypatch.setattr(playground_tab, "_model_dir", lambda studio, run_id: "x")
    scores, message = playground_tab.classify_text(studio, "some-run", "hello", "en")
    assert "<script>" not in message and "&lt;script&gt;spam&lt;/script&gt;" in message
    assert "33% sure" in message and "not its accuracy" in message and "about 50%" in message
    assert "<script>spam</script>" in scores  # the label component shows its keys as text


# --- the log and the device in Chinese ----------------------------------------------------------
def test_training_notes_and_the_device_are_translated():
    from studio.ui.i18n import device_words, note_text
    early = {"type": "note", "message": "Stopped early at epoch 2.5: validation did not improve for 2 evaluations."}
    assert note_text(early, "zh-CN") == "在第 2.5 轮提前停止：验证结果连续 2 次没有提升。"
    assert note_text(early, "en") == early["message"]
    oom = {"type": "note", "message": "The GPU ran out of memory; starting again with batch size 16."}
    assert "16" in note_text(oom, "zh-CN") and "GPU" in note_text(oom, "zh-CN")
    coded = {"type": "note", "code": "early_stop", "message": "whatever"}
    assert note_text(coded, "zh-CN") == "whatever"  # an unknown code and wording keep the run's own words
    assert device_words("CPU (2 threads)", "zh-CN") == "CPU（2 个线程）"
    assert "CPU (2 threads)" == device_words("CPU (2 threads)", "en")
    line = train_tab.log_line({"type": "started", "time": 0, "device": "CPU (4 threads)", "train_rows": 10,
                               "total_steps": 3, "batch_size": 8}, "zh-CN")
    assert "CPU（4 个线程）" in line and "threads" not in line


def test_the_runs_table_shows_time_so_far_while_training(studio):
    run, lease = Run.create_leased(studio.runs_dir, RunConfig(data=DataConfig(train_file="x.csv")))  # alive
    run.set_status("running")
    status = run.status()
    run.set_status("running", started=status["started"] - 95)
    row = runs_tab.runs_frame(studio, "en").iloc[0]
    assert row["Time"] == "1 min 35 s so far"
    assert "已用" in runs_tab.runs_frame(studio, "zh-CN").iloc[0]["用时"]


def test_a_resumed_run_shows_one_curve_going_on_from_its_checkpoint():
    watch = {"steps": [], "evals": [], "log": [], "started": None}
    first = [{"type": "started", "epochs": 2}, {"type": "step", "step": 1, "loss": 0.9, "epoch": 0.5},
             {"type": "eval", "step": 2, "loss": 0.8, "epoch": 1.0, "accuracy": 0.7, "macro_f1": 0.6}, {"type": "step", "step": 3, "loss": 0.7, "epoch": 1.5}]
    watch = train_tab.absorb(watch, first, "en")
    resumed = [{"type": "started", "epochs": 2, "resumed_from_step": 2},
               {"type": "step", "step": 3, "loss": 0.6, "epoch": 1.5}]
    watch = train_tab.absorb(watch, resumed, "en")
    assert [(p["step"], p["loss"]) for p in watch["steps"]] == [(1, 0.9), (3, 0.6)]
    assert [p["step"] for p in watch["evals"]] == [2]
