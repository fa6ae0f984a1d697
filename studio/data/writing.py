"""Writing a table back for people: a classified copy of their file, in the kind they gave.

Excel users get .xlsx; everyone else UTF-8 CSV with a byte-order mark, which Excel (Chinese Excel included) needs
to show non-Latin text instead of mojibake.
"""
from __future__ import annotations

import numbers
import os
from pathlib import Path

import pandas as pd

from ..tables import neutralise_frame
from .kinds import EXCEL_SUFFIXES

EXCEL_CELL_CHARS = 32_767   # the most characters an Excel cell holds


def write_table(frame: pd.DataFrame, path) -> Path:
    """Write the frame to path: .xlsx / .xlsm as a workbook, anything else as UTF-8 CSV with a byte-order mark.
    The file appears whole or not at all (written beside it, then renamed into place)."""
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    try:
        if path.suffix.lower() in EXCEL_SUFFIXES:
            _write_xlsx(frame, partial)
        else:
            neutralise_frame(frame).to_csv(partial, index=False, encoding="utf-8-sig")  # no cell runs as a formula
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def _write_xlsx(frame: pd.DataFrame, path: Path) -> None:
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("classified")

    def cell(value):
        if value is None or (isinstance(value, float) and value != value):
            return None
        if isinstance(value, numbers.Number) and not isinstance(value, bool):
            return value.item() if hasattr(value, "item") else value
        text = _excel_text(str(value))
        written = WriteOnlyCell(sheet, value=text)
        written.data_type = "s"  # text stays text: "=..." is not turned into a formula
        return written

    sheet.append([cell(str(c)) for c in frame.columns])
    for row in frame.itertuples(index=False, name=None):
        sheet.append([cell(v) for v in row])
    book.save(path)


def _excel_text(text: str) -> str:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    return ILLEGAL_CHARACTERS_RE.sub("", text)[:EXCEL_CELL_CHARS]  # control characters Excel refuses
