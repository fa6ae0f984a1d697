"""The linear probe, mean pooling as a layer, and what training does with them."""
import dataclasses
import json

import numpy as np
import pytest
import torch

from studio import models, probe, training
from studio.config import DataConfig, ModelConfig, RunConfig, TrainConfig


@pytest.fixture(scope="module")
def mean_pooled_dir(tmp_path_factory, tiny_model_dir):
    """The tiny BERT laid out as a sentence-transformers folder whose Pooling module averages tokens."""
    import shutil
    folder = tmp_path_factory.mktemp("tiny-st")
    shutil.copytree(tiny_model_dir, folder, dirs_exist_ok=True)
    (folder / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]))
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(
        {"word_embedding_dimension": 32, "pooling_mode_cls_token": False, "pooling_mode_mean_tokens": True}))
    return folder


def test_mean_pooling_is_detected_only_where_the_model_was_trained_for_it(mean_pooled_dir, tiny_model_dir):
    assert models.trained_with_mean_pooling(str(mean_pooled_dir))
    assert not models.trained_with_mean_pooling(str(tiny_model_dir))
    assert models.trained_with_mean_pooling(models.bundled_model_path())


def test_the_averaging_layer_gives_every_row_its_own_masked_mean(mean_pooled_dir):
    from transformers import AutoModel, AutoTokenizer
    tokenizer = AutoTokenizer.from_pretrained(mean_pooled_dir)
    base = AutoModel.from_pretrained(mean_pooled_dir).eval()
    model = models.load_model(str(mean_pooled_dir), ["a", "b"]).eval()
    assert models.has_mean_pooling(model) and models.real_layer_count(model) == 2
    assert model.config.num_hidden_layers == 3
    texts = ["short", "a much longer sentence with many more words in it than the first"]
    batch = tokenizer(texts, padding=True, return_tensors="pt")  # the short row is padded: padding must not count
    with torch.no_grad():
        hidden = base(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        mean = (hidden * mask).sum(1) / mask.sum(1)
        expected = torch.nn.functional.layer_norm(mean, (32,), eps=model.config.layer_norm_eps)
        got = model.bert(**batch)
    assert torch.allclose(got.last_hidden_state[:, 0], expected, atol=0.05)
    assert torch.allclose(got.pooler_output, torch.tanh(got.last_hidden_state[:, 0]), atol=1e-5)
    # One row alone gives the same vector as in the padded batch.
    with torch.no_grad():
        alone = model.bert(**tokenizer(texts[:1], return_tensors="pt")).pooler_output
    assert torch.allclose(alone[0], got.pooler_output[0], atol=1e-4)


def test_the_averaging_layer_never_trains(mean_pooled_dir):
    for method, extra in (("full", {}), ("freeze", {"freeze_layers": 1}), ("lora", {"lora_r": 2})):
        model = models.load_model(str(mean_pooled_dir), ["a", "b"])
        model = models.apply_method(model, method, **extra)
        plain = model.get_base_model() if method == "lora" else model
        pooling = models.layers_of(plain)[-1]
        assert not any(p.requires_grad for p in pooling.parameters()), method
        assert not any("lora" in name for name, _ in pooling.named_parameters()), method
    # Freezing "2 of 2" layers means the head alone: the averaging layer is not counted as a layer to train.
    model = models.apply_method(models.load_model(str(mean_pooled_dir), ["a", "b"]), "freeze", freeze_layers=2)
    assert not any(p.requires_grad for p in models.base_of(model).parameters())


def test_describe_choice_counts_the_averaging_layer(mean_pooled_dir, tiny_model_dir):
    plain = models.describe_choice(str(tiny_model_dir), "full")
    pooled = models.describe_choice(str(mean_pooled_dir), "full")
    assert pooled["total"] > plain["total"] and pooled["trainable"] == plain["trainable"]
    assert pooled["layers"] == plain["layers"] == 2


def test_fit_head_separates_two_clouds_and_splits_a_binary_model():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(-1, 0.3, (40, 5)), rng.normal(1, 0.3, (40, 5))]).astype(np.float32)
    y = np.array([0] * 40 + [1] * 40)
    weight, bias, c, cv = probe.fit_head(x, y, 2)
    assert weight.shape == (2, 5) and bias.shape == (2,) and c in probe.C_GRID and cv == 1.0
    logits = x @ weight.T + bias
    assert (logits.argmax(1) == y).mean() == 1.0
    assert np.allclose(weight[0], -weight[1])  # one scikit-learn row, split into two opposite ones


