import csv

import pytest

from studio import inference


@pytest.fixture(scope="module")
def trained_dir(separable_run):
    """A tiny BERT fine-tuned until its two classes (fruit, tools) separate: answers differ from text to text."""
    return separable_run["dir"] / "model"


TEXTS = ["apple banana cherry", "engine brake motor gear", "plum", "pump",
         "apple mango " * 20 + "engine wheel " * 40, "a sentence about nothing in particular"]


def test_predictions_match_transformers_pipeline(trained_dir):
    from transformers import pipeline
    clf = inference.load_classifier(trained_dir)
    ours = clf.predict(TEXTS)
    theirs = pipeline("text-classification", model=str(trained_dir), truncation=True)(TEXTS, top_k=None)
    assert {p.label for p in ours[:4]} == {"fruit", "tools"} and max(p.confidence for p in ours) > 0.8
    for mine, their in zip(ours, theirs):
        assert mine.label == their[0]["label"]
        for entry in their:
            assert mine.scores[entry["label"]] == pytest.approx(entry["score"], abs=1e-4)


def test_scores_cover_every_label_and_sum_to_one(trained_dir):
    p = inference.load_classifier(trained_dir).predict_one("lovely")
    assert set(p.scores) == {"fruit", "tools"}
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
    src.write_text("id,comment\n1,apple and banana\n2,\"engine, brake\"\n3,plum cherry grape\n")
    out = tmp_path / "out.csv"
    result = inference.load_classifier(trained_dir).classify_file(src, out)
    assert result["rows"] == 3 and result["text_column"] == "comment"
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # the byte-order mark Excel needs to see UTF-8
    with open(out, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert [r["id"] for r in rows] == ["1", "2", "3"]
    classifier = inference.load_classifier(trained_dir)
    expected = classifier.predict(["apple and banana", "engine, brake", "plum cherry grape"])
    assert [r["predicted_label"] for r in rows] == [p.label for p in expected] == ["fruit", "tools", "fruit"]
    assert [float(r["confidence"]) for r in rows] == pytest.approx([p.confidence for p in expected], abs=1e-4)
    with pytest.raises(inference.InferenceError, match="no column"):
        inference.load_classifier(trained_dir).classify_file(src, out, text_column="nope")
