"""What a finished run holds is what training did: the best weights, the schedule, the loss, the row order,
the length the text was cut at. Each test here was seen to fail with that behaviour broken on purpose.

Most use `separable_run` (conftest): a tiny BERT fine-tuned until its two classes separate, so a wrong row,
wrong weights or a wrong cut changes labels and confidences, not just the fourth decimal.
"""
from __future__ import annotations

import csv
import json

import pytest
import torch
from safetensors.torch import load_file

from conftest import SEPARABLE_MAX_LENGTH, separable_config, write_separable_csv
from studio import inference, training


def _predictions(run_dir) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "predictions.jsonl").read_text(encoding="utf-8").splitlines()]


def test_the_fixture_model_separates_its_classes(separable_run):
    rows = _predictions(separable_run["dir"])
    assert separable_run["report"]["accuracy"] >= 0.9, separable_run["report"]["summary"]
    assert {r["predicted"] for r in rows} == {"fruit", "tools"}
    assert sum(r["confidence"] > 0.75 for r in rows) >= len(rows) // 2   # sure of most rows, not all ~0.5


def test_predictions_file_is_the_test_rows_in_order_with_the_classifiers_answers(separable_run):
    rows = _predictions(separable_run["dir"])
    with open(separable_run["csv"], newline="", encoding="utf-8") as f:
        truth = {r["text"]: r["label"] for r in csv.DictReader(f)}
    assert len(rows) == separable_run["report"]["examples"]
    classifier = inference.Classifier(separable_run["dir"] / "model")
    answers = classifier.predict([r["text"] for r in rows])
    for row, answer in zip(rows, answers):
        assert row["label"] == truth[row["text"]]            # each text beside its own true label
        assert row["predicted"] == answer.label, row["text"]  # and the saved model's answer for that very text
        assert row["confidence"] == pytest.approx(answer.confidence, abs=2e-4), row["text"]


def test_the_saved_tokenizer_and_the_classifier_cut_where_training_did(separable_run):
    from transformers import AutoTokenizer
    model_dir = separable_run["dir"] / "model"
    assert AutoTokenizer.from_pretrained(model_dir).model_max_length == SEPARABLE_MAX_LENGTH
    classifier = inference.Classifier(model_dir)
    assert classifier.max_length == SEPARABLE_MAX_LENGTH
    # 22 fruit words fill the 24 tokens with [CLS] and [SEP]; whatever follows must change nothing.
    head = " ".join(["apple", "banana"] * 11)
    tail = " ".join(["engine", "brake", "motor"] * 40)
    short, long = classifier.probabilities([head, f"{head} {tail}"])
    assert long == pytest.approx(short, abs=1e-5)
    (cut_off,) = classifier.probabilities([tail])
    assert short.argmax() != cut_off.argmax()  # the tail alone says the other label: the cut is what kept it out
    # Rows of the test split longer than the limit were predicted the same way at the end of training.
    assert any(len(r["text"].split()) > SEPARABLE_MAX_LENGTH for r in _predictions(separable_run["dir"]))


def test_the_loop_follows_the_learning_rate_schedule(separable_run):
    events, config = separable_run["events"], separable_run["config"]
    total = events[0]["total_steps"]
    warmup = int(config.train.warmup_ratio * total)
    base = config.train.learning_rate

    def scheduled(step):   # linear warm-up over `warmup` steps, then linear decay to zero at `total`
        if step <= warmup:
            return base * step / max(1, warmup)
        return base * (total - step + 1) / (total - warmup)

    steps = [e for e in events if e["type"] == "step"]
    assert len(separable_run["optimizer_lrs"]) == total
    assert {e["step"] for e in steps} == set(range(1, total + 1))  # a short run logs every step
    for e in steps:
        assert e["lr"] == pytest.approx(scheduled(e["step"]), rel=1e-6), e
        assert separable_run["optimizer_lrs"][e["step"] - 1] == pytest.approx(e["lr"], rel=1e-6), e
    assert max(separable_run["optimizer_lrs"]) == pytest.approx(base) and separable_run["optimizer_lrs"][-1] < base / 10