def test_fit_head_three_labels_and_a_label_with_one_row():
    rng = np.random.default_rng(1)
    centres = np.eye(4)[:3] * 3
    x = np.concatenate([rng.normal(c, 0.2, (10, 4)) for c in centres] + [centres[:1] + 0.1]).astype(np.float32)
    y = np.array([0] * 10 + [1] * 10 + [2] * 10 + [0])
    weight, bias, *_ = probe.fit_head(x, y, 3)
    assert ((x @ weight.T + bias).argmax(1) == y).mean() == 1.0
    y_single = y.copy()
    y_single[-1] = 2
    y_single[:10] = 1
    y_single[0] = 0  # label 0 has a single row: no fold can hold it out, a fixed C is used
    _, _, c, cv = probe.fit_head(x, y_single, 3)
    assert c == probe.FALLBACK_C and cv is None


def test_rows_to_fit_caps_large_files():
    labels = np.arange(10_000) % 7
    rows = probe.rows_to_fit(labels, seed=0, limit=1000)
    assert len(rows) == 1000 and len(set(rows)) == 1000 and list(rows) == sorted(rows)
    assert len(probe.rows_to_fit(labels[:500], seed=0, limit=1000)) == 500


def test_a_single_label_checkpoint_never_beats_a_useful_one():
    useless = {"single_label": True, "macro_f1": 0.47, "loss": 0.2}
    useful = {"single_label": False, "macro_f1": 0.40, "loss": 0.9}
    assert training.better(useful, useless) and not training.better(useless, useful)
    assert not training.better({**useful, "macro_f1": 0.39, "loss": 0.1}, useful)
    # a tie in macro-F1 goes to the later checkpoint, unless its validation loss is clearly higher
    assert training.better({**useful, "loss": 0.5}, useful)
    assert training.better({**useful, "loss": 0.9 + training.LOSS_TIE / 2}, useful)
    assert not training.better({**useful, "loss": 0.9 + training.LOSS_TIE * 2}, useful)


def test_auto_fits_only_the_head_when_labels_have_few_rows():
    config = RunConfig(data=DataConfig(train_file="x.csv"), model=ModelConfig(method="auto"), train=TrainConfig())
    few, note = training.resolve_auto(config, train_rows=150, num_labels=77)
    assert (few.model.method, few.model.freeze_layers) == ("freeze", -1) and "head" in note
    small, note = training.resolve_auto(config, train_rows=400, num_labels=2)
    assert small.model.method == "full" and small.train.batch_size == 16
    steps = small.train.epochs * np.ceil(400 / 16)
    assert steps >= training.MIN_STEPS and small.train.learning_rate < config.train.learning_rate
    big, _ = training.resolve_auto(config, train_rows=20_000, num_labels=2)
    assert big.train == config.train and big.model.method == "full"
    chosen = RunConfig(data=DataConfig(train_file="x.csv"), model=ModelConfig(method="lora"), train=TrainConfig())
    assert training.resolve_auto(chosen, 150, 77) == (chosen, None)


def separable_csv(path, rows_per_label=20):
    words = {"sport": "goal match team score", "food": "pasta bread soup cheese", "tech": "laptop phone code chip"}
    with open(path, "w", encoding="utf-8") as f:
        f.write("text,label\n")
        for i in range(rows_per_label):
            for label, vocab in words.items():
                parts = vocab.split()
                f.write(f"{parts[i % 4]} {parts[(i + 1) % 4]} number {i},{label}\n")
    return path


