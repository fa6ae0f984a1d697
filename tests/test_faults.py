"""Fault injection: the training process killed with SIGKILL at chosen points of a run, through the studio's job
manager. Every run folder must stay readable, nothing half-written may ever be loaded, and every run must end
finished, or failed with a sentence and resumable (or restartable, when it died before its first checkpoint).

Each kill point is armed inside the training process (the run's name says which) by wrapping a library
function the run passes through, so the kill lands exactly there; the process then trains as the studio's does.
"""
from __future__ import annotations

import inspect
import json
import os
import signal
from pathlib import Path

import pytest

from studio import jobs, runs, training
from studio.config import DataConfig, ModelConfig, RunConfig, TrainConfig

pytestmark = pytest.mark.slow

# name: (what to wrap, which call kills, kill before or after the real call)
KILL_POINTS = {
    "tokenizing": ("tokenizer call", 1, "before"),
    "loading the model": ("model from_pretrained", 1, "before"),
    "fitting the head": ("logistic regression fit", 1, "before"),
    "first optimizer step": ("optimizer step", 1, "before"),
    "mid-epoch": ("optimizer step", 3, "before"),
    "second epoch": ("optimizer step", 7, "after"),
    "evaluating": ("model eval", 4, "after"),
    "evaluating, later": ("model eval", 5, "after"),
    "writing a checkpoint": ("replace into checkpoints", 1, "before"),
    "writing predictions": ("replace predictions.jsonl", 1, "before"),
    "saving the model, half written": ("tokenizer save", 1, "before"),
    "saving the model, before the rename": ("replace model", 1, "before"),
    "model in place, scores not written": ("replace model", 1, "after"),
    "scores written, status not": ("replace metrics.json", 1, "after"),
}


def _kill() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _wrap(owner, attr: str, call: int, when: str, hit=lambda *a, **k: True, bind=False) -> None:
    real = getattr(owner, attr)  # AttributeError here: the kill point moved; update this table, never skip it
    count = [0]

    def wrapper(*args, **kwargs):
        matched = hit(*args, **kwargs)
        if matched:
            count[0] += 1
        if matched and count[0] == call and when == "before":
            _kill()
        out = real(*args, **kwargs)
        if matched and count[0] == call and when == "after":
            _kill()
        return out
    setattr(owner, attr, classmethod(lambda cls, *a, **k: wrapper(*a, **k)) if bind else wrapper)


def arm(point: str) -> None:
    import sklearn.linear_model as lm
    import torch
    import transformers
    what, call, when = KILL_POINTS[point]
    if what == "tokenizer call":
        _wrap(transformers.PreTrainedTokenizerBase, "__call__", call, when)
    elif what == "tokenizer save":
        _wrap(transformers.PreTrainedTokenizerBase, "save_pretrained", call, when)
    elif what == "model from_pretrained":
        _wrap(transformers.AutoModelForSequenceClassification, "from_pretrained", call, when, bind=True)
    elif what == "logistic regression fit":
        _wrap(lm.LogisticRegression, "fit", call, when)
        _wrap(lm.LogisticRegressionCV, "fit", call, when)
    elif what == "optimizer step":
        _wrap(torch.optim.AdamW, "step", call, when)
    elif what == "model eval":
        _wrap(transformers.PreTrainedModel, "eval", call, when)  # the model's own eval(), each evaluation pass
    elif what.startswith("replace "):
        name = what.split(" ", 1)[1]
        hit = (lambda src, dst, *a, **k: "checkpoints" in Path(dst).parts) if name == "into checkpoints" else \
            (lambda src, dst, *a, **k: Path(dst).name == name)
        _wrap(os, "replace", call, when, hit)
    else:
        raise AssertionError(point)


def train_until_killed(run_dir: str, resume: bool) -> None:
    """The training process of these tests: arms the run's kill point, then trains as the studio does."""
    from studio import worker
    if not resume:
        arm(runs.Run(Path(run_dir)).config().name)
    worker.train_run(run_dir, resume)


