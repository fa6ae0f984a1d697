"""The Data tab's controls (text columns joined, label names, encoding, split column, a sample) reach the run's
settings by the agreed DataConfig fields; the doctor measures the max length the run will use."""
from __future__ import annotations

import csv

import pytest

from studio.ui import data_tab, model_tab, train_tab


@pytest.fixture
def tickets(tmp_path):
    path = tmp_path / "tickets.csv"
    with open(path, "w", newline="", encoding="gb18030") as f:
        writer = csv.writer(f)
        writer.writerow(["title", "body", "label", "fold"])
        for i in range(40):
            writer.writerow([f"Invoice wrong {i}", "the amount on my invoice is wrong, café", "1",
                             ("train", "validation", "test", "train")[i % 4]])
            writer.writerow([f"Parcel late {i}", "my parcel has not arrived yet", "0",
                             ("train", "test", "validation", "train")[i % 4]])
    return path


def test_the_data_choices_reach_the_run_settings(tickets, tiny_model_dir):
    view = data_tab.analyse(str(tickets), "title", "label", model_name=str(tiny_model_dir),
                            extra_text_columns=["body"], encoding="gb18030", split_column="fold", max_rows=50,
                            label_names={"1": "billing", "0": "shipping", "7": "not a label"})
    assert view["text_columns"] == ["title", "body"] and view["encoding"] == "gb18030"
    assert view["label_names"] == {"1": "billing", "0": "shipping"}  # names of labels not in the data are dropped
    assert data_tab.named_counts(view) == {"billing": 40, "shipping": 40}
    assert "title + body" in data_tab.report_markdown(view, "en")
    config = train_tab.build_config(view, model_tab.RunChoices(model_name=str(tiny_model_dir), method="full"),
                                    layers=2, width=32, device_type="cpu")
    d = config.data
    assert (d.text_columns, d.label_names, d.encoding, d.split_column, d.max_rows) == (
        ["title", "body"], {"1": "billing", "0": "shipping"}, "gb18030", "fold", 50)
    # Picking other columns keeps the other choices (the file is read again with them).
    again = data_tab.reanalyse(view, "title", "label", str(tiny_model_dir), 64, "en")[0]
    assert (again["encoding"], again["split_column"], again["max_rows"]) == ("gb18030", "fold", 50)


def test_label_names_are_read_from_the_edited_table():
    import pandas as pd
    table = pd.DataFrame([["0", "ham"], ["1", ""], ["2", "2"], [None, "x"]], columns=["In the file", "Name to use"])
    assert data_tab.label_names_from(table) == {"0": "ham"}
    assert data_tab.label_names_from(None) == {}


def test_a_sample_size_shortens_the_estimate(tickets, tiny_model_dir):
    full = data_tab.analyse(str(tickets), "title", "label", model_name=str(tiny_model_dir))
    sample = {**full, "max_rows": 20}
    args = (str(tiny_model_dir), "full", 0, 8)
    rest = (3, 8, 64, 1)
    assert model_tab.estimate_speed(*args, sample, *rest)[1] < model_tab.estimate_speed(*args, full, *rest)[1]
    assert "20 training rows" in model_tab.estimate_text(*args, sample, *rest, "en")


def test_the_doctor_measures_the_max_length_the_page_set(tickets, tiny_model_dir):
    view = data_tab.analyse(str(tickets), "title", "label", model_name=str(tiny_model_dir), max_length=128,
                            extra_text_columns=["body"])
    assert not any(f["code"] == "too_long" for f in view["findings"])
    same = data_tab.reanalyse_if_length_changed(view, "title", "label", str(tiny_model_dir), 128, "en")
    assert all(isinstance(v, dict) and v.get("__type__") == "update" and len(v) == 1 for v in same)  # skipped
    changed = data_tab.reanalyse_if_length_changed(view, "title", "label", str(tiny_model_dir), 8, "en")[0]
    assert changed["max_length"] == 8
    assert any(f["code"] == "too_long" for f in changed["findings"])  # at 8 tokens the joined texts are cut


def test_an_unknown_encoding_is_a_sentence(tickets):
    view = data_tab.analyse(str(tickets), encoding="no-such-codec")
    assert view["has_errors"] and "encoding" in data_tab.report_markdown(view, "en")


def test_the_upload_takes_any_file_kind_and_the_reader_answers(tmp_path, tiny_model_dir):
    from studio.ui.app import build_app
    app = build_app(str(tmp_path / "runs"), default_model=str(tiny_model_dir))
    assert app.tabs["data"].upload.file_types is None  # no English-only "invalid file type" toast in the browser
    path = tmp_path / "SMSSpamCollection"
    path.write_text("".join(f"{'spam' if i % 3 == 0 else 'ham'}\tmessage number {i} here\n" for i in range(60)),
                    encoding="utf-8")
    view = data_tab.analyse(str(path))
    assert view["rows"] == 60 or view["findings"][0]["message"]  # read, or the reader's sentence


def test_parsing_is_one_at_a_time_per_session_and_parallel_across_sessions():
    import threading
    from types import SimpleNamespace
    slot = data_tab.parsing_slot
    first_a = slot(SimpleNamespace(session_hash="a")).__enter__()  # user a is reading a big file
    b_done, a_again = threading.Event(), threading.Event()

    def other_user():
        with slot(SimpleNamespace(session_hash="b")):
            b_done.set()

    def same_user():
        with slot(SimpleNamespace(session_hash="a")):
            a_again.set()

    threading.Thread(target=other_user).start()
    waiting = threading.Thread(target=same_user)
    waiting.start()
    assert b_done.wait(30)             # another user's file is read meanwhile
    assert not a_again.is_set()        # the same user's second file waits for the first
    first_a.__exit__(None, None, None)
    waiting.join(30)
    assert a_again.is_set()