def record_tolerances(monkeypatch) -> list:
    """The solver tolerance of every logistic-regression fit a run makes (the fits themselves still run)."""
    seen, real = [], probe.fit_head

    def fit_head(*args, **kwargs):
        seen.append(kwargs.get("tolerance", probe.TOLERANCE))
        return real(*args, **kwargs)
    monkeypatch.setattr(probe, "fit_head", fit_head)
    return seen


def test_head_only_run_is_the_probe_and_loads_with_pipeline(mean_pooled_dir, tmp_path, monkeypatch):
    from transformers import pipeline
    from studio import inference
    tolerances = record_tolerances(monkeypatch)
    config = RunConfig(data=DataConfig(train_file=str(separable_csv(tmp_path / "d.csv"))),
                       model=ModelConfig(name=str(mean_pooled_dir), method="freeze", freeze_layers=-1),
                       train=TrainConfig(max_length=16))
    events = []
    report = training.train(config, tmp_path / "run", events.append)
    started = events[0]
    assert started["total_steps"] == 0 and report["steps"] == 0 and report["best_step"] == 0
    evals = [e for e in events if e["type"] == "eval"]
    assert len(evals) == 1 and evals[0]["probe"]
    # the head that ships is fitted to the tight tolerance, first on the training rows, then with validation's too
    assert tolerances == [probe.FINAL_TOLERANCE, probe.FINAL_TOLERANCE]
    assert report["accuracy"] >= 0.75  # chance is a third: the words give the label away even to random weights
    texts = [json.loads(line)["text"] for line in (tmp_path / "run" / "predictions.jsonl").read_text().splitlines()]
    ours = inference.Classifier(tmp_path / "run" / "model").predict(texts)
    theirs = pipeline("text-classification", model=str(tmp_path / "run" / "model"), truncation=True)(texts, top_k=None)
    saved = [json.loads(line) for line in (tmp_path / "run" / "predictions.jsonl").read_text().splitlines()]
    for mine, their, row in zip(ours, theirs, saved):
        assert mine.label == their[0]["label"] == row["predicted"]
        assert mine.confidence == pytest.approx(their[0]["score"], abs=1e-4)
        assert mine.confidence == pytest.approx(row["confidence"], abs=1e-4)


def test_fine_tuning_starts_from_the_probe_and_keeps_it_when_nothing_beats_it(mean_pooled_dir, tmp_path, monkeypatch):
    # A learning rate far too high wrecks every checkpoint after the probe: the probe is kept and fitted again
    # on the validation rows too.
    config = RunConfig(data=DataConfig(train_file=str(separable_csv(tmp_path / "d.csv"))),
                       model=ModelConfig(name=str(mean_pooled_dir), method="full"),
                       train=TrainConfig(max_length=16, epochs=2, batch_size=8, learning_rate=0.5, patience=0))
    tolerances = record_tolerances(monkeypatch)
    events = []
    report = training.train(config, tmp_path / "run", events.append)
    # the starting head is a quick fit; once it is kept it ships, and is fitted again to the tight tolerance
    assert tolerances == [probe.TOLERANCE, probe.FINAL_TOLERANCE]
    evals = [e for e in events if e["type"] == "eval"]
    assert evals[0]["step"] == 0 and evals[0]["best"] and not any(e["best"] for e in evals[1:])
    assert report["best_step"] == 0 and report["steps"] == events[0]["total_steps"] > 0
    assert any("fitted again" in e.get("message", "") for e in events)


