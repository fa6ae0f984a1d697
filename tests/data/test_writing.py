"""studio/data/writing.py: classified tables written back as .xlsx, or as CSV that Excel shows right."""
from __future__ import annotations

import openpyxl
import pandas as pd

from studio.data import read_table, write_table

FRAME = pd.DataFrame({"review": ["很好吃，送餐很快", "=1+1 looks like a formula", "Crème brûlée\x07"],
                      "predicted_label": ["好评", "@SUM(A1)", "neg"], "confidence": [0.9731, 0.5, 0.61]})


def test_csv_has_a_byte_order_mark_and_reads_back(tmp_path):
    path = write_table(FRAME, tmp_path / "out.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # without it Chinese Excel shows mojibake
    back = read_table(path).frame
    assert back["review"].tolist() == ["很好吃，送餐很快", "'=1+1 looks like a formula", "Crème brûlée\x07"]
    assert back["predicted_label"].tolist() == ["好评", "'@SUM(A1)", "neg"]  # formula-like cells are text (tables.py)
    assert not list(tmp_path.glob(".*partial"))


def test_xlsx_keeps_text_as_text_and_numbers_as_numbers(tmp_path):
    path = write_table(FRAME, tmp_path / "out.xlsx")
    sheet = openpyxl.load_workbook(path).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("review", "predicted_label", "confidence")
    assert rows[1] == ("很好吃，送餐很快", "好评", 0.9731)
    assert rows[2][0] == "=1+1 looks like a formula" and sheet["A3"].data_type == "s"  # not run as a formula
    assert sheet["B3"].data_type == "s"
    assert rows[3][0] == "Crème brûlée"  # a control character Excel refuses is dropped
    assert read_table(path).frame["predicted_label"].tolist() == ["好评", "@SUM(A1)", "neg"]
