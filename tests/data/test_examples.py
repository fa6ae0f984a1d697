"""studio/data/examples.py and the DataConfig fields it serves: several text columns joined into the text, labels
renamed once for everything downstream, and the sentences for settings that cannot work."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from studio import data
from studio.config import ConfigError, DataConfig, RunConfig
from studio.data import DataError, Table, inspect, load_examples, read_examples

NEWS = [("Stocks rally", "Markets rose on Friday after the report.", "3"),
        ("Cup final tonight", "The two clubs meet at nine.", "2"),
        ("Summit ends", "Leaders agreed on a statement.", "1"),
        ("New chip", "", "4"),
        ("", "A body without a title.", "4"),
        ("", "", "1")] * 3


def news_table() -> Table:
    frame = pd.DataFrame(NEWS, columns=["title", "description", "class"], dtype=object)
    return Table(frame.replace("", None), "news.csv", "utf-8", ",", True, [])


def write_news(tmp_path):
    path = tmp_path / "news.csv"
    pd.DataFrame(NEWS, columns=["title", "description", "class"]).to_csv(path, index=False)
    return path


def test_several_text_columns_are_joined_with_a_line_break():
    examples = load_examples(news_table(), None, "class", text_columns=["title", "description"])
    assert examples.texts[:5] == ["Stocks rally\nMarkets rose on Friday after the report.",
                                  "Cup final tonight\nThe two clubs meet at nine.",
                                  "Summit ends\nLeaders agreed on a statement.", "New chip", "A body without a title."]
    assert len(examples) == 15  # the row with neither is skipped


def test_label_names_replace_the_raw_labels_everywhere_downstream(tmp_path):
    names = {"1": "World", "2": "Sports", "3": "Business", "4": "Sci/Tech"}
    examples = load_examples(news_table(), "description", "class", label_names=names)
    assert set(examples.labels) == {"World", "Sports", "Business", "Sci/Tech"}
    report = inspect(write_news(tmp_path), text_columns=["title", "description"], label_column="class",
                     label_names={"1": "World"})
    assert set(report.label_counts) == {"World", "2", "3", "4"}


def test_label_name_sentences():
    with pytest.raises(DataError, match=r'The label "5" was given a name but does not occur in \'class\''):
        load_examples(news_table(), "title", "class", label_names={"5": "Health"})
    with pytest.raises(DataError, match=r'The labels "1", "2" would all be called "News"'):
        load_examples(news_table(), "title", "class", label_names={"1": "News", "2": "News"})
    with pytest.raises(DataError, match=r'The labels "2", "3" would all be called "3"'):
        load_examples(news_table(), "title", "class", label_names={"2": "3"})  # "3" keeps its own name
    # a validation or test file need not hold every named label
    assert load_examples(news_table(), "title", "class", label_names={"5": "Health"}, names_must_match=False)


def test_column_sentences():
    with pytest.raises(DataError, match="The column 'class' is chosen as both the text and the label"):
        load_examples(news_table(), "class", "class")
    with pytest.raises(DataError, match="The column 'class' is chosen as both the text and the label"):
        load_examples(news_table(), None, "class", text_columns=["title", "class"])
    with pytest.raises(DataError, match="The column 'title' is chosen twice as text"):
        load_examples(news_table(), None, "class", text_columns=["title", "title"])
    with pytest.raises(DataError, match="There is no column 'body'; the columns are 'title', 'description', 'class'"):
        load_examples(news_table(), None, "class", text_columns=["title", "body"])
    with pytest.raises(DataError, match="chosen as both the text and the label"):
        data.choose_columns(news_table().frame, "title", "title")
    report = inspect(news_table(), "title", "title")
    assert report.has_errors and report.codes() == ["same_column"]


def test_the_label_column_is_detected_beside_several_text_columns(tmp_path):
    examples, _, text, label = read_examples(write_news(tmp_path), text_columns=["title", "description"])
    assert (text, label) == ("title", "class") and examples.texts[0].startswith("Stocks rally\n")


def test_config_round_trip_and_sentences():
    config = RunConfig(data=DataConfig(train_file="news.csv", text_columns=["title", "description"],
                                       label_column="class", label_names={"1": "World", "2": "Sports"}))
    again = RunConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config and again.validate() is again
    assert RunConfig.from_dict({"data": {"train_file": "old.csv"}}).data.label_names is None  # older run folders
    cases = {
        "The column 'class' is chosen as both the text and the label": dict(text_column="class", label_column="class"),
        "The column 'title' is chosen twice as text": dict(text_columns=["title", "title"]),
        "Choose at least one text column": dict(text_columns=[]),
        "The column 'title' is chosen as both": dict(text_columns=["body", "title"], label_column="title"),
        "Give the label '1' a name, or leave it out to keep '1'.": dict(label_names={"1": "  "}),
        "The labels '1' and '2' are both named 'News'": dict(label_names={"1": "News", "2": "News "}),
    }
    for message, fields in cases.items():
        with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(".", r"\.")):
            RunConfig(data=DataConfig(train_file="news.csv", **fields)).validate()


def test_training_splits_use_the_joined_text_and_the_names(tmp_path):
    from studio.training import prepare_splits
    rows = [(f"Title {i}", f"Body of story {i}", str(1 + i % 2)) for i in range(60)]
    path = tmp_path / "stories.csv"
    pd.DataFrame(rows, columns=["title", "body", "label"]).to_csv(path, index=False)
    config = RunConfig(data=DataConfig(train_file=str(path), text_columns=["title", "body"], label_column="label",
                                       label_names={"1": "odd", "2": "even"}))
    splits = prepare_splits(config)
    assert splits.labels == ["even", "odd"]
    assert all(t.startswith("Title ") and "\nBody of story " in t for t in splits.train.texts + splits.test.texts)


def test_check_settings_finds_what_training_would_meet(tmp_path):
    path = write_news(tmp_path)
    data.check_settings(DataConfig(train_file=str(path), text_columns=["title", "description"]))
    for fields, message in ((dict(text_column="body"), "There is no column 'body'"),
                            (dict(label_names={"9": "x"}), 'The label "9" was given a name'),
                            (dict(split_column="fold"), "There is no column called 'fold' to split by"),
                            (dict(test_file=str(tmp_path / "gone.csv")), "There is no file at")):
        with pytest.raises(DataError, match=message):
            data.check_settings(DataConfig(train_file=str(path), label_column="class", **fields))


def test_cli_train_refuses_a_missing_column_with_exit_2_and_no_run_folder(tmp_path, capsys):
    from studio.__main__ import main
    runs = tmp_path / "runs"
    code = main(["train", str(write_news(tmp_path)), "--text-column", "body", "--runs-dir", str(runs)])
    assert code == 2 and "There is no column 'body'" in capsys.readouterr().err
    assert not runs.exists() or not any(runs.iterdir())
