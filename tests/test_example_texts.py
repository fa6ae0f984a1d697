"""The example sentences the Playground and the demo offer: one label after another, readable lengths."""
import json

from studio import examples, runs
from studio.config import DataConfig, RunConfig


def _run_with_predictions(tmp_path, rows):
    run = runs.Run.create(tmp_path, RunConfig(data=DataConfig(train_file="data.csv")))
    (run.path / "predictions.jsonl").write_text("".join(json.dumps({"text": t, "label": l, "predicted": l,
                                                                    "confidence": 0.9}) + "\n" for t, l in rows))
    return run


def test_labels_take_turns_and_a_middling_text_of_each_comes_first(tmp_path):
    run = _run_with_predictions(tmp_path, [("a" * n, "x") for n in (1, 5, 9)] + [("b" * n, "y") for n in (2, 6)]
                                + [("c" * 500, "y"), ("  ", "x")])
    assert examples.example_texts(run, count=4) == ["a" * 5, "b" * 6, "a" * 9, "b" * 2]
    assert examples.example_texts(run, count=10) == ["a" * 5, "b" * 6, "a" * 9, "b" * 2, "a"]  # no blank, none too long
    assert "c" * 500 in examples.example_texts(run, count=10, max_chars=600)


def test_the_order_and_choice_of_labels_can_be_given(tmp_path):
    run = _run_with_predictions(tmp_path, [("one", "x"), ("two", "y"), ("three", "z")])
    assert examples.example_texts(run, labels=["z", "x"]) == ["three", "one"]
    assert examples.example_texts(_run_with_predictions(tmp_path / "empty", [])) == []
