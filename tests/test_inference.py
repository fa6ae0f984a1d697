import csv

import pytest

from studio import inference, training
from studio.config import DataConfig, ModelConfig, RunConfig, TrainConfig


@pytest.fixture(scope="module")
def trained_dir(tmp_path_factory, tiny_model_dir):
    from conftest import SENTIMENT
    folder = tmp_path_factory.mktemp("trained")
    path = folder / "data.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        for i in range(4):
            w.writerows([(f"{t} {i}", label) for t, label in SENTIMENT])
    config = RunConfig(data=DataConfig(train_file=str(path)), model=ModelConfig(name=str(tiny_model_dir), method="full"),
                       train=TrainConfig(epochs=4, batch_size=8, learning_rate=3e-3, max_length=24, patience=0))
    training.train(config, folder / "run", lambda e: None)
    return folder / "run" / "model"


TEXTS = ["what a great day", "this is broken and useless", "ok", "a much longer sentence " * 20]


def test_predictions_match_transformers_pipeline(trained_dir):
    from transformers import pipeline
    clf = inference.load_classifier(trained_dir)
    ours = clf.predict(TEXTS)
    theirs = pipeline("text-classification", model=str(trained_dir), truncation=True)(TEXTS, top_k=None)
    for mine, their in zip(ours, theirs):
        assert mine.label == their[0]["label"]
        for entry in their:
            assert mine.scores[entry["label"]] == pytest.approx(entry["score"], abs=1e-4)


def test_scores_cover_every_label_and_sum_to_one(trained_dir):
    p = inference.load_classifier(trained_dir).predict_one("lovely")
    assert set(p.scores) == {"negative", "positive"}
    assert sum(p.scores.values()) == pytest.approx(1, abs=1e-4)
    assert p.confidence == max(p.scores.values()) and p.scores[p.label] == pytest.approx(p.confidence, abs=1e-5)


def test_classifier_is_cached(trained_dir):
    assert inference.load_classifier(trained_dir) is inference.load_classifier(trained_dir)


def test_empty_text_and_missing_model_give_sentences(trained_dir, tmp_path):
    with pytest.raises(inference.InferenceError, match="Type some text"):
        inference.load_classifier(trained_dir).predict_one("   ")
    with pytest.raises(inference.InferenceError, match="no trained model"):
        inference.load_classifier(tmp_path)


def test_classify_a_table_into_csv(trained_dir, tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("id,comment\n1,great stuff\n2,\"awful, broken\"\n3,fine I guess\n")
    out = tmp_path / "out.csv"
    result = inference.load_classifier(trained_dir).classify_file(src, out)
    assert result["rows"] == 3 and result["text_column"] == "comment"
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # the byte-order mark Excel needs to see UTF-8
    with open(out, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert [r["id"] for r in rows] == ["1", "2", "3"]
    assert all(r["predicted_label"] in {"negative", "positive"} and 0 < float(r["confidence"]) <= 1 for r in rows)
    with pytest.raises(inference.InferenceError, match="no column"):
        inference.load_classifier(trained_dir).classify_file(src, out, text_column="nope")
