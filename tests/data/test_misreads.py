"""Files the reader used to misread without a word (issue: silent misreads): each now gets the right reading or a
sentence that says what to do."""
from __future__ import annotations

import json
import zipfile

import openpyxl
import pytest

from studio.data import DataError, inspect, read_examples, read_table

REVIEWS = [("The soup was cold and bland", "neg"), ("Lovely staff and a great view", "pos"),
           ("Waited an hour for nothing", "neg"), ("Best pasta I have had in years", "pos"),
           ("Noisy room, thin walls", "neg"), ("Would come back tomorrow", "pos")]


def csv_text(rows=REVIEWS, header="text,label") -> str:
    return header + "\n" + "".join(f"{t},{y}\n" for t, y in rows)


def test_a_merged_title_row_in_excel_is_skipped(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Customer reviews, spring 2024"])
    sheet.merge_cells("A1:B1")
    sheet.append(["text", "label"])
    for row in REVIEWS:
        sheet.append(list(row))
    book.save(tmp_path / "titled.xlsx")
    table = read_table(tmp_path / "titled.xlsx")
    assert list(table.frame.columns) == ["text", "label"]
    assert table.frame["label"].tolist() == [y for _, y in REVIEWS]  # the header is not a training row
    assert any("Customer reviews, spring 2024" in note for note in table.notes)


def test_a_title_line_above_a_csv_header_is_skipped(tmp_path):
    path = tmp_path / "titled.csv"
    path.write_text("Customer reviews,\n,\n" + csv_text())
    examples, table, text, label = read_examples(path)
    assert (text, label) == ("text", "label") and examples.labels == [y for _, y in REVIEWS]


def test_mixed_utf8_and_latin1_lines_are_each_decoded_right(tmp_path):
    path = tmp_path / "mixed.csv"
    lines = [("Crème brûlée to die for", "pos", "utf-8"), ("Café was awful", "neg", "latin-1"),
             ("Déjà vu: cold again", "neg", "utf-8"), ("Señor, très bien", "pos", "latin-1")] * 3
    path.write_bytes(b"text,label\n" + b"".join(f"{t},{y}\n".encode(enc) for t, y, enc in lines))
    table = read_table(path)
    assert table.frame["text"].tolist() == [t for t, _, _ in lines]
    assert any("not UTF-8" in note for note in table.notes)


def test_nan_labels_are_missing_labels_not_a_class(tmp_path):
    rows = REVIEWS + [("No idea what to say", "NaN"), ("Meh", "nan"), ("Fine I guess", "#N/A")]
    path = tmp_path / "nan.csv"
    path.write_text(csv_text(rows))
    examples = read_examples(path)[0]
    assert sorted(set(examples.labels)) == ["neg", "pos"] and len(examples) == len(REVIEWS)
    report = inspect(path)
    assert set(report.label_counts) == {"neg", "pos"}
    finding = report.get("missing_labels")
    assert finding and '"NaN"' in finding.message and finding.details["rows"] == 3


def test_zero_width_variants_of_a_label_are_one_class(tmp_path):
    rows = REVIEWS + [("Superb", "pos\u200b"), ("Dreadful", "\u2060neg"), ("Great", "\ufeffpos")]
    path = tmp_path / "zw.csv"
    path.write_text(csv_text(rows))
    examples = read_examples(path)[0]
    assert sorted(set(examples.labels)) == ["neg", "pos"]
    report = inspect(path)
    assert report.label_counts == {"pos": 5, "neg": 4}
    assert report.get("invisible_characters")


def test_nested_json_values_become_columns_not_python_strings(tmp_path):
    records = [{"review": {"title": f"Title {i}", "body": t}, "label": [y], "tags": ["a", "b"]}
               for i, (t, y) in enumerate(REVIEWS)]
    path = tmp_path / "nested.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records))
    table = read_table(path)
    assert list(table.frame.columns) == ["review.title", "review.body", "label", "tags"]
    assert table.frame["review.body"].tolist() == [t for t, _ in REVIEWS]
    assert table.frame["label"].tolist() == [y for _, y in REVIEWS]
    assert table.frame["tags"][0] == '["a", "b"]'
    assert any("Nested values" in note for note in table.notes)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark(tmp_path, encoding):
    rows = REVIEWS + [("Très bon, 很好", "pos")]
    path = tmp_path / "u16.csv"
    path.write_bytes(csv_text(rows).encode(encoding))
    table = read_table(path)
    assert table.frame["text"].tolist() == [t for t, _ in rows]


def test_cr_only_line_endings(tmp_path):
    path = tmp_path / "mac.csv"
    path.write_bytes(csv_text().replace("\n", "\r").encode())
    table = read_table(path)
    assert table.frame.values.tolist() == [list(r) for r in REVIEWS]


def test_a_zipped_csv_is_read_from_the_archive(tmp_path):
    path = tmp_path / "reviews.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("reviews.csv", csv_text())
    table = read_table(path)
    assert table.frame.values.tolist() == [list(r) for r in REVIEWS]
    assert any("reviews.csv" in note for note in table.notes)
    several = tmp_path / "two.zip"
    with zipfile.ZipFile(several, "w") as z:
        z.writestr("a.csv", csv_text())
        z.writestr("b.csv", csv_text())
    with pytest.raises(DataError, match=r"two.zip is a zip archive holding 2 tables \(a.csv, b.csv\); unzip it"):
        read_table(several)


def test_excel_formulas_without_stored_results_get_a_sentence(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["text", "score", "label"])
    for i, (text, _) in enumerate(REVIEWS, start=2):
        sheet.append([text, len(text), f'=IF(B{i}>25,"long","short")'])  # openpyxl stores no results
    book.save(tmp_path / "formulas.xlsx")
    with pytest.raises(DataError) as e:
        read_table(tmp_path / "formulas.xlsx")
    assert str(e.value).startswith("The column 'label' of formulas.xlsx holds formulas whose results were never "
                                   "calculated")
