"""studio/data/kinds.py: one list of the files the studio reads, for the command line and the upload components."""
from __future__ import annotations

import json

import pytest

from studio import data
from studio.data import DataError, read_examples, read_table

SMS = [("ham", "Go until jurong point, crazy.. Available only in bugis n great world"),
       ("ham", "Ok lar... Joking wif u oni..."),
       ("spam", "Free entry in 2 a wkly comp to win FA Cup final tkts 21st May 2005. Text FA to 87121"),
       ("ham", "U dun say so early hor... U c already then say..."),
       ("spam", "WINNER!! As a valued network customer you have been selected to receive a prize reward!"),
       ("ham", "Nah I don't think he goes to usf, he lives around here though")]


def test_a_file_without_an_extension_is_read_like_the_original_sms_collection(tmp_path):
    path = tmp_path / "SMSSpamCollection"  # tab-separated label<TAB>text, no header, no extension
    path.write_text("".join(f"{label}\t{text}\n" for label, text in SMS))
    assert data.accepted_file(path)
    examples, table, text_column, label_column = read_examples(path)
    assert table.delimiter == "\t" and not table.has_header
    assert (text_column, label_column) == ("column_2", "column_1")
    assert examples.labels == [label for label, _ in SMS] and examples.texts == [text for _, text in SMS]


def test_json_is_accepted_and_read(tmp_path):
    path = tmp_path / "sms.json"
    path.write_text(json.dumps([{"label": label, "text": text} for label, text in SMS]))
    assert data.accepted_file(path) and ".json" in data.ACCEPTED_SUFFIXES
    assert read_examples(path)[0].labels == [label for label, _ in SMS]


def test_other_kinds_get_one_sentence_from_the_reader_itself(tmp_path):
    for name in ("notes.pdf", "photo.png", "letter.docx"):
        path = tmp_path / name
        path.write_bytes(b"text,label\nhello,x\n")
        assert not data.accepted_file(path)
        with pytest.raises(DataError) as e:
            read_table(path)
        assert e.value.code == "file_kind"
        assert str(e.value).startswith(f"{name} is not a kind of file the studio reads ({path.suffix}); upload CSV")
    assert data.accepted_file("reviews.CSV") and data.accepted_file("data.xlsx") and data.accepted_file("export.zip")


def test_excel_inputs_come_back_as_excel():
    assert data.output_suffix("reviews.xlsx") == ".xlsx" and data.output_suffix("reviews.XLSM") == ".xlsx"
    assert data.output_suffix("reviews.csv") == ".csv" and data.output_suffix("SMSSpamCollection") == ".csv"