def test_same_seed_same_losses_and_predictions(separable_run, tmp_path):
    events = []
    training.train(separable_run["config"], tmp_path / "again", events.append)
    numbers = lambda evs: [(e["type"], e["step"], e["loss"], e.get("accuracy"), e.get("lr"))
                           for e in evs if e["type"] in ("step", "eval")]
    assert numbers(events) == numbers(separable_run["events"])
    assert (tmp_path / "again" / "predictions.jsonl").read_bytes() == \
        (separable_run["dir"] / "predictions.jsonl").read_bytes()


def _capture_trained_model(found: list):
    """A global forward hook that remembers the first sequence classifier that runs: the model being trained."""
    def hook(module, args, output):
        if not found and type(module).__name__.endswith("ForSequenceClassification"):
            found.append(module)
    return torch.nn.modules.module.register_module_forward_hook(hook)


def test_the_saved_model_holds_the_best_evaluations_weights(separable_model_dir, tmp_path):
    # Validation labels are the training labels swapped: the more the model learns, the worse it scores there,
    # so the first evaluation is the best one and every later step moves the weights away from it.
    train_csv = write_separable_csv(tmp_path / "train.csv")
    swapped = tmp_path / "validation.csv"
    text = write_separable_csv(tmp_path / "v.csv", rows_per_label=25, seed=1).read_text(encoding="utf-8")
    swapped.write_text(text.replace(",fruit", ",FRUIT").replace(",tools", ",fruit").replace(",FRUIT", ",tools"),
                       encoding="utf-8")
    config = separable_config(train_csv, separable_model_dir, epochs=2, evals_per_epoch=2)
    config.data.validation_file = str(swapped)
    found, best_state, events = [], {}, []

    def emit(event):
        events.append(event)
        if event["type"] == "eval" and event["best"]:
            best_state.clear()
            best_state.update({k: v.detach().clone() for k, v in found[0].state_dict().items()})
            best_state["step"] = event["step"]

    hook = _capture_trained_model(found)
    try:
        report = training.train(config, tmp_path / "run", emit)
    finally:
        hook.remove()
    evals = [e for e in events if e["type"] == "eval"]
    assert best_state["step"] == report["best_step"] < report["steps"] == evals[-1]["step"]
    assert evals[-1]["loss"] > 1.5 * evals[0]["loss"]   # the last weights are clearly not the best
    saved = load_file(tmp_path / "run" / "model" / "model.safetensors")
    assert set(saved) <= set(best_state)
    changed = [k for k in saved if not torch.equal(saved[k], best_state[k])]
    assert not changed, f"the saved model differs from the best evaluation's weights in {changed[:5]}"


def test_class_weights_reach_the_loss(tmp_path):
    # One text for every row and no dropout: every row gets the same two log-probabilities a (ham), b (spam).
    # With one batch of all 100 rows, the first step's loss is -(0.8a + 0.2b) on 80 ham / 20 spam, and
    # class weights make it -(a + b) / 2: the plain loss of the same model on 50 ham / 50 spam.
    from conftest import build_tiny_model
    model_dir = build_tiny_model(tmp_path / "model", "bert", initializer_range=0.2, hidden_dropout_prob=0.0,
                                 attention_probs_dropout_prob=0.0)

    def table(name, ham, spam):
        path = tmp_path / f"{name}.csv"
        path.write_text("text,label\n" + "Call me back when you can,ham\n" * ham + "Call me back when you can,spam\n" * spam)
        return path

    def first_loss(train_file, weighted):
        config = separable_config(train_file, model_dir, class_weights=weighted, epochs=1, batch_size=128)
        config.data.validation_file, config.data.test_file = str(table("v", 5, 5)), str(table("t", 5, 5))
        events = []
        training.train(config, tmp_path / f"{train_file.stem}-{weighted}", events.append)
        return next(e["loss"] for e in events if e["type"] == "step")

    skewed, balanced = table("skewed", 80, 20), table("balanced", 50, 50)
    plain, even = first_loss(skewed, False), first_loss(balanced, False)
    assert abs(plain - even) > 0.01   # the model is not 50/50 at the start, so the two losses differ
    assert first_loss(skewed, True) == pytest.approx(even, abs=2e-5)