def test_a_checkpoint_that_ties_the_best_so_far_replaces_it(mean_pooled_dir, tmp_path):
    # A learning rate of ~0 leaves every checkpoint exactly as good as the probe: on a tie the later one is kept,
    # as when validation is already (nearly) perfect and cannot tell checkpoints apart.
    config = RunConfig(data=DataConfig(train_file=str(separable_csv(tmp_path / "d.csv"))),
                       model=ModelConfig(name=str(mean_pooled_dir), method="full"),
                       train=TrainConfig(max_length=16, epochs=2, batch_size=8, learning_rate=1e-12, patience=0))
    events = []
    report = training.train(config, tmp_path / "run", events.append)
    evals = [e for e in events if e["type"] == "eval"]
    assert len(evals) > 2 and len({e["macro_f1"] for e in evals}) == 1 and all(e["best"] for e in evals)
    assert report["best_step"] == evals[-1]["step"] == report["steps"]
    assert not any("fitted again" in e.get("message", "") for e in events)


def test_early_stopping_gives_fine_tuning_two_evaluations_to_pass_the_fitted_head():
    plan = training.plan_schedule(TrainConfig(patience=1), train_rows=850, batch_size=16, head_only=False)
    assert plan.patience == 1 and plan.eval_every >= training.MIN_PATIENCE_STEPS
    head_leads = training.Progress(reference={"macro_f1": 0.9, "loss": 0.2, "step": 0})
    fine_tuned_leads = training.Progress(reference={"macro_f1": 0.9, "loss": 0.2})  # as note_progress records it
    assert training.patience_now(plan, head_leads) == 2 and training.patience_now(plan, fine_tuned_leads) == 1
    assert training.patience_now(dataclasses.replace(plan, patience=0), head_leads) == 0  # 0 still means never


def test_a_run_with_patience_one_stops_only_after_two_evaluations_under_the_head(mean_pooled_dir, tmp_path):
    # ~0 learning rate: no evaluation gains on the head; 480 training rows at batch 8 make an epoch of 60 steps,
    # more than the 40 steps early stopping always waits, so patience stays 1 once the head is beaten.
    config = RunConfig(data=DataConfig(train_file=str(separable_csv(tmp_path / "d.csv", rows_per_label=200))),
                       model=ModelConfig(name=str(mean_pooled_dir), method="full"),
                       train=TrainConfig(max_length=16, epochs=4, batch_size=8, learning_rate=1e-12, patience=1))
    events = []
    report = training.train(config, tmp_path / "run", events.append)
    started = next(e for e in events if e["type"] == "started")
    assert started["steps_per_epoch"] >= training.MIN_PATIENCE_STEPS
    assert report["steps"] == 2 * started["steps_per_epoch"] < started["total_steps"]
    assert any(e.get("message", "").startswith("Stopped early at epoch 2.0") for e in events)


def test_auto_trains_the_head_when_no_row_can_be_set_aside_for_validation(mean_pooled_dir, tmp_path):
    # 12 labels with two rows each: no label has the three rows a validation split needs.
    train = tmp_path / "train.csv"
    test = tmp_path / "test.csv"
    topics = [f"topic{i}" for i in range(12)]
    train.write_text("text,label\n" + "".join(f"{t} word {j},{t}\n" for t in topics for j in range(2)))
    test.write_text("text,label\n" + "".join(f"{t} word 9,{t}\n" for t in topics))
    data_config = DataConfig(train_file=str(train), test_file=str(test))
    config = RunConfig(data=data_config, model=ModelConfig(name=str(mean_pooled_dir), method="auto"),
                       train=TrainConfig(max_length=16))
    events = []
    report = training.train(config, tmp_path / "run", events.append)
    assert report["method"] == "freeze" and report["freeze_layers"] == -1 and report["steps"] == 0
    assert report["best_validation_macro_f1"] is None and events[0]["validation_rows"] == 0
    assert any("validation" in e.get("message", "") and "Auto" in e.get("message", "") for e in events)
    assert report["accuracy"] > 0.5  # each test text shares its label's unique word: chance is 1/12
    full = RunConfig(data=data_config, model=ModelConfig(name=str(mean_pooled_dir), method="full"),
                     train=TrainConfig(max_length=16))
    from studio.data import DataError
    with pytest.raises(DataError, match="nothing is left over for validation"):
        training.train(full, tmp_path / "run2", lambda e: None)