@pytest.fixture(scope="module")
def killed(tmp_path_factory, tiny_model_dir):
    """Every kill point, one run each, through one job manager: (manager, {point: run})."""
    import csv
    from conftest import SENTIMENT
    root = tmp_path_factory.mktemp("faults")
    data = root / "reviews.csv"
    with open(data, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["review", "sentiment"])
        w.writerows((f"{text} ({i})" if i else text, label) for i in range(4) for text, label in SENTIMENT)
    manager = jobs.JobManager(root / "runs", target=train_until_killed)
    train = dict(epochs=3, batch_size=8, learning_rate=1e-3, patience=0, max_length=32, evals_per_epoch=1)
    if "keep_checkpoints" in {f for f in TrainConfig.__dataclass_fields__}:
        train["keep_checkpoints"] = False
    submitted = {point: manager.submit(RunConfig(
        data=DataConfig(train_file=str(data)), model=ModelConfig(name=str(tiny_model_dir), method="full"),
        train=TrainConfig(**train), name=point)) for point in KILL_POINTS}
    for run in submitted.values():
        assert manager.wait(run.id, timeout=600)
    return manager, submitted


def test_at_least_ten_kills_landed(killed):
    _, submitted = killed
    landed = [p for p, run in submitted.items()
              if any(e["type"] == "failed" and "SIGKILL" in e["message"] for e in run.events()[0])]
    finished_anyway = [p for p, run in submitted.items() if run.state == "finished"]
    assert len(landed) >= 10, (landed, finished_anyway)
    # Only a kill point a run never passes (no checkpoint written before the training core writes them) may miss.
    assert set(KILL_POINTS) - set(landed) <= {"writing a checkpoint"}, (landed, finished_anyway)


def test_every_run_folder_stays_readable(killed):
    _, submitted = killed
    for point, run in submitted.items():
        status = json.loads((run.path / "status.json").read_text(encoding="utf-8"))
        assert status["state"] in runs.FINAL_STATES, point
        for line in run.events_path.read_text(encoding="utf-8").splitlines():
            json.loads(line)
        row = run.summary()
        assert row["state"] == run.state and row["duration_s"] is not None
        assert runs.temporaries(run.path) == [], (point, runs.temporaries(run.path))  # leftovers removed
        assert not runs.lock_held(run.path)


def test_a_model_is_complete_or_absent_and_finished_only_with_its_scores(killed):
    from studio.inference import load_classifier
    _, submitted = killed
    for point, run in submitted.items():
        if run.has_model():
            predictions = load_classifier(run.model_dir).predict(["great quality", "awful"])
            assert {p.label for p in predictions} <= {"positive", "negative"}, point
        if run.state == "finished":
            assert run.has_model() and run.metrics()["accuracy"] is not None, point
        else:
            assert not (run.path / "metrics.json").exists(), point
    assert submitted["scores written, status not"].state == "finished"  # not "interrupted" beside its model
    assert submitted["model in place, scores not written"].state == "failed"


def test_every_run_is_finished_or_resumable_or_restartable(killed):
    manager, submitted = killed
    for point, run in submitted.items():
        status = run.status()
        if status["state"] == "finished":
            continue
        assert status["state"] == "failed" and status["crashed"], point
        assert "SIGKILL" in status["message"] and "Traceback" not in status["message"], point
        if runs.has_checkpoint(run.path):
            assert runs.can_resume(run), point
        else:  # nothing to continue from: it starts again with the settings it keeps
            assert run.config().name == point and not runs.can_resume(run)


@pytest.mark.skipif("resume" not in inspect.signature(training.train).parameters, reason="resume not available")
def test_every_resumable_killed_run_resumes_to_the_end(killed):
    manager, submitted = killed
    manager._target = None  # resume through the studio's own training process, no kill armed
    resumed = []
    for point, run in submitted.items():
        if runs.can_resume(run):
            manager.resume(run.id)
            resumed.append((point, run))
    assert resumed, "no killed run left a checkpoint to resume from"
    for point, run in resumed:
        assert manager.wait(run.id, timeout=600)
        assert run.state == "finished" and run.has_model(), (point, run.status())
